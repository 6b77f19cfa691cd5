//! The sweep file: a base scenario, the axes to vary and how to sample them.
//!
//! The format is documented in `docs/sweeps.md`. The file is checked in two passes: its shape
//! with serde (unknown keys and wrong types are located errors), then every value with a
//! [`Locator`], so each error names the file, line, column and key path. Axis values are kept as
//! `toml_edit` values, exactly as written, and set into the base scenario's text by dotted key
//! path ([`super::keypath`]); the scenario parser then checks them like any other scenario value.

pub use super::keypath::{apply, parse_key, value_plain, value_text, Seg};
use crate::scenario::env::redact_secrets;
use crate::scenario::error::{line_col, Locator};
use crate::scenario::{self, InputError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Table, Value};

/// The most points one sweep may have.
pub const POINTS_MAX: u64 = 100_000;
/// The most replicas (seeds) per point.
pub const REPLICAS_MAX: u32 = 1000;
/// The most steps of one range axis.
pub const STEPS_MAX: u32 = 10_000;

/// How the points are chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Design {
    /// Every combination of the axes' values.
    Grid,
    /// `points` independent uniform samples.
    Random {
        /// How many points.
        points: u64,
        /// Seed of the sampling stream.
        sample_seed: u64,
    },
    /// `points` Latin-hypercube samples: each axis's range cut into `points` strata, one sample
    /// per stratum, strata paired at random across axes.
    LatinHypercube {
        /// How many points.
        points: u64,
        /// Seed of the sampling stream.
        sample_seed: u64,
    },
}

impl Design {
    /// `grid`, `random` or `latin-hypercube`.
    pub fn name(&self) -> &'static str {
        match self {
            Design::Grid => "grid",
            Design::Random { .. } => "random",
            Design::LatinHypercube { .. } => "latin-hypercube",
        }
    }
}

/// What an axis ranges over.
#[derive(Clone, Debug)]
pub enum Domain {
    /// An explicit list (any TOML values).
    Values(Vec<Value>),
    /// A numeric range.
    Range {
        /// First value.
        from: f64,
        /// Last value.
        to: f64,
        /// Values in a grid (first and last included); optional in sampled designs.
        steps: Option<u32>,
        /// Geometric spacing (and log-uniform sampling).
        log: bool,
        /// `from` and `to` are integers: every value is rounded to an integer.
        integer: bool,
    },
}

/// One dimension of the sweep.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The scenario key, dotted (`mirror.replication_threshold`, `regions[1].latency_ms.eu`).
    pub key: String,
    /// The key parsed.
    pub segs: Vec<Seg>,
    /// What it ranges over.
    pub domain: Domain,
}

/// A checked sweep file.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The sweep file, as given.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// `[sweep] name`.
    pub name: String,
    /// `[sweep] description`.
    pub description: Option<String>,
    /// The base scenario, resolved relative to the sweep file.
    pub base_path: PathBuf,
    /// Its text.
    pub base_text: String,
    /// The base scenario's name.
    pub base_name: String,
    /// Seeds per point.
    pub replicas: u32,
    /// Replica `r` of every point uses seed `seed + r`.
    pub seed: u64,
    /// How points are chosen.
    pub design: Design,
    /// The axes, in file order.
    pub axes: Vec<Axis>,
    /// `[scale]`: keys set at every point, before the axes.
    pub scale: Vec<(String, Vec<Seg>, Value)>,
    /// SHA-256 (hex) of the sweep text and the base text: point files of another sweep are never
    /// mixed with this one's.
    pub hash: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sweep: RawSweep,
    #[serde(default)]
    axes: Vec<RawAxis>,
    #[serde(default)]
    #[allow(dead_code)] // read again with toml_edit, to keep the values as written
    scale: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: String,
    #[serde(default)]
    description: Option<String>,
    base: String,
    #[serde(default = "one")]
    replicas: i64,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default = "grid")]
    design: String,
    #[serde(default)]
    points: Option<i64>,
    #[serde(default)]
    sample_seed: Option<u64>,
}

fn one() -> i64 {
    1
}
fn grid() -> String {
    "grid".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    key: String,
    #[serde(default)]
    #[allow(dead_code)] // read again with toml_edit, to keep the values as written
    values: Option<Vec<toml::Value>>,
    #[serde(default)]
    range: Option<RawRange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    from: Num,
    to: Num,
    #[serde(default)]
    steps: Option<i64>,
    #[serde(default)]
    log: bool,
}

