//! Dotted key paths into a TOML document (`mirror.ttl_days`, `regions[1].latency_ms.eu`): parsed
//! into segments and set to a value in place, keeping the document's comments and layout, so
//! that a sweep point is its base scenario's text with one value changed.

use toml_edit::{DocumentMut, Item, Table, Value};

/// One part of a dotted key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An index into an array (of tables).
    Index(usize),
    /// Every entry of an array of tables (`regions[*].storage`): the same value set in each.
    All,
}

/// Parses a dotted key path: `a.b`, `regions[1].latency_ms.eu`.
pub fn parse_key(key: &str) -> Result<Vec<Seg>, String> {
    let bad = || format!("a dotted scenario key such as `mirror.ttl_days` or `regions[1].latency_ms.eu`, not {key:?}");
    let mut segs = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(bad());
        }
        segs.push(Seg::Key(name.to_string()));
        while !rest.is_empty() {
            let (idx, after) = rest.split_once(']').ok_or_else(bad)?;
            segs.push(if idx == "*" { Seg::All } else { Seg::Index(idx.parse().map_err(|_| bad())?) });
            rest = match after {
                "" => "",
                a => a.strip_prefix('[').ok_or_else(bad)?,
            };
        }
    }
    Ok(segs)
}

/// The value without surrounding whitespace or comments, as TOML (`"1h"`, `500`, `7.5`).
pub fn value_text(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    v.to_string()
}

/// The value for a table cell: a string without its quotes, anything else as TOML.
pub fn value_plain(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => value_text(v),
    }
}

/// Sets `segs` to `value` in the document, creating tables as needed. Arrays must already have
/// the entry. The old value's comments are kept.
pub fn apply(doc: &mut DocumentMut, segs: &[Seg], value: &Value) -> Result<(), String> {
    set_in_table(doc.as_table_mut(), segs, value, "")
}

fn shown(prefix: &str) -> String {
    if prefix.is_empty() {
        "the document".into()
    } else {
        format!("`{prefix}`")
    }
}

fn with_decor(old: Option<&Value>, new: &Value) -> Value {
    let mut v = new.clone();
    match old {
        Some(o) => *v.decor_mut() = o.decor().clone(),
        None => v.decor_mut().clear(),
    }
    v
}

fn join(prefix: &str, seg: &Seg) -> String {
    match seg {
        Seg::Key(k) if prefix.is_empty() => k.clone(),
        Seg::Key(k) => format!("{prefix}.{k}"),
        Seg::Index(i) => format!("{prefix}[{i}]"),
        Seg::All => format!("{prefix}[*]"),
    }
}

fn set_in_table(t: &mut Table, segs: &[Seg], value: &Value, prefix: &str) -> Result<(), String> {
    let Some((Seg::Key(k), rest)) = segs.split_first() else {
        return Err(format!("{} is a table: index it with a key, not [n]", shown(prefix)));
    };
    let here = join(prefix, &segs[0]);
    if rest.is_empty() {
        // An inline table into a table: each of its keys set in the table (`cdn = { enabled =
        // false }` changes one key of [cdn] and keeps the others).
        if let (Some(Item::Table(inner)), Some(kv)) = (t.get_mut(k), value.as_inline_table()) {
            for (key, v) in kv.iter() {
                set_in_table(inner, &[Seg::Key(key.to_string())], v, &here)?;
            }
            return Ok(());
        }
        if matches!(t.get(k), Some(Item::Table(_)) | Some(Item::ArrayOfTables(_))) {
            return Err(format!(
                "`{here}` is a table in the base scenario: set one of its keys, or give an inline table of them"
            ));
        }
        let v = with_decor(t.get(k).and_then(Item::as_value), value);
        t.insert(k, Item::Value(v));
        return Ok(());
    }
    let child = t.entry(k).or_insert_with(|| Item::Table(Table::new()));
    set_in_item(child, rest, value, &here)
}

