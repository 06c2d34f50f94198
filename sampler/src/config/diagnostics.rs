//! Diagnostics: turning TOML and serde errors into one line naming the key.

use crate::models::BuiltinModel;
use crate::{ConfigError, Error};

/// The line (1-based) of a TOML error, 0 if unknown.
pub(super) fn line_of(e: &toml::de::Error, text: &str) -> usize {
    e.span().map_or(0, |s| {
        text[..s.start.min(text.len())].lines().count().max(1)
    })
}

/// Turn a TOML syntax error (the text does not parse as a table) into one line naming the key
/// and the line when the error is on a `key = value` line or a `[table]` header: out-of-range
/// integers and duplicate keys; other errors name the line only.
pub(super) fn syntax(e: toml::de::Error, text: &str) -> Error {
    let line = line_of(&e, text);
    let Some(span) = e.span() else {
        return ConfigError::Toml { line, source: e }.into();
    };
    let table = table_at(text, span.start);
    let msg = e.message().trim().replace('\n', " ");
    let (name, value) = match key_at(text, span.start) {
        Some(k) if table.is_empty() => (k, value_at(text, span.start)),
        Some(k) => (format!("{table}.{k}"), value_at(text, span.start)),
        None if msg.contains("duplicate") && !table.is_empty() => {
            return Error::config(
                table.clone(),
                format!("duplicate table [{table}] (line {line})"),
            );
        }
        None => return ConfigError::Toml { line, source: e }.into(),
    };
    let problem = if msg.contains("too large") || msg.contains("as i128") {
        format!(
            "integer {} is out of range: TOML integers are 64-bit signed, at most {} (line {line})",
            value.unwrap_or_default(),
            i64::MAX
        )
    } else if msg.contains("duplicate key") {
        let lines = key_lines(text, &table, &name);
        if lines.len() > 1 {
            let list: Vec<String> = lines.iter().map(usize::to_string).collect();
            format!("duplicate key (lines {})", list.join(" and "))
        } else {
            format!("duplicate key (line {line})")
        }
    } else {
        format!("{msg} (line {line})")
    };
    Error::config(name, problem)
}

/// The lines (1-based) defining `dotted` (`table.key`) in `[table]`, in order.
fn key_lines(text: &str, table: &str, dotted: &str) -> Vec<usize> {
    let key = dotted.rsplit('.').next().unwrap_or(dotted);
    let mut current = String::new();
    let mut found = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix('[') {
            current = h.split(']').next().unwrap_or("").trim().to_owned();
        } else if current == table
            && t.split_once('=')
                .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
        {
            found.push(i + 1);
        }
    }
    found
}

/// The value text of the `key = value` line containing byte `pos`.
fn value_at(text: &str, pos: usize) -> Option<String> {
    let pos = pos.min(text.len());
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (_, v) = line.split_once('=')?;
    let v = v.split('#').next().unwrap_or(v).trim();
    Some(v.to_owned())
}

/// Turn a TOML/serde error into one line `table.key: problem`.
pub(super) fn describe(e: toml::de::Error, text: &str) -> Error {
    let msg = e.message().trim().replace('\n', " ");
    let table = e
        .span()
        .map(|s| table_at(text, s.start))
        .unwrap_or_default();
    let quoted = msg.split('`').nth(1).map(str::to_owned);
    let join = |k: &str| {
        if table.is_empty() {
            k.to_owned()
        } else {
            format!("{table}.{k}")
        }
    };
    if let Some(rest) = msg.strip_prefix("unknown field") {
        let key = quoted.unwrap_or_default();
        let expected = rest.split_once(", ").map(|x| x.1).unwrap_or("");
        let name = if key == table { key } else { join(&key) };
        return Error::config(name, format!("unknown key ({expected})"));
    }
    if msg.starts_with("missing field") {
        let key = quoted.unwrap_or_default();
        return Error::config(join(&key), "missing");
    }
    if msg.starts_with("unknown variant") && table == "model" && !names_model(text, &quoted) {
        // A parameter's value (e.g. `noise = "pink"`), not the model's name.
        if let Some(k) = model_culprit(text) {
            return Error::config(format!("model.{k}"), msg);
        }
    }
    if msg.starts_with("unknown variant") && table == "model" {
        return Error::config(
            "model.name",
            format!(
                "unknown model {} (expected one of {})",
                quoted.map(|q| format!("`{q}`")).unwrap_or_default(),
                crate::models::NAMES.join(", ")
            ),
        );
    }
    let mut key = e.span().and_then(|s| key_at(text, s.start));
    if key.is_none() && table == "model" {
        key = model_culprit(text);
    }
    match key {
        Some(k) => Error::config(join(&k), msg),
        None if !table.is_empty() => Error::config(table, msg),
        None => ConfigError::Toml {
            line: line_of(&e, text),
            source: e,
        }
        .into(),
    }
}

/// The `[table]` header in force at byte `pos` (a span starting on a header line is that table).
fn table_at(text: &str, pos: usize) -> String {
    let pos = pos.min(text.len());
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split(']').next())
                .map(|t| t.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Whether `value` is the `[model] name` of `text` (or the name is absent or unreadable).
fn names_model(text: &str, value: &Option<String>) -> bool {
    let name = toml::from_str::<toml::Table>(text).ok().and_then(|doc| {
        doc.get("model")?
            .as_table()?
            .get("name")?
            .as_str()
            .map(str::to_owned)
    });
    match (name, value) {
        (Some(n), Some(v)) => n == *v,
        _ => true,
    }
}

/// The `[model]` parameter whose value fails to deserialize (serde's tagged enums lose spans).
fn model_culprit(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let model = doc.get("model")?.as_table()?;
    let name = model.get("name")?.clone();
    model.iter().find_map(|(k, v)| {
        if k == "name" {
            return None;
        }
        let mut one = toml::Table::new();
        one.insert("name".into(), name.clone());
        one.insert(k.clone(), v.clone());
        one.try_into::<BuiltinModel>().is_err().then(|| k.clone())
    })
}

/// The key of the `key = value` line containing byte `pos`.
fn key_at(text: &str, pos: usize) -> Option<String> {
    let pos = pos.min(text.len());
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (k, _) = line.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.starts_with('[')).then(|| k.to_owned())
}
