//! Query-string parsing shared by the handlers: strict (an unknown parameter is a
//! 400 that names it), with time ranges, zones and filters resolved in one place.

use std::collections::HashMap;

use chrono::Utc;
use chrono_tz::Tz;

use super::openapi::QuerySpec;
use super::{ApiError, AppState};
use crate::domain::pricing::PriceCatalog;
use crate::domain::timeframe::{parse_tz, resolve_range, ResolvedRange};
use crate::domain::usage::{SessionType, Source};
use crate::reports::{Scope, NO_AGENT};
use crate::store::{Dimension, Filters};

/// The dimensions a range can be split by (`stack_by`).
pub const STACK_DIMENSIONS: &[Dimension] = &[
    Dimension::Model,
    Dimension::Project,
    Dimension::SessionType,
    Dimension::Agent,
    Dimension::Provider,
    Dimension::Source,
];

/// The representation a client asked for with `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Parsed query parameters.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses a raw query string (`+` and percent escapes decoded), rejecting
    /// parameters that `Q` (the endpoint's documented parameters) does not list and
    /// any parameter given more than once: each takes one value, and silently keeping
    /// one of two would answer a question the client did not ask.
    pub fn parse<Q: QuerySpec>(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut map = HashMap::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !Q::PARAMS.iter().any(|p| p.name == key) {
                let accepted: Vec<&str> = Q::PARAMS.iter().map(|p| p.name).collect();
                return Err(ApiError::field(
                    &key,
                    format!("unknown parameter (accepted: {})", accepted.join(", ")),
                ));
            }
            if map.contains_key(key.as_ref()) {
                return Err(ApiError::field(
                    &key,
                    "given more than once (each parameter takes one value)",
                ));
            }
            map.insert(key.into_owned(), value.into_owned());
        }
        Ok(Params(map))
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A bounded integer parameter.
    pub fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::field(
                    name,
                    format!("must be an integer from {min} to {max}"),
                )),
            },
        }
    }

    /// The report zone: `tz`, else `REPORT_TIMEZONE`.
    pub fn tz(&self, state: &AppState) -> Result<Tz, ApiError> {
        match self.get("tz") {
            Some(name) => Ok(parse_tz(name)?),
            None => Ok(state.config.report_timezone),
        }
    }

    /// The equality filters, validated where the values are a closed set.
    pub fn filters(&self, catalog: &PriceCatalog) -> Result<Filters, ApiError> {
        if let Some(t) = self.get("session_type") {
            if SessionType::parse(t).is_none() {
                return Err(ApiError::field(
                    "session_type",
                    "must be one of main, subagent, heartbeat, cron, other",
                ));
            }
        }
        if let Some(s) = self.get("source") {
            if Source::parse(s).is_none() {
                return Err(ApiError::field(
                    "source",
                    "must be one of push, anthropic, openai, import",
                ));
            }
        }
        let owned = |name: &str| self.get(name).map(|v| v.trim().to_string());
        Ok(Filters {
            provider: owned("provider"),
            // Reports group by the canonical id, so an alias or dated id filters the same.
            model: owned("model").map(|m| catalog.resolve(&m).map_or(m, |entry| entry.id.clone())),
            project: owned("project"),
            agent: owned("agent").map(|a| if a == NO_AGENT { String::new() } else { a }),
            session_type: owned("session_type"),
            source: owned("source"),
        })
    }

    /// A range from `start_name`/`end_name` (default: the last `default_days` days).
    pub fn range(
        &self,
        state: &AppState,
        start_name: &str,
        end_name: &str,
        default_days: u32,
    ) -> Result<ResolvedRange, ApiError> {
        let tz = self.tz(state)?;
        resolve_range(
            self.get(start_name),
            self.get(end_name),
            tz,
            Utc::now(),
            default_days,
        )
        .map_err(|mut err| {
            // The time module names the parameters `start`/`end`; report the names the client used.
            if err.param == "start" {
                err.param = start_name.to_string();
            } else if err.param == "end" {
                err.param = end_name.to_string();
            }
            err.into()
        })
    }

    /// `format=json|csv` (default JSON).
    pub fn format(&self) -> Result<Format, ApiError> {
        match self.get("format").map(str::trim) {
            None => Ok(Format::Json),
            Some(f) if f.eq_ignore_ascii_case("json") => Ok(Format::Json),
            Some(f) if f.eq_ignore_ascii_case("csv") => Ok(Format::Csv),
            Some(_) => Err(ApiError::field("format", "must be json or csv")),
        }
    }

    /// A dimension to split by (`stack_by`), when given.
    pub fn dimension(&self, name: &str) -> Result<Option<Dimension>, ApiError> {
        let Some(value) = self.get(name).map(str::trim) else {
            return Ok(None);
        };
        STACK_DIMENSIONS
            .iter()
            .find(|d| d.column() == value)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                let names: Vec<&str> = STACK_DIMENSIONS.iter().map(|d| d.column()).collect();
                ApiError::field(name, format!("must be one of {}", names.join(", ")))
            })
    }

    /// A cost-report scope from `start`/`end` and the filters.
    pub fn scope(&self, state: &AppState, default_days: u32) -> Result<Scope, ApiError> {
        Ok(Scope {
            range: self.range(state, "start", "end", default_days)?,
            filters: self.filters(state.ledger.catalog())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::openapi::{DailySummaryQuery, RangeQuery, SummaryQuery};

    #[test]
    fn decodes_percent_and_plus() {
        let params =
            Params::parse::<RangeQuery>(Some("tz=America%2FChicago&start=a+b%20c&end=100%"))
                .unwrap();
        assert_eq!(params.get("tz"), Some("America/Chicago"));
        assert_eq!(params.get("start"), Some("a b c"));
        assert_eq!(params.get("end"), Some("100%"));
        let params = Params::parse::<RangeQuery>(Some("tz=%zz&&group_by")).unwrap();
        assert_eq!(params.get("tz"), Some("%zz"));
        assert_eq!(params.get("group_by"), None, "an empty value is no value");
    }

    #[test]
    fn a_repeated_parameter_is_named() {
        let err = Params::parse::<RangeQuery>(Some("tz=UTC&group_by=day&tz=Europe%2FBerlin"))
            .unwrap_err();
        assert!(err.to_string().contains("tz"), "{err}");
        assert!(err.to_string().contains("more than once"), "{err}");
        let err = Params::parse::<RangeQuery>(Some("tz=UTC&t%7A=UTC")).unwrap_err();
        assert!(
            err.to_string().contains("more than once"),
            "decoded names compare: {err}"
        );
    }

    #[test]
    fn unknown_parameters_are_named() {
        let err = Params::parse::<RangeQuery>(Some("start=2026-01-01&grup_by=day")).unwrap_err();
        assert!(err.to_string().contains("grup_by"));
        assert!(err
            .to_string()
            .contains("accepted: start, end, tz, group_by"));
        assert!(Params::parse::<SummaryQuery>(Some("model=x&tz=UTC")).is_ok());
        assert!(Params::parse::<DailySummaryQuery>(Some("model=x")).is_err());
    }
}
