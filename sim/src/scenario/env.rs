//! A production `.env` file as overrides: the seed's `CDN_*` and `MIRROR_*` variables.
//!
//! Lines are `NAME=value` (an `export ` prefix, quotes and `#` comments are accepted). Variables
//! outside `CDN_*` and `MIRROR_*` are ignored, since a real `.env` holds much else; an unknown
//! `CDN_*` or `MIRROR_*` name is an error, so a typo does not pass silently. Values of variables
//! whose names contain KEY, SECRET, TOKEN or PASSWORD are accepted and never printed.

use super::error::InputError;
use super::raw::{DurOrSecs, RawScenario};
use std::path::Path;

/// Whether a variable or key name (or the last part of a key path) holds a secret whose value
/// must never be written out. Its words (split at `_`, `-` and the like) are looked at: one
/// containing SECRET, TOKEN, PASSWORD or PASSWD, one ending in APIKEY, or KEY after another word
/// (`CDN_CLOUDFLARE_API_KEY`, `access_key`). So a sweep axis's `key` and names the user picks,
/// such as a geography `turkey` or a provider `keycdn`, are not secrets.
pub fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let last = upper.rsplit('.').next().unwrap_or(&upper);
    let words: Vec<&str> = last.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.iter().enumerate().any(|(i, w)| {
        ["SECRET", "TOKEN", "PASSWORD", "PASSWD"].iter().any(|s| w.contains(s))
            || w.ends_with("APIKEY")
            || (i > 0 && (*w == "KEY" || *w == "KEYS"))
    })
}

/// The placeholder written instead of a secret's value.
pub const REDACTED: &str = "<redacted>";

/// `text` (TOML) with the string value of every key that names a secret ([`is_secret`])
/// replaced by the string [`REDACTED`], everything else as written, so that a copy of a scenario
/// kept in an output (a sweep's manifest) or hashed never holds a secret. A value that is not a
/// string stays, to be refused as it would be without redaction. Text that is not valid TOML
/// comes back as it is: it fails to load anyway, and load errors redact secrets themselves.
pub fn redact_secrets(text: &str) -> String {
    use toml_edit::visit_mut::{self, VisitMut};
    struct Redact(bool);
    impl VisitMut for Redact {
        fn visit_table_like_kv_mut(&mut self, key: toml_edit::KeyMut<'_>, node: &mut toml_edit::Item) {
            if is_secret(key.get()) {
                if let Some(v) = node.as_value_mut().filter(|v| v.is_str()) {
                    if v.as_str() != Some(REDACTED) {
                        let decor = v.decor().clone();
                        *v = toml_edit::Value::from(REDACTED);
                        *v.decor_mut() = decor;
                        self.0 = true;
                    }
                    return;
                }
            }
            visit_mut::visit_table_like_kv_mut(self, key, node);
        }
    }
    let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else { return text.to_string() };
    let mut r = Redact(false);
    r.visit_document_mut(&mut doc);
    if r.0 {
        doc.to_string()
    } else {
        text.to_string()
    }
}

/// One override that was applied, for the record (secret values are redacted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The variable.
    pub name: String,
    /// Its value, or `<redacted>`.
    pub shown_value: String,
    /// The scenario key it sets (`CDN_CACHE_TTL` sets `cdn.cache_ttl`).
    pub key_path: String,
    /// Where its value is written in the `.env` file (1-based line and column).
    pub line: usize,
    /// See `line`.
    pub column: usize,
}

