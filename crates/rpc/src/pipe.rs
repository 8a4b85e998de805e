//! One open named pipe: the byte stream of SMB2 WRITE / READ / FSCTL_PIPE_TRANSCEIVE turned into DCE/RPC PDUs
//! (C706 12.4 / 12.6, MS-RPCE 3.3.1.5): input buffering, request fragment reassembly, binding, dispatch to the
//! interface, response fragmentation and the queue of outgoing fragments (each one a pipe message).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::bind::Association;
use crate::handles::HandleTable;
use crate::pdu::{
    encode_bind_nak, encode_pdu, flags, ptype, Bind, Fault, Header, Request, Response,
    CALL_HEADER_LEN, HEADER_LEN,
};
use crate::services::{Interface, ACCESS_DENIED, NCA_S_PROTO_ERROR, NCA_S_UNK_IF};
use crate::{Provider, RpcError};

/// The most bytes one pipe holds at once: unprocessed input, a request being reassembled and unread output.
/// The calls served here take and give far less (a 1000-name LSA lookup is under 100 KiB); the server
/// also bounds the pipes of a connection, so this times that bound is what one connection's pipes hold.
pub const MAX_BUFFERED: usize = 1 << 20;

/// bind_nak reason: reason_not_specified.
const NAK_REASON_NOT_SPECIFIED: u16 = 0;

/// A request whose first fragments have arrived.
#[derive(Debug)]
struct PendingCall {
    call_id: u32,
    context_id: u16,
    opnum: u16,
    stub: Vec<u8>,
}

/// One open pipe handle.
pub struct Pipe {
    interface: Interface,
    provider: Arc<dyn Provider>,
    /// Context handles opened on this pipe (lsarpc and samr).
    handles: HandleTable,
    input: Vec<u8>,
    association: Option<Association>,
    pending: Option<PendingCall>,
    /// Whole PDUs to send; the first may be partly read already (`read_offset`).
    output: VecDeque<Vec<u8>>,
    read_offset: usize,
    output_len: usize,
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipe")
            .field("interface", &self.interface)
            .field("input", &self.input.len())
            .field("output", &self.output_len)
            .finish_non_exhaustive()
    }
}

impl Pipe {
    pub(crate) fn new(interface: Interface, provider: Arc<dyn Provider>) -> Self {
        Pipe {
            interface,
            provider,
            handles: HandleTable::new(),
            input: Vec::new(),
            association: None,
            pending: None,
            output: VecDeque::new(),
            read_offset: 0,
            output_len: 0,
        }
    }

    /// Bytes the client wrote. Every complete PDU is processed and its answer queued; an incomplete one waits
    /// for more bytes. Fails when more than [`MAX_BUFFERED`] bytes would be held or a PDU is malformed (the
    /// server then fails the request and may close the pipe).
    pub fn write(&mut self, data: &[u8]) -> Result<usize, RpcError> {
        if self.buffered().saturating_add(data.len()) > MAX_BUFFERED {
            return Err(RpcError::TooLarge);
        }
        self.input.extend_from_slice(data);
        while let Some(len) = self.next_pdu_len()? {
            let pdu: Vec<u8> = self.input.drain(..len).collect();
            self.handle(&pdu)?;
            if self.buffered() > MAX_BUFFERED {
                return Err(RpcError::TooLarge);
            }
        }
        Ok(data.len())
    }

    /// Up to `max` bytes of the next queued PDU. Each PDU is one pipe message: the flag is true when this
    /// message has bytes left (the server answers STATUS_BUFFER_OVERFLOW); further fragments of a response are
    /// separate messages for the next READ. Empty when nothing is queued.
    pub fn read(&mut self, max: usize) -> (Vec<u8>, bool) {
        let Some(front) = self.output.front() else {
            return (Vec::new(), false);
        };
        let rest = front.get(self.read_offset..).unwrap_or_default();
        let data = rest.get(..max.min(rest.len())).unwrap_or_default().to_vec();
        self.read_offset = self.read_offset.saturating_add(data.len());
        self.output_len = self.output_len.saturating_sub(data.len());
        let more = self.read_offset < front.len();
        if !more {
            self.output.pop_front();
            self.read_offset = 0;
        }
        (data, more)
    }

    /// FSCTL_PIPE_TRANSCEIVE: write, then read.
    pub fn transceive(&mut self, data: &[u8], max: usize) -> Result<(Vec<u8>, bool), RpcError> {
        self.write(data)?;
        Ok(self.read(max))
    }

    /// Bytes held: unprocessed input, reassembled request stub and unread output.
    pub(crate) fn buffered(&self) -> usize {
        let pending = self.pending.as_ref().map_or(0, |p| p.stub.len());
        self.input
            .len()
            .saturating_add(pending)
            .saturating_add(self.output_len)
    }

    /// The length of the complete PDU at the start of the input, if it has all arrived.
    fn next_pdu_len(&self) -> Result<Option<usize>, RpcError> {
        if self.input.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = usize::from(Header::decode(&self.input)?.frag_length);
        Ok((self.input.len() >= len).then_some(len))
    }

