//! Attachments of chat messages: what may be attached (images sniffed from
//! their bytes, never from a name or a header; text that is UTF-8 without
//! NUL bytes), the size limits, and how they are stored and linked to
//! messages. SVG is taken as text: as an image it could carry script.

use super::store_error::StoreError;
use crate::{clock, secrets};
pub use autocrea_wire::agent::Attachment;
use sqlx::SqlitePool;
use std::collections::HashMap;

/// Largest image, in bytes.
pub const IMAGE_MAX: usize = 4 * 1024 * 1024;
/// Largest text file, in bytes (it goes into the model's context whole).
pub const TEXT_MAX: usize = 256 * 1024;
/// Most attachments on one message.
pub const PER_MESSAGE_MAX: usize = 5;
/// Uploads no message names are removed after this many seconds.
const UNLINKED_TTL_SECS: i64 = 24 * 3600;

/// Why an upload is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    TooLarge(String),
    Unsupported(String),
    Invalid(String),
}

/// The kind and media type of an upload, from its bytes.
pub fn classify(name: &str, data: &[u8]) -> Result<(&'static str, &'static str), Refusal> {
    if data.is_empty() {
        return Err(Refusal::Invalid("the file is empty".into()));
    }
    let image = match data {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    };
    if let Some(media_type) = image {
        if data.len() > IMAGE_MAX {
            return Err(Refusal::TooLarge(format!(
                "{name}: images may have at most {} MiB",
                IMAGE_MAX / (1024 * 1024)
            )));
        }
        return Ok(("image", media_type));
    }
    if data.contains(&0) || std::str::from_utf8(data).is_err() {
        return Err(Refusal::Unsupported(format!(
            "{name}: attach PNG, JPEG, GIF or WebP images, or UTF-8 text files"
        )));
    }
    if data.len() > TEXT_MAX {
        return Err(Refusal::TooLarge(format!(
            "{name}: text files may have at most {} KiB",
            TEXT_MAX / 1024
        )));
    }
    Ok(("text", "text/plain; charset=utf-8"))
}

/// A file name as shown: its last path part, without control characters, at most 120 characters.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// Stores an upload (already classified). Old uploads no message took go first.
pub async fn create(
    pool: &SqlitePool,
    project_id: &str,
    user_id: i64,
    name: &str,
    kind: &str,
    media_type: &str,
    data: &[u8],
) -> Result<Attachment, StoreError> {
    let now = clock::now();
    sqlx::query("DELETE FROM attachments WHERE created_at < ? AND id NOT IN (SELECT attachment_id FROM message_attachments)")
        .bind(now - UNLINKED_TTL_SECS)
        .execute(pool)
        .await?;
    Ok(sqlx::query_as::<_, Attachment>(
        "INSERT INTO attachments (id, project_id, user_id, name, kind, media_type, size, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, name, kind, media_type, size",
    )
    .bind(secrets::random_label(16))
    .bind(project_id)
    .bind(user_id)
    .bind(clean_name(name))
    .bind(kind)
    .bind(media_type)
    .bind(data.len() as i64)
    .bind(data)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// One attachment of the project, with its bytes.
pub async fn read(
    pool: &SqlitePool,
    project_id: &str,
    id: &str,
) -> Result<(Attachment, Vec<u8>), StoreError> {
    let row: Option<(String, String, String, String, i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, name, kind, media_type, size, data FROM attachments WHERE project_id = ? AND id = ?")
            .bind(project_id)
            .bind(id)
            .fetch_optional(pool)
            .await?;
    let (id, name, kind, media_type, size, data) = row.ok_or(StoreError::NotFound("attachment"))?;
    Ok((
        Attachment {
            id,
            name,
            kind,
            media_type,
            size,
        },
        data,
    ))
}

/// Checks ids a person names for a message: theirs, of this project, at most a few.
pub async fn check_own(
    pool: &SqlitePool,
    project_id: &str,
    user_id: i64,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.len() > PER_MESSAGE_MAX {
        return Err(StoreError::Invalid(format!(
            "attachments: at most {PER_MESSAGE_MAX} on a message"
        )));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(StoreError::Invalid(format!(
                "attachments: {id} is named twice"
            )));
        }
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM attachments WHERE id = ? AND project_id = ? AND user_id = ?",
        )
        .bind(id)
        .bind(project_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
        if found.is_none() {
            return Err(StoreError::NotFound("attachment"));
        }
    }
    Ok(())
}

/// Links attachments to a message, in order (inside the message's
/// transaction); returns them as listed.
pub(super) async fn link(
    conn: &mut sqlx::SqliteConnection,
    message_id: &str,
    ids: &[String],
) -> Result<Vec<Attachment>, StoreError> {
    let mut linked = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        sqlx::query("INSERT INTO message_attachments (message_id, attachment_id, position) VALUES (?, ?, ?)")
            .bind(message_id)
            .bind(id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
        linked.push(
            sqlx::query_as::<_, Attachment>(
                "SELECT id, name, kind, media_type, size FROM attachments WHERE id = ?",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?,
        );
    }
    Ok(linked)
}

/// The attachments of every message of a thread, by message id.
pub async fn of_thread(
    pool: &SqlitePool,
    thread_id: &str,
) -> Result<HashMap<String, Vec<Attachment>>, StoreError> {
    let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
        "SELECT ma.message_id, a.id, a.name, a.kind, a.media_type, a.size
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         JOIN messages m ON m.id = ma.message_id
         WHERE m.thread_id = ? ORDER BY ma.message_id, ma.position",
    )
    .bind(thread_id)
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<String, Vec<Attachment>> = HashMap::new();
    for (message_id, id, name, kind, media_type, size) in rows {
        out.entry(message_id).or_default().push(Attachment {
            id,
            name,
            kind,
            media_type,
            size,
        });
    }
    Ok(out)
}

/// The ids linked to one message, in order.
pub async fn ids_of_message(
    pool: &SqlitePool,
    message_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT attachment_id FROM message_attachments WHERE message_id = ? ORDER BY position",
    )
    .bind(message_id)
    .fetch_all(pool)
    .await?)
}

