//! Anthropic Admin API: `usage_report/messages` (hourly, fully grouped) and the
//! `api_keys` / `workspaces` listings that turn ids into names
//! (provider-apis.md §1.2, §1.6).

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::collector::{Chunk, UsageApi};
use super::paging::{fetch_buckets, list_names, HourlyReport, Names};
use super::response::{Endpoint, Field, Object, Rfc3339, Sent};
use super::{CollectError, Provider, ProviderClient};
use crate::domain::usage::{NewUsage, SessionType, Source, TokenCounts, UsageFacts};

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

/// The usage report, split by every dimension.
const REPORT: HourlyReport = HourlyReport {
    endpoint: USAGE,
    path: USAGE_PATH,
    group_by: ("group_by[]", &GROUP_BY),
};

/// `api_key_id: null` is usage in the Anthropic Console (Workbench, Playground).
pub const CONSOLE_KEY_NAME: &str = "Console";
/// `workspace_id: null` is the organisation's default workspace.
pub const DEFAULT_WORKSPACE_NAME: &str = "Default";

/// A bucket of the report, bounded by `starting_at` and `ending_at`.
type Bucket = super::paging::Bucket<Rfc3339, Row>;

/// A result row: token counts and, as grouped, the dimensions (null when not grouped,
/// `api_key_id` null for the Console, `workspace_id` null for the default workspace).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Row {
    uncached_input_tokens: Field<i64>,
    cache_creation: Object<CacheCreation>,
    cache_read_input_tokens: Field<i64>,
    output_tokens: Field<i64>,
    server_tool_use: Object<ServerToolUse>,
    api_key_id: Field<String>,
    workspace_id: Field<String>,
    model: Field<String>,
    service_tier: Field<String>,
    context_window: Field<String>,
    inference_geo: Field<String>,
}

/// `cache_creation`: tokens written to the 5-minute and the 1-hour cache.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Field<i64>,
    ephemeral_1h_input_tokens: Field<i64>,
}

/// `server_tool_use`: the report counts web searches only.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServerToolUse {
    web_search_requests: Field<i64>,
}

/// The Admin API of one Anthropic organisation, with the names of its API keys and
/// workspaces once [`UsageApi::load_names`] has listed them.
pub(crate) struct AnthropicApi {
    client: ProviderClient,
    /// API key names by id; a row without a key is Console usage.
    keys: Names,
    /// Workspace names by id; a row without one is the default workspace.
    workspaces: Names,
}

impl AnthropicApi {
    pub fn new(client: ProviderClient) -> Self {
        let (keys, workspaces) = Default::default();
        AnthropicApi {
            client,
            keys,
            workspaces,
        }
    }

    /// One result row of one bucket as a usage record; `None` when it holds no usage.
    fn record(
        &self,
        bucket_start: DateTime<Utc>,
        bucket_seconds: i32,
        bucket: &Bucket,
        row: &Sent<Row>,
    ) -> Result<Option<NewUsage>, CollectError> {
        let at = Endpoint::new(Provider::Anthropic, USAGE);
        let (fields, cache) = (&row.fields, &row.fields.cache_creation.0);
        let tokens = TokenCounts {
            input: at.count(&fields.uncached_input_tokens, "uncached_input_tokens")?,
            output: at.count(&fields.output_tokens, "output_tokens")?,
            cache_read: at.count(&fields.cache_read_input_tokens, "cache_read_input_tokens")?,
            cache_write_5m: at.count(
                &cache.ephemeral_5m_input_tokens,
                "cache_creation.ephemeral_5m_input_tokens",
            )?,
            cache_write_1h: at.count(
                &cache.ephemeral_1h_input_tokens,
                "cache_creation.ephemeral_1h_input_tokens",
            )?,
            web_search_requests: at.count(
                &fields.server_tool_use.0.web_search_requests,
                "server_tool_use.web_search_requests",
            )?,
            // The report counts tokens, not requests.
            requests: 0,
        };
        if tokens == TokenCounts::default() {
            return Ok(None);
        }
        let model = at.text(&fields.model, "model")?;
        let api_key_id = at.text(&fields.api_key_id, "api_key_id")?;
        let workspace_id = at.text(&fields.workspace_id, "workspace_id")?;
        let service_tier = at.text(&fields.service_tier, "service_tier")?;
        let context_window = at.text(&fields.context_window, "context_window")?;
        let inference_geo = at.text(&fields.inference_geo, "inference_geo")?;
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
            facts: UsageFacts {
                source: Source::Anthropic,
                external_id,
                recorded_at: bucket_start,
                bucket_seconds,
                model: model.unwrap_or_else(|| "unknown".into()),
                tokens,
                service_tier,
                context_window,
                inference_geo,
                session_label: None,
                session_id: None,
                api_key_id,
                api_key_name,
                workspace_id,
                workspace_name,
                raw: bucket.raw(row),
            },
            provider: Some("anthropic".into()),
            session_type: Some(SessionType::Other),
            agent: None,
            project: None,
            reported_cost: None,
            estimated_cost: None,
        }))
    }
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
        let record = |at, seconds, bucket: &_, row: &_| self.record(at, seconds, bucket, row);
        fetch_buckets(&self.client, &REPORT, (start, end), record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::response::read;
    use serde_json::json;

    fn api() -> AnthropicApi {
        let mut api = AnthropicApi::new(ProviderClient::unused(Provider::Anthropic));
        api.keys.0.insert("apikey_1".into(), "peakpaws-prod".into());
        api
    }

    #[test]
    fn a_documented_row_maps_every_field() {
        let bucket: Bucket = read(
            json!({"starting_at": "2026-11-01T05:00:00Z", "ending_at": "2026-11-01T06:00:00Z"}),
        );
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
        let usage = api()
            .record(start, 3600, &bucket, &Sent::of(&row))
            .unwrap()
            .unwrap();
        assert_eq!(
            usage.facts.tokens,
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
            usage.facts.external_id,
            "2026-11-01T05:00:00Z|claude-opus-4-6|apikey_1|-|batch|0-200k|us"
        );
        assert_eq!(usage.facts.api_key_name.as_deref(), Some("peakpaws-prod"));
        assert_eq!(
            usage.facts.workspace_name.as_deref(),
            Some(DEFAULT_WORKSPACE_NAME)
        );
        assert_eq!(usage.facts.bucket_seconds, 3600);
        assert_eq!(usage.facts.raw["result"], row);

        let console = json!({"output_tokens": 3, "api_key_id": null, "workspace_id": "wrkspc_9", "model": "claude-haiku-4-5"});
        let usage = api()
            .record(start, 3600, &bucket, &Sent::of(&console))
            .unwrap()
            .unwrap();
        assert_eq!(usage.facts.api_key_name.as_deref(), Some(CONSOLE_KEY_NAME));
        assert_eq!(
            usage.facts.workspace_name, None,
            "an unlisted workspace has no name"
        );

        let empty = json!({"uncached_input_tokens": 0, "model": "claude-haiku-4-5"});
        assert!(api()
            .record(start, 3600, &bucket, &Sent::of(&empty))
            .unwrap()
            .is_none());

        let bad = json!({"uncached_input_tokens": "many", "model": "claude-haiku-4-5"});
        let err = api()
            .record(start, 3600, &bucket, &Sent::of(&bad))
            .unwrap_err();
        assert!(err.to_string().contains(USAGE), "{err}");
    }
}
