//! Any bytes as a libCacheSim oracleGeneral trace (plain or zstd): every batch is read or a
//! located error returned, with and without --skip-bad-records; never a panic.
#![no_main]

#[path = "read_trace.rs"]
mod read_trace;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| read_trace::read_all(data, "oracleGeneral.bin"));
