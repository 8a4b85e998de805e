//! rsmbd-auth (see ARCHITECTURE.md).
#![forbid(unsafe_code)]
