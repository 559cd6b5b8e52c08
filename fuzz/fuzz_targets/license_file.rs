//! libFuzzer entry point for the `license_file` target: see `hark_fuzz::license_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::license_file(data));
