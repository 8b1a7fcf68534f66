//! `project_remotes`: one row per linked project. The token and the
//! webhook secret are sealed with the master key under a context naming
//! the project and what the secret is, so a sealed value copied into
//! another row or column does not open.

use super::RemoteError;
use crate::clock;
use crate::llm::master_key::MasterKey;
use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RemoteRow {
    pub project_id: String,
    pub url: String,
    pub username: Option<String>,
    pub token_nonce: Option<Vec<u8>>,
    pub token_ciphertext: Option<Vec<u8>>,
    pub token_last4: Option<String>,
    pub branch: Option<String>,
    pub push_mirror: bool,
    pub secret_nonce: Vec<u8>,
    pub secret_ciphertext: Vec<u8>,
    pub push_at: Option<i64>,
    pub push_sha: Option<String>,
    pub push_error: Option<String>,
    pub pull_at: Option<i64>,
    pub pull_sha: Option<String>,
    pub pull_error: Option<String>,
    pub conflict_local: Option<String>,
    pub conflict_remote: Option<String>,
    pub conflict_paths: Option<String>,
    pub conflict_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn token_context(project: &str) -> Vec<u8> {
    format!("remote-token\0{project}").into_bytes()
}

fn secret_context(project: &str) -> Vec<u8> {
    format!("remote-webhook-secret\0{project}").into_bytes()
}

/// The last four characters, all that is ever shown of a token, and only
/// when at least eight more stay hidden (the env vars' hint rule).
fn last4(token: &str) -> String {
    crate::env_vars::hint(token).unwrap_or_default()
}

pub async fn get(pool: &SqlitePool, project: &str) -> Result<Option<RemoteRow>, RemoteError> {
    Ok(
        sqlx::query_as::<_, RemoteRow>("SELECT * FROM project_remotes WHERE project_id = ?")
            .bind(project)
            .fetch_optional(pool)
            .await?,
    )
}

/// What a link request changes.
pub struct Link<'a> {
    pub url: &'a str,
    pub username: Option<&'a str>,
    /// None keeps the stored token; Some("") removes it.
    pub token: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub push_mirror: bool,
}

