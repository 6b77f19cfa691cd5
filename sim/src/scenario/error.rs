//! Errors in input files that point at the place: file, line, column, key path, the bad value
//! and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem in an input file (scenario, sweep, `.env`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted key path, e.g. `regions[1].latency_ms.eu`.
    pub key_path: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// What was expected, or what is wrong.
    pub expected: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if !self.key_path.is_empty() {
            write!(f, "`{}`", self.key_path)?;
            if let Some(v) = &self.value {
                write!(f, " = {v}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.expected)
    }
}

impl std::error::Error for InputError {}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

/// Finds where a key path (`a.b[2].c`) is written in a TOML document: the value's position if
/// the whole path exists, else the position of the deepest part that does.
pub struct Locator<'a> {
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
    file: &'a Path,
}

impl<'a> Locator<'a> {
    /// Parses `text` (already known to be valid TOML) for lookups.
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Locator { text, doc: toml_edit::ImDocument::parse(text).ok(), file }
    }

    /// The error at `key_path`, with the value found there.
    pub fn error(&self, key_path: &str, expected: impl Into<String>) -> InputError {
        let (pos, mut value) = self.find(key_path);
        if super::env::is_secret(key_path) && value.is_some() {
            value = Some(super::env::REDACTED.to_string());
        }
        let (line, column) = match pos {
            Some(off) => {
                let (l, c) = line_col(self.text, off);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        InputError {
            file: self.file.to_path_buf(),
            line,
            column,
            key_path: key_path.to_string(),
            value,
            expected: expected.into(),
        }
    }

    fn find(&self, key_path: &str) -> (Option<usize>, Option<String>) {
        let Some(doc) = &self.doc else { return (None, None) };
        let mut item: &toml_edit::Item = doc.as_item();
        let mut best = None;
        for seg in split_path(key_path) {
            let next = match seg {
                Seg::Key(k) => item.get(k),
                Seg::Index(i) => item.get(i),
            };
            match next {
                Some(n) => {
                    if let Some(span) = item_span(n) {
                        best = Some(span.start);
                    }
                    item = n;
                }
                None => return (best, None),
            }
        }
        let value = match item {
            // As written (`1e-300`, not the 300 digits a float prints as), when the span is known.
            toml_edit::Item::Value(v) => Some(match v.span().and_then(|r| self.text.get(r)) {
                Some(written) => written.trim().to_string(),
                None => v.to_string().trim().to_string(),
            }),
            _ => None,
        };
        (best, value)
    }
}

fn item_span(item: &toml_edit::Item) -> Option<std::ops::Range<usize>> {
    match item {
        toml_edit::Item::Value(v) => v.span(),
        toml_edit::Item::Table(t) => t.span(),
        toml_edit::Item::ArrayOfTables(a) => a.span(),
        toml_edit::Item::None => None,
    }
}

enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[') {
            if let Some(n) = idx.trim_end_matches(']').parse().ok().filter(|_| !idx.is_empty()) {
                out.push(Seg::Index(n));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_array_entries() {
        let text = "[scenario]\nname = \"x\"\n\n[[regions]]\nname = \"a\"\n\n[[regions]]\nname = \"b\"\nlatency_ms = { na = 5, eu = -1 }\n";
        let loc = Locator::new(Path::new("f.toml"), text);
        let e = loc.error("regions[1].latency_ms.eu", "a positive number");
        assert_eq!((e.line, e.column), (Some(9), Some(29)));
        assert_eq!(e.value.as_deref(), Some("-1"));
        assert_eq!(e.to_string(), "f.toml:9:29: `regions[1].latency_ms.eu` = -1: a positive number");
        // A missing key points at the deepest part that exists.
        let e = loc.error("regions[1].storage", "x");
        assert_eq!(e.line, Some(7));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
