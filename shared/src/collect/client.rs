//! The HTTP side of collection: one GET with the provider's auth, a per-request
//! timeout, bounded retries (429 waits `retry-after`, 5xx and timeouts back off
//! exponentially with jitter) and errors that name the endpoint, never the key.

use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::{CollectError, Provider};
use crate::config::Secret;

/// How hard a client tries before giving up on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled each time, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `retry-after` honoured; a longer one is cut to this.
    pub retry_after_cap: Duration,
    /// Whole-request timeout (connect, headers and body).
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            retry_after_cap: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// What went wrong with a request that got no HTTP answer, without its URL.
    pub fn transport_failure(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            format!("no answer within {} ms", self.request_timeout.as_millis())
        } else if err.is_connect() {
            "could not connect".to_string()
        } else {
            "the connection failed".to_string()
        }
    }

    /// Full-jitter exponential backoff: a random delay in `[d/2, d]`, `d = base × 2^(attempt-1)`
    /// capped at `max_delay`: the wait before attempt `attempt + 1`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
    }
}

/// The one HTTP client for outbound calls (provider APIs, Context Vault): built
/// once per process (TLS roots loaded once), cloned by every user.
pub fn outbound_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .user_agent(concat!("ai-cost-tracker/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds with static settings")
        })
        .clone()
}

/// Base URL and admin key of one provider.
#[derive(Clone)]
pub struct ProviderAccess {
    /// e.g. `https://api.anthropic.com` (no trailing slash needed).
    pub base_url: String,
    pub key: Secret,
}

impl std::fmt::Debug for ProviderAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderAccess")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish()
    }
}

/// An authenticated client of one provider's admin API.
#[derive(Clone)]
pub struct ProviderClient {
    provider: Provider,
    access: ProviderAccess,
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl ProviderClient {
    pub fn new(
        provider: Provider,
        access: ProviderAccess,
        http: reqwest::Client,
        policy: RetryPolicy,
    ) -> Self {
        ProviderClient {
            provider,
            access,
            http,
            policy,
        }
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// GETs `path` (e.g. `/v1/organizations/usage_report/messages`) with `query`,
    /// retrying what a retry can fix. `endpoint` names the call in errors.
    pub async fn get(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Value, CollectError> {
        let url = format!("{}{}", self.access.base_url.trim_end_matches('/'), path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            let request = self
                .authorize(self.http.get(&url).query(query))
                .timeout(self.policy.request_timeout);
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    let error = self.transport_error(endpoint, &err, attempt);
                    if last {
                        return Err(error);
                    }
                    tracing::warn!(provider = %self.provider, endpoint, attempt, error = %error, "retrying");
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = retry_after(response.headers());
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(err) => {
                    let error = self.transport_error(endpoint, &err, attempt);
                    if last {
                        return Err(error);
                    }
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                    continue;
                }
            };
            if status.is_success() {
                return serde_json::from_slice(&body).map_err(|err| CollectError::Malformed {
                    provider: self.provider,
                    endpoint,
                    detail: format!("response is not valid JSON ({err})"),
                });
            }
            let message = self.scrub(&error_message(&body));
            let code = status.as_u16();
            match code {
                401 | 403 => {
                    return Err(CollectError::KeyRejected {
                        provider: self.provider,
                        endpoint,
                        status: code,
                        message,
                    })
                }
                429 | 500..=599 => {
                    let error = CollectError::Unavailable {
                        provider: self.provider,
                        endpoint,
                        status: Some(code),
                        message,
                        attempts: attempt,
                    };
                    if last {
                        return Err(error);
                    }
                    let wait = match (code, retry_after) {
                        (429, Some(after)) => after.min(self.policy.retry_after_cap),
                        _ => self.policy.backoff(attempt),
                    };
                    tracing::warn!(provider = %self.provider, endpoint, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    return Err(CollectError::Rejected {
                        provider: self.provider,
                        endpoint,
                        status: code,
                        message,
                    })
                }
            }
        }
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let key = self.access.key.expose();
        match self.provider {
            Provider::Anthropic => request
                .header("x-api-key", key)
                .header("anthropic-version", "2023-06-01"),
            Provider::Openai => request.bearer_auth(key),
        }
    }

    fn transport_error(
        &self,
        endpoint: &'static str,
        err: &reqwest::Error,
        attempts: u32,
    ) -> CollectError {
        CollectError::Unavailable {
            provider: self.provider,
            endpoint,
            status: None,
            message: self.policy.transport_failure(err),
            attempts,
        }
    }

    /// Removes the admin key from a provider message, should the provider echo it.
    fn scrub(&self, message: &str) -> String {
        let key = self.access.key.expose();
        if key.len() >= 4 && message.contains(key) {
            message.replace(key, "[redacted]")
        } else {
            message.to_string()
        }
    }
}

/// `retry-after` in seconds (both providers send whole seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// The message of an Anthropic (`{"error":{"type","message"}}`) or OpenAI
/// (`{"error":{"message","type",…}}`) error body, else a short excerpt of it.
fn error_message(body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (text("type"), text("message")) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (None, Some(message)) => message,
        _ => {
            let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
            if excerpt.trim().is_empty() {
                "(empty body)".to_string()
            } else {
                excerpt
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1_000),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(policy.backoff(30) <= Duration::from_millis(1_000));
        }
    }

    #[test]
    fn error_messages_come_from_either_provider_body() {
        let anthropic = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"}"#;
        assert_eq!(error_message(anthropic), "rate_limit_error: slow down");
        let openai = br#"{"error":{"message":"Invalid key","type":"invalid_request_error","param":null,"code":null}}"#;
        assert_eq!(error_message(openai), "invalid_request_error: Invalid key");
        assert_eq!(
            error_message(b"<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
        assert_eq!(error_message(b""), "(empty body)");
    }

    #[test]
    fn retry_after_is_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_key_never_shows() {
        let access = ProviderAccess {
            base_url: "http://x".into(),
            key: Secret::new("sk-ant-admin01-secret"),
        };
        assert!(!format!("{access:?}").contains("secret"));
        let client = ProviderClient::new(
            Provider::Anthropic,
            access,
            reqwest::Client::new(),
            RetryPolicy::default(),
        );
        assert_eq!(
            client.scrub("bad key sk-ant-admin01-secret given"),
            "bad key [redacted] given"
        );
    }
}
