//! The assumptions file of `clipsim sensitivity`: each uncertain input of a scenario, the scenario
//! key it sets, its plausible low and high values with their source, and what to measure in
//! production to pin it down. The format is in `docs/uncertainty.md`; the shipped file is
//! `scenarios/sensitivity/assumptions.toml`.
//!
//! Checked like a sweep file: its shape with serde (unknown keys and wrong types located), then
//! every value, each error naming the file, line, column and key path.

use crate::scenario::error::Locator;
use crate::scenario::units::parse_duration;
use crate::scenario::{self, InputError};
use crate::sweep::spec::{apply, parse_key, parse_shape, round_sig, Num, Seg};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

/// The most assumptions one file may list.
pub const ASSUMPTIONS_MAX: usize = 200;

/// One uncertain input.
#[derive(Clone, Debug)]
pub struct Assumption {
    /// What it is, for tables and charts (`popularity skew (Zipf exponent)`).
    pub name: String,
    /// The scenario key it sets (dotted, as in a sweep).
    pub key: String,
    /// The key parsed.
    pub segs: Vec<Seg>,
    /// The plausible low end, in the key's unit (or in `unit` for a duration).
    pub low: f64,
    /// The plausible high end.
    pub high: f64,
    /// Values are whole numbers (`low` and `high` were written as integers).
    pub integer: bool,
    /// Values between the ends are spaced geometrically (bisection and sampling in log space).
    pub log: bool,
    /// For a duration key: the unit the numbers are in (`s`, `m`, `h`, `d`); values are written
    /// as strings like `"6h"`.
    pub unit: Option<String>,
    /// The value when the scenario does not set the key (the model's default), so that the
    /// scenario's own value can be placed between the ends.
    pub default: Option<f64>,
    /// A boolean scenario key that must be true for this assumption to matter (such as
    /// `failures.enabled`); when it is not, the assumption is listed as not varied.
    pub requires: Option<String>,
    /// Where the low and high ends come from.
    pub source: String,
    /// What to measure in production to pin it down.
    pub measure: String,
}

impl Assumption {
    /// The scenario value for the number `x` (rounded to a whole number, or to 10 significant
    /// digits; a duration as a string in `unit`).
    pub fn value(&self, x: f64) -> Value {
        let x = self.rounded(x);
        if self.integer {
            return Value::from(x as i64);
        }
        match &self.unit {
            Some(u) => Value::from(format!("{}{u}", plain_number(x))),
            None => Value::from(x),
        }
    }

    /// `x` as [`Self::value`] writes it: a whole number, or 6 significant digits for a duration,
    /// 10 for any other number.
    pub fn rounded(&self, x: f64) -> f64 {
        if self.integer {
            x.round()
        } else if self.unit.is_some() {
            round_sig(x, 6)
        } else {
            round_sig(x, 10)
        }
    }

    /// The value for `x` as a table shows it: `0.8`, `"6h"` as `6h`.
    pub fn show(&self, x: f64) -> String {
        let v = self.value(x);
        match v.as_str() {
            Some(s) => s.to_string(),
            None => crate::sweep::spec::value_text(&v),
        }
    }

    /// `x` to `digits` significant digits as a table shows it (a whole number for an integer
    /// key): how a bisected value reads, to the precision the bisection found it.
    pub fn approx(&self, x: f64, digits: usize) -> String {
        self.show(if self.integer { x } else { round_sig(x, digits) })
    }

    /// The number `x` is as a position in 0..=1 between `low` and `high` and back: the point
    /// a share `t` of the way from `a` to `b` (geometrically for `log`).
    pub fn between(&self, a: f64, b: f64, t: f64) -> f64 {
        if self.log && a > 0.0 && b > 0.0 {
            a * libm::pow(b / a, t)
        } else {
            a + (b - a) * t
        }
    }

    /// The number the scenario text gives the key, or the assumption's `default`, or `None`.
    pub fn base_value(&self, base_doc: &DocumentMut) -> Result<Option<f64>, String> {
        match get(base_doc, &self.segs) {
            None => Ok(self.default),
            Some(v) => self.number_of(v).map(Some),
        }
    }

