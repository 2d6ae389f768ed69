//! The HTTP side of collection: one GET with the provider's auth, a per-request
//! timeout, bounded retries (429 waits `retry-after`, 5xx and timeouts back off
//! exponentially with jitter) and errors that name the endpoint, never the key.

use serde_json::value::RawValue;
use serde_json::Value;

use super::{CollectError, Provider};
use crate::config::Secret;
use crate::outbound::{retry_after, Failure, RetryPolicy};

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
    #[tracing::instrument(level = "debug", skip_all, fields(endpoint = endpoint), err(level = "debug"))]
    pub async fn get(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Value, CollectError> {
        self.get_as(endpoint, path, query, |body| serde_json::from_slice(body))
            .await
    }

    /// [`ProviderClient::get`], keeping the body as sent: numbers keep their decimal
    /// text (money is read from it, never through a float).
    #[tracing::instrument(level = "debug", skip_all, fields(endpoint = endpoint), err(level = "debug"))]
    pub async fn get_raw(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Box<RawValue>, CollectError> {
        self.get_as(endpoint, path, query, |body| serde_json::from_slice(body))
            .await
    }

    async fn get_as<T>(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(String, String)],
        parse: fn(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T, CollectError> {
        let url = format!("{}{}", self.access.base_url.trim_end_matches('/'), path);
        let retrying = |attempt: u32, wait: std::time::Duration, error: &CollectError| {
            let wait_ms = wait.as_millis() as u64;
            tracing::warn!(provider = %self.provider, endpoint, attempt, wait_ms, error = %error, "retrying");
        };
        self.policy
            .run(
                |attempt| self.get_once(endpoint, &url, query, attempt, parse),
                retrying,
            )
            .await
            .map(|(value, _)| value)
            .map_err(|(error, _)| error)
    }

    /// One attempt of [`ProviderClient::get`]: 429 (with its `retry-after`), 5xx and
    /// transport failures may be retried; any other answer is final.
    async fn get_once<T>(
        &self,
        endpoint: &'static str,
        url: &str,
        query: &[(String, String)],
        attempt: u32,
        parse: fn(&[u8]) -> serde_json::Result<T>,
    ) -> Result<T, Failure<CollectError>> {
        let transport = |err: reqwest::Error| Failure {
            error: self.transport_error(endpoint, &err, attempt),
            retryable: true,
            retry_after: None,
        };
        let request = self
            .authorize(self.http.get(url).query(query))
            .timeout(self.policy.request_timeout);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(transport)?;
        let fail = |error, retryable, retry_after| Failure {
            error,
            retryable,
            retry_after,
        };
        if status.is_success() {
            return parse(&body).map_err(|err| {
                let detail = format!("response is not valid JSON ({err})");
                let provider = self.provider;
                fail(
                    CollectError::Malformed {
                        provider,
                        endpoint,
                        detail,
                    },
                    false,
                    None,
                )
            });
        }
        let message = self.scrub(&error_message(&body));
        let (provider, code) = (self.provider, status.as_u16());
        Err(match code {
            401 | 403 => fail(
                CollectError::KeyRejected {
                    provider,
                    endpoint,
                    status: code,
                    message,
                },
                false,
                None,
            ),
            429 | 500..=599 => fail(
                CollectError::Unavailable {
                    provider,
                    endpoint,
                    status: Some(code),
                    message,
                    attempts: attempt,
                },
                true,
                retry_after.filter(|_| code == 429),
            ),
            _ => fail(
                CollectError::Rejected {
                    provider,
                    endpoint,
                    status: code,
                    message,
                },
                false,
                None,
            ),
        })
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

#[cfg(test)]
impl ProviderClient {
    /// A client for unit tests that read responses and never send a request.
    pub(crate) fn unused(provider: Provider) -> Self {
        let access = ProviderAccess {
            base_url: "http://unused".into(),
            key: Secret::new("k"),
        };
        ProviderClient::new(
            provider,
            access,
            reqwest::Client::new(),
            RetryPolicy::default(),
        )
    }
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
