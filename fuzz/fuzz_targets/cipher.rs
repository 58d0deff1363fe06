#![no_main]
//! The `cipher` target: see `org_change_fuzz::fuzz_cipher` (fuzz/src/lib.rs).

libfuzzer_sys::fuzz_target!(|data: &[u8]| org_change_fuzz::fuzz_cipher(data));
