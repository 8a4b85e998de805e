//! SMB2 command codes (MS-SMB2 2.2.1.2).

/// The 19 SMB2 commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Command {
    Negotiate = 0,
    SessionSetup = 1,
    Logoff = 2,
    TreeConnect = 3,
    TreeDisconnect = 4,
    Create = 5,
    Close = 6,
    Flush = 7,
    Read = 8,
    Write = 9,
    Lock = 10,
    Ioctl = 11,
    Cancel = 12,
    Echo = 13,
    QueryDirectory = 14,
    ChangeNotify = 15,
    QueryInfo = 16,
    SetInfo = 17,
    OplockBreak = 18,
}

impl Command {
    pub fn from_u16(v: u16) -> Option<Command> {
        use Command::*;
        Some(match v {
            0 => Negotiate,
            1 => SessionSetup,
            2 => Logoff,
            3 => TreeConnect,
            4 => TreeDisconnect,
            5 => Create,
            6 => Close,
            7 => Flush,
            8 => Read,
            9 => Write,
            10 => Lock,
            11 => Ioctl,
            12 => Cancel,
            13 => Echo,
            14 => QueryDirectory,
            15 => ChangeNotify,
            16 => QueryInfo,
            17 => SetInfo,
            18 => OplockBreak,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_codes_roundtrip() {
        for v in 0..19u16 {
            assert_eq!(Command::from_u16(v).unwrap() as u16, v);
        }
        assert_eq!(Command::from_u16(19), None);
    }
}
