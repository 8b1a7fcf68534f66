//! A build's output (a tar stream from the build container) unpacked into
//! the deployment's folder. The stream is untrusted (the project's own
//! build wrote it): only regular files and folders are taken, each path
//! must stay inside, and the whole is size-limited. Links, devices and the
//! like are skipped and named in the build log.

use super::PublishError;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: usize,
    pub bytes: u64,
    pub skipped: Vec<String>,
}

/// Unpacks `archive` into `dest` (created when missing), leaving out the
/// paths under any of `exclude` (relative to the archive's root).
pub fn unpack(
    archive: impl Read,
    dest: &Path,
    exclude: &[String],
    max_bytes: u64,
) -> Result<Unpacked, PublishError> {
    std::fs::create_dir_all(dest)?;
    let mut out = Unpacked::default();
    let mut tar = tar::Archive::new(archive);
    let entries = tar
        .entries()
        .map_err(|e| PublishError::Invalid(format!("the build output is not a tar stream: {e}")))?;
    for entry in entries {
        let mut entry = entry
            .map_err(|e| PublishError::Invalid(format!("the build output is damaged: {e}")))?;
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let Some(rel) = relative(&raw) else {
            out.skipped.push(shown);
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        if exclude.iter().any(|x| rel.starts_with(x)) {
            continue;
        }
        let target = dest.join(&rel);
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target)?;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let size = entry.header().size().unwrap_or(0);
                out.bytes += size;
                if out.bytes > max_bytes {
                    return Err(PublishError::Invalid(format!(
                        "the build output is larger than {} MiB",
                        max_bytes / (1024 * 1024)
                    )));
                }
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let executable = entry.header().mode().unwrap_or(0) & 0o111 != 0;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(if executable { 0o755 } else { 0o644 })
                    .open(&target)?;
                let copied = std::io::copy(&mut (&mut entry).take(size), &mut f)?;
                if copied != size {
                    return Err(PublishError::Invalid(format!(
                        "the build output ends inside {shown}"
                    )));
                }
                f.flush()?;
                out.files += 1;
            }
            // Metadata entries of the format itself.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            _ => out.skipped.push(shown),
        }
    }
    Ok(out)
}

/// The entry's path as plain parts (`./` taken away), or `None` when it
/// is absolute, climbs with `..`, or names `.git`.
fn relative(raw: &[u8]) -> Option<PathBuf> {
    let text = std::str::from_utf8(raw).ok()?;
    if text.contains(['\0', '\\']) {
        return None;
    }
    let mut out = PathBuf::new();
    for c in Path::new(text).components() {
        match c {
            Component::CurDir => {}
            Component::Normal(p) if !p.eq_ignore_ascii_case(".git") => out.push(p),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path refuses `..`; write the name raw, as a hostile build could.
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    #[test]
    fn only_files_and_folders_inside_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let data = archive(|b| {
            file(b, "./index.html", b"<h1>hi</h1>");
            file(b, "assets/app.js", b"1");
            file(b, "../escape.txt", b"x");
            file(b, "/etc/evil", b"x");
            file(b, "cache/big", b"cached");
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "link", "/etc/passwd").unwrap();
        });
        let u = unpack(&data[..], &dest, &["cache".into()], 1 << 20).unwrap();
        assert_eq!(u.files, 2);
        assert_eq!(
            std::fs::read(dest.join("index.html")).unwrap(),
            b"<h1>hi</h1>"
        );
        assert!(dest.join("assets/app.js").is_file());
        assert!(!dir.path().join("escape.txt").exists());
        assert!(!dest.join("cache").exists());
        assert!(std::fs::symlink_metadata(dest.join("link")).is_err());
        assert_eq!(u.skipped.len(), 3, "{:?}", u.skipped);
    }

    #[test]
    fn too_much_output_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = archive(|b| file(b, "big", &[0u8; 4096]));
        let e = unpack(&data[..], &dir.path().join("o"), &[], 1000).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }
}
