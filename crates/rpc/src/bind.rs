//! Presentation context negotiation for bind and alter_context (C706 12.6.4.3-4, MS-RPCE 3.3.1.5.3 and
//! 3.3.1.5.5): NDR 2.0 is accepted, NDR64 refused, bind time feature negotiation acknowledged with no features.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::pdu::{Bind, BindAck, ContextElem, ContextResult, SyntaxId};
use crate::services::{is_bind_time_features, Interface, NDR20};

/// The largest fragment this server sends or accepts in its bind_ack (the value Windows uses).
pub const SERVER_MAX_FRAG: u16 = 4280;
/// The smallest fragment size every implementation must accept (C706 12.6.3.3, MustRecvFragSize).
pub const MIN_FRAG: u16 = 1432;
/// The most presentation contexts one pipe keeps; further proposals are rejected with local_limit_exceeded.
pub const MAX_CONTEXTS: usize = 64;

const RESULT_ACCEPTANCE: u16 = 0;
const RESULT_PROVIDER_REJECTION: u16 = 2;
const RESULT_NEGOTIATE_ACK: u16 = 3;
const REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED: u16 = 1;
const REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED: u16 = 2;
const REASON_LOCAL_LIMIT_EXCEEDED: u16 = 3;
/// The bind time features this server supports (none: no security context multiplexing, no keep-on-orphan).
const SUPPORTED_BIND_TIME_FEATURES: u16 = 0;

/// The state a successful bind leaves on a pipe.
#[derive(Debug)]
pub struct Association {
    /// The largest fragment this server sends.
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    /// Accepted presentation context ids.
    pub contexts: Vec<u16>,
}

static NEXT_ASSOC_GROUP: AtomicU32 = AtomicU32::new(0x5a00);

/// The client's association group, or a fresh non-zero one.
fn assoc_group(requested: u32) -> u32 {
    if requested != 0 {
        return requested;
    }
    loop {
        let id = NEXT_ASSOC_GROUP.fetch_add(1, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// Clamps a client's fragment size into [MIN_FRAG, SERVER_MAX_FRAG].
fn clamp_frag(client: u16) -> u16 {
    client.clamp(MIN_FRAG, SERVER_MAX_FRAG)
}

impl Association {
    /// Answers a bind: the association and the bind_ack body.
    pub fn bind(interface: Interface, bind: &Bind) -> (Self, BindAck) {
        let mut assoc = Association {
            max_xmit_frag: clamp_frag(bind.max_recv_frag),
            max_recv_frag: clamp_frag(bind.max_xmit_frag),
            assoc_group_id: assoc_group(bind.assoc_group_id),
            contexts: Vec::new(),
        };
        let ack = assoc.answer(interface, bind, interface.secondary_address());
        (assoc, ack)
    }

    /// Answers an alter_context: the alter_context_resp body (no secondary address).
    pub fn alter(&mut self, interface: Interface, bind: &Bind) -> BindAck {
        self.answer(interface, bind, "")
    }

    fn answer(&mut self, interface: Interface, bind: &Bind, secondary_address: &str) -> BindAck {
        let results = bind
            .contexts
            .iter()
            .map(|c| self.negotiate(interface, c))
            .collect();
        BindAck {
            max_xmit_frag: self.max_xmit_frag,
            max_recv_frag: self.max_recv_frag,
            assoc_group_id: self.assoc_group_id,
            secondary_address: secondary_address.to_owned(),
            results,
        }
    }

    /// The result for one proposed context; accepted ones are remembered.
    fn negotiate(&mut self, interface: Interface, elem: &ContextElem) -> ContextResult {
        let reject = |reason| ContextResult {
            result: RESULT_PROVIDER_REJECTION,
            reason,
            transfer_syntax: SyntaxId::default(),
        };
        if elem.transfer_syntaxes.iter().any(is_bind_time_features) {
            return ContextResult {
                result: RESULT_NEGOTIATE_ACK,
                reason: SUPPORTED_BIND_TIME_FEATURES,
                transfer_syntax: SyntaxId::default(),
            };
        }
        if !interface.matches(&elem.abstract_syntax) {
            return reject(REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED);
        }
        if !elem.transfer_syntaxes.contains(&NDR20) {
            return reject(REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED);
        }
        if !self.contexts.contains(&elem.context_id) {
            if self.contexts.len() >= MAX_CONTEXTS {
                return reject(REASON_LOCAL_LIMIT_EXCEEDED);
            }
            self.contexts.push(elem.context_id);
        }
        ContextResult {
            result: RESULT_ACCEPTANCE,
            reason: 0,
            transfer_syntax: NDR20,
        }
    }
}
