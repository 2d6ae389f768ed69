//! OpenAI Organization API: `usage/completions` (hourly, grouped) and the
//! `projects` / project `api_keys` listings that turn ids into names
//! (provider-apis.md §2.1–§2.3, §2.6).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::collector::{Chunk, UsageApi};
use super::paging::{fetch_buckets, list_names, HourlyReport, Names};
use super::response::{Endpoint, Field, Sent, UnixSeconds};
use super::{CollectError, Provider, ProviderClient};
use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts};

const USAGE_PATH: &str = "/v1/organization/usage/completions";
const USAGE: &str = "GET /v1/organization/usage/completions";
const PROJECTS: &str = "GET /v1/organization/projects";
const PROJECT_KEYS: &str = "GET /v1/organization/projects/{project_id}/api_keys";

const GROUP_BY: [&str; 5] = ["model", "project_id", "api_key_id", "batch", "service_tier"];

/// The usage report, split by every dimension.
const REPORT: HourlyReport = HourlyReport {
    endpoint: USAGE,
    path: USAGE_PATH,
    group_by: ("group_by", &GROUP_BY),
};

/// A bucket of the report, bounded by `start_time` and `end_time`.
type Bucket = super::paging::Bucket<UnixSeconds, Row>;

/// A result row (§2.3): token and request counts and, as grouped, the dimensions
/// (null when not grouped).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Row {
    /// Includes the cached and cache-write tokens.
    input_tokens: Field<i64>,
    input_cached_tokens: Field<i64>,
    input_cache_write_tokens: Field<i64>,
    output_tokens: Field<i64>,
    num_model_requests: Field<i64>,
    model: Field<String>,
    project_id: Field<String>,
    api_key_id: Field<String>,
    batch: Field<bool>,
    service_tier: Field<String>,
}

/// The Organization API of one OpenAI organisation. Project names label records as
/// workspace names do for Anthropic; API keys are listed project by project.
pub(crate) struct OpenaiApi {
    client: ProviderClient,
    projects: Names,
    keys: Names,
}

impl OpenaiApi {
    pub fn new(client: ProviderClient) -> Self {
        OpenaiApi {
            client,
            projects: Names::default(),
            keys: Names::default(),
        }
    }

    /// One result row as a usage record; `None` when it holds no usage.
    fn record(
        &self,
        bucket_start: DateTime<Utc>,
        bucket_seconds: i32,
        bucket: &Bucket,
        row: &Sent<Row>,
    ) -> Result<Option<NewUsage>, CollectError> {
        let at = Endpoint::new(Provider::Openai, USAGE);
        let fields = &row.fields;
        // `input_tokens` includes cached (and, where reported, cache-write) tokens:
        // split them out so the token kinds stay mutually exclusive.
        let input_all = at.count(&fields.input_tokens, "input_tokens")?;
        let cached = at.count(&fields.input_cached_tokens, "input_cached_tokens")?;
        let cache_write = at.count(&fields.input_cache_write_tokens, "input_cache_write_tokens")?;
        let input = input_all - cached - cache_write;
        if input < 0 {
            return Err(at.malformed(format!(
                "input_cached_tokens ({cached}) + input_cache_write_tokens ({cache_write}) exceed input_tokens ({input_all})"
            )));
        }
        let tokens = TokenCounts {
            input,
            output: at.count(&fields.output_tokens, "output_tokens")?,
            cache_read: cached,
            // No separate list price: the catalog bills OpenAI cache writes at the input rate.
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            web_search_requests: 0,
            requests: at.count(&fields.num_model_requests, "num_model_requests")?,
        };
        if tokens == TokenCounts::default() {
            return Ok(None);
        }
        let model = at.text(&fields.model, "model")?;
        let project_id = at.text(&fields.project_id, "project_id")?;
        let api_key_id = at.text(&fields.api_key_id, "api_key_id")?;
        let batch = at.value(&fields.batch, "batch", "a boolean")?;
        let reported_tier = at.text(&fields.service_tier, "service_tier")?;
        let service_tier = if batch == Some(true) {
            Some("batch".to_string())
        } else {
            reported_tier.clone()
        };
        let external_id = [
            Some(bucket_start.timestamp().to_string()),
            model.clone(),
            project_id.clone(),
            api_key_id.clone(),
            batch.map(|b| b.to_string()),
            reported_tier,
        ]
        .map(|part| part.unwrap_or_else(|| "-".into()))
        .join("|");
        Ok(Some(NewUsage {
            facts: UsageFacts {
                source: Source::Openai,
                external_id,
                recorded_at: bucket_start,
                bucket_seconds,
                model: model.unwrap_or_else(|| "unknown".into()),
                tokens,
                service_tier,
                context_window: None,
                inference_geo: None,
                session_label: None,
                session_id: None,
                api_key_name: self.keys.get(api_key_id.as_deref()),
                api_key_id,
                // An OpenAI project plays the part of a workspace: its name feeds the rules.
                workspace_name: self.projects.get(project_id.as_deref()),
                workspace_id: project_id,
                raw: bucket.raw(row),
            },
            provider: Some("openai".into()),
            session_type: Some(SessionType::Other),
            agent: None,
            project: None,
            reported_cost: None,
            estimated_cost: None,
        }))
    }
}

