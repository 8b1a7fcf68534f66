//! Request extractors: who is calling (session cookie with CSRF check, or API
//! token), the client address, and JSON and raw bodies whose errors speak our
//! format.

use crate::cookies::{cookie, cookie_names};
use crate::error::ApiError;
use crate::state::AppState;
use autocrea_core::accounts::{sessions, tokens, User};
use autocrea_core::audit::Actor;
use autocrea_core::secrets::constant_time_eq;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The peer address (the appliance does not trust forwarding headers by default).
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session; the hash identifies it for logout and password change.
    Session { id_hash: String },
    /// A personal API token; read-only ones have no write scope.
    ApiToken { can_write: bool },
}

/// An authenticated caller. Cookie-authenticated requests that change state
/// must carry the session's CSRF token in `X-CSRF-Token`; token-authenticated
/// requests need none (a browser never attaches them on its own).
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: User,
    pub credential: Credential,
    pub ip: Option<String>,
}

impl Auth {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            label: Some(self.user.email.clone()),
            ip: self.ip.clone(),
        }
    }
    pub fn session_hash(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { id_hash } => Some(id_hash),
            Credential::ApiToken { .. } => None,
        }
    }

    /// Whether this credential may change things. Sessions always may (the
    /// CSRF check guards them); tokens only with a write scope.
    pub fn can_write(&self) -> bool {
        match self.credential {
            Credential::Session { .. } => true,
            Credential::ApiToken { can_write } => can_write,
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| rest.trim())
}

/// Resolves the caller, or None when no credential was sent at all.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Auth>, ApiError> {
    let ip = client_ip(parts);
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(token) = bearer(&parts.headers) {
        let (user, grant) = tokens::authenticate(&state.pool, token, &state.token_usage)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the API token is invalid or was revoked",
                )
            })?;
        if !safe && !grant.can_write {
            return Err(ApiError::forbidden(
                "this API token is read-only: its scopes grant no write access",
            ));
        }
        return Ok(Some(Auth {
            user,
            credential: Credential::ApiToken {
                can_write: grant.can_write,
            },
            ip,
        }));
    }
    let names = cookie_names(state.config.is_https());
    let Some(value) = cookie(&parts.headers, names.session) else {
        return Ok(None);
    };
    let Some(session) =
        sessions::lookup(&state.pool, value, state.config.session_idle_hours).await?
    else {
        return Ok(None);
    };
    if !safe {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent, &session.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "missing or wrong CSRF token: send the autocrea_csrf cookie's value in the X-CSRF-Token header",
            ));
        }
    }
    Ok(Some(Auth {
        user: session.user,
        credential: Credential::Session {
            id_hash: session.id_hash,
        },
        ip,
    }))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        resolve(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The authority (`host[:port]`, lowercased) of an origin or URL such as
/// `https://Example.com:8443/x`; None when it has no `scheme://`.
fn authority_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

/// Whether the request's `Origin` is the console itself: the host the
/// browser addressed (`Host`), or the configured `public_url` (behind a
/// reverse proxy that rewrites `Host`). A page on any other origin, a
/// preview on a sibling subdomain included, does not match.
pub fn origin_is_console(headers: &HeaderMap, state: &AppState) -> bool {
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .and_then(authority_of)
    else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let public = state.config.public_url.as_deref().and_then(authority_of);
    host.as_deref() == Some(origin.as_str()) || public.as_deref() == Some(origin.as_str())
}

/// A WebSocket (or other upgrade) is a GET, so the usual checks for
/// changes do not run on it; one that drives a shell changes things all
/// the same. It needs a credential that may write, and when the browser's
/// session cookie is that credential, an `Origin` of the console's own:
/// browsers attach cookies to cross-site WebSocket handshakes (and a
/// preview on a sibling subdomain is same-site), but never forge `Origin`.
/// Token callers are scripts, which may send no `Origin` at all.
pub fn authorize_upgrade(
    auth: &Auth,
    headers: &HeaderMap,
    state: &AppState,
) -> Result<(), ApiError> {
    if !auth.can_write() {
        return Err(ApiError::forbidden(
            "this API token is read-only: its scopes grant no write access",
        ));
    }
    if auth.session_hash().is_some() && !origin_is_console(headers, state) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_refused",
            "this WebSocket opens only from the console's own pages (the Origin header must be the console's)",
        ));
    }
    Ok(())
}

/// An authenticated administrator.
pub struct Admin(pub Auth);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if !auth.user.is_admin {
            return Err(ApiError::forbidden("this needs an administrator"));
        }
        Ok(Admin(auth))
    }
}

/// The caller's address, for anonymous routes (sign-in throttling, audit).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// `axum::Json` with rejections in our error format: malformed JSON and wrong
/// fields are 400 with the parser's message, a body over the limit 413, a
/// missing content type 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A raw body (`Bytes`) whose refusal speaks our format: over the limit is
/// 413 `body_too_large`, like JSON bodies.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(ApiBytes(b)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large())
            }
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "invalid_body",
                rejection.body_text(),
            )),
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is larger than the server accepts",
    )
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("the JSON does not fit: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => ApiError::new(other.status(), "invalid_body", other.body_text()),
    }
}
