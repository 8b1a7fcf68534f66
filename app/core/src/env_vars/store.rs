//! The `project_env` table. The seal's context is (project, scope, name),
//! so a ciphertext copied onto another row does not open.

use super::{hint, EnvScope, EnvVar, EnvVarError};
use crate::llm::master_key::MasterKey;
use sqlx::SqlitePool;

#[derive(sqlx::FromRow)]
struct Row {
    scope: EnvScope,
    name: String,
    hint: Option<String>,
    updated_at: i64,
}

impl From<Row> for EnvVar {
    fn from(r: Row) -> Self {
        EnvVar {
            build_time: autocrea_wire::env::is_build_time(&r.name),
            scope: r.scope,
            name: r.name,
            hint: r.hint,
            updated_at: crate::clock::rfc3339(r.updated_at),
        }
    }
}

fn context(project_id: &str, scope: EnvScope, name: &str) -> Vec<u8> {
    format!("project-env\0{project_id}\0{scope}\0{name}").into_bytes()
}

pub async fn list(pool: &SqlitePool, project_id: &str) -> Result<Vec<EnvVar>, EnvVarError> {
    let rows = sqlx::query_as::<_, Row>(
        "SELECT scope, name, hint, updated_at FROM project_env WHERE project_id = ? ORDER BY scope, name",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn put(
    pool: &SqlitePool,
    master: &MasterKey,
    project_id: &str,
    scope: EnvScope,
    name: &str,
    value: &str,
) -> Result<EnvVar, EnvVarError> {
    let (nonce, ciphertext) = master.seal(value.as_bytes(), &context(project_id, scope, name));
    let mut tx = pool.begin().await?;
    // The limit counts inside the transaction that adds, so two requests
    // cannot both take the last place.
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM project_env WHERE project_id = ? AND scope = ? AND name = ?)",
    )
    .bind(project_id)
    .bind(scope)
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM project_env WHERE project_id = ? AND scope = ?")
            .bind(project_id)
            .bind(scope)
            .fetch_one(&mut *tx)
            .await?;
    if !exists && n as usize >= autocrea_wire::env::MAX_VARS {
        return Err(EnvVarError::Invalid(format!(
            "the {scope} scope already holds {} variables, the most allowed",
            autocrea_wire::env::MAX_VARS
        )));
    }
    let row = sqlx::query_as::<_, Row>(
        "INSERT INTO project_env (project_id, scope, name, nonce, ciphertext, hint, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (project_id, scope, name) DO UPDATE SET nonce = excluded.nonce,
           ciphertext = excluded.ciphertext, hint = excluded.hint, updated_at = excluded.updated_at
         RETURNING scope, name, hint, updated_at",
    )
    .bind(project_id)
    .bind(scope)
    .bind(name)
    .bind(nonce)
    .bind(ciphertext)
    .bind(hint(value))
    .bind(crate::clock::now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn delete(
    pool: &SqlitePool,
    project_id: &str,
    scope: EnvScope,
    name: &str,
) -> Result<(), EnvVarError> {
    let done =
        sqlx::query("DELETE FROM project_env WHERE project_id = ? AND scope = ? AND name = ?")
            .bind(project_id)
            .bind(scope)
            .bind(name)
            .execute(pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(EnvVarError::NotFound(name.to_string()));
    }
    Ok(())
}

/// `(name, value)` of every variable of the scope, opened.
pub async fn values(
    pool: &SqlitePool,
    master: &MasterKey,
    project_id: &str,
    scope: EnvScope,
) -> Result<Vec<(String, String)>, EnvVarError> {
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT name, nonce, ciphertext FROM project_env WHERE project_id = ? AND scope = ? ORDER BY name",
    )
    .bind(project_id)
    .bind(scope)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(name, nonce, ct)| {
            let plain = master
                .open(&nonce, &ct, &context(project_id, scope, &name))
                .map_err(|_| EnvVarError::Decrypt)?;
            let value = String::from_utf8(plain).map_err(|_| EnvVarError::Decrypt)?;
            Ok((name, value))
        })
        .collect()
}
