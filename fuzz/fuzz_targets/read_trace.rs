//! Shared by the trace fuzz targets: writes the input to a temporary file named for its format
//! and reads it to the end (with and without `skip_bad`), formatting any error. Nothing may panic.

use clipsim_sim::trace::{ReadOptions, TraceReader};

/// Reads `data` as a trace file whose name ends in `suffix` (which selects the format).
pub fn read_all(data: &[u8], suffix: &str) {
    let path = std::env::temp_dir().join(format!("clipsim-fuzz-{}.{suffix}", std::process::id()));
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
}
