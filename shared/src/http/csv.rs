//! `format=csv`: RFC 4180 text (CRLF line ends, fields quoted only when
//! they hold a comma, a quote or a line break) with a header row and exact decimal
//! costs, sent as an attachment with a file name that says what and which range.
//! Reports are small and written at once; the raw-record export of `GET /api/usage`
//! streams one page of records at a time, so its memory does not grow with its length.

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::HeaderValue;

use crate::cv::DailySummary;
use crate::domain::usage::UsageRecord;
use crate::reconciliation::{Figures, Reconciliation};
use crate::reports::{Breakdown, BreakdownItem, Counts, DailyReport, RangeReport, SummaryReport};
use crate::store::{DynStore, UsageQuery};

/// Records fetched (and written) per page of a streamed export.
pub const EXPORT_PAGE: i64 = 500;

/// Columns of the token and request counts that follow every cost.
const COUNT_COLUMNS: [&str; 9] = [
    "requests",
    "unpriced_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "web_search_requests",
];

/// Columns of the raw-record export, in the order of [`record_row`].
const RECORD_COLUMNS: [&str; 32] = [
    "id",
    "event_id",
    "source",
    "recorded_at",
    "bucket_seconds",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "web_search_requests",
    "requests",
    "service_tier",
    "context_window",
    "inference_geo",
    "session_label",
    "session_type",
    "session_id",
    "agent",
    "project",
    "project_source",
    "api_key_name",
    "workspace_name",
    "cost_usd",
    "cost_source",
    "computed_cost_usd",
    "price_ref",
    "unpriced",
    "model_key",
    "metadata",
];

/// CSV text being written.
pub struct Csv(String);

impl Csv {
    /// A document starting with its header row.
    pub fn new<S: AsRef<str>>(header: impl IntoIterator<Item = S>) -> Csv {
        let mut csv = Csv(String::new());
        csv.row(header);
        csv
    }

