//! The one place where Postgres and SQLite differ in sqlx types: a query is SQL text
//! and a list of [`Value`]s, run on an [`Exec`] (a Postgres or SQLite connection)
//! and read back as [`RowType`]s. Everything above this module is written once.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Database, Encode, FromRow, Postgres, Sqlite, Type};

use super::StoreError;

/// One bound value. Text borrows from the caller, so binding copies it once, into
/// the driver's buffer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    BigInt(i64),
    OptBigInt(Option<i64>),
    Int(i32),
    Bool(bool),
    Text(&'a str),
    OptText(Option<&'a str>),
    Owned(String),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::BigInt(v)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::OptBigInt(v)
    }
}

impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::OptText(v)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Value::OptText(v.as_deref())
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Owned(v)
    }
}

/// SQL text and its values, in the order of the text's parameters.
#[derive(Debug)]
pub(crate) struct Sql<'a> {
    text: &'a str,
    values: Vec<Value<'a>>,
    /// Kept prepared on the connection (the default), or prepared for this run only.
    persistent: bool,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Sql {
            text,
            values: Vec::new(),
            persistent: true,
        }
    }

    /// With room for `n` values (multi-row statements).
    pub(crate) fn with_capacity(text: &'a str, n: usize) -> Self {
        Sql {
            text,
            values: Vec::with_capacity(n),
            persistent: true,
        }
    }

    /// A multi-row statement of `rows` rows out of at most `full`: kept prepared only
    /// when it is small or full. Every other row count is a text of its own, and
    /// each connection would otherwise cache one statement (with its parameter
    /// types, thousands for a long one) per count it has seen: megabytes each.
    pub(crate) fn multi_row(mut self, rows: usize, full: usize) -> Self {
        self.persistent = rows <= SMALL_STATEMENT_ROWS || rows == full;
        self
    }

    /// Prepared for this run only (a text built from computed values, seldom repeated).
    pub(crate) fn once(mut self) -> Self {
        self.persistent = false;
        self
    }

    pub(crate) fn bind(mut self, value: impl Into<Value<'a>>) -> Self {
        self.values.push(value.into());
        self
    }

    pub(crate) fn push(&mut self, value: impl Into<Value<'a>>) {
        self.values.push(value.into());
    }
}

/// Multi-row statements of at most this many rows stay prepared whatever their count.
const SMALL_STATEMENT_ROWS: usize = 16;

/// A row shape both backends can read (`#[derive(sqlx::FromRow)]`, or a tuple).
pub(crate) trait RowType:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

impl<T> RowType for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

/// The values as one backend's arguments, in order.
fn arguments<'q, DB>(values: Vec<Value<'q>>) -> Result<<DB as Database>::Arguments<'q>, StoreError>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    i32: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
{
    use sqlx::Arguments;
    let mut args = <DB as Database>::Arguments::<'q>::default();
    args.reserve(values.len(), 0);
    for value in values {
        match value {
            Value::BigInt(v) => args.add(v),
            Value::OptBigInt(v) => args.add(v),
            Value::Int(v) => args.add(v),
            Value::Bool(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::OptText(v) => args.add(v),
            Value::Owned(v) => args.add(v),
        }
        .map_err(|err| StoreError::Database(sqlx::Error::Encode(err)))?;
    }
    Ok(args)
}

/// A connection of either backend (a pooled one, or a transaction's).
pub(crate) enum Exec<'c> {
    Pg(&'c mut PgConnection),
    Sqlite(&'c mut SqliteConnection),
}

impl Exec<'_> {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql<'_>) -> Result<u64, StoreError> {
        let done = match self {
            Exec::Pg(conn) => {
                let args = arguments::<Postgres>(sql.values)?;
                sqlx::query_with(sql.text, args)
                    .persistent(sql.persistent)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected()
            }
            Exec::Sqlite(conn) => {
                let args = arguments::<Sqlite>(sql.values)?;
                sqlx::query_with(sql.text, args)
                    .persistent(sql.persistent)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected()
            }
        };
        Ok(done)
    }

    pub(crate) async fn fetch_all<T: RowType>(
        &mut self,
        sql: Sql<'_>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Exec::Pg(conn) => {
                let args = arguments::<Postgres>(sql.values)?;
                sqlx::query_as_with(sql.text, args)
                    .persistent(sql.persistent)
                    .fetch_all(&mut **conn)
                    .await?
            }
            Exec::Sqlite(conn) => {
                let args = arguments::<Sqlite>(sql.values)?;
                sqlx::query_as_with(sql.text, args)
                    .persistent(sql.persistent)
                    .fetch_all(&mut **conn)
                    .await?
            }
        })
    }

    /// The first row, if any (for statements that return at most one).
    pub(crate) async fn fetch_optional<T: RowType>(
        &mut self,
        sql: Sql<'_>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.fetch_all(sql).await?.into_iter().next())
    }

    pub(crate) async fn fetch_one<T: RowType>(&mut self, sql: Sql<'_>) -> Result<T, StoreError> {
        self.fetch_optional(sql)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }
}
