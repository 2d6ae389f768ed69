//! The providers' daily cost reports, pulled with the usage of each collected chunk:
//! Anthropic `GET /v1/organizations/cost_report` grouped by `workspace_id` and
//! `description` (amounts are decimal strings in cents, provider-apis.md §1.3) and
//! OpenAI `GET /v1/organization/costs` grouped by `line_item` and `project_id`
//! (amounts are JSON numbers in dollars, §2.5). Amounts are read from their decimal
//! text, never through a float.
//!
//! Which days a chunk pulls: the whole UTC days of the run's range that end inside the
//! chunk, so consecutive chunks pull each day once and a partly collected first day
//! (of a backfill) is left out. The cost report serves completed days only; a chunk
//! never asks past its own end, which is at most now.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::paging::Pager;
use super::response::{read, BucketTime, Endpoint, Field, Rfc3339, UnixSeconds};
use super::{CollectError, Provider, ProviderClient};
use crate::domain::money::Pico;
use crate::domain::pricing::TokenKind;
use crate::store::BilledLine;

pub(crate) const ANTHROPIC_COSTS: &str = "GET /v1/organizations/cost_report";
const ANTHROPIC_COSTS_PATH: &str = "/v1/organizations/cost_report";
pub(crate) const OPENAI_COSTS: &str = "GET /v1/organization/costs";
const OPENAI_COSTS_PATH: &str = "/v1/organization/costs";

/// Daily buckets per page asked for (the documented maximum of the Anthropic report).
const DAYS_PER_PAGE: &str = "31";

/// The UTC midnight starting `day`.
pub(crate) fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// The days `[first, end)` whose bill the chunk `[chunk_start, chunk_end)` of a run
/// starting at `run_start` pulls; `None` when no whole day of the run ends in it.
pub(crate) fn bill_days(
    run_start: DateTime<Utc>,
    (chunk_start, chunk_end): (DateTime<Utc>, DateTime<Utc>),
) -> Option<(NaiveDate, NaiveDate)> {
    let first_whole = {
        let day = run_start.date_naive();
        if midnight(day) == run_start {
            day
        } else {
            day.succ_opt()?
        }
    };
    let first = first_whole.max(chunk_start.date_naive());
    let end = chunk_end.date_naive();
    (first < end).then_some((first, end))
}

/// One provider's cost report: where it is and how a row reads.
struct CostReport {
    endpoint: &'static str,
    path: &'static str,
    group_by: (&'static str, [&'static str; 2]),
}

const ANTHROPIC: CostReport = CostReport {
    endpoint: ANTHROPIC_COSTS,
    path: ANTHROPIC_COSTS_PATH,
    group_by: ("group_by[]", ["workspace_id", "description"]),
};

const OPENAI: CostReport = CostReport {
    endpoint: OPENAI_COSTS,
    path: OPENAI_COSTS_PATH,
    group_by: ("group_by", ["line_item", "project_id"]),
};

/// Every bill line of the days `[first, end)`, all pages.
pub(crate) async fn fetch_bill(
    client: &ProviderClient,
    (first, end): (NaiveDate, NaiveDate),
) -> Result<Vec<BilledLine>, CollectError> {
    match client.provider() {
        Provider::Anthropic => {
            fetch::<Rfc3339>(client, &ANTHROPIC, (first, end), anthropic_line).await
        }
        Provider::Openai => fetch::<UnixSeconds>(client, &OPENAI, (first, end), openai_line).await,
    }
}

type ReadLine = fn(Endpoint, NaiveDate, &RawValue) -> Result<Option<BilledLine>, CollectError>;

async fn fetch<T: BucketTime>(
    client: &ProviderClient,
    report: &CostReport,
    (first, end): (NaiveDate, NaiveDate),
    line: ReadLine,
) -> Result<Vec<BilledLine>, CollectError> {
    let [start_key, end_key] = T::KEYS;
    let mut base: Vec<(String, String)> = vec![
        (start_key.into(), T::query(midnight(first))),
        (end_key.into(), T::query(midnight(end))),
        ("bucket_width".into(), "1d".into()),
        ("limit".into(), DAYS_PER_PAGE.into()),
    ];
    let (key, dimensions) = report.group_by;
    base.extend(dimensions.iter().map(|d| (key.to_string(), d.to_string())));
    let at = Endpoint::new(client.provider(), report.endpoint);
    let mut pager = Pager::new(client.provider(), report.endpoint);
    let mut lines = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut query = base.clone();
        if let Some(page) = &page {
            query.push(("page".into(), page.clone()));
        }
        let body = client.get_raw(report.endpoint, report.path, &query).await?;
        page = take_page::<T>(at, &body, &mut pager, (first, end), line, &mut lines)?;
        if page.is_none() {
            return Ok(lines);
        }
    }
}

