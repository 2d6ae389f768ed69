//! The Context Vault client: POSTs one memory to `CONTEXT_VAULT_URL + CONTEXT_VAULT_PATH`
//! with `X-API-Key`, a per-request timeout and bounded retries (429 waits `retry-after`,
//! 5xx, timeouts and refused connections back off) under a [`RetryPolicy`]. Errors
//! carry the vault's response text, never the key.

use reqwest::header::{HeaderValue, CONTENT_TYPE};

use crate::config::Secret;
use crate::outbound::{retry_after, RetryPolicy};

/// Where summaries go and the key that lets them in.
#[derive(Debug, Clone)]
pub struct VaultAccess {
    /// `CONTEXT_VAULT_URL`, e.g. `https://vault.example.com`.
    pub url: String,
    /// `CONTEXT_VAULT_PATH`, default `/memories`.
    pub path: String,
    /// `CONTEXT_VAULT_WORKSPACE`, default `openclaw_default`.
    pub workspace: String,
    pub key: Secret,
}

impl VaultAccess {
    /// The URL memories are POSTed to.
    pub fn endpoint(&self) -> String {
        let path = self.path.trim();
        let slash = if path.starts_with('/') || path.is_empty() {
            ""
        } else {
            "/"
        };
        format!("{}{slash}{path}", self.url.trim().trim_end_matches('/'))
    }
}

/// A push the vault accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushReceipt {
    pub status: u16,
    pub attempts: u32,
}

/// Why a push did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// 5xx, 429, a timeout or no connection, on every attempt: the next run tries again.
    #[error("Context Vault is unavailable after {attempts} attempt(s): {}{message}", status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
    Unavailable {
        status: Option<u16>,
        message: String,
        attempts: u32,
    },
    /// Any other 4xx: the vault's answer, and what to check.
    #[error("Context Vault rejected the summary (HTTP {status}: {message}){}", hint(*status))]
    Rejected {
        status: u16,
        message: String,
        attempts: u32,
    },
}

impl PushError {
    /// Whether running again later may succeed without anyone changing anything.
    pub fn retryable(&self) -> bool {
        matches!(self, PushError::Unavailable { .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            PushError::Unavailable { status, .. } => *status,
            PushError::Rejected { status, .. } => Some(*status),
        }
    }

    pub fn attempts(&self) -> u32 {
        match self {
            PushError::Unavailable { attempts, .. } | PushError::Rejected { attempts, .. } => {
                *attempts
            }
        }
    }
}

fn hint(status: u16) -> &'static str {
    match status {
        401 | 403 => "; check CONTEXT_VAULT_API_KEY",
        404 | 405 => "; check CONTEXT_VAULT_URL and CONTEXT_VAULT_PATH",
        _ => "",
    }
}

/// One attempt's failure: the vault's status (none without an answer) and message.
#[derive(Debug)]
struct Failure {
    status: Option<u16>,
    message: String,
}

type Attempt = crate::outbound::Failure<Failure>;

/// An authenticated client of one vault.
#[derive(Clone)]
pub struct VaultClient {
    access: VaultAccess,
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl VaultClient {
    pub fn new(access: VaultAccess, http: reqwest::Client, policy: RetryPolicy) -> Self {
        VaultClient {
            access,
            http,
            policy,
        }
    }

    /// The workspace memories are stored in.
    pub fn workspace(&self) -> &str {
        &self.access.workspace
    }

    /// POSTs a memory (JSON bytes), retrying what a retry can fix.
    #[tracing::instrument(level = "debug", skip_all, fields(bytes = body.len()), err(level = "debug"))]
    pub async fn post_memory(&self, body: &[u8]) -> Result<PushReceipt, PushError> {
        let url = self.access.endpoint();
        let retrying = |attempt: u32, wait: std::time::Duration, failure: &Failure| {
            tracing::warn!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                status = failure.status,
                error = %failure.message,
                "Context Vault push failed; retrying"
            );
        };
        match self.policy.run(|_| self.send(&url, body), retrying).await {
            Ok((status, attempts)) => Ok(PushReceipt { status, attempts }),
            Err((failure, attempts)) => Err(failure.into_error(attempts)),
        }
    }

