//! libFuzzer entry point of the `apple_double` target; the target itself is [`rsmbd_fuzz::apple_double`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rsmbd_fuzz::apple_double::run(data));
