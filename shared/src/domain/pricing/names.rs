//! Model name matching: the spellings of one model (route prefixes, Bedrock and
//! Vertex ids, case and spaces) reduced to the one key the catalog is indexed by.

/// Provider or router prefixes in front of a model name (`anthropic/claude-…`).
const ROUTE_PREFIXES: &[&str] = &[
    "anthropic/",
    "openai/",
    "moonshot/",
    "vertex_ai/",
    "bedrock/",
];
/// Bedrock cross-region inference prefixes, only before `anthropic.`.
const BEDROCK_REGIONS: &[&str] = &["us.", "eu.", "apac.", "global."];

/// Lowercases and trims a model name and rewrites route, Bedrock and Vertex spellings
/// to the plain API id; used for both catalog names and looked-up names.
pub(super) fn normalize_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(stripped) = ROUTE_PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    if let Some(stripped) = BEDROCK_REGIONS
        .iter()
        .find_map(|r| rest.strip_prefix(r))
        .filter(|s| s.starts_with("anthropic."))
    {
        rest = stripped;
    }
    if let Some(stripped) = rest.strip_prefix("anthropic.") {
        rest = strip_bedrock_version(stripped);
    }
    match rest.split_once('@') {
        Some((base, date)) if is_digits(date) => format!("{base}-{date}"),
        _ => rest.to_owned(),
    }
}

/// `claude-…-20250929-v1:0` / `-v1` / `-v2:0` → `claude-…-20250929`.
fn strip_bedrock_version(name: &str) -> &str {
    let Some(at) = name.rfind("-v") else {
        return name;
    };
    let version = &name[at + 2..];
    let (major, minor) = version.split_once(':').unwrap_or((version, "0"));
    if is_digits(major) && is_digits(minor) {
        &name[..at]
    } else {
        name
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