#[async_trait]
impl UsageApi for OpenaiApi {
    async fn load_names(&mut self) -> Result<(), CollectError> {
        let mut projects = Names::default();
        list_names(
            &self.client,
            (PROJECTS, "/v1/organization/projects"),
            &[("limit", "100"), ("include_archived", "true")],
            "after",
            &mut projects,
        )
        .await?;
        let mut keys = Names::default();
        let mut ids: Vec<&String> = projects.0.keys().collect();
        ids.sort();
        for id in ids {
            let path = format!("/v1/organization/projects/{id}/api_keys");
            list_names(
                &self.client,
                (PROJECT_KEYS, &path),
                &[("limit", "100")],
                "after",
                &mut keys,
            )
            .await?;
        }
        self.projects = projects;
        self.keys = keys;
        Ok(())
    }

    async fn fetch(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Chunk, CollectError> {
        let record = |at, seconds, bucket: &_, row: &_| self.record(at, seconds, bucket, row);
        fetch_buckets(&self.client, &REPORT, (start, end), record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::response::read;
    use serde_json::json;

    fn api() -> OpenaiApi {
        let mut api = OpenaiApi::new(ProviderClient::unused(Provider::Openai));
        api.projects
            .0
            .insert("proj_1".into(), "kanban-board".into());
        api.keys.0.insert("key_1".into(), "ci-bot".into());
        api
    }

    #[test]
    fn cached_tokens_are_split_out_of_input() {
        let bucket: Bucket = read(
            json!({"object": "bucket", "start_time": 1_730_419_200, "end_time": 1_730_422_800}),
        );
        let row = json!({
            "object": "organization.usage.completions.result",
            "input_tokens": 10_000, "input_cached_tokens": 4_000, "output_tokens": 900,
            "input_audio_tokens": 0, "output_audio_tokens": 0, "num_model_requests": 12,
            "project_id": "proj_1", "user_id": null, "api_key_id": "key_1",
            "model": "gpt-4o-mini-2024-07-18", "batch": true, "service_tier": "default"
        });
        let start = DateTime::from_timestamp(1_730_419_200, 0).unwrap();
        let usage = api()
            .record(start, 3600, &bucket, &Sent::of(&row))
            .unwrap()
            .unwrap();
        assert_eq!(usage.facts.tokens.input, 6_000);
        assert_eq!(usage.facts.tokens.cache_read, 4_000);
        assert_eq!(usage.facts.tokens.requests, 12);
        assert_eq!(usage.facts.service_tier.as_deref(), Some("batch"));
        assert_eq!(usage.facts.workspace_name.as_deref(), Some("kanban-board"));
        assert_eq!(usage.facts.api_key_name.as_deref(), Some("ci-bot"));
        assert_eq!(
            usage.facts.external_id,
            "1730419200|gpt-4o-mini-2024-07-18|proj_1|key_1|true|default"
        );

        let bad = json!({"input_tokens": 10, "input_cached_tokens": 11, "output_tokens": 1});
        let err = api()
            .record(start, 3600, &bucket, &Sent::of(&bad))
            .unwrap_err();
        assert!(err.to_string().contains("exceed input_tokens"), "{err}");
    }
}
