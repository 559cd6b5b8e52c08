//! libFuzzer entry point for the `tokens` target: see `hark_fuzz::tokens`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::tokens(data));