/// One message's attachments with their bytes, in order (for the model).
pub async fn with_data(
    pool: &SqlitePool,
    message_id: &str,
) -> Result<Vec<(Attachment, Vec<u8>)>, StoreError> {
    let rows: Vec<(String, String, String, String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT a.id, a.name, a.kind, a.media_type, a.size, a.data
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
         WHERE ma.message_id = ? ORDER BY ma.position",
    )
    .bind(message_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind, media_type, size, data)| {
            (
                Attachment {
                    id,
                    name,
                    kind,
                    media_type,
                    size,
                },
                data,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0];
        assert_eq!(classify("x.txt", &png), Ok(("image", "image/png")));
        assert_eq!(
            classify("a.jpg", &[0xff, 0xd8, 0xff, 0xe0]),
            Ok(("image", "image/jpeg"))
        );
        assert_eq!(
            classify("a.png", b"hello"),
            Ok(("text", "text/plain; charset=utf-8")),
            "a name is not a type"
        );
        assert_eq!(
            classify("a.svg", b"<svg onload=alert(1)>").unwrap().0,
            "text",
            "SVG is text, never an image"
        );
    }

    #[test]
    fn binary_empty_and_large_files_are_refused() {
        assert!(matches!(
            classify("a.exe", b"MZ\0\x90"),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(classify("a", b""), Err(Refusal::Invalid(_))));
        assert!(matches!(
            classify("a.txt", &vec![b'a'; TEXT_MAX + 1]),
            Err(Refusal::TooLarge(_))
        ));
        let mut big = vec![0xff, 0xd8, 0xff];
        big.resize(IMAGE_MAX + 1, 0);
        assert!(matches!(classify("a.jpg", &big), Err(Refusal::TooLarge(_))));
    }

    #[test]
    fn names_lose_folders_and_control_characters() {
        assert_eq!(clean_name("../../etc/pass\nwd"), "passwd");
        assert_eq!(clean_name("C:\\shots\\a b.png"), "a b.png");
        assert_eq!(clean_name("\n"), "attachment");
    }
}
