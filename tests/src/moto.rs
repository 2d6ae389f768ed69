//! A local AWS Secrets Manager: `moto_server` (PyPI `moto[server]`, installed by
//! `make test` into `$MOTO_SERVER`, default `~/.cache/cost-tracker/venv/bin/moto_server`),
//! started on a free port for the test, killed on drop.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`: the `AWS_ENDPOINT_URL` for the SDK.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto and waits until it answers (at most 30 s).
    pub async fn start() -> Moto {
        let binary = std::env::var("MOTO_SERVER").unwrap_or_else(|_| {
            format!(
                "{}/.cache/cost-tracker/venv/bin/moto_server",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("moto_server is required ({binary}: {err}); `make test` installs it")
            });
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            if reqwest::get(format!("{}/moto-api/", moto.endpoint))
                .await
                .is_ok()
            {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on {}", moto.endpoint);
    }

    /// The variables that point the AWS SDK at this server with dummy credentials.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Creates a secret holding `text`; returns its ARN.
    pub async fn create_secret(&self, name: &str, text: &str) -> String {
        let reply = reqwest::Client::new()
            .post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "secretsmanager.CreateSecret")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20261122/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(json!({"Name": name, "SecretString": text}).to_string())
            .send()
            .await
            .expect("moto answers")
            .text()
            .await
            .expect("CreateSecret answers");
        let reply: Value = serde_json::from_str(&reply).unwrap_or(Value::String(reply));
        reply["ARN"]
            .as_str()
            .unwrap_or_else(|| panic!("CreateSecret failed: {reply}"))
            .to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
