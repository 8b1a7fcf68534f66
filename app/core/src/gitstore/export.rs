//! A version's files written out as a plain folder (what a publish builds
//! and serves). The folder is new and ours; only regular files and folders
//! are written: symbolic links and submodules in the version are skipped
//! and named, so nothing in it can point outside.

use super::{GitError, GitStore};
use git2::ObjectType;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub files: usize,
    pub bytes: u64,
    /// Paths left out: links and submodules.
    pub skipped: Vec<String>,
}

impl GitStore {
    /// Writes the files of commit `sha` into `dest`, which must not exist
    /// yet. More than `max_bytes` in all is refused.
    pub fn export(
        &self,
        project_id: &str,
        sha: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<Exported, GitError> {
        let repo = self.open(project_id)?;
        let commit = repo
            .find_commit(super::history::parse_sha(sha)?)
            .map_err(|_| GitError::NotFound("version"))?;
        std::fs::create_dir(dest)?;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755))?;
        let mut out = Exported::default();
        let mut failure: Option<GitError> = None;
        commit
            .tree()?
            .walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                let name = String::from_utf8_lossy(e.name_bytes()).into_owned();
                let rel = format!("{dir}{name}");
                if !safe_name(&name) {
                    out.skipped.push(rel);
                    return git2::TreeWalkResult::Skip;
                }
                let target: PathBuf = dest.join(&rel);
                let step = match (e.kind(), e.filemode()) {
                    (Some(ObjectType::Tree), _) => std::fs::create_dir(&target)
                        .and_then(|()| {
                            std::fs::set_permissions(
                                &target,
                                std::fs::Permissions::from_mode(0o755),
                            )
                        })
                        .map_err(GitError::from),
                    (Some(ObjectType::Blob), mode) if mode != 0o120000 => {
                        match repo.find_blob(e.id()) {
                            Ok(blob) => {
                                out.bytes += blob.size() as u64;
                                out.files += 1;
                                if out.bytes > max_bytes {
                                    Err(GitError::Invalid(format!(
                                        "the version holds more than {} MiB of files",
                                        max_bytes / (1024 * 1024)
                                    )))
                                } else {
                                    write_new(&target, blob.content(), mode == 0o100755)
                                }
                            }
                            Err(e) => Err(e.into()),
                        }
                    }
                    _ => {
                        out.skipped.push(rel);
                        return git2::TreeWalkResult::Skip;
                    }
                };
                match step {
                    Ok(()) => git2::TreeWalkResult::Ok,
                    Err(e) => {
                        failure = Some(e);
                        git2::TreeWalkResult::Abort
                    }
                }
            })
            .or_else(|e| if failure.is_some() { Ok(()) } else { Err(e) })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// Names git could hold but no folder of ours should (git's own fsck
/// refuses most of them on push; a repository made elsewhere may not).
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.eq_ignore_ascii_case(".git")
        && !name.contains(['/', '\\', '\0'])
}

/// A new file (never an existing one, so never through a link).
fn write_new(path: &Path, data: &[u8], executable: bool) -> Result<(), GitError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(path)?;
    f.write_all(data)?;
    Ok(())
}
