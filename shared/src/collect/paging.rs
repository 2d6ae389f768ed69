//! Following a provider's pages: the hourly usage reports (`next_page` cursors) and
//! the id → name listings (`after_id` / `after` cursors), with a guard against
//! pagination that never ends.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::collector::Chunk;
use super::response::{read, BucketTime, Endpoint, Field, List, Object, Sent};
use super::{CollectError, Provider, ProviderClient};
use crate::domain::usage::NewUsage;

/// Id → name listings, with the label used when an id is absent.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names(pub HashMap<String, String>);

impl Names {
    pub fn get(&self, id: Option<&str>) -> Option<String> {
        id.and_then(|id| self.0.get(id).cloned())
    }
}

/// Follows a paginated listing or report: guards against a cursor that repeats
/// or a provider that never stops.
pub(crate) struct Pager {
    endpoint: Endpoint,
    seen: HashSet<String>,
}

/// More pages than any real range needs (a 7-day chunk is one page of 168 buckets).
const MAX_PAGES: usize = 10_000;

impl Pager {
    pub fn new(provider: Provider, endpoint: &'static str) -> Self {
        Pager {
            endpoint: Endpoint::new(provider, endpoint),
            seen: Default::default(),
        }
    }

    /// Accepts the next cursor; an error when it was already followed.
    pub fn next(&mut self, cursor: String) -> Result<String, CollectError> {
        if !self.seen.insert(cursor.clone()) || self.seen.len() > MAX_PAGES {
            return Err(self
                .endpoint
                .malformed("pagination does not end (a cursor repeated)"));
        }
        Ok(cursor)
    }

    /// The cursor of the page after this one, `None` after the last page: when
    /// `has_more` is true, the page must name the cursor in its field `key`.
    fn after(
        &mut self,
        has_more: &Field<bool>,
        cursor: &Field<String>,
        key: &str,
    ) -> Result<Option<String>, CollectError> {
        // Anything but `true` ends the pagination.
        if has_more.valid() != Some(&true) {
            return Ok(None);
        }
        let cursor = self.endpoint.text(cursor, key)?.ok_or_else(|| {
            self.endpoint
                .malformed(format!("`has_more` is true but `{key}` is missing"))
        })?;
        self.next(cursor).map(Some)
    }
}

/// A page of an hourly usage report (provider-apis.md §1.2, §2.2): buckets oldest
/// first, and the cursor of the next page.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound = "B: DeserializeOwned + Default")]
pub(crate) struct ReportPage<B> {
    data: List<Object<B>>,
    has_more: Field<bool>,
    next_page: Field<String>,
}

/// A bucket of an hourly usage report (§1.2, §2.2). Both providers write it alike
/// but for the bounds, which are under `T::KEYS` and written as `T`.
#[derive(Debug, Deserialize)]
#[serde(default, bound = "T: BucketTime, R: DeserializeOwned + Default")]
pub(crate) struct Bucket<T, R> {
    #[serde(flatten)]
    bounds: Bounds<T>,
    results: List<Sent<R>>,
}

/// A bucket's start and end as sent, under the keys `T::KEYS`.
#[derive(Debug)]
struct Bounds<T>([Field<T>; 2]);

/// A bucket that is not an object has neither bounds nor results.
impl<T, R> Default for Bucket<T, R> {
    fn default() -> Self {
        Bucket {
            bounds: Bounds([Field::Null, Field::Null]),
            results: List::default(),
        }
    }
}

impl<'de, T: BucketTime> Deserialize<'de> for Bounds<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::deserialize(deserializer)?;
        Ok(Bounds(T::KEYS.map(|key| {
            let sent = fields.remove(key).unwrap_or_default();
            Field::deserialize(sent).unwrap_or_default()
        })))
    }
}

impl<T: BucketTime, R> Bucket<T, R> {
    /// The bucket's `[start, end)`; an error names the bound that is not a time.
    fn bounds(&self, at: Endpoint) -> Result<(DateTime<Utc>, DateTime<Utc>), CollectError> {
        let instant = |bound: usize| {
            let key = T::KEYS[bound];
            self.bounds.0[bound]
                .valid()
                .and_then(BucketTime::instant)
                .ok_or_else(|| at.malformed(format!("bucket `{key}` is not {}", T::FORMAT)))
        };
        Ok((instant(0)?, instant(1)?))
    }

