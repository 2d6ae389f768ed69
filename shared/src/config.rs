//! One typed configuration, loaded once from the environment (and `.env`), with
//! secrets that never show in `Debug` output or logs.

use std::fmt;

/// A secret string: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is sent, never where it is printed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything the deployables read from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `postgres://…` or `sqlite://…`; default `sqlite://cost-tracker.db`.
    pub database_url: Secret,
    /// The API key clients must send; `None` lets `serve` generate one.
    pub api_key: Option<Secret>,
    pub host: String,
    pub port: u16,
    /// IANA zone for day/week/month boundaries.
    pub report_timezone: chrono_tz::Tz,
    /// Project for records no rule matches.
    pub default_project: String,
    pub anthropic_admin_key: Option<Secret>,
    pub anthropic_base_url: String,
    pub openai_admin_key: Option<Secret>,
    pub openai_base_url: String,
    pub collection_interval_hours: u32,
    pub collection_backfill_days: u32,
    pub collection_lookback_hours: u32,
    pub context_vault_url: Option<String>,
    pub context_vault_api_key: Option<Secret>,
    pub context_vault_workspace: String,
    pub context_vault_path: String,
    /// Serve the `/dashboard` page itself without a key.
    pub dashboard_public: bool,
    /// Origins allowed by CORS; empty = none.
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `serve`: seconds a client gets to send its headers, and between parts of its body.
    pub http_read_timeout_seconds: u64,
    /// `serve`: client connections open at once.
    pub max_connections: usize,
    /// OpenClaw state roots `serve` imports on its schedule (comma-separated; empty = off).
    pub import_openclaw_roots: Vec<String>,
    /// Claude Code config roots `serve` imports on its schedule (comma-separated; empty = off).
    pub import_claude_code_roots: Vec<String>,
    /// A main-session turn whose user prompt contains this (case-insensitive) is a heartbeat.
    pub import_heartbeat_pattern: String,
    /// Seconds between `serve`'s scheduled imports.
    pub import_interval_seconds: u64,
    /// The `query-api` Lambda: the function `POST /admin/collect` invokes (name or ARN);
    /// `None` runs the collection in-process.
    pub collector_function: Option<String>,
    /// The `query-api` Lambda: the function `POST /admin/sync-cv` invokes.
    pub cv_sync_function: Option<String>,
    /// `serve`: shortest time between two budget checks caused by writes.
    pub budget_debounce_seconds: u64,
    /// `serve`: seconds between scheduled budget checks.
    pub budget_check_interval_seconds: u64,
}

