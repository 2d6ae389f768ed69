//! `GET /dashboard`: one page of charts and tables over the JSON API, its
//! HTML, CSS and JavaScript embedded in the binary (no build step, no CDN), served with
//! a strict content security policy (no inline script or style; the page talks only to
//! this origin).
//!
//! The page and its script hold no data: every figure comes from the API, which always
//! needs the key, sent by the script as `X-API-Key` from the browser's local storage.
//! `DASHBOARD_PUBLIC` decides whether the page itself needs the key:
//! - `true`: `/dashboard` and its assets load for anyone; the page asks for the key.
//! - `false` (default): without proof of the key, `/dashboard` answers a small key-entry
//!   page instead of the dashboard, and `/dashboard/app.js` answers 401. A browser cannot
//!   add a header to a page load, so the key-entry page checks the key with
//!   `POST /dashboard/session` (the key as `X-API-Key`), which sets an HttpOnly,
//!   SameSite=Strict cookie scoped to `/dashboard` holding a digest of the key (never the
//!   key); that cookie unlocks the page and its script only, never a data endpoint.

use std::sync::OnceLock;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, ETAG, IF_NONE_MATCH, SET_COOKIE, VARY};
use sha2::{Digest, Sha256};

use super::auth::{has_valid_key, hex, hmac_sha256, keys_match};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};
use crate::config::Secret;
use crate::store::StoreError;

/// Where the page may load from and talk to: this origin only, nothing inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

const COOKIE_NAME: &str = "ct_dashboard";
/// How long a browser stays unlocked after entering the key: 30 days.
const COOKIE_MAX_AGE: u32 = 30 * 24 * 3600;

/// One embedded file.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: OnceLock<String>,
}

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Asset {
        Asset {
            body,
            content_type,
            etag: OnceLock::new(),
        }
    }

    /// A strong validator: the first 16 hex digits of the content's SHA-256.
    fn etag(&self) -> &str {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body.as_bytes());
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
    }

    /// The file (or 304 when the browser has this version), revalidated on every use.
    fn serve(&self, request: &HeaderMap, cache: &'static str) -> Response {
        let etag = self.etag();
        let fresh = request
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
        let mut response = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(CONTENT_TYPE, HeaderValue::from_static(self.content_type))],
                self.body,
            )
                .into_response()
        };
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(etag) {
            headers.insert(ETAG, value);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(VARY, HeaderValue::from_static("Cookie"));
        secure(response)
    }
}

static INDEX: Asset = Asset::new(
    include_str!("dashboard/index.html"),
    "text/html; charset=utf-8",
);
static KEY_PAGE: Asset = Asset::new(
    include_str!("dashboard/key.html"),
    "text/html; charset=utf-8",
);
static APP_JS: Asset = Asset::new(
    include_str!("dashboard/app.js"),
    "text/javascript; charset=utf-8",
);
static KEY_JS: Asset = Asset::new(
    include_str!("dashboard/key.js"),
    "text/javascript; charset=utf-8",
);
static STYLE: Asset = Asset::new(
    include_str!("dashboard/style.css"),
    "text/css; charset=utf-8",
);

/// Adds the headers every dashboard response carries.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The name of the server-side secret the cookie is an HMAC under.
const COOKIE_SECRET: &str = "dashboard_cookie";

/// The secret the cookie is an HMAC under: 256 random bits kept in the database (the
/// same for every instance), replaced when `API_KEY` changes (its check is an HMAC
/// of the key under it), so a leaked cookie cannot be brute-forced offline without
/// the database and dies with the key.
async fn cookie_secret(state: &AppState) -> Result<&Secret, StoreError> {
    state
        .cookie_secret
        .get_or_try_init(|| async {
            let key = state.api_key.expose().as_bytes();
            let check = |secret: &str| {
                hex(&hmac_sha256(
                    secret.as_bytes(),
                    &[b"key check\n", key].concat(),
                ))
            };
            for _ in 0..3 {
                let stored = state.store().server_secret(COOKIE_SECRET).await?;
                if let Some((value, key_check)) = &stored {
                    if keys_match(&check(value), key_check) {
                        return Ok(Secret::new(value.clone()));
                    }
                }
                let fresh = crate::app::generate_api_key();
                let replacing = stored.as_ref().map(|(_, key_check)| key_check.as_str());
                state
                    .store()
                    .save_server_secret(
                        COOKIE_SECRET,
                        fresh.expose(),
                        &check(fresh.expose()),
                        replacing,
                    )
                    .await?;
                // Read again: another instance may have stored its own first.
            }
            Err(StoreError::Corrupt(
                "the dashboard cookie secret keeps changing".into(),
            ))
        })
        .await
}

/// The cookie value that proves the key: an HMAC of it under the server's secret,
/// so the cookie never holds the key, nor a bare digest of it.
fn cookie_token(secret: &Secret, key: &str) -> String {
    hex(&hmac_sha256(
        secret.expose().as_bytes(),
        format!("cost-tracker dashboard v2\n{key}").as_bytes(),
    ))
}