/// A number as written in a TOML file: an integer or a float (an integer's type is kept, so
/// that a range of integers stays one).
#[derive(Clone, Copy, Deserialize)]
#[serde(untagged, expecting = "a number")]
pub(crate) enum Num {
    /// Written as an integer.
    Int(i64),
    /// Written as a float.
    Float(f64),
}

impl Num {
    /// Its value.
    pub(crate) fn f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Deserializes `text` into `T`, with the file, line, column and key path of the first error.
pub(crate) fn parse_shape<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, InputError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key_path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = match inner.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let key_path = if key_path == "." { String::new() } else { key_path };
        let value = if key_path.is_empty() { None } else { Locator::new(path, text).error(&key_path, "").value };
        InputError {
            file: path.to_path_buf(),
            line,
            column,
            key_path,
            value,
            expected: inner.message().trim().to_string(),
        }
    })
}

/// A float with at most `digits` significant digits, as TOML writes it (`0.3`, not
/// `0.30000000000000004`). Deterministic: decimal formatting is exact in Rust.
pub fn round_sig(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x).parse().unwrap_or(x)
}

impl Domain {
    /// The value at position `x` in [0, 1] of the range (ranges), or of the list (values).
    pub fn at(&self, x: f64) -> Value {
        match self {
            Domain::Values(vs) => {
                let i = ((x * vs.len() as f64) as usize).min(vs.len() - 1);
                vs[i].clone()
            }
            Domain::Range { from, to, log, integer, .. } => {
                let v = if *log { from * libm::pow(to / from, x) } else { from + (to - from) * x };
                number(v, *integer, *from, *to)
            }
        }
    }

    /// The values of a grid: the list, or `steps` values from `from` to `to`.
    pub fn grid_values(&self) -> Vec<Value> {
        match self {
            Domain::Values(vs) => vs.clone(),
            Domain::Range { steps, .. } => {
                let n = steps.unwrap_or(1).max(1);
                if n == 1 {
                    return vec![self.at(0.0)];
                }
                (0..n).map(|i| self.at(f64::from(i) / f64::from(n - 1))).collect()
            }
        }
    }
}

fn number(v: f64, integer: bool, from: f64, to: f64) -> Value {
    let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
    let v = v.clamp(lo, hi);
    if integer {
        Value::from(v.round() as i64)
    } else {
        Value::from(round_sig(v, 10))
    }
}

/// Flattens `[scale]` into dotted keys and values (tables recurse; inline tables are values).
fn flatten(t: &Table, prefix: &str, out: &mut Vec<(String, Value)>) -> Result<(), String> {
    for (k, item) in t.iter() {
        let key = if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
        match item {
            Item::Value(v) => out.push((key, v.clone())),
            Item::Table(t) => flatten(t, &key, out)?,
            _ => return Err(format!("`{key}`: arrays of tables cannot be set by [scale]")),
        }
    }
    Ok(())
}

