//! The `Dockerfile`, checked without a Docker engine: its stages, user, environment, port,
//! health check and command are parsed and held to what the README promises, then exactly
//! the image's command runs here with the image's environment (the container's `/data` is a
//! temporary directory and `PORT` a free port, as Railway sets it) and must pass the image's
//! own health check and stop cleanly on SIGTERM (`docker stop`). `.dockerignore` and
//! `railway.toml` are checked against the same facts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

struct Instruction {
    keyword: String,
    args: String,
}

struct Stage {
    image: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }

    fn last<'a>(&'a self, keyword: &'a str) -> Option<&'a str> {
        self.all(keyword).last()
    }

    /// `ENV` pairs in order (`KEY=VALUE …`, or the legacy `KEY VALUE`).
    fn env(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for args in self.all("ENV") {
            if !args.split_whitespace().next().unwrap_or("").contains('=') {
                let (key, value) = args.split_once(char::is_whitespace).unwrap();
                pairs.push((key.to_string(), value.trim().to_string()));
                continue;
            }
            for word in args.split_whitespace() {
                let (key, value) = word.split_once('=').expect("ENV KEY=VALUE");
                pairs.push((key.to_string(), value.trim_matches('"').to_string()));
            }
        }
        pairs
    }

    fn env_value(&self, key: &str) -> Option<String> {
        self.env()
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// Stages of a Dockerfile: comments dropped, `\` continuations joined.
fn parse(text: &str) -> Vec<Stage> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => pending.push_str(&format!("{} ", head.trim())),
            None => lines.push(std::mem::take(&mut pending) + trimmed),
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in lines {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let (keyword, args) = (keyword.to_ascii_uppercase(), args.trim().to_string());
        if keyword == "FROM" {
            let words: Vec<&str> = args.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage {
                image: words[0].to_string(),
                name,
                instructions: Vec::new(),
            });
        } else {
            let stage = stages.last_mut().expect("an instruction before FROM");
            stage.instructions.push(Instruction { keyword, args });
        }
    }
    stages
}

/// An exec-form (`["a", "b"]`) argument list; the shell form is refused.
fn exec_form(args: &str, what: &str) -> Vec<String> {
    serde_json::from_str(args)
        .unwrap_or_else(|_| panic!("{what} must be in exec (JSON array) form, got `{args}`"))
}

/// What the image runs: `ENTRYPOINT` followed by `CMD`.
fn image_command(stage: &Stage) -> Vec<String> {
    let mut command = stage
        .last("ENTRYPOINT")
        .map(|a| exec_form(a, "ENTRYPOINT"))
        .unwrap_or_default();
    command.extend(
        stage
            .last("CMD")
            .map(|a| exec_form(a, "CMD"))
            .unwrap_or_default(),
    );
    command
}

