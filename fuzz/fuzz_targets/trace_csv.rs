//! Any bytes as a libCacheSim CSV trace (plain or zstd) with the default columns: every batch is read or a
//! located error returned, with and without --skip-bad-records; never a panic.
#![no_main]

use clipsim_sim::trace::{ReadOptions, TraceReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("clipsim-fuzz-{}.csv", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    for skip_bad in [false, true] {
        let opts = ReadOptions { skip_bad, ..Default::default() };
        if let Ok(mut r) = TraceReader::open(&path, &opts) {
            let mut batch = Vec::new();
            loop {
                match r.next_batch(&mut batch) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        let _ = e.to_string();
                        break;
                    }
                }
            }
        }
    }
});
