//! Anthropic Admin API: `usage_report/messages` (hourly, fully grouped) and the
//! `api_keys` / `workspaces` listings that turn ids into names
//! (provider-apis.md §1.2, §1.6).

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{
    counter, dimension, fetch_buckets, list_names, Chunk, CollectError, Names, Pager, Provider,
    ProviderClient, UsageApi,
};
use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts};

const USAGE_PATH: &str = "/v1/organizations/usage_report/messages";
const USAGE: &str = "GET /v1/organizations/usage_report/messages";
const API_KEYS: &str = "GET /v1/organizations/api_keys";
const WORKSPACES: &str = "GET /v1/organizations/workspaces";

/// Every dimension the report can split by and the ledger keeps.
const GROUP_BY: [&str; 6] = [
    "model",
    "api_key_id",
    "workspace_id",
    "service_tier",
    "context_window",
    "inference_geo",
];

/// `api_key_id: null` is usage in the Anthropic Console (Workbench, Playground).
pub const CONSOLE_KEY_NAME: &str = "Console";
/// `workspace_id: null` is the organisation's default workspace.
pub const DEFAULT_WORKSPACE_NAME: &str = "Default";

pub(crate) struct AnthropicApi {
    client: ProviderClient,
    keys: Names,
    workspaces: Names,
}

impl AnthropicApi {
    pub fn new(client: ProviderClient) -> Self {
        AnthropicApi {
            client,
            keys: Names::default(),
            workspaces: Names::default(),
        }
    }

    /// One result row of one bucket as a usage record; `None` when it holds no usage.
    fn record(
        &self,
        bucket_start: DateTime<Utc>,
        bucket_seconds: i32,
        bucket: &Value,
        row: &Value,
    ) -> Result<Option<NewUsage>, CollectError> {
        let count = |path: &[&str]| counter(Provider::Anthropic, USAGE, row, path);
        let text = |key: &str| dimension(Provider::Anthropic, USAGE, row, key);
        let tokens = TokenCounts {
            input: count(&["uncached_input_tokens"])?,
            output: count(&["output_tokens"])?,
            cache_read: count(&["cache_read_input_tokens"])?,
            cache_write_5m: count(&["cache_creation", "ephemeral_5m_input_tokens"])?,
            cache_write_1h: count(&["cache_creation", "ephemeral_1h_input_tokens"])?,
            web_search_requests: count(&["server_tool_use", "web_search_requests"])?,
            // The report counts tokens, not requests.
            requests: 0,
        };
        if tokens == TokenCounts::default() {
            return Ok(None);
        }
        let model = text("model")?;
        let api_key_id = text("api_key_id")?;
        let workspace_id = text("workspace_id")?;
        let service_tier = text("service_tier")?;
        let context_window = text("context_window")?;
        let inference_geo = text("inference_geo")?;
        // The natural key: bucket start and every grouped dimension ("-" for null).
        let external_id = [
            Some(bucket_start.to_rfc3339_opts(SecondsFormat::Secs, true)),
            model.clone(),
            api_key_id.clone(),
            workspace_id.clone(),
            service_tier.clone(),
            context_window.clone(),
            inference_geo.clone(),
        ]
        .map(|part| part.unwrap_or_else(|| "-".into()))
        .join("|");
        let api_key_name = match &api_key_id {
            None => Some(CONSOLE_KEY_NAME.to_string()),
            Some(_) => self.keys.get(api_key_id.as_deref()),
        };
        let workspace_name = match &workspace_id {
            None => Some(DEFAULT_WORKSPACE_NAME.to_string()),
            Some(_) => self.workspaces.get(workspace_id.as_deref()),
        };
        Ok(Some(NewUsage {
            source: Source::Anthropic,
            external_id,
            recorded_at: bucket_start,
            bucket_seconds,
            provider: Some("anthropic".into()),
            model: model.unwrap_or_else(|| "unknown".into()),
            tokens,
            service_tier,
            context_window,
            inference_geo,
            session_label: None,
            session_type: Some(SessionType::Other),
            session_id: None,
            agent: None,
            project: None,
            api_key_id,
            api_key_name,
            workspace_id,
            workspace_name,
            reported_cost: None,
            estimated_cost: None,
            raw: json!({
                "starting_at": bucket.get("starting_at"),
                "ending_at": bucket.get("ending_at"),
                "result": row,
            }),
        }))
    }
}

