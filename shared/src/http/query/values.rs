//! Reading time-frame values from text: a day or an instant (`date`, `start`, `end`), a
//! time zone (`tz`) and a granularity (`group_by`). Errors name the parameter, say what is
//! accepted and quote the value (shortened), so a client can fix its request.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::timeframe::{echo_plain, Granularity, TimeError, TimeParam};

/// The forms accepted for `date`, `start` and `end`, quoted in error messages.
const ACCEPTED_FORMS: &str = "expected a date YYYY-MM-DD or an RFC 3339 instant with an offset, \
                              such as 2026-11-01 or 2026-11-01T05:00:00Z";

/// A client value quoted for an error message, shortened if long.
fn echo(v: &str) -> String {
    format!("{:?}", echo_plain(v))
}

/// Whether `v` has the shape `DDDD-DD-DD`.
fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// `YYYY-MM-DD` (exactly that shape, a real calendar date) or an RFC 3339 instant with an
/// offset; surrounding spaces are ignored. Errors name `param`.
pub fn parse_time(param: &str, value: &str) -> Result<TimeParam, TimeError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(TimeError::new(
            param,
            format!("empty value; {ACCEPTED_FORMS}"),
        ));
    }
    if looks_like_date(v) {
        return NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(TimeParam::Date)
            .map_err(|_| {
                TimeError::new(
                    param,
                    format!("{} is not a valid calendar date; {ACCEPTED_FORMS}", echo(v)),
                )
            });
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| TimeParam::Instant(t.with_timezone(&Utc)))
        .map_err(|_| {
            TimeError::new(
                param,
                format!("invalid value {}; {ACCEPTED_FORMS}", echo(v)),
            )
        })
}

/// An optional time value; a blank one is missing.
pub fn parse_optional_time(
    param: &str,
    value: Option<&str>,
) -> Result<Option<TimeParam>, TimeError> {
    match value {
        Some(v) if !v.trim().is_empty() => parse_time(param, v).map(Some),
        _ => Ok(None),
    }
}

/// An IANA time zone name (case-sensitive, surrounding spaces ignored), such as
/// `Europe/Berlin` or `UTC`; errors name `"tz"`. Whole-hour offsets are checked when a
/// range is resolved, since they depend on its dates.
pub fn parse_tz(value: &str) -> Result<Tz, TimeError> {
    let v = value.trim();
    v.parse::<Tz>().map_err(|_| {
        TimeError::new(
            "tz",
            format!(
                "unknown time zone {}; expected an IANA time zone name such as \
                 America/Chicago, Europe/Berlin or UTC",
                echo(v)
            ),
        )
    })
}

/// `day`, `week` or `month` (ASCII case-insensitive, surrounding spaces ignored); errors
/// name `param`.
pub fn parse_granularity(param: &str, value: &str) -> Result<Granularity, TimeError> {
    let v = value.trim();
    Granularity::ALL
        .iter()
        .copied()
        .find(|g| v.eq_ignore_ascii_case(g.as_str()))
        .ok_or_else(|| {
            TimeError::new(
                param,
                format!(
                    "invalid value {}; expected one of day, week, month",
                    echo(v)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use chrono_tz::{America, Europe, Tz};

    use super::*;
    use crate::domain::timeframe::{resolve_day, resolve_range};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn parsing() {
        assert_eq!(
            parse_time("date", "2026-11-01"),
            Ok(TimeParam::Date("2026-11-01".parse().unwrap()))
        );
        assert_eq!(
            parse_time("start", "2026-11-01T05:00:00-05:00"),
            Ok(TimeParam::Instant(utc("2026-11-01T10:00:00Z")))
        );
        assert_eq!(parse_time("end", "").unwrap_err().param, "end");
        assert_eq!(parse_optional_time("end", Some("  ")), Ok(None));
        for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
            assert_eq!(parse_granularity("group_by", g.as_str()), Ok(g));
        }
        assert_eq!(parse_granularity("group_by", "Week"), Ok(Granularity::Week));
    }

    #[test]
    fn errors_name_the_parameter_and_the_accepted_forms() {
        let now = utc("2026-11-15T12:00:00Z");
        for garbage in [
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "2026-11-1",
            "2026-11-01T05:00:00",
        ] {
            let e = parse_time("start", garbage).unwrap_err();
            assert_eq!(e.param, "start", "{garbage}");
            assert!(e.message.contains("YYYY-MM-DD") && e.message.contains("RFC 3339"));
            assert_eq!(parse_time("end", garbage).unwrap_err().param, "end");
            assert_eq!(parse_time("date", garbage).unwrap_err().param, "date");
        }
        let long = "x".repeat(1000);
        let e = parse_time("start", &long).unwrap_err();
        assert!(e.message.len() < 300, "{}", e.message);

        let e = parse_tz("Mars/Olympus_Mons").unwrap_err();
        assert_eq!(e.param, "tz");
        assert!(e.message.contains("Europe/Berlin"), "{}", e.message);
        assert_eq!(parse_tz("Europe/Berlin"), Ok(Europe::Berlin));
        assert_eq!(parse_tz(" UTC "), Ok(Tz::UTC));

        let e = parse_granularity("group_by", "fortnight").unwrap_err();
        assert_eq!(e.param, "group_by");
        assert!(e.message.contains("day, week, month"), "{}", e.message);
        assert_eq!(e.to_string(), format!("group_by: {}", e.message));

        // Parsed values resolve as before.
        let day = parse_optional_time("date", Some("2026-11-01")).unwrap();
        let r = resolve_day(day, America::Chicago, now).unwrap();
        assert_eq!(r.start_label, "2026-11-01");
        let start = parse_optional_time("start", Some("2026-11-05")).unwrap();
        let end = parse_optional_time("end", Some("2026-11-01")).unwrap();
        let e = resolve_range(start, end, America::Chicago, now, 30).unwrap_err();
        assert_eq!(e.param, "start");
    }
}
