//! Administration: instance settings, people, the audit log, and the
//! models (the local worker, the provider policy, shared keys, usage).

use super::{send_json, send_only, ApiFailure, BASE};
use autocrea_wire::accounts::UserList;
use autocrea_wire::audit::AuditList;
use autocrea_wire::llm::{AdminLlmView, LlmPolicy, PutKey, SharedKeyInfo, UsageTotal};
use autocrea_wire::settings::{SettingsView, UpdateSettings};

/// `GET /admin/settings`.
pub async fn settings() -> Result<SettingsView, ApiFailure> {
    super::get(&format!("{BASE}/admin/settings")).await
}

/// `PATCH /admin/settings`.
pub async fn update_settings(body: &UpdateSettings) -> Result<SettingsView, ApiFailure> {
    send_json("PATCH", &format!("{BASE}/admin/settings"), body).await
}

/// `GET /admin/users`.
pub async fn users() -> Result<UserList, ApiFailure> {
    super::get(&format!("{BASE}/admin/users")).await
}

/// `GET /admin/audit?limit=`: the newest `limit` entries.
pub async fn audit(limit: u32) -> Result<AuditList, ApiFailure> {
    super::get(&format!("{BASE}/admin/audit?limit={limit}")).await
}

/// `GET /admin/llm`: the local worker, the local model's state, the policy
/// and the shared keys.
pub async fn llm() -> Result<AdminLlmView, ApiFailure> {
    super::get(&format!("{BASE}/admin/llm")).await
}

/// `PUT /admin/llm/policy`: the policy as saved.
pub async fn put_policy(body: &LlmPolicy) -> Result<LlmPolicy, ApiFailure> {
    send_json("PUT", &format!("{BASE}/admin/llm/policy"), body).await
}

/// `PUT /admin/llm/providers/{provider}/key`: a key everyone may use.
pub async fn put_shared_key(provider: &str, body: &PutKey) -> Result<SharedKeyInfo, ApiFailure> {
    send_json(
        "PUT",
        &format!("{BASE}/admin/llm/providers/{provider}/key"),
        body,
    )
    .await
}

/// `DELETE /admin/llm/providers/{provider}/key`.
pub async fn delete_shared_key(provider: &str) -> Result<(), ApiFailure> {
    send_only(
        "DELETE",
        &format!("{BASE}/admin/llm/providers/{provider}/key"),
    )
    .await
}

/// `GET /admin/usage`: everyone's model calls.
pub async fn usage() -> Result<Vec<UsageTotal>, ApiFailure> {
    super::get(&format!("{BASE}/admin/usage")).await
}