    fn number_of(&self, v: &Value) -> Result<f64, String> {
        if let Some(u) = &self.unit {
            let unit_us = parse_duration(&format!("1{u}"))?.0 as f64;
            let us = match v {
                Value::String(s) => parse_duration(s.value())?.0 as f64,
                // A bare number of seconds (as `cdn.cache_ttl = 3600` may be).
                Value::Integer(i) => *i.value() as f64 * 1e6,
                Value::Float(f) => *f.value() * 1e6,
                _ => return Err(format!("`{}` is not a duration in the scenario", self.key)),
            };
            return Ok(us / unit_us);
        }
        match v {
            Value::Integer(i) => Ok(*i.value() as f64),
            Value::Float(f) => Ok(*f.value()),
            _ => Err(format!("`{}` is not a number in the scenario", self.key)),
        }
    }
}

/// A number as TOML would write it, without a trailing `.0` for whole numbers (`6`, `0.25`).
fn plain_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The value at `segs` in `doc`, if the scenario writes it.
pub fn get<'a>(doc: &'a DocumentMut, segs: &[Seg]) -> Option<&'a Value> {
    let mut item: &Item = doc.as_item();
    for s in segs {
        item = match s {
            Seg::Key(k) => item.get(k.as_str())?,
            Seg::Index(i) => item.get(*i)?,
            // Every entry is set alike: the first one's value stands for them.
            Seg::All => item.get(0)?,
        };
    }
    item.as_value()
}

