//! rsmbd's fuzz targets, one module per target: each `run(data)` feeds arbitrary bytes to one decoder (or,
//! for [`connection`], to a whole server connection) and returns; libFuzzer reports a panic, an
//! allocation beyond `-malloc_limit_mb`, memory beyond `-rss_limit_mb` or a run beyond `-timeout` as a
//! finding. Every crate under test is safe Rust only, so memory corruption is not the question here:
//! these targets look for panics (overflow checks are on in the fuzz build), unbounded allocation and hangs.
//!
//! Hand-written glue: libFuzzer only hands over one byte slice, and no crate splits it the way these
//! targets need (length-prefixed chunks, see [`chunks`]).
#![forbid(unsafe_code)]

pub mod apple_double;
pub mod auth;
pub mod connection;
pub mod create_context;
pub mod ea;
pub mod header;
pub mod info_class;
pub mod kerberos;
pub mod negotiate_context;
pub mod request;
pub mod responses;
pub mod rpc;
pub mod security_descriptor;
pub mod sid;
pub mod stream_name;
pub mod transform;
pub mod wsd;

/// Splits `data` into chunks, each a little-endian u16 length and that many bytes (the last one cut
/// short by the end of the input). Targets that take a sequence of messages (authentication legs,
/// pipe writes) read their input this way, so the fuzzer can grow and shrink each message on its own.
pub fn chunks(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = data.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_le_bytes(*len));
        let (chunk, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some(chunk)
    })
}

/// The first byte of `data` as a selector and the rest; `(0, [])` for empty input.
pub fn selector(data: &[u8]) -> (u8, &[u8]) {
    data.split_first().map_or((0, data), |(b, rest)| (*b, rest))
}