/// The members of a JSON object, each as sent; `None` when it is not an object.
fn members(raw: &RawValue) -> Option<BTreeMap<String, &RawValue>> {
    serde_json::from_str(raw.get()).ok()
}

/// The items of a JSON list, each as sent; `None` when it is not a list.
fn items(raw: &RawValue) -> Option<Vec<&RawValue>> {
    serde_json::from_str(raw.get()).ok()
}

fn value(raw: Option<&&RawValue>) -> Value {
    raw.and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or(Value::Null)
}

/// A decimal from its text: a JSON number token as written, or a string holding one.
fn decimal(raw: &RawValue) -> Option<Decimal> {
    let text = match serde_json::from_str::<String>(raw.get()) {
        Ok(text) => text,
        Err(_) => raw.get().to_string(),
    };
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// Adds the lines of one page to `lines`; the cursor of the next page, if any.
fn take_page<T: BucketTime>(
    at: Endpoint,
    body: &RawValue,
    pager: &mut Pager,
    (first, end): (NaiveDate, NaiveDate),
    line: ReadLine,
    lines: &mut Vec<BilledLine>,
) -> Result<Option<String>, CollectError> {
    let page = members(body).ok_or_else(|| at.malformed("the response is not an object"))?;
    let buckets = page
        .get("data")
        .and_then(|data| items(data))
        .ok_or_else(|| at.malformed("`data` is not a list"))?;
    for bucket in buckets {
        let bucket = members(bucket).ok_or_else(|| at.malformed("a bucket is not an object"))?;
        let bound = |key: &str| {
            serde_json::from_value::<T>(value(bucket.get(key)))
                .ok()
                .and_then(|t| t.instant())
                .ok_or_else(|| at.malformed(format!("bucket `{key}` is not {}", T::FORMAT)))
        };
        let (start, stop) = (bound(T::KEYS[0])?, bound(T::KEYS[1])?);
        if stop - start != Duration::days(1) || midnight(start.date_naive()) != start {
            return Err(at.malformed(format!("bucket {start} is not one UTC day")));
        }
        let day = start.date_naive();
        if day < first || day >= end {
            continue;
        }
        let results = bucket
            .get("results")
            .and_then(|results| items(results))
            .ok_or_else(|| at.malformed("bucket `results` is not a list"))?;
        for result in results {
            if let Some(line) = line(at, day, result)? {
                lines.push(line);
            }
        }
    }
    let has_more = value(page.get("has_more")) == Value::Bool(true);
    if !has_more {
        return Ok(None);
    }
    match value(page.get("next_page")) {
        Value::String(cursor) => pager.next(cursor).map(Some),
        _ => Err(at.malformed("`has_more` is true but `next_page` is missing")),
    }
}

/// An Anthropic cost row (§1.3).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnthropicRow {
    currency: Field<String>,
    cost_type: Field<String>,
    description: Field<String>,
    model: Field<String>,
    token_type: Field<String>,
    service_tier: Field<String>,
    context_window: Field<String>,
    inference_geo: Field<String>,
    workspace_id: Field<String>,
}

/// The kind of an Anthropic line: its `token_type` for token costs, else its `cost_type`.
fn anthropic_kind(cost_type: Option<&str>, token_type: Option<&str>) -> Option<String> {
    let kind = match token_type {
        Some("uncached_input_tokens") => Some(TokenKind::Input),
        Some("output_tokens") => Some(TokenKind::Output),
        Some("cache_read_input_tokens") => Some(TokenKind::CacheRead),
        Some("cache_creation.ephemeral_5m_input_tokens") => Some(TokenKind::CacheWrite5m),
        Some("cache_creation.ephemeral_1h_input_tokens") => Some(TokenKind::CacheWrite1h),
        _ => None,
    };
    match (kind, cost_type) {
        (Some(kind), _) => Some(kind.as_str().to_string()),
        (None, Some("web_search")) => Some(TokenKind::WebSearch.as_str().to_string()),
        (None, Some("tokens")) | (None, None) => token_type.map(str::to_string),
        (None, Some(other)) => Some(other.to_string()),
    }
}

