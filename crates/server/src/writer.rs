//! A connection's writer task: frames each queued message with its Direct TCP transport header
//! (MS-SMB2 2.1: a zero byte and a 3-byte length) and sends it.
//!
//! Header and message go out in one vectored write, and the responses already queued when the writer
//! wakes (up to [`BATCH`]) go out together: one `writev` instead of two `write`s per response. With
//! TCP_NODELAY on, separate writes would also put each 4-byte header in a segment of its own.

use crate::channel::Outgoing;
use crate::conn::Conn;
use proto::frame::encode_frame_header;
use std::io::IoSlice;
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// How long the client may take to accept what is queued for it. A response holds its memory
/// reservation (server-wide too) until it is written, so a client that stops reading would otherwise
/// keep that memory from everyone else for as long as it likes; past this the connection ends.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// At most this many queued messages are written together.
const BATCH: usize = 16;

pub async fn write_loop(
    mut wr: impl AsyncWrite + Unpin,
    mut rx: mpsc::Receiver<Outgoing>,
    conn: Arc<Conn>,
) {
    let mut batch: Vec<Outgoing> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let Some(headers) = frame_headers(&batch) else {
            break;
        };
        match tokio::time::timeout(SEND_TIMEOUT, write_frames(&mut wr, &headers, &batch)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break,
            Err(_) => {
                tracing::warn!("a client took no response for {SEND_TIMEOUT:?}: closing");
                break;
            }
        }
        for (msg, reserved) in batch.drain(..) {
            conn.server.buffers.give_bytes(msg);
            drop(reserved);
        }
    }
    // A connection whose writer is gone cannot answer: the reader stops too.
    conn.close();
    let _ = wr.shutdown().await;
}

/// The transport header of each message, or None (logged) when one is too long to frame.
fn frame_headers(batch: &[Outgoing]) -> Option<[[u8; 4]; BATCH]> {
    let mut headers = [[0u8; 4]; BATCH];
    for (h, (msg, _)) in headers.iter_mut().zip(batch) {
        let Ok(header) = encode_frame_header(msg.len()) else {
            tracing::error!(
                "response of {} bytes exceeds the transport limit",
                msg.len()
            );
            return None;
        };
        *h = header;
    }
    Some(headers)
}

/// Writes each header followed by its message, as few `writev`s as the socket takes.
async fn write_frames(
    wr: &mut (impl AsyncWrite + Unpin),
    headers: &[[u8; 4]; BATCH],
    batch: &[Outgoing],
) -> std::io::Result<()> {
    let mut slices = [IoSlice::new(&[]); 2 * BATCH];
    let mut used = 0;
    for ((pair, header), (msg, _)) in slices.chunks_exact_mut(2).zip(headers).zip(batch) {
        if let [h, m] = pair {
            *h = IoSlice::new(header);
            *m = IoSlice::new(msg);
            used += 2;
        }
    }
    let mut rest = slices.get_mut(..used).unwrap_or_default();
    while !rest.is_empty() {
        let n = wr.write_vectored(rest).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A writer that takes at most `limit` bytes per call, to exercise partial vectored writes.
    struct Trickle {
        out: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.limit);
            self.out.extend_from_slice(&buf[..n]);
            self.calls += 1;
            std::task::Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let mut budget = self.limit;
            for b in bufs {
                let n = b.len().min(budget);
                self.out.extend_from_slice(&b[..n]);
                budget -= n;
            }
            self.calls += 1;
            std::task::Poll::Ready(Ok(self.limit - budget))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn frames_are_written_whole_and_in_order_in_one_call() {
        let batch: Vec<Outgoing> = vec![
            (Bytes::from_static(b"first"), None),
            (Bytes::from_static(b""), None),
            (Bytes::from(vec![7u8; 300]), None),
        ];
        let headers = frame_headers(&batch).unwrap();
        let mut expected = Vec::new();
        for (msg, _) in &batch {
            expected.extend_from_slice(&(msg.len() as u32).to_be_bytes());
            expected.extend_from_slice(msg);
        }
        let mut all_at_once = Trickle {
            out: Vec::new(),
            limit: usize::MAX,
            calls: 0,
        };
        write_frames(&mut all_at_once, &headers, &batch)
            .await
            .unwrap();
        assert_eq!(
            (all_at_once.out.as_slice(), all_at_once.calls),
            (expected.as_slice(), 1)
        );
        let mut trickle = Trickle {
            out: Vec::new(),
            limit: 3,
            calls: 0,
        };
        write_frames(&mut trickle, &headers, &batch).await.unwrap();
        assert_eq!(trickle.out, expected);
    }
}
