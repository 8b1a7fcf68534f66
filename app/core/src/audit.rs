//! The audit log: who did what, when, from where. Writes never fail the
//! action they record; a failure to record is logged instead.

use crate::clock;
use sqlx::SqlitePool;

pub use autocrea_wire::audit::AuditEntry;

/// Who acted (None for anonymous attempts such as failed sign-ins).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: Option<String>,
    pub ip: Option<String>,
}

/// An entry as stored (`at` in Unix seconds).
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_label: Option<String>,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            id: r.id,
            at: clock::rfc3339(r.at),
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target: r.target,
            ip: r.ip,
            detail: r.detail,
        }
    }
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
    let rows = sqlx::query_as::<_, Row>(
        "SELECT id, at, actor_id, actor_label, action, target, ip, detail FROM audit_log
         WHERE id < ? ORDER BY id DESC LIMIT ?",
    )
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
