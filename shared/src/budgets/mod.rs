//! Budgets and alerts (issue 17): a budget watches the spend of one period (a local
//! day, ISO week or month in `REPORT_TIMEZONE`) of everything or of one dimension
//! value, on the reconciled basis, and alerts its channels (a Slack-compatible
//! webhook, Context Vault) when the spend passes a threshold or, with `forecast`,
//! when the period's projection passes the amount.
//!
//! - [`Budget`] and its parts, and [`parse_budget`]: the API's body, checked field by
//!   field (a bad body stores nothing);
//! - [`check`]: figures of a budget now, which alerts are due, and the one check run
//!   every entry point calls ([`Checker::check`]);
//! - [`deliver`]: sending an alert to its channels, with retries;
//! - [`watch`]: the debounced check after writes, and the schedule of `serve`.

pub mod check;
pub mod deliver;
pub mod watch;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Secret;
use crate::domain::timeframe::{days_range, today, ResolvedRange};
use crate::ingest::FieldError;
use crate::store::Dimension;

pub use check::{BudgetStatus, CheckReport, Checker, Figures};
pub use watch::BudgetWatch;

/// Thresholds when a budget names none: 50, 80 and 100 % of the amount.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];
/// Longest budget name.
pub const MAX_NAME_CHARS: usize = 100;
/// Most thresholds and channels one budget has.
pub const MAX_THRESHOLDS: usize = 10;
pub const MAX_CHANNELS: usize = 5;
/// Largest amount a budget can have, in USD.
pub const MAX_AMOUNT_USD: i64 = 1_000_000_000;

/// The period a budget covers, cut in the report zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetPeriod)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    Month,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    /// The first and last local dates of the period that holds `date`.
    pub fn dates(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Period::Day => (date, date),
            Period::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                let monday = date - Days::new(back);
                (monday, monday + Days::new(6))
            }
            Period::Month => {
                let first = date.with_day(1).expect("every month has a first day");
                let next = first + Months::new(1);
                (first, next - Days::new(1))
            }
        }
    }

    /// The period that holds `now`, as a range of whole local days in `tz`.
    pub fn current(self, tz: Tz, now: DateTime<Utc>) -> ResolvedRange {
        let (first, last) = self.dates(today(tz, now));
        days_range(first, last, tz)
    }
}

/// Which records a budget counts: everything, or one value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetScope {
    pub dimension: Dimension,
    pub value: String,
}

/// The dimensions a budget can be scoped to.
pub const SCOPE_DIMENSIONS: [Dimension; 5] = [
    Dimension::Project,
    Dimension::Agent,
    Dimension::Model,
    Dimension::Provider,
    Dimension::SessionType,
];

/// Where a budget's alerts go.
#[derive(Clone, PartialEq, Eq)]
pub enum Channel {
    /// POSTs `{"text": …}` and the figures (Slack, Discord-compatible, N8N, …). The URL
    /// carries the hook's secret: it is never logged, shown, or put in an error.
    Webhook { url: Secret },
    /// A memory with `memory_type: ai_cost_alert` in the configured vault.
    ContextVault,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Channel::Webhook { url } => f
                .debug_struct("Webhook")
                .field("url", &redact_url(url.expose()))
                .finish(),
            Channel::ContextVault => f.write_str("ContextVault"),
        }
    }
}

impl Channel {
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Webhook { .. } => "webhook",
            Channel::ContextVault => "context_vault",
        }
    }

    /// How the channel is stored: with its URL.
    pub(crate) fn stored(&self) -> Value {
        match self {
            Channel::Webhook { url } => {
                serde_json::json!({"type": "webhook", "url": url.expose()})
            }
            Channel::ContextVault => serde_json::json!({"type": "context_vault"}),
        }
    }

    /// A channel as stored (see [`Channel::stored`]).
    pub(crate) fn from_stored(value: &Value) -> Option<Channel> {
        match value.get("type")?.as_str()? {
            "webhook" => Some(Channel::Webhook {
                url: Secret::new(value.get("url")?.as_str()?),
            }),
            "context_vault" => Some(Channel::ContextVault),
            _ => None,
        }
    }

    /// A short name for errors and logs: `webhook https://hooks.slack.com/…`.
    pub fn label(&self) -> String {
        match self {
            Channel::Webhook { url } => format!("webhook {}", redact_url(url.expose())),
            Channel::ContextVault => "context_vault".into(),
        }
    }
}

