//! A TCP proxy in front of a real server that a test can cut and restore: cutting
//! drops every connection through it and closes its port (new connections are
//! refused, as by a stopped Postgres); restoring listens on the same port again.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

pub struct TcpProxy {
    address: SocketAddr,
    upstream: SocketAddr,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl TcpProxy {
    /// Listens on a free local port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TcpProxy {
        let upstream = tokio::net::lookup_host(upstream)
            .await
            .expect("resolve the upstream")
            .next()
            .expect("the upstream has an address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        TcpProxy {
            address,
            upstream,
            running: Mutex::new(Some(tokio::spawn(forward(listener, upstream)))),
        }
    }

    /// `127.0.0.1:PORT` of the proxy.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Drops every connection and stops listening.
    pub async fn cut(&self) {
        if let Some(task) = self.running.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&self) {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let listener = TcpListener::bind(self.address)
                .await
                .expect("listen on the proxy's port again");
            *running = Some(tokio::spawn(forward(listener, self.upstream)));
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(task) = self.running.get_mut().take() {
            task.abort();
        }
    }
}

/// Accepts and forwards until aborted; the connections' tasks live in a `JoinSet`
/// this task owns, so aborting it ends them all.
async fn forward(listener: TcpListener, upstream: SocketAddr) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut client, _)) = accepted else { continue };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