/// A configuration value that cannot be used; names the variable, never echoes a secret.
#[derive(thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// The same text as `Display`: `main` returning this error prints it with `Debug`.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl Config {
    /// Reads `.env` when present, then the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let secret = |name: &str| var(name).map(Secret::new);
        let or = |name: &str, default: &str| var(name).unwrap_or_else(|| default.to_string());
        fn number<T: std::str::FromStr>(
            variable: &'static str,
            value: Option<String>,
            default: T,
        ) -> Result<T, ConfigError> {
            match value {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| ConfigError {
                    variable,
                    message: format!("`{v}` is not a valid number"),
                }),
            }
        }
        let tz_name = or("REPORT_TIMEZONE", "UTC");
        let report_timezone = tz_name.parse().map_err(|_| ConfigError {
            variable: "REPORT_TIMEZONE",
            message: format!("`{tz_name}` is not an IANA time zone (e.g. America/Chicago)"),
        })?;
        whole_hour_offsets(report_timezone).map_err(|message| ConfigError {
            variable: "REPORT_TIMEZONE",
            message,
        })?;
        let dashboard_public = match var("DASHBOARD_PUBLIC").as_deref() {
            None | Some("false") | Some("0") | Some("no") => false,
            Some("true") | Some("1") | Some("yes") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: "DASHBOARD_PUBLIC",
                    message: format!("`{other}` is not true or false"),
                })
            }
        };
        Ok(Config {
            database_url: Secret::new(or("DATABASE_URL", "sqlite://cost-tracker.db")),
            api_key: secret("API_KEY"),
            host: or("HOST", "127.0.0.1"),
            port: number("PORT", var("PORT"), 3000)?,
            report_timezone,
            default_project: or("DEFAULT_PROJECT", "General"),
            anthropic_admin_key: secret("ANTHROPIC_ADMIN_KEY"),
            anthropic_base_url: or("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
            openai_admin_key: secret("OPENAI_ADMIN_KEY"),
            openai_base_url: or("OPENAI_BASE_URL", "https://api.openai.com"),
            collection_interval_hours: number(
                "COLLECTION_INTERVAL_HOURS",
                var("COLLECTION_INTERVAL_HOURS"),
                6,
            )?,
            collection_backfill_days: number(
                "COLLECTION_BACKFILL_DAYS",
                var("COLLECTION_BACKFILL_DAYS"),
                30,
            )?,
            collection_lookback_hours: number(
                "COLLECTION_LOOKBACK_HOURS",
                var("COLLECTION_LOOKBACK_HOURS"),
                48,
            )?,
            context_vault_url: var("CONTEXT_VAULT_URL"),
            context_vault_api_key: secret("CONTEXT_VAULT_API_KEY"),
            context_vault_workspace: or("CONTEXT_VAULT_WORKSPACE", "openclaw_default"),
            context_vault_path: or("CONTEXT_VAULT_PATH", "/memories"),
            dashboard_public,
            cors_origins: list(var("CORS_ORIGINS")),
            max_body_bytes: number("MAX_BODY_BYTES", var("MAX_BODY_BYTES"), 10 * 1024 * 1024)?,
            http_read_timeout_seconds: positive(
                "HTTP_READ_TIMEOUT_SECONDS",
                number(
                    "HTTP_READ_TIMEOUT_SECONDS",
                    var("HTTP_READ_TIMEOUT_SECONDS"),
                    10,
                )?,
            )?,
            max_connections: positive(
                "MAX_CONNECTIONS",
                number("MAX_CONNECTIONS", var("MAX_CONNECTIONS"), 1024)?,
            )?,
            import_openclaw_roots: list(var("IMPORT_OPENCLAW_ROOTS")),
            import_claude_code_roots: list(var("IMPORT_CLAUDE_CODE_ROOTS")),
            import_heartbeat_pattern: or("IMPORT_HEARTBEAT_PATTERN", "HEARTBEAT"),
            import_interval_seconds: number(
                "IMPORT_INTERVAL_SECONDS",
                var("IMPORT_INTERVAL_SECONDS"),
                60,
            )?,
            collector_function: var("COLLECTOR_FUNCTION"),
            cv_sync_function: var("CV_SYNC_FUNCTION"),
            budget_debounce_seconds: number(
                "BUDGET_DEBOUNCE_SECONDS",
                var("BUDGET_DEBOUNCE_SECONDS"),
                60,
            )?,
            budget_check_interval_seconds: positive(
                "BUDGET_CHECK_INTERVAL_SECONDS",
                number(
                    "BUDGET_CHECK_INTERVAL_SECONDS",
                    var("BUDGET_CHECK_INTERVAL_SECONDS"),
                    300,
                )?,
            )?,
        })
    }
}

/// A limit of 0 would refuse everything.
fn positive<T: Default + PartialEq>(variable: &'static str, value: T) -> Result<T, ConfigError> {
    if value == T::default() {
        return Err(ConfigError {
            variable,
            message: "must be at least 1".into(),
        });
    }
    Ok(value)
}

/// A comma-separated list, blanks dropped.
fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|item| item.trim().to_string())
                .filter(|item| !item.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Reports sum whole UTC hours, so the zone's offset must be whole hours (checked now and in six months).
fn whole_hour_offsets(tz: chrono_tz::Tz) -> Result<(), String> {
    use chrono::{Offset, TimeZone};
    let now = chrono::Utc::now();
    for at in [now, now + chrono::Duration::days(182)] {
        let seconds = tz
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc();
        if seconds % 3600 != 0 {
            return Err(format!("{} has a UTC offset that is not a whole number of hours; reports are kept per UTC hour", tz.name()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let config = load(&[]).unwrap();
        assert_eq!(config.database_url.expose(), "sqlite://cost-tracker.db");
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 3000));
        assert_eq!(config.report_timezone, chrono_tz::UTC);
        assert_eq!(config.default_project, "General");
        assert_eq!(config.collection_lookback_hours, 48);
        assert!(!config.dashboard_public);
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = load(&[
            ("API_KEY", "sk-very-secret"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("sk-very-secret"));
        assert!(!printed.contains("pw@h"));
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(load(&[("PORT", "http")]).unwrap_err().variable, "PORT");
        assert_eq!(
            load(&[("REPORT_TIMEZONE", "Mars/Base")])
                .unwrap_err()
                .variable,
            "REPORT_TIMEZONE"
        );
        let kolkata = load(&[("REPORT_TIMEZONE", "Asia/Kolkata")]).unwrap_err();
        assert_eq!(kolkata.variable, "REPORT_TIMEZONE");
        assert!(kolkata.message.contains("whole number of hours"));
        let zero = load(&[("MAX_CONNECTIONS", "0")]).unwrap_err();
        assert_eq!(zero.variable, "MAX_CONNECTIONS");
        assert_eq!(
            load(&[("HTTP_READ_TIMEOUT_SECONDS", "0")])
                .unwrap_err()
                .variable,
            "HTTP_READ_TIMEOUT_SECONDS"
        );
    }
}
