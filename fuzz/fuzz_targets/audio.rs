//! libFuzzer entry point for the `audio` target: see `hark_fuzz::audio`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::audio(data));
