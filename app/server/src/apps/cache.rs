//! Small files of static deployments, kept in memory. A deployment's files
//! never change (its id is in the key), so an entry never goes stale; it
//! only goes when the cache is full. Only plain files of simple paths are
//! cached; anything else (ranges, odd paths, SPA fallbacks, 404s) takes
//! the file server's path, which is where those rules live.

use autocrea_core::sync::lock;
use axum::body::Bytes;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Larger files are read from disk each time (they are few and the read
/// is not what costs).
const MAX_FILE: u64 = 512 * 1024;
/// When the cache holds this much, it starts again empty.
const MAX_TOTAL: usize = 64 * 1024 * 1024;

pub struct Cached {
    pub body: Bytes,
    pub mime: String,
}

#[derive(Default)]
pub struct FileCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    bytes: usize,
    files: HashMap<(String, String), Arc<Cached>>,
}

impl FileCache {
    /// The file at request path `path` of the deployment whose files are in
    /// `root`; `None` when it is not a cacheable plain file.
    pub async fn get(&self, deployment: &str, root: &Path, path: &str) -> Option<Arc<Cached>> {
        let rel = relative(path)?;
        let key = (deployment.to_string(), rel.clone());
        if let Some(hit) = lock(&self.inner).files.get(&key) {
            return Some(hit.clone());
        }
        let file = root.join(&rel);
        // No link is ever unpacked into a deployment; checked anyway, and
        // no folder or device is read.
        let meta = tokio::fs::symlink_metadata(&file).await.ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        let body = Bytes::from(tokio::fs::read(&file).await.ok()?);
        let mime = mime_guess::from_path(&rel)
            .first_raw()
            .unwrap_or("application/octet-stream");
        let mime = match mime.starts_with("text/") || mime == "application/javascript" {
            true => format!("{mime}; charset=utf-8"),
            false => mime.to_string(),
        };
        let cached = Arc::new(Cached { body, mime });
        let mut inner = lock(&self.inner);
        if inner.bytes + cached.body.len() > MAX_TOTAL {
            inner.files.clear();
            inner.bytes = 0;
        }
        inner.bytes += cached.body.len();
        inner.files.insert(key, cached.clone());
        Some(cached)
    }
}

/// The file a simple request path names (`/` and `/dir/` mean their
/// `index.html`): letters, digits, `.`, `_`, `-` and `/` only, no empty,
/// `.` or `..` segment. Anything else is `None` (left to the file server).
fn relative(path: &str) -> Option<String> {
    let p = path.strip_prefix('/')?;
    let simple = p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
    if !simple {
        return None;
    }
    let (dir, file) = match p.rsplit_once('/') {
        Some((d, f)) => (Some(d), f),
        None => (None, p),
    };
    if let Some(d) = dir {
        if d.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return None;
        }
    }
    match file {
        "" => Some(format!("{p}index.html")),
        "." | ".." => None,
        _ => Some(p.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_simple_paths_are_cached() {
        assert_eq!(relative("/").as_deref(), Some("index.html"));
        assert_eq!(relative("/app.js").as_deref(), Some("app.js"));
        assert_eq!(relative("/docs/").as_deref(), Some("docs/index.html"));
        assert_eq!(
            relative("/assets/index-3f2a.js").as_deref(),
            Some("assets/index-3f2a.js")
        );
        for odd in [
            "", "app.js", "/../x", "/a/../b", "/a//b", "/./a", "/..", "/a%2e", "/a b", "/a\\b",
            "/a/./b",
        ] {
            assert_eq!(relative(odd), None, "{odd}");
        }
    }
}
