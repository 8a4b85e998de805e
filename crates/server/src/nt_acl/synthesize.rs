//! The security descriptor of a file without a stored one (MS-DTYP 2.4.6): synthesised from the POSIX
//! owner, group and mode, the way Samba presents such a file. Unix users and groups appear as
//! S-1-22-1-uid and S-1-22-2-gid (the "Unix User" and "Unix Group" domains); the DACL has one allow ACE
//! each for the owner, the group and Everyone with the rights their mode bits give (no ACE where the
//! bits give none).

use dtyp::access::mask::{
    FILE_ALL_ACCESS, FILE_DELETE_CHILD, FILE_GENERIC_EXECUTE, FILE_GENERIC_READ, FILE_GENERIC_WRITE,
};
use dtyp::ace::ace_type::ACCESS_ALLOWED;
use dtyp::sid::well_known;
use dtyp::{Ace, Acl, SecurityDescriptor};

/// The access mask rwx bits (0..=7) give.
fn rights(bits: u32, is_dir: bool) -> u32 {
    if bits & 7 == 7 {
        return FILE_ALL_ACCESS;
    }
    let mut mask = 0;
    if bits & 4 != 0 {
        mask |= FILE_GENERIC_READ;
    }
    if bits & 2 != 0 {
        mask |= FILE_GENERIC_WRITE | if is_dir { FILE_DELETE_CHILD } else { 0 };
    }
    if bits & 1 != 0 {
        mask |= FILE_GENERIC_EXECUTE;
    }
    mask
}

/// The descriptor `stat` gives.
pub fn synthesize(stat: &vfs::FileStat) -> SecurityDescriptor {
    let owner = well_known::unix_user(stat.uid);
    let group = well_known::unix_group(stat.gid);
    let aces = [
        (owner.clone(), stat.mode >> 6),
        (group.clone(), stat.mode >> 3),
        (well_known::world(), stat.mode),
    ]
    .into_iter()
    .map(|(sid, bits)| (sid, rights(bits, stat.is_dir)))
    .filter(|(_, mask)| *mask != 0)
    .map(|(sid, mask)| Ace::new(ACCESS_ALLOWED, 0, mask, sid))
    .collect();
    SecurityDescriptor::with_dacl(Some(owner), Some(group), Acl::new(aces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dtyp::Sid;

    fn stat(mode: u32, is_dir: bool) -> vfs::FileStat {
        vfs::FileStat {
            uid: 1000,
            gid: 100,
            mode,
            is_dir,
            ..Default::default()
        }
    }

    #[test]
    fn mode_bits_become_allow_aces() {
        let sd = synthesize(&stat(0o640, false));
        assert_eq!(sd.owner, Sid::parse("S-1-22-1-1000"));
        assert_eq!(sd.group, Sid::parse("S-1-22-2-100"));
        let masks: Vec<u32> = sd.dacl.unwrap().aces.iter().map(|a| a.mask).collect();
        assert_eq!(
            masks,
            [FILE_GENERIC_READ | FILE_GENERIC_WRITE, FILE_GENERIC_READ]
        );
        let dir = synthesize(&stat(0o753, true)).dacl.unwrap().aces;
        assert_eq!(dir[0].mask, FILE_ALL_ACCESS);
        assert_eq!(
            dir[2].mask,
            FILE_GENERIC_WRITE | FILE_DELETE_CHILD | FILE_GENERIC_EXECUTE
        );
    }
}
