//! CANCEL (MS-SMB2 3.3.5.16). rsmbd has no asynchronous operations yet (blocking locks and change
//! notify come with later issues), so there is never anything to cancel and CANCEL gets no response.

use crate::conn::Conn;
use proto::Header;

pub fn handle(conn: &Conn, hdr: &Header) {
    tracing::trace!(peer = %conn.peer, mid = hdr.message_id, "cancel: no pending request");
}