    fn handle(&mut self, pdu: &[u8]) -> Result<(), RpcError> {
        let header = Header::decode(pdu)?;
        let body = pdu.get(HEADER_LEN..).ok_or(RpcError::Malformed)?;
        if !header.is_native_drep() {
            self.queue_fault(header.call_id, 0, NCA_S_PROTO_ERROR);
            return Ok(());
        }
        if header.auth_length != 0 {
            self.queue_fault(header.call_id, 0, ACCESS_DENIED);
            return Ok(());
        }
        match header.ptype {
            ptype::BIND => self.on_bind(header.call_id, body),
            ptype::ALTER_CONTEXT => self.on_alter_context(header.call_id, body),
            ptype::REQUEST => self.on_request(&header, body),
            ptype::ORPHANED => {
                if self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.call_id == header.call_id)
                {
                    self.pending = None;
                }
                Ok(())
            }
            ptype::AUTH3 | ptype::SHUTDOWN | ptype::CO_CANCEL => Ok(()),
            _ => Err(RpcError::Malformed),
        }
    }

    fn on_bind(&mut self, call_id: u32, body: &[u8]) -> Result<(), RpcError> {
        let bind = Bind::decode(body)?;
        if self.association.is_some() || bind.contexts.is_empty() {
            self.push(encode_pdu(
                ptype::BIND_NAK,
                first_last(),
                call_id,
                &encode_bind_nak(NAK_REASON_NOT_SPECIFIED),
            ));
            return Ok(());
        }
        let (association, ack) = Association::bind(self.interface, &bind);
        self.association = Some(association);
        self.push(encode_pdu(
            ptype::BIND_ACK,
            first_last(),
            call_id,
            &ack.encode(),
        ));
        Ok(())
    }

    fn on_alter_context(&mut self, call_id: u32, body: &[u8]) -> Result<(), RpcError> {
        let bind = Bind::decode(body)?;
        let association = self.association.as_mut().ok_or(RpcError::Malformed)?;
        let resp = association.alter(self.interface, &bind);
        self.push(encode_pdu(
            ptype::ALTER_CONTEXT_RESP,
            first_last(),
            call_id,
            &resp.encode(),
        ));
        Ok(())
    }

    /// Collects request fragments per call and runs the call when the last one arrives.
    fn on_request(&mut self, header: &Header, body: &[u8]) -> Result<(), RpcError> {
        let req = Request::decode(header.flags, body)?;
        let first = header.flags & flags::FIRST_FRAG != 0;
        let last = header.flags & flags::LAST_FRAG != 0;
        if first {
            if self.pending.is_some() {
                return Err(RpcError::Malformed);
            }
            if last {
                self.dispatch(header.call_id, req.context_id, req.opnum, req.stub);
                return Ok(());
            }
            self.pending = Some(PendingCall {
                call_id: header.call_id,
                context_id: req.context_id,
                opnum: req.opnum,
                stub: req.stub.to_vec(),
            });
            return Ok(());
        }
        let pending = self
            .pending
            .as_mut()
            .filter(|p| p.call_id == header.call_id)
            .ok_or(RpcError::Malformed)?;
        pending.stub.extend_from_slice(req.stub);
        if last {
            if let Some(call) = self.pending.take() {
                self.dispatch(call.call_id, call.context_id, call.opnum, &call.stub);
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, call_id: u32, context_id: u16, opnum: u16, stub: &[u8]) {
        let Some(max_xmit) = self
            .association
            .as_ref()
            .filter(|a| a.contexts.contains(&context_id))
            .map(|a| a.max_xmit_frag)
        else {
            self.queue_fault(call_id, context_id, NCA_S_UNK_IF);
            return;
        };
        match self
            .interface
            .call(opnum, stub, self.provider.as_ref(), &mut self.handles)
        {
            Ok(out) => self.queue_response(call_id, context_id, &out, max_xmit),
            Err(status) => self.queue_fault(call_id, context_id, status),
        }
    }

    /// Splits a response stub into fragments of at most `max_xmit` bytes; every stub chunk but the last is a
    /// multiple of 8 bytes so NDR alignment holds across fragments.
    fn queue_response(&mut self, call_id: u32, context_id: u16, stub: &[u8], max_xmit: u16) {
        let chunk_len = (usize::from(max_xmit).saturating_sub(CALL_HEADER_LEN) & !7).max(8);
        let chunks: Vec<&[u8]> = if stub.is_empty() {
            vec![stub]
        } else {
            stub.chunks(chunk_len).collect()
        };
        let count = chunks.len();
        let mut remaining = stub.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut pfc = 0;
            if i == 0 {
                pfc |= flags::FIRST_FRAG;
            }
            if i + 1 == count {
                pfc |= flags::LAST_FRAG;
            }
            let alloc_hint = u32::try_from(remaining).unwrap_or(u32::MAX);
            let body = Response {
                alloc_hint,
                context_id,
                cancel_count: 0,
                stub: chunk,
            }
            .encode();
            self.push(encode_pdu(ptype::RESPONSE, pfc, call_id, &body));
            remaining = remaining.saturating_sub(chunk.len());
        }
    }

    fn queue_fault(&mut self, call_id: u32, context_id: u16, status: u32) {
        let body = Fault { context_id, status }.encode();
        self.push(encode_pdu(
            ptype::FAULT,
            first_last() | flags::DID_NOT_EXECUTE,
            call_id,
            &body,
        ));
    }

    fn push(&mut self, pdu: Vec<u8>) {
        self.output_len = self.output_len.saturating_add(pdu.len());
        self.output.push_back(pdu);
    }
}

fn first_last() -> u8 {
    flags::FIRST_FRAG | flags::LAST_FRAG
}