/// `e`, a validation error in a scenario loaded with the overrides `applied` from `file`,
/// pointed at the `.env` line that set the offending key, if one did: there the value is
/// wrong, not in the scenario file, where the key may hold something valid or not appear at
/// all. The last override of a key wins, as it did when applied.
pub fn blame(e: InputError, file: &Path, applied: &[Applied]) -> InputError {
    let sets = |a: &&Applied| {
        e.key_path.strip_prefix(a.key_path.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    let Some(a) = applied.iter().rev().find(sets) else { return e };
    let value = if is_secret(&a.name) { REDACTED.to_string() } else { format!("\"{}\"", a.shown_value) };
    // The key path, which names the item of a list (`mirror.regions[1]`); not the error's value,
    // which the scenario file's text supplied.
    let expected = format!("{} (`{}`)", e.expected, e.key_path);
    InputError {
        file: file.to_path_buf(),
        line: Some(a.line),
        column: Some(a.column),
        key_path: a.name.clone(),
        value: Some(value),
        expected,
    }
}

/// Applies the `.env` text to `raw`. Returns what was applied, in file order.
pub fn apply(file: &Path, text: &str, raw: &mut RawScenario) -> Result<Vec<Applied>, InputError> {
    let mut applied = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let indent = line.len() - line.trim_start().len() + (trimmed.len() - body.len());
        let err = |col: usize, key: &str, value: Option<&str>, expected: String| InputError {
            file: file.to_path_buf(),
            line: Some(i + 1),
            column: Some(col),
            key_path: key.to_string(),
            value: value.map(|v| if is_secret(key) { REDACTED.to_string() } else { format!("\"{v}\"") }),
            expected,
        };
        let Some((name, value)) = body.split_once('=') else {
            return Err(err(indent + 1, "", None, format!("line {} is not NAME=value", i + 1)));
        };
        let name = name.trim();
        let value_col = indent + body.find('=').expect("split at '='") + 2;
        let value = unquote(strip_comment(value.trim()));
        if !(name.starts_with("CDN_") || name.starts_with("MIRROR_")) {
            continue;
        }
        let bad = |expected: &str| err(value_col, name, Some(value), expected.to_string());
        let parse_bool = || match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(bad("true or false")),
        };
        let parse_f64 = || value.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| bad("a number"));
        let parse_u64 = || value.parse::<u64>().map_err(|_| bad("a whole number"));
        match name {
            "CDN_ENABLED" => raw.cdn.enabled = parse_bool()?,
            "CDN_PROVIDER" => raw.cdn.provider = value.to_string(),
            "CDN_CLOUDFLARE_ZONE_ID" => raw.cdn.cloudflare_zone_id = Some(value.to_string()),
            "CDN_CLOUDFLARE_API_KEY" => raw.cdn.cloudflare_api_key = Some(value.to_string()),
            "CDN_CACHE_TTL" => raw.cdn.cache_ttl = DurOrSecs::Secs(parse_u64()?),
            "CDN_MAX_COST_PER_GB" => raw.cdn.max_cost_per_gb = parse_f64()?,
            "MIRROR_ENABLED" => raw.mirror.enabled = parse_bool()?,
            "MIRROR_REGIONS" => {
                raw.mirror.regions =
                    Some(value.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect())
            }
            "MIRROR_REPLICATION_THRESHOLD" => raw.mirror.replication_threshold = parse_u64()?,
            "MIRROR_TTL_DAYS" => raw.mirror.ttl_days = parse_f64()?,
            "MIRROR_MAX_PER_CLIP" => {
                raw.mirror.max_per_clip = u32::try_from(parse_u64()?).map_err(|_| bad("a small whole number"))?
            }
            "MIRROR_SYNC_INTERVAL_MINUTES" => raw.mirror.sync_interval_minutes = parse_f64()?,
            "MIRROR_MIN_HIT_RATE" => raw.mirror.min_hit_rate = parse_f64()?,
            _ => {
                return Err(err(
                    indent + 1,
                    name,
                    None,
                    "a known variable: CDN_ENABLED, CDN_PROVIDER, CDN_CLOUDFLARE_ZONE_ID, CDN_CLOUDFLARE_API_KEY, \
                     CDN_CACHE_TTL, CDN_MAX_COST_PER_GB, MIRROR_ENABLED, MIRROR_REGIONS, MIRROR_REPLICATION_THRESHOLD, \
                     MIRROR_TTL_DAYS, MIRROR_MAX_PER_CLIP, MIRROR_SYNC_INTERVAL_MINUTES, MIRROR_MIN_HIT_RATE"
                        .to_string(),
                ))
            }
        }
        let shown_value = if is_secret(name) { REDACTED.to_string() } else { value.to_string() };
        // CDN_CACHE_TTL sets cdn.cache_ttl, MIRROR_TTL_DAYS mirror.ttl_days: every known name.
        let key_path = name.to_ascii_lowercase().replacen('_', ".", 1);
        applied.push(Applied { name: name.to_string(), shown_value, key_path, line: i + 1, column: value_col });
    }
    Ok(applied)
}

