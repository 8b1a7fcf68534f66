//! The SQLite database: opening it with the right pragmas, and migrating it
//! safely (a copy is taken with `VACUUM INTO` before pending migrations run).

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("database backup before migration failed: {0}")]
    Backup(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Opens (creating if needed) the database at `path`: WAL journal,
/// `synchronous=FULL` (accounts, tokens and sessions must survive power loss),
/// foreign keys on, and a busy timeout so writers queue instead of failing.
pub async fn open(path: &Path) -> Result<SqlitePool, DbError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DbError::DataDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("temp_store", "memory");
    SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Versions of migrations that this binary has and the database has not run.
pub async fn pending_migrations(pool: &SqlitePool) -> Result<Vec<i64>, DbError> {
    let has_table: bool = sqlx::query_scalar(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    let applied: HashSet<i64> = if has_table {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    Ok(MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// What [`migrate`] did.
#[derive(Debug, Default)]
pub struct MigrationReport {
    pub applied: Vec<i64>,
    pub backup: Option<PathBuf>,
}

/// Runs pending migrations. If the database already holds data, a consistent
/// copy is first written next to it with `VACUUM INTO` (safe on a live
/// database, unlike a file copy).
pub async fn migrate(pool: &SqlitePool, db_path: &Path) -> Result<MigrationReport, DbError> {
    let pending = pending_migrations(pool).await?;
    if pending.is_empty() {
        return Ok(MigrationReport::default());
    }
    let user_tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_one(pool)
    .await?;
    let mut report = MigrationReport {
        applied: pending.clone(),
        backup: None,
    };
    if user_tables > 0 {
        let backup = db_path.with_extension(format!(
            "db.before-{}-{}.bak",
            pending[0],
            crate::clock::now()
        ));
        sqlx::query("VACUUM INTO ?")
            .bind(backup.to_string_lossy().to_string())
            .execute(pool)
            .await
            .map_err(DbError::Backup)?;
        tracing::info!(backup = %backup.display(), "database copied before migrating");
        report.backup = Some(backup);
    }
    MIGRATOR.run(pool).await?;
    tracing::info!(versions = ?pending, "database migrated");
    Ok(report)
}

/// Opens and migrates: what every command that touches the database does first.
pub async fn open_and_migrate(path: &Path) -> Result<SqlitePool, DbError> {
    let pool = open(path).await?;
    migrate(&pool, path).await?;
    Ok(pool)
}

/// True when the database answers a trivial query (readiness probe).
pub async fn is_ready(pool: &SqlitePool) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(pool)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrates_once_and_backs_up_only_existing_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/autocrea.db");
        let pool = open(&path).await.unwrap();
        let report = migrate(&pool, &path).await.unwrap();
        assert!(!report.applied.is_empty());
        assert!(report.backup.is_none(), "a new database needs no backup");
        assert!(pending_migrations(&pool).await.unwrap().is_empty());
        let again = migrate(&pool, &path).await.unwrap();
        assert!(again.applied.is_empty());

        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);

        // Pretend the newest migration has not run: the next migrate copies the data first.
        sqlx::query("DELETE FROM _sqlx_migrations")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE marker (x)")
            .execute(&pool)
            .await
            .unwrap();
        let pending = pending_migrations(&pool).await.unwrap();
        assert!(!pending.is_empty());
        // The real migration would fail on existing tables, which is fine here:
        // the copy must exist before it runs.
        let _ = migrate(&pool, &path).await;
        let backups: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".bak"))
            .collect();
        assert_eq!(backups.len(), 1, "one backup taken before migrating");
    }
}
