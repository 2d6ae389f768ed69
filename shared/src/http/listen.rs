//! `cost-tracker serve`'s listener: the router behind hyper's HTTP/1 server with the
//! limits a public address needs. A client that never finishes its headers (hyper's
//! header read timeout, which also bounds an idle keep-alive connection) or stops
//! sending a declared body (tower-http's per-frame body timeout) is cut off after
//! `read_timeout`, and at most `max_connections` are open at once: the next waits in
//! the kernel's backlog until one closes. The Lambda has none of this (API Gateway
//! buffers whole requests).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// How long connections in flight get to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What one client connection may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Headers must arrive, and a body must keep arriving, within this.
    pub read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Limits {
        Limits {
            read_timeout: Duration::from_secs(config.http_read_timeout_seconds),
            max_connections: config.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// connections in flight finish (up to [`SHUTDOWN_GRACE`]). Each request carries the
/// peer's [`ConnectInfo`] (the wrong-key limiter counts by address).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout);
    let body_timeout = limits.read_timeout;
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors or a connection reset before accept:
                    // wait a moment instead of spinning, then accept again.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: http::Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.map(|body| Body::new(TimeoutBody::new(body_timeout, body)))
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // Timeouts and resets end here; they are the client's doing.
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace_seconds = SHUTDOWN_GRACE.as_secs(), "connections still open at shutdown were dropped");
        }
    }
}
