//! rsmbd-vfs (see ARCHITECTURE.md).
#![forbid(unsafe_code)]
