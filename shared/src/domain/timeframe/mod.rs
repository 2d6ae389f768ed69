//! Reporting time frames: turns days, instants and a time zone into UTC ranges and buckets on
//! whole UTC hours. Reading them from text (query values, bodies) is the caller's
//! (`http::query::values`).
//!
//! Costs are kept in rollups per UTC hour, so a report sums whole UTC hours. Local days, ISO weeks
//! (starting Monday) and months are cut in an IANA time zone; that is exact as long as the zone's
//! UTC offset is a whole number of hours at the range ends and at every local midnight inside the
//! range, which [`resolve_range`] and [`resolve_day`] check (Asia/Kolkata, +05:30, is refused).
//! Days across a DST change are 23 or 25 hours long.
//!
//! Pure: no I/O, and the current time is always passed in.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::Tz;

/// The longest accepted reporting range, in local calendar days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// Seconds in an hour.
const HOUR_SECS: i64 = 3600;

/// The longest part of a rejected value echoed back in an error message.
const MAX_ECHO_CHARS: usize = 64;

/// A rejected time frame: `param` names what is at fault (`"start"`, `"end"`, `"date"`, `"tz"`,
/// or `"group_by"` for a value that is not a granularity), `message` says what is wrong and what
/// is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct TimeError {
    /// The query parameter that is wrong.
    pub param: String,
    /// A human-readable explanation, safe to return to the client.
    pub message: String,
}

impl TimeError {
    /// An error for query parameter `param`.
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        TimeError {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// How a range is cut into buckets (`group_by=day|week|month`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One bucket per local calendar day.
    Day,
    /// One bucket per ISO week, Monday to Sunday, in local time.
    Week,
    /// One bucket per local calendar month.
    Month,
}

impl Granularity {
    /// Every granularity, finest first.
    pub const ALL: &'static [Granularity] =
        &[Granularity::Day, Granularity::Week, Granularity::Month];

    /// The query value: `"day"`, `"week"` or `"month"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// A parsed `date`, `start` or `end` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeParam {
    /// `YYYY-MM-DD`: a whole local day in the reporting time zone.
    Date(NaiveDate),
    /// An RFC 3339 instant (with an offset), converted to UTC.
    Instant(DateTime<Utc>),
}

/// A resolved reporting range: UTC instants, both on whole hours, end exclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRange {
    /// First instant of the range (inclusive), on a whole UTC hour.
    pub start: DateTime<Utc>,
    /// End of the range (exclusive), on a whole UTC hour.
    pub end: DateTime<Utc>,
    /// The reporting time zone that days, weeks and months are cut in.
    pub tz: Tz,
    /// For a date input the local first date (`2026-11-01`); for an instant input the RFC 3339
    /// UTC instant actually used, after hour alignment (`2026-11-01T05:00:00Z`).
    pub start_label: String,
    /// For a date input the inclusive last local date; for an instant input the RFC 3339 UTC
    /// (exclusive) end actually used, after hour alignment.
    pub end_label: String,
}

impl ResolvedRange {
    /// Checks that the time zone's UTC offset is a whole number of hours at the range start and
    /// end and at every local midnight inside the range (every possible day, week or month bucket
    /// boundary), and that those midnights fall on whole UTC hours. Errors name `"tz"`.
    ///
    /// [`resolve_range`] and [`resolve_day`] already call this; [`last_days`] does not (it
    /// cannot fail), so call it on its result when the zone comes from a client.
    pub fn check_whole_hours(&self) -> Result<(), TimeError> {
        check_offset(self.start, self.tz)?;
        check_offset(self.end, self.tz)?;
        if self.start >= self.end {
            return Ok(());
        }
        let mut day = local_date(self.start, self.tz);
        while let Some(next) = day.succ_opt() {
            let boundary = local_day_start(next, self.tz);
            if boundary >= self.end {
                break;
            }
            if boundary > self.start {
                check_offset(boundary, self.tz)?;
                if !on_whole_hour(boundary) {
                    return Err(TimeError::new(
                        "tz",
                        format!(
                            "in {} the day {next} starts at {}, which is not on a whole UTC \
                             hour; reports need whole-hour UTC offsets because costs are kept \
                             per UTC hour",
                            self.tz.name(),
                            instant_label(boundary)
                        ),
                    ));
                }
            }
            day = next;
        }
        Ok(())
    }
}

