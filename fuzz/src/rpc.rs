//! Target `rpc`: DCE/RPC over a named pipe (MS-RPCE 2.2.2, C706 chapter 12) with the interfaces behind
//! it (srvsvc, wkssvc, lsarpc, samr): binds, fragmented requests and every operation's NDR arguments.
//! The first byte chooses the pipe; the rest is a sequence of [`crate::chunks`], each one write to the
//! pipe followed by a read of what it answered, as FSCTL_PIPE_TRANSCEIVE does.

use rpc::{Provider, ServerInfo, ShareInfo, ShareKind, Sid, UserInfo};
use std::sync::Arc;

const PIPES: [&str; 4] = ["srvsvc", "wkssvc", "lsarpc", "samr"];
/// The largest read a client may ask for (MaxOutputResponse of a typical transceive).
const MAX_READ: usize = 65536;

/// A server with one disk share, IPC$ and two accounts.
struct Fixed {
    domain: Sid,
}

impl Provider for Fixed {
    fn server(&self) -> ServerInfo {
        ServerInfo {
            netbios_name: "FUZZ".into(),
            workgroup: "WORKGROUP".into(),
            comment: "fuzz".into(),
            version_major: 10,
            version_minor: 0,
        }
    }
    fn shares(&self) -> Vec<ShareInfo> {
        let share = |name: &str, kind| ShareInfo {
            name: name.into(),
            comment: String::new(),
            kind,
            path: String::new(),
            max_uses: u32::MAX,
            current_uses: 0,
        };
        vec![
            share("data", ShareKind::Disk),
            share("IPC$", ShareKind::Ipc),
        ]
    }
    fn domain_sid(&self) -> Sid {
        self.domain.clone()
    }
    fn users(&self) -> Vec<UserInfo> {
        let user = |name: &str, uid| UserInfo {
            name: name.into(),
            uid,
            disabled: false,
        };
        vec![user("alice", 1000), user("root", 0)]
    }
    fn caller(&self) -> Option<String> {
        Some("alice".into())
    }
}

pub fn run(data: &[u8]) {
    let (pick, rest) = crate::selector(data);
    let Some(name) = PIPES.get(usize::from(pick % 4)) else {
        return;
    };
    let Some(domain) = Sid::parse("S-1-5-21-1-2-3") else {
        return;
    };
    let Some(mut pipe) = rpc::open_pipe(name, Arc::new(Fixed { domain })) else {
        return;
    };
    for chunk in crate::chunks(rest) {
        if pipe.transceive(chunk, MAX_READ).is_err() {
            return;
        }
    }
}
