//! Projects: what people build. Every query is scoped to the owner, so
//! another user's project is indistinguishable from one that does not exist.

use crate::{clock, secrets, templates, text};
use serde::Deserialize;
use sqlx::SqlitePool;

pub use autocrea_wire::projects::ProjectView;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0}")]
    Invalid(#[from] text::InvalidText),
    #[error("unknown template {0:?}; see GET /api/v1/templates")]
    UnknownTemplate(String),
    #[error("project not found")]
    NotFound,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Project {
    /// SQLite's row id: a stable integer for APIs that need one (Gitea).
    pub seq: i64,
    pub id: String,
    pub owner_id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub template: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The agent's model for this project (`local`, `<provider>/<model>`); the local model when unset.
    pub agent_model: Option<String>,
    /// quick or full; quick when unset.
    pub agent_mode: Option<String>,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            slug: p.slug.clone(),
            description: p.description.clone(),
            template: p.template.clone(),
            owner_id: p.owner_id,
            created_at: clock::rfc3339(p.created_at),
            updated_at: clock::rfc3339(p.updated_at),
            preview_url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    #[default]
    Updated,
    Created,
    Name,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub sort: SortKey,
    pub order: SortOrder,
}

const COLUMNS: &str = "id, owner_id, name, slug, description, template, created_at, updated_at";
/// What SELECT and RETURNING give back: the columns plus the row id.
const SELECTED: &str =
    "rowid AS seq, id, owner_id, name, slug, description, template, created_at, updated_at, agent_model, agent_mode";

/// Picks a slug not yet used by this owner: `name`, `name-2`, `name-3`...
async fn free_slug(
    pool: &SqlitePool,
    owner_id: i64,
    name: &str,
    except_id: Option<&str>,
) -> Result<String, ProjectError> {
    let base = text::slug(name, "project", 48);
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT slug FROM projects WHERE owner_id = ? AND (slug = ? OR slug LIKE ? ESCAPE '\\') AND id IS NOT ?",
    )
    .bind(owner_id)
    .bind(&base)
    .bind(format!("{}-%", base.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
    .bind(except_id)
    .fetch_all(pool)
    .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken.contains(s))
        .expect("unbounded"))
}

pub async fn create(
    pool: &SqlitePool,
    owner_id: i64,
    name: &str,
    description: &str,
    template: &str,
) -> Result<Project, ProjectError> {
    let name = text::display_name("name", name, NAME_MAX)?;
    let description = text::free_text("description", description, DESCRIPTION_MAX)?;
    if templates::find(template).is_none() {
        return Err(ProjectError::UnknownTemplate(template.to_string()));
    }
    let now = clock::now();
    // The unique (owner, slug) index settles races between two creates; retry then.
    for _ in 0..5 {
        let slug = free_slug(pool, owner_id, &name, None).await?;
        let result = sqlx::query_as::<_, Project>(&format!(
            "INSERT INTO projects ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {SELECTED}"
        ))
        .bind(secrets::random_label(12))
        .bind(owner_id)
        .bind(&name)
        .bind(&slug)
        .bind(&description)
        .bind(template)
        .bind(now)
        .bind(now)
        .fetch_one(pool)
        .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
            other => return Ok(other?),
        }
    }
    Err(ProjectError::Db(sqlx::Error::Protocol(
        "could not pick a free project slug".into(),
    )))
}

pub async fn get(pool: &SqlitePool, owner_id: i64, id: &str) -> Result<Project, ProjectError> {
    sqlx::query_as::<_, Project>(&format!(
        "SELECT {SELECTED} FROM projects WHERE id = ? AND owner_id = ?"
    ))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(pool)
    .await?
    .ok_or(ProjectError::NotFound)
}

