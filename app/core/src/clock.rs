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

/// `#[serde(serialize_with = "clock::ser_rfc3339")]` for unix-second fields.
pub fn ser_rfc3339<S: serde::Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// The same for optional fields.
pub fn ser_opt_rfc3339<S: serde::Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}