/// The SHA-256 of a sweep: its text and its base scenario's text.
pub fn sweep_hash(sweep_text: &str, base_text: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"clipsim-sweep/1\0");
    h.update(sweep_text.as_bytes());
    h.update(b"\0base\0");
    h.update(base_text.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and checks a sweep file and its base scenario.
pub fn load(path: &Path) -> Result<Spec, InputError> {
    let text = scenario::read_text(path)?;
    let raw: RawFile = parse_shape(path, &text)?;
    let base_path = normalize(&path.parent().unwrap_or(Path::new("")).join(&raw.sweep.base));
    let base_text = scenario::read_text(&base_path)
        .map_err(|e| Locator::new(path, &text).error("sweep.base", format!("the base scenario: {}", e.expected)))?;
    // The sweep keeps both texts (its manifest, for `merge`, and every point's scenario): with
    // secrets redacted, which the simulation never uses.
    from_texts(path, &redact_secrets(&text), &base_path, &redact_secrets(&base_text))
}

/// `a/b/../c` as `a/c` (lexically: a `..` after a normal component removes it).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// Checks a sweep whose texts are at hand (a run's manifest keeps both, for `merge`).
pub fn from_texts(path: &Path, text: &str, base_path: &Path, base_text: &str) -> Result<Spec, InputError> {
    let raw: RawFile = parse_shape(path, text)?;
    let loc = Locator::new(path, text);
    let doc: DocumentMut = text.parse().map_err(|e| loc.error("", format!("valid TOML: {e}")))?;
    let base_raw = scenario::parse_raw(base_path, base_text)?;
    let s = &raw.sweep;
    if s.name.trim().is_empty() {
        return Err(loc.error("sweep.name", "a name that is not empty"));
    }
    if !(1..=i64::from(REPLICAS_MAX)).contains(&s.replicas) {
        return Err(loc.error("sweep.replicas", format!("a whole number of seeds per point, 1 to {REPLICAS_MAX}")));
    }
    let design = match s.design.as_str() {
        "grid" => {
            for k in ["points", "sample_seed"] {
                if doc["sweep"].get(k).is_some() {
                    return Err(loc.error(
                        &format!("sweep.{k}"),
                        "only for design = \"random\" or \"latin-hypercube\" (a grid has every combination)",
                    ));
                }
            }
            Design::Grid
        }
        "random" | "latin-hypercube" => {
            let points = match s.points {
                Some(n) if (1..=POINTS_MAX as i64).contains(&n) => n as u64,
                Some(_) => {
                    return Err(loc.error("sweep.points", format!("a whole number of points, 1 to {POINTS_MAX}")))
                }
                None => {
                    return Err(loc.error("sweep", format!("`points = N` for design = \"{}\"", s.design)));
                }
            };
            let sample_seed = s.sample_seed.unwrap_or(1);
            if s.design == "random" {
                Design::Random { points, sample_seed }
            } else {
                Design::LatinHypercube { points, sample_seed }
            }
        }
        _ => return Err(loc.error("sweep.design", "one of \"grid\", \"random\", \"latin-hypercube\"")),
    };
    let mut axes: Vec<Axis> = Vec::new();
    for (i, a) in raw.axes.iter().enumerate() {
        let at = |k: &str| format!("axes[{i}]{k}");
        let segs = parse_key(&a.key).map_err(|e| loc.error(&at(".key"), e))?;
        if a.key == "scenario.seed" {
            return Err(loc.error(
                &at(".key"),
                "a scenario key other than `scenario.seed`: seeds come from [sweep] seed and replicas",
            ));
        }
        if crate::scenario::env::is_secret(&a.key) {
            // Its values would reach sweep.csv, sweep.md and the point files; and a simulation
            // never reads a secret, so every point would be the same.
            return Err(loc.error(
                &at(".key"),
                "a key that is not a secret: a run never uses a credential's value, and a sweep writes its values out",
            ));
        }
        for b in &axes {
            if overlaps(&b.key, &a.key) {
                return Err(loc.error(&at(".key"), format!("a key not already swept (it overlaps `{}`)", b.key)));
            }
        }
        let domain = match (&a.range, doc["axes"][i].get("values")) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(
                    loc.error(&at(""), "either `values = [...]` or `range = { from, to, steps }`, not both or neither")
                );
            }
            (None, Some(item)) => {
                let arr = item.as_array().ok_or_else(|| loc.error(&at(".values"), "an array of values"))?;
                if arr.is_empty() {
                    return Err(loc.error(&at(".values"), "at least one value"));
                }
                Domain::Values(arr.iter().cloned().collect())
            }
            (Some(r), None) => range_domain(r, &design, &loc, &at(".range"))?,
        };
        axes.push(Axis { key: a.key.clone(), segs, domain });
    }
    if design == Design::Grid {
        let mut n: u64 = 1;
        for (i, a) in axes.iter().enumerate() {
            let len = a.domain.grid_values().len() as u64;
            n = n.saturating_mul(len);
            if n > POINTS_MAX {
                return Err(loc.error(
                    &format!("axes[{i}]"),
                    format!("a grid of at most {POINTS_MAX} points (this axis takes it to {n} or more)"),
                ));
            }
        }
    }
    let mut scale = Vec::new();
    if let Some(t) = doc.get("scale").and_then(Item::as_table) {
        let mut flat = Vec::new();
        flatten(t, "", &mut flat).map_err(|e| loc.error("scale", e))?;
        for (key, v) in flat {
            let segs = parse_key(&key).map_err(|e| loc.error(&format!("scale.{key}"), e))?;
            if key == "scenario.seed" {
                return Err(loc.error(&format!("scale.{key}"), "no `scenario.seed` here: seeds come from [sweep] seed"));
            }
            if let Some(a) = axes.iter().find(|a| overlaps(&a.key, &key)) {
                return Err(
                    loc.error(&format!("scale.{key}"), format!("a key that no axis sweeps (axis `{}` does)", a.key))
                );
            }
            scale.push((key, segs, v));
        }
    } else if doc.get("scale").is_some() {
        return Err(loc.error("scale", "a table of scenario keys and values"));
    }
    // Every key must be settable in the base (the values themselves are checked per point).
    let mut base_doc: DocumentMut = base_text.parse().map_err(|e| InputError {
        file: base_path.to_path_buf(),
        line: None,
        column: None,
        key_path: String::new(),
        value: None,
        expected: format!("valid TOML: {e}"),
    })?;
    for (key, segs, v) in &scale {
        apply(&mut base_doc, segs, v).map_err(|e| loc.error(&format!("scale.{key}"), e))?;
    }
    for (i, a) in axes.iter().enumerate() {
        apply(&mut base_doc, &a.segs, &a.domain.at(0.0)).map_err(|e| loc.error(&format!("axes[{i}].key"), e))?;
    }
    Ok(Spec {
        path: path.to_path_buf(),
        text: text.to_string(),
        name: s.name.clone(),
        description: s.description.clone(),
        base_path: base_path.to_path_buf(),
        base_text: base_text.to_string(),
        base_name: base_raw.scenario.name.clone(),
        replicas: s.replicas as u32,
        seed: s.seed.unwrap_or(base_raw.scenario.seed),
        design,
        axes,
        scale,
        hash: sweep_hash(text, base_text),
    })
}

