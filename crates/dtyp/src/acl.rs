//! Access control lists (MS-DTYP 2.4.5): the ACL header (revision, AclSize, AceCount) and its ACEs.
//! On decode AclSize must lie inside the buffer, every ACE inside AclSize, and AceCount cannot ask for
//! more ACEs than AclSize has room for, so no client-chosen count sizes an allocation.

use crate::ace::{Ace, MIN_ACE_LEN};
use crate::bytes::{slice, u16_at, u16_len, u8_at};
use crate::Invalid;

/// ACL_REVISION and ACL_REVISION_DS (MS-DTYP 2.4.5); revision 3 is accepted as Windows does.
pub const ACL_REVISION: u8 = 2;
pub const ACL_REVISION_DS: u8 = 4;
const HEADER_LEN: usize = 8;

/// An ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    pub revision: u8,
    pub aces: Vec<Ace>,
}

impl Default for Acl {
    fn default() -> Acl {
        Acl::new(Vec::new())
    }
}

impl Acl {
    /// An ACL of revision 2 holding `aces`.
    pub fn new(aces: Vec<Ace>) -> Acl {
        Acl {
            revision: ACL_REVISION,
            aces,
        }
    }

    /// Reads the ACL at the start of `buf` (which may go on past it).
    pub fn decode(buf: &[u8]) -> Result<Acl, Invalid> {
        let revision = u8_at(buf, 0)?;
        let size = usize::from(u16_at(buf, 2)?);
        let count = usize::from(u16_at(buf, 4)?);
        if !(ACL_REVISION..=ACL_REVISION_DS).contains(&revision) || size < HEADER_LEN {
            return Err(Invalid);
        }
        let acl = slice(buf, 0, size)?;
        if count > (size - HEADER_LEN) / MIN_ACE_LEN {
            return Err(Invalid);
        }
        let mut aces = Vec::with_capacity(count);
        let mut at = HEADER_LEN;
        for _ in 0..count {
            let (ace, len) = Ace::decode(acl.get(at..).ok_or(Invalid)?)?;
            aces.push(ace);
            at += len;
        }
        // Object ACEs need ACL_REVISION_DS (MS-DTYP 2.4.5); an older revision is read as that one, the
        // revision the ACL is written back with.
        let revision = if aces.iter().any(|a| a.object.is_some()) {
            ACL_REVISION_DS
        } else {
            revision
        };
        Ok(Acl { revision, aces })
    }

    /// The encoded length (AclSize).
    pub fn len(&self) -> usize {
        HEADER_LEN + self.aces.iter().map(Ace::len).sum::<usize>()
    }

    /// Whether the ACL has no ACEs (an empty DACL grants nothing).
    pub fn is_empty(&self) -> bool {
        self.aces.is_empty()
    }

    /// Appends the ACL; fails when AclSize or AceCount would overflow their 16 bits.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Invalid> {
        let size = u16_len(self.len())?;
        let count = u16_len(self.aces.len())?;
        let revision = if self.aces.iter().any(|a| a.object.is_some()) {
            ACL_REVISION_DS
        } else {
            self.revision.clamp(ACL_REVISION, ACL_REVISION_DS)
        };
        out.extend_from_slice(&[revision, 0]);
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        for ace in &self.aces {
            ace.write(out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::well_known;

    fn two_aces() -> Vec<u8> {
        let acl = Acl::new(vec![
            Ace::new(1, 0, 1, well_known::world()),
            Ace::new(0, 0, 2, well_known::unix_user(1000)),
        ]);
        let mut out = Vec::new();
        acl.write(&mut out).unwrap();
        assert_eq!(out.len(), 8 + 20 + 24);
        assert_eq!(Acl::decode(&out), Ok(acl));
        out
    }

    #[test]
    fn header_layout() {
        let b = two_aces();
        assert_eq!(b[..8], [2, 0, 52, 0, 2, 0, 0, 0]);
        let mut empty = Vec::new();
        Acl::default().write(&mut empty).unwrap();
        assert_eq!(empty, [2, 0, 8, 0, 0, 0, 0, 0]);
        assert_eq!(Acl::decode(&empty).unwrap().aces, []);
    }

    /// ksmbd's ACL CVE classes: num_aces larger than the ACL holds, an AclSize past the buffer or
    /// below its header, ACEs running past AclSize.
    #[test]
    fn hostile_headers() {
        let good = two_aces();
        let with = |at: usize, v: u16| {
            let mut b = good.clone();
            b[at..at + 2].copy_from_slice(&v.to_le_bytes());
            Acl::decode(&b)
        };
        assert_eq!(with(4, 3), Err(Invalid), "one ACE more than there is");
        assert_eq!(with(4, u16::MAX), Err(Invalid), "count far past the size");
        assert_eq!(with(2, 60), Err(Invalid), "size past the buffer");
        assert_eq!(with(2, 4), Err(Invalid), "size below the header");
        assert_eq!(with(2, 40), Err(Invalid), "second ACE past AclSize");
        let mut b = good.clone();
        b[0] = 1;
        assert_eq!(Acl::decode(&b), Err(Invalid), "revision 1");
        assert_eq!(Acl::decode(&good[..7]), Err(Invalid));
        // An object ACE in a revision 2 ACL: read (and written back) as revision 4.
        let object = crate::ace::tests_support::object_ace();
        let mut raw = vec![2u8, 0, 0, 0, 1, 0, 0, 0];
        object.write(&mut raw).unwrap();
        let size = raw.len() as u16;
        raw[2..4].copy_from_slice(&size.to_le_bytes());
        assert_eq!(Acl::decode(&raw).unwrap().revision, ACL_REVISION_DS);
        // A smaller count leaves the rest of AclSize unused, as Windows allows.
        assert_eq!(with(4, 1).unwrap().aces.len(), 1);
    }
}
