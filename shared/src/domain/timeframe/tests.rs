//! Ranges, days and buckets across zones, DST changes and every accepted form.

use super::*;
use chrono_tz::{America, Asia, Australia, Europe, Pacific};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

/// A day (`YYYY-MM-DD`) or an RFC 3339 instant, as the callers parse them.
fn p(s: &str) -> TimeParam {
    match s.parse::<NaiveDate>() {
        Ok(day) if s.len() == 10 => TimeParam::Date(day),
        _ => TimeParam::Instant(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)),
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn hours(start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
    (end - start).num_hours()
}

/// Buckets start at the range start, end at the range end, touch, and are non-empty.
fn assert_tiles(range: &ResolvedRange, bs: &[Bucket]) {
    assert_eq!(bs.first().map(|b| b.start), Some(range.start));
    assert_eq!(bs.last().map(|b| b.end), Some(range.end));
    for w in bs.windows(2) {
        assert_eq!(w[0].end, w[1].start, "contiguous at {:?}", w[1].period);
    }
    for b in bs {
        assert!(b.start < b.end, "non-empty {b:?}");
        assert!(on_whole_hour(b.start) && on_whole_hour(b.end), "{b:?}");
    }
}

const NOW: &str = "2026-11-01T04:30:00Z"; // 23:30 CDT on 2026-10-31 in Chicago

#[test]
fn chicago_fall_back_day_has_25_hours() {
    let tz = America::Chicago;
    let r = resolve_day(Some(p("2026-11-01")), tz, utc(NOW)).unwrap();
    assert_eq!(r.start, utc("2026-11-01T05:00:00Z"));
    assert_eq!(r.end, utc("2026-11-02T06:00:00Z"));
    assert_eq!(hours(r.start, r.end), 25);
    assert_eq!(
        (r.start_label.as_str(), r.end_label.as_str()),
        ("2026-11-01", "2026-11-01")
    );
    assert_eq!(
        local_day_start(date("2026-11-01"), tz),
        utc("2026-11-01T05:00:00Z")
    );
}

#[test]
fn chicago_spring_forward_day_has_23_hours() {
    let r = resolve_day(Some(p("2026-03-08")), America::Chicago, utc(NOW)).unwrap();
    assert_eq!(r.start, utc("2026-03-08T06:00:00Z"));
    assert_eq!(r.end, utc("2026-03-09T05:00:00Z"));
    assert_eq!(hours(r.start, r.end), 23);
}

#[test]
fn chicago_day_buckets_across_fall_back() {
    let r = resolve_range(
        Some(p("2026-10-30")),
        Some(p("2026-11-03")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(r.start, utc("2026-10-30T05:00:00Z"));
    assert_eq!(r.end, utc("2026-11-04T06:00:00Z"));
    let bs = buckets(&r, Granularity::Day);
    assert_tiles(&r, &bs);
    let periods: Vec<String> = bs.iter().map(|b| b.period.to_string()).collect();
    assert_eq!(
        periods,
        [
            "2026-10-30",
            "2026-10-31",
            "2026-11-01",
            "2026-11-02",
            "2026-11-03"
        ]
    );
    let lengths: Vec<i64> = bs.iter().map(|b| hours(b.start, b.end)).collect();
    assert_eq!(lengths, [24, 24, 25, 24, 24]);
    assert_eq!(bs[2].start, utc("2026-11-01T05:00:00Z"));
    assert_eq!(bs[2].end, utc("2026-11-02T06:00:00Z"));

    // 23:30 CDT on 2026-10-31 is 04:30Z on 2026-11-01: still the 31st locally.
    let late = utc("2026-11-01T04:30:00Z");
    assert_eq!(bucket_index(&bs, late), Some(1));
    assert_eq!(bs[1].period, date("2026-10-31"));
    // Both 01:30 local on 2026-11-01 (CDT then CST) are on the 1st.
    assert_eq!(bucket_index(&bs, utc("2026-11-01T06:30:00Z")), Some(2));
    assert_eq!(bucket_index(&bs, utc("2026-11-01T07:30:00Z")), Some(2));
    // Boundaries: start inclusive, end exclusive.
    assert_eq!(bucket_index(&bs, utc("2026-11-01T05:00:00Z")), Some(2));
    assert_eq!(bucket_index(&bs, utc("2026-11-02T05:59:59Z")), Some(2));
    assert_eq!(bucket_index(&bs, utc("2026-11-02T06:00:00Z")), Some(3));
    assert_eq!(bucket_index(&bs, utc("2026-10-30T04:59:59Z")), None);
    assert_eq!(bucket_index(&bs, r.end), None);
    assert_eq!(bucket_index(&[], r.start), None);
}

#[test]
fn chicago_spring_forward_buckets_tile() {
    let r = resolve_range(
        Some(p("2026-03-01")),
        Some(p("2026-03-31")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
        let bs = buckets(&r, g);
        assert_tiles(&r, &bs);
        let total: i64 = bs.iter().map(|b| hours(b.start, b.end)).sum();
        assert_eq!(total, 31 * 24 - 1, "{g:?}");
    }
    let days = buckets(&r, Granularity::Day);
    assert_eq!(days.len(), 31);
    assert_eq!(days[7].period, date("2026-03-08"));
    assert_eq!(hours(days[7].start, days[7].end), 23);
}

#[test]
fn week_buckets_start_on_monday() {
    // 2026-11-04 is a Wednesday; 2026-11-20 a Friday.
    let r = resolve_range(
        Some(p("2026-11-04")),
        Some(p("2026-11-20")),
        Tz::UTC,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Week);
    assert_tiles(&r, &bs);
    assert_eq!(
        bs,
        vec![
            Bucket {
                period: date("2026-11-02"),
                start: utc("2026-11-04T00:00:00Z"),
                end: utc("2026-11-09T00:00:00Z"),
            },
            Bucket {
                period: date("2026-11-09"),
                start: utc("2026-11-09T00:00:00Z"),
                end: utc("2026-11-16T00:00:00Z"),
            },
            Bucket {
                period: date("2026-11-16"),
                start: utc("2026-11-16T00:00:00Z"),
                end: utc("2026-11-21T00:00:00Z"),
            },
        ]
    );
}

#[test]
fn chicago_week_buckets_across_fall_back() {
    // Wednesday 2026-10-28 to Wednesday 2026-11-04.
    let r = resolve_range(
        Some(p("2026-10-28")),
        Some(p("2026-11-04")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Week);
    assert_tiles(&r, &bs);
    assert_eq!(bs.len(), 2);
    assert_eq!(bs[0].period, date("2026-10-26"));
    assert_eq!(bs[0].start, utc("2026-10-28T05:00:00Z"));
    assert_eq!(bs[0].end, utc("2026-11-02T06:00:00Z"));
    assert_eq!(bs[1].period, date("2026-11-02"));
    assert_eq!(bs[1].end, utc("2026-11-05T06:00:00Z"));
}

#[test]
fn berlin_month_buckets() {
    let tz = Europe::Berlin;
    let r = resolve_range(
        Some(p("2026-01-15")),
        Some(p("2026-04-10")),
        tz,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Month);
    assert_tiles(&r, &bs);
    let got: Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> =
        bs.iter().map(|b| (b.period, b.start, b.end)).collect();
    assert_eq!(
        got,
        vec![
            (
                date("2026-01-01"),
                utc("2026-01-14T23:00:00Z"),
                utc("2026-01-31T23:00:00Z")
            ),
            (
                date("2026-02-01"),
                utc("2026-01-31T23:00:00Z"),
                utc("2026-02-28T23:00:00Z")
            ),
            // CEST from 2026-03-29: April starts at 22:00Z.
            (
                date("2026-03-01"),
                utc("2026-02-28T23:00:00Z"),
                utc("2026-03-31T22:00:00Z")
            ),
            (
                date("2026-04-01"),
                utc("2026-03-31T22:00:00Z"),
                utc("2026-04-10T22:00:00Z")
            ),
        ]
    );
    // Month of December rolls over into the next year.
    let r = resolve_range(
        Some(p("2026-12-20")),
        Some(p("2027-01-05")),
        tz,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Month);
    assert_tiles(&r, &bs);
    assert_eq!(bs.len(), 2);
    assert_eq!(bs[1].period, date("2027-01-01"));
    assert_eq!(bs[1].start, utc("2026-12-31T23:00:00Z"));
}

#[test]
fn instants_are_floored_and_ceiled_to_the_hour() {
    let r = resolve_range(
        Some(p("2026-11-01T05:17:42Z")),
        Some(p("2026-11-01T07:00:00.5Z")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(r.start, utc("2026-11-01T05:00:00Z"));
    assert_eq!(r.end, utc("2026-11-01T08:00:00Z"));
    assert_eq!(r.start_label, "2026-11-01T05:00:00Z");
    assert_eq!(r.end_label, "2026-11-01T08:00:00Z");

    // Already on the hour: unchanged. Offsets are converted to UTC first.
    let r = resolve_range(
        Some(p("2026-11-01T10:30:00+02:00")),
        Some(p("2026-11-01T12:00:00+02:00")),
        Tz::UTC,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-11-01T08:00:00Z"), utc("2026-11-01T10:00:00Z"))
    );

    // Within one hour: one whole hour.
    let r = resolve_range(
        Some(p("2026-11-01T08:10:00Z")),
        Some(p("2026-11-01T08:20:00Z")),
        Tz::UTC,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-11-01T08:00:00Z"), utc("2026-11-01T09:00:00Z"))
    );

    // Instant buckets in Chicago: the first bucket is clipped, period still the local day.
    let r = resolve_range(
        Some(p("2026-11-01T04:30:00Z")),
        Some(p("2026-11-02T12:00:00Z")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Day);
    assert_tiles(&r, &bs);
    assert_eq!(bs.len(), 3);
    assert_eq!(bs[0].period, date("2026-10-31"));
    assert_eq!(
        (bs[0].start, bs[0].end),
        (utc("2026-11-01T04:00:00Z"), utc("2026-11-01T05:00:00Z"))
    );
    assert_eq!(bs[2].period, date("2026-11-02"));
    assert_eq!(bs[2].end, utc("2026-11-02T12:00:00Z"));
}

#[test]
fn mixed_date_and_instant() {
    let r = resolve_range(
        Some(p("2026-11-01")),
        Some(p("2026-11-01T12:00:00Z")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-11-01T05:00:00Z"), utc("2026-11-01T12:00:00Z"))
    );
    assert_eq!(
        (r.start_label.as_str(), r.end_label.as_str()),
        ("2026-11-01", "2026-11-01T12:00:00Z")
    );

    let r = resolve_range(
        Some(p("2026-11-01T12:00:00Z")),
        Some(p("2026-11-01")),
        America::Chicago,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-11-01T12:00:00Z"), utc("2026-11-02T06:00:00Z"))
    );
}

#[test]
fn defaults_use_today_in_the_zone() {
    let now = utc(NOW);
    let chicago = America::Chicago;
    assert_eq!(today(chicago, now), date("2026-10-31"));
    assert_eq!(today(Tz::UTC, now), date("2026-11-01"));

    let r = resolve_day(None, chicago, now).unwrap();
    assert_eq!(r.start_label, "2026-10-31");
    assert_eq!(r.start, utc("2026-10-31T05:00:00Z"));
    assert_eq!(r.end, utc("2026-11-01T05:00:00Z"));
    // An instant means the local day containing it.
    let r = resolve_day(Some(p("2026-11-01T04:30:00Z")), chicago, now).unwrap();
    assert_eq!(r.start_label, "2026-10-31");

    // No start or end: the last 30 days including today.
    let r = resolve_range(None, None, chicago, now, 30).unwrap();
    assert_eq!(
        (r.start_label.as_str(), r.end_label.as_str()),
        ("2026-10-02", "2026-10-31")
    );
    assert_eq!(r.start, utc("2026-10-02T05:00:00Z"));
    assert_eq!(r.end, utc("2026-11-01T05:00:00Z"));
    assert_eq!(buckets(&r, Granularity::Day).len(), 30);
    // Start only: through the end of today.
    let r = resolve_range(Some(p("2026-10-25")), None, chicago, now, 30).unwrap();
    assert_eq!(r.end_label, "2026-10-31");
    assert_eq!(r.end, utc("2026-11-01T05:00:00Z"));
    // End only: default_days ending on the end date.
    let r = resolve_range(None, Some(p("2026-06-30")), Tz::UTC, now, 7).unwrap();
    assert_eq!(
        (r.start_label.as_str(), r.end_label.as_str()),
        ("2026-06-24", "2026-06-30")
    );

    let week = last_days(7, chicago, now);
    assert_eq!(
        (week.start_label.as_str(), week.end_label.as_str()),
        ("2026-10-25", "2026-10-31")
    );
    assert_eq!(week.start, utc("2026-10-25T05:00:00Z"));
    assert_eq!(week.end, utc("2026-11-01T05:00:00Z"));
    assert_eq!(last_days(0, chicago, now), last_days(1, chicago, now));
    // The 7 days after `now` in Chicago include the 25-hour day.
    let later = last_days(7, chicago, utc("2026-11-05T12:00:00Z"));
    assert_eq!(hours(later.start, later.end), 7 * 24 + 1);
}

#[test]
fn range_up_to_366_days_is_accepted() {
    let r = resolve_range(
        Some(p("2027-01-01")),
        Some(p("2028-01-01")),
        Tz::UTC,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(buckets(&r, Granularity::Day).len(), 366);
    let months = buckets(&r, Granularity::Month);
    assert_eq!(months.len(), 13);
    assert_tiles(&r, &months);
}

#[test]
fn errors_name_the_parameter() {
    let now = utc(NOW);
    let tz = America::Chicago;
    let param = |r: Result<ResolvedRange, TimeError>| r.unwrap_err().param;

    let e = resolve_range(Some(p("2026-11-05")), Some(p("2026-11-01")), tz, now, 30).unwrap_err();
    assert_eq!(e.param, "start");
    assert!(e.message.contains("after end"), "{}", e.message);
    assert_eq!(
        param(resolve_range(
            Some(p("2026-11-01T10:30:00Z")),
            Some(p("2026-11-01T10:15:00Z")),
            Tz::UTC,
            now,
            30
        )),
        "start"
    );
    assert_eq!(
        param(resolve_range(
            Some(p("2026-11-02T00:00:00Z")),
            Some(p("2026-11-01")),
            Tz::UTC,
            now,
            30
        )),
        "start"
    );
    assert_eq!(
        param(resolve_range(Some(p("2026-12-01")), None, tz, now, 30)),
        "start"
    );

    // 367 days.
    let e = resolve_range(
        Some(p("2027-01-01")),
        Some(p("2028-01-02")),
        Tz::UTC,
        now,
        30,
    )
    .unwrap_err();
    assert_eq!(e.param, "end");
    assert!(e.message.contains("366"), "{}", e.message);
    assert_eq!(
        param(resolve_range(Some(p("2025-01-01")), None, tz, now, 30)),
        "start"
    );
    assert_eq!(param(resolve_range(None, None, tz, now, 367)), "start");

    let e = resolve_day(Some(p("2026-11-01")), Asia::Kolkata, now).unwrap_err();
    assert_eq!(e.param, "tz");
    assert!(e.message.contains("whole-hour"), "{}", e.message);
    assert!(e.message.contains("per UTC hour"), "{}", e.message);
    assert!(e.message.contains("+05:30"), "{}", e.message);
    // Instants on whole UTC hours do not help: local days are still cut at :30.
    let e = resolve_range(
        Some(p("2026-11-01T00:00:00Z")),
        Some(p("2026-11-03T00:00:00Z")),
        Asia::Kolkata,
        now,
        30,
    )
    .unwrap_err();
    assert_eq!(e.param, "tz");
    assert_eq!(
        last_days(7, Asia::Kolkata, now)
            .check_whole_hours()
            .unwrap_err()
            .param,
        "tz"
    );
}

#[test]
fn whole_hour_rule_is_checked_inside_the_range() {
    // Lord Howe Island is +11:00 in summer and +10:30 in winter: whole hours at both ends of
    // this range, half hours at the local midnights in between.
    let tz = Australia::Lord_Howe;
    let now = utc(NOW);
    assert!(resolve_day(Some(p("2026-01-15")), tz, now).is_ok());
    assert!(resolve_day(Some(p("2026-12-15")), tz, now).is_ok());
    let e = resolve_range(Some(p("2026-01-15")), Some(p("2026-12-15")), tz, now, 30).unwrap_err();
    assert_eq!(e.param, "tz");
    assert!(e.message.contains("+10:30"), "{}", e.message);
}

#[test]
fn midnight_in_a_dst_gap_starts_at_the_first_valid_instant() {
    // Chile springs forward at local midnight: 2026-09-06 starts at 01:00 -03 (04:00Z).
    let tz = America::Santiago;
    assert_eq!(
        local_day_start(date("2026-09-06"), tz),
        utc("2026-09-06T04:00:00Z")
    );
    let r = resolve_day(Some(p("2026-09-06")), tz, utc(NOW)).unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-09-06T04:00:00Z"), utc("2026-09-07T03:00:00Z"))
    );
    // ...and falls back from 24:00 to 23:00 on 2026-04-04, a 25-hour day.
    let r = resolve_day(Some(p("2026-04-04")), tz, utc(NOW)).unwrap();
    assert_eq!(
        (r.start, r.end),
        (utc("2026-04-04T03:00:00Z"), utc("2026-04-05T04:00:00Z"))
    );

    // Samoa skipped 2011-12-30 entirely: the day is empty and gets no bucket.
    let apia = Pacific::Apia;
    assert_eq!(
        local_day_start(date("2011-12-30"), apia),
        local_day_start(date("2011-12-31"), apia)
    );
    let r = resolve_range(
        Some(p("2011-12-29")),
        Some(p("2011-12-31")),
        apia,
        utc(NOW),
        30,
    )
    .unwrap();
    let bs = buckets(&r, Granularity::Day);
    assert_tiles(&r, &bs);
    let periods: Vec<NaiveDate> = bs.iter().map(|b| b.period).collect();
    assert_eq!(periods, [date("2011-12-29"), date("2011-12-31")]);
}

#[test]
fn empty_range_has_no_buckets() {
    let r = resolve_range(
        Some(p("2026-11-01T05:00:00Z")),
        Some(p("2026-11-01T05:00:00Z")),
        Tz::UTC,
        utc(NOW),
        30,
    )
    .unwrap();
    assert_eq!(r.start, r.end);
    assert!(buckets(&r, Granularity::Day).is_empty());
}
