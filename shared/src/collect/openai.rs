//! OpenAI Organization API: `usage/completions` (hourly, grouped) and the
//! `projects` / project `api_keys` listings that turn ids into names
//! (provider-apis.md §2.1–§2.3, §2.6).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    counter, dimension, fetch_buckets, list_names, Chunk, CollectError, Names, Pager, Provider,
    ProviderClient, UsageApi,
};
use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts};

const USAGE_PATH: &str = "/v1/organization/usage/completions";
const USAGE: &str = "GET /v1/organization/usage/completions";
const PROJECTS: &str = "GET /v1/organization/projects";
const PROJECT_KEYS: &str = "GET /v1/organization/projects/{project_id}/api_keys";

const GROUP_BY: [&str; 5] = ["model", "project_id", "api_key_id", "batch", "service_tier"];

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
        bucket: &Value,
        row: &Value,
    ) -> Result<Option<NewUsage>, CollectError> {
        let count = |key: &str| counter(Provider::Openai, USAGE, row, &[key]);
        let text = |key: &str| dimension(Provider::Openai, USAGE, row, key);
        // `input_tokens` includes cached (and, where reported, cache-write) tokens:
        // split them out so the token kinds stay mutually exclusive.
        let input_all = count("input_tokens")?;
        let cached = count("input_cached_tokens")?;
        let cache_write = count("input_cache_write_tokens")?;
        let input = input_all - cached - cache_write;
        if input < 0 {
            return Err(CollectError::Malformed {
                provider: Provider::Openai,
                endpoint: USAGE,
                detail: format!(
                    "input_cached_tokens ({cached}) + input_cache_write_tokens ({cache_write}) exceed input_tokens ({input_all})"
                ),
            });
        }
        let tokens = TokenCounts {
            input,
            output: count("output_tokens")?,
            cache_read: cached,
            // No separate list price: the catalog bills OpenAI cache writes at the input rate.
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            web_search_requests: 0,
            requests: count("num_model_requests")?,
        };
        if tokens == TokenCounts::default() {
            return Ok(None);
        }
        let model = text("model")?;
        let project_id = text("project_id")?;
        let api_key_id = text("api_key_id")?;
        let batch = match row.get("batch") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(batch)) => Some(*batch),
            Some(other) => {
                return Err(CollectError::Malformed {
                    provider: Provider::Openai,
                    endpoint: USAGE,
                    detail: format!("`batch` is not a boolean ({other})"),
                })
            }
        };
        let reported_tier = text("service_tier")?;
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
            source: Source::Openai,
            external_id,
            recorded_at: bucket_start,
            bucket_seconds,
            provider: Some("openai".into()),
            model: model.unwrap_or_else(|| "unknown".into()),
            tokens,
            service_tier,
            context_window: None,
            inference_geo: None,
            session_label: None,
            session_type: Some(SessionType::Other),
            session_id: None,
            agent: None,
            project: None,
            api_key_name: self.keys.get(api_key_id.as_deref()),
            api_key_id,
            // An OpenAI project plays the part of a workspace: its name feeds the rules.
            workspace_name: self.projects.get(project_id.as_deref()),
            workspace_id: project_id,
            reported_cost: None,
            estimated_cost: None,
            raw: json!({
                "start_time": bucket.get("start_time"),
                "end_time": bucket.get("end_time"),
                "result": row,
            }),
        }))
    }
}

/// Reads a Unix-seconds bucket boundary.
fn instant(pager: &Pager, bucket: &Value, key: &str) -> Result<DateTime<Utc>, CollectError> {
    bucket
        .get(key)
        .and_then(Value::as_i64)
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or_else(|| pager.malformed(format!("bucket `{key}` is not Unix seconds")))
}

fn bounds(pager: &Pager, bucket: &Value) -> Result<(DateTime<Utc>, DateTime<Utc>), CollectError> {
    Ok((
        instant(pager, bucket, "start_time")?,
        instant(pager, bucket, "end_time")?,
    ))
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
        let mut query: Vec<(String, String)> = vec![
            ("start_time".into(), start.timestamp().to_string()),
            ("end_time".into(), end.timestamp().to_string()),
            ("bucket_width".into(), "1h".into()),
            ("limit".into(), "168".into()),
        ];
        query.extend(
            GROUP_BY
                .iter()
                .map(|g| ("group_by".to_string(), g.to_string())),
        );
        fetch_buckets(
            &self.client,
            (USAGE, USAGE_PATH),
            query,
            bounds,
            |start, seconds, bucket, row| self.record(start, seconds, bucket, row),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::ProviderAccess;
    use crate::config::Secret;
    use crate::outbound::RetryPolicy;

    fn api() -> OpenaiApi {
        let mut api = OpenaiApi::new(ProviderClient::new(
            Provider::Openai,
            ProviderAccess {
                base_url: "http://unused".into(),
                key: Secret::new("k"),
            },
            reqwest::Client::new(),
            RetryPolicy::default(),
        ));
        api.projects
            .0
            .insert("proj_1".into(), "kanban-board".into());
        api.keys.0.insert("key_1".into(), "ci-bot".into());
        api
    }

    #[test]
    fn cached_tokens_are_split_out_of_input() {
        let bucket =
            json!({"object": "bucket", "start_time": 1_730_419_200, "end_time": 1_730_422_800});
        let row = json!({
            "object": "organization.usage.completions.result",
            "input_tokens": 10_000, "input_cached_tokens": 4_000, "output_tokens": 900,
            "input_audio_tokens": 0, "output_audio_tokens": 0, "num_model_requests": 12,
            "project_id": "proj_1", "user_id": null, "api_key_id": "key_1",
            "model": "gpt-4o-mini-2024-07-18", "batch": true, "service_tier": "default"
        });
        let start = DateTime::from_timestamp(1_730_419_200, 0).unwrap();
        let usage = api().record(start, 3600, &bucket, &row).unwrap().unwrap();
        assert_eq!(usage.tokens.input, 6_000);
        assert_eq!(usage.tokens.cache_read, 4_000);
        assert_eq!(usage.tokens.requests, 12);
        assert_eq!(usage.service_tier.as_deref(), Some("batch"));
        assert_eq!(usage.workspace_name.as_deref(), Some("kanban-board"));
        assert_eq!(usage.api_key_name.as_deref(), Some("ci-bot"));
        assert_eq!(
            usage.external_id,
            "1730419200|gpt-4o-mini-2024-07-18|proj_1|key_1|true|default"
        );

        let bad = json!({"input_tokens": 10, "input_cached_tokens": 11, "output_tokens": 1});
        let err = api().record(start, 3600, &bucket, &bad).unwrap_err();
        assert!(err.to_string().contains("exceed input_tokens"), "{err}");
    }
}
