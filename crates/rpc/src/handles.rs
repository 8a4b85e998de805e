//! Context handles for lsarpc policy handles and samr server, domain and user handles (C706
//! `ndr_context_handle`): 20 bytes each, issued per pipe, at most [`MAX_HANDLES`] open at once. A
//! handle is valid only on the pipe that issued it and only until it is closed.

use crate::services::{NCA_S_FAULT_CONTEXT_MISMATCH, NCA_S_FAULT_NDR};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::accounts::Domain;
use crate::ndr::{Decoder, Encoder, NdrError};
use crate::ntstatus::{INSUFFICIENT_RESOURCES, SUCCESS};

/// The most handles one pipe keeps open.
pub const MAX_HANDLES: usize = 64;

/// What a handle refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// An LSA policy (LsarOpenPolicy / LsarOpenPolicy2).
    Policy,
    /// A SAM server (SamrConnect*).
    SamServer,
    /// A SAM domain (SamrOpenDomain).
    SamDomain(Domain),
    /// A user of the account domain, by RID (SamrOpenUser).
    SamUser(u32),
}

/// The wire value of a context handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub [u8; 20]);

impl Handle {
    /// The all-zero handle returned by close and by a failed open.
    pub const NULL: Handle = Handle([0; 20]);

    pub fn decode(d: &mut Decoder<'_>) -> Result<Handle, NdrError> {
        d.context_handle().map(Handle)
    }

    pub fn encode(&self, e: &mut Encoder) {
        e.align(4);
        e.bytes(&self.0);
    }
}

/// Distinguishes the handles of different pipes.
static NEXT_TABLE: AtomicU32 = AtomicU32::new(1);

/// The open handles of one pipe.
#[derive(Debug)]
pub struct HandleTable {
    table_id: u32,
    next: u32,
    open: Vec<(Handle, Object)>,
}

impl Default for HandleTable {
    fn default() -> Self {
        Self::new()
    }
}

impl HandleTable {
    pub fn new() -> Self {
        HandleTable {
            table_id: NEXT_TABLE.fetch_add(1, Ordering::Relaxed),
            next: 1,
            open: Vec::new(),
        }
    }

    /// A fresh handle for `object`, or `None` when [`MAX_HANDLES`] are open. Attributes are zero; the UUID
    /// holds the table id and a counter, so it is never the null handle.
    pub fn open(&mut self, object: Object) -> Option<Handle> {
        if self.open.len() >= MAX_HANDLES {
            return None;
        }
        let mut bytes = [0u8; 20];
        let words = [0, self.table_id, self.next, 1, 0];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        self.next = self.next.wrapping_add(1);
        let handle = Handle(bytes);
        self.open.push((handle, object));
        Some(handle)
    }

    pub fn get(&self, handle: &Handle) -> Option<Object> {
        self.open
            .iter()
            .find(|(h, _)| h == handle)
            .map(|(_, object)| *object)
    }

    /// Opens a handle for `object` and writes it: the status is SUCCESS, or STATUS_INSUFFICIENT_RESOURCES (and
    /// the null handle) when the table is full.
    pub fn open_into(&mut self, e: &mut Encoder, object: Object) -> u32 {
        match self.open(object) {
            Some(handle) => {
                handle.encode(e);
                SUCCESS
            }
            None => {
                Handle::NULL.encode(e);
                INSUFFICIENT_RESOURCES
            }
        }
    }

    /// The answer of an open call (`[out] HANDLE*` then the status): a new handle for `Ok(object)`, or the null
    /// handle and the error.
    pub fn open_answer(&mut self, result: Result<Object, u32>) -> Vec<u8> {
        let mut e = Encoder::new();
        let status = match result {
            Ok(object) => self.open_into(&mut e, object),
            Err(status) => {
                Handle::NULL.encode(&mut e);
                status
            }
        };
        e.u32(status);
        e.into_bytes()
    }

    /// Reads a handle and returns what `kind` makes of its object; `None` when the handle is not open or its
    /// object is of another kind.
    pub fn read<T>(
        &self,
        d: &mut Decoder<'_>,
        kind: impl Fn(Object) -> Option<T>,
    ) -> Result<Option<T>, NdrError> {
        let handle = Handle::decode(d)?;
        Ok(self.get(&handle).and_then(kind))
    }

    /// LsarClose / SamrCloseHandle: `[in, out] HANDLE*`; answers the null handle and SUCCESS. A handle
    /// that is not open (closed already, or never made here) faults with nca_s_fault_context_mismatch,
    /// as the RPC runtime answers a stale context handle (MS-RPCE 3.3.3.2.2); the result is the response
    /// stub or the fault status.
    pub fn close_call(&mut self, stub: &[u8]) -> Result<Vec<u8>, u32> {
        let handle = Handle::decode(&mut Decoder::new(stub)).map_err(|NdrError| NCA_S_FAULT_NDR)?;
        if self.close(&handle).is_none() {
            return Err(NCA_S_FAULT_CONTEXT_MISMATCH);
        }
        let mut e = Encoder::new();
        Handle::NULL.encode(&mut e);
        e.u32(SUCCESS);
        Ok(e.into_bytes())
    }

    /// Closes a handle; `None` when it was not open.
    pub fn close(&mut self, handle: &Handle) -> Option<Object> {
        let index = self.open.iter().position(|(h, _)| h == handle)?;
        Some(self.open.swap_remove(index).1)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_get_close_and_bound() {
        let mut table = HandleTable::new();
        let a = table.open(Object::Policy).unwrap();
        let b = table.open(Object::SamUser(1000)).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, Handle::NULL);
        assert_eq!(table.get(&b), Some(Object::SamUser(1000)));
        assert_eq!(table.close(&a), Some(Object::Policy));
        assert_eq!(table.close(&a), None);
        assert_eq!(table.get(&a), None);
        while table.len() < MAX_HANDLES {
            table.open(Object::SamServer).unwrap();
        }
        assert_eq!(table.open(Object::SamServer), None);
        // Another pipe's handles are different values.
        let mut other = HandleTable::new();
        assert_eq!(table.get(&other.open(Object::Policy).unwrap()), None);
    }
}