/// Resolves a `start` and an `end`. Dates are whole local days, inclusive. Instants are
/// floored to the hour (start) and ceiled to the hour (end, exclusive). Missing start →
/// `default_days` local days ending today (inclusive of today); missing end → end of today
/// (local).
///
/// Precisely: a missing `start` gives the `default_days` local days (0 counts as 1) ending on the
/// last local day of the range, which is today when `end` is missing too, and otherwise the `end`
/// date (or, for an instant `end`, the local day of the last hour before it).
///
/// Errors: `start` after `end` (param `"start"`); a
/// range spanning more than [`MAX_RANGE_DAYS`] local calendar days (param `"end"`, or `"start"`
/// when `end` is missing); a zone without whole-hour offsets over the range (param `"tz"`, see
/// [`ResolvedRange::check_whole_hours`]). Equal instants give an empty range (`start == end`).
pub fn resolve_range(
    start: Option<TimeParam>,
    end: Option<TimeParam>,
    tz: Tz,
    now: DateTime<Utc>,
    default_days: u32,
) -> Result<ResolvedRange, TimeError> {
    let (start_param, end_param) = (start, end);
    let today = today(tz, now);

    let (end_at, end_label, last_date) = match end_param {
        Some(TimeParam::Date(d)) => (local_day_start(next_day(d), tz), d.to_string(), d),
        Some(TimeParam::Instant(t)) => {
            let at = ceil_hour(t);
            let last = local_date(at - TimeDelta::seconds(1), tz);
            (at, instant_label(at), last)
        }
        None => (
            local_day_start(next_day(today), tz),
            today.to_string(),
            today,
        ),
    };
    let (start_at, start_label) = match start_param {
        Some(TimeParam::Date(d)) => (local_day_start(d, tz), d.to_string()),
        Some(TimeParam::Instant(t)) => {
            let at = floor_hour(t);
            (at, instant_label(at))
        }
        None => {
            let d = add_days(last_date, -(i64::from(default_days.max(1)) - 1));
            (local_day_start(d, tz), d.to_string())
        }
    };

    let start_after_end = match (start_param, end_param) {
        (Some(TimeParam::Date(s)), Some(TimeParam::Date(e))) => s > e,
        (Some(TimeParam::Instant(s)), Some(TimeParam::Instant(e))) => s > e,
        // An instant at or after the end of the last day is after that day.
        (Some(TimeParam::Instant(s)), Some(TimeParam::Date(_))) => s >= end_at,
        (Some(TimeParam::Date(_)), Some(TimeParam::Instant(e))) => start_at > e,
        (Some(TimeParam::Date(_)), None) => start_at >= end_at,
        (Some(TimeParam::Instant(s)), None) => s >= end_at,
        (None, _) => start_at > end_at,
    };
    if start_after_end {
        let shown = |v: Option<TimeParam>| match v {
            None => "today".to_owned(),
            Some(TimeParam::Date(d)) => d.to_string(),
            Some(TimeParam::Instant(t)) => instant_label(t),
        };
        return Err(TimeError::new(
            "start",
            format!("start ({}) is after end ({})", shown(start), shown(end)),
        ));
    }

    let first_day = local_date(start_at, tz);
    let last_day = if end_at > start_at {
        local_date(end_at - TimeDelta::seconds(1), tz)
    } else {
        first_day
    };
    let days = (last_day - first_day).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        let param = if end_param.is_some() { "end" } else { "start" };
        return Err(TimeError::new(
            param,
            format!(
                "the range spans {days} days ({first_day} to {last_day}); the maximum is \
                 {MAX_RANGE_DAYS} days"
            ),
        ));
    }

    let range = ResolvedRange {
        start: start_at,
        end: end_at,
        tz,
        start_label,
        end_label,
    };
    range.check_whole_hours()?;
    Ok(range)
}

