//! API key check for every route but `/health`, in constant time.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

/// Accepts `X-API-Key: <key>` or `Authorization: Bearer <key>`. An address that sent
/// too many wrong keys is answered 429 for a while, whatever key it sends.
pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check_key(&state, request.headers(), request.extensions()) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// The key check with the wrong-key limiter: 429 while the request's address is
/// locked out, 401 (counted) for a wrong key.
pub fn check_key(
    state: &AppState,
    headers: &http::HeaderMap,
    extensions: &http::Extensions,
) -> Result<(), ApiError> {
    let address = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(retry_after) = address.and_then(|a| state.key_guard.locked(a)) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    if has_valid_key(headers, state) {
        return Ok(());
    }
    if let Some(address) = address {
        state.key_guard.wrong_key(address);
    }
    Err(ApiError::Unauthorized)
}

/// Wrong keys allowed per address per [`KEY_WINDOW`] before it is answered 429.
pub const MAX_WRONG_KEYS: u32 = 20;
/// The window wrong keys are counted in, and how long a locked address waits.
pub const KEY_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (the oldest windows go first).
const MAX_ADDRESSES: usize = 10_000;

/// Counts wrong keys per client address (the server's peer address; a Lambda behind
/// API Gateway has none and relies on the gateway's throttling), in process.
#[derive(Debug, Default)]
pub struct KeyGuard {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl KeyGuard {
    /// Seconds until `address` may try again, when it is locked out.
    pub fn locked(&self, address: IpAddr) -> Option<u64> {
        let windows = self.windows.lock().expect("key guard");
        let (started, wrong) = windows.get(&address)?;
        let left = KEY_WINDOW.checked_sub(started.elapsed())?;
        (*wrong >= MAX_WRONG_KEYS).then(|| left.as_secs().max(1))
    }

    /// Counts one wrong key from `address`.
    pub fn wrong_key(&self, address: IpAddr) {
        let mut windows = self.windows.lock().expect("key guard");
        if windows.len() >= MAX_ADDRESSES {
            windows.retain(|_, (started, _)| started.elapsed() < KEY_WINDOW);
        }
        let entry = windows.entry(address).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= KEY_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 == MAX_WRONG_KEYS {
            tracing::warn!(%address, "too many wrong API keys; answering 429 for a minute");
        }
    }
}

/// Whether the headers carry the API key (`X-API-Key` or `Authorization: Bearer`).
pub fn has_valid_key(headers: &http::HeaderMap, state: &AppState) -> bool {
    let presented = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
        })
        .map(str::trim);
    presented.is_some_and(|key| keys_match(key, state.api_key.expose()))
}

/// Compares digests so neither the content nor the length of the key leaks through timing.
pub fn keys_match(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.ct_eq(&b).into()
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_vectors() {
        // Test case 2 (a short key) and test case 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
