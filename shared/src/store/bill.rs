//! The providers' daily bills (`billed_costs`, `billed_days`): written in the
//! transaction of the collected chunk they came with, replacing what the same days
//! held before, and read back by the bill check.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::backend::Backend;
use super::db::{Exec, Sql};
use super::schema;
use super::StoreError;
use crate::domain::money::Pico;

/// One line of a provider's bill for one UTC day.
#[derive(Debug, Clone, PartialEq)]
pub struct BilledLine {
    pub provider: String,
    pub day: NaiveDate,
    /// Anthropic `workspace_id` / OpenAI `project_id`; `None` for the default workspace.
    pub workspace: Option<String>,
    /// The line's natural key within (provider, day, workspace).
    pub line: String,
    /// The model the line names (`None`: not named, or not parsed).
    pub model: Option<String>,
    /// The [`crate::domain::pricing::TokenKind`] (or another kind the bill names, such as
    /// `code_execution`) as text; `None` when the line does not say.
    pub token_kind: Option<String>,
    pub description: Option<String>,
    pub amount: Pico,
    /// The line as the provider sent it.
    pub raw: serde_json::Value,
}

/// The bill of some whole UTC days of one provider, `[first, end)`: every line of
/// those days. Stored, it replaces whatever those days held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BillChunk {
    pub provider: String,
    /// `[first, end)` days; `None` when the chunk pulled no bill (no whole day ended in it).
    pub days: Option<(NaiveDate, NaiveDate)>,
    pub lines: Vec<BilledLine>,
}

/// What the store holds of the bills of a range of days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredBill {
    /// `(provider, day)` of every day whose bill was pulled.
    pub days: Vec<(String, NaiveDate)>,
    pub lines: Vec<BilledLine>,
}

fn day_start(day: NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

fn day_of(start: i64) -> Result<NaiveDate, StoreError> {
    DateTime::<Utc>::from_timestamp(start, 0)
        .map(|at| at.date_naive())
        .ok_or_else(|| StoreError::Corrupt(format!("bill day {start}")))
}

/// Replaces the bill of `bill.days` with `bill.lines` (lines with the same key are
/// summed), inside the caller's transaction.
pub(crate) async fn write_bill(
    exec: &mut Exec<'_>,
    db: &Backend,
    bill: &BillChunk,
    now_ms: i64,
) -> Result<(), StoreError> {
    let Some((first, end)) = bill.days else {
        return Ok(());
    };
    let (from, to) = (day_start(first), day_start(end));
    for table in ["billed_costs", "billed_days"] {
        let text = format!(
            "DELETE FROM {table} WHERE provider = $1 AND day_start >= $2 AND day_start < $3"
        );
        let sql = Sql::new(&text).bind(&bill.provider).bind(from).bind(to);
        exec.execute(sql).await?;
    }
    let mut day = first;
    let mut days = Vec::new();
    while day < end {
        days.push(day_start(day));
        day = day.succ_opt().unwrap_or(end);
    }
    for chunk in days.chunks(100) {
        let text = format!(
            "INSERT INTO billed_days (provider, day_start, pulled_at_ms) VALUES {}",
            schema::values_list(chunk.len(), 3, db.params())
        );
        let mut sql = Sql::with_capacity(&text, chunk.len() * 3).once();
        for start in chunk {
            sql.push(&bill.provider);
            sql.push(*start);
            sql.push(now_ms);
        }
        exec.execute(sql).await?;
    }
    // One row per key: a provider repeating a line has billed it twice.
    let mut merged: BTreeMap<(i64, String, String), (&BilledLine, Pico)> = BTreeMap::new();
    for line in bill.lines.iter().filter(|l| l.day >= first && l.day < end) {
        let key = (
            day_start(line.day),
            line.workspace.clone().unwrap_or_default(),
            line.line.clone(),
        );
        merged.entry(key).or_insert((line, Pico::ZERO)).1 += line.amount;
    }
    let rows: Vec<_> = merged.into_iter().collect();
    let raws: Vec<String> = rows.iter().map(|(_, (l, _))| l.raw.to_string()).collect();
    for (chunk, raws) in rows.chunks(100).zip(raws.chunks(100)) {
        let text = format!(
            "INSERT INTO billed_costs (provider, day_start, workspace, line, model, token_kind, \
             description, amount_pico, raw) VALUES {}",
            schema::values_list(chunk.len(), 9, db.params())
        );
        let mut sql = Sql::with_capacity(&text, chunk.len() * 9).once();
        for (((start, workspace, key), (line, amount)), raw) in chunk.iter().zip(raws) {
            let amount = amount
                .stored()
                .ok_or_else(|| StoreError::Corrupt(format!("bill line {key} is too large")))?;
            sql.push(&bill.provider);
            sql.push(*start);
            sql.push(workspace);
            sql.push(key);
            sql.push(&line.model);
            sql.push(&line.token_kind);
            sql.push(&line.description);
            sql.push(amount);
            sql.push(raw);
        }
        exec.execute(sql).await?;
    }
    Ok(())
}

type LineRow = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    String,
);

/// The stored bills of the days `[first, end)`.
pub(crate) async fn stored_bill(
    db: &Backend,
    first: NaiveDate,
    end: NaiveDate,
) -> Result<StoredBill, StoreError> {
    let (from, to) = (day_start(first), day_start(end));
    let mut conn = db.conn().await?;
    let mut exec = conn.exec();
    let days: Vec<(String, i64)> = exec
        .fetch_all(
            Sql::new(
                "SELECT provider, day_start FROM billed_days \
                 WHERE day_start >= $1 AND day_start < $2 ORDER BY day_start, provider",
            )
            .bind(from)
            .bind(to),
        )
        .await?;
    let lines: Vec<LineRow> = exec
        .fetch_all(
            Sql::new(
                "SELECT provider, day_start, workspace, line, model, token_kind, description, \
                 amount_pico, raw FROM billed_costs WHERE day_start >= $1 AND day_start < $2 \
                 ORDER BY day_start, provider, workspace, line",
            )
            .bind(from)
            .bind(to),
        )
        .await?;
    let days = days
        .into_iter()
        .map(|(provider, start)| Ok((provider, day_of(start)?)))
        .collect::<Result<_, StoreError>>()?;
    let lines = lines
        .into_iter()
        .map(|row| {
            let (provider, start, workspace, line, model, token_kind, description, amount, raw) =
                row;
            Ok(BilledLine {
                provider,
                day: day_of(start)?,
                workspace: Some(workspace).filter(|w| !w.is_empty()),
                line,
                model,
                token_kind,
                description,
                amount: Pico(amount.into()),
                raw: serde_json::from_str(&raw)
                    .map_err(|_| StoreError::Corrupt("bill line raw JSON".into()))?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(StoredBill { days, lines })
}
