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
            let message = e.to_string();
            for value in secret_values(text) {
                assert!(!message.contains(value), "a secret's value in an error: {message}");
            }
        }
    }
});

/// The values assigned to secret keys in `text` that are long enough to be recognised and appear
/// nowhere else in it (a value that is also written elsewhere may be shown from there).
fn secret_values(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}').trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else { continue };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        // A value of capitals and underscores only may be part of a variable name the message
        // lists (`DN_CLOUDFLARE_AP`): not a finding.
        let name_like = value.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if env::is_secret(name.trim()) && value.len() >= 8 && !name_like && text.matches(value).count() == 1 {
            out.push(value);
        }
    }
    out
}