/// A checked assumptions file.
#[derive(Clone, Debug)]
pub struct Assumptions {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The assumptions, in file order.
    pub list: Vec<Assumption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    assumptions: Vec<RawAssumption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssumption {
    name: String,
    key: String,
    low: Num,
    high: Num,
    #[serde(default)]
    log: bool,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    default: Option<Num>,
    #[serde(default)]
    requires: Option<String>,
    source: String,
    measure: String,
}

/// Reads and checks an assumptions file (the keys are checked against a scenario by
/// [`super::plan`]).
pub fn load(path: &Path) -> Result<Assumptions, InputError> {
    let text = scenario::read_text(path)?;
    from_text(path, &text)
}

/// Checks the text of an assumptions file.
pub fn from_text(path: &Path, text: &str) -> Result<Assumptions, InputError> {
    let raw: RawFile = parse_shape(path, text)?;
    let loc = Locator::new(path, text);
    if raw.assumptions.is_empty() {
        return Err(loc.error("assumptions", "at least one [[assumptions]] entry"));
    }
    if raw.assumptions.len() > ASSUMPTIONS_MAX {
        return Err(loc.error("assumptions", format!("at most {ASSUMPTIONS_MAX} assumptions")));
    }
    let mut list: Vec<Assumption> = Vec::new();
    for (i, a) in raw.assumptions.into_iter().enumerate() {
        let at = |k: &str| format!("assumptions[{i}].{k}");
        if a.name.trim().is_empty() {
            return Err(loc.error(&at("name"), "a name that is not empty"));
        }
        let segs = parse_key(&a.key).map_err(|e| loc.error(&at("key"), e))?;
        if a.key == "scenario.seed" || crate::scenario::env::is_secret(&a.key) {
            return Err(loc.error(&at("key"), "a scenario key other than the seed or a credential"));
        }
        if let Some(b) = list.iter().find(|b| b.key == a.key) {
            return Err(loc.error(&at("key"), format!("a key not listed already (\"{}\" sets it)", b.name)));
        }
        let (low, high) = (a.low.f64(), a.high.f64());
        for (k, v) in [("low", low), ("high", high)] {
            if !v.is_finite() {
                return Err(loc.error(&at(k), "a finite number"));
            }
        }
        if low >= high {
            return Err(loc.error(&at("high"), format!("a number above `low` ({low})")));
        }
        if a.log && low <= 0.0 {
            return Err(loc.error(&at("low"), "a number above 0 for log = true"));
        }
        if let Some(u) = &a.unit {
            if !["s", "m", "h", "d"].contains(&u.as_str()) {
                return Err(loc.error(&at("unit"), "one of \"s\", \"m\", \"h\", \"d\" (the unit of low and high)"));
            }
        }
        let integer = matches!((a.low, a.high), (Num::Int(_), Num::Int(_))) && a.unit.is_none();
        if let Some(r) = &a.requires {
            parse_key(r).map_err(|e| loc.error(&at("requires"), e))?;
        }
        for (k, s) in [("source", &a.source), ("measure", &a.measure)] {
            if s.trim().is_empty() {
                return Err(loc.error(&at(k), "a sentence that is not empty"));
            }
        }
        list.push(Assumption {
            name: a.name,
            key: a.key,
            segs,
            low,
            high,
            integer,
            log: a.log,
            unit: a.unit,
            default: a.default.map(Num::f64),
            requires: a.requires,
            source: a.source,
            measure: a.measure,
        });
    }
    Ok(Assumptions { path: path.to_path_buf(), text: text.to_string(), list })
}

/// Sets assumption `a` to `x` in a scenario document.
pub fn set(doc: &mut DocumentMut, a: &Assumption, x: f64) -> Result<(), String> {
    apply(doc, &a.segs, &a.value(x))
}

/// Whether the scenario has `a.requires` set to true (or `a` requires nothing).
pub fn required_on(doc: &DocumentMut, a: &Assumption) -> bool {
    match &a.requires {
        None => true,
        Some(r) => parse_key(r).ok().and_then(|segs| get(doc, &segs).and_then(Value::as_bool)).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> Result<Assumptions, InputError> {
        let text = format!("[[assumptions]]\n{body}\nsource = \"s\"\nmeasure = \"m\"\n");
        from_text(Path::new("a.toml"), &text)
    }

    #[test]
    fn values_are_written_in_the_keys_units() {
        let a =
            one("name = \"ttl\"\nkey = \"cdn.cache_ttl\"\nlow = 0.25\nhigh = 24\nunit = \"h\"\nlog = true").unwrap();
        let a = &a.list[0];
        assert_eq!(a.value(0.25).as_str(), Some("0.25h"));
        assert_eq!(a.show(6.0), "6h");
        assert!((a.between(0.25, 24.0, 0.5) - (0.25f64 * 24.0).sqrt()).abs() < 1e-12);
        let doc: DocumentMut = "[cdn]\ncache_ttl = \"90m\"\n".parse().unwrap();
        assert_eq!(a.base_value(&doc), Ok(Some(1.5)));
        let doc: DocumentMut = "[cdn]\ncache_ttl = 7200\n".parse().unwrap();
        assert_eq!(a.base_value(&doc), Ok(Some(2.0)));
        let c = one("name = \"clips\"\nkey = \"catalog.clips\"\nlow = 50000\nhigh = 200000\ndefault = 7").unwrap();
        let c = &c.list[0];
        assert!(c.integer);
        assert_eq!(c.show(1234.6), "1235");
        assert_eq!(c.base_value(&DocumentMut::new()), Ok(Some(7.0)));
    }

    #[test]
    fn bad_entries_are_located_errors() {
        let e = one("name = \"x\"\nkey = \"catalog.clips\"\nlow = 5\nhigh = 5").unwrap_err();
        assert_eq!((e.key_path.as_str(), e.line), ("assumptions[0].high", Some(5)), "{e}");
        let e = one("name = \"x\"\nkey = \"catalog.clips\"\nlow = 5\nhigh = 6\nunit = \"w\"").unwrap_err();
        assert_eq!(e.key_path, "assumptions[0].unit", "{e}");
        let e = one("name = \"x\"\nkey = \"catalog.clips\"\nlow = 0\nhigh = 6\nlog = true").unwrap_err();
        assert_eq!(e.key_path, "assumptions[0].low", "{e}");
        let e = one("name = \"x\"\nkey = \"cdn.cloudflare_api_key\"\nlow = 0\nhigh = 6").unwrap_err();
        assert_eq!(e.key_path, "assumptions[0].key", "{e}");
        let e = one("name = \"x\"\nkey = \"catalog.clips\"\nlow = 0\nhigh = 6\ncolour = 1").unwrap_err();
        assert!(e.expected.contains("unknown field"), "{e}");
    }
}
