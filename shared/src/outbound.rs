//! Calls to third-party services (the providers' admin APIs, Context Vault): the
//! one HTTP client, how hard a call is retried, and the one-run-at-a-time guard of
//! the jobs that make them (collection, the vault sync).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

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

    /// Runs `attempt(n)` for n = 1, 2, … until it succeeds, fails for good, or
    /// `max_attempts` are used; between attempts it waits the failure's
    /// `retry-after` (capped) or the backoff, after telling `on_retry`. Returns the
    /// result with the number of attempts made.
    pub async fn run<T, E, F, Fut>(
        &self,
        mut attempt: F,
        on_retry: impl Fn(u32, Duration, &E),
    ) -> Result<(T, u32), (E, u32)>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure<E>>>,
    {
        let attempts = self.max_attempts.max(1);
        let mut n = 1;
        loop {
            match attempt(n).await {
                Ok(value) => return Ok((value, n)),
                Err(failure) if !failure.retryable || n >= attempts => {
                    return Err((failure.error, n))
                }
                Err(failure) => {
                    let wait = match failure.retry_after {
                        Some(after) => after.min(self.retry_after_cap),
                        None => self.backoff(n),
                    };
                    on_retry(n, wait, &failure.error);
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
            }
        }
    }
}

/// One attempt's failure, with what decides whether and when to try again.
#[derive(Debug)]
pub struct Failure<E> {
    pub error: E,
    pub retryable: bool,
    /// The server's `retry-after`, when it applies to this failure.
    pub retry_after: Option<Duration>,
}

/// `retry-after` in seconds (whole or fractional; an HTTP date is not honoured).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// The one HTTP client for outbound calls: built once per process (TLS roots
/// loaded once), cloned by every user.
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

/// One run at a time per process (a collection, a vault sync): a second caller
/// waits for the first to finish. Clones share the guard.
#[derive(Clone, Default)]
pub struct RunGuard(Arc<tokio::sync::Mutex<()>>);

impl RunGuard {
    /// Waits for any run in progress; the run lasts as long as the returned guard.
    pub async fn start(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.lock().await
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
    fn retry_after_is_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test]
    async fn a_run_stops_at_success_at_a_final_failure_or_after_the_last_attempt() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let fail = |retryable| Failure {
            error: "no",
            retryable,
            retry_after: Some(Duration::from_millis(1)),
        };
        let third_time = policy
            .run(
                |n| async move {
                    if n < 3 {
                        Err(fail(true))
                    } else {
                        Ok(n)
                    }
                },
                |_, _, _| {},
            )
            .await;
        assert_eq!(third_time, Ok((3, 3)));
        let refused = policy
            .run(|_| async { Err::<(), _>(fail(false)) }, |_, _, _| {})
            .await;
        assert_eq!(refused, Err(("no", 1)));
        let retries = std::sync::atomic::AtomicU32::new(0);
        let down = policy
            .run(
                |_| async { Err::<(), _>(fail(true)) },
                |_, wait, _| {
                    assert_eq!(wait, Duration::from_millis(1));
                    retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                },
            )
            .await;
        assert_eq!(down, Err(("no", 3)));
        assert_eq!(retries.into_inner(), 2);
    }
}
