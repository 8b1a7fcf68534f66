//! Sign-up, sign-in, sign-out.

use crate::cookies::cookie_names;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{resolve, ApiJson, ClientIp};
use crate::state::AppState;
use autocrea_core::accounts::sessions::{self, NewSession};
use autocrea_core::accounts::users::{self, NewUser, UserView};
use autocrea_core::accounts::{AccountError, User};
use autocrea_core::audit::{self, Actor};
use autocrea_core::settings;
use autocrea_wire::accounts::{LoginRequest, SignupRequest};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A browser that is navigated to us from another site must not sign in or
/// sign up on its user's behalf (login CSRF).
fn refuse_cross_site(headers: &HeaderMap) -> Result<(), ApiError> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return Err(ApiError::forbidden("cross-site requests cannot sign in"));
    }
    Ok(())
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Set-Cookie values for a new session: the HttpOnly session cookie and the
/// script-readable CSRF cookie that the UI echoes in `X-CSRF-Token`.
pub fn session_cookies(state: &AppState, session: &NewSession) -> Vec<HeaderValue> {
    let https = state.config.is_https();
    let names = cookie_names(https);
    let secure = if https { "; Secure" } else { "" };
    let max_age = state.config.session_idle_hours * 3600;
    [
        format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            names.session, session.cookie_value
        ),
        format!(
            "{}={}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
            names.csrf, session.csrf_token
        ),
    ]
    .into_iter()
    .filter_map(|c| HeaderValue::from_str(&c).ok())
    .collect()
}

pub fn clear_cookies(state: &AppState) -> Vec<HeaderValue> {
    let https = state.config.is_https();
    let names = cookie_names(https);
    let secure = if https { "; Secure" } else { "" };
    [names.session, names.csrf]
        .into_iter()
        .filter_map(|n| HeaderValue::from_str(&format!("{n}=; Path=/; Max-Age=0{secure}")).ok())
        .collect()
}

async fn start_session(
    state: &AppState,
    user: &User,
    ip: Option<&str>,
    headers: &HeaderMap,
    status: StatusCode,
) -> ApiResult<Response> {
    // A previous session cookie in this browser ends here: never two ids for one sign-in.
    let names = cookie_names(state.config.is_https());
    if let Some(old) = crate::cookies::cookie(headers, names.session) {
        sessions::delete(&state.pool, &autocrea_core::secrets::sha256_hex(old)).await?;
    }
    let session = sessions::create(
        &state.pool,
        user.id,
        state.config.session_idle_hours,
        ip,
        user_agent(headers).as_deref(),
    )
    .await?;
    let mut response = (status, Json(UserView::from(user))).into_response();
    for cookie in session_cookies(state, &session) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    if let Ok(v) = HeaderValue::from_str(&session.csrf_token) {
        response
            .headers_mut()
            .insert(crate::extract::CSRF_HEADER, v);
    }
    Ok(response)
}

/// Creates an account and signs it in. The first account becomes the admin.
/// When an admin has closed sign-up, only the CLI or an admin can add people.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, body = UserView, description = "Signed up and signed in; session and CSRF cookies set"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "sign-up is closed"),
        (status = 409, body = ErrorBody, description = "email taken")))]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignupRequest>,
) -> ApiResult<Response> {
    refuse_cross_site(&headers)?;
    let open = settings::load(&state.pool).await?.open_signup;
    if !open && users::count(&state.pool).await? > 0 {
        return Err(AccountError::SignupClosed.into());
    }
    let user = users::create(
        &state.pool,
        NewUser {
            email: &body.email,
            name: &body.name,
            password: &body.password,
            force_admin: false,
        },
    )
    .await?;
    let actor = Actor {
        user_id: Some(user.id),
        label: Some(user.email.clone()),
        ip: ip.clone(),
    };
    audit::record(
        &state.pool,
        &actor,
        "user.signup",
        Some(&user.email),
        user.is_admin.then_some("first user: admin"),
    )
    .await;
    start_session(&state, &user, ip.as_deref(), &headers, StatusCode::CREATED).await
}

/// Signs in with email and password; sets the session cookie (HttpOnly) and
/// the CSRF cookie, and returns the CSRF token in `X-CSRF-Token` as well.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = UserView), (status = 401, body = ErrorBody, description = "wrong email or password"),
        (status = 429, body = ErrorBody, description = "too many failures; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    refuse_cross_site(&headers)?;
    let actor = Actor {
        user_id: None,
        label: Some(body.email.trim().to_lowercase()),
        ip: ip.clone(),
    };
    // A locked-out address is refused before the password is even checked;
    // an account under attack from many addresses only waits a little longer.
    if let Err(throttled) = state.throttle.wait_turn(&body.email, ip.as_deref()).await {
        audit::record(&state.pool, &actor, "user.login_throttled", None, None).await;
        return Err(throttled.into());
    }
    match users::authenticate(&state.pool, &body.email, &body.password).await {
        Ok(user) => {
            state.throttle.record_success(&body.email, ip.as_deref());
            let actor = Actor {
                user_id: Some(user.id),
                ..actor
            };
            audit::record(&state.pool, &actor, "user.login", None, None).await;
            start_session(&state, &user, ip.as_deref(), &headers, StatusCode::OK).await
        }
        Err(AccountError::WrongCredentials) => {
            audit::record(&state.pool, &actor, "user.login_failed", None, None).await;
            if let Some(wait) = state.throttle.record_failure(&body.email, ip.as_deref()) {
                return Err(AccountError::Throttled {
                    retry_after_secs: wait,
                }
                .into());
            }
            Err(AccountError::WrongCredentials.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends the current session (cookie) and clears the cookies. Safe to call
/// when not signed in.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 403, body = ErrorBody, description = "CSRF token missing")))]
pub async fn logout(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let (parts, _) = req.into_parts();
    if let Some(auth) = resolve(&parts, &state).await? {
        if let Some(hash) = auth.session_hash() {
            sessions::delete(&state.pool, hash).await?;
            audit::record(&state.pool, &auth.actor(), "user.logout", None, None).await;
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in clear_cookies(&state) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
