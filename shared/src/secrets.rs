//! `SECRETS_ARN`: an AWS Secrets Manager secret holding a JSON object of
//! configuration variables; its values fill the variables the environment leaves
//! unset. Read once, at start-up (a Lambda cold start), through `aws-config` (region,
//! credentials and `AWS_ENDPOINT_URL` from the usual AWS sources).
//!
//! Errors and logs name the secret and the variables, never a value.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{Config, ConfigError};

/// Longest wait for Secrets Manager at start-up.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

fn error(message: String) -> ConfigError {
    ConfigError {
        variable: "SECRETS_ARN",
        message,
    }
}

/// Parses a secret string: a JSON object whose values are strings, numbers or
/// booleans (numbers and booleans are taken as written). Names only in errors.
pub fn parse_secret(arn: &str, text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        // serde's message quotes no input, only its position.
        error(format!(
            "secret `{arn}` is not valid JSON (line {}, column {}); it must be a JSON object of variable names to values",
            err.line(),
            err.column()
        ))
    })?;
    let serde_json::Value::Object(object) = value else {
        return Err(error(format!(
            "secret `{arn}` must be a JSON object of variable names to values"
        )));
    };
    object
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                _ => {
                    return Err(error(format!(
                        "secret `{arn}`: the value of `{name}` must be a string, number or boolean"
                    )))
                }
            };
            Ok((name, text))
        })
        .collect()
}

/// The AWS SDK configuration of every client here: region, credentials and endpoint
/// overrides (`AWS_ENDPOINT_URL_<SERVICE>`) from the usual sources, rustls with ring,
/// and a bound on each whole operation.
pub(crate) async fn sdk_config(operation_timeout: Duration) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(operation_timeout)
                .build(),
        )
        .load()
        .await
}

/// Reads the secret's string from Secrets Manager.
pub async fn fetch_secret(arn: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let sdk = sdk_config(FETCH_TIMEOUT).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let answer = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|err| {
            use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
            let detail = match err.as_service_error() {
                Some(service) => format!(
                    "{}: {}",
                    service.code().unwrap_or("ServiceError"),
                    service.message().unwrap_or("no message")
                ),
                // Timeouts and connection failures: no response body to leak.
                None => aws_sdk_secretsmanager::error::DisplayErrorContext(&err).to_string(),
            };
            error(format!("could not read secret `{arn}`: {detail}"))
        })?;
    let text = answer.secret_string().ok_or_else(|| {
        error(format!(
            "secret `{arn}` has no SecretString (a binary secret is not supported)"
        ))
    })?;
    parse_secret(arn, text)
}

impl Config {
    /// The configuration of a deployable: `.env` when present, the environment, then
    /// (when `SECRETS_ARN` is set) the secret for every variable still unset.
    pub async fn load() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::load_with(|name| std::env::var(name).ok()).await
    }

    /// [`Config::load`] over any variable source.
    pub async fn load_with(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let set = |name: &str| get(name).filter(|value| !value.trim().is_empty());
        let Some(arn) = set("SECRETS_ARN") else {
            return Config::from_lookup(get);
        };
        let arn = arn.trim().to_string();
        let secret = fetch_secret(&arn).await?;
        let filled: Vec<&str> = secret
            .keys()
            .map(String::as_str)
            .filter(|name| set(name).is_none())
            .collect();
        tracing::info!(secret = %arn, filled = ?filled, "configuration read from Secrets Manager");
        Config::from_lookup(|name| set(name).or_else(|| secret.get(name).cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_an_object_of_scalars() {
        let parsed = parse_secret(
            "arn:x",
            r#"{"DATABASE_URL":"postgres://u:p@h/db","PORT":3001,"DASHBOARD_PUBLIC":true}"#,
        )
        .unwrap();
        assert_eq!(parsed["PORT"], "3001");
        assert_eq!(parsed["DASHBOARD_PUBLIC"], "true");
        assert_eq!(parsed["DATABASE_URL"], "postgres://u:p@h/db");
    }

    #[test]
    fn bad_secrets_name_the_problem_never_the_value() {
        for (text, says) in [
            (r#"{"API_KEY": "hunter2-very-secret""#, "not valid JSON"),
            (r#"["hunter2-very-secret"]"#, "must be a JSON object"),
            (
                r#"{"API_KEY": {"v": "hunter2-very-secret"}}"#,
                "`API_KEY` must be a string",
            ),
        ] {
            let err = parse_secret("arn:x", text).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("SECRETS_ARN: "), "{message}");
            assert!(message.contains(says), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[tokio::test]
    async fn without_secrets_arn_nothing_is_fetched() {
        let config = Config::load_with(|name| (name == "PORT").then(|| "4000".to_string()))
            .await
            .unwrap();
        assert_eq!(config.port, 4000);
    }
}
