//! Reading records and rollups: the raw listing and its export pages, and the
//! report sums (from the one-dimension rollups when nothing is filtered, else from
//! the full-key rollups; both through their `*_live` views, pending deltas included).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::backend::Backend;
use super::db::{Sql, Value};
use super::reconcile::Basis;
use super::rollup::{Filters, GroupKey, Grouping, Totals};
use super::rows::{self, GroupRow, RecordRow, SumsRow};
use super::schema::{join, RECORD_SELECT, RECORD_SUMS, ROLLUP_SUMS, SUM_COLUMNS};
use super::{StoreError, UsageQuery};
use crate::domain::usage::UsageRecord;

/// The raw-record listing's `WHERE` clause and its values (numbered from `$1`).
fn usage_where<'a>(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    filters: &'a Filters,
) -> (String, Vec<Value<'a>>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    if let Some(start) = start {
        values.push(Value::BigInt(start.timestamp_millis()));
        clauses.push(format!("recorded_at_ms >= ${}", values.len()));
    }
    if let Some(end) = end {
        values.push(Value::BigInt(end.timestamp_millis()));
        clauses.push(format!("recorded_at_ms < ${}", values.len()));
    }
    for (dim, value) in filters.pairs() {
        values.push(Value::Text(value));
        let column = match dim.column() {
            "agent" => "COALESCE(agent, '')",
            "model" => "model_key",
            other => other,
        };
        clauses.push(format!("{column} = ${}", values.len()));
    }
    (clauses.join(" AND "), values)
}