    /// What a record keeps as `raw`: the bucket's bounds as sent, and `row` verbatim.
    pub fn raw(&self, row: &Sent<R>) -> Value {
        let mut raw = serde_json::Map::new();
        for (key, field) in T::KEYS.into_iter().zip(&self.bounds.0) {
            raw.insert(key.into(), serde_json::to_value(field).unwrap_or_default());
        }
        raw.insert("result".into(), row.raw.clone());
        Value::Object(raw)
    }
}

/// An hourly usage report: where it is and how it splits its rows.
pub(crate) struct HourlyReport {
    /// Names the call in errors, e.g. `GET /v1/organizations/usage_report/messages`.
    pub endpoint: &'static str,
    pub path: &'static str,
    /// The group-by parameter and every dimension the report is split by.
    pub group_by: (&'static str, &'static [&'static str]),
}

impl HourlyReport {
    /// The query of the first page for `[start, end)`: hourly buckets, a week of them a
    /// page, split by every dimension.
    fn query<T: BucketTime>(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<(String, String)> {
        let [start_key, end_key] = T::KEYS;
        let mut query: Vec<(String, String)> = vec![
            (start_key.into(), T::query(start)),
            (end_key.into(), T::query(end)),
            ("bucket_width".into(), "1h".into()),
            ("limit".into(), "168".into()),
        ];
        let (key, dimensions) = self.group_by;
        query.extend(dimensions.iter().map(|g| (key.to_string(), g.to_string())));
        query
    }
}

/// Follows a usage report from its first page to the last and turns every result row
/// of every bucket into a record with `record(bucket_start, bucket_seconds, bucket, row)`.
pub(crate) async fn fetch_buckets<T: BucketTime, R: DeserializeOwned + Default>(
    client: &ProviderClient,
    report: &HourlyReport,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    record: impl Fn(
        DateTime<Utc>,
        i32,
        &Bucket<T, R>,
        &Sent<R>,
    ) -> Result<Option<NewUsage>, CollectError>,
) -> Result<Chunk, CollectError> {
    let base = report.query::<T>(start, end);
    let mut chunk = Chunk::default();
    let mut pager = Pager::new(client.provider(), report.endpoint);
    let mut page: Option<String> = None;
    loop {
        let mut query = base.clone();
        if let Some(page) = &page {
            query.push(("page".into(), page.clone()));
        }
        let body = client.get(report.endpoint, report.path, &query).await?;
        page = take_buckets(body, &mut pager, &mut chunk, &record)?;
        if page.is_none() {
            return Ok(chunk);
        }
    }
}

/// Adds one page of a usage report to `chunk`; the cursor of the next page, if any.
fn take_buckets<T: BucketTime, R: DeserializeOwned + Default>(
    body: Value,
    pager: &mut Pager,
    chunk: &mut Chunk,
    record: impl Fn(
        DateTime<Utc>,
        i32,
        &Bucket<T, R>,
        &Sent<R>,
    ) -> Result<Option<NewUsage>, CollectError>,
) -> Result<Option<String>, CollectError> {
    let at = pager.endpoint;
    let body: ReportPage<Bucket<T, R>> = read(body);
    chunk.pages += 1;
    let buckets = body
        .data
        .0
        .as_ref()
        .ok_or_else(|| at.malformed("`data` is not a list"))?;
    for Object(bucket) in buckets {
        let (bucket_start, bucket_end) = bucket.bounds(at)?;
        let seconds = (bucket_end - bucket_start).num_seconds();
        if seconds <= 0 || seconds > 86_400 {
            return Err(at.malformed(format!("bucket {bucket_start} has a width of {seconds} s")));
        }
        chunk.buckets += 1;
        let results = bucket
            .results
            .0
            .as_ref()
            .ok_or_else(|| at.malformed("bucket `results` is not a list"))?;
        for row in results {
            if let Some(usage) = record(bucket_start, seconds as i32, bucket, row)? {
                chunk.usage.push(usage);
            }
        }
    }
    pager.after(&body.has_more, &body.next_page, "next_page")
}

/// A page of an id-cursor listing (§1.6, §2.6): its items and the id to go on after.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListPage {
    data: List<Object<Named>>,
    has_more: Field<bool>,
    last_id: Field<String>,
}

/// An item of the Anthropic `api_keys` and `workspaces` listings (§1.6) or the
/// OpenAI `projects` and project `api_keys` listings (§2.6): what labels a record.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    id: Field<String>,
    name: Field<String>,
}

/// Follows a cursor listing (`after_id` for Anthropic, `after` for OpenAI) to its
/// end, collecting `id → name` into `names`.
pub(crate) async fn list_names(
    client: &ProviderClient,
    (endpoint, path): (&'static str, &str),
    query: &[(&str, &str)],
    cursor: &str,
    names: &mut Names,
) -> Result<(), CollectError> {
    let mut pager = Pager::new(client.provider(), endpoint);
    let mut after: Option<String> = None;
    loop {
        let mut page: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(after) = &after {
            page.push((cursor.to_string(), after.clone()));
        }
        let body = client.get(endpoint, path, &page).await?;
        after = take_names(body, &mut pager, names)?;
        if after.is_none() {
            return Ok(());
        }
    }
}

/// Adds one page of a listing to `names`; the id to go on after, if any.
fn take_names(
    body: Value,
    pager: &mut Pager,
    names: &mut Names,
) -> Result<Option<String>, CollectError> {
    let at = pager.endpoint;
    let body: ListPage = read(body);
    let items = body
        .data
        .0
        .as_ref()
        .ok_or_else(|| at.malformed("`data` is not a list"))?;
    for Object(item) in items {
        let id = at.text(&item.id, "id")?;
        let name = at.text(&item.name, "name")?;
        if let (Some(id), Some(name)) = (id, name) {
            names.0.insert(id, name);
        }
    }
    pager.after(&body.has_more, &body.last_id, "last_id")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::response::{Rfc3339, UnixSeconds};
    use serde_json::json;

    #[test]
    fn a_repeated_cursor_stops_pagination() {
        let mut pager = Pager::new(Provider::Openai, "GET /p");
        assert_eq!(pager.next("page_1".into()).unwrap(), "page_1");
        assert!(pager.next("page_1".into()).is_err());
    }

    #[test]
    fn has_more_needs_a_cursor_and_only_true_means_more() {
        let mut pager = Pager::new(Provider::Anthropic, "GET /l");
        let page = |body| read::<ListPage>(body);
        for done in [
            json!({}),
            json!({"has_more": "true"}),
            json!({"has_more": 1}),
        ] {
            let done = page(done);
            assert_eq!(
                pager
                    .after(&done.has_more, &done.last_id, "last_id")
                    .unwrap(),
                None
            );
        }
        let more = page(json!({"has_more": true, "last_id": "ws_9"}));
        assert_eq!(
            pager
                .after(&more.has_more, &more.last_id, "last_id")
                .unwrap(),
            Some("ws_9".to_string())
        );
        for (body, says) in [
            (
                json!({"has_more": true}),
                "`has_more` is true but `last_id` is missing",
            ),
            (
                json!({"has_more": true, "last_id": 4}),
                "`last_id` is not a string (4)",
            ),
            (
                json!({"has_more": true, "last_id": "ws_9"}),
                "a cursor repeated",
            ),
        ] {
            let body = page(body);
            let err = pager
                .after(&body.has_more, &body.last_id, "last_id")
                .unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn the_first_query_asks_for_a_week_of_hours_split_by_every_dimension() {
        let report = HourlyReport {
            endpoint: "GET /u",
            path: "/u",
            group_by: ("group_by", &["model", "batch"]),
        };
        let (start, end) = (
            DateTime::from_timestamp(1, 0).unwrap(),
            DateTime::from_timestamp(2, 0).unwrap(),
        );
        let query: Vec<String> = report
            .query::<UnixSeconds>(start, end)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            query,
            [
                "start_time=1",
                "end_time=2",
                "bucket_width=1h",
                "limit=168",
                "group_by=model",
                "group_by=batch"
            ]
        );
        let query = report.query::<Rfc3339>(start, end);
        assert_eq!(
            query[0],
            ("starting_at".into(), "1970-01-01T00:00:01Z".into())
        );
        assert_eq!(query[1].0, "ending_at");
    }
}
