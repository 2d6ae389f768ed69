//! The schema facts the SQL is built from, each written once: a record's columns
//! ([`RECORD`]), a rollup row's key ([`ROLLUP_KEY`]) and sums ([`SUMS`]). Every
//! statement that lists them is derived here; placeholders are `$n` (numbered,
//! which both backends bind by number) or `?` (anonymous, bound in order).

use std::fmt::Write;
use std::sync::LazyLock;

use super::db::Value;
use super::rollup::{hour_start, RollupKey, Totals};
use crate::domain::usage::UsageRecord;

/// One stored column of a usage record: its name, its Postgres type (the array
/// type of the one-statement push) and how a record gives its value.
pub(crate) struct Column {
    pub name: &'static str,
    pub pg_type: &'static str,
    pub value: for<'r> fn(&'r UsageRecord) -> Value<'r>,
}

const fn col(
    name: &'static str,
    pg_type: &'static str,
    value: for<'r> fn(&'r UsageRecord) -> Value<'r>,
) -> Column {
    Column {
        name,
        pg_type,
        value,
    }
}

/// The columns a write stores, in bind order. The store id is assigned by the
/// database; `hour_start` is derived from `recorded_at` and never read back; the
/// time of the write (`created_at_ms`, `updated_at_ms`) is bound after these.
pub(crate) static RECORD: [Column; 34] = [
    col("source", "text", |r| Value::Text(r.facts.source.as_str())),
    col("external_id", "text", |r| Value::Text(&r.facts.external_id)),
    col("recorded_at_ms", "int8", |r| {
        Value::BigInt(r.facts.recorded_at.timestamp_millis())
    }),
    col("hour_start", "int8", |r| {
        Value::BigInt(hour_start(r.facts.recorded_at))
    }),
    col("bucket_seconds", "int4", |r| {
        Value::Int(r.facts.bucket_seconds)
    }),
    col("provider", "text", |r| Value::Text(&r.provider)),
    col("model", "text", |r| Value::Text(&r.facts.model)),
    col("model_key", "text", |r| Value::Text(&r.model_key)),
    col("input_tokens", "int8", |r| {
        Value::BigInt(r.facts.tokens.input)
    }),
    col("output_tokens", "int8", |r| {
        Value::BigInt(r.facts.tokens.output)
    }),
    col("cache_read_tokens", "int8", |r| {
        Value::BigInt(r.facts.tokens.cache_read)
    }),
    col("cache_write_5m_tokens", "int8", |r| {
        Value::BigInt(r.facts.tokens.cache_write_5m)
    }),
    col("cache_write_1h_tokens", "int8", |r| {
        Value::BigInt(r.facts.tokens.cache_write_1h)
    }),
    col("web_search_requests", "int8", |r| {
        Value::BigInt(r.facts.tokens.web_search_requests)
    }),
    col("request_count", "int8", |r| {
        Value::BigInt(r.facts.tokens.requests)
    }),
    col("service_tier", "text", |r| {
        Value::OptText(r.facts.service_tier.as_deref())
    }),
    col("context_window", "text", |r| {
        Value::OptText(r.facts.context_window.as_deref())
    }),
    col("inference_geo", "text", |r| {
        Value::OptText(r.facts.inference_geo.as_deref())
    }),
    col("session_label", "text", |r| {
        Value::OptText(r.facts.session_label.as_deref())
    }),
    col("session_type", "text", |r| {
        Value::Text(r.session_type.as_str())
    }),
    col("session_id", "text", |r| {
        Value::OptText(r.facts.session_id.as_deref())
    }),
    col("agent", "text", |r| Value::OptText(r.agent.as_deref())),
    col("project", "text", |r| Value::Text(&r.project)),
    col("project_source", "text", |r| {
        Value::Text(r.project_source.as_str())
    }),
    col("api_key_id", "text", |r| {
        Value::OptText(r.facts.api_key_id.as_deref())
    }),
    col("api_key_name", "text", |r| {
        Value::OptText(r.facts.api_key_name.as_deref())
    }),
    col("workspace_id", "text", |r| {
        Value::OptText(r.facts.workspace_id.as_deref())
    }),
    col("workspace_name", "text", |r| {
        Value::OptText(r.facts.workspace_name.as_deref())
    }),
    // A record's cost fits in 64 bits: the ledger refuses any other (checked again
    // by every write, see `write::check_representable`).
    col("cost_pico", "int8", |r| {
        Value::BigInt(r.cost.stored().unwrap_or(i64::MAX))
    }),
    col("cost_source", "text", |r| {
        Value::Text(r.cost_source.as_str())
    }),
    col("computed_cost_pico", "int8", |r| {
        Value::OptBigInt(r.computed_cost.map(|c| c.stored().unwrap_or(i64::MAX)))
    }),
    col("price_ref", "text", |r| {
        Value::OptText(r.price_ref.as_deref())
    }),
    col("unpriced", "bool", |r| Value::Bool(r.unpriced)),
    col("raw", "text", |r| Value::Owned(r.facts.raw.to_string())),
];

