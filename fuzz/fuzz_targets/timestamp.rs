#![no_main]
//! The `timestamp` target: see `org_change_fuzz::fuzz_timestamp` (fuzz/src/lib.rs).

libfuzzer_sys::fuzz_target!(|data: &[u8]| org_change_fuzz::fuzz_timestamp(data));