/// One local day; None = today in tz.
///
/// `date` is a day, or an instant meaning the local day that contains it. Both labels are that
/// date. Errors name `"tz"` (not a whole-hour offset that day).
pub fn resolve_day(
    date: Option<TimeParam>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ResolvedRange, TimeError> {
    let day = match date {
        None => today(tz, now),
        Some(TimeParam::Date(d)) => d,
        Some(TimeParam::Instant(t)) => local_date(t, tz),
    };
    let range = days_range(day, day, tz);
    range.check_whole_hours()?;
    Ok(range)
}

/// The last `days` local days including today (0 counts as 1); labels are the first and last
/// dates.
///
/// Cannot fail, so it does not check whole-hour offsets: call
/// [`ResolvedRange::check_whole_hours`] on the result when the zone comes from a client.
pub fn last_days(days: u32, tz: Tz, now: DateTime<Utc>) -> ResolvedRange {
    let last = today(tz, now);
    let first = add_days(last, -(i64::from(days.max(1)) - 1));
    days_range(first, last, tz)
}

/// Today's local date in `tz` at `now`.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    local_date(now, tz)
}

/// UTC instant of local midnight starting `date` (if midnight does not exist because of a DST
/// jump, the first valid local instant of that day). If midnight occurs twice, the first one.
///
/// A day skipped entirely (Pacific/Apia, 2011-12-30) starts where the next day starts, so it is
/// empty.
pub fn local_day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => first_valid_after_gap(midnight, tz),
    }
}

/// One bucket of a range: `[start, end)` in UTC, labelled by `period`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Local date of the bucket's natural first day (the Monday of a week, the 1st of a month),
    /// even when the bucket is clipped by the range.
    pub period: NaiveDate,
    /// First instant of the bucket (inclusive).
    pub start: DateTime<Utc>,
    /// End of the bucket (exclusive); the next bucket's start.
    pub end: DateTime<Utc>,
}

/// Contiguous buckets covering the range exactly (first starts at range.start, last ends at
/// range.end), each cut at local day / ISO-week (Monday) / month boundaries in range.tz and
/// clipped to the range. `period` is the local date of the bucket's natural first day (the
/// Monday for weeks, the 1st for months), even if clipped.
///
/// An empty range (`start >= end`) has no buckets. A local day that does not exist (a skipped
/// calendar day) gets no bucket. Ranges from [`resolve_range`] have every boundary on a whole UTC
/// hour; for a hand-built range in a zone that fails [`ResolvedRange::check_whole_hours`],
/// boundaries are floored to the UTC hour so buckets still tile the range on whole hours.
pub fn buckets(range: &ResolvedRange, granularity: Granularity) -> Vec<Bucket> {
    let mut out = Vec::new();
    if range.start >= range.end {
        return out;
    }
    let mut period = natural_start(local_date(range.start, range.tz), granularity);
    let mut cur = range.start;
    while cur < range.end {
        let Some(next) = advance(period, granularity) else {
            out.push(Bucket {
                period,
                start: cur,
                end: range.end,
            });
            break;
        };
        let boundary = floor_hour(local_day_start(next, range.tz)).min(range.end);
        if boundary > cur {
            out.push(Bucket {
                period,
                start: cur,
                end: boundary,
            });
            cur = boundary;
        }
        period = next;
    }
    out
}

/// Index of the bucket containing `instant` (binary search), None if outside.
///
/// `buckets` must be sorted and non-overlapping, as [`buckets`] returns them.
pub fn bucket_index(buckets: &[Bucket], instant: DateTime<Utc>) -> Option<usize> {
    let i = buckets.partition_point(|b| b.end <= instant);
    buckets
        .get(i)
        .filter(|b| b.start <= instant && instant < b.end)
        .map(|_| i)
}

// ---------------------------------------------------------------------------------------------

