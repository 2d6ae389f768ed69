//! What `cost-tracker serve` does with clients that hold connections without finishing
//! a request, with a body over the limit, and with a database that goes away: the real
//! binary on a real port, raw TCP for the clients a well-behaved library would never be.

use std::time::{Duration, Instant};

use integration_tests::serve::Server;
use integration_tests::tcp_proxy::TcpProxy;
use integration_tests::{dec, new_postgres_url, new_sqlite_url};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ct-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn started(env: Vec<(&'static str, String)>, name: &str) -> Server {
    let server = Server::start(env!("CARGO_BIN_EXE_cost-tracker"), &temp_dir(name), env);
    server.wait_for("/health", |b| b["status"] == "ok").await;
    server
}

/// Reads until the server closes the connection (or resets it); how long that took
/// from `since`, or `None` if it was still open at `deadline`.
async fn closed_within(
    mut stream: TcpStream,
    since: Instant,
    deadline: Duration,
) -> Option<Duration> {
    let mut buffer = [0u8; 4096];
    let read_to_end = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(deadline.saturating_sub(since.elapsed()), read_to_end)
        .await
        .ok()
        .map(|()| since.elapsed())
}

/// `GET /health` over a fresh connection, with a deadline.
async fn health(server: &Server, deadline: Duration) -> Result<(u16, Value), String> {
    let reply = reqwest::Client::new()
        .get(server.url("/health"))
        .timeout(deadline)
        .send()
        .await
        .map_err(|err| err.to_string())?;
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_finish_a_request_are_cut_off_and_health_still_answers() {
    let server = started(
        vec![
            ("DATABASE_URL", new_sqlite_url()),
            ("HTTP_READ_TIMEOUT_SECONDS", "2".into()),
        ],
        "slow-clients",
    )
    .await;
    let address = format!("127.0.0.1:{}", server.port);
    let pushes = format!(
        "POST /api/usage HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n[{{\"event_id\":",
        server.key
    );
    // 250 each: connected and silent; half a request line and headers; a declared
    // body that stops after 13 bytes; a finished request on a keep-alive connection
    // that then says nothing.
    let kinds: [&[u8]; 4] = [
        b"",
        b"GET /health HTTP/1.1\r\nHost: x\r\nAccept: ",
        pushes.as_bytes(),
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    let opened = Instant::now();
    let mut connections = Vec::new();
    for i in 0..1000 {
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        stream.write_all(kinds[i % 4]).await.unwrap();
        connections.push(stream);
    }
    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:").map(|v| v.trim().to_string()));
    eprintln!(
        "1,000 connections open after {:?}; server VmRSS {rss_kb:?}",
        opened.elapsed()
    );

    // While they hang there, /health answers on connection 1,001.
    let started = Instant::now();
    let (status, body) = health(&server, Duration::from_secs(1))
        .await
        .unwrap_or_else(|err| panic!("/health beside 1,000 held connections: {err}"));
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    eprintln!("/health beside them: {:?}", started.elapsed());

    // Every one of them is closed by the server shortly after the 2 s read timeout.
    let waits = connections
        .into_iter()
        .map(|stream| tokio::spawn(closed_within(stream, opened, Duration::from_secs(8))));
    let mut latest = Duration::ZERO;
    for (i, wait) in waits.enumerate() {
        let closed = wait.await.unwrap().unwrap_or_else(|| {
            panic!(
                "connection {i} (kind {}) still open 8 s after it was opened; log:\n{}",
                i % 4,
                server.log_text()
            )
        });
        latest = latest.max(closed);
    }
    eprintln!("all 1,000 closed by the server {latest:?} after the first opened");
    assert!(
        latest >= Duration::from_millis(1500),
        "closed before the read timeout: {latest:?}"
    );
    let (status, _) = health(&server, Duration::from_secs(1)).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_connections_the_next_client_waits_for_a_free_slot() {
    let server = started(
        vec![
            ("DATABASE_URL", new_sqlite_url()),
            ("MAX_CONNECTIONS", "10".into()),
            ("HTTP_READ_TIMEOUT_SECONDS", "30".into()),
        ],
        "max-connections",
    )
    .await;
    // /health's polling left its connection in reqwest's pool, now dropped: give the
    // server a moment to see that close.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let address = format!("127.0.0.1:{}", server.port);
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    let eleventh = {
        let url = server.url("/health");
        tokio::spawn(async move {
            let started = Instant::now();
            let reply = reqwest::Client::new()
                .get(url)
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .map(|reply| reply.status().as_u16())
                .map_err(|err| err.to_string());
            (reply, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !eleventh.is_finished(),
        "the 11th connection was served while 10 were held"
    );
    drop(held.pop());
    let (reply, waited) = eleventh.await.unwrap();
    assert_eq!(reply, Ok(200), "the 11th is served once a slot frees");
    assert!(
        waited < Duration::from_secs(5),
        "served {waited:?} after it asked"
    );
    eprintln!("the 11th connection was served {waited:?} after it asked, 1.5 s of it held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_sent() {
    let server = started(
        vec![
            ("DATABASE_URL", new_sqlite_url()),
            ("MAX_BODY_BYTES", "65536".into()),
            ("HTTP_READ_TIMEOUT_SECONDS", "30".into()),
        ],
        "body-limit",
    )
    .await;
    let mut stream = TcpStream::connect(format!("127.0.0.1:{}", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/usage HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n",
        server.key
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = vec![0u8; 8192];
    let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut reply))
        .await
        .expect("no answer within 3 s to a 100 MB Content-Length: the server waits for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&reply[..read]).into_owned();
    eprintln!("413 after {:?}", started.elapsed());
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or_default())
        .unwrap_or_else(|err| panic!("{err}: {text}"));
    assert_eq!(body["error"]["code"], "payload_too_large", "{text}");
}

/// `postgres://user@HOST:PORT/db` with `HOST:PORT` replaced by `address`.
fn through(url: &str, address: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let (_, path) = rest.split_once('/').unwrap();
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{user}{address}/{path}")
}

fn upstream(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split_once('/').unwrap().0.to_string()
}

fn push(url: &str, id: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(
            json!({
                "event_id": id,
                "model": "claude-sonnet-4-5-20250929",
                "tokens_in": 1000,
                "tokens_out": 500,
                "recorded_at": "2026-11-10T11:00:00Z"
            })
            .to_string(),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_requests_get_503_at_once_and_recover_after() {
    let url = new_postgres_url().await;
    let proxy = TcpProxy::start(&upstream(&url)).await;
    let server = started(
        vec![("DATABASE_URL", through(&url, proxy.address()))],
        "db-down",
    )
    .await;
    let client = reqwest::Client::new();
    let send = |request: reqwest::RequestBuilder| async {
        let started = Instant::now();
        let reply = request
            .header("x-api-key", &server.key)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the server answers");
        let status = reply.status().as_u16();
        let retry_after = reply
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value =
            serde_json::from_str(&reply.text().await.unwrap_or_default()).unwrap_or(Value::Null);
        (status, body, retry_after, started.elapsed())
    };
    let range = || client.get(server.url("/costs/range?start=2026-11-10&end=2026-11-10"));
    let (status, ..) = send(push(&server.url("/api/usage"), "before")).await;
    assert_eq!(status, 201);

    proxy.cut().await;
    // The first request after the cut waits SLOW_AFTER (500 ms) before the gate probes;
    // the probe is refused at once.
    let (status, body, retry_after, took) = send(range()).await;
    eprintln!("first read after the cut: {status} in {took:?}");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    // Once the database is marked down, every request is answered at once.
    for (what, request) in [
        ("health", client.get(server.url("/health"))),
        ("range", range()),
        ("push", push(&server.url("/api/usage"), "while-down")),
    ] {
        let (status, body, retry_after, took) = send(request).await;
        eprintln!("{what} while down: {status} in {took:?}");
        assert_eq!(status, 503, "{what}: {body}");
        assert_eq!(retry_after.as_deref(), Some("5"), "{what}");
        assert!(took < Duration::from_millis(300), "{what} took {took:?}");
        if what != "health" {
            assert_eq!(
                body["error"]["code"], "database_unavailable",
                "{what}: {body}"
            );
        } else {
            assert_eq!(body["database"], "unreachable");
        }
    }
    // Without a key, the answer is 401, not news about the database.
    let (status, ..) = send(range().header("x-api-key", "wrong")).await;
    assert_eq!(status, 401);

    proxy.restore().await;
    let restored = Instant::now();
    loop {
        let (status, ..) = send(client.get(server.url("/health"))).await;
        if status == 200 {
            break;
        }
        assert!(
            restored.elapsed() < Duration::from_secs(15),
            "/health still {status} 15 s after the database came back; log:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("healthy again {:?} after the restore", restored.elapsed());
    let (status, body, ..) = send(push(&server.url("/api/usage"), "after")).await;
    assert_eq!(status, 201, "{body}");
    // The refused push was not stored; before and after were, once each:
    // 1000×3 + 500×15 = 10,500 µ$ each.
    let (status, body, ..) = send(range()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        dec(&body["total_cost_usd"]),
        Decimal::new(21_000, 6),
        "{body}"
    );
}
