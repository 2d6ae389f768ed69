//! On Lambda, `POST /admin/collect` and `POST /admin/sync-cv` do not run the work in
//! `query-api` (a 15-second function behind a 30-second HTTP API, without the provider
//! or vault keys): they hand it to the collector or cv-sync function by an
//! asynchronous invocation (`InvocationType=Event`; Lambda queues the event and
//! answers 202) and log the handoff, which `GET /admin/status` lists. The function
//! that runs it logs the run itself. `cost-tracker serve` configures no handoff and
//! runs the work in-process.
//!
//! The event is the one the function's manual run takes: `{"action":"collect",…}` or
//! `{"action":"sync",…}`, built from a request already validated here, so a bad
//! request is a 400 now, not a failed invocation later.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use chrono::Utc;
use serde_json::Value;

use crate::config::Config;
use crate::store::{HandoffRecord, Store, StoreError};

/// Longest wait for Lambda to accept an event (it answers in milliseconds).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The two jobs `query-api` can hand off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Collect,
    SyncCv,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::SyncCv => "sync-cv",
        }
    }
}

/// The functions work is handed to, and the Lambda client that invokes them.
#[derive(Clone)]
pub struct Handoff {
    client: aws_sdk_lambda::Client,
    collector: Option<String>,
    cv_sync: Option<String>,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handoff")
            .field("collector", &self.collector)
            .field("cv_sync", &self.cv_sync)
            .finish_non_exhaustive()
    }
}

/// Lambda did not take the event.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("the {function} function did not accept the event: {message}")]
    Refused { function: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Handoff {
    /// From `COLLECTOR_FUNCTION` and `CV_SYNC_FUNCTION`; `None` when neither is set.
    pub async fn from_config(config: &Config) -> Option<Handoff> {
        if config.collector_function.is_none() && config.cv_sync_function.is_none() {
            return None;
        }
        let sdk = crate::secrets::sdk_config(INVOKE_TIMEOUT).await;
        Some(Handoff {
            client: aws_sdk_lambda::Client::new(&sdk),
            collector: config.collector_function.clone(),
            cv_sync: config.cv_sync_function.clone(),
        })
    }

    /// The function `job` goes to, when it is handed off.
    pub fn function(&self, job: Job) -> Option<&str> {
        match job {
            Job::Collect => self.collector.as_deref(),
            Job::SyncCv => self.cv_sync.as_deref(),
        }
    }

    /// Invokes the function of `job` with `payload` asynchronously and logs the
    /// handoff, accepted or refused. `Ok` holds the logged record when Lambda queued
    /// the event; a refusal is logged and returned as `Refused`.
    pub async fn start(
        &self,
        store: &dyn Store,
        job: Job,
        payload: Value,
    ) -> Result<HandoffRecord, HandoffError> {
        let function = self
            .function(job)
            .expect("start is only called for a job that is handed off")
            .to_string();
        let requested_at = Utc::now();
        let answer = self
            .client
            .invoke()
            .function_name(&function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await;
        let (request_id, error) = match answer {
            Ok(output) => {
                use aws_sdk_lambda::operation::RequestId;
                (output.request_id().map(str::to_string), None)
            }
            Err(err) => (None, Some(describe(&err))),
        };
        let mut record = HandoffRecord {
            id: 0,
            job: job.as_str().to_string(),
            function: function.clone(),
            payload,
            requested_at,
            request_id,
            status: if error.is_none() { "started" } else { "failed" },
            error: error.clone(),
        };
        record.id = store.save_handoff(&record).await?;
        match error {
            None => {
                tracing::info!(job = job.as_str(), %function, request_id = ?record.request_id, "handed off");
                Ok(record)
            }
            Some(message) => {
                tracing::error!(job = job.as_str(), %function, error = %message, "handoff refused");
                Err(HandoffError::Refused { function, message })
            }
        }
    }
}

/// Lambda's error code and message, or what kept the request from getting an answer.
fn describe<E, R>(err: &aws_sdk_lambda::error::SdkError<E, R>) -> String
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("ServiceError"),
            service.message().unwrap_or("no message")
        ),
        None => aws_sdk_lambda::error::DisplayErrorContext(err).to_string(),
    }
}
