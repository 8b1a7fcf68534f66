//! A project's environment variables and secrets, in two scopes: `preview`
//! (the sandbox) and `production` (deployments). Values are sealed with the
//! master key and leave this module only towards a container's environment
//! (`values`); people and the agent get names and hints (`list`, `names`).
//! Build logs are passed through a `Redactor` of the values.

mod redact;
mod store;

pub use autocrea_wire::env::{EnvScope, EnvVar};
pub use redact::Redactor;

use crate::llm::master_key::MasterKey;
use sqlx::SqlitePool;

#[derive(Debug, thiserror::Error)]
pub enum EnvVarError {
    #[error("{0}")]
    Invalid(String),
    #[error("no variable {0} in this scope")]
    NotFound(String),
    #[error("a stored value could not be decrypted (was the master key changed?); set it again")]
    Decrypt,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// The store of every project's variables; cheap to clone.
#[derive(Clone)]
pub struct EnvVars {
    pool: SqlitePool,
    master: MasterKey,
}

impl EnvVars {
    pub fn new(pool: SqlitePool, master: MasterKey) -> Self {
        Self { pool, master }
    }

    /// Every variable of the project, both scopes, by scope then name.
    pub async fn list(&self, project_id: &str) -> Result<Vec<EnvVar>, EnvVarError> {
        store::list(&self.pool, project_id).await
    }

    /// Sets (or replaces) one variable. The caller has checked that the
    /// person may change the project.
    pub async fn set(
        &self,
        project_id: &str,
        scope: EnvScope,
        name: &str,
        value: &str,
    ) -> Result<EnvVar, EnvVarError> {
        autocrea_wire::env::check_env_name(name).map_err(EnvVarError::Invalid)?;
        autocrea_wire::env::check_env_value(value).map_err(EnvVarError::Invalid)?;
        store::put(&self.pool, &self.master, project_id, scope, name, value).await
    }

    pub async fn delete(
        &self,
        project_id: &str,
        scope: EnvScope,
        name: &str,
    ) -> Result<(), EnvVarError> {
        store::delete(&self.pool, project_id, scope, name).await
    }

    /// `NAME=value` entries for a container of `scope`, with the redactor of
    /// their values. Only containers get these.
    pub async fn values(
        &self,
        project_id: &str,
        scope: EnvScope,
    ) -> Result<(Vec<String>, Redactor), EnvVarError> {
        let pairs = store::values(&self.pool, &self.master, project_id, scope).await?;
        let redactor = Redactor::new(pairs.iter().map(|(_, v)| v.as_str()));
        let env = pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect();
        Ok((env, redactor))
    }

    /// The names per scope, for the agent's brief: never the values.
    pub async fn describe_for_agent(&self, project_id: &str) -> Result<String, EnvVarError> {
        let vars = self.list(project_id).await?;
        if vars.is_empty() {
            return Ok(String::new());
        }
        let mut out = String::from(
            "Environment variables set for this project (read them with process.env / import.meta.env; their values are secret and not shown to you):",
        );
        for scope in EnvScope::ALL {
            let names: Vec<&str> = vars
                .iter()
                .filter(|v| v.scope == *scope)
                .map(|v| v.name.as_str())
                .collect();
            if !names.is_empty() {
                out.push_str(&format!("\n- {scope}: {}", names.join(", ")));
            }
        }
        Ok(out)
    }
}

/// The hint shown for a value: its last 4 characters when at least 8 more
/// stay hidden, else nothing.
pub(crate) fn hint(value: &str) -> Option<String> {
    let n = value.chars().count();
    (n >= 12).then(|| value.chars().skip(n - 4).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store and the folder of its database, which lives as long as it.
    async fn store() -> (EnvVars, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open_and_migrate(&dir.path().join("t.db"))
            .await
            .unwrap();
        sqlx::query("INSERT INTO users (id, email, username, name, password_hash, created_at, updated_at) VALUES (1, 'a@b.c', 'a', 'a', 'x', 0, 0)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO projects (id, owner_id, name, slug, template, created_at, updated_at) VALUES ('p1', 1, 'P', 'p', 'static', 0, 0)")
            .execute(&pool)
            .await
            .unwrap();
        (EnvVars::new(pool, MasterKey::from_bytes([7; 32])), dir)
    }

    #[tokio::test]
    async fn values_are_sealed_and_only_hinted() {
        let (env, _dir) = store().await;
        let v = env
            .set(
                "p1",
                EnvScope::Production,
                "API_SECRET",
                "sk-live-1234567890abcd",
            )
            .await
            .unwrap();
        assert_eq!(v.hint.as_deref(), Some("abcd"));
        assert!(!v.build_time);
        let short = env
            .set("p1", EnvScope::Preview, "VITE_MODE", "dev")
            .await
            .unwrap();
        assert_eq!(short.hint, None);
        assert!(short.build_time);
        // The database holds no plain value.
        let raw: Vec<u8> =
            sqlx::query_scalar("SELECT ciphertext FROM project_env WHERE name = 'API_SECRET'")
                .fetch_one(&env.pool)
                .await
                .unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("sk-live"));
        let (vars, redactor) = env.values("p1", EnvScope::Production).await.unwrap();
        assert_eq!(vars, vec!["API_SECRET=sk-live-1234567890abcd".to_string()]);
        assert_eq!(
            redactor.apply("token sk-live-1234567890abcd!"),
            "token ••••••!"
        );
        // Scopes are apart; a value sealed for one name does not open as another.
        assert!(
            env.values("p1", EnvScope::Preview).await.unwrap().0
                == vec!["VITE_MODE=dev".to_string()]
        );
        sqlx::query("UPDATE project_env SET name = 'OTHER' WHERE name = 'API_SECRET'")
            .execute(&env.pool)
            .await
            .unwrap();
        assert!(matches!(
            env.values("p1", EnvScope::Production).await,
            Err(EnvVarError::Decrypt)
        ));
        let brief = env.describe_for_agent("p1").await.unwrap();
        assert!(brief.contains("production: OTHER") && brief.contains("preview: VITE_MODE"));
        assert!(!brief.contains("sk-live") && !brief.contains("dev\n"));
        assert!(matches!(
            env.set("p1", EnvScope::Preview, "PATH", "x").await,
            Err(EnvVarError::Invalid(_))
        ));
        assert!(matches!(
            env.delete("p1", EnvScope::Preview, "NOPE").await,
            Err(EnvVarError::NotFound(_))
        ));
    }
}
