//! libFuzzer entry point of the `ea` target; the target itself is [`rsmbd_fuzz::ea`].
//! (The `fuzz_target!` macro exports a `no_mangle` function for libFuzzer, which `forbid(unsafe_code)`
//! would reject; the code under test lives in the library, which forbids it.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rsmbd_fuzz::ea::run(data));