/// Binds per stored record: its columns and the time of the write twice.
pub(crate) const RECORD_BINDS: usize = RECORD.len() + 2;

/// The columns of a rollup row's key, in [`RollupKey`] field order (an absent agent is `''`).
pub(crate) const ROLLUP_KEY: [&str; 7] = [
    "hour_start",
    "provider",
    "model",
    "project",
    "agent",
    "session_type",
    "source",
];

/// The sums of a rollup row, in [`Totals`] field order (its `cost` is `cost_pico`).
/// Every sum but `records` is stored as two 64-bit limbs: `x`, the low
/// [`LIMB_BITS`] bits (0 ≤ x < 2³²), and `x_hi`, the rest, so that the value is
/// `x_hi · 2³² + x`. A delta adds limb to limb and carries, and SQL sums the two
/// limbs apart, so neither a rollup row nor a report over any number of rows can
/// overflow (the low limbs of 2³¹ rows fit in 64 bits; the high limbs hold sums up
/// to 2⁹⁵ picodollars, about 4 × 10¹⁶ USD).
pub(crate) const SUMS: [&str; 10] = [
    "records",
    "requests",
    "unpriced_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "web_search_requests",
    "cost_pico",
];

/// Bits in a sum's low limb.
pub(crate) const LIMB_BITS: u32 = 32;
const LOW_MASK: &str = "4294967295";

/// The stored columns of the sums, in [`SUMS`] order: `records`, then each wide
/// sum's low and high limb.
pub(crate) static SUM_COLUMNS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut columns = vec![SUMS[0].to_string()];
    for sum in &SUMS[1..] {
        columns.push(sum.to_string());
        columns.push(format!("{sum}_hi"));
    }
    columns
});

/// Bound values per sums: records and two limbs for each of the others.
pub(crate) const SUM_BINDS: usize = 1 + 2 * (SUMS.len() - 1);

fn sum_columns() -> String {
    SUM_COLUMNS.join(", ")
}

/// The values of a rollup key, in [`ROLLUP_KEY`] order.
pub(crate) fn key_values(key: &RollupKey) -> [Value<'_>; 7] {
    [
        Value::BigInt(key.hour_start),
        Value::Text(&key.provider),
        Value::Text(&key.model),
        Value::Text(&key.project),
        Value::Text(&key.agent),
        Value::Text(key.session_type.as_str()),
        Value::Text(key.source.as_str()),
    ]
}

/// The select list of a stored record (read as [`super::rows::RecordRow`]).
pub(crate) static RECORD_SELECT: LazyLock<String> = LazyLock::new(|| {
    let mut list = String::from("id");
    for column in RECORD.iter().filter(|c| c.name != "hour_start") {
        list.push_str(", ");
        list.push_str(column.name);
    }
    list
});

fn names(columns: impl IntoIterator<Item = &'static str>) -> String {
    columns.into_iter().collect::<Vec<_>>().join(", ")
}

fn record_names() -> String {
    names(RECORD.iter().map(|c| c.name))
}

/// `SUM(…) AS …` of every sum column over rows that have them (limb by limb; never NULL).
pub(crate) static ROLLUP_SUMS: LazyLock<String> = LazyLock::new(|| {
    SUM_COLUMNS
        .iter()
        .map(|c| sum_of(c, c))
        .collect::<Vec<_>>()
        .join(", ")
});

fn sum_of(expression: &str, column: &str) -> String {
    format!("CAST(COALESCE(SUM({expression}), 0) AS BIGINT) AS {column}")
}

/// The same sums computed from raw records, in limbs: what a set of records adds
/// to the rollups ([`Totals::of`] in SQL).
pub(crate) static RECORD_SUMS: LazyLock<String> = LazyLock::new(|| {
    let mut parts = vec!["CAST(COUNT(*) AS BIGINT) AS records".to_string()];
    for &sum in &SUMS[1..] {
        let value = match sum {
            "requests" => "request_count",
            "unpriced_requests" => {
                "(CASE WHEN NOT unpriced THEN 0 WHEN request_count > 0 THEN request_count ELSE 1 END)"
            }
            column => column,
        };
        parts.push(sum_of(&format!("{value} & {LOW_MASK}"), sum));
        parts.push(sum_of(
            &format!("{value} >> {LIMB_BITS}"),
            &format!("{sum}_hi"),
        ));
    }
    parts.join(", ")
});