/// A URL without its secret parts: scheme, host and port, then `/…` when it had a
/// path, query or fragment. What cannot be parsed shows as `[redacted]`.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.host_str().is_some() => {
            let host = parsed.host_str().unwrap_or_default();
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let more =
                parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some();
            format!(
                "{}://{host}{port}{}",
                parsed.scheme(),
                if more { "/…" } else { "" }
            )
        }
        _ => "[redacted]".into(),
    }
}

/// A budget as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Store id; 0 before it is first saved.
    pub id: i64,
    pub name: String,
    /// `None`: every record.
    pub scope: Option<BudgetScope>,
    pub period: Period,
    /// USD, greater than zero.
    pub amount_usd: Decimal,
    /// Percents of the amount, ascending, each 1 to 1000.
    pub thresholds: Vec<u32>,
    /// Also alert when the period's projection passes the amount.
    pub forecast: bool,
    pub channels: Vec<Channel>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Budget {
    /// The budget as the API shows it (webhook URLs redacted).
    pub fn shown(&self) -> BudgetView {
        BudgetView {
            id: self.id,
            name: self.name.clone(),
            scope: self.scope.as_ref().map(ScopeView::of),
            period: self.period,
            amount_usd: self.amount_usd.normalize(),
            thresholds: self.thresholds.clone(),
            forecast: self.forecast,
            channels: self.channels.iter().map(ChannelView::of).collect(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// `project PeakPaws`, or `everything`.
    pub fn scope_label(&self) -> String {
        match &self.scope {
            Some(scope) => format!("{} {}", scope.dimension.column(), scope.value),
            None => "everything".into(),
        }
    }
}

/// A budget's scope as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetScope)]
pub struct ScopeView {
    /// `project`, `agent`, `model`, `provider` or `session_type`.
    pub dimension: &'static str,
    pub value: String,
}

impl ScopeView {
    fn of(scope: &BudgetScope) -> ScopeView {
        ScopeView {
            dimension: scope.dimension.column(),
            value: scope.value.clone(),
        }
    }
}

/// A channel as the API shows it: a webhook by its origin only (`https://hooks.slack.com/…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BudgetChannel)]
pub struct ChannelView {
    /// `webhook` or `context_vault`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ChannelView {
    fn of(channel: &Channel) -> ChannelView {
        ChannelView {
            kind: channel.kind(),
            url: match channel {
                Channel::Webhook { url } => Some(redact_url(url.expose())),
                Channel::ContextVault => None,
            },
        }
    }
}

/// A budget as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    pub id: i64,
    pub name: String,
    /// Null: every record.
    pub scope: Option<ScopeView>,
    pub period: Period,
    #[serde(serialize_with = "crate::domain::money::serialize_decimal")]
    #[schema(value_type = f64)]
    pub amount_usd: Decimal,
    /// Percents of the amount, ascending.
    pub thresholds: Vec<u32>,
    pub forecast: bool,
    pub channels: Vec<ChannelView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the body of `POST /admin/budgets` and `PUT /admin/budgets/{id}` may hold.
const FIELDS: [&str; 7] = [
    "name",
    "scope",
    "period",
    "amount_usd",
    "thresholds",
    "forecast",
    "channels",
];

fn error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        index: None,
        field: field.into(),
        message: message.into(),
    }
}

/// Whether a webhook may be sent to this host over plain HTTP: loopback only.
fn loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads a budget from the API's JSON body. Every problem is reported, each naming
/// its field (`amount_usd`, `channels[1].url` …); a webhook URL is never echoed.
/// `previous` is the budget a PUT replaces: a webhook given as its redacted form
/// (what `GET` shows) keeps the stored URL of the same position.
pub fn parse_budget(body: &Value, previous: Option<&Budget>) -> Result<Budget, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(vec![error("body", "must be a JSON object")]);
    };
    for key in object.keys() {
        if !FIELDS.contains(&key.as_str()) {
            errors.push(error(
                key.clone(),
                format!(
                    "is not a budget field (expected one of {})",
                    FIELDS.join(", ")
                ),
            ));
        }
    }
    let name = parse_name(object, &mut errors);
    let scope = parse_scope(object.get("scope"), &mut errors);
    let period = match object.get("period") {
        None | Some(Value::Null) => {
            errors.push(error("period", "is required: day, week or month"));
            None
        }
        Some(Value::String(text)) => Period::parse(text.trim()).or_else(|| {
            errors.push(error("period", "must be day, week or month"));
            None
        }),
        Some(_) => {
            errors.push(error("period", "must be day, week or month"));
            None
        }
    };
    let amount_usd = parse_amount(object.get("amount_usd"), &mut errors);
    let thresholds = parse_thresholds(object.get("thresholds"), &mut errors);
    let forecast = match object.get("forecast") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(on)) => *on,
        Some(_) => {
            errors.push(error("forecast", "must be true or false"));
            false
        }
    };
    let channels = parse_channels(object.get("channels"), previous, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let now = Utc::now();
    Ok(Budget {
        id: previous.map_or(0, |b| b.id),
        name: name.unwrap_or_default(),
        scope,
        period: period.unwrap_or(Period::Day),
        amount_usd: amount_usd.unwrap_or_default(),
        thresholds,
        forecast,
        channels,
        created_at: previous.map_or(now, |b| b.created_at),
        updated_at: now,
    })
}