    async fn send(&self, url: &str, body: &[u8]) -> Result<u16, Attempt> {
        let mut key = HeaderValue::from_str(self.access.key.expose()).map_err(|_| Attempt {
            error: Failure {
                status: None,
                message: "CONTEXT_VAULT_API_KEY is not a valid header value".into(),
            },
            retryable: false,
            retry_after: None,
        })?;
        key.set_sensitive(true);
        let sent = self
            .http
            .post(url)
            .header("x-api-key", key)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .timeout(self.policy.request_timeout)
            .send()
            .await;
        let response = sent.map_err(|err| self.transport_failure(&err))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let text = response
            .text()
            .await
            .map_err(|err| self.transport_failure(&err))?;
        if (200..300).contains(&status) {
            return Ok(status);
        }
        Err(Attempt {
            error: Failure {
                status: Some(status),
                message: self.excerpt(&text),
            },
            retryable: status == 429 || status >= 500,
            retry_after: retry_after.filter(|_| status == 429 || status == 503),
        })
    }

    fn transport_failure(&self, err: &reqwest::Error) -> Attempt {
        Attempt {
            error: Failure {
                status: None,
                message: self.policy.transport_failure(err),
            },
            retryable: true,
            retry_after: None,
        }
    }

    /// The start of a response body, without the key should the vault echo it.
    fn excerpt(&self, text: &str) -> String {
        let mut excerpt: String = text.trim().chars().take(300).collect();
        let key = self.access.key.expose();
        if key.len() >= 4 {
            excerpt = excerpt.replace(key, "[redacted]");
        }
        if excerpt.is_empty() {
            "(empty body)".to_string()
        } else {
            excerpt
        }
    }
}

impl Failure {
    /// A final failure: the vault's answer when it refused (a 4xx other than 429),
    /// else unavailable.
    fn into_error(self, attempts: u32) -> PushError {
        let refused = self.status.filter(|&s| s != 429 && s < 500);
        match refused {
            Some(status) => PushError::Rejected {
                status,
                message: self.message,
                attempts,
            },
            None => PushError::Unavailable {
                status: self.status,
                message: self.message,
                attempts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(path: &str) -> VaultAccess {
        VaultAccess {
            url: "http://vault.local/".into(),
            path: path.into(),
            workspace: "ws".into(),
            key: Secret::new("cv-secret-key"),
        }
    }

    #[test]
    fn the_endpoint_joins_url_and_path() {
        assert_eq!(
            access("/memories").endpoint(),
            "http://vault.local/memories"
        );
        assert_eq!(
            access("api/memories").endpoint(),
            "http://vault.local/api/memories"
        );
    }

    #[test]
    fn errors_say_what_to_check_and_never_show_the_key() {
        let client = VaultClient::new(access("/m"), reqwest::Client::new(), RetryPolicy::default());
        assert!(!format!("{:?}", access("/m")).contains("cv-secret-key"));
        assert_eq!(
            client.excerpt("bad key cv-secret-key"),
            "bad key [redacted]"
        );
        assert_eq!(client.excerpt("  "), "(empty body)");
        let rejected = PushError::Rejected {
            status: 401,
            message: "invalid key".into(),
            attempts: 1,
        };
        assert!(!rejected.retryable());
        assert_eq!(
            rejected.to_string(),
            "Context Vault rejected the summary (HTTP 401: invalid key); check CONTEXT_VAULT_API_KEY"
        );
        let down = PushError::Unavailable {
            status: None,
            message: "could not connect".into(),
            attempts: 4,
        };
        assert!(down.retryable());
        assert_eq!(
            down.to_string(),
            "Context Vault is unavailable after 4 attempt(s): could not connect"
        );
    }
}