fn strip_comment(v: &str) -> &str {
    if v.starts_with('"') || v.starts_with('\'') {
        return v;
    }
    v.split_once(" #").map_or(v, |(a, _)| a).trim()
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawScenario {
        super::super::parse_raw(Path::new("s.toml"), "[scenario]\nname = \"x\"\n").unwrap()
    }

    #[test]
    fn seed_variables_override_the_scenario() {
        let mut r = raw();
        let text = "# prod\nDATABASE_URL=postgres://x\nexport CDN_ENABLED=true\nCDN_CACHE_TTL=7200\nMIRROR_REGIONS=us-east-1, eu-west-1\nMIRROR_TTL_DAYS=\"3\"\nCDN_CLOUDFLARE_API_KEY=sk_live_123 # secret\n";
        let applied = apply(Path::new(".env"), text, &mut r).unwrap();
        assert!(r.cdn.enabled);
        assert_eq!(r.cdn.cache_ttl, DurOrSecs::Secs(7200));
        assert_eq!(r.mirror.regions.as_deref(), Some(&["us-east-1".to_string(), "eu-west-1".to_string()][..]));
        assert_eq!(r.mirror.ttl_days, 3.0);
        assert_eq!(applied.len(), 5);
        assert_eq!(applied[4].shown_value, "<redacted>");
        assert!(!format!("{applied:?}").contains("sk_live"));
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let mut r = raw();
        let e = apply(Path::new(".env"), "\nMIRROR_MAX_PER_CLIP=three\n", &mut r).unwrap_err();
        assert_eq!(e.to_string(), ".env:2:21: `MIRROR_MAX_PER_CLIP` = \"three\": a whole number");
        let e = apply(Path::new(".env"), "MIRROR_TLL_DAYS=7\n", &mut r).unwrap_err();
        assert!(e.to_string().starts_with(".env:1:1: `MIRROR_TLL_DAYS`: a known variable"), "{e}");
    }

    #[test]
    fn redacting_replaces_only_secret_values() {
        let text =
            "# a scenario\n[cdn]\nprovider = \"cloudflare\"  # kept\ncloudflare_api_key = \"sk-live-1\" # gone\n\
                    [extra]\nt = { db_password = 'p4ss', n = 3 }\n[[x]]\naccess_token = \"7\"\nother_token = 7\n\
                    [traffic.geos]\nturkey = 0.2\n[providers]\nkeycdn = { kind = \"cdn\" }\n";
        let out = redact_secrets(text);
        assert!(!out.contains("sk-live-1") && !out.contains("p4ss") && !out.contains("= \"7\""), "{out}");
        assert!(out.contains("other_token = 7"), "not a string: refused as it would be unredacted: {out}");
        assert!(out.contains("turkey = 0.2") && out.contains("keycdn = { kind = \"cdn\" }"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        assert!(
            out.contains("provider = \"cloudflare\"  # kept") && out.contains("# gone") && out.contains("n = 3"),
            "{out}"
        );
        assert_eq!(redact_secrets(&out), out, "idempotent");
        let plain = "[cdn]\nprovider = \"bunny\"\n";
        assert_eq!(redact_secrets(plain), plain);
        assert_eq!(redact_secrets("not = = toml"), "not = = toml");
    }

    #[test]
    fn the_scenario_hash_does_not_depend_on_a_secret() {
        let load = |key: &str| {
            let text = format!("[scenario]\nname = \"s\"\n\n[cdn]\ncloudflare_api_key = \"{key}\"\n");
            super::super::from_str(Path::new("s.toml"), &text, &Default::default()).expect("valid").sha256
        };
        assert_eq!(load("sk-live-1"), load("sk-live-2"));
        let plain = super::super::from_str(Path::new("s.toml"), "[scenario]\nname = \"s\"\n", &Default::default());
        assert_ne!(load("sk-live-1"), plain.expect("valid").sha256, "the rest of the text still counts");
    }

    #[test]
    fn secrets_are_never_shown_even_in_errors() {
        let mut r = raw();
        assert!(is_secret("CDN_CLOUDFLARE_API_KEY") && is_secret("db_password") && !is_secret("CDN_PROVIDER"));
        assert!(is_secret("cdn.cloudflare_api_key") && is_secret("x.apikey[2]") && is_secret("a.auth_token"));
        assert!(!is_secret("axes[0].key") && !is_secret("key"), "a sweep axis's key is a setting");
        assert!(!is_secret("traffic.geos.turkey") && !is_secret("providers.keycdn") && !is_secret("monkey_bars"));
        assert!(is_secret("aws_access_keys") && is_secret("x.client_secret") && is_secret("AUTHTOKEN"));
        let e = apply(Path::new(".env"), "CDN_ENABLED=maybe\n", &mut r).unwrap_err();
        assert!(e.to_string().contains("\"maybe\""));
    }
}