fn text_field(
    value: Option<&Value>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match value {
        None | Some(Value::Null) => {
            errors.push(error(field, "is required"));
            None
        }
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.contains('\0') {
                errors.push(error(field, crate::ingest::NUL_MESSAGE));
                None
            } else if text.is_empty() || text.chars().count() > max {
                errors.push(error(field, format!("must be 1 to {max} characters")));
                None
            } else {
                Some(text.to_string())
            }
        }
        Some(_) => {
            errors.push(error(field, "must be a string"));
            None
        }
    }
}

fn parse_name(object: &Map<String, Value>, errors: &mut Vec<FieldError>) -> Option<String> {
    text_field(object.get("name"), "name", MAX_NAME_CHARS, errors)
}

fn parse_scope(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<BudgetScope> {
    let object = match value {
        None | Some(Value::Null) => return None,
        Some(Value::Object(object)) => object,
        Some(_) => {
            errors.push(error(
                "scope",
                "must be an object {\"dimension\": …, \"value\": …}, or omitted for everything",
            ));
            return None;
        }
    };
    for key in object.keys() {
        if key != "dimension" && key != "value" {
            errors.push(error(
                format!("scope.{key}"),
                "is not a scope field (dimension, value)",
            ));
        }
    }
    let names: Vec<&str> = SCOPE_DIMENSIONS.iter().map(|d| d.column()).collect();
    let dimension = match object.get("dimension").and_then(Value::as_str) {
        Some(text) => {
            let found = SCOPE_DIMENSIONS
                .into_iter()
                .find(|d| d.column() == text.trim());
            if found.is_none() {
                errors.push(error(
                    "scope.dimension",
                    format!("must be one of {}", names.join(", ")),
                ));
            }
            found
        }
        None => {
            errors.push(error(
                "scope.dimension",
                format!("is required: one of {}", names.join(", ")),
            ));
            None
        }
    };
    let value = text_field(object.get("value"), "scope.value", 200, errors);
    let (dimension, value) = (dimension?, value?);
    if dimension == Dimension::SessionType
        && crate::domain::usage::SessionType::parse(&value).is_none()
    {
        errors.push(error(
            "scope.value",
            "must be a session type: main, subagent, heartbeat, cron or unknown",
        ));
        return None;
    }
    Some(BudgetScope { dimension, value })
}

fn parse_amount(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Decimal> {
    let text = match value {
        None | Some(Value::Null) => {
            errors.push(error("amount_usd", "is required: a decimal number of USD"));
            return None;
        }
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) => number.to_string(),
        Some(_) => {
            errors.push(error(
                "amount_usd",
                "must be a decimal number of USD (\"10\", \"12.50\")",
            ));
            return None;
        }
    };
    let amount = text
        .parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text));
    match amount {
        Err(_) => {
            errors.push(error(
                "amount_usd",
                "must be a decimal number of USD (\"10\", \"12.50\")",
            ));
            None
        }
        Ok(amount) if amount <= Decimal::ZERO => {
            errors.push(error("amount_usd", "must be greater than zero"));
            None
        }
        Ok(amount) if amount > Decimal::from(MAX_AMOUNT_USD) => {
            errors.push(error(
                "amount_usd",
                format!("must be at most {MAX_AMOUNT_USD}"),
            ));
            None
        }
        Ok(amount) if amount.normalize().scale() > 6 => {
            errors.push(error("amount_usd", "has more than 6 decimal places"));
            None
        }
        Ok(amount) => Some(amount.normalize()),
    }
}

