//! The space Time Machine backups use on a share with `fruit:time machine max size` (vfs_fruit(8)): macOS
//! keeps each backup as a `NAME.sparsebundle` directory at the share root whose `Info.plist` gives the
//! size of its bands (`<key>band-size</key>` followed by `<integer>N</integer>`) and whose `bands`
//! directory holds one file per band, so the space used is the band size times the number of bands.
//! Only the share root's bundles count; every file is opened beneath the share root without following
//! symbolic links, `Info.plist` is read up to 64 KiB and at most [`MAX_ENTRIES`] entries are counted.

use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use crate::path::SmbPath;
use crate::share::Share;
use crate::VfsResult;

/// The most directory entries looked at in one directory.
const MAX_ENTRIES: usize = 1 << 20;
/// The largest `Info.plist` read.
const MAX_PLIST: usize = 65536;
const BUNDLE_SUFFIX: &str = ".sparsebundle";

impl Share {
    /// Bytes the Time Machine bundles at the share root use.
    pub fn time_machine_used(&self) -> VfsResult<u64> {
        let root = self
            .open_exact(
                &SmbPath::root(),
                OFlags::RDONLY | OFlags::DIRECTORY,
                Mode::empty(),
            )
            .map_err(crate::errno::errno_to_status)?;
        let mut used = 0u64;
        for name in names(root)? {
            if name.len() > BUNDLE_SUFFIX.len()
                && name.to_ascii_lowercase().ends_with(BUNDLE_SUFFIX)
            {
                used = used.saturating_add(self.bundle_used(&name).unwrap_or(0));
            }
        }
        Ok(used)
    }

    /// The bytes one bundle uses; None when it is not a readable bundle.
    fn bundle_used(&self, bundle: &str) -> Option<u64> {
        let plist = SmbPath::parse(&format!("{bundle}\\Info.plist")).ok()?;
        let fd = self
            .open_exact(
                &plist,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK,
                Mode::empty(),
            )
            .ok()?;
        let mut buf = vec![0u8; MAX_PLIST];
        let n = rustix::io::read(&fd, &mut buf[..]).ok()?;
        let band_size = band_size(std::str::from_utf8(buf.get(..n)?).ok()?)?;
        let bands = SmbPath::parse(&format!("{bundle}\\bands")).ok()?;
        let dir = self
            .open_exact(&bands, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
            .ok()?;
        let count = u64::try_from(names(dir).ok()?.len()).ok()?;
        Some(band_size.saturating_mul(count))
    }
}

/// The names in a directory, without `.` and `..`.
fn names(dir: OwnedFd) -> VfsResult<Vec<String>> {
    let mut out = Vec::new();
    let it = rustix::fs::Dir::read_from(dir.as_fd()).map_err(crate::errno::errno_to_status)?;
    for entry in it {
        let entry = entry.map_err(crate::errno::errno_to_status)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "." && name != ".." {
            out.push(name);
        }
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    Ok(out)
}

/// The band size an `Info.plist` gives: the integer after the `band-size` key.
fn band_size(plist: &str) -> Option<u64> {
    let after_key = plist.split_once("<key>band-size</key>")?.1;
    let value = after_key.trim_start().strip_prefix("<integer>")?;
    value.split_once("</integer>")?.0.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_size_from_plist() {
        let plist = "<dict>\n  <key>band-size</key>\n  <integer>8192</integer>\n</dict>\n";
        assert_eq!(band_size(plist), Some(8192));
        assert_eq!(band_size("<key>band-size</key><string>x</string>"), None);
        assert_eq!(band_size("<key>band-size</key><integer>-1</integer>"), None);
        assert_eq!(band_size(""), None);
    }

    #[test]
    fn bundles_at_the_root_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("mac.sparsebundle");
        std::fs::create_dir_all(b.join("bands")).unwrap();
        std::fs::write(
            b.join("Info.plist"),
            "<key>band-size</key>\n<integer>8192</integer>",
        )
        .unwrap();
        for band in ["0", "1", "2"] {
            std::fs::write(b.join("bands").join(band), b"").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("other/bands")).unwrap();
        let share = Share::open(dir.path(), Default::default()).unwrap();
        assert_eq!(share.time_machine_used().unwrap(), 3 * 8192);
    }
}