/// How a backend's multi-row statements name their parameters. Postgres numbers
/// them (`$n`); SQLite binds anonymous `?` in order, because looking up a numbered
/// parameter costs time linear in the statement's parameter count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Params {
    Numbered,
    Anonymous,
}

/// Placeholders for `rows` rows of `width` binds each, in bind order.
pub(crate) fn values_list(rows: usize, width: usize, params: Params) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 1..=width {
            if column > 1 {
                sql.push_str(", ");
            }
            match params {
                Params::Numbered => {
                    let _ = write!(sql, "${}", row * width + column);
                }
                Params::Anonymous => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts `rows` records at once, [`RECORD_BINDS`] values each; a key that exists
/// already (or repeats in the statement) is skipped and reported by its absence.
pub(crate) fn insert_records_sql(rows: usize, params: Params) -> String {
    format!(
        "INSERT INTO usage_records ({}, created_at_ms, updated_at_ms) VALUES {} \
         ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id",
        record_names(),
        values_list(rows, RECORD_BINDS, params)
    )
}

/// Rewrites one record: its [`RECORD`] values, the time of the write, then its id.
pub(crate) static UPDATE_RECORD: LazyLock<String> = LazyLock::new(|| {
    let mut sql = String::from("UPDATE usage_records SET ");
    for (i, column) in RECORD.iter().enumerate() {
        let _ = write!(sql, "{} = ${}, ", column.name, i + 1);
    }
    let n = RECORD.len();
    let _ = write!(sql, "updated_at_ms = ${} WHERE id = ${}", n + 1, n + 2);
    sql
});

/// Postgres only: stores new records and appends their rollup deltas to
/// `rollup_pending`, in one statement (one round trip, atomic on its own), and
/// only when none of the keys exists yet and no record falls in a billed hour (see
/// [`super::reconcile`]). The records come as one array per
/// [`RECORD`] column, then the time of the write, then the deltas (computed in Rust)
/// as one array per [`ROLLUP_KEY`] and [`SUM_COLUMNS`] column, so the text is the same
/// whatever the batch size and is parsed once per connection. Returns `id, source,
/// external_id` of every record stored: all of them, or none when a key exists (the
/// caller then takes the general path). A key inserted meanwhile by someone else
/// fails the statement with a unique violation, so it never stores part of a batch.
pub(crate) static INSERT_NEW_DEFERRED: LazyLock<String> = LazyLock::new(|| {
    let arrays = |types: &mut dyn Iterator<Item = &str>, first: usize| -> String {
        types
            .enumerate()
            .map(|(i, t)| format!("${}::{t}[]", first + i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let now = RECORD.len() + 1;
    let record_arrays = arrays(&mut RECORD.iter().map(|c| c.pg_type), 1);
    let key_types = ["int8", "text", "text", "text", "text", "text", "text"];
    let pending_arrays = arrays(
        &mut key_types
            .into_iter()
            .chain(std::iter::repeat_n("int8", SUM_BINDS)),
        now + 1,
    );
    let rollup = format!("{}, {}", names(ROLLUP_KEY), sum_columns());
    format!(
        "WITH v AS (SELECT * FROM UNNEST({record_arrays}) AS t ({columns})), \
         ins AS (INSERT INTO usage_records ({columns}, created_at_ms, updated_at_ms) \
           SELECT v.*, ${now}::int8, ${now}::int8 FROM v WHERE NOT EXISTS \
             (SELECT 1 FROM usage_records u JOIN v ON u.source = v.source \
              AND u.external_id = v.external_id) \
           AND NOT EXISTS (SELECT 1 FROM billed_hours b JOIN v ON b.provider = v.provider \
              AND b.hour_start = v.hour_start) \
           RETURNING id, source, external_id), \
         pend AS (INSERT INTO rollup_pending ({rollup}) \
           SELECT * FROM UNNEST({pending_arrays}) WHERE EXISTS (SELECT 1 FROM ins)) \
         SELECT id, source, external_id FROM ins",
        columns = record_names(),
    )
});

/// Postgres: the stored records of one source (`$1`) with the external ids in the
/// array `$2`. A join with the array, not `IN (…)`: with statistics not yet updated
/// after a bulk import, Postgres scanned every record of the source for the list.
pub(crate) static SELECT_BY_KEY_ARRAY: LazyLock<String> = LazyLock::new(|| {
    // The array's one column is `key`, so the record's column names stay unambiguous.
    format!(
        "SELECT {} FROM UNNEST($2::text[]) AS k (key) \
         JOIN usage_records u ON u.source = $1 AND u.external_id = k.key",
        *RECORD_SELECT
    )
});

/// SQLite: the stored records of one source with `keys` external ids.
pub(crate) fn select_by_keys_sql(keys: usize) -> String {
    let list: Vec<String> = (0..keys).map(|i| format!("${}", i + 2)).collect();
    format!(
        "SELECT {} FROM usage_records WHERE source = $1 AND external_id IN ({})",
        *RECORD_SELECT,
        list.join(", ")
    )
}

/// What an upsert of deltas does to `table`'s sums: adds the counts, and the limbs
/// of every other sum with the carry of the low limb into the high one.
fn add_sums(table: &str) -> String {
    let mut sets = vec![format!("records = {table}.records + excluded.records")];
    for sum in &SUMS[1..] {
        let low = format!("({table}.{sum} + excluded.{sum})");
        sets.push(format!("{sum} = {low} & {LOW_MASK}"));
        sets.push(format!(
            "{sum}_hi = {table}.{sum}_hi + excluded.{sum}_hi + ({low} >> {LIMB_BITS})"
        ));
    }
    sets.join(", ")
}

/// Adds `rows` full-key rollup deltas at once (each key at most once per statement).
pub(crate) fn upsert_rollups_sql(rows: usize) -> String {
    upsert_full_key_sql("usage_rollups", rows)
}

/// Adds `rows` full-key deltas to `table` (`usage_rollups` or `rollup_adjustments`).
pub(crate) fn upsert_full_key_sql(table: &str, rows: usize) -> String {
    let key = names(ROLLUP_KEY);
    format!(
        "INSERT INTO {table} ({key}, {}) VALUES {} ON CONFLICT ({key}) DO UPDATE SET {}",
        sum_columns(),
        values_list(rows, ROLLUP_KEY.len() + SUM_BINDS, Params::Numbered),
        add_sums(table)
    )
}

/// Appends `rows` rollup deltas to `rollup_pending`, same binds as [`upsert_rollups_sql`].
pub(crate) fn insert_pending_sql(rows: usize) -> String {
    format!(
        "INSERT INTO rollup_pending ({}, {}) VALUES {}",
        names(ROLLUP_KEY),
        sum_columns(),
        values_list(rows, ROLLUP_KEY.len() + SUM_BINDS, Params::Numbered)
    )
}

/// Adds `rows` one-dimension rollup deltas (`dim, grain, bucket_start, value`, sums).
pub(crate) fn upsert_dims_sql(rows: usize) -> String {
    format!(
        "INSERT INTO usage_rollup_dims (dim, grain, bucket_start, value, {}) VALUES {} \
         ON CONFLICT (dim, grain, bucket_start, value) DO UPDATE SET {}",
        sum_columns(),
        values_list(rows, 4 + SUM_BINDS, Params::Numbered),
        add_sums("usage_rollup_dims")
    )
}

/// Takes every committed pending delta (the fold deletes what it applies, in one
/// transaction); rows read as [`super::rows::RollupRow`].
pub(crate) static TAKE_PENDING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM rollup_pending RETURNING {}, {}",
        names(ROLLUP_KEY),
        sum_columns()
    )
});

pub(crate) const DELETE_EMPTY_ROLLUPS: &str = "DELETE FROM usage_rollups WHERE records = 0";
/// Every sum zero: an adjustment or figure row that no longer changes anything (a
/// record row has `records` > 0 while it has any other sum).
static ALL_ZERO: LazyLock<String> = LazyLock::new(|| {
    SUM_COLUMNS
        .iter()
        .map(|c| format!("{c} = 0"))
        .collect::<Vec<_>>()
        .join(" AND ")
});
pub(crate) static DELETE_EMPTY_DIMS: LazyLock<String> =
    LazyLock::new(|| format!("DELETE FROM usage_rollup_dims WHERE {}", *ALL_ZERO));
/// Adjustments that reached zero in the hours `[$1, $2)`.
pub(crate) static DELETE_EMPTY_ADJUSTMENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM rollup_adjustments WHERE hour_start >= $1 AND hour_start < $2 AND {}",
        *ALL_ZERO
    )
});
/// `@adj` and `cell@…` figure rows that reached zero in the buckets `[$1, $2)`.
pub(crate) static DELETE_EMPTY_LAYER_DIMS: LazyLock<String> = LazyLock::new(|| {
    let dims: Vec<String> = [
        "total",
        "provider",
        "model",
        "project",
        "agent",
        "session_type",
        "source",
    ]
    .into_iter()
    .map(|d| format!("'{d}@adj'"))
    .chain(["'cell@bbill'", "'cell@battr'", "'cell@explained'"].map(String::from))
    .collect();
    format!(
        "DELETE FROM usage_rollup_dims WHERE dim IN ({}) AND bucket_start >= $1 \
         AND bucket_start < $2 AND {}",
        dims.join(", "),
        *ALL_ZERO
    )
});

