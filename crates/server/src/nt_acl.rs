//! The security descriptor QUERY_INFO reports for a file (MS-SMB2 3.3.5.20.3, MS-DTYP 2.4.6) while
//! rsmbd stores no NT ACLs: synthesised from the POSIX owner, group and mode, the way Samba presents a
//! file without a stored ACL. Unix users and groups appear as S-1-22-1-uid and S-1-22-2-gid (the
//! "Unix User" and "Unix Group" domains); the DACL has one allow ACE each for the owner, the group and
//! Everyone with the rights their mode bits give (no ACE where the bits give none).

use proto::messages::query_info::security_information as si;
use rpc::security::{Ace, SecurityDescriptor, ACCESS_ALLOWED_ACE_TYPE};
use rpc::Sid;

const FILE_GENERIC_READ: u32 = 0x0012_0089;
const FILE_GENERIC_WRITE: u32 = 0x0012_0116;
const FILE_GENERIC_EXECUTE: u32 = 0x0012_00A0;
const FILE_ALL_ACCESS: u32 = 0x001F_01FF;
const FILE_DELETE_CHILD: u32 = 0x0000_0040;
/// Everyone (MS-DTYP 2.4.2.4).
const WORLD: &str = "S-1-1-0";

fn unix_sid(kind: u32, id: u32) -> Sid {
    Sid {
        authority: 22,
        sub_authorities: vec![kind, id],
    }
}

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

/// The parts of the descriptor `wanted` (AdditionalInformation bits) asks for.
pub fn synthesize(stat: &vfs::FileStat, wanted: u32) -> SecurityDescriptor {
    let owner = unix_sid(1, stat.uid);
    let group = unix_sid(2, stat.gid);
    let dacl = (wanted & si::DACL != 0).then(|| {
        let world = Sid::parse(WORLD).unwrap_or_else(|| unix_sid(0, 0));
        [
            (owner.clone(), stat.mode >> 6),
            (group.clone(), stat.mode >> 3),
            (world, stat.mode),
        ]
        .into_iter()
        .map(|(sid, bits)| (sid, rights(bits, stat.is_dir)))
        .filter(|(_, mask)| *mask != 0)
        .map(|(sid, mask)| Ace {
            ace_type: ACCESS_ALLOWED_ACE_TYPE,
            flags: 0,
            mask,
            sid,
        })
        .collect()
    });
    SecurityDescriptor {
        owner: (wanted & si::OWNER != 0).then_some(owner),
        group: (wanted & si::GROUP != 0).then_some(group),
        dacl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let sd = synthesize(&stat(0o640, false), si::OWNER | si::GROUP | si::DACL);
        assert_eq!(sd.owner, Sid::parse("S-1-22-1-1000"));
        assert_eq!(sd.group, Sid::parse("S-1-22-2-100"));
        let masks: Vec<u32> = sd.dacl.unwrap().iter().map(|a| a.mask).collect();
        assert_eq!(
            masks,
            [FILE_GENERIC_READ | FILE_GENERIC_WRITE, FILE_GENERIC_READ]
        );
        let dir = synthesize(&stat(0o753, true), si::DACL).dacl.unwrap();
        assert_eq!(dir[0].mask, FILE_ALL_ACCESS);
        assert_eq!(
            dir[2].mask,
            FILE_GENERIC_WRITE | FILE_DELETE_CHILD | FILE_GENERIC_EXECUTE
        );
    }

    #[test]
    fn only_the_parts_asked_for() {
        let sd = synthesize(&stat(0o644, false), si::OWNER);
        assert!(sd.owner.is_some() && sd.group.is_none() && sd.dacl.is_none());
    }
}
