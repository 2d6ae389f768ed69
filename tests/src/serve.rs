//! A running `cost-tracker serve` for end-to-end tests of the real binary: started on a
//! free port with a test key, polled until ready, killed on drop; its output goes to a
//! file that failures print.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

/// The key a [`Server`] requires unless the test sets `API_KEY`.
pub const SERVE_KEY: &str = "serve-test-key";

/// A running `cost-tracker serve`.
pub struct Server {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub key: String,
}

impl Server {
    /// Starts `binary serve` in `dir` on a free port with `env` (which may set `API_KEY`);
    /// provider admin keys and `DATABASE_URL` of the test's own environment are not passed on.
    pub fn start(binary: &str, dir: &Path, env: Vec<(&'static str, String)>) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join(format!("serve-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let key = env
            .iter()
            .find(|(name, _)| *name == "API_KEY")
            .map_or(SERVE_KEY.to_string(), |(_, value)| value.clone());
        let mut command = Command::new(binary);
        command
            .current_dir(dir)
            .arg("serve")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("API_KEY", &key)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(name, value)| (*name, value)))
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for name in ["ANTHROPIC_ADMIN_KEY", "OPENAI_ADMIN_KEY", "DATABASE_URL"] {
            if std::env::var_os(name).is_some() && !env.iter().any(|(set, _)| *set == name) {
                command.env_remove(name);
            }
        }
        Server {
            child: command.spawn().expect("start cost-tracker serve"),
            port,
            log,
            key,
        }
    }

    /// The process id (for reading its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET with the key; the JSON body, or `None` when the server does not answer JSON.
    pub async fn get(&self, path: &str) -> Option<Value> {
        let reply = reqwest::Client::new()
            .get(self.url(path))
            .header("x-api-key", &self.key)
            .send()
            .await
            .ok()?;
        serde_json::from_str(&reply.text().await.ok()?).ok()
    }

    /// Polls `path` until `ready` holds (at most 60 s).
    pub async fn wait_for(&self, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..600 {
            if let Some(body) = self.get(path).await {
                if ready(&body) {
                    return body;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "{path} never became ready; server log:\n{}",
            self.log_text()
        );
    }

    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository root (for scripts and `target/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// Copies every record of a SQLite database `copies` more times (new external ids, instants
/// a few seconds earlier), straight in SQL: a large table in seconds, for export tests.
/// Rollups are left as they were; only raw-record reads see the copies.
pub async fn multiply_sqlite_records(url: &str, copies: u32) -> u64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open sqlite");
    let columns: Vec<String> = sqlx::query("PRAGMA table_info(usage_records)")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("name"))
        .filter(|name| name != "id")
        .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "external_id" => "external_id || '#' || copy.n".to_string(),
            "recorded_at_ms" => "recorded_at_ms - copy.n * 1000".to_string(),
            other => other.to_string(),
        })
        .collect();
    let sql = format!(
        "WITH RECURSIVE copy(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copy WHERE n < {copies}) \
         INSERT INTO usage_records ({}) SELECT {} FROM usage_records, copy",
        columns.join(", "),
        values.join(", ")
    );
    sqlx::query(&sql)
        .execute(&mut conn)
        .await
        .expect("copy records")
        .rows_affected()
}