/// Whether two keys name the same setting or one contains the other.
fn overlaps(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long == short || long.starts_with(&format!("{short}.")) || long.starts_with(&format!("{short}["))
}

fn range_domain(r: &RawRange, design: &Design, loc: &Locator, at: &str) -> Result<Domain, InputError> {
    let (from, to) = (r.from.f64(), r.to.f64());
    for (k, v) in [("from", from), ("to", to)] {
        if !v.is_finite() {
            return Err(loc.error(&format!("{at}.{k}"), "a finite number"));
        }
    }
    if from == to {
        return Err(loc.error(&format!("{at}.to"), "a value other than `from` (for one value, use values = [x])"));
    }
    if r.log && (from <= 0.0 || to <= 0.0) {
        return Err(loc.error(&format!("{at}.from"), "numbers above 0 for log = true"));
    }
    let integer = matches!((r.from, r.to), (Num::Int(_), Num::Int(_)));
    let steps = match r.steps {
        Some(n) if (2..=i64::from(STEPS_MAX)).contains(&n) => Some(n as u32),
        Some(_) => return Err(loc.error(&format!("{at}.steps"), format!("a whole number of values, 2 to {STEPS_MAX}"))),
        None if *design == Design::Grid => {
            return Err(loc.error(at, "`steps = N` (how many values, first and last included) in a grid"));
        }
        None => None,
    };
    let d = Domain::Range { from, to, steps, log: r.log, integer };
    if let (true, Some(_)) = (integer, steps) {
        let vs: Vec<String> = d.grid_values().iter().map(value_text).collect();
        if vs.windows(2).any(|w| w[0] == w[1]) {
            return Err(loc.error(
                &format!("{at}.steps"),
                format!(
                    "at most as many steps as whole numbers between `from` and `to` (two steps round to {})",
                    vs.windows(2).find(|w| w[0] == w[1]).map_or(String::new(), |w| w[0].clone())
                ),
            ));
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_exact_at_the_ends_and_rounded() {
        let d = Domain::Range { from: 0.1, to: 0.3, steps: Some(3), log: false, integer: false };
        let vs: Vec<String> = d.grid_values().iter().map(value_text).collect();
        assert_eq!(vs, ["0.1", "0.2", "0.3"]);
        let d = Domain::Range { from: 100.0, to: 10000.0, steps: Some(3), log: true, integer: true };
        let vs: Vec<String> = d.grid_values().iter().map(value_text).collect();
        assert_eq!(vs, ["100", "1000", "10000"]);
        assert!(overlaps("cdn", "cdn.cache_ttl") && !overlaps("cdn.cache", "cdn.cache_ttl"));
        assert_eq!(normalize(Path::new("scenarios/sweeps/../seed.toml")), Path::new("scenarios/seed.toml"));
        assert_eq!(normalize(Path::new("../x/./y.toml")), Path::new("../x/y.toml"));
    }
}
