//! Any text as a scenario file: parsing and validation either succeed or return an
//! `InputError`; they never panic.
#![no_main]

use clipsim_sim::scenario::{self, Overrides};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = scenario::from_str(Path::new("fuzz.toml"), text, &Overrides::default()) {
            // The message must render (it is what a user reads).
            let _ = e.to_string();
        }
    }
});
