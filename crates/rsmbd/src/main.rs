//! rsmbd: command-line entry point (serve, user management).
#![forbid(unsafe_code)]

fn main() {}
