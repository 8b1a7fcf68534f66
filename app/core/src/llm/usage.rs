//! One row per model call: who, for which project, which model, how many
//! tokens, how long, and how it ended.

use super::LlmStoreError;
pub use autocrea_wire::llm::UsageTotal;
use sqlx::SqlitePool;

#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub user_id: i64,
    pub project_id: Option<String>,
    pub provider: String,
    pub model: String,
    /// `chat` or `completion`.
    pub endpoint: &'static str,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub duration_ms: u64,
    /// `finished`, `failed` or `cancelled`.
    pub outcome: &'static str,
}

pub async fn record(pool: &SqlitePool, r: &UsageRecord) -> Result<(), LlmStoreError> {
    sqlx::query(
        "INSERT INTO llm_usage (at, user_id, project_id, provider, model, endpoint, prompt_tokens,
           completion_tokens, duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(crate::clock::now())
    .bind(r.user_id)
    .bind(&r.project_id)
    .bind(&r.provider)
    .bind(&r.model)
    .bind(r.endpoint)
    .bind(r.prompt_tokens as i64)
    .bind(r.completion_tokens as i64)
    .bind(r.duration_ms as i64)
    .bind(r.outcome)
    .execute(pool)
    .await?;
    Ok(())
}

/// Totals of one user (`Some`) or everyone (`None`).
pub async fn totals(
    pool: &SqlitePool,
    user_id: Option<i64>,
) -> Result<Vec<UsageTotal>, LlmStoreError> {
    Ok(sqlx::query_as::<_, UsageTotal>(
        "SELECT u.user_id, users.username, users.name AS user_name, u.project_id, p.name AS project_name,
                u.provider, u.model, COUNT(*) AS requests,
                SUM(u.prompt_tokens) AS prompt_tokens, SUM(u.completion_tokens) AS completion_tokens,
                SUM(u.duration_ms) AS duration_ms
         FROM llm_usage u JOIN users ON users.id = u.user_id
         LEFT JOIN projects p ON p.id = u.project_id
         WHERE ?1 IS NULL OR u.user_id = ?1
         GROUP BY u.user_id, u.project_id, u.provider, u.model
         ORDER BY users.username, p.name, u.project_id, u.provider, u.model",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}