/// Whether this request may have the dashboard itself.
async fn unlocked(headers: &HeaderMap, state: &AppState) -> Result<bool, StoreError> {
    if state.config.dashboard_public || has_valid_key(headers, state) {
        return Ok(true);
    }
    let presented: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .collect();
    if presented.is_empty() {
        return Ok(false);
    }
    let expected = cookie_token(cookie_secret(state).await?, state.api_key.expose());
    Ok(presented.iter().any(|value| keys_match(value, &expected)))
}

fn page_cache(state: &AppState) -> &'static str {
    if state.config.dashboard_public {
        "no-cache"
    } else {
        "private, no-cache"
    }
}

/// `GET /dashboard`: the dashboard, or the key-entry page while it is locked.
#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "The dashboard; while locked (DASHBOARD_PUBLIC=false, no key or unlocking cookie) the key-entry page", content_type = "text/html", body = String),
        (status = 304, description = "Not modified (If-None-Match)")
    )
)]
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match unlocked(&headers, &state).await {
        Ok(true) => INDEX.serve(&headers, page_cache(&state)),
        Ok(false) => KEY_PAGE.serve(&headers, "no-store"),
        Err(err) => secure(ApiError::from(err).into_response()),
    }
}

/// `GET /dashboard/app.js`: the dashboard's script (401 while the page is locked).
#[utoipa::path(
    get,
    path = "/dashboard/app.js",
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "The dashboard script", content_type = "text/javascript", body = String),
        (status = 304, description = "Not modified"),
        (status = 401, description = "The dashboard is locked", body = ErrorBody)
    )
)]
pub async fn app_js(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match unlocked(&headers, &state).await {
        Ok(true) => APP_JS.serve(&headers, page_cache(&state)),
        Ok(false) => secure(ApiError::Unauthorized.into_response()),
        Err(err) => secure(ApiError::from(err).into_response()),
    }
}

/// `GET /dashboard/key.js`: asks for the key, keeps it, unlocks the page.
#[utoipa::path(
    get,
    path = "/dashboard/key.js",
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "The key-entry script", content_type = "text/javascript", body = String),
        (status = 304, description = "Not modified")
    )
)]
pub async fn key_js(headers: HeaderMap) -> Response {
    KEY_JS.serve(&headers, "no-cache")
}

/// `GET /dashboard/style.css`.
#[utoipa::path(
    get,
    path = "/dashboard/style.css",
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "The stylesheet", content_type = "text/css", body = String),
        (status = 304, description = "Not modified")
    )
)]
pub async fn style(headers: HeaderMap) -> Response {
    STYLE.serve(&headers, "no-cache")
}

/// `POST /dashboard/session`: checks the key (`X-API-Key` or `Authorization: Bearer`) and
/// answers 204 with the cookie that unlocks the page in this browser; 401 for a wrong key.
#[utoipa::path(
    post,
    path = "/dashboard/session",
    tag = "dashboard",
    responses(
        (status = 204, description = "The key is right: Set-Cookie unlocks the page in this browser (never a data endpoint)")
    )
)]
pub async fn open_session(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
    if let Err(err) = super::auth::check_key(&state, headers, request.extensions()) {
        return secure(err.into_response());
    }
    let secret = match cookie_secret(&state).await {
        Ok(secret) => secret,
        Err(err) => return secure(ApiError::from(err).into_response()),
    };
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{COOKIE_NAME}={}; Path=/dashboard; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Strict{}",
        cookie_token(secret, state.api_key.expose()),
        if https { "; Secure" } else { "" }
    );
    session_response(&cookie)
}

/// `DELETE /dashboard/session`: forgets the unlocking cookie (204).
#[utoipa::path(
    delete,
    path = "/dashboard/session",
    tag = "dashboard",
    security(()),
    responses(
        (status = 204, description = "The unlocking cookie is cleared")
    )
)]
pub async fn close_session() -> Response {
    session_response(&format!(
        "{COOKIE_NAME}=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict"
    ))
}

fn session_response(cookie: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_an_hmac_of_the_key_under_the_server_secret() {
        let secret = Secret::new("server-secret-1");
        let token = cookie_token(&secret, "ct_secret");
        assert_eq!(token.len(), 64);
        assert!(!token.contains("ct_secret"));
        assert_ne!(token, cookie_token(&secret, "ct_secreT"));
        assert_ne!(
            token,
            cookie_token(&Secret::new("server-secret-2"), "ct_secret")
        );
        // Not the bare digest the v1 cookie was.
        let bare = Sha256::digest(b"cost-tracker dashboard v1\nct_secret");
        assert_ne!(token, hex(&bare));
    }

    #[test]
    fn pages_load_only_their_own_files() {
        for asset in [&INDEX, &KEY_PAGE] {
            assert!(!asset.body.contains("<script>"), "no inline script");
            assert!(!asset.body.contains("style="), "no inline style");
            assert!(!asset.body.contains("http://") && !asset.body.contains("https://"));
        }
        assert!(INDEX.body.contains("src=\"/dashboard/app.js\""));
        assert!(!KEY_PAGE.body.contains("app.js"));
    }
}
