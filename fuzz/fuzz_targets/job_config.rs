//! libFuzzer entry point for the `job_config` target: see `hark_fuzz::job_config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hark_fuzz::job_config(data));
