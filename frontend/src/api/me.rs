//! The signed-in person: profile, password, API tokens.

use super::{send_json, send_json_only, send_only, ApiFailure, BASE};
use autocrea_wire::accounts::{
    ChangePassword, CreateToken, CreatedToken, TokenList, UpdateMe, UserView,
};

/// `GET /me`.
pub async fn get() -> Result<UserView, ApiFailure> {
    super::get(&format!("{BASE}/me")).await
}

/// `PATCH /me`.
pub async fn update(body: &UpdateMe) -> Result<UserView, ApiFailure> {
    send_json("PATCH", &format!("{BASE}/me"), body).await
}

/// `POST /me/password`: every other session ends.
pub async fn change_password(body: &ChangePassword) -> Result<(), ApiFailure> {
    send_json_only("POST", &format!("{BASE}/me/password"), body).await
}

/// `GET /me/tokens`.
pub async fn tokens() -> Result<TokenList, ApiFailure> {
    super::get(&format!("{BASE}/me/tokens")).await
}

/// `POST /me/tokens`: the secret is in this answer only.
pub async fn create_token(body: &CreateToken) -> Result<CreatedToken, ApiFailure> {
    send_json("POST", &format!("{BASE}/me/tokens"), body).await
}

/// `DELETE /me/tokens/{id}`.
pub async fn revoke_token(id: i64) -> Result<(), ApiFailure> {
    send_only("DELETE", &format!("{BASE}/me/tokens/{id}")).await
}