fn with_values<'a>(text: &'a str, values: &[Value<'a>]) -> Sql<'a> {
    let mut sql = Sql::with_capacity(text, values.len() + 3);
    for value in values {
        sql.push(value.clone());
    }
    sql
}

/// Raw records, newest first, and the total matching.
pub(crate) async fn list_usage(
    db: &Backend,
    query: &UsageQuery,
) -> Result<(Vec<UsageRecord>, i64), StoreError> {
    let (clause, values) = usage_where(query.start, query.end, &query.filters);
    let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM usage_records WHERE {clause}");
    let n = values.len();
    let list_sql = format!(
        "SELECT {} FROM usage_records WHERE {clause} \
         ORDER BY recorded_at_ms DESC, id DESC LIMIT ${} OFFSET ${}",
        *RECORD_SELECT,
        n + 1,
        n + 2
    );
    let mut conn = db.conn().await?;
    let (total,): (i64,) = conn
        .exec()
        .fetch_one(with_values(&count_sql, &values))
        .await?;
    let list = with_values(&list_sql, &values)
        .bind(query.limit)
        .bind(query.offset);
    let rows: Vec<RecordRow> = conn.exec().fetch_all(list).await?;
    Ok((rows::records(rows)?, total))
}

/// Keyset pagination over [`list_usage`]'s order; see [`super::Store::usage_page`].
pub(crate) async fn usage_page(
    db: &Backend,
    query: &UsageQuery,
    before: Option<(DateTime<Utc>, i64)>,
) -> Result<Vec<UsageRecord>, StoreError> {
    // The end of the range and the cursor are one upper bound (`<= at`), so both
    // backends walk the (recorded_at_ms DESC, id DESC) index from there: every page
    // costs the same however deep the export is.
    let (clause, values) = usage_where(query.start, None, &query.filters);
    let (at, id, limit) = (values.len() + 1, values.len() + 2, values.len() + 3);
    let text = format!(
        "SELECT {} FROM usage_records WHERE {clause} AND recorded_at_ms <= ${at} \
         AND (recorded_at_ms < ${at} OR id < ${id}) ORDER BY recorded_at_ms DESC, id DESC \
         LIMIT ${limit}",
        *RECORD_SELECT
    );
    let (before_ms, before_id) = match before {
        Some((at, id)) => (at.timestamp_millis(), id),
        None => (
            query.end.map_or(i64::MAX, |end| end.timestamp_millis() - 1),
            i64::MAX,
        ),
    };
    let sql = with_values(&text, &values)
        .bind(before_ms)
        .bind(before_id)
        .bind(query.limit);
    let rows: Vec<RecordRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows::records(rows)
}

/// Records in `[start, end)` with id greater than `after_id`, by id, at most `limit`.
pub(crate) async fn records_between(
    db: &Backend,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    after_id: i64,
    limit: i64,
) -> Result<Vec<UsageRecord>, StoreError> {
    let text = format!(
        "SELECT {} FROM usage_records WHERE recorded_at_ms >= $1 AND recorded_at_ms < $2 \
         AND id > $3 ORDER BY id LIMIT $4",
        *RECORD_SELECT
    );
    let sql = Sql::new(&text)
        .bind(start.timestamp_millis())
        .bind(end.timestamp_millis())
        .bind(after_id)
        .bind(limit);
    let rows: Vec<RecordRow> = db.conn().await?.exec().fetch_all(sql).await?;
    rows::records(rows)
}

/// The group columns of an ungrouped report.
const NO_GROUP: &str = "CAST(NULL AS BIGINT) AS hour, CAST(NULL AS TEXT) AS value, ";

/// The sum columns of one-dimension rows, each negated on rows of a layer the basis
/// subtracts (`attributed` = raw − billed): `dims` are the stored `dim` names and signs.
fn signed_columns(dims: &[(&'static str, i8)], summed: bool) -> String {
    let negated: Vec<&str> = dims.iter().filter(|d| d.1 < 0).map(|d| d.0).collect();
    SUM_COLUMNS
        .iter()
        .map(|c| {
            let value = match negated.as_slice() {
                [] => c.to_string(),
                names => format!(
                    "CASE WHEN dim IN ('{}') THEN -{c} ELSE {c} END",
                    names.join("', '")
                ),
            };
            if summed {
                format!("CAST(COALESCE(SUM({value}), 0) AS BIGINT) AS {c}")
            } else if negated.is_empty() {
                value
            } else {
                format!("{value} AS {c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A report over the one-dimension rollups (no filters) for `[start, end)` (whole
/// hours, epoch seconds), summing the stored `dims` (the layers of a basis, each
/// with its sign; fixed identifiers): the SQL (binding the returned bounds), whose
/// rows are [`GroupRow`]s; `true` when they are already one per group.
///
/// By the hour, the rows are not summed in SQL: each (dim, hour, value) has one
/// rollup row (plus any pending deltas), and summing 20 columns over a group per
/// hour cost Postgres more than the query (2,160 groups for 90 days: 16 ms against
/// 6 ms for the rows as they are). The caller adds them up. By the local day,
/// SQLite (`sum_days`) sums in SQL: each row it returns costs sqlx's SQLite driver
/// several microseconds, and the reconciled basis reads two layers of 2,160 hours
/// (38 ms for 90 days, against ~10 ms for 91 summed days); Postgres answers by the
/// hour as above.
fn dims_query(
    grouping: Grouping,
    dims: &[(&'static str, i8)],
    (start, end): (i64, i64),
    sum_days: bool,
) -> (String, Vec<i64>, bool) {
    let day_grouping = match grouping {
        Grouping::Day(tz) if sum_days => Some((tz, "CAST(NULL AS TEXT) AS value", "")),
        Grouping::DayBy(_, tz) if sum_days => Some((tz, "value", ", value")),
        _ => None,
    };
    if let Some((tz, value, by_value)) = day_grouping {
        let sql = format!(
            "SELECT MIN(bucket_start) AS hour, {value}, {} FROM usage_rollup_dims_live \
             WHERE {} GROUP BY {}{by_value}",
            signed_columns(dims, true),
            dims.iter()
                .map(|(dim, _)| format!(
                    "(dim = '{dim}' AND grain = 'h' AND bucket_start >= $1 AND bucket_start < $2)"
                ))
                .collect::<Vec<_>>()
                .join(" OR "),
            local_day("bucket_start", tz, start, end)
        );
        return (sql, vec![start, end], true);
    }
    let by_hour = match grouping {
        Grouping::Hour | Grouping::Day(_) => {
            Some("bucket_start AS hour, CAST(NULL AS TEXT) AS value")
        }
        Grouping::HourBy(_) | Grouping::DayBy(..) => Some("bucket_start AS hour, value"),
        Grouping::Total | Grouping::By(_) => None,
    };
    // One flat OR term per stored dim and range, each a full key prefix and range, so
    // SQLite reads one index range per term (a nested OR made it read every row of
    // the dimension); `$n` are the bounds.
    let terms = |ranges: &[(&str, usize)]| -> String {
        let mut out = Vec::new();
        for (dim, _) in dims {
            for (grain, first) in ranges {
                out.push(format!(
                    "(dim = '{dim}' AND grain = '{grain}' AND bucket_start >= ${first} \
                     AND bucket_start < ${})",
                    first + 1
                ));
            }
        }
        out.join(" OR ")
    };
    if let Some(columns) = by_hour {
        let sql = format!(
            "SELECT {columns}, {} FROM usage_rollup_dims_live WHERE {}",
            signed_columns(dims, false),
            terms(&[("h", 1)])
        );
        return (sql, vec![start, end], false);
    }
    // Every row is `hour, value, sums…` ([`GroupRow`], read by position).
    let (columns, group_by) = match grouping {
        Grouping::By(_) => ("CAST(NULL AS BIGINT) AS hour, value, ", " GROUP BY value"),
        _ => (NO_GROUP, ""),
    };
    let first_day = start + (86_400 - start.rem_euclid(86_400)) % 86_400;
    let last_day = end - end.rem_euclid(86_400);
    let (range, bounds) = if first_day >= last_day {
        (terms(&[("h", 1)]), vec![start, end])
    } else {
        // Whole UTC days from day rows, the partial days at either end from hour rows.
        (
            terms(&[("d", 1), ("h", 3), ("h", 5)]),
            vec![first_day, last_day, start, first_day, last_day, end],
        )
    };
    let sql = format!(
        "SELECT {columns}{} FROM usage_rollup_dims_live WHERE {range}{group_by}",
        signed_columns(dims, true)
    );
    (sql, bounds, true)
}

/// The full-key rows a basis sums, and the condition that selects them.
fn basis_source(basis: Basis) -> (&'static str, &'static str) {
    match basis {
        Basis::Raw => ("usage_rollups_live", ""),
        Basis::Reconciled => ("usage_rollups_reconciled", ""),
        Basis::Billed => (
            "usage_rollups_live",
            " AND source IN ('anthropic', 'openai')",
        ),
        Basis::Attributed => (
            "usage_rollups_live",
            " AND source NOT IN ('anthropic', 'openai')",
        ),
    }
}

/// The local day (days since the epoch) of the UTC hour in `column`, in `tz`, over
/// `[start, end)`: `(column + offset) / 86400`, the offset of each stretch between the
/// zone's changes as a literal (computed here, not input).
fn local_day(column: &str, tz: chrono_tz::Tz, start: i64, end: i64) -> String {
    use chrono::{Offset, TimeZone};
    let offset = |t: i64| {
        DateTime::from_timestamp(t, 0).map_or(0, |at| {
            i64::from(
                tz.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        })
    };
    let mut stretches = vec![(start, offset(start))];
    for hour in (start..end).step_by(3_600).skip(1) {
        let here = offset(hour);
        if stretches.last().is_some_and(|s| s.1 != here) {
            stretches.push((hour, here));
        }
    }
    let shifted = match stretches.as_slice() {
        [(_, only)] => only.to_string(),
        [first, rest @ ..] => {
            let mut case = String::from("CASE");
            let mut current = first.1;
            for (from, here) in rest {
                case.push_str(&format!(" WHEN {column} < {from} THEN {current}"));
                current = *here;
            }
            format!("{case} ELSE {current} END")
        }
        [] => "0".into(),
    };
    format!("(({column} + {shifted}) / 86400)")
}

/// A report over the full-key rollups: `[start, end)` is `$1`, `$2`, the filters follow.
fn rollup_query(
    grouping: Grouping,
    filters: &Filters,
    (start, end): (i64, i64),
) -> (String, Vec<&str>) {
    let (columns, group_by) = match grouping {
        Grouping::Day(tz) => (
            "MIN(hour_start) AS hour, CAST(NULL AS TEXT) AS value, ".into(),
            local_day("hour_start", tz, start, end),
        ),
        Grouping::DayBy(d, tz) => (
            format!("MIN(hour_start) AS hour, {} AS value, ", d.column()),
            format!(
                "{}, {}",
                local_day("hour_start", tz, start, end),
                d.column()
            ),
        ),
        Grouping::Total => (NO_GROUP.into(), String::new()),
        Grouping::Hour => (
            "hour_start AS hour, CAST(NULL AS TEXT) AS value, ".into(),
            "hour_start".into(),
        ),
        Grouping::By(d) => (
            format!("CAST(NULL AS BIGINT) AS hour, {} AS value, ", d.column()),
            d.column().into(),
        ),
        Grouping::HourBy(d) => (
            format!("hour_start AS hour, {} AS value, ", d.column()),
            format!("hour_start, {}", d.column()),
        ),
    };
    let (table, condition) = basis_source(filters.basis);
    let mut sql = format!(
        "SELECT {columns}{} FROM {table} WHERE hour_start >= $1 AND hour_start < $2{condition}",
        *ROLLUP_SUMS
    );
    let mut values = Vec::new();
    for (dim, value) in filters.pairs() {
        values.push(value);
        sql.push_str(&format!(" AND {} = ${}", dim.column(), values.len() + 2));
    }
    if !group_by.is_empty() {
        sql.push_str(" GROUP BY ");
        sql.push_str(&group_by);
    }
    (sql, values)
}

/// Sums rollups over `[start, end)` (whole UTC hours), grouped as asked, on the
/// filters' basis.
pub(crate) async fn rollup_totals(
    db: &Backend,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    filters: &Filters,
    grouping: Grouping,
) -> Result<Vec<(GroupKey, Totals)>, StoreError> {
    let mut conn = db.conn().await?;
    let rows: Vec<GroupRow> = if filters.pairs().is_empty() {
        let dim = match grouping {
            Grouping::Total | Grouping::Hour | Grouping::Day(_) => "total",
            Grouping::By(d) | Grouping::HourBy(d) | Grouping::DayBy(d, _) => d.column(),
        };
        let dims: Vec<(&'static str, i8)> = filters
            .basis
            .layers()
            .iter()
            .map(|(layer, sign)| (layer.dim(dim), *sign))
            .collect();
        let (text, bounds, grouped) = dims_query(
            grouping,
            &dims,
            (start.timestamp(), end.timestamp()),
            db.rows_are_dear(),
        );
        let mut sql = Sql::new(&text);
        for bound in bounds {
            sql.push(bound);
        }
        let rows = conn.exec().fetch_all(sql).await?;
        if !grouped {
            return Ok(add_up(rows));
        }
        rows
    } else {
        let (text, values) = rollup_query(grouping, filters, (start.timestamp(), end.timestamp()));
        let mut sql = Sql::new(&text)
            .bind(start.timestamp())
            .bind(end.timestamp());
        for value in values {
            sql.push(value);
        }
        conn.exec().fetch_all(sql).await?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = GroupKey {
                hour: row.hour.and_then(|h| DateTime::from_timestamp(h, 0)),
                value: row.value,
            };
            (key, row.sums.into())
        })
        .collect())
}

/// Rows of the same hour and value added up, in (hour, value) order.
fn add_up(rows: Vec<GroupRow>) -> Vec<(GroupKey, Totals)> {
    let mut groups: BTreeMap<(Option<i64>, Option<String>), Totals> = BTreeMap::new();
    for row in rows {
        *groups.entry((row.hour, row.value)).or_default() += row.sums.into();
    }
    groups
        .into_iter()
        .map(|((hour, value), totals)| {
            let hour = hour.and_then(|h| DateTime::from_timestamp(h, 0));
            (GroupKey { hour, value }, totals)
        })
        .collect()
}

/// Sums raw records over `[start, end)`.
pub(crate) async fn raw_totals(
    db: &Backend,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Totals, StoreError> {
    let text = format!(
        "SELECT {} FROM usage_records WHERE recorded_at_ms >= $1 AND recorded_at_ms < $2",
        *RECORD_SUMS
    );
    let sql = Sql::new(&text)
        .bind(start.timestamp_millis())
        .bind(end.timestamp_millis());
    let row: SumsRow = db.conn().await?.exec().fetch_one(sql).await?;
    Ok(row.into())
}

/// Models with unpriced requests, and how many (both limbs; beyond 2⁶³ it saturates).
pub(crate) async fn unpriced_models(db: &Backend) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = Sql::new(
        "SELECT model, CAST(SUM(unpriced_requests) AS BIGINT), \
         CAST(SUM(unpriced_requests_hi) AS BIGINT) FROM usage_rollups_live \
         GROUP BY model ORDER BY model",
    );
    let rows: Vec<(String, i64, i64)> = db.conn().await?.exec().fetch_all(sql).await?;
    Ok(rows
        .into_iter()
        .map(|(model, low, high)| (model, join(low, high)))
        .filter(|(_, requests)| *requests > 0)
        .map(|(model, requests)| (model, i64::try_from(requests).unwrap_or(i64::MAX)))
        .collect())
}

/// How many rollup deltas are waiting to be folded.
pub(crate) async fn pending_rollups(db: &Backend) -> Result<u64, StoreError> {
    let sql = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM rollup_pending");
    let (n,): (i64,) = db.conn().await?.exec().fetch_one(sql).await?;
    Ok(n as u64)
}

/// The hours each provider's collections covered, by provider.
pub(crate) async fn billed_hours(db: &Backend) -> Result<Vec<super::BilledHours>, StoreError> {
    let sql = Sql::new(
        "SELECT provider, MIN(hour_start), MAX(hour_start), CAST(COUNT(*) AS BIGINT) \
         FROM billed_hours GROUP BY provider ORDER BY provider",
    );
    let rows: Vec<(String, i64, i64, i64)> = db.conn().await?.exec().fetch_all(sql).await?;
    rows.into_iter()
        .map(|(provider, first, last, hours)| {
            let at = |s: i64| {
                DateTime::from_timestamp(s, 0)
                    .ok_or_else(|| StoreError::Corrupt("billed hour out of range".into()))
            };
            Ok(super::BilledHours {
                provider,
                first: at(first)?,
                end: at(last + 3600)?,
                hours,
            })
        })
        .collect()
}

/// The per-cell figures (`cell`: every record, `cell@billed`: pulled records, and for
/// billed cells `cell@battr`: attributed records, `cell@explained`: the min of the two)
/// in the rows `read` names. Only the cost is read: a 90-day report in a zone off UTC
/// reads thousands of rows, and the other 17 sum columns were most of its time.
pub(crate) async fn cell_figures(
    db: &Backend,
    read: &super::CellRead,
) -> Result<Vec<super::CellFigureRow>, StoreError> {
    use super::reconcile::{CELL, CELL_ATTRIBUTED, CELL_EXPLAINED};
    // One term per grain and range for the four figures (an index range per figure on
    // both backends); listed hours as an IN list (fixed integers computed by the
    // caller, not input), which both backends look up one by one: a zone's evening
    // hours over 90 days are ~550 lookups per figure, where a range with a filter on
    // the hour of the day read every hour row.
    let dims = format!("dim IN ('{CELL}', 'cell@billed', '{CELL_ATTRIBUTED}', '{CELL_EXPLAINED}')");
    let packed = db.rows_are_dear();
    let (text, bounds) = if packed {
        sqlite_cell_figures(read, &dims)
    } else {
        postgres_cell_figures(read, &dims)
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&text);
    for bound in bounds {
        sql.push(bound);
    }
    let mut conn = db.conn().await?;
    let rows: Vec<CellRow> = if packed {
        let (json,): (String,) = conn.exec().fetch_one(sql).await?;
        serde_json::from_str(&json)
            .map_err(|err| StoreError::Corrupt(format!("cell figures: {err}")))?
    } else {
        conn.exec().fetch_all(sql).await?
    };
    cell_rows(rows)
}

/// The grains and ranges of rows `read` names: its days', then its hours'.
fn read_ranges(read: &super::CellRead) -> Vec<(&'static str, (i64, i64))> {
    let days = read.days.iter().map(|d| ("d", *d));
    days.chain(read.hours.iter().map(|h| ("h", *h))).collect()
}

/// The listed hours as the text of an IN list (fixed integers, not input).
fn listed_hours(read: &super::CellRead) -> Option<String> {
    (!read.listed.is_empty()).then(|| {
        let hours: Vec<String> = read.listed.iter().map(i64::to_string).collect();
        hours.join(", ")
    })
}

/// SQLite: the base table through the covering index `usage_rollup_dims_cells`
/// (migration 0010; the view would materialise every sum column of each row), the
/// pending deltas beside it (they count in the `cell` figure only, as in the view),
/// and the listed hours summed per group where they move alike ([`CellRead::sum_listed`]):
/// each row returned costs the SQLite driver microseconds.
fn sqlite_cell_figures(read: &super::CellRead, dims: &str) -> (String, Vec<i64>) {
    let (cost, cost_hi) = (
        &SUM_COLUMNS[SUM_COLUMNS.len() - 2],
        &SUM_COLUMNS[SUM_COLUMNS.len() - 1],
    );
    let cell = "provider || char(31) || model";
    let mut selects = Vec::new();
    let mut bounds = Vec::new();
    for (grain, (lo, hi)) in read_ranges(read) {
        bounds.extend([lo, hi]);
        let (a, b) = (bounds.len() - 1, bounds.len());
        let start = if grain == "d" {
            "hour_start - hour_start % 86400"
        } else {
            "hour_start"
        };
        // Day bounds are midnights: the pending hours of those days are the same range.
        selects.push(format!(
            "SELECT dim, grain, bucket_start, value, {cost} AS c, {cost_hi} AS h FROM usage_rollup_dims \
             WHERE {dims} AND grain = '{grain}' AND bucket_start >= ${a} AND bucket_start < ${b}"
        ));
        selects.push(format!(
            "SELECT 'cell' AS dim, '{grain}' AS grain, {start} AS bucket_start, {cell} AS value, \
             {cost} AS c, {cost_hi} AS h FROM rollup_pending \
             WHERE hour_start >= ${a} AND hour_start < ${b}"
        ));
    }
    if let Some(listed) = listed_hours(read) {
        let base = format!(
            "SELECT dim, 'h' AS grain, bucket_start, value, {cost} AS c, {cost_hi} AS h \
             FROM usage_rollup_dims WHERE {dims} AND grain = 'h' AND bucket_start IN ({listed})"
        );
        selects.push(match read.sum_listed {
            Some((tz, start, end)) => format!(
                "SELECT dim, grain, MIN(bucket_start) AS bucket_start, value, \
                 CAST(SUM(c) AS BIGINT) AS c, CAST(SUM(h) AS BIGINT) AS h \
                 FROM ({base}) GROUP BY dim, value, \
                 bucket_start / 86400, {}, bucket_start >= {start}, bucket_start < {end}",
                local_day("bucket_start", tz, start, end)
            ),
            None => base,
        });
        selects.push(format!(
            "SELECT 'cell' AS dim, 'h' AS grain, hour_start AS bucket_start, {cell} AS value, \
             {cost} AS c, {cost_hi} AS h FROM rollup_pending \
             WHERE hour_start IN ({listed})"
        ));
    }
    if selects.is_empty() {
        return (String::new(), bounds);
    }
    // One row: the rows as a JSON array, read at once instead of row by row.
    let text = format!(
        "SELECT json_group_array(json_array(dim, grain, bucket_start, value, c, h)) FROM ({})",
        selects.join(" UNION ALL ")
    );
    (text, bounds)
}

/// Postgres: the live view, one OR'd term per grain and range and one for the listed
/// hours (a separate branch for them cost 27 ms against 17 for 90 Chicago days).
fn postgres_cell_figures(read: &super::CellRead, dims: &str) -> (String, Vec<i64>) {
    let mut terms = Vec::new();
    let mut bounds = Vec::new();
    for (grain, (lo, hi)) in read_ranges(read) {
        bounds.push(lo);
        bounds.push(hi);
        terms.push(format!(
            "({dims} AND grain = '{grain}' AND bucket_start >= ${} AND bucket_start < ${})",
            bounds.len() - 1,
            bounds.len()
        ));
    }
    if let Some(listed) = listed_hours(read) {
        terms.push(format!(
            "({dims} AND grain = 'h' AND bucket_start IN ({listed}))"
        ));
    }
    if terms.is_empty() {
        return (String::new(), bounds);
    }
    // The cost's two limbs: the last of the sum columns.
    let cost = SUM_COLUMNS[SUM_COLUMNS.len() - 2..].join(", ");
    let text = format!(
        "SELECT dim, grain, bucket_start, value, {cost} FROM usage_rollup_dims_live WHERE {}",
        terms.join(" OR ")
    );
    (text, bounds)
}

type CellRow = (String, String, i64, String, i64, i64);

fn cell_rows(rows: Vec<CellRow>) -> Result<Vec<super::CellFigureRow>, StoreError> {
    use super::reconcile::{CELL, CELL_ATTRIBUTED, CELL_EXPLAINED};
    rows.into_iter()
        .map(|(dim, grain, bucket_start, value, cost, cost_hi)| {
            let (provider, model) = value
                .split_once(super::reconcile::CELL_SEPARATOR)
                .ok_or_else(|| StoreError::Corrupt("cell value without a provider".into()))?;
            let figure = match dim.as_str() {
                CELL => super::CellFigure::All,
                CELL_ATTRIBUTED => super::CellFigure::BilledCellAttributed,
                CELL_EXPLAINED => super::CellFigure::Explained,
                _ => super::CellFigure::Billed,
            };
            let at = DateTime::from_timestamp(bucket_start, 0)
                .ok_or_else(|| StoreError::Corrupt("cell bucket out of range".into()))?;
            Ok(super::CellFigureRow {
                at,
                day: grain == "d",
                provider: provider.to_string(),
                model: model.to_string(),
                figure,
                cost: crate::domain::money::Pico(super::schema::join(cost, cost_hi)),
            })
        })
        .collect()
}