/// Creates or updates the link. Returns the row and, when the link is new,
/// the webhook secret (shown once). A new URL forgets the old one's push
/// and pull state.
pub async fn put(
    pool: &SqlitePool,
    master: &MasterKey,
    project: &str,
    link: Link<'_>,
) -> Result<(RemoteRow, Option<String>), RemoteError> {
    let now = clock::now();
    let sealed_token = match link.token {
        None => None,
        Some("") => Some((None, None, None)),
        Some(t) => {
            let (n, c) = master.seal(t.as_bytes(), &token_context(project));
            Some((Some(n), Some(c), Some(last4(t))))
        }
    };
    let mut tx = pool.begin().await?;
    let existing: Option<RemoteRow> =
        sqlx::query_as("SELECT * FROM project_remotes WHERE project_id = ?")
            .bind(project)
            .fetch_optional(&mut *tx)
            .await?;
    let secret = match &existing {
        Some(_) => None,
        None => Some(crate::secrets::random_token(40)),
    };
    match existing {
        None => {
            let secret = secret.as_deref().expect("a new link has a secret");
            let (sn, sc) = master.seal(secret.as_bytes(), &secret_context(project));
            let (tn, tc, t4) = sealed_token.unwrap_or((None, None, None));
            sqlx::query(
                "INSERT INTO project_remotes (project_id, url, username, token_nonce, token_ciphertext,
                   token_last4, branch, push_mirror, secret_nonce, secret_ciphertext, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(project)
            .bind(link.url)
            .bind(link.username)
            .bind(tn)
            .bind(tc)
            .bind(t4)
            .bind(link.branch)
            .bind(link.push_mirror)
            .bind(sn)
            .bind(sc)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Some(old) => {
            if old.url != link.url || old.branch.as_deref() != link.branch {
                sqlx::query(
                    "UPDATE project_remotes SET push_at = NULL, push_sha = NULL, push_error = NULL,
                       pull_at = NULL, pull_sha = NULL, pull_error = NULL, conflict_local = NULL,
                       conflict_remote = NULL, conflict_paths = NULL, conflict_at = NULL
                     WHERE project_id = ?",
                )
                .bind(project)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE project_remotes SET url = ?, username = ?, branch = ?, push_mirror = ?, updated_at = ?
                 WHERE project_id = ?",
            )
            .bind(link.url)
            .bind(link.username)
            .bind(link.branch)
            .bind(link.push_mirror)
            .bind(now)
            .bind(project)
            .execute(&mut *tx)
            .await?;
            if let Some((tn, tc, t4)) = sealed_token {
                sqlx::query(
                    "UPDATE project_remotes SET token_nonce = ?, token_ciphertext = ?, token_last4 = ?
                     WHERE project_id = ?",
                )
                .bind(tn)
                .bind(tc)
                .bind(t4)
                .bind(project)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    let row: RemoteRow = sqlx::query_as("SELECT * FROM project_remotes WHERE project_id = ?")
        .bind(project)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((row, secret))
}

pub async fn delete(pool: &SqlitePool, project: &str) -> Result<(), RemoteError> {
    let done = sqlx::query("DELETE FROM project_remotes WHERE project_id = ?")
        .bind(project)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(RemoteError::NotLinked);
    }
    Ok(())
}

/// A new webhook secret, returned once.
pub async fn rotate_secret(
    pool: &SqlitePool,
    master: &MasterKey,
    project: &str,
) -> Result<String, RemoteError> {
    let secret = crate::secrets::random_token(40);
    let (n, c) = master.seal(secret.as_bytes(), &secret_context(project));
    let done = sqlx::query(
        "UPDATE project_remotes SET secret_nonce = ?, secret_ciphertext = ?, updated_at = ? WHERE project_id = ?",
    )
    .bind(n)
    .bind(c)
    .bind(clock::now())
    .bind(project)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(RemoteError::NotLinked);
    }
    Ok(secret)
}

pub fn token(master: &MasterKey, row: &RemoteRow) -> Result<Option<String>, RemoteError> {
    let (Some(n), Some(c)) = (&row.token_nonce, &row.token_ciphertext) else {
        return Ok(None);
    };
    let plain = master
        .open(n, c, &token_context(&row.project_id))
        .map_err(|_| RemoteError::Secret)?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|_| RemoteError::Secret)
}

pub fn secret(master: &MasterKey, row: &RemoteRow) -> Result<Vec<u8>, RemoteError> {
    master
        .open(
            &row.secret_nonce,
            &row.secret_ciphertext,
            &secret_context(&row.project_id),
        )
        .map_err(|_| RemoteError::Secret)
}

/// Records a push: the version tried and why it failed (None: it worked).
/// A push that worked ends a recorded conflict: the remote has our work.
pub async fn set_push(
    pool: &SqlitePool,
    project: &str,
    sha: &str,
    error: Option<&str>,
) -> Result<(), RemoteError> {
    sqlx::query(
        "UPDATE project_remotes SET push_at = ?, push_sha = ?, push_error = ?,
           conflict_local = CASE WHEN ? IS NULL THEN NULL ELSE conflict_local END,
           conflict_remote = CASE WHEN ? IS NULL THEN NULL ELSE conflict_remote END,
           conflict_paths = CASE WHEN ? IS NULL THEN NULL ELSE conflict_paths END,
           conflict_at = CASE WHEN ? IS NULL THEN NULL ELSE conflict_at END
         WHERE project_id = ?",
    )
    .bind(clock::now())
    .bind(sha)
    .bind(error)
    .bind(error)
    .bind(error)
    .bind(error)
    .bind(error)
    .bind(project)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks `sha` as already on the remote (a fast-forward pull took it from
/// there), so the mirror does not push it back.
pub async fn set_pushed_sha(
    pool: &SqlitePool,
    project: &str,
    sha: &str,
) -> Result<(), RemoteError> {
    sqlx::query("UPDATE project_remotes SET push_sha = ?, push_error = NULL WHERE project_id = ?")
        .bind(sha)
        .bind(project)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records a pull: the remote tip seen, why it failed, and the conflict it
/// found (or none, which clears an older one).
pub async fn set_pull(
    pool: &SqlitePool,
    project: &str,
    remote_sha: Option<&str>,
    error: Option<&str>,
    conflict: Option<(&str, &str, &[String])>,
) -> Result<(), RemoteError> {
    let now = clock::now();
    if error.is_some() {
        // A pull that could not even fetch says nothing about conflicts.
        sqlx::query("UPDATE project_remotes SET pull_at = ?, pull_error = ? WHERE project_id = ?")
            .bind(now)
            .bind(error)
            .bind(project)
            .execute(pool)
            .await?;
        return Ok(());
    }
    let (local, remote, paths, at) = match conflict {
        Some((l, r, p)) => (
            Some(l.to_string()),
            Some(r.to_string()),
            Some(serde_json::to_string(p).unwrap_or_default()),
            Some(now),
        ),
        None => (None, None, None, None),
    };
    sqlx::query(
        "UPDATE project_remotes SET pull_at = ?, pull_sha = ?, pull_error = NULL, conflict_local = ?,
           conflict_remote = ?, conflict_paths = ?, conflict_at = ? WHERE project_id = ?",
    )
    .bind(now)
    .bind(remote_sha)
    .bind(local)
    .bind(remote)
    .bind(paths)
    .bind(at)
    .bind(project)
    .execute(pool)
    .await?;
    Ok(())
}

/// Projects with the push mirror on.
pub async fn mirrored(pool: &SqlitePool) -> Result<Vec<String>, RemoteError> {
    Ok(
        sqlx::query_scalar("SELECT project_id FROM project_remotes WHERE push_mirror = 1")
            .fetch_all(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn last4_counts_characters_and_hides_short_tokens() {
        assert_eq!(super::last4("ghp_abcdefghij"), "ghij");
        assert_eq!(super::last4("xxxxxxxxé123"), "é123");
        // Too short to show any of it safely.
        assert_eq!(super::last4("ghp_abcdef"), "");
        assert_eq!(super::last4("ab"), "");
    }
}
