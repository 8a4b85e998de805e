//! libFuzzer entry point of the `wsd` target; the target itself is [`rsmbd_fuzz::wsd`].
//! (The `fuzz_target!` macro exports a `no_mangle` symbol for libFuzzer, which the library's crate-level
//! `forbid` lint would reject; so the code under test lives in the library.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rsmbd_fuzz::wsd::run(data));
