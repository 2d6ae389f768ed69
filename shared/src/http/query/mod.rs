//! Query strings: one `deny_unknown_fields` struct per endpoint, read by the
//! [`Query`] and [`Filtered`] extractors. A parameter the struct does not list, or one
//! given twice, is a 400 that names it; the struct's `IntoParams` is what the OpenAPI
//! document shows, so the document and the parser cannot disagree.

use axum::extract::FromRequestParts;
use chrono::Utc;
use chrono_tz::Tz;
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema};

use super::{ApiError, AppState};
use crate::domain::pricing::PriceCatalog;
use crate::domain::timeframe::{resolve_range, Granularity, ResolvedRange, TimeParam};
use crate::domain::usage::{SessionType, Source};
use crate::reports::NO_AGENT;
use crate::store::{Basis, Dimension, Filters};

/// The dimensions a range can be split by (`stack_by`), in the order the document lists them.
pub const STACK_DIMENSIONS: [Dimension; 6] = [
    Dimension::Model,
    Dimension::Project,
    Dimension::SessionType,
    Dimension::Agent,
    Dimension::Provider,
    Dimension::Source,
];

/// A query struct `T` and `format`, parsed strictly from the request's query string.
pub struct Export<T>(pub T, pub Format);

/// A query struct `T`, `format`, the record filters and `basis` (in the filters),
/// parsed strictly from one query string: what every cost report takes.
pub struct Report<T>(pub T, pub Format, pub Filters);

/// A query struct `T`, `format` and the record filters: the raw record listing.
pub struct Records<T>(pub T, pub Format, pub Filters);

impl<S: Send + Sync, T: DeserializeOwned + IntoParams> FromRequestParts<S> for Export<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let [own, output] = groups(parts.uri.query(), [names::<T>(), names::<FormatQuery>()])?;
        let output: FormatQuery = deserialize(&output)?;
        Ok(Export(deserialize(&own)?, output.format()?))
    }
}

impl<T: DeserializeOwned + IntoParams> FromRequestParts<AppState> for Report<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let names = [
            names::<T>(),
            names::<FormatQuery>(),
            names::<FilterQuery>(),
            names::<BasisQuery>(),
        ];
        let [own, output, filters, basis] = groups(parts.uri.query(), names)?;
        let output: FormatQuery = deserialize(&output)?;
        let filters: FilterQuery = deserialize(&filters)?;
        let basis: BasisQuery = deserialize(&basis)?;
        let catalog = state.ledger.prices().await?;
        let mut filters = filters.filters(&catalog)?;
        filters.basis = basis.basis()?;
        Ok(Report(deserialize(&own)?, output.format()?, filters))
    }
}

impl<T: DeserializeOwned + IntoParams> FromRequestParts<AppState> for Records<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let names = [names::<T>(), names::<FormatQuery>(), names::<FilterQuery>()];
        let [own, output, filters] = groups(parts.uri.query(), names)?;
        let output: FormatQuery = deserialize(&output)?;
        let filters: FilterQuery = deserialize(&filters)?;
        let catalog = state.ledger.prices().await?;
        Ok(Records(
            deserialize(&own)?,
            output.format()?,
            filters.filters(&catalog)?,
        ))
    }
}

/// `basis`, which every cost report takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BasisQuery {
    /// What the figures add up: `reconciled` (default: in every hour a collection
    /// covered, the provider's bill is the total and the agents' records explain it),
    /// `raw` (every record at its own cost), `billed` (pulled records only) or
    /// `attributed` (pushed and imported records only, at their own cost)
    #[param(value_type = Option<Basis>, inline)]
    pub basis: Option<String>,
}

impl BasisQuery {
    pub fn basis(&self) -> Result<Basis, ApiError> {
        match trimmed(&self.basis) {
            None => Ok(Basis::default()),
            Some(text) => Basis::parse(text).ok_or_else(|| {
                ApiError::field(
                    "basis",
                    format!("must be one of {}", one_of(&Basis::ALL, Basis::as_str)),
                )
            }),
        }
    }
}