    /// Appends one row.
    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            push_field(&mut self.0, field.as_ref());
        }
        self.0.push_str("\r\n");
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// `ai-costs-by-model-2026-11-01_2026-11-30.csv`: the parts joined by `-`, the range by
/// `_`, anything but letters, digits, `.`, `_` and `-` (the `:` of an instant) as `-`.
pub fn file_name(parts: &[&str], start: &str, end: &str) -> String {
    let range = if start == end {
        start.to_string()
    } else {
        format!("{start}_{end}")
    };
    let name = format!("{}-{range}.csv", parts.join("-"));
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The response header that names the basis of a cost CSV (the JSON says it in `basis`).
pub const BASIS_HEADER: &str = "x-cost-basis";

/// A cost report's CSV attachment: `X-Cost-Basis` names its basis, and a basis other
/// than the default `reconciled` is part of the file name
/// (`ai-costs-by-model-raw-2026-11-01_2026-11-30.csv`), so two exports never share one.
fn report_attachment(parts: &[&str], header: &crate::reports::Header, body: String) -> Response {
    let basis = header.basis.as_str();
    let mut parts = parts.to_vec();
    if header.basis != crate::store::Basis::Reconciled {
        parts.push(basis);
    }
    let name = file_name(&parts, &header.start, &header.end);
    let mut response = attachment(&name, Body::from(body));
    response.headers_mut().insert(
        http::HeaderName::from_static(BASIS_HEADER),
        HeaderValue::from_static(basis),
    );
    response
}

/// A `text/csv` attachment.
pub fn attachment(file_name: &str, body: Body) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn counts(c: &Counts) -> [String; 9] {
    [
        c.requests,
        c.unpriced_requests,
        c.input_tokens,
        c.output_tokens,
        c.cache_read_tokens,
        c.cache_write_tokens,
        c.cache_write_5m_tokens,
        c.cache_write_1h_tokens,
        c.web_search_requests,
    ]
    .map(|n| n.to_string())
}

/// `key, cost_usd, share, counts…` of one breakdown line, after `lead` fields.
fn item_row(csv: &mut Csv, lead: &[&str], item: &BreakdownItem) {
    let mut row: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
    row.extend([
        item.key.clone(),
        item.cost_usd.to_string(),
        item.share.to_string(),
    ]);
    row.extend(counts(&item.counts));
    csv.row(row);
}

/// Header `lead…, key_column, cost_usd, share, counts…`.
fn item_header(lead: &[&str], key_column: &str) -> Csv {
    let mut header: Vec<&str> = lead.to_vec();
    header.extend([key_column, "cost_usd", "share"]);
    header.extend(COUNT_COLUMNS);
    Csv::new(header)
}

/// `GET /costs/reconciliation?format=csv`: one row per bucket (provider and model
/// empty), then one per provider and model of it; the range's totals last (period
/// `total`).
pub fn reconciliation(report: &Reconciliation) -> Response {
    let mut csv = Csv::new([
        "period",
        "start",
        "end",
        "provider",
        "model",
        "billed_usd",
        "attributed_usd",
        "explained_usd",
        "unattributed_usd",
        "over_attributed_usd",
        "unbilled_attributed_usd",
        "coverage",
    ]);
    let row = |csv: &mut Csv, lead: [String; 5], f: &Figures| {
        let mut row = lead.to_vec();
        row.extend(
            [
                f.billed_usd,
                f.attributed_usd,
                f.explained_usd,
                f.unattributed_usd,
                f.over_attributed_usd,
                f.unbilled_attributed_usd,
            ]
            .map(|d| d.to_string()),
        );
        row.push(f.coverage.map(|c| c.to_string()).unwrap_or_default());
        csv.row(row);
    };
    for bucket in &report.buckets {
        let (period, start, end) = (
            bucket.period.to_string(),
            bucket.start.to_rfc3339(),
            bucket.end.to_rfc3339(),
        );
        let lead = [
            period.clone(),
            start.clone(),
            end.clone(),
            String::new(),
            String::new(),
        ];
        row(&mut csv, lead, &bucket.figures);
        for line in &bucket.models {
            let lead = [
                period.clone(),
                start.clone(),
                end.clone(),
                line.provider.clone(),
                line.model.clone(),
            ];
            row(&mut csv, lead, &line.figures);
        }
    }
    let lead = [
        "total".to_string(),
        report.start.clone(),
        report.end.clone(),
        String::new(),
        String::new(),
    ];
    row(&mut csv, lead, &report.totals);
    let name = file_name(&["ai-costs-reconciliation"], &report.start, &report.end);
    attachment(&name, Body::from(csv.into_string()))
}

/// `GET /costs/by-*?format=csv`: one row per key.
pub fn breakdown(report: &Breakdown) -> Response {
    let mut csv = item_header(&[], report.dimension);
    for item in &report.breakdown {
        item_row(&mut csv, &[], item);
    }
    let dim = report.dimension.replace('_', "-");
    report_attachment(&["ai-costs-by", &dim], &report.header, csv.into_string())
}

/// `GET /costs/range?format=csv` (and `/api/usage/summary`): one row per bucket, or with
/// `stack_by` one row per bucket and key (a bucket with no cost keeps one row, key empty).
pub fn range(report: &RangeReport, what: &str) -> Response {
    let mut csv = match report.stack_by {
        Some(dim) => item_header(&["period", "start", "end"], dim),
        None => {
            let mut header = vec!["period", "start", "end", "cost_usd"];
            header.extend(COUNT_COLUMNS);
            Csv::new(header)
        }
    };
    for bucket in &report.buckets {
        let (period, start, end) = (
            bucket.period.to_string(),
            bucket
                .start
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            bucket
                .end
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let lead = [period.as_str(), start.as_str(), end.as_str()];
        match &bucket.stack {
            Some(stack) if !stack.is_empty() => {
                for item in stack {
                    item_row(&mut csv, &lead, item);
                }
            }
            stack => {
                let mut row: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
                if stack.is_some() {
                    row.extend([String::new(), bucket.cost_usd.to_string(), "0".into()]);
                } else {
                    row.push(bucket.cost_usd.to_string());
                }
                row.extend(counts(&bucket.counts));
                csv.row(row);
            }
        }
    }
    let mut parts = vec![what, report.group_by];
    let by;
    if let Some(dim) = report.stack_by {
        by = format!("by-{}", dim.replace('_', "-"));
        parts.push(&by);
    }
    report_attachment(&parts, &report.header, csv.into_string())
}

/// The three breakdowns of a day or period in long form: `dimension, key, cost_usd, share, counts…`.
fn breakdowns(
    by_model: &[BreakdownItem],
    by_project: &[BreakdownItem],
    by_session_type: &[BreakdownItem],
) -> Csv {
    let mut csv = item_header(&["dimension"], "key");
    for (dimension, items) in [
        ("model", by_model),
        ("project", by_project),
        ("session_type", by_session_type),
    ] {
        for item in items {
            item_row(&mut csv, &[dimension], item);
        }
    }
    csv
}

/// `GET /costs/daily?format=csv`: the day by model, project and session type.
pub fn daily(report: &DailyReport) -> Response {
    let csv = breakdowns(
        &report.by_model,
        &report.by_project,
        &report.by_session_type,
    );
    report_attachment(&["ai-costs-daily"], &report.header, csv.into_string())
}

/// `GET /costs/summary/*?format=csv`: breakdowns, then one `day` row per day (share of the period).
pub fn summary(report: &SummaryReport, which: &str) -> Response {
    let mut csv = breakdowns(
        &report.by_model,
        &report.by_project,
        &report.by_session_type,
    );
    for day in &report.daily {
        let share = if report.header.total_cost_usd.is_zero() {
            rust_decimal::Decimal::ZERO
        } else {
            (day.cost_usd / report.header.total_cost_usd)
                .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .normalize()
        };
        let mut row = vec![
            "day".to_string(),
            day.period.to_string(),
            day.cost_usd.to_string(),
            share.to_string(),
        ];
        row.extend(counts(&day.counts));
        csv.row(row);
    }
    report_attachment(&["ai-costs", which], &report.header, csv.into_string())
}

/// `GET /costs/daily-summary?format=csv`: the Context Vault summary, one row per figure (cents).
pub fn daily_summary(summary: &DailySummary) -> Response {
    let mut csv = Csv::new(["date", "dimension", "key", "cost_usd"]);
    let date = summary.date.to_string();
    csv.row([
        date.as_str(),
        "total",
        "",
        summary.total_cost.to_string().as_str(),
    ]);
    for (dimension, map) in [
        ("model_family", &summary.by_model),
        ("project", &summary.by_project),
        ("session_type", &summary.by_session_type),
    ] {
        for (key, cost) in &map.0 {
            csv.row([
                date.as_str(),
                dimension,
                key.as_str(),
                cost.to_string().as_str(),
            ]);
        }
    }
    let name = file_name(&["ai-costs-daily-summary"], &date, &date);
    attachment(&name, Body::from(csv.into_string()))
}

/// `GET /costs/bill-check?format=csv`: one row per provider day, model and token kind.
pub fn bill_check(report: &crate::bill_check::BillCheck) -> Response {
    let mut csv = Csv::new([
        "date",
        "provider",
        "model",
        "token_kind",
        "billed_usd",
        "computed_usd",
        "difference_usd",
        "percent",
        "price_mismatch",
    ]);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    for day in &report.days {
        let date = day.date.to_string();
        for model in &day.models {
            for kind in &model.token_kinds {
                let f = &kind.figures;
                csv.row([
                    date.as_str(),
                    day.provider.as_str(),
                    text(&model.model).as_str(),
                    text(&kind.token_kind).as_str(),
                    f.billed_usd.to_string().as_str(),
                    f.computed_usd.to_string().as_str(),
                    f.difference_usd.to_string().as_str(),
                    f.percent
                        .map(|p| p.to_string())
                        .unwrap_or_default()
                        .as_str(),
                    if model.price_mismatch && kind.differs {
                        "true"
                    } else {
                        "false"
                    },
                ]);
            }
        }
    }
    let (start, end) = (report.start.to_string(), report.end.to_string());
    let name = file_name(&["ai-costs-bill-check"], &start, &end);
    attachment(&name, Body::from(csv.into_string()))
}

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// One raw record, exact: costs with all their decimals, instants in RFC 3339 UTC.
fn record_row(csv: &mut Csv, r: &UsageRecord) {
    let t = &r.facts.tokens;
    csv.row([
        r.id.to_string(),
        r.facts.external_id.clone(),
        r.facts.source.as_str().to_string(),
        r.facts
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        r.facts.bucket_seconds.to_string(),
        r.provider.clone(),
        r.facts.model.clone(),
        t.input.to_string(),
        t.output.to_string(),
        t.cache_read.to_string(),
        t.cache_write_5m.to_string(),
        t.cache_write_1h.to_string(),
        t.web_search_requests.to_string(),
        t.requests.to_string(),
        opt(&r.facts.service_tier),
        opt(&r.facts.context_window),
        opt(&r.facts.inference_geo),
        opt(&r.facts.session_label),
        r.session_type.as_str().to_string(),
        opt(&r.facts.session_id),
        opt(&r.agent),
        r.project.clone(),
        r.project_source.as_str().to_string(),
        opt(&r.facts.api_key_name),
        opt(&r.facts.workspace_name),
        r.cost.usd().to_string(),
        r.cost_source.as_str().to_string(),
        r.computed_cost
            .map(|c| c.usd().to_string())
            .unwrap_or_default(),
        opt(&r.price_ref),
        r.unpriced.to_string(),
        r.model_key.clone(),
        r.facts
            .raw
            .get("metadata")
            .map(|m| m.to_string())
            .unwrap_or_default(),
    ]);
}

/// Where a streamed export stands.
struct Export {
    store: DynStore,
    query: UsageQuery,
    /// The page to write next, already fetched.
    page: Vec<UsageRecord>,
    header: bool,
    done: bool,
}

/// The records of `query`, newest first, as a CSV stream: the header, then `first` (the
/// first page, fetched before the response so that a failing database is a clean 500),
/// then one page per chunk. A failure midway ends the body early (the client sees a
/// truncated transfer, not a short file that looks complete) and is logged.
pub fn records(
    store: DynStore,
    query: UsageQuery,
    first: Vec<UsageRecord>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let state = Export {
        store,
        query,
        page: first,
        header: true,
        done: false,
    };
    stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let mut csv = if state.header {
            state.header = false;
            Csv::new(RECORD_COLUMNS)
        } else {
            Csv(String::new())
        };
        let page = std::mem::take(&mut state.page);
        for record in &page {
            record_row(&mut csv, record);
        }
        state.done = true;
        if let (true, Some(last)) = (page.len() as i64 >= state.query.limit, page.last()) {
            let cursor = (last.facts.recorded_at, last.id);
            match state.store.usage_page(&state.query, Some(cursor)).await {
                Ok(next) => {
                    state.done = next.is_empty();
                    state.page = next;
                }
                Err(err) => {
                    tracing::error!(error = %err, "CSV export failed midway; the body is cut short");
                    return Some((Err(std::io::Error::other("export failed")), state));
                }
            }
        }
        Some((Ok(Bytes::from(csv.into_string())), state))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quoting() {
        let mut csv = Csv::new(["a", "b"]);
        csv.row(["plain", "has,comma"]);
        csv.row(["say \"hi\"", "two\nlines"]);
        assert_eq!(
            csv.into_string(),
            "a,b\r\nplain,\"has,comma\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn file_names_say_what_and_when() {
        assert_eq!(
            file_name(&["ai-costs-by", "model"], "2026-11-01", "2026-11-30"),
            "ai-costs-by-model-2026-11-01_2026-11-30.csv"
        );
        assert_eq!(
            file_name(&["ai-costs-daily"], "2026-11-20", "2026-11-20"),
            "ai-costs-daily-2026-11-20.csv"
        );
        assert_eq!(
            file_name(&["ai-usage"], "2026-11-01T05:00:00Z", "2026-11-02"),
            "ai-usage-2026-11-01T05-00-00Z_2026-11-02.csv"
        );
    }
}