fn anthropic_line(
    at: Endpoint,
    day: NaiveDate,
    result: &RawValue,
) -> Result<Option<BilledLine>, CollectError> {
    let raw: Value = serde_json::from_str(result.get()).unwrap_or(Value::Null);
    let row: AnthropicRow = read(raw.clone());
    let fields = members(result).unwrap_or_default();
    let cents = fields
        .get("amount")
        .and_then(|amount| decimal(amount))
        .ok_or_else(|| at.malformed("`amount` is not a decimal string"))?;
    let currency = at.text(&row.currency, "currency")?;
    if currency
        .as_deref()
        .is_some_and(|c| !c.eq_ignore_ascii_case("usd"))
    {
        return Err(at.malformed(format!("`currency` {currency:?} is not USD")));
    }
    let amount = Pico::from_usd(cents / Decimal::ONE_HUNDRED)
        .ok_or_else(|| at.malformed("`amount` is out of range"))?;
    let text = |field: &Field<String>, key: &str| at.text(field, key);
    let cost_type = text(&row.cost_type, "cost_type")?;
    let token_type = text(&row.token_type, "token_type")?;
    let description = text(&row.description, "description")?;
    let model = text(&row.model, "model")?;
    let key = [
        description.clone(),
        cost_type.clone(),
        token_type.clone(),
        model.clone(),
        text(&row.service_tier, "service_tier")?,
        text(&row.context_window, "context_window")?,
        text(&row.inference_geo, "inference_geo")?,
    ]
    .map(|part| part.unwrap_or_else(|| "-".into()))
    .join("|");
    Ok(Some(BilledLine {
        provider: Provider::Anthropic.as_str().into(),
        day,
        workspace: text(&row.workspace_id, "workspace_id")?,
        line: key,
        token_kind: anthropic_kind(cost_type.as_deref(), token_type.as_deref()),
        model,
        description,
        amount,
        raw,
    }))
}

/// An OpenAI cost row (§2.5); `amount` is read from its text.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenaiRow {
    line_item: Field<String>,
    project_id: Field<String>,
}

/// The model and token kind an OpenAI `line_item` names, as far as it can be read.
/// Its real format is not documented: `"<model>, <kind>"` (`gpt-4o-2024-08-06, cached
/// input`) and bare kinds (`input_tokens`) are read; anything else names neither.
pub(crate) fn parse_line_item(text: &str) -> (Option<String>, Option<TokenKind>) {
    let kind_of = |kind: &str| match kind.trim().to_ascii_lowercase().as_str() {
        "input" | "input tokens" | "input_tokens" | "uncached input" => Some(TokenKind::Input),
        "cached input" | "cached input tokens" | "input_cached_tokens" | "cached_input_tokens" => {
            Some(TokenKind::CacheRead)
        }
        "cache write" | "input_cache_write_tokens" => Some(TokenKind::CacheWrite5m),
        "output" | "output tokens" | "output_tokens" => Some(TokenKind::Output),
        _ => None,
    };
    let model_of = |model: &str| {
        let model = model.trim();
        (!model.is_empty() && !model.contains(char::is_whitespace)).then(|| model.to_string())
    };
    match text.rsplit_once(',') {
        Some((model, kind)) => match kind_of(kind) {
            Some(kind) => (model_of(model), Some(kind)),
            None => (None, None),
        },
        None => match kind_of(text) {
            Some(kind) => (None, Some(kind)),
            None => (model_of(text), None),
        },
    }
}

