//! The audit log: who did what, when, from where. Writes never fail the
//! action they record; a failure to record is logged instead.

use crate::clock;
use serde::Serialize;
use sqlx::SqlitePool;

/// Who acted (None for anonymous attempts such as failed sign-ins).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(serialize_with = "clock::ser_rfc3339")]
    #[schema(value_type = String)]
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_label: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

pub async fn record(
    pool: &SqlitePool,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) {
    let result = sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_label, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(clock::now())
    .bind(actor.user_id)
    .bind(actor.label.as_deref())
    .bind(action)
    .bind(target)
    .bind(actor.ip.as_deref())
    .bind(detail)
    .execute(pool)
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action, "could not write audit log entry");
    }
}

/// The newest entries first.
pub async fn list(
    pool: &SqlitePool,
    limit: i64,
    before_id: Option<i64>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as::<_, AuditEntry>(
        "SELECT id, at, actor_id, actor_label, action, target, ip, detail FROM audit_log
         WHERE id < ? ORDER BY id DESC LIMIT ?",
    )
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await
}
