//! Target `apple_double`: the Apple metadata formats rsmbd reads from disk and from clients (issue 18):
//! AppleDouble headers (RFC 1740; the netatalk metadata xattr and `._` files, which any local user of the
//! share can write) and the 60-byte AfpInfo a client writes to `AFP_AfpInfo`. Beyond panics it checks
//! that every entry found lies where the parser said and that an accepted AfpInfo round-trips.

pub fn run(data: &[u8]) {
    if let Some(range) = vfs::fruit::finder_info_range(data) {
        assert_eq!(range.len(), 32);
        assert!(
            range.end <= data.len(),
            "FinderInfo {range:?} beyond {}",
            data.len()
        );
    }
    for id in [2, 9] {
        if let Some(e) = vfs::fruit::ad_entry(data, id) {
            assert!(
                e.descriptor + 12 <= data.len(),
                "descriptor beyond the header"
            );
        }
    }
    if let Ok(finder_info) = vfs::fruit::finder_info_of(data) {
        assert_eq!(finder_info.len(), 32);
        let again = vfs::fruit::afp_info(finder_info);
        assert_eq!(vfs::fruit::finder_info_of(&again), Ok(finder_info));
    }
}
