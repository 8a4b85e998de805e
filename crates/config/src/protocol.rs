//! SMB protocol levels for `server min protocol` / `server max protocol` (dialects of MS-SMB2 section 2.2.3).

use std::fmt;

/// An SMB2/3 dialect the server may negotiate, ordered from oldest to newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolLevel {
    /// SMB 2.0.2.
    Smb2_02,
    /// SMB 2.1.
    Smb2_10,
    /// SMB 3.0.
    Smb3_00,
    /// SMB 3.0.2.
    Smb3_02,
    /// SMB 3.1.1.
    Smb3_11,
}

/// Which end of the allowed range a protocol name sets; the family names mean different dialects at each end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Min,
    Max,
}

impl ProtocolLevel {
    /// The dialect revision number sent in NEGOTIATE (MS-SMB2 2.2.3).
    pub fn dialect(self) -> u16 {
        match self {
            ProtocolLevel::Smb2_02 => 0x0202,
            ProtocolLevel::Smb2_10 => 0x0210,
            ProtocolLevel::Smb3_00 => 0x0300,
            ProtocolLevel::Smb3_02 => 0x0302,
            ProtocolLevel::Smb3_11 => 0x0311,
        }
    }

    /// Parses a Samba protocol name for one end of the range. Returns the level and, when the name was
    /// adjusted (an SMB1 name as the minimum), a warning.
    pub(crate) fn parse(
        text: &str,
        bound: Bound,
    ) -> Result<(ProtocolLevel, Option<String>), String> {
        let level = match (text.to_ascii_uppercase().as_str(), bound) {
            ("SMB2_02", _) | ("SMB2", Bound::Min) => ProtocolLevel::Smb2_02,
            ("SMB2_10", _) | ("SMB2", Bound::Max) => ProtocolLevel::Smb2_10,
            ("SMB3_00", _) | ("SMB3", Bound::Min) => ProtocolLevel::Smb3_00,
            ("SMB3_02", _) => ProtocolLevel::Smb3_02,
            ("SMB3_11", _) | ("SMB3", Bound::Max) => ProtocolLevel::Smb3_11,
            ("NT1" | "LANMAN1" | "LANMAN2" | "CORE" | "COREPLUS", Bound::Min) => {
                let warning = format!("SMB1 is not supported; '{text}' is treated as SMB2_02");
                return Ok((ProtocolLevel::Smb2_02, Some(warning)));
            }
            ("NT1" | "LANMAN1" | "LANMAN2" | "CORE" | "COREPLUS", Bound::Max) => {
                return Err(format!("SMB1 is not supported ('{text}')"));
            }
            _ => return Err(format!("unknown protocol '{text}'")),
        };
        Ok((level, None))
    }
}

impl fmt::Display for ProtocolLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ProtocolLevel::Smb2_02 => "SMB2_02",
            ProtocolLevel::Smb2_10 => "SMB2_10",
            ProtocolLevel::Smb3_00 => "SMB3_00",
            ProtocolLevel::Smb3_02 => "SMB3_02",
            ProtocolLevel::Smb3_11 => "SMB3_11",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(text: &str, bound: Bound) -> ProtocolLevel {
        ProtocolLevel::parse(text, bound).unwrap().0
    }

    #[test]
    fn exact_names() {
        for (name, l, d) in [
            ("SMB2_02", ProtocolLevel::Smb2_02, 0x0202),
            ("smb2_10", ProtocolLevel::Smb2_10, 0x0210),
            ("SMB3_00", ProtocolLevel::Smb3_00, 0x0300),
            ("Smb3_02", ProtocolLevel::Smb3_02, 0x0302),
            ("SMB3_11", ProtocolLevel::Smb3_11, 0x0311),
        ] {
            assert_eq!(level(name, Bound::Min), l);
            assert_eq!(level(name, Bound::Max), l);
            assert_eq!(l.dialect(), d);
            assert_eq!(l.to_string().to_lowercase(), name.to_lowercase());
        }
    }

    #[test]
    fn family_names_depend_on_bound() {
        assert_eq!(level("SMB2", Bound::Min), ProtocolLevel::Smb2_02);
        assert_eq!(level("SMB2", Bound::Max), ProtocolLevel::Smb2_10);
        assert_eq!(level("SMB3", Bound::Min), ProtocolLevel::Smb3_00);
        assert_eq!(level("smb3", Bound::Max), ProtocolLevel::Smb3_11);
    }

    #[test]
    fn smb1_names() {
        let (l, w) = ProtocolLevel::parse("NT1", Bound::Min).unwrap();
        assert_eq!(l, ProtocolLevel::Smb2_02);
        assert!(w.unwrap().contains("SMB1 is not supported"));
        let e = ProtocolLevel::parse("LANMAN2", Bound::Max).unwrap_err();
        assert!(e.contains("SMB1 is not supported"));
        assert!(ProtocolLevel::parse("SMB4", Bound::Max).is_err());
    }

    #[test]
    fn ordering() {
        assert!(ProtocolLevel::Smb2_02 < ProtocolLevel::Smb2_10);
        assert!(ProtocolLevel::Smb3_02 < ProtocolLevel::Smb3_11);
    }
}
