//! Scenario files: TOML as a planner writes it, checked into a [`Scenario`].
//!
//! [`load`] reads a file (and optionally a `.env` file of overrides), [`from_str`] parses text.
//! Every error is an [`InputError`] with the file, line, column, key path, the bad value and what
//! was expected. The keys are documented in `scenarios/README.md`.

pub mod env;
pub mod error;
pub mod memory;
pub mod model;
pub mod raw;
pub mod text;
pub mod units;
pub(crate) mod validate;

pub use error::InputError;
pub use model::*;
pub use validate::{default_utc_offset, CLIPS_MAX, REPLICAS_MAX};

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The largest scenario file read: 1 MiB.
pub const FILE_BYTES_MAX: u64 = 1 << 20;

/// Overrides given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--seed N`
    pub seed: Option<u64>,
    /// `--env FILE`
    pub env_file: Option<PathBuf>,
    /// `--set key=value` style overrides already applied to the text (sweeps), for the hash.
    pub note: Option<String>,
    /// `--trace FILE`: `[traffic] trace` (an absolute path, or relative to the scenario file).
    pub trace: Option<PathBuf>,
    /// Read and check the whole trace now (`clipsim validate`), not only its first batch (a run
    /// checks the rest as it reads it).
    pub whole_trace: bool,
}

/// Reads, parses and checks a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, InputError> {
    let text = read_text(path)?;
    from_str(path, &text, overrides)
}

/// Reads a text file of at most [`FILE_BYTES_MAX`] bytes, with a clear error.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let fail = |expected: String| InputError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        key_path: String::new(),
        value: None,
        expected,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(fail("a file, not a directory".into()));
    }
    if meta.len() > FILE_BYTES_MAX {
        return Err(fail(format!("a file of at most {FILE_BYTES_MAX} bytes (it has {})", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let (line, column) =
            error::line_col(&String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]), usize::MAX);
        InputError {
            line: Some(line),
            column: Some(column),
            ..fail(format!("UTF-8 text, but byte {} is not valid UTF-8", e.utf8_error().valid_up_to()))
        }
    })
}

/// Parses the TOML into the raw structures, with located errors.
pub fn parse_raw(path: &Path, text: &str) -> Result<raw::RawScenario, InputError> {
    let de = toml::Deserializer::new(text);
    let raw = serde_path_to_error::deserialize(de).map_err(|e| {
        let key_path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = match inner.span() {
            Some(span) => {
                let (l, c) = error::line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let key_path = if key_path == "." { String::new() } else { key_path };
        let message = inner.message().trim();
        let secret = env::is_secret(&key_path);
        // The value as written, when the path leads to one (the message alone may not show it);
        // not for an unknown key, which is wrong whatever its value (and may be a misspelt
        // secret's).
        let value = if key_path.is_empty() || message.starts_with("unknown field") {
            None
        } else if secret {
            Some(env::REDACTED.to_string())
        } else {
            error::Locator::new(path, text).error(&key_path, "").value
        };
        let message = plain_words(message, key_path.is_empty());
        // A parser message can quote the value ("invalid type: integer `123`, expected a
        // string"): for a secret, only what was expected.
        let expected = match message.rsplit_once("expected ") {
            _ if !secret || message.starts_with("unknown field") => message,
            Some((_, wanted)) => wanted.to_string(),
            None => "a valid value".to_string(),
        };
        InputError { file: path.to_path_buf(), line, column, key_path, value, expected }
    })?;
    text::check(path, text)?;
    Ok(raw)
}

/// The TOML parser's message in a planner's words: Rust's type names (`expected u64`) as the
/// values they take, an integer past TOML's range and a missing top-level table said plainly.
fn plain_words(message: &str, top_level: bool) -> String {
    const TYPES: [(&str, &str); 9] = [
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u16", "a whole number from 0 to 65535"),
        ("u8", "a whole number from 0 to 255"),
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ];
    for (rust, words) in TYPES {
        if let Some(head) = message.strip_suffix(&format!("expected {rust}")) {
            return format!("{head}expected {words}");
        }
    }
    if message == "number too large to fit in target type" {
        return "a number too large for TOML (whole numbers go up to 9223372036854775807)".into();
    }
    match message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        Some(table) if top_level => {
            format!("the [{table}] table is missing (it names the scenario; every other table has defaults)")
        }
        _ => message.to_string(),
    }
}

/// Parses and checks scenario text read from `path`.
pub fn from_str(path: &Path, text: &str, overrides: &Overrides) -> Result<Scenario, InputError> {
    let mut raw = parse_raw(path, text)?;
    let mut hasher = Sha256::new();
    // The text as a sweep keeps it: a secret's value does not reach the hash, and a sweep's point
    // and a run of the same file hash alike.
    let redacted = env::redact_secrets(text);
    hasher.update(redacted.as_bytes());
    let mut applied = Vec::new();
    if let Some(env_path) = &overrides.env_file {
        let env_text = read_text(env_path)?;
        applied = env::apply(env_path, &env_text, &mut raw)?;
        for a in applied.iter().filter(|a| !env::is_secret(&a.name)) {
            hasher.update(format!("\n#env {}={}", a.name, a.shown_value).as_bytes());
        }
    }
    if let Some(seed) = overrides.seed {
        raw.scenario.seed = seed;
        hasher.update(format!("\n#seed {seed}").as_bytes());
    }
    if let Some(trace) = &overrides.trace {
        raw.traffic.trace = Some(trace.display().to_string());
        hasher.update(format!("\n#trace {}", trace.display()).as_bytes());
    }
    if let Some(note) = &overrides.note {
        hasher.update(format!("\n#set {note}").as_bytes());
    }
    let sha = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>();
    let loc = error::Locator::new(path, text);
    let mut sc =
        validate::validate(raw, &loc, path.to_path_buf(), sha, overrides.whole_trace).map_err(|e| match &overrides
            .env_file
        {
            Some(env_path) => env::blame(e, env_path, &applied),
            None => e,
        })?;
    sc.text = redacted;
    if let Some(env_path) = &overrides.env_file {
        sc.env = Some(EnvOverrides {
            file: env_path.clone(),
            applied: applied.into_iter().map(|a| (a.name, a.shown_value)).collect(),
        });
    }
    Ok(sc)
}