/// The checked pairs of a raw query string, split among groups of parameter names.
fn groups<const N: usize>(
    raw: Option<&str>,
    names: [Vec<String>; N],
) -> Result<[Vec<(String, String)>; N], ApiError> {
    let accepted: Vec<String> = names.iter().flatten().cloned().collect();
    let mut groups: [Vec<(String, String)>; N] = std::array::from_fn(|_| Vec::new());
    for (name, value) in pairs(raw, &accepted)? {
        if let Some(group) = names.iter().position(|group| group.contains(&name)) {
            groups[group].push((name, value));
        }
    }
    Ok(groups)
}

/// The names of `T`'s parameters, in document order.
fn names<T: IntoParams>() -> Vec<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// The decoded pairs of a raw query string, checked against the accepted names;
/// empty values are dropped (an empty value is no value).
fn pairs(raw: Option<&str>, accepted: &[String]) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key.contains('\0') || value.contains('\0') {
            let name = key.replace('\0', "\\u0000");
            return Err(ApiError::field(&name, crate::ingest::NUL_MESSAGE));
        }
        if !accepted.iter().any(|name| *name == key) {
            return Err(ApiError::field(
                &key,
                format!("unknown parameter (accepted: {})", accepted.join(", ")),
            ));
        }
        if seen.iter().any(|(name, _)| *name == key) {
            return Err(ApiError::field(
                &key,
                "given more than once (each parameter takes one value)",
            ));
        }
        seen.push((key.into_owned(), value.into_owned()));
    }
    seen.retain(|(_, value)| !value.trim().is_empty());
    Ok(seen)
}

/// `T` from checked pairs, through `serde_urlencoded` (what axum's own `Query` uses).
fn deserialize<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    serde_urlencoded::from_str(&encoded).map_err(|err| ApiError::BadRequest {
        message: format!("query: {err}"),
        details: Vec::new(),
    })
}

/// A value's text, when there is one (the extractor has dropped empty ones).
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref()
}

/// A value's text without surrounding spaces.
fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim)
}

/// The equality filters every report takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// Only this provider (anthropic, openai, moonshot …)
    pub provider: Option<String>,
    /// Only this model (an alias or dated id filters its canonical model)
    pub model: Option<String>,
    /// Only this project
    pub project: Option<String>,
    /// Only this agent; `(none)` for records without one
    pub agent: Option<String>,
    /// Only this session type
    #[param(value_type = Option<SessionTypeName>, inline)]
    pub session_type: Option<String>,
    /// Only records from this source
    #[param(value_type = Option<SourceName>, inline)]
    pub source: Option<String>,
}

impl FilterQuery {
    /// The filters, validated where the values are a closed set; a model is
    /// filtered by its canonical id, so an alias or dated id filters the same.
    pub fn filters(&self, catalog: &PriceCatalog) -> Result<Filters, ApiError> {
        if trimmed(&self.session_type).is_some_and(|t| SessionType::parse(t).is_none()) {
            return Err(ApiError::field(
                "session_type",
                format!(
                    "must be one of {}",
                    one_of(SessionType::ALL, SessionType::as_str)
                ),
            ));
        }
        if trimmed(&self.source).is_some_and(|s| Source::parse(s).is_none()) {
            return Err(ApiError::field(
                "source",
                format!("must be one of {}", one_of(Source::ALL, Source::as_str)),
            ));
        }
        let owned = |value: &Option<String>| trimmed(value).map(str::to_string);
        Ok(Filters {
            basis: Basis::default(),
            provider: owned(&self.provider),
            model: owned(&self.model)
                .map(|m| catalog.resolve(&m).map_or(m, |entry| entry.id.clone())),
            project: owned(&self.project),
            agent: owned(&self.agent).map(|a| if a == NO_AGENT { String::new() } else { a }),
            session_type: owned(&self.session_type),
            source: owned(&self.source),
        })
    }
}

