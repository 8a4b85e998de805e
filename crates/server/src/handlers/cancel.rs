//! CANCEL (MS-SMB2 3.3.5.16): ends a pending request of this connection, found by AsyncId when the
//! CANCEL carries SMB2_FLAGS_ASYNC_COMMAND, else by MessageId; the cancelled request answers with
//! STATUS_CANCELLED and CANCEL itself gets no response. A CANCEL that arrives while its request is still
//! being processed is remembered, so the request is cancelled as soon as it goes async.

use crate::conn::Conn;
use proto::Header;

pub fn handle(conn: &Conn, hdr: &Header) {
    if !conn.pending.cancel_request(hdr) {
        tracing::trace!(peer = %conn.peer, mid = hdr.message_id, "cancel: no pending request");
    }
}
