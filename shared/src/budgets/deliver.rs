//! Sending an alert to a budget's channels.
//!
//! - **webhook**: POST JSON, Slack-compatible (`{"text": "…"}`) plus the figures as
//!   fields (`budget`, `scope`, `period`, `spent`, `amount`, `percent`, `projected`,
//!   `threshold`, `kind` …). A 2xx is delivered; 5xx, 429 (waiting its
//!   `retry-after`), timeouts and refused connections are retried with backoff;
//!   another 4xx is final. The URL (it holds the hook's secret) is never logged and
//!   never in an error: a channel shows as its origin.
//! - **context_vault**: a small memory, `memory_type: ai_cost_alert`, POSTed to the
//!   configured vault with the vault client (its own retries).

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::check::{Alert, AlertKind, Figures};
use super::{Budget, Channel};
use crate::config::Config;
use crate::cv::{VaultAccess, VaultClient};
use crate::outbound::{retry_after, Failure, RetryPolicy};

/// What sending one alert to every channel of its budget came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Requests made, retries included.
    pub attempts: u32,
    /// One line per channel that did not take it (its label, never its URL).
    pub errors: Vec<String>,
}

/// Sends alerts: the HTTP client, the retry policy, and the vault when configured.
pub struct Deliverer {
    http: reqwest::Client,
    policy: RetryPolicy,
    vault: Option<VaultAccess>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("policy", &self.policy)
            .field("vault", &self.vault.as_ref().map(|v| v.endpoint()))
            .finish()
    }
}

impl Deliverer {
    pub fn new(http: reqwest::Client, policy: RetryPolicy, vault: Option<VaultAccess>) -> Self {
        Deliverer {
            http,
            policy,
            vault,
        }
    }

    /// Four attempts per request, 1 s backoff doubling to 15 s, 10 s per request; the
    /// vault of `CONTEXT_VAULT_URL` and `CONTEXT_VAULT_API_KEY`.
    pub fn from_config(config: &Config) -> Self {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
            retry_after_cap: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
        };
        let vault = crate::cv::SyncSettings::from_config(config).vault;
        Deliverer::new(crate::outbound::outbound_client(), policy, vault)
    }

    /// Whether the `context_vault` channel has a vault to go to.
    pub fn vault_configured(&self) -> bool {
        self.vault.is_some()
    }

    /// Sends `alert` (with `figures`) to every channel of `budget`.
    pub async fn send(&self, budget: &Budget, alert: &Alert, figures: &Figures) -> Outcome {
        let text = message(budget, alert, figures);
        let mut outcome = Outcome::default();
        for channel in &budget.channels {
            let sent = match channel {
                Channel::Webhook { url } => {
                    let mut body = serde_json::to_value(figures).unwrap_or_else(|_| json!({}));
                    body["text"] = json!(text);
                    body["kind"] = json!(alert.kind.as_str());
                    body["threshold"] = json!(alert.threshold);
                    self.webhook(url.expose(), &body).await
                }
                Channel::ContextVault => self.vault(budget, alert, figures, &text).await,
            };
            match sent {
                Ok(attempts) => outcome.attempts += attempts,
                Err((message, attempts)) => {
                    outcome.attempts += attempts;
                    outcome
                        .errors
                        .push(format!("{}: {message}", channel.label()));
                }
            }
        }
        outcome
    }

    /// POSTs `body` to a webhook; the attempts made, or why it failed and after how many.
    async fn webhook(&self, url: &str, body: &Value) -> Result<u32, (String, u32)> {
        let bytes = body.to_string().into_bytes();
        let retrying = |n: u32, wait: Duration, error: &String| {
            tracing::warn!(attempt = n, wait_ms = wait.as_millis() as u64, %error, "budget webhook failed; retrying");
        };
        match self
            .policy
            .run(|_| self.webhook_once(url, &bytes), retrying)
            .await
        {
            Ok(((), attempts)) => Ok(attempts),
            Err((error, attempts)) => {
                Err((format!("{error} after {attempts} attempt(s)"), attempts))
            }
        }
    }

    async fn webhook_once(&self, url: &str, bytes: &[u8]) -> Result<(), Failure<String>> {
        let sent = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes.to_vec())
            .timeout(self.policy.request_timeout)
            .send()
            .await;
        let response = sent.map_err(|err| Failure {
            error: self.policy.transport_failure(&err),
            retryable: true,
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        let text = response.text().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let excerpt: String = text.trim().chars().take(200).collect();
        // The hook's answer may echo its URL.
        let excerpt = excerpt.replace(url, "[redacted]");
        Err(Failure {
            error: format!(
                "HTTP {status}{}",
                if excerpt.is_empty() {
                    String::new()
                } else {
                    format!(": {excerpt}")
                }
            ),
            retryable: status == 429 || status >= 500,
            retry_after: wait.filter(|_| status == 429 || status == 503),
        })
    }

    async fn vault(
        &self,
        budget: &Budget,
        alert: &Alert,
        figures: &Figures,
        text: &str,
    ) -> Result<u32, (String, u32)> {
        let Some(access) = &self.vault else {
            return Err((
                "Context Vault is not configured (set CONTEXT_VAULT_URL and CONTEXT_VAULT_API_KEY)"
                    .into(),
                0,
            ));
        };
        let client = VaultClient::new(access.clone(), self.http.clone(), self.policy);
        let memory = json!({
            "workspace": client.workspace(),
            "memory_type": "ai_cost_alert",
            "importance": if alert.threshold >= 100 { 8 } else { 6 },
            "source_tool": "ai-cost-tracker",
            "tags": ["ai-cost", "budget-alert", budget.name, figures.period_start],
            "summary": text,
            "content": text,
            "meta_data": {
                "figures": figures,
                "kind": alert.kind.as_str(),
                "threshold": alert.threshold,
            },
        });
        let body = serde_json::to_vec(&memory).unwrap_or_default();
        client
            .post_memory(&body)
            .await
            .map(|receipt| receipt.attempts)
            .map_err(|err| (err.to_string(), err.attempts()))
    }
}

/// `Budget peakpaws-daily (project PeakPaws, day 2026-12-03): $5.20 of $10 spent
/// (52%), past its 50% alert; projected $9.80.`
pub fn message(budget: &Budget, alert: &Alert, figures: &Figures) -> String {
    let period = if figures.period_start == figures.period_end {
        format!("{} {}", budget.period.as_str(), figures.period_start)
    } else {
        format!(
            "{} {} to {}",
            budget.period.as_str(),
            figures.period_start,
            figures.period_end
        )
    };
    let money = |usd: rust_decimal::Decimal| {
        let cents =
            usd.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        format!("${cents:.2}")
    };
    let what = match alert.kind {
        AlertKind::Threshold => format!("past its {}% alert", alert.threshold),
        AlertKind::Forecast => "on course to pass the amount".to_string(),
    };
    format!(
        "Budget {} ({}, {period}): {} of {} spent ({}%), {what}; projected {}.",
        budget.name,
        budget.scope_label(),
        money(figures.spent),
        money(figures.amount),
        figures.percent,
        money(figures.projected),
    )
}
