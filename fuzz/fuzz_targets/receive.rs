#![no_main]
//! The `receive` target: see `org_change_fuzz::fuzz_receive` (fuzz/src/lib.rs).

libfuzzer_sys::fuzz_target!(|data: &[u8]| org_change_fuzz::fuzz_receive(data));
