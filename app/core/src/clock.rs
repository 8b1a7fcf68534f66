//! Time helpers: the database stores unix seconds, the API speaks RFC 3339.

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix seconds as an RFC 3339 string (`1970-01-01T00:00:00Z` for nonsense input).
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}
