//! Signing up, in and out.

use super::{send_json, send_only, ApiFailure, BASE};
use autocrea_wire::accounts::{LoginRequest, SignupRequest, UserView};

/// `POST /auth/login`: sets the session and CSRF cookies.
pub async fn login(body: &LoginRequest) -> Result<UserView, ApiFailure> {
    send_json("POST", &format!("{BASE}/auth/login"), body).await
}

/// `POST /auth/signup`: the new account, signed in.
pub async fn signup(body: &SignupRequest) -> Result<UserView, ApiFailure> {
    send_json("POST", &format!("{BASE}/auth/signup"), body).await
}

/// `POST /auth/logout`.
pub async fn logout() -> Result<(), ApiFailure> {
    send_only("POST", &format!("{BASE}/auth/logout")).await
}
