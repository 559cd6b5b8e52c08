//! libFuzzer entry point for the `license_claims` target: see `hark_fuzz::license_claims`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::license_claims(data));
