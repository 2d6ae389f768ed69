//! Days cut in the reporting zone: America/Chicago across the end of DST.

use http::StatusCode;
use integration_tests::{app, both_stores, dec, get, post};
use rust_decimal::Decimal;
use serde_json::json;

#[tokio::test]
async fn chicago_days_across_dst_sum_exactly_to_the_range_total() {
    for t in both_stores().await {
        let app = app(&t.store, "America/Chicago");
        // One Haiku 4.5 event (100 in × $1 = $0.0001) per hour, from 2026-10-30 00:00Z to 2026-11-04 00:00Z,
        // plus a $1 reported event at 23:30 local on Oct 31 (04:30Z on Nov 1).
        let mut events: Vec<_> = (0..120)
            .map(|h| {
                let at = chrono::DateTime::parse_from_rfc3339("2026-10-30T00:00:00Z").unwrap() + chrono::Duration::hours(h);
                json!({"event_id": format!("h{h}"), "model":"claude-haiku-4-5","tokens_in":100,"recorded_at": at.to_rfc3339()})
            })
            .collect();
        events.push(json!({"event_id":"late","model":"claude-haiku-4-5","cost":1,"recorded_at":"2026-10-31T23:30:00-05:00"}));
        assert_eq!(
            post(&app, "/api/usage", json!(events)).await.status,
            StatusCode::CREATED
        );

        let r = get(
            &app,
            "/costs/range?start=2026-10-30&end=2026-11-03&group_by=day",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["timezone"], "America/Chicago");
        let buckets = r.body["buckets"].as_array().unwrap();
        let periods: Vec<&str> = buckets
            .iter()
            .map(|b| b["period"].as_str().unwrap())
            .collect();
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
        let sum: Decimal = buckets.iter().map(|b| dec(&b["cost_usd"])).sum();
        assert_eq!(sum, dec(&r.body["total_cost_usd"]), "{}", t.backend);
        // Local days (CDT until Nov 1 01:00, then CST): Oct 30 = 05Z..05Z (24 events), Oct 31 = 24 + the
        // 23:30 event, Nov 1 = 05Z..06Z next day (25 hours), Nov 2 = 24, Nov 3 = 06Z..23Z (events stop at 00Z Nov 4).
        let requests: Vec<i64> = buckets
            .iter()
            .map(|b| b["requests"].as_i64().unwrap())
            .collect();
        assert_eq!(
            requests,
            [24, 25, 25, 24, 18],
            "{}: Nov 1 has 25 hours, Oct 31 has the 23:30 event",
            t.backend
        );
        assert_eq!(
            dec(&buckets[1]["cost_usd"]),
            "1.0024".parse::<Decimal>().unwrap()
        );
        assert_eq!(buckets[2]["start"], "2026-11-01T05:00:00Z");
        assert_eq!(buckets[2]["end"], "2026-11-02T06:00:00Z");

        let daily = get(&app, "/costs/daily?date=2026-10-31").await.body;
        assert_eq!(
            dec(&daily["total_cost_usd"]),
            "1.0024".parse::<Decimal>().unwrap()
        );
        let utc = get(&app, "/costs/daily?date=2026-10-31&tz=UTC").await.body;
        assert_eq!(
            dec(&utc["total_cost_usd"]),
            "0.0024".parse::<Decimal>().unwrap(),
            "04:30Z Nov 1 is not Oct 31 in UTC"
        );
    }
}