/// The local days `first..=last` as a range labelled with those dates.
pub fn days_range(first: NaiveDate, last: NaiveDate, tz: Tz) -> ResolvedRange {
    ResolvedRange {
        start: local_day_start(first, tz),
        end: local_day_start(next_day(last), tz),
        tz,
        start_label: first.to_string(),
        end_label: last.to_string(),
    }
}

/// A client value shortened for an error message, unquoted.
pub fn echo_plain(v: &str) -> String {
    if v.chars().count() > MAX_ECHO_CHARS {
        let mut s: String = v.chars().take(MAX_ECHO_CHARS).collect();
        s.push('…');
        s
    } else {
        v.to_owned()
    }
}

/// RFC 3339 in UTC with whole seconds: `2026-11-01T05:00:00Z`.
fn instant_label(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The local date of `t` in `tz`.
fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// `d` plus `n` days, saturating at the ends of the calendar.
fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(TimeDelta::days(n))
        .unwrap_or(if n < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// The day after `d` (saturating).
fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

/// The natural first day of the period containing `d`.
fn natural_start(d: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Day => d,
        Granularity::Week => add_days(d, -i64::from(d.weekday().num_days_from_monday())),
        Granularity::Month => d.with_day(1).unwrap_or(d),
    }
}

/// The natural first day of the period after the one starting at `period`.
fn advance(period: NaiveDate, granularity: Granularity) -> Option<NaiveDate> {
    match granularity {
        Granularity::Day => period.succ_opt(),
        Granularity::Week => period.checked_add_signed(TimeDelta::days(7)),
        Granularity::Month => {
            let (y, m) = if period.month() == 12 {
                (period.year().checked_add(1)?, 1)
            } else {
                (period.year(), period.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
        }
    }
}

/// Whether `t` is exactly on a whole UTC hour.
fn on_whole_hour(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(HOUR_SECS) == 0 && t.timestamp_subsec_nanos() == 0
}

/// `t` rounded down to the whole UTC hour.
fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(HOUR_SECS), 0).unwrap_or(t)
}

/// `t` rounded up to the whole UTC hour (unchanged if already on one).
fn ceil_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    if on_whole_hour(t) {
        return t;
    }
    let floor = floor_hour(t);
    floor
        .checked_add_signed(TimeDelta::hours(1))
        .unwrap_or(floor)
}

/// Fails (param `"tz"`) unless the UTC offset of `tz` at `t` is a whole number of hours.
fn check_offset(t: DateTime<Utc>, tz: Tz) -> Result<(), TimeError> {
    let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    if i64::from(offset.local_minus_utc()).rem_euclid(HOUR_SECS) == 0 {
        return Ok(());
    }
    Err(TimeError::new(
        "tz",
        format!(
            "{} is UTC{offset} at {}; reports need a time zone with whole-hour UTC offsets \
             because costs are kept per UTC hour",
            tz.name(),
            instant_label(t)
        ),
    ))
}

/// The first valid local instant at or after the non-existent local time `missing` (inside a
/// DST gap): found to the minute, then refined to the second. Looks up to two days ahead, so a
/// skipped calendar day resolves to the start of the next one.
fn first_valid_after_gap(missing: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let valid = |t: NaiveDateTime| tz.from_local_datetime(&t).earliest();
    for minute in 1..=2 * 24 * 60 {
        let candidate = missing + TimeDelta::minutes(minute);
        if valid(candidate).is_none() {
            continue;
        }
        // The previous minute is in the gap; find the first valid second after it.
        for second in (0..60).rev() {
            let t = candidate - TimeDelta::seconds(second);
            if let Some(found) = valid(t) {
                return found.with_timezone(&Utc);
            }
        }
    }
    // Not reachable with real tz data: read the wall time with the offset in force just before.
    let before = tz
        .offset_from_utc_datetime(&(missing - TimeDelta::days(1)))
        .fix();
    Utc.from_utc_datetime(&(missing - TimeDelta::seconds(i64::from(before.local_minus_utc()))))
}

#[cfg(test)]
mod tests;