/// `format`, which every report takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `csv`: a text/csv attachment with a header row and exact decimals; default json
    #[param(value_type = Option<FormatName>, inline)]
    pub format: Option<String>,
}

impl FormatQuery {
    /// `format=json|csv` (default JSON, either in any case).
    pub fn format(&self) -> Result<Format, ApiError> {
        match trimmed(&self.format) {
            None => Ok(Format::Json),
            Some(f) if f.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(f) if f.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(_) => Err(ApiError::field("format", "must be json or csv")),
        }
    }
}

/// `GET /costs/daily`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day, YYYY-MM-DD in the report zone
    pub date: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
}

/// `GET /costs/range`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (YYYY-MM-DD, inclusive, in the report zone) or an RFC 3339 instant;
    /// default: 30 days before `end`
    pub start: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive) or an RFC 3339 instant (exclusive); default: today
    pub end: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
    /// Bucket size (default day)
    #[param(value_type = Option<GranularityName>, inline)]
    pub group_by: Option<String>,
    /// Split each bucket by this dimension (`stack` on each bucket, `stack_totals` for
    /// the range); parts sum exactly to the bucket
    #[param(value_type = Option<StackByName>, inline)]
    pub stack_by: Option<String>,
}

/// `GET /costs/summary/*`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
}

/// `GET /costs/by-*`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// First day (YYYY-MM-DD, inclusive, in the report zone) or an RFC 3339 instant;
    /// default: 30 days before `end`
    pub start: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive) or an RFC 3339 instant (exclusive); default: today
    pub end: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
}

/// `GET /costs/reconciliation`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// First day (YYYY-MM-DD, inclusive, in the report zone) or an RFC 3339 instant;
    /// default: 30 days before `end`
    pub start: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive) or an RFC 3339 instant (exclusive); default: today
    pub end: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
    /// Bucket size (default day)
    #[param(value_type = Option<GranularityName>, inline)]
    pub group_by: Option<String>,
}

/// `GET /costs/daily-summary`.
pub type DailySummaryQuery = DayQuery;

/// `GET /costs/bill-check`: whole UTC days (bills are cut in UTC).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BillCheckQuery {
    /// First UTC day (YYYY-MM-DD, inclusive); default: 30 days before `end`
    pub start: Option<String>,
    /// Last UTC day (YYYY-MM-DD, inclusive); default: yesterday
    pub end: Option<String>,
}

/// `GET /api/usage`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageListQuery {
    /// Like `start`: the first day, or an RFC 3339 instant
    pub start_date: Option<String>,
    /// Like `end`: the last day, or an RFC 3339 instant
    pub end_date: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
    /// Records per page (default 100); not with format=csv, which exports every
    /// matching record
    #[param(value_type = Option<isize>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Records to skip (default 0); not with format=csv
    #[param(value_type = Option<isize>, minimum = 0, maximum = 9223372036854775807_i64)]
    pub offset: Option<String>,
}

/// `GET /api/usage/summary`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageSummaryQuery {
    /// Like `start`: the first day, or an RFC 3339 instant
    pub start_date: Option<String>,
    /// Like `end`: the last day, or an RFC 3339 instant
    pub end_date: Option<String>,
    /// IANA time zone with whole-hour offsets; default REPORT_TIMEZONE
    pub tz: Option<String>,
    /// Bucket size (default day)
    #[param(value_type = Option<GranularityName>, inline)]
    pub group_by: Option<String>,
}

/// The representation a client asked for with `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// The report zone: `tz`, else `REPORT_TIMEZONE`.
pub fn tz(value: &Option<String>, state: &AppState) -> Result<Tz, ApiError> {
    match text(value) {
        Some(name) => Ok(parse_tz(name)?),
        None => Ok(state.config.report_timezone),
    }
}

