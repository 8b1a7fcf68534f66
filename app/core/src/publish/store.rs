//! Sites and deployments in the database. Every function that takes a
//! project id trusts that the caller has checked who may act on it.

use super::PublishError;
use crate::clock;
pub use autocrea_wire::publish::{Access, DeploymentStatus};
use sqlx::SqlitePool;

/// A site row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteRow {
    pub project_id: String,
    pub name: String,
    pub access: Access,
    pub retention: i64,
    pub live_id: Option<String>,
    pub live_since: Option<i64>,
    /// Publish each time the default branch moves.
    pub auto_deploy: bool,
    /// The branch tip auto-deploy last published.
    pub auto_deployed_sha: Option<String>,
}

/// A deployment row, with its author's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub project_id: String,
    pub short_id: String,
    pub commit_sha: String,
    pub message: String,
    pub template: String,
    pub author_id: Option<i64>,
    pub author: Option<String>,
    pub status: DeploymentStatus,
    pub error: Option<String>,
    pub size_bytes: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const DEPLOYMENT: &str =
    "d.id, d.project_id, d.short_id, d.commit_sha, d.message, d.template, d.author_id,
    u.name AS author, d.status, d.error, d.size_bytes, d.created_at, d.started_at, d.finished_at";

pub async fn site(pool: &SqlitePool, project_id: &str) -> Result<Option<SiteRow>, PublishError> {
    Ok(sqlx::query_as::<_, SiteRow>(
        "SELECT project_id, name, access, retention, live_id, live_since, auto_deploy, auto_deployed_sha FROM sites WHERE project_id = ?",
    )
    .bind(project_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn site_by_name(pool: &SqlitePool, name: &str) -> Result<Option<SiteRow>, PublishError> {
    Ok(sqlx::query_as::<_, SiteRow>(
        "SELECT project_id, name, access, retention, live_id, live_since, auto_deploy, auto_deployed_sha FROM sites WHERE name = ?",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?)
}

/// The project's site, created with a free name made from `slug` when it
/// has none yet (`slug`, then `slug-2`, `slug-3`, …).
pub async fn ensure_site(
    pool: &SqlitePool,
    project_id: &str,
    slug: &str,
    retention: i64,
) -> Result<SiteRow, PublishError> {
    if let Some(s) = site(pool, project_id).await? {
        return Ok(s);
    }
    let base = super::names::from_slug(slug);
    for n in 1..1000 {
        let name = if n == 1 {
            base.clone()
        } else {
            super::names::with_number(&base, n)
        };
        let now = clock::now();
        let inserted = sqlx::query(
            "INSERT INTO sites (project_id, name, retention, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(project_id)
        .bind(&name)
        .bind(retention.clamp(1, 100))
        .bind(now)
        .bind(now)
        .execute(pool)
        .await?;
        if inserted.rows_affected() == 1 {
            break;
        }
        // The project got a site meanwhile (a second request), or the name is taken.
        if let Some(s) = site(pool, project_id).await? {
            return Ok(s);
        }
    }
    site(pool, project_id).await?.ok_or(PublishError::Conflict(
        "no free address name was found for the project; set one".into(),
    ))
}

/// Changes to a site, applied together or not at all.
#[derive(Debug, Default)]
pub struct SiteChanges<'a> {
    pub name: Option<&'a str>,
    pub access: Option<Access>,
    /// E-mail addresses; each must be an account here.
    pub people: Option<&'a [String]>,
    pub retention: Option<i64>,
    pub auto_deploy: Option<bool>,
}

/// Applies `changes` in one transaction: a taken name or an unknown
/// address leaves the site as it was.
pub async fn update_site(
    pool: &SqlitePool,
    project_id: &str,
    changes: &SiteChanges<'_>,
) -> Result<(), PublishError> {
    if let Some(name) = changes.name {
        super::names::check_site_name(name).map_err(PublishError::Invalid)?;
    }
    if let Some(n) = changes.retention {
        if !(1..=100).contains(&n) {
            return Err(PublishError::Invalid(format!(
                "retention must be between 1 and 100 deployments, not {n}"
            )));
        }
    }
    if changes.people.is_some_and(|p| p.len() > 500) {
        return Err(PublishError::Invalid("at most 500 people per app".into()));
    }
    let mut tx = pool.begin().await?;
    let now = clock::now();
    if let Some(name) = changes.name {
        let r = sqlx::query("UPDATE sites SET name = ?, updated_at = ? WHERE project_id = ?")
            .bind(name)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(PublishError::NameTaken(name.to_string()))
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(access) = changes.access {
        sqlx::query("UPDATE sites SET access = ?, updated_at = ? WHERE project_id = ?")
            .bind(access)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(n) = changes.retention {
        sqlx::query("UPDATE sites SET retention = ?, updated_at = ? WHERE project_id = ?")
            .bind(n)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(on) = changes.auto_deploy {
        sqlx::query("UPDATE sites SET auto_deploy = ?, updated_at = ? WHERE project_id = ?")
            .bind(on)
            .bind(now)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(emails) = changes.people {
        let mut ids = Vec::new();
        for email in emails {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = ?")
                .bind(email.trim())
                .fetch_optional(&mut *tx)
                .await?;
            ids.push(id.ok_or_else(|| {
                PublishError::Invalid(format!(
                    "{:?} has no account on this appliance",
                    email.trim()
                ))
            })?);
        }
        sqlx::query("DELETE FROM site_people WHERE project_id = ?")
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        for id in ids {
            sqlx::query("INSERT OR IGNORE INTO site_people (project_id, user_id) VALUES (?, ?)")
                .bind(project_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The projects that publish on every change of their default branch.
pub async fn auto_deploy_projects(pool: &SqlitePool) -> Result<Vec<String>, PublishError> {
    Ok(
        sqlx::query_scalar("SELECT project_id FROM sites WHERE auto_deploy = 1")
            .fetch_all(pool)
            .await?,
    )
}

/// Notes the tip auto-deploy published.
pub async fn set_auto_deployed(
    pool: &SqlitePool,
    project_id: &str,
    sha: &str,
) -> Result<(), PublishError> {
    sqlx::query("UPDATE sites SET auto_deployed_sha = ? WHERE project_id = ?")
        .bind(sha)
        .bind(project_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The commit of the project's newest deployment, whatever its status.
pub async fn newest_commit(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<Option<String>, PublishError> {
    Ok(sqlx::query_scalar(
        "SELECT commit_sha FROM deployments WHERE project_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(pool)
    .await?)
}

/// The people of a `people` site, by e-mail address.
pub async fn people(pool: &SqlitePool, project_id: &str) -> Result<Vec<String>, PublishError> {
    Ok(sqlx::query_scalar(
        "SELECT u.email FROM site_people p JOIN users u ON u.id = p.user_id WHERE p.project_id = ? ORDER BY u.email",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?)
}

pub async fn is_listed(
    pool: &SqlitePool,
    project_id: &str,
    user_id: i64,
) -> Result<bool, PublishError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM site_people WHERE project_id = ? AND user_id = ?",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .is_some())
}

/// A new queued deployment; refused while one of the project's builds runs
/// (the partial unique index makes that hold under races too).
#[allow(clippy::too_many_arguments)]
pub async fn insert_deployment(
    pool: &SqlitePool,
    id: &str,
    project_id: &str,
    commit_sha: &str,
    message: &str,
    template: &str,
    author_id: i64,
) -> Result<(), PublishError> {
    let r = sqlx::query(
        "INSERT INTO deployments (id, project_id, short_id, commit_sha, message, template, author_id, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
    )
    .bind(id)
    .bind(project_id)
    .bind(&id[..autocrea_wire::publish::SHORT_ID])
    .bind(commit_sha)
    .bind(message)
    .bind(template)
    .bind(author_id)
    .bind(clock::now())
    .execute(pool)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(PublishError::Conflict(
            "a build of this project is running; wait for it to end".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn deployment(
    pool: &SqlitePool,
    project_id: &str,
    id: &str,
) -> Result<DeploymentRow, PublishError> {
    sqlx::query_as::<_, DeploymentRow>(&format!(
        "SELECT {DEPLOYMENT} FROM deployments d LEFT JOIN users u ON u.id = d.author_id
         WHERE d.project_id = ? AND d.id = ?"
    ))
    .bind(project_id)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(PublishError::NotFound("deployment"))
}

pub async fn deployment_by_short(
    pool: &SqlitePool,
    project_id: &str,
    short_id: &str,
) -> Result<Option<DeploymentRow>, PublishError> {
    Ok(sqlx::query_as::<_, DeploymentRow>(&format!(
        "SELECT {DEPLOYMENT} FROM deployments d LEFT JOIN users u ON u.id = d.author_id
         WHERE d.project_id = ? AND d.short_id = ?"
    ))
    .bind(project_id)
    .bind(short_id)
    .fetch_optional(pool)
    .await?)
}

/// The project's deployments, newest first.
pub async fn deployments(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<Vec<DeploymentRow>, PublishError> {
    Ok(sqlx::query_as::<_, DeploymentRow>(&format!(
        "SELECT {DEPLOYMENT} FROM deployments d LEFT JOIN users u ON u.id = d.author_id
         WHERE d.project_id = ? ORDER BY d.created_at DESC, d.rowid DESC"
    ))
    .bind(project_id)
    .fetch_all(pool)
    .await?)
}

pub async fn mark_building(pool: &SqlitePool, id: &str) -> Result<(), PublishError> {
    sqlx::query("UPDATE deployments SET status = 'building', started_at = ? WHERE id = ?")
        .bind(clock::now())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn mark_failed(pool: &SqlitePool, id: &str, error: &str) -> Result<(), PublishError> {
    sqlx::query(
        "UPDATE deployments SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
    )
    .bind(error)
    .bind(clock::now())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The build succeeded; with `live`, the site serves it from now on and
/// the deployment it replaces becomes `superseded`, in one transaction.
pub async fn mark_ready(
    pool: &SqlitePool,
    project_id: &str,
    id: &str,
    size: i64,
    live: bool,
) -> Result<(), PublishError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE deployments SET status = 'ready', size_bytes = ?, finished_at = ? WHERE id = ?",
    )
    .bind(size)
    .bind(clock::now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if live {
        sqlx::query(
            "UPDATE deployments SET status = 'superseded'
             WHERE id = (SELECT live_id FROM sites WHERE project_id = ?) AND id != ?",
        )
        .bind(project_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        set_live_in(&mut tx, project_id, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Points the site at an already built deployment (a rollback or a
/// promotion); false when it is no longer there or not built.
pub async fn set_live(pool: &SqlitePool, project_id: &str, id: &str) -> Result<bool, PublishError> {
    let mut tx = pool.begin().await?;
    let moved = set_live_in(&mut tx, project_id, id).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Moves the live pointer to `id` when it is one of the project's built
/// deployments (checked in the same statement, so a delete cannot slip in).
async fn set_live_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    project_id: &str,
    id: &str,
) -> Result<bool, PublishError> {
    let r = sqlx::query(
        "UPDATE sites SET live_id = ?1, live_since = ?2, updated_at = ?2 WHERE project_id = ?3
         AND EXISTS (SELECT 1 FROM deployments WHERE id = ?1 AND project_id = ?3
                     AND status IN ('ready', 'superseded'))",
    )
    .bind(id)
    .bind(clock::now())
    .bind(project_id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a deployment unless a site serves it; false when one does.
pub async fn delete_deployment(pool: &SqlitePool, id: &str) -> Result<bool, PublishError> {
    let r = sqlx::query(
        "DELETE FROM deployments WHERE id = ?1
         AND NOT EXISTS (SELECT 1 FROM sites WHERE live_id = ?1)",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Builds that were running when the appliance stopped: they are failed,
/// and `(project, deployment)` returned so their leftovers can go.
pub async fn fail_interrupted(pool: &SqlitePool) -> Result<Vec<(String, String)>, PublishError> {
    let ids: Vec<(String, String)> = sqlx::query_as(
        "SELECT project_id, id FROM deployments WHERE status IN ('queued', 'building')",
    )
    .fetch_all(pool)
    .await?;
    for (_, id) in &ids {
        mark_failed(
            pool,
            id,
            "the appliance stopped during the build; publish again",
        )
        .await?;
    }
    Ok(ids)
}

/// Every site with a live deployment: `(project id, deployment)`.
pub async fn live_deployments(pool: &SqlitePool) -> Result<Vec<DeploymentRow>, PublishError> {
    Ok(sqlx::query_as::<_, DeploymentRow>(&format!(
        "SELECT {DEPLOYMENT} FROM sites s JOIN deployments d ON d.id = s.live_id
         LEFT JOIN users u ON u.id = d.author_id"
    ))
    .fetch_all(pool)
    .await?)
}

/// A site for the portal: the site, its project and owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalRow {
    pub project_id: String,
    pub name: String,
    pub access: Access,
    pub live_since: Option<i64>,
    pub title: String,
    pub description: String,
    pub template: String,
    pub owner_id: i64,
    pub owner: String,
}

/// Live sites `user_id` may open, matching `q` in name or description.
pub async fn portal(
    pool: &SqlitePool,
    user_id: i64,
    q: &str,
) -> Result<Vec<PortalRow>, PublishError> {
    let like = crate::text::like_pattern(q);
    Ok(sqlx::query_as::<_, PortalRow>(
        "SELECT s.project_id, s.name, s.access, s.live_since, p.name AS title, p.description, p.template,
                p.owner_id, u.name AS owner
         FROM sites s JOIN projects p ON p.id = s.project_id JOIN users u ON u.id = p.owner_id
         WHERE s.live_id IS NOT NULL
           AND (p.owner_id = ?1 OR s.access IN ('signed_in', 'public')
                OR (s.access = 'people' AND EXISTS (SELECT 1 FROM site_people sp WHERE sp.project_id = s.project_id AND sp.user_id = ?1)))
           AND (?2 = '' OR p.name LIKE ?3 ESCAPE '\\' OR p.description LIKE ?3 ESCAPE '\\' OR s.name LIKE ?3 ESCAPE '\\')
         ORDER BY s.live_since DESC",
    )
    .bind(user_id)
    .bind(q)
    .bind(like)
    .fetch_all(pool)
    .await?)
}