/// A project by id alone, for work the appliance does on its own account
/// (auto-deploy, background sync); requests go through `get`, which checks
/// the owner.
pub async fn by_id(pool: &SqlitePool, id: &str) -> Result<Project, ProjectError> {
    sqlx::query_as::<_, Project>(&format!("SELECT {SELECTED} FROM projects WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(ProjectError::NotFound)
}

pub async fn list(
    pool: &SqlitePool,
    owner_id: i64,
    q: &ListQuery,
) -> Result<Vec<Project>, ProjectError> {
    // Column and direction come from closed enums, never from the request text.
    let order_by = match (q.sort, q.order) {
        (SortKey::Updated, SortOrder::Desc) => "updated_at DESC, id",
        (SortKey::Updated, SortOrder::Asc) => "updated_at ASC, id",
        (SortKey::Created, SortOrder::Desc) => "created_at DESC, id",
        (SortKey::Created, SortOrder::Asc) => "created_at ASC, id",
        (SortKey::Name, SortOrder::Asc) => "name COLLATE NOCASE ASC, id",
        (SortKey::Name, SortOrder::Desc) => "name COLLATE NOCASE DESC, id",
    };
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let rows = match search {
        Some(s) => {
            let pattern = text::like_pattern(s);
            sqlx::query_as::<_, Project>(&format!(
                "SELECT {SELECTED} FROM projects WHERE owner_id = ?
                 AND (name LIKE ?2 ESCAPE '\\' OR description LIKE ?2 ESCAPE '\\' OR slug LIKE ?2 ESCAPE '\\')
                 ORDER BY {order_by}"
            ))
            .bind(owner_id)
            .bind(pattern)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query_as::<_, Project>(&format!(
                "SELECT {SELECTED} FROM projects WHERE owner_id = ? ORDER BY {order_by}"
            ))
            .bind(owner_id)
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows)
}

/// Changes name and/or description. The slug follows the name.
pub async fn update(
    pool: &SqlitePool,
    owner_id: i64,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Project, ProjectError> {
    let current = get(pool, owner_id, id).await?;
    let name = match name {
        Some(n) => text::display_name("name", n, NAME_MAX)?,
        None => current.name.clone(),
    };
    let description = match description {
        Some(d) => text::free_text("description", d, DESCRIPTION_MAX)?,
        None => current.description.clone(),
    };
    let slug = if name != current.name {
        free_slug(pool, owner_id, &name, Some(id)).await?
    } else {
        current.slug
    };
    sqlx::query("UPDATE projects SET name = ?, slug = ?, description = ?, updated_at = ? WHERE id = ? AND owner_id = ?")
        .bind(&name)
        .bind(&slug)
        .bind(&description)
        .bind(clock::now())
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await?;
    get(pool, owner_id, id).await
}

/// Sets the agent's model and mode for the project (the caller checked that
/// the model may be used); `None` goes back to the defaults.
pub async fn set_agent(
    pool: &SqlitePool,
    owner_id: i64,
    id: &str,
    model: Option<&str>,
    mode: Option<&str>,
) -> Result<Project, ProjectError> {
    sqlx::query("UPDATE projects SET agent_model = ?, agent_mode = ?, updated_at = ? WHERE id = ? AND owner_id = ?")
        .bind(model)
        .bind(mode)
        .bind(clock::now())
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await?;
    get(pool, owner_id, id).await
}

/// A copy named "<name> (copy)", trimmed to fit.
pub async fn duplicate(
    pool: &SqlitePool,
    owner_id: i64,
    id: &str,
) -> Result<Project, ProjectError> {
    let source = get(pool, owner_id, id).await?;
    let suffix = " (copy)";
    let keep = NAME_MAX - suffix.chars().count();
    let name: String = source.name.chars().take(keep).collect::<String>() + suffix;
    create(pool, owner_id, &name, &source.description, &source.template).await
}

pub async fn delete(pool: &SqlitePool, owner_id: i64, id: &str) -> Result<Project, ProjectError> {
    let project = get(pool, owner_id, id).await?;
    sqlx::query("DELETE FROM projects WHERE id = ? AND owner_id = ?")
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await?;
    Ok(project)
}

/// Every project's id and template (for reconciling the git store at start).
pub async fn all_ids_and_templates(
    pool: &SqlitePool,
) -> Result<Vec<(String, String)>, ProjectError> {
    Ok(sqlx::query_as("SELECT id, template FROM projects")
        .fetch_all(pool)
        .await?)
}

/// Marks a project as changed now (after a push, revert or branch switch).
pub async fn touch(pool: &SqlitePool, id: &str) -> Result<(), ProjectError> {
    sqlx::query("UPDATE projects SET updated_at = ? WHERE id = ?")
        .bind(clock::now())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The owner's project with this slug (git URLs name projects by it).
pub async fn find_by_slug(
    pool: &SqlitePool,
    owner_id: i64,
    slug: &str,
) -> Result<Project, ProjectError> {
    sqlx::query_as::<_, Project>(&format!(
        "SELECT {SELECTED} FROM projects WHERE owner_id = ? AND slug = ?"
    ))
    .bind(owner_id)
    .bind(slug)
    .fetch_optional(pool)
    .await?
    .ok_or(ProjectError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::users::{self, NewUser};

    #[tokio::test]
    async fn crud_search_sort_and_isolation() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open_and_migrate(&dir.path().join("t.db"))
            .await
            .unwrap();
        let new = |email| NewUser {
            email,
            name: "A",
            password: "correct horse battery",
            force_admin: false,
        };
        let a = users::create(&pool, new("a@example.com")).await.unwrap();
        let b = users::create(&pool, new("b@example.com")).await.unwrap();
        let p1 = create(&pool, a.id, "Todo App", "tasks", "static")
            .await
            .unwrap();
        let p2 = create(&pool, a.id, "todo app", "", "nextjs").await.unwrap();
        assert_eq!(p1.slug, "todo-app");
        assert_eq!(p2.slug, "todo-app-2");
        create(&pool, a.id, "50% off_sale", "", "static")
            .await
            .unwrap();
        assert!(matches!(
            create(&pool, a.id, "x", "", "cobol").await,
            Err(ProjectError::UnknownTemplate(_))
        ));

        let q = |s: &str| ListQuery {
            search: Some(s.into()),
            ..Default::default()
        };
        assert_eq!(list(&pool, a.id, &q("TODO")).await.unwrap().len(), 2);
        assert_eq!(
            list(&pool, a.id, &q("%")).await.unwrap().len(),
            1,
            "LIKE wildcards are literal"
        );
        assert_eq!(list(&pool, a.id, &q("_")).await.unwrap().len(), 1);
        let by_name = list(
            &pool,
            a.id,
            &ListQuery {
                sort: SortKey::Name,
                order: SortOrder::Asc,
                search: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(by_name[0].name, "50% off_sale");

        assert!(matches!(
            get(&pool, b.id, &p1.id).await,
            Err(ProjectError::NotFound)
        ));
        assert!(matches!(
            delete(&pool, b.id, &p1.id).await,
            Err(ProjectError::NotFound)
        ));
        assert!(list(&pool, b.id, &ListQuery::default())
            .await
            .unwrap()
            .is_empty());

        let copy = duplicate(&pool, a.id, &p1.id).await.unwrap();
        assert_eq!(copy.name, "Todo App (copy)");
        let renamed = update(&pool, a.id, &p1.id, Some("Shop"), Some("new"))
            .await
            .unwrap();
        assert_eq!(
            (renamed.slug.as_str(), renamed.description.as_str()),
            ("shop", "new")
        );
        delete(&pool, a.id, &p1.id).await.unwrap();
        assert!(matches!(
            get(&pool, a.id, &p1.id).await,
            Err(ProjectError::NotFound)
        ));
    }
}