/// `group_by` (default day).
pub fn granularity(value: &Option<String>) -> Result<Granularity, ApiError> {
    Ok(values::parse_granularity(
        "group_by",
        text(value).unwrap_or("day"),
    )?)
}

/// A day of `date`, when given.
pub fn day(value: &Option<String>) -> Result<Option<TimeParam>, ApiError> {
    Ok(parse_optional_time("date", text(value))?)
}

/// `stack_by`, when given.
pub fn stack_by(value: &Option<String>) -> Result<Option<Dimension>, ApiError> {
    let Some(value) = trimmed(value) else {
        return Ok(None);
    };
    STACK_DIMENSIONS
        .iter()
        .find(|d| d.column() == value)
        .copied()
        .map(Some)
        .ok_or_else(|| {
            ApiError::field(
                "stack_by",
                format!(
                    "must be one of {}",
                    one_of(&STACK_DIMENSIONS, Dimension::column)
                ),
            )
        })
}

/// A bounded integer parameter (`default` when absent).
pub fn int(
    name: &str,
    value: &Option<String>,
    default: i64,
    (min, max): (i64, i64),
) -> Result<i64, ApiError> {
    match trimmed(value) {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::field(
                name,
                format!("must be an integer from {min} to {max}"),
            )),
        },
    }
}

/// A range from two named parameters (default: the last `default_days` days in `tz`).
pub fn range(
    (start_name, start): (&str, &Option<String>),
    (end_name, end): (&str, &Option<String>),
    tz: Tz,
    default_days: u32,
) -> Result<ResolvedRange, ApiError> {
    let start = parse_optional_time(start_name, text(start))?;
    let end = parse_optional_time(end_name, text(end))?;
    resolve_range(start, end, tz, Utc::now(), default_days).map_err(|mut err| {
        // The time module names the ends `start`/`end`; report the names the client used.
        if err.param == "start" {
            err.param = start_name.to_string();
        } else if err.param == "end" {
            err.param = end_name.to_string();
        }
        err.into()
    })
}

/// A range of whole UTC days, `start` and `end` inclusive (`YYYY-MM-DD`); default the
/// 30 days up to yesterday. Returns `[first, end)`, `end` exclusive.
pub fn utc_days(
    start: &Option<String>,
    end: &Option<String>,
    now: chrono::DateTime<Utc>,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    crate::bill_check::day_range(text(start), text(end), now.date_naive())
        .map_err(|(field, message)| ApiError::field(field, message))
}

/// A closed set of names, documented as a string enum.
fn string_enum<'a>(names: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .into()
}

/// The documented values of `format`.
pub struct FormatName;
/// The documented values of `group_by`.
pub struct GranularityName;
/// The documented values of `stack_by`.
pub struct StackByName;
/// The documented values of `session_type`.
pub struct SessionTypeName;
/// The documented values of `source`.
pub struct SourceName;

impl PartialSchema for FormatName {
    fn schema() -> RefOr<Schema> {
        string_enum(["json", "csv"])
    }
}

impl PartialSchema for GranularityName {
    fn schema() -> RefOr<Schema> {
        string_enum(Granularity::ALL.iter().map(|g| g.as_str()))
    }
}

impl PartialSchema for StackByName {
    fn schema() -> RefOr<Schema> {
        string_enum(STACK_DIMENSIONS.iter().map(|d| d.column()))
    }
}

impl PartialSchema for SessionTypeName {
    fn schema() -> RefOr<Schema> {
        string_enum(SessionType::ALL.iter().map(|t| t.as_str()))
    }
}

impl PartialSchema for SourceName {
    fn schema() -> RefOr<Schema> {
        string_enum(Source::ALL.iter().map(|s| s.as_str()))
    }
}

/// `names` as the list an error message gives.
fn one_of<T: Copy>(values: &[T], name: impl Fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|&v| name(v))
        .collect::<Vec<_>>()
        .join(", ")
}

mod values;

pub use values::{parse_optional_time, parse_time, parse_tz};

#[cfg(test)]
mod tests;
