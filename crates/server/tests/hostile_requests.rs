//! Hostile input through the whole request path: arbitrary request bodies for every command, sent on an
//! authenticated session with a tree connect and an open file, must end in a response or a disconnect,
//! never a panic, and must leave the connection able to answer ECHO.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::fixture;
use proptest::prelude::*;
use proto::{Command, Header, HEADER_LEN};
use rsmbd_server::dispatch::{process_frame, Outcome};
use rsmbd_server::signatures::Detached;

/// Where each command's FileId sits in its request body (MS-SMB2 2.2.x).
fn file_id_offset(cmd: Command) -> Option<usize> {
    use Command::*;
    match cmd {
        Close | Flush | Lock | Ioctl | QueryDirectory | ChangeNotify | OplockBreak => Some(8),
        Read | Write | SetInfo => Some(16),
        QueryInfo => Some(24),
        _ => None,
    }
}

fn structure_size(cmd: Command) -> u16 {
    use Command::*;
    match cmd {
        Negotiate => 36,
        SessionSetup => 25,
        TreeConnect => 9,
        Create => 57,
        Close | Flush | Lock => 24,
        Read => 49,
        Write => 49,
        Ioctl => 57,
        QueryDirectory => 33,
        ChangeNotify => 32,
        QueryInfo => 41,
        SetInfo => 33,
        OplockBreak => 24,
        _ => 4,
    }
}

fn run(cmd: Command, mut body: Vec<u8>, patch_size: bool, patch_fid: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let f = fixture();
        let fid = f.open_file().await;
        if patch_size && body.len() >= 2 {
            body[..2].copy_from_slice(&structure_size(cmd).to_le_bytes());
        }
        if let (true, Some(off)) = (patch_fid, file_id_offset(cmd)) {
            if body.len() >= off + 16 {
                body[off..off + 8].copy_from_slice(&fid.persistent.to_le_bytes());
                body[off + 8..off + 16].copy_from_slice(&fid.volatile.to_le_bytes());
            }
        }
        match f.send(cmd, &body).await {
            Outcome::Disconnect => return,
            Outcome::Reply(r) | Outcome::ReplyThenClose(r) | Outcome::ReplyThenStart(r, _) => {
                assert!(r.len() >= HEADER_LEN)
            }
            Outcome::NoReply => assert_eq!(cmd, Command::Cancel),
        }
        // ECHO outside any session: the request above may legitimately have ended the session (LOGOFF).
        let echo_frame = f.frame_in(Command::Echo, &[4, 0, 0, 0], 0);
        let Outcome::Reply(echo) =
            process_frame(&f.conn, &echo_frame, None, None, &Detached::default()).await
        else {
            panic!("no echo")
        };
        let st = Header::decode(&echo).unwrap().status;
        assert_eq!(st, proto::NtStatus::SUCCESS, "echo after {cmd:?}");
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_never_panic(
        code in 0u16..19,
        body in proptest::collection::vec(any::<u8>(), 0..160),
        patch_size in any::<bool>(),
        patch_fid in any::<bool>(),
    ) {
        let cmd = Command::from_u16(code).unwrap();
        run(cmd, body, patch_size, patch_fid);
    }
}

#[test]
fn oversized_and_empty_bodies() {
    for code in 0..19u16 {
        let cmd = Command::from_u16(code).unwrap();
        run(cmd, Vec::new(), false, false);
        run(cmd, vec![0xFF; 4096], true, true);
    }
}
