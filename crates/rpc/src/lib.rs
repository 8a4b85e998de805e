//! rsmbd-rpc (see ARCHITECTURE.md).
#![forbid(unsafe_code)]
