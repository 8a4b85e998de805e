//! rsmbd-config (see ARCHITECTURE.md).
#![forbid(unsafe_code)]
