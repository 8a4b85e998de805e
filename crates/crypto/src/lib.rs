//! rsmbd-crypto (see ARCHITECTURE.md).
#![forbid(unsafe_code)]
