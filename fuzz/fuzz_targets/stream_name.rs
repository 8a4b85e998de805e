//! libFuzzer entry point of the `stream_name` target; the target itself is [`rsmbd_fuzz::stream_name`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rsmbd_fuzz::stream_name::run(data));