fn parse_thresholds(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Vec<u32> {
    let items = match value {
        None | Some(Value::Null) => return DEFAULT_THRESHOLDS.to_vec(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(error(
                "thresholds",
                "must be an array of percents (1 to 1000)",
            ));
            return Vec::new();
        }
    };
    if items.is_empty() || items.len() > MAX_THRESHOLDS {
        errors.push(error(
            "thresholds",
            format!("must hold 1 to {MAX_THRESHOLDS} percents"),
        ));
        return Vec::new();
    }
    let mut thresholds = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_u64() {
            Some(percent @ 1..=1000) => thresholds.push(percent as u32),
            _ => errors.push(error(
                format!("thresholds[{i}]"),
                "must be a whole percent from 1 to 1000",
            )),
        }
    }
    thresholds.sort_unstable();
    thresholds.dedup();
    thresholds
}

fn parse_channels(
    value: Option<&Value>,
    previous: Option<&Budget>,
    errors: &mut Vec<FieldError>,
) -> Vec<Channel> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(error("channels", "must be an array of channels"));
            return Vec::new();
        }
    };
    if items.len() > MAX_CHANNELS {
        errors.push(error(
            "channels",
            format!("must hold at most {MAX_CHANNELS} channels"),
        ));
        return Vec::new();
    }
    let mut channels = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("channels[{i}]");
        let Some(object) = item.as_object() else {
            errors.push(error(field, "must be an object with a type"));
            continue;
        };
        match object.get("type").and_then(Value::as_str) {
            Some("webhook") => {
                for key in object.keys() {
                    if key != "type" && key != "url" {
                        errors.push(error(
                            format!("{field}.{key}"),
                            "is not a webhook field (type, url)",
                        ));
                    }
                }
                let url = match object.get("url").and_then(Value::as_str) {
                    Some(url) => url.trim(),
                    None => {
                        errors.push(error(
                            format!("{field}.url"),
                            "is required: the webhook's https URL",
                        ));
                        continue;
                    }
                };
                // The redacted form `GET` shows keeps the URL stored at this position.
                let kept = previous
                    .and_then(|b| b.channels.get(i))
                    .filter(|c| matches!(c, Channel::Webhook { url: old } if redact_url(old.expose()) == url));
                if let Some(kept) = kept {
                    channels.push(kept.clone());
                    continue;
                }
                match check_webhook_url(url) {
                    Ok(()) => channels.push(Channel::Webhook {
                        url: Secret::new(url),
                    }),
                    Err(message) => errors.push(error(format!("{field}.url"), message)),
                }
            }
            Some("context_vault") => {
                for key in object.keys() {
                    if key != "type" {
                        errors.push(error(
                            format!("{field}.{key}"),
                            "is not a context_vault field (type)",
                        ));
                    }
                }
                channels.push(Channel::ContextVault);
            }
            _ => errors.push(error(
                format!("{field}.type"),
                "must be webhook or context_vault",
            )),
        }
    }
    channels
}

/// A webhook URL: absolute, https (or http to a loopback host), at most 2,000
/// characters. The message never contains the URL.
fn check_webhook_url(url: &str) -> Result<(), &'static str> {
    if url.len() > 2_000 {
        return Err("must be at most 2000 characters");
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "must be an absolute https URL")?;
    match parsed.scheme() {
        "https" if parsed.host_str().is_some() => Ok(()),
        "http" if loopback(&parsed) => Ok(()),
        "http" => Err("must be https (plain http only to a loopback host)"),
        _ => Err("must be an absolute https URL"),
    }
}

