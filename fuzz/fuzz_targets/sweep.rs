//! Any text as a sweep file over a valid base scenario: parsed into points or refused with an
//! `InputError`; never a panic.
#![no_main]

use clipsim_sim::sweep::spec;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const BASE: &str = "[scenario]\nname = \"base\"\nduration = \"1d\"\n\n[catalog]\nclips = 100\n";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = spec::from_texts(Path::new("sweep.toml"), text, Path::new("base.toml"), BASE) {
            let _ = e.to_string();
        }
    }
});
