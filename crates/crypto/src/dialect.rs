//! SMB2 dialect revision numbers (MS-SMB2 2.2.3) as far as key derivation and signing depend on them.

/// An SMB2 dialect that rsmbd can negotiate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    Smb202,
    Smb210,
    Smb300,
    Smb302,
    Smb311,
}

impl Dialect {
    /// Maps a DialectRevision value to a dialect; None for unknown values and the 0x02FF wildcard.
    pub fn from_u16(v: u16) -> Option<Dialect> {
        match v {
            0x0202 => Some(Dialect::Smb202),
            0x0210 => Some(Dialect::Smb210),
            0x0300 => Some(Dialect::Smb300),
            0x0302 => Some(Dialect::Smb302),
            0x0311 => Some(Dialect::Smb311),
            _ => None,
        }
    }

    /// The DialectRevision value on the wire.
    pub fn as_u16(self) -> u16 {
        match self {
            Dialect::Smb202 => 0x0202,
            Dialect::Smb210 => 0x0210,
            Dialect::Smb300 => 0x0300,
            Dialect::Smb302 => 0x0302,
            Dialect::Smb311 => 0x0311,
        }
    }

    /// True for the SMB 3.x family (3.0, 3.0.2, 3.1.1).
    pub fn is_smb3(self) -> bool {
        self >= Dialect::Smb300
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn round_trips_wire_values() {
        for v in [0x0202, 0x0210, 0x0300, 0x0302, 0x0311] {
            assert_eq!(Dialect::from_u16(v).map(Dialect::as_u16), Some(v));
        }
        assert_eq!(Dialect::from_u16(0x02FF), None);
        assert!(Dialect::Smb300.is_smb3());
        assert!(!Dialect::Smb210.is_smb3());
    }
}
