//! Reading provider responses. Each documented response is a `#[derive(Deserialize)]`
//! struct of [`Field`]s, [`Object`]s, [`List`]s and [`Sent`] rows, which take whatever
//! the provider sent, so deserializing never fails and a field a provider adds or
//! leaves out changes nothing. [`Endpoint`] then checks each field where it is used,
//! so that an error names the endpoint and the field's path.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::{CollectError, Provider};

/// A scalar field as sent: absent or null, of the expected type, or of another one
/// (kept to show in the error).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Field<T> {
    #[default]
    Null,
    Valid(T),
    Invalid(Value),
}

impl<T> Field<T> {
    /// The value when it has the expected type.
    pub fn valid(&self) -> Option<&T> {
        match self {
            Field::Valid(value) => Some(value),
            Field::Null | Field::Invalid(_) => None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(&value) {
            Ok(valid) => Field::Valid(valid),
            Err(_) => Field::Invalid(value),
        })
    }
}

/// Writes the field back as it was sent (absent as null), for a record's `raw`.
impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => serializer.serialize_unit(),
            Field::Valid(value) => value.serialize(serializer),
            Field::Invalid(value) => value.serialize(serializer),
        }
    }
}

/// A nested object. Anything but an object reads as one without fields, as looking a
/// key up in it would find nothing.
#[derive(Debug, Default)]
pub(crate) struct Object<T>(pub T);

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Object(read(Value::deserialize(deserializer)?)))
    }
}

/// A list; `None` when absent, null or not a list. Its items are [`Object`]s or
/// [`Sent`] rows, which read any value.
#[derive(Debug)]
pub(crate) struct List<T>(pub Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(List(match Value::deserialize(deserializer)? {
            Value::Array(items) => Some(
                items
                    .into_iter()
                    .map(|item| T::deserialize(item).unwrap_or_default())
                    .collect(),
            ),
            _ => None,
        }))
    }
}

/// A result row: its fields, and the row verbatim (unknown fields too) for the
/// record's `raw`. Anything but an object has no fields.
#[derive(Debug, Default)]
pub(crate) struct Sent<T> {
    pub raw: Value,
    pub fields: T,
}

impl<'de, T: DeserializeOwned + Default> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let fields = match raw.is_object() {
            true => T::deserialize(&raw).unwrap_or_default(),
            false => T::default(),
        };
        Ok(Sent { raw, fields })
    }
}

#[cfg(test)]
impl<T: DeserializeOwned + Default> Sent<T> {
    /// A row as a provider would send it, for unit tests.
    pub fn of(row: &Value) -> Self {
        Sent::deserialize(row.clone()).unwrap_or_default()
    }
}

/// Reads a response (or a part of one) as `T`. Every field of a response struct reads
/// any value, so an object cannot fail; anything but an object has no fields.
pub(crate) fn read<T: DeserializeOwned + Default>(value: Value) -> T {
    match value.is_object() {
        true => T::deserialize(value).unwrap_or_default(),
        false => T::default(),
    }
}

/// How a provider writes the bounds of its usage buckets, and of the range a
/// report is asked for (the query uses the same keys and format).
pub(crate) trait BucketTime: DeserializeOwned + Serialize {
    /// The keys of the start and the end.
    const KEYS: [&'static str; 2];
    /// What a bound must be, for the error (e.g. "Unix seconds").
    const FORMAT: &'static str;

    /// The instant; `None` when the text or number is not one.
    fn instant(&self) -> Option<DateTime<Utc>>;

    /// `at` as a query parameter.
    fn query(at: DateTime<Utc>) -> String;
}

/// Anthropic's bounds: RFC 3339 `starting_at` and `ending_at` (§1.2).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct Rfc3339(String);

impl BucketTime for Rfc3339 {
    const KEYS: [&'static str; 2] = ["starting_at", "ending_at"];
    const FORMAT: &'static str = "an RFC 3339 time";

    fn instant(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.0)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }

    fn query(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// OpenAI's bounds: Unix-seconds `start_time` and `end_time` (§2.2).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct UnixSeconds(i64);

impl BucketTime for UnixSeconds {
    const KEYS: [&'static str; 2] = ["start_time", "end_time"];
    const FORMAT: &'static str = "Unix seconds";

    fn instant(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0, 0)
    }

    fn query(at: DateTime<Utc>) -> String {
        at.timestamp().to_string()
    }
}

/// A provider endpoint, named in every error about what it sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    pub provider: Provider,
    pub name: &'static str,
}

impl Endpoint {
    pub fn new(provider: Provider, name: &'static str) -> Self {
        Endpoint { provider, name }
    }

