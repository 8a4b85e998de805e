//! rsmbd-server: connections, credits, compounds, sessions, trees, opens and the SMB2 command handlers
//! (MS-SMB2 section 3.3, server role).
//!
//! The request path is described in ARCHITECTURE.md: a connection task reads frames, each frame (a single
//! request or a compound chain) is processed by [`dispatch`] and its response frame is queued to the
//! connection's writer task. File system work runs on tokio's blocking pool as the session's user
//! ([`blocking`]).
#![forbid(unsafe_code)]

pub mod access;
pub mod app_instance;
pub mod blocking;
pub mod breaks;
pub mod budget;
pub mod buffers;
pub mod channel;
pub mod conn;
pub mod conns;
pub mod credits;
pub mod dispatch;
pub mod durable;
pub mod eas;
pub mod encryption;
pub mod files;
pub mod fruit;
pub mod handlers;
pub mod inflight;
pub mod interfaces;
pub mod lease;
pub mod lifecycle;
pub mod listener;
pub mod locks;
pub mod names;
pub mod notify;
pub mod nt_acl;
pub mod open;
pub mod opening;
pub mod oplock;
pub mod pending;
pub mod pipes;
pub mod quota_index;
pub mod reconnect;
pub mod reload;
pub mod replay;
pub mod security;
pub mod session;
pub mod setup;
pub mod share_policy;
pub mod short_name;
pub mod signatures;
pub mod state;
pub mod status;
#[cfg(test)]
mod testing;
pub mod throttle;
pub mod username_map;
pub mod wildcard;
pub mod write_time;
pub mod writer;

pub use listener::{bind, serve};
pub use state::{ServerSettings, ServerState, ShareEntry};