/// The `HEALTHCHECK`'s command (options such as `--interval` skipped).
fn health_check_command(stage: &Stage) -> Vec<String> {
    let args = stage
        .last("HEALTHCHECK")
        .expect("the final stage has a HEALTHCHECK");
    let rest = args
        .split_whitespace()
        .skip_while(|w| w.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    let command = rest
        .strip_prefix("CMD ")
        .expect("HEALTHCHECK … CMD <command>");
    exec_form(command, "HEALTHCHECK CMD")
}

/// The URL the `HEALTHCHECK` asks, `${PORT}` unexpanded.
fn health_check_url(stage: &Stage) -> String {
    let check = health_check_command(stage).join(" ");
    let start = check.find("http://").expect("the HEALTHCHECK asks a URL");
    check[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .next()
        .unwrap()
        .to_string()
}

fn dockerfile() -> Vec<Stage> {
    parse(&repo_file("Dockerfile"))
}

#[test]
fn builds_in_a_rust_stage_and_runs_in_a_small_non_root_one() {
    let stages = dockerfile();
    assert!(stages.len() >= 2, "a multi-stage build");
    let (build, runtime) = (&stages[0], stages.last().unwrap());

    assert!(build.image.starts_with("rust:"), "{}", build.image);
    assert!(
        build
            .all("RUN")
            .any(|run| run.contains("cargo build --release --locked -p server")),
        "the build stage builds the server crate in release mode from Cargo.lock"
    );
    // The binary links glibc dynamically: build and run on the same Debian release.
    assert!(build.image.ends_with("-bookworm"), "{}", build.image);
    assert!(
        runtime.image == "debian:bookworm-slim"
            || runtime.image.starts_with("gcr.io/distroless/cc-debian12"),
        "small bookworm-based final image, got {}",
        runtime.image
    );

    let build_name = build.name.as_deref().expect("the build stage is named");
    let copies: Vec<&str> = runtime.all("COPY").collect();
    let binary =
        format!("--from={build_name} /usr/local/bin/cost-tracker /usr/local/bin/cost-tracker");
    assert_eq!(
        copies,
        [binary.as_str()],
        "the final stage copies the binary and nothing else"
    );

    let user = runtime.last("USER").expect("the final stage sets USER");
    let user = user.split(':').next().unwrap();
    assert!(user != "root" && user != "0", "runs as root: USER {user}");

    assert_eq!(runtime.env_value("HOST").as_deref(), Some("0.0.0.0"));
    let port = runtime.env_value("PORT").expect("ENV PORT");
    assert!(
        runtime
            .all("EXPOSE")
            .any(|e| e.split_whitespace().any(|p| p == port)),
        "EXPOSE {port}"
    );
    assert_eq!(image_command(runtime), ["cost-tracker", "serve"]);
    assert_eq!(health_check_url(runtime), "http://127.0.0.1:${PORT}/health");
}

/// A running `cost-tracker serve` as the image starts it; killed on drop.
struct Container {
    child: Child,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Container {
    /// Starts the image's command with the image's `ENV` (and nothing from this process's
    /// environment), `/data` mapped to `data`, and `overrides` applied last.
    fn start(runtime: &Stage, data: &Path, overrides: &[(&str, &str)]) -> Container {
        let data_dir = data.to_str().unwrap();
        let mut env: Vec<(String, String)> = runtime
            .env()
            .into_iter()
            .map(|(k, v)| (k, v.replace("/data", data_dir)))
            .collect();
        env.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let command = image_command(runtime);
        assert_eq!(
            command[0], "cost-tracker",
            "the image runs the copied binary"
        );
        let log = data.join("container.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cost-tracker"))
            .args(&command[1..])
            .current_dir(data)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start the image's command");
        Container { child, env, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs the image's HEALTHCHECK command in the container's environment.
    fn health_check(&self, runtime: &Stage) -> bool {
        let check = health_check_command(runtime);
        Command::new(&check[0])
            .args(&check[1..])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("run the health check {check:?} (needs {}): {e}", check[0]))
            .success()
    }

    /// Sends SIGTERM, as `docker stop` does, and waits up to 10 s for the exit.
    fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no exit 10 s after SIGTERM; log:\n{}", self.log());
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_image_command_serves_passes_its_health_check_and_stops_on_sigterm() {
    let stages = dockerfile();
    let runtime = stages.last().unwrap();
    let data = std::env::temp_dir().join(format!("ct-docker-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut container = Container::start(
        runtime,
        &data,
        &[("PORT", &port), ("API_KEY", "docker-test-key")],
    );
    let url = health_check_url(runtime).replace("${PORT}", &port);

    let mut health = None;
    for _ in 0..300 {
        if let Ok(reply) = reqwest::get(&url).await {
            health = Some((reply.status(), reply.text().await.unwrap_or_default()));
            break;
        }
        if let Some(status) = container.child.try_wait().unwrap() {
            panic!("exited with {status}; log:\n{}", container.log());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) =
        health.unwrap_or_else(|| panic!("never answered; log:\n{}", container.log()));
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&body["status"], &body["backend"]),
        (&"ok".into(), &"sqlite".into())
    );
    assert!(
        data.join("cost-tracker.db").exists(),
        "the default DATABASE_URL keeps the database in /data"
    );
    assert!(
        container.log().contains("0.0.0.0"),
        "binds HOST=0.0.0.0: {}",
        container.log()
    );

    assert!(
        container.health_check(runtime),
        "the image's HEALTHCHECK fails against the running server"
    );

    let exit = container.stop();
    assert!(
        exit.success(),
        "SIGTERM should end the server cleanly, got {exit}"
    );
    assert!(
        !container.health_check(runtime),
        "the HEALTHCHECK must fail when nothing answers"
    );
    drop(container);
    std::fs::remove_dir_all(&data).ok();
}

/// `.dockerignore` patterns match like the Docker CLI's: `*` within a path segment, `**`
/// across segments, a trailing `/` ignored, and a match on a directory excludes its contents.
fn ignored(patterns: &[&str], path: &str) -> bool {
    fn matches(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.first(), path.first()) {
            (None, _) => path.is_empty(),
            (Some(&"**"), _) => (0..=path.len()).any(|skip| matches(&pattern[1..], &path[skip..])),
            (Some(_), None) => false,
            (Some(p), Some(s)) => {
                segment(p.as_bytes(), s.as_bytes()) && matches(&pattern[1..], &path[1..])
            }
        }
    }
    fn segment(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => segment(&p[1..], s) || (!s.is_empty() && segment(p, &s[1..])),
            (Some(b'?'), Some(_)) => segment(&p[1..], &s[1..]),
            (Some(a), Some(b)) => a == b && segment(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let segments: Vec<&str> = path.split('/').collect();
    patterns.iter().any(|pattern| {
        let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
        (1..=segments.len()).any(|n| matches(&pattern, &segments[..n]))
    })
}

/// Paths (relative to `root`) of the source files under `dir`: build output and installed
/// packages (`target/`, `node_modules/`, git-ignored) are not sources.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(root.join(dir)).unwrap() {
        let name = entry.unwrap().file_name();
        if name == "target" || name == "node_modules" {
            continue;
        }
        let path = dir.join(name);
        if root.join(&path).is_dir() {
            files_under(root, &path, out);
        } else {
            out.push(path.to_str().unwrap().to_string());
        }
    }
}

#[test]
fn dockerignore_keeps_every_file_the_build_needs_and_drops_local_state() {
    let text = repo_file(".dockerignore");
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        patterns.iter().all(|p| !p.starts_with('!')),
        "exceptions are not modelled here"
    );
    let manifest = repo_file("Cargo.toml");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut needed = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    let sources = members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .chain(["migrations"]);
    for dir in sources {
        files_under(&root, Path::new(dir), &mut needed);
    }
    assert!(needed.iter().any(|p| p == "shared/pricing/catalog.toml"));
    for path in &needed {
        assert!(
            !ignored(&patterns, path),
            ".dockerignore drops {path}, which the build needs"
        );
    }
    for path in [
        "target/debug/cost-tracker",
        ".git/HEAD",
        "cost-tracker.db",
        "shared/x.db-wal",
        ".env",
    ] {
        assert!(ignored(&patterns, path), ".dockerignore should drop {path}");
    }
}

#[test]
fn railway_builds_the_dockerfile_and_checks_the_same_health_path() {
    let text = repo_file("railway.toml");
    let setting = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("railway.toml sets {key}"))
    };
    assert_eq!(setting("builder"), "DOCKERFILE");
    assert_eq!(setting("dockerfilePath"), "Dockerfile");
    assert_eq!(setting("healthcheckPath"), "/health");
    let stages = dockerfile();
    let url = health_check_url(stages.last().unwrap());
    assert_eq!(
        url.split_once("${PORT}").map(|(_, path)| path),
        Some(setting("healthcheckPath").as_str()),
        "{url}"
    );
    assert!(
        !text.contains("startCommand"),
        "Railway must run the image's own command"
    );
}