    pub fn malformed(self, detail: impl Into<String>) -> CollectError {
        CollectError::Malformed {
            provider: self.provider,
            endpoint: self.name,
            detail: detail.into(),
        }
    }

    /// A non-negative integer counter at `path` (e.g. `cache_creation.ephemeral_5m_input_tokens`);
    /// absent or null is 0.
    pub fn count(self, field: &Field<i64>, path: &str) -> Result<i64, CollectError> {
        match field {
            Field::Null => Ok(0),
            Field::Valid(count) if *count >= 0 => Ok(*count),
            Field::Valid(_) | Field::Invalid(_) => {
                Err(self.malformed(format!("`{path}` is not a non-negative integer")))
            }
        }
    }

    /// An optional string dimension; absent or null is `None`.
    pub fn text(self, field: &Field<String>, key: &str) -> Result<Option<String>, CollectError> {
        self.value(field, key, "a string")
    }

    /// An optional value of the expected type (`kind`, e.g. "a boolean"); absent or
    /// null is `None`, another type an error showing what was sent.
    pub fn value<T: Clone>(
        self,
        field: &Field<T>,
        key: &str,
        kind: &str,
    ) -> Result<Option<T>, CollectError> {
        match field {
            Field::Null => Ok(None),
            Field::Valid(value) => Ok(Some(value.clone())),
            Field::Invalid(other) => {
                Err(self.malformed(format!("`{key}` is not {kind} ({other})")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Inner {
        c: Field<i64>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Row {
        a: Field<i64>,
        b: Object<Inner>,
        d: Field<i64>,
        e: Field<i64>,
        missing: Field<i64>,
        f: Field<i64>,
        g: Field<i64>,
        name: Field<String>,
        flag: Field<bool>,
    }

    #[test]
    fn counters_reject_what_is_not_a_count() {
        let row: Row = read(json!({"a": 5, "b": {"c": -1}, "d": null, "e": "7"}));
        let at = Endpoint::new(Provider::Anthropic, "GET /z");
        let read = |field: &Field<i64>, path: &str| at.count(field, path);
        assert_eq!(read(&row.a, "a").unwrap(), 5);
        assert_eq!(read(&row.d, "d").unwrap(), 0);
        assert_eq!(read(&row.missing, "missing").unwrap(), 0);
        assert!(read(&row.b.0.c, "b.c")
            .unwrap_err()
            .to_string()
            .contains("`b.c`"));
        assert!(read(&row.e, "e").is_err());
    }

    #[test]
    fn fields_read_as_a_lookup_by_key_did() {
        let at = Endpoint::new(Provider::Openai, "GET /z");
        // A float or a count beyond i64 is not a count; a nested non-object has no fields.
        let row: Row = read(json!({"f": 5.0, "g": 9_223_372_036_854_775_808_u64, "b": 3}));
        assert!(at.count(&row.f, "f").is_err());
        assert!(at.count(&row.g, "g").is_err());
        assert_eq!(at.count(&row.b.0.c, "b.c").unwrap(), 0);
        let row: Row = read(json!({"name": 7, "flag": "yes"}));
        assert_eq!(
            at.text(&row.name, "name").unwrap_err().to_string(),
            "openai GET /z sent a malformed response: `name` is not a string (7)"
        );
        assert_eq!(
            at.value(&row.flag, "flag", "a boolean")
                .unwrap_err()
                .to_string(),
            "openai GET /z sent a malformed response: `flag` is not a boolean (\"yes\")"
        );
        // Not an object at all: no fields.
        let row: Row = read(json!([1, 2, 3]));
        assert_eq!(at.count(&row.a, "a").unwrap(), 0);
        // Rows keep what was sent; lists are lists or nothing.
        let sent: List<Sent<Row>> =
            read::<Wrapper>(json!({"list": [{"a": 1, "new": true}, 4]})).list;
        let rows = sent.0.unwrap();
        assert_eq!(rows[0].raw, json!({"a": 1, "new": true}));
        assert_eq!(rows[0].fields.a, Field::Valid(1));
        assert_eq!(rows[1].raw, json!(4));
        assert_eq!(rows[1].fields.a, Field::Null);
        assert!(read::<Wrapper>(json!({"list": {"a": 1}})).list.0.is_none());
        assert_eq!(
            serde_json::to_value(Field::<String>::Invalid(json!(3))).unwrap(),
            json!(3)
        );
    }

    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Wrapper {
        list: List<Sent<Row>>,
    }
}
