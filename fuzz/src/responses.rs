//! The `connection` target's writer: instead of a socket, it checks every frame the server sends as a
//! client would read it (MS-SMB2 2.1, 2.2.1, 3.3.4.1.3): a transport header and, inside, a TRANSFORM_HEADER
//! (encrypted), an SMB1 NEGOTIATE answer, or SMB2 responses whose NextCommand chain is 8-byte aligned and
//! stays inside the frame, each with SMB2_FLAGS_SERVER_TO_REDIR set and a body after its header. A frame
//! that breaks this panics, which libFuzzer reports as a finding.

use proto::header::{HeaderFlags, HEADER_LEN};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bytes written so far that do not make a whole frame yet.
#[derive(Default)]
pub struct ResponseChecker {
    pending: Vec<u8>,
}

impl ResponseChecker {
    fn feed(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some((len, rest)) = self.pending.split_first_chunk::<4>() {
            let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
            let Some(frame) = rest.get(..len) else {
                return;
            };
            check_frame(frame);
            self.pending.drain(..4 + len);
        }
    }
}

fn check_frame(frame: &[u8]) {
    match frame.get(..4) {
        Some([0xFD, b'S', b'M', b'B']) => {
            assert!(frame.len() > 52, "encrypted frame of {} bytes", frame.len())
        }
        Some([0xFF, b'S', b'M', b'B']) => {
            assert_eq!(
                frame.get(4),
                Some(&0x72),
                "SMB1 answer other than NEGOTIATE"
            )
        }
        _ => check_chain(frame),
    }
}

fn check_chain(frame: &[u8]) {
    let mut pos = 0usize;
    loop {
        let pdu = frame.get(pos..).unwrap_or_default();
        let h = match proto::Header::decode(pdu) {
            Ok(h) => h,
            Err(e) => panic!("response at offset {pos} does not decode: {e:?}"),
        };
        assert!(
            h.flags.has(HeaderFlags::SERVER_TO_REDIR),
            "response without SERVER_TO_REDIR"
        );
        let next = usize::try_from(h.next_command).unwrap_or(usize::MAX);
        let end = if next == 0 { pdu.len() } else { next };
        assert!(end >= HEADER_LEN + 2, "response without a body");
        if next == 0 {
            return;
        }
        assert!(next % 8 == 0, "NextCommand {next} not 8-byte aligned");
        assert!(next < pdu.len(), "NextCommand {next} beyond the frame");
        pos += next;
    }
}

impl tokio::io::AsyncWrite for ResponseChecker {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().feed(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let rest = self.pending.len();
        assert!(rest == 0, "{rest} bytes of an unfinished frame at the end");
        Poll::Ready(Ok(()))
    }
}
