//! Instance-wide settings that admins change at run time.

pub use autocrea_wire::settings::InstanceSettings;
use sqlx::SqlitePool;

pub async fn load(pool: &SqlitePool) -> Result<InstanceSettings, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
        .fetch_all(pool)
        .await?;
    let mut s = InstanceSettings::default();
    for (key, value) in rows {
        if key == "open_signup" {
            s.open_signup = value == "true";
        }
    }
    Ok(s)
}

pub async fn save(pool: &SqlitePool, s: &InstanceSettings) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO settings (key, value) VALUES ('open_signup', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(if s.open_signup { "true" } else { "false" })
        .execute(pool)
        .await?;
    Ok(())
}