/// The sums of a rollup row as bound values, in [`SUM_COLUMNS`] order. `None`
/// when a sum reaches 2⁹⁵ (its high limb would not fit in 64 bits).
pub(crate) fn sum_values(t: &Totals) -> Option<[Value<'static>; SUM_BINDS]> {
    let mut values = [const { Value::BigInt(0) }; SUM_BINDS];
    values[0] = Value::BigInt(t.records);
    for (i, wide) in t.wide().into_iter().enumerate() {
        let (low, high) = split(wide)?;
        values[1 + 2 * i] = Value::BigInt(low);
        values[2 + 2 * i] = Value::BigInt(high);
    }
    Some(values)
}

/// A wide sum as its low and high limb.
pub(crate) fn split(value: i128) -> Option<(i64, i64)> {
    let low = (value & ((1 << LIMB_BITS) - 1)) as i64;
    Some((low, i64::try_from(value >> LIMB_BITS).ok()?))
}

/// A wide sum from its (summed) limbs.
pub(crate) fn join(low: i64, high: i64) -> i128 {
    (i128::from(high) << LIMB_BITS) + i128::from(low)
}

/// What decides which of two versions of one imported call is kept: every token.
pub(crate) fn import_weight(record: &UsageRecord) -> i64 {
    let t = &record.facts.tokens;
    t.input + t.output + t.cache_read + t.cache_write_5m + t.cache_write_1h
}