/// Reads an RFC 3339 bucket boundary.
fn instant(pager: &Pager, bucket: &Value, key: &str) -> Result<DateTime<Utc>, CollectError> {
    bucket
        .get(key)
        .and_then(Value::as_str)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| pager.malformed(format!("bucket `{key}` is not an RFC 3339 time")))
}

fn bounds(pager: &Pager, bucket: &Value) -> Result<(DateTime<Utc>, DateTime<Utc>), CollectError> {
    Ok((
        instant(pager, bucket, "starting_at")?,
        instant(pager, bucket, "ending_at")?,
    ))
}

#[async_trait]
impl UsageApi for AnthropicApi {
    async fn load_names(&mut self) -> Result<(), CollectError> {
        let limit = [("limit", "1000")];
        list_names(
            &self.client,
            (API_KEYS, "/v1/organizations/api_keys"),
            &limit,
            "after_id",
            &mut self.keys,
        )
        .await?;
        list_names(
            &self.client,
            (WORKSPACES, "/v1/organizations/workspaces"),
            &[("limit", "1000"), ("include_archived", "true")],
            "after_id",
            &mut self.workspaces,
        )
        .await
    }

    async fn fetch(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Chunk, CollectError> {
        let mut query: Vec<(String, String)> = vec![
            (
                "starting_at".into(),
                start.to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            (
                "ending_at".into(),
                end.to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            ("bucket_width".into(), "1h".into()),
            ("limit".into(), "168".into()),
        ];
        query.extend(
            GROUP_BY
                .iter()
                .map(|g| ("group_by[]".to_string(), g.to_string())),
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

    fn api() -> AnthropicApi {
        let mut api = AnthropicApi::new(ProviderClient::new(
            Provider::Anthropic,
            ProviderAccess {
                base_url: "http://unused".into(),
                key: Secret::new("k"),
            },
            reqwest::Client::new(),
            RetryPolicy::default(),
        ));
        api.keys.0.insert("apikey_1".into(), "peakpaws-prod".into());
        api
    }

    #[test]
    fn a_documented_row_maps_every_field() {
        let bucket =
            json!({"starting_at": "2026-11-01T05:00:00Z", "ending_at": "2026-11-01T06:00:00Z"});
        let row = json!({
            "uncached_input_tokens": 1500,
            "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
            "cache_read_input_tokens": 200, "output_tokens": 500,
            "server_tool_use": {"web_search_requests": 10},
            "api_key_id": "apikey_1", "workspace_id": null, "model": "claude-opus-4-6",
            "service_tier": "batch", "context_window": "0-200k", "inference_geo": "us",
            "account_id": null
        });
        let start = "2026-11-01T05:00:00Z".parse().unwrap();
        let usage = api().record(start, 3600, &bucket, &row).unwrap().unwrap();
        assert_eq!(
            usage.tokens,
            TokenCounts {
                input: 1500,
                output: 500,
                cache_read: 200,
                cache_write_5m: 500,
                cache_write_1h: 1000,
                web_search_requests: 10,
                requests: 0
            }
        );
        assert_eq!(
            usage.external_id,
            "2026-11-01T05:00:00Z|claude-opus-4-6|apikey_1|-|batch|0-200k|us"
        );
        assert_eq!(usage.api_key_name.as_deref(), Some("peakpaws-prod"));
        assert_eq!(
            usage.workspace_name.as_deref(),
            Some(DEFAULT_WORKSPACE_NAME)
        );
        assert_eq!(usage.bucket_seconds, 3600);
        assert_eq!(usage.raw["result"], row);

        let console = json!({"output_tokens": 3, "api_key_id": null, "workspace_id": "wrkspc_9", "model": "claude-haiku-4-5"});
        let usage = api()
            .record(start, 3600, &bucket, &console)
            .unwrap()
            .unwrap();
        assert_eq!(usage.api_key_name.as_deref(), Some(CONSOLE_KEY_NAME));
        assert_eq!(
            usage.workspace_name, None,
            "an unlisted workspace has no name"
        );

        let empty = json!({"uncached_input_tokens": 0, "model": "claude-haiku-4-5"});
        assert!(api()
            .record(start, 3600, &bucket, &empty)
            .unwrap()
            .is_none());

        let bad = json!({"uncached_input_tokens": "many", "model": "claude-haiku-4-5"});
        let err = api().record(start, 3600, &bucket, &bad).unwrap_err();
        assert!(err.to_string().contains(USAGE), "{err}");
    }
}