/// The budgets as a plain-text table: name, scope, period, spent, amount, percent,
/// projected, alerts this period.
pub fn render_table(statuses: &[BudgetStatus]) -> String {
    if statuses.is_empty() {
        return "no budgets (create one with POST /admin/budgets)\n".to_string();
    }
    let header = [
        "budget",
        "scope",
        "period",
        "spent",
        "amount",
        "percent",
        "projected",
        "alerts",
    ];
    let rows: Vec<[String; 8]> = statuses
        .iter()
        .map(|s| {
            let f = &s.figures;
            let period = if f.period_start == f.period_end {
                f.period_start.clone()
            } else {
                format!("{}..{}", f.period_start, f.period_end)
            };
            let alerts: Vec<String> = s
                .alerts
                .iter()
                .map(|a| match a.kind {
                    check::AlertKind::Threshold => {
                        format!("{}% {}", a.threshold, a.status.as_str())
                    }
                    check::AlertKind::Forecast => format!("forecast {}", a.status.as_str()),
                })
                .collect();
            let money = |d: Decimal| format!("${:.2}", d.round_dp(2));
            [
                s.budget.name.clone(),
                s.budget.scope.as_ref().map_or("everything".into(), |sc| {
                    format!("{}={}", sc.dimension, sc.value)
                }),
                format!("{} {period}", s.budget.period.as_str()),
                money(f.spent),
                money(f.amount),
                format!("{}%", f.percent),
                money(f.projected),
                if alerts.is_empty() {
                    "-".into()
                } else {
                    alerts.join(", ")
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(body: Value) -> Vec<String> {
        parse_budget(&body, None)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn periods_are_local_days_iso_weeks_and_months() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            Period::Week.dates(d("2026-12-03")),
            (d("2026-11-30"), d("2026-12-06"))
        );
        assert_eq!(
            Period::Week.dates(d("2026-11-30")),
            (d("2026-11-30"), d("2026-12-06"))
        );
        assert_eq!(
            Period::Month.dates(d("2026-02-14")),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            Period::Month.dates(d("2026-12-31")),
            (d("2026-12-01"), d("2026-12-31"))
        );
        let tz: Tz = "America/Chicago".parse().unwrap();
        let day = Period::Day.current(tz, "2026-12-03T03:00:00Z".parse().unwrap());
        assert_eq!(day.start_label, "2026-12-02");
        assert_eq!(
            day.start,
            "2026-12-02T06:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn a_budget_reads_with_defaults() {
        let budget = parse_budget(
            &json!({"name": " peakpaws-daily ", "scope": {"dimension": "project", "value": "PeakPaws"},
                    "period": "day", "amount_usd": "10.50",
                    "channels": [{"type": "webhook", "url": "https://hooks.slack.com/services/T0/B0/secret"}]}),
            None,
        )
        .unwrap();
        assert_eq!(budget.name, "peakpaws-daily");
        assert_eq!(budget.amount_usd, Decimal::new(105, 1));
        assert_eq!(budget.thresholds, vec![50, 80, 100]);
        assert!(!budget.forecast);
        let shown = serde_json::to_string(&budget.shown()).unwrap();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("https://hooks.slack.com/…"), "{shown}");
        assert!(!format!("{budget:?}").contains("secret"));
    }

    #[test]
    fn bad_fields_are_each_named() {
        assert_eq!(
            fields(json!({"name": "x", "period": "year", "amount_usd": "0",
                          "scope": {"dimension": "team", "value": "a"},
                          "thresholds": [0, 50, 1001], "channels": [{"type": "webhook", "url": "http://example.com/hook"}],
                          "colour": "red"})),
            vec![
                "colour",
                "scope.dimension",
                "period",
                "amount_usd",
                "thresholds[0]",
                "thresholds[2]",
                "channels[0].url"
            ]
        );
        assert_eq!(
            fields(json!({"name": "x", "period": "day", "amount_usd": "-3"})),
            vec!["amount_usd"]
        );
        assert_eq!(
            fields(json!({"period": "day", "amount_usd": 5})),
            vec!["name"]
        );
        assert_eq!(
            fields(json!({"name": "x", "period": "day", "amount_usd": 5, "thresholds": []})),
            vec!["thresholds"]
        );
        assert_eq!(
            fields(
                json!({"name": "x", "period": "day", "amount_usd": 5, "scope": {"dimension": "session_type", "value": "lunch"}})
            ),
            vec!["scope.value"]
        );
        let errors = parse_budget(
            &json!({"name": "x", "period": "day", "amount_usd": 5,
                    "channels": [{"type": "webhook", "url": "http://hooks.example.com/T0/very-secret"}]}),
            None,
        )
        .unwrap_err();
        assert!(!format!("{errors:?}").contains("very-secret"));
    }

    #[test]
    fn loopback_webhooks_may_be_plain_http() {
        for url in [
            "http://127.0.0.1:9/h",
            "http://localhost:8080/h",
            "http://[::1]/h",
            "https://example.com/h",
        ] {
            assert_eq!(check_webhook_url(url), Ok(()), "{url}");
        }
        for url in [
            "http://10.0.0.1/h",
            "ftp://example.com/h",
            "hooks.slack.com/x",
            "https://",
        ] {
            assert!(check_webhook_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn a_put_keeps_a_webhook_given_as_shown() {
        let first = parse_budget(
            &json!({"name": "b", "period": "day", "amount_usd": 5,
                    "channels": [{"type": "webhook", "url": "https://hooks.slack.com/services/T0/B0/secret"}]}),
            None,
        )
        .unwrap();
        let again = parse_budget(
            &json!({"name": "b", "period": "day", "amount_usd": 7,
                    "channels": [{"type": "webhook", "url": "https://hooks.slack.com/…"}]}),
            Some(&first),
        )
        .unwrap();
        assert_eq!(again.channels, first.channels);
        assert_eq!(again.amount_usd, Decimal::from(7));
    }
}
