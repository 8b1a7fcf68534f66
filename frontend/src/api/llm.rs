//! Models as a person uses them: the providers they may pick, their own
//! provider keys and their usage.

use super::{send_json, send_only, ApiFailure, BASE};
use autocrea_wire::llm::{ProviderKeyInfo, ProvidersView, PutKey, UsageTotal};

/// `GET /llm/providers`: the local model's state and the providers allowed.
pub async fn providers() -> Result<ProvidersView, ApiFailure> {
    super::get(&format!("{BASE}/llm/providers")).await
}

/// `GET /me/provider-keys`: never the keys, only their last characters.
pub async fn keys() -> Result<Vec<ProviderKeyInfo>, ApiFailure> {
    super::get(&format!("{BASE}/me/provider-keys")).await
}

/// `PUT /me/provider-keys/{provider}`.
pub async fn put_key(provider: &str, body: &PutKey) -> Result<ProviderKeyInfo, ApiFailure> {
    send_json("PUT", &format!("{BASE}/me/provider-keys/{provider}"), body).await
}

/// `DELETE /me/provider-keys/{provider}`.
pub async fn delete_key(provider: &str) -> Result<(), ApiFailure> {
    send_only("DELETE", &format!("{BASE}/me/provider-keys/{provider}")).await
}

/// `GET /me/usage`: the caller's model calls by project and model.
pub async fn usage() -> Result<Vec<UsageTotal>, ApiFailure> {
    super::get(&format!("{BASE}/me/usage")).await
}