/// Two records describe the same usage (ignoring the store id).
pub(crate) fn same_content(stored: &UsageRecord, incoming: &UsageRecord) -> bool {
    let mut probe = incoming.clone();
    probe.id = stored.id;
    probe == *stored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sums_are_the_totals_fields_in_order() {
        // Serialised in declaration order: the keys of the object, in order.
        let text = serde_json::to_string(&Totals::default()).unwrap();
        let fields: Vec<String> = text
            .trim_matches(['{', '}'])
            .split(',')
            .map(|pair| {
                pair.split(':')
                    .next()
                    .unwrap()
                    .trim_matches('"')
                    .to_string()
            })
            .collect();
        let mut expected: Vec<String> = SUMS.iter().map(|s| s.to_string()).collect();
        expected[9] = "cost".into();
        assert_eq!(fields, expected);
    }

    #[test]
    fn limbs_split_and_join_any_value_below_two_to_the_95() {
        for value in [
            0,
            1,
            -1,
            4_294_967_295,
            4_294_967_296,
            i64::MAX as i128,
            -(1 << 94),
            (1 << 95) - 1,
        ] {
            let (low, high) = split(value).unwrap();
            assert!((0..1 << LIMB_BITS).contains(&low));
            assert_eq!(join(low, high), value);
        }
        assert_eq!(split(1 << 95), None);
        // Limbs add limb by limb: the sum of many splits joins to the sum.
        let values = [i64::MAX as i128; 1000];
        let (lows, highs) = values
            .iter()
            .map(|&v| split(v).unwrap())
            .fold((0, 0), |(l, h), (a, b)| (l + a, h + b));
        assert_eq!(join(lows, highs), 1000 * i64::MAX as i128);
    }

    #[test]
    fn numbered_and_anonymous_placeholders_count_the_same_binds() {
        assert_eq!(
            values_list(2, 3, Params::Numbered),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values_list(2, 2, Params::Anonymous), "(?, ?), (?, ?)");
    }

    #[test]
    fn the_update_binds_every_column_then_the_time_and_the_id() {
        assert!(UPDATE_RECORD.starts_with("UPDATE usage_records SET source = $1, "));
        assert!(UPDATE_RECORD.ends_with("raw = $34, updated_at_ms = $35 WHERE id = $36"));
    }
}
