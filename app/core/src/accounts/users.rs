//! User accounts.

use super::{passwords, AccountError};
use crate::{clock, text};
use sqlx::SqlitePool;

pub use autocrea_wire::accounts::UserView;

/// A user as stored, without the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            username: u.username.clone(),
            name: u.name.clone(),
            is_admin: u.is_admin,
            created_at: clock::rfc3339(u.created_at),
        }
    }
}

pub const NAME_MAX: usize = 100;
const COLUMNS: &str = "id, email, username, name, is_admin, disabled, created_at";
/// The same columns from a join where `users` is aliased `u`.
pub(crate) const COLUMNS_U: &str =
    "u.id, u.email, u.username, u.name, u.is_admin, u.disabled, u.created_at";

/// What a new account needs.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    /// Make this user an admin even if others exist (CLI only).
    pub force_admin: bool,
}

/// Login names that would collide with routes or mislead people.
const RESERVED_USERNAMES: &[&str] = &[
    "admin", "api", "git", "user", "users", "repos", "root", "system", "agent", "autocrea",
];

fn username_base(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let base = text::slug(local, "user", 32);
    if RESERVED_USERNAMES.contains(&base.as_str()) {
        format!("{base}-1")
    } else {
        base
    }
}

/// Creates an account. The very first account becomes an admin, decided inside
/// the insert itself so two simultaneous first sign-ups cannot both win.
pub async fn create(pool: &SqlitePool, new: NewUser<'_>) -> Result<User, AccountError> {
    let email = text::email(new.email)?;
    let name = text::display_name("name", new.name, NAME_MAX)?;
    passwords::validate(new.password, &email)?;
    let hash = passwords::hash(new.password).await?;
    let base = username_base(&email);
    let now = clock::now();
    for attempt in 0..50 {
        let username = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}-{}", attempt + 1)
        };
        let result = sqlx::query_as::<_, User>(&format!(
            "INSERT INTO users (email, username, name, password_hash, is_admin, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5 OR NOT EXISTS (SELECT 1 FROM users), ?6, ?6)
             RETURNING {COLUMNS}"
        ))
        .bind(&email)
        .bind(&username)
        .bind(&name)
        .bind(&hash)
        .bind(new.force_admin)
        .bind(now)
        .fetch_one(pool)
        .await;
        match result {
            Ok(user) => return Ok(user),
            Err(sqlx::Error::Database(e)) if e.message().contains("users.email") => {
                return Err(AccountError::EmailTaken)
            }
            Err(sqlx::Error::Database(e)) if e.message().contains("users.username") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AccountError::Hashing(
        "could not find a free username".into(),
    ))
}

pub async fn get(pool: &SqlitePool, id: i64) -> Result<User, AccountError> {
    sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(AccountError::UserNotFound)
}

pub async fn find_by_email(pool: &SqlitePool, email: &str) -> Result<Option<User>, AccountError> {
    Ok(
        sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE email = ?"))
            .bind(email.trim())
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn count(pool: &SqlitePool) -> Result<i64, AccountError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?)
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<User>, AccountError> {
    Ok(
        sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users ORDER BY id"))
            .fetch_all(pool)
            .await?,
    )
}

/// Checks an email and password. Refuses disabled accounts. Takes the same time
/// whether or not the email exists.
pub async fn authenticate(
    pool: &SqlitePool,
    email: &str,
    password: &str,
) -> Result<User, AccountError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(pool)
            .await?;
    let Some((id, stored)) = row else {
        passwords::dummy_verify(password).await;
        return Err(AccountError::WrongCredentials);
    };
    if !passwords::verify(password, &stored).await {
        return Err(AccountError::WrongCredentials);
    }
    let user = get(pool, id).await?;
    if user.disabled {
        return Err(AccountError::Disabled);
    }
    Ok(user)
}

pub async fn rename(pool: &SqlitePool, id: i64, name: &str) -> Result<User, AccountError> {
    let name = text::display_name("name", name, NAME_MAX)?;
    sqlx::query("UPDATE users SET name = ?, updated_at = ? WHERE id = ?")
        .bind(&name)
        .bind(clock::now())
        .bind(id)
        .execute(pool)
        .await?;
    get(pool, id).await
}

/// Sets a new password after checking the current one. Ends every session of
/// the user but `keep_session` (the one that made the change), and does both
/// in one transaction so a crash cannot leave old sessions alive with the new password.
pub async fn change_password(
    pool: &SqlitePool,
    id: i64,
    current: &str,
    new_password: &str,
    keep_session_hash: Option<&str>,
) -> Result<(), AccountError> {
    let user = get(pool, id).await?;
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await?;
    if !passwords::verify(current, &stored).await {
        return Err(AccountError::WrongCurrentPassword);
    }
    passwords::validate(new_password, &user.email)?;
    let hash = passwords::hash(new_password).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
        .bind(&hash)
        .bind(clock::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?")
        .bind(id)
        .bind(keep_session_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The user with this login name (git URLs name owners by it).
pub async fn find_by_username(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<User>, AccountError> {
    Ok(
        sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
            .bind(username)
            .fetch_optional(pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open_and_migrate(&dir.path().join("t.db"))
            .await
            .unwrap();
        (dir, pool)
    }

    fn new<'a>(email: &'a str) -> NewUser<'a> {
        NewUser {
            email,
            name: "Ada",
            password: "correct horse battery",
            force_admin: false,
        }
    }

    #[tokio::test]
    async fn first_user_is_admin_and_usernames_are_unique() {
        let (_d, pool) = pool().await;
        let a = create(&pool, new("ada@example.com")).await.unwrap();
        let b = create(&pool, new("ada@example.org")).await.unwrap();
        let c = create(&pool, new("admin@example.org")).await.unwrap();
        assert!(a.is_admin && !b.is_admin);
        assert_eq!(a.username, "ada");
        assert_eq!(b.username, "ada-2");
        assert_eq!(c.username, "admin-1");
        assert!(matches!(
            create(&pool, new("ADA@example.com")).await,
            Err(AccountError::EmailTaken)
        ));
    }

    #[tokio::test]
    async fn authenticate_checks_password() {
        let (_d, pool) = pool().await;
        create(&pool, new("ada@example.com")).await.unwrap();
        assert!(
            authenticate(&pool, "ada@example.com", "correct horse battery")
                .await
                .is_ok()
        );
        assert!(matches!(
            authenticate(&pool, "ada@example.com", "wrong horse battery").await,
            Err(AccountError::WrongCredentials)
        ));
        assert!(matches!(
            authenticate(&pool, "nobody@example.com", "correct horse battery").await,
            Err(AccountError::WrongCredentials)
        ));
    }
}