fn set_in_item(item: &mut Item, segs: &[Seg], value: &Value, prefix: &str) -> Result<(), String> {
    match item {
        Item::Table(t) => set_in_table(t, segs, value, prefix),
        Item::ArrayOfTables(a) => match segs.split_first() {
            Some((Seg::Index(i), rest)) => {
                let len = a.len();
                let t = a.get_mut(*i).ok_or_else(|| {
                    format!("`{prefix}` has {len} entries in the base scenario: index {i} is out of range")
                })?;
                if rest.is_empty() {
                    return Err(format!("`{}` is a table: set one of its keys instead", join(prefix, &segs[0])));
                }
                set_in_table(t, rest, value, &join(prefix, &segs[0]))
            }
            Some((Seg::All, rest)) => {
                if rest.is_empty() {
                    return Err(format!("`{prefix}[*]` is every table: set one of their keys instead"));
                }
                a.iter_mut().try_for_each(|t| set_in_table(t, rest, value, &join(prefix, &Seg::All)))
            }
            _ => Err(format!(
                "`{prefix}` is an array of tables: index it first, as `{prefix}[0]` (or `{prefix}[*]` for every entry)"
            )),
        },
        Item::Value(v) => set_in_value(v, segs, value, prefix),
        Item::None => Err(format!("{} does not exist", shown(prefix))),
    }
}

fn set_in_value(v: &mut Value, segs: &[Seg], value: &Value, prefix: &str) -> Result<(), String> {
    let (seg, rest) = segs.split_first().expect("set_in_value is called with a non-empty path");
    let here = join(prefix, seg);
    match (v, seg) {
        (Value::InlineTable(t), Seg::Key(k)) => {
            if rest.is_empty() {
                let nv = with_decor(t.get(k), value);
                t.insert(k, nv);
                return Ok(());
            }
            let child = t.entry(k).or_insert(Value::InlineTable(toml_edit::InlineTable::new()));
            set_in_value(child, rest, value, &here)
        }
        (Value::Array(a), Seg::Index(i)) => {
            let len = a.len();
            let child = a.get_mut(*i).ok_or_else(|| {
                format!("`{prefix}` has {len} entries in the base scenario: index {i} is out of range")
            })?;
            if rest.is_empty() {
                *child = with_decor(Some(child), value);
                return Ok(());
            }
            set_in_value(child, rest, value, &here)
        }
        _ => Err(format!("`{prefix}` is a value in the base scenario, not a table or array: `{here}` cannot be set")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_set_into_tables_inline_tables_and_arrays() {
        let base = "[scenario]\nname = \"x\" # keep\n\n[[regions]]\nname = \"a\"\nlatency_ms = { na = 5, eu = 9 }\n";
        let mut doc: DocumentMut = base.parse().unwrap();
        apply(&mut doc, &parse_key("regions[0].latency_ms.eu").unwrap(), &Value::from(12)).unwrap();
        apply(&mut doc, &parse_key("scenario.name").unwrap(), &Value::from("y")).unwrap();
        apply(&mut doc, &parse_key("mirror.ttl_days").unwrap(), &Value::from(3.5)).unwrap();
        let out = doc.to_string();
        assert!(out.contains("latency_ms = { na = 5, eu = 12 }"), "{out}");
        assert!(out.contains("name = \"y\" # keep"), "{out}");
        assert!(out.contains("[mirror]\nttl_days = 3.5"), "{out}");
        assert!(apply(&mut doc, &parse_key("regions[3].name").unwrap(), &Value::from(1))
            .unwrap_err()
            .contains("out of range"));
        assert!(apply(&mut doc, &parse_key("scenario.name.x").unwrap(), &Value::from(1)).is_err());
        assert!(parse_key("a..b").is_err() && parse_key("a[x]").is_err() && parse_key("").is_err());
    }

    /// `[*]` sets a key in every entry of an array of tables; an inline table given for a table
    /// sets each of its keys there and keeps the table's other keys.
    #[test]
    fn every_entry_and_inline_tables_merge() {
        let base = "[cdn]
enabled = true
provider = \"a\"
\n[[regions]]
storage = \"s3\"
\n[[regions]]
storage = \"s3\"
";
        let mut doc: DocumentMut = base.parse().unwrap();
        apply(&mut doc, &parse_key("regions[*].storage").unwrap(), &Value::from("r2")).unwrap();
        let mut t = toml_edit::InlineTable::new();
        t.insert("enabled", Value::from(false));
        apply(&mut doc, &parse_key("cdn").unwrap(), &Value::InlineTable(t)).unwrap();
        let out = doc.to_string();
        assert_eq!(out.matches("storage = \"r2\"").count(), 2, "{out}");
        assert!(out.contains("[cdn]\nenabled = false\nprovider = \"a\""), "{out}");
        assert!(apply(&mut doc, &parse_key("regions[*]").unwrap(), &Value::from(1)).is_err());
        assert!(apply(&mut doc, &parse_key("cdn").unwrap(), &Value::from(1)).unwrap_err().contains("inline table"));
    }
}