fn openai_line(
    at: Endpoint,
    day: NaiveDate,
    result: &RawValue,
) -> Result<Option<BilledLine>, CollectError> {
    let raw: Value = serde_json::from_str(result.get()).unwrap_or(Value::Null);
    let row: OpenaiRow = read(raw.clone());
    let fields = members(result).unwrap_or_default();
    let amount = fields.get("amount").and_then(|amount| members(amount));
    let dollars = amount
        .as_ref()
        .and_then(|amount| amount.get("value"))
        .and_then(|value| decimal(value))
        .ok_or_else(|| at.malformed("`amount.value` is not a number"))?;
    if let Some(Value::String(currency)) = amount.as_ref().map(|a| value(a.get("currency"))) {
        if !currency.eq_ignore_ascii_case("usd") {
            return Err(at.malformed(format!("`amount.currency` {currency:?} is not usd")));
        }
    }
    let amount =
        Pico::from_usd(dollars).ok_or_else(|| at.malformed("`amount.value` is out of range"))?;
    let line_item = at.text(&row.line_item, "line_item")?;
    let (model, kind) = line_item
        .as_deref()
        .map(parse_line_item)
        .unwrap_or((None, None));
    Ok(Some(BilledLine {
        provider: Provider::Openai.as_str().into(),
        day,
        workspace: at.text(&row.project_id, "project_id")?,
        line: line_item.clone().unwrap_or_else(|| "-".into()),
        model,
        token_kind: kind.map(|k| k.as_str().to_string()),
        description: line_item,
        amount,
        raw,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn each_whole_day_of_a_run_is_pulled_by_the_chunk_it_ends_in() {
        let run = at("2026-10-21T12:00:00Z");
        let chunks = [
            (run, at("2026-10-28T12:00:00Z")),
            (at("2026-10-28T12:00:00Z"), at("2026-11-04T12:00:00Z")),
            (at("2026-11-04T12:00:00Z"), at("2026-11-05T10:34:00Z")),
        ];
        let days: Vec<_> = chunks.iter().map(|c| bill_days(run, *c)).collect();
        assert_eq!(
            days,
            [
                Some((day("2026-10-22"), day("2026-10-28"))),
                Some((day("2026-10-28"), day("2026-11-04"))),
                Some((day("2026-11-04"), day("2026-11-05"))),
            ]
        );
        // A run from midnight pulls its first day; an hour's run pulls nothing.
        let midnight_run = at("2026-11-01T00:00:00Z");
        assert_eq!(
            bill_days(midnight_run, (midnight_run, at("2026-11-02T00:00:00Z"))),
            Some((day("2026-11-01"), day("2026-11-02")))
        );
        let hour = at("2026-11-02T05:00:00Z");
        assert_eq!(bill_days(hour, (hour, at("2026-11-02T06:00:00Z"))), None);
    }

    #[test]
    fn line_items_name_a_model_and_kind_where_they_can() {
        let parsed = |text| parse_line_item(text);
        assert_eq!(
            parsed("gpt-4o-2024-08-06, cached input"),
            (Some("gpt-4o-2024-08-06".into()), Some(TokenKind::CacheRead))
        );
        assert_eq!(
            parsed("o3, output"),
            (Some("o3".into()), Some(TokenKind::Output))
        );
        assert_eq!(parsed("input_tokens"), (None, Some(TokenKind::Input)));
        assert_eq!(parsed("gpt-4o"), (Some("gpt-4o".into()), None));
        assert_eq!(parsed("GPT-4o mini"), (None, None));
        assert_eq!(parsed("Fine-tuning, training hours"), (None, None));
    }

    #[test]
    fn amounts_are_read_from_their_text() {
        let raw = |text: &str| RawValue::from_string(text.to_string()).unwrap();
        assert_eq!(
            decimal(&raw("\"123.78912\"")),
            Some(Decimal::from_str("123.78912").unwrap())
        );
        // More digits than a float keeps.
        assert_eq!(
            decimal(&raw("0.12345678901234567891")),
            Some(Decimal::from_str("0.12345678901234567891").unwrap())
        );
        assert_eq!(
            decimal(&raw("1e-3")),
            Some(Decimal::from_str("0.001").unwrap())
        );
        assert_eq!(decimal(&raw("true")), None);

        let anthropic = raw(
            r#"{"amount":"123.45","currency":"USD","cost_type":"tokens","description":"Claude Sonnet 4 Usage - Input Tokens","model":"claude-sonnet-4-20250514","token_type":"cache_creation.ephemeral_5m_input_tokens","service_tier":"standard","context_window":"0-200k","inference_geo":"global","workspace_id":null}"#,
        );
        let at_a = Endpoint::new(Provider::Anthropic, ANTHROPIC_COSTS);
        let line = anthropic_line(at_a, day("2026-11-01"), &anthropic)
            .unwrap()
            .unwrap();
        assert_eq!(
            line.amount,
            Pico::from_usd(Decimal::from_str("1.2345").unwrap()).unwrap()
        );
        assert_eq!(line.token_kind.as_deref(), Some("cache_write_5m"));
        assert_eq!(line.workspace, None);
        let search = raw(
            r#"{"amount":"5","currency":"USD","cost_type":"web_search","model":null,"token_type":null}"#,
        );
        let line = anthropic_line(at_a, day("2026-11-01"), &search)
            .unwrap()
            .unwrap();
        assert_eq!(line.token_kind.as_deref(), Some("web_search"));
        let bad = raw(r#"{"amount":"lots","currency":"USD"}"#);
        assert!(anthropic_line(at_a, day("2026-11-01"), &bad).is_err());

        let openai = raw(
            r#"{"object":"organization.costs.result","amount":{"value":0.0612345678901,"currency":"usd"},"line_item":"gpt-4o-2024-08-06, input","project_id":"proj_1"}"#,
        );
        let at_o = Endpoint::new(Provider::Openai, OPENAI_COSTS);
        let line = openai_line(at_o, day("2026-11-01"), &openai)
            .unwrap()
            .unwrap();
        assert_eq!(line.amount, Pico(61_234_567_890));
        assert_eq!(line.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(line.token_kind.as_deref(), Some("input"));
        let euros = raw(r#"{"amount":{"value":1,"currency":"eur"},"line_item":"x"}"#);
        assert!(openai_line(at_o, day("2026-11-01"), &euros).is_err());
    }
}
