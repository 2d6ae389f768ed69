//! Neon only accepts TLS: a `?sslmode=require` DATABASE_URL must connect
//! over TLS. The local test server has `ssl = on` (a self-signed certificate, which
//! `require` accepts; `verify-full` would check it against the web PKI roots).

use sqlx::Connection;

fn tls_url() -> String {
    let admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let separator = if admin.contains('?') { '&' } else { '?' };
    format!("{admin}{separator}sslmode=require")
}

#[tokio::test]
async fn a_sslmode_require_url_connects_over_tls() {
    let url = tls_url();
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("TLS connection failed ({url}): {err}"));
    let over_tls: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(over_tls, "the session is not encrypted");
    // The product's own store opens the same URL.
    let store = shared::store::open(&url)
        .await
        .expect("the store connects over TLS");
    store.ping().await.unwrap();
}
