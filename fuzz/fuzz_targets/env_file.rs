//! Any text as a `.env` file of overrides on a valid scenario: applied or refused, never a panic,
//! and a secret's value never appears in an error.
#![no_main]

use clipsim_sim::scenario::{env, parse_raw};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut raw = parse_raw(Path::new("s.toml"), "[scenario]\nname = \"fuzz\"\n").expect("a valid base");
    match env::apply(Path::new(".env"), text, &mut raw) {
        Ok(applied) => {
            for a in applied {
                assert!(!env::is_secret(&a.name) || a.shown_value == "<redacted>");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
