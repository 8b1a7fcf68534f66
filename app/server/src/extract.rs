//! Request extractors: who is calling (session cookie with CSRF check, or API
//! token), the client address, and JSON bodies whose errors speak our format.

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

/// Cookie names; `__Host-` prefixed (which forces Secure, Path=/ and no
/// Domain) when the console is served over HTTPS.
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
}

pub fn cookie_names(https: bool) -> CookieNames {
    if https {
        CookieNames {
            session: "__Host-autocrea_session",
            csrf: "__Host-autocrea_csrf",
        }
    } else {
        CookieNames {
            session: "autocrea_session",
            csrf: "autocrea_csrf",
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

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
    Session {
        id_hash: String,
    },
    ApiToken,
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
            Credential::ApiToken => None,
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
            credential: Credential::ApiToken,
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
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than the server accepts",
        ),
        other => ApiError::new(other.status(), "invalid_body", other.body_text()),
    }
}
