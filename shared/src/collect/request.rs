//! What a run covers: the request every entry point builds from its fields, the
//! range of a normal run (from the watermark) and the chunks a range is fetched in.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};

use super::{Provider, RequestError, Trigger};

/// One call of [`Collector::collect_once`](super::Collector::collect_once): which
/// providers, and an explicit range (both ends) or the normal watermark-based range (neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectRequest {
    /// `None` = every configured provider.
    pub provider: Option<Provider>,
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub trigger: Trigger,
}

/// Longest explicit range one request may ask for.
pub const MAX_MANUAL_DAYS: i64 = 400;

impl CollectRequest {
    /// The normal run: every configured provider, from its watermark.
    pub fn scheduled(trigger: Trigger) -> Self {
        CollectRequest {
            provider: None,
            range: None,
            trigger,
        }
    }

    /// Builds a request from the textual fields every entry point accepts:
    /// `provider` (`anthropic`/`openai`), `start` and `end` (RFC 3339 or
    /// `YYYY-MM-DD` = that UTC midnight). `start` alone runs to now.
    pub fn from_fields(
        provider: Option<&str>,
        start: Option<&str>,
        end: Option<&str>,
        trigger: Trigger,
        now: DateTime<Utc>,
    ) -> Result<Self, RequestError> {
        let provider = provider
            .map(|text| {
                Provider::parse(text).ok_or_else(|| {
                    RequestError::new("provider", format!("`{text}` is not anthropic or openai"))
                })
            })
            .transpose()?;
        let start = start.map(|s| parse_instant("start", s)).transpose()?;
        let end = end.map(|s| parse_instant("end", s)).transpose()?;
        let range = match (start, end) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(RequestError::new("start", "is required when end is given"))
            }
            (Some(start), end) => {
                if start >= now {
                    return Err(RequestError::new("start", "is not in the past"));
                }
                let end = end.unwrap_or(now);
                if end <= start {
                    return Err(RequestError::new("end", "must be after start"));
                }
                if end - start > Duration::days(MAX_MANUAL_DAYS) {
                    return Err(RequestError::new(
                        "end",
                        format!("the range may span at most {MAX_MANUAL_DAYS} days"),
                    ));
                }
                Some((start, end.min(now)))
            }
        };
        Ok(CollectRequest {
            provider,
            range,
            trigger,
        })
    }
}

/// RFC 3339, or a `YYYY-MM-DD` date meaning that UTC midnight.
fn parse_instant(field: &'static str, text: &str) -> Result<DateTime<Utc>, RequestError> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(RequestError::new(
        field,
        format!("`{text}` is not an RFC 3339 time or a YYYY-MM-DD date"),
    ))
}

/// The start of the UTC hour holding `at`.
pub fn floor_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// The range of a normal run: from the watermark minus the lookback (first run:
/// the backfill), whole hours, to now.
pub(super) fn normal_range(
    watermark: Option<DateTime<Utc>>,
    lookback: Duration,
    backfill: Duration,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = match watermark {
        Some(mark) => mark - lookback,
        None => now - backfill,
    };
    (floor_hour(start.min(now)), now)
}

/// `[start, end)` cut into consecutive windows of `size` (the last one shorter), each
/// fetched and committed as one unit.
pub(super) fn chunks(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    size: Duration,
) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> {
    let mut next = start;
    std::iter::from_fn(move || {
        let chunk_start = next;
        (chunk_start < end).then(|| {
            next = (chunk_start + size).min(end);
            (chunk_start, next)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn requests_parse_dates_and_check_ranges() {
        let now = at("2026-11-22T10:30:00Z");
        let request = CollectRequest::from_fields(
            Some("OpenAI"),
            Some("2026-11-01"),
            Some("2026-11-02T06:00:00Z"),
            Trigger::Api,
            now,
        )
        .unwrap();
        assert_eq!(request.provider, Some(Provider::Openai));
        assert_eq!(
            request.range,
            Some((at("2026-11-01T00:00:00Z"), at("2026-11-02T06:00:00Z")))
        );
        let open_ended =
            CollectRequest::from_fields(None, Some("2026-11-20"), None, Trigger::Cli, now).unwrap();
        assert_eq!(open_ended.range.unwrap().1, now);
        let err = |p, s, e| {
            CollectRequest::from_fields(p, s, e, Trigger::Api, now)
                .unwrap_err()
                .field
        };
        assert_eq!(err(Some("azure"), None, None), "provider");
        assert_eq!(err(None, None, Some("2026-11-02")), "start");
        assert_eq!(err(None, Some("yesterday"), None), "start");
        assert_eq!(err(None, Some("2026-11-02"), Some("2026-11-01")), "end");
        assert_eq!(err(None, Some("2026-12-01"), None), "start");
        assert_eq!(err(None, Some("2024-01-01"), None), "end");
    }

    #[test]
    fn a_normal_run_starts_a_lookback_before_the_watermark_on_the_hour() {
        let now = at("2026-11-22T10:30:00Z");
        let (hours, days) = (Duration::hours(2), Duration::days(30));
        assert_eq!(
            normal_range(Some(at("2026-11-22T09:15:00Z")), hours, days, now),
            (at("2026-11-22T07:00:00Z"), now)
        );
        assert_eq!(
            normal_range(None, hours, days, now),
            (at("2026-10-23T10:00:00Z"), now)
        );
        // A watermark ahead of the clock starts at the current hour.
        assert_eq!(
            normal_range(Some(at("2026-11-23T00:00:00Z")), hours, days, now),
            (at("2026-11-22T10:00:00Z"), now)
        );
    }

    #[test]
    fn chunks_cover_the_range_once_the_last_one_shorter() {
        let (start, end) = (at("2026-11-01T00:00:00Z"), at("2026-11-16T05:00:00Z"));
        let all: Vec<_> = chunks(start, end, Duration::days(7)).collect();
        assert_eq!(
            all,
            [
                (start, at("2026-11-08T00:00:00Z")),
                (at("2026-11-08T00:00:00Z"), at("2026-11-15T00:00:00Z")),
                (at("2026-11-15T00:00:00Z"), end),
            ]
        );
        assert_eq!(chunks(end, end, Duration::days(7)).count(), 0);
    }
}
