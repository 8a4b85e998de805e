//! libFuzzer entry point of the `security_descriptor` target; the target itself is
//! [`rsmbd_fuzz::security_descriptor`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rsmbd_fuzz::security_descriptor::run(data));
