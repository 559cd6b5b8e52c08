//! libFuzzer entry point for the `license_token` target: see `hark_fuzz::license_token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::license_token(data));
