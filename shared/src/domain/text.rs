//! Text checks shared by every input: events, queries, rules, price entries.

use serde_json::Value;

/// The answer to a text with a NUL character, on every endpoint and both backends.
pub const NUL_MESSAGE: &str = "must not contain a NUL character (U+0000)";

/// Where a JSON value holds a NUL character, as a path below it (`""` for the
/// value itself, `.name` / `[2]` below it); `None` when it holds none.
pub fn nul_path(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v).map(|p| format!("[{i}]{p}"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(format!(".{}", k.replace('\0', "\\u0000")));
            }
            nul_path(v).map(|p| format!(".{k}{p}"))
        }),
        _ => None,
    }
}

/// Replaces NUL characters with U+FFFD in text that has no one to refuse it to
/// (a transcript line, a provider's row): stored alike on both backends, and one
/// bad character never fails a whole import.
pub fn scrub_nul(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}
