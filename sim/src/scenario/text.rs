//! Text a scenario names things with must print as it reads: no control characters.
//!
//! Names reach the terminal, `report.md` tables and chart labels. An ANSI escape (`\u001b[31m`)
//! would recolour or rewrite the terminal, a line break or carriage return would break a table
//! row, so every string in a scenario (keys too) is refused if it holds a control character; only
//! free text (`description`, `notes`) may hold line breaks and tabs.

use super::error::{InputError, Locator};
use std::path::Path;

/// What a refused string may hold instead.
const EXPECTED: &str = "text without control characters (escapes, line breaks, carriage returns)";

/// The first string (value or key) in `text` that holds a control character, as a located error.
/// `text` is TOML that already parsed; otherwise this finds nothing.
pub fn check(path: &Path, text: &str) -> Result<(), InputError> {
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else { return Ok(()) };
    let mut bad = None;
    walk_table(doc.as_table(), "", &mut bad);
    match bad {
        None => Ok(()),
        Some(Bad { key_path, shown }) => {
            let mut e = Locator::new(path, text).error(&key_path, EXPECTED);
            // As the parser read it, escaped: the raw text must not reach the terminal either.
            if !super::env::is_secret(&key_path) {
                e.value = Some(shown);
            }
            Err(e)
        }
    }
}

/// Whether `s`, the value of the key `key` (its last segment), is acceptable.
pub fn clean(key: &str, s: &str) -> bool {
    let free_text = matches!(key, "description" | "notes");
    s.chars().all(|c| !c.is_control() || (free_text && (c == '\n' || c == '\t')))
}

struct Bad {
    key_path: String,
    shown: String,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk_table(t: &dyn toml_edit::TableLike, prefix: &str, bad: &mut Option<Bad>) {
    for (k, item) in t.iter() {
        if bad.is_some() {
            return;
        }
        let path = join(prefix, k);
        if !clean("", k) {
            *bad = Some(Bad { key_path: path, shown: format!("{k:?} (a key)") });
            return;
        }
        walk_item(item, &path, k, bad);
    }
}

fn walk_item(item: &toml_edit::Item, path: &str, key: &str, bad: &mut Option<Bad>) {
    match item {
        toml_edit::Item::Table(t) => walk_table(t, path, bad),
        toml_edit::Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                walk_table(t, &format!("{path}[{i}]"), bad);
            }
        }
        toml_edit::Item::Value(v) => walk_value(v, path, key, bad),
        toml_edit::Item::None => {}
    }
}

fn walk_value(v: &toml_edit::Value, path: &str, key: &str, bad: &mut Option<Bad>) {
    if bad.is_some() {
        return;
    }
    match v {
        toml_edit::Value::String(s) if !clean(key, s.value()) => {
            *bad = Some(Bad { key_path: path.to_string(), shown: format!("{:?}", s.value()) });
        }
        toml_edit::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk_value(v, &format!("{path}[{i}]"), key, bad);
            }
        }
        toml_edit::Value::InlineTable(t) => walk_table(t, path, bad),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        check(Path::new("s.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn control_characters_are_refused_where_they_are_written_and_shown_escaped() {
        let e = refused("[scenario]\nname = \"a\\u001b[31mred\"\n");
        assert_eq!(e, "s.toml:2:8: `scenario.name` = \"a\\u{1b}[31mred\": text without control characters (escapes, line breaks, carriage returns)");
        assert!(!e.contains('\u{1b}'));
        let e = refused("[[regions]]\nname = \"x\"\n[[regions]]\nname = \"us\\neast\"\n");
        assert!(e.starts_with("s.toml:4:8: `regions[1].name` = \"us\\neast\""), "{e}");
        let e = refused("[traffic.geos]\n\"eu\\r\" = 0.5\n");
        assert!(e.contains("= \"eu\\r\" (a key): text without"), "{e}");
        let e = refused("[mirror]\nregions = [\"a\", \"b\\u0085\"]\n");
        assert!(e.contains("`mirror.regions[1]` = \"b\\u{85}\""), "{e}");
        let e = refused("[cdn]\nprovider = { name = \"x\\ty\" }\n");
        assert!(e.contains("`cdn.provider.name`"), "{e}");
    }

    #[test]
    fn free_text_may_break_lines_and_everything_else_passes() {
        let ok = "[scenario]\nname = \"seed – 1 M views, 10 MB ✓\"\ndescription = \"\"\"two\nlines\\tand a tab\"\"\"\n\
                  notes = [\"a\\nb\"]\n";
        assert!(check(Path::new("s.toml"), ok).is_ok());
        assert!(refused("[scenario]\ndescription = \"a\\u001bb\"\n").contains("`scenario.description`"));
        assert!(clean("name", "plain") && !clean("name", "a\u{7f}") && !clean("description", "a\rb"));
    }
}
