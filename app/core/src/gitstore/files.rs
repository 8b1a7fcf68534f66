//! Reading and writing single files at a branch (the Gitea contents API,
//! later the editor and the agent). Every write is one commit.

use super::{Author, GitError, GitStore};
use git2::{ObjectType, Oid, Repository};

/// One change of `write_files`: new content (`data` Some) or a deletion,
/// with the blob id the caller last saw (`expected`).
pub struct FileChange<'a> {
    pub path: &'a str,
    pub data: Option<&'a [u8]>,
    pub expected: Option<&'a str>,
}

/// An entry of a tree, as listed.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub path: String,
    /// `file`, `dir`, `symlink` or `submodule`.
    pub kind: &'static str,
    pub sha: String,
    pub size: u64,
}

/// What is at a path.
pub enum Content {
    File { entry: Entry, data: Vec<u8> },
    Dir(Vec<Entry>),
}

/// A path inside the repository, as people and tools send it: relative,
/// no `.`/`..`/`.git` parts, no NUL or backslash. Empty means the root.
pub fn validate_path(path: &str) -> Result<String, GitError> {
    if path.is_empty() {
        return Ok(String::new());
    }
    let invalid = || GitError::Invalid(format!("invalid path {path:?}"));
    if path.starts_with('/') || path.len() > 4096 || path.contains(['\0', '\\']) {
        return Err(invalid());
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == ".." || p.eq_ignore_ascii_case(".git"))
    {
        return Err(invalid());
    }
    Ok(trimmed.to_string())
}

fn kind_of(entry: &git2::TreeEntry) -> &'static str {
    match (entry.kind(), entry.filemode()) {
        (Some(ObjectType::Tree), _) => "dir",
        (Some(ObjectType::Commit), _) => "submodule",
        (_, 0o120000) => "symlink",
        _ => "file",
    }
}

fn entry_of(repo: &Repository, dir: &str, e: &git2::TreeEntry) -> Entry {
    let name = String::from_utf8_lossy(e.name_bytes()).into_owned();
    let path = if dir.is_empty() {
        name.clone()
    } else {
        format!("{dir}/{name}")
    };
    let size = if e.kind() == Some(ObjectType::Blob) {
        repo.find_blob(e.id()).map(|b| b.size() as u64).unwrap_or(0)
    } else {
        0
    };
    Entry {
        name,
        path,
        kind: kind_of(e),
        sha: e.id().to_string(),
        size,
    }
}

/// Resolves a branch name, tag or commit id to a commit.
pub fn resolve_ref<'r>(
    repo: &'r Repository,
    reference: &str,
) -> Result<git2::Commit<'r>, GitError> {
    if let Ok(b) = repo.find_branch(reference, git2::BranchType::Local) {
        return Ok(b.get().peel_to_commit()?);
    }
    if reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
        if let Ok(c) = repo.find_commit(Oid::from_str(reference)?) {
            return Ok(c);
        }
    }
    if let Ok(r) = repo.find_reference(&format!("refs/tags/{reference}")) {
        return Ok(r.peel_to_commit()?);
    }
    Err(GitError::NotFound("ref"))
}

impl GitStore {
    /// The file or folder at `path` (empty for the root) in `reference`
    /// (the default branch when None).
    pub fn read(
        &self,
        project_id: &str,
        reference: Option<&str>,
        path: &str,
    ) -> Result<(Content, String), GitError> {
        let repo = self.open(project_id)?;
        let path = validate_path(path)?;
        let commit = match reference {
            Some(r) => resolve_ref(&repo, r)?,
            None => repo
                .head()
                .map_err(|_| GitError::NotFound("commit"))?
                .peel_to_commit()?,
        };
        let tree = commit.tree()?;
        let list = |t: &git2::Tree, dir: &str| {
            t.iter()
                .map(|e| entry_of(&repo, dir, &e))
                .collect::<Vec<_>>()
        };
        if path.is_empty() {
            return Ok((Content::Dir(list(&tree, "")), commit.id().to_string()));
        }
        let entry = tree
            .get_path(std::path::Path::new(&path))
            .map_err(|_| GitError::NotFound("file"))?;
        let content = match entry.kind() {
            Some(ObjectType::Tree) => Content::Dir(list(&repo.find_tree(entry.id())?, &path)),
            _ => {
                let data = if entry.kind() == Some(ObjectType::Blob) {
                    repo.find_blob(entry.id())?.content().to_vec()
                } else {
                    Vec::new()
                };
                Content::File {
                    entry: entry_of(
                        &repo,
                        path.rsplit_once('/').map(|(d, _)| d).unwrap_or(""),
                        &entry,
                    ),
                    data,
                }
            }
        };
        Ok((content, commit.id().to_string()))
    }

    /// Every file of the current version (HEAD), sorted, with the version's
    /// sha: the editor's file tree. Empty for a repository without commits.
    pub fn all_files(&self, project_id: &str) -> Result<(Option<String>, Vec<Entry>), GitError> {
        let repo = self.open(project_id)?;
        let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) else {
            return Ok((None, Vec::new()));
        };
        let tree = head.tree()?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(ObjectType::Blob) {
                out.push(entry_of(&repo, dir.trim_end_matches('/'), e));
            }
            git2::TreeWalkResult::Ok
        })?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((Some(head.id().to_string()), out))
    }

    /// Creates, replaces (`data` Some) or deletes (`data` None) one file on
    /// `branch` as a new commit. `expected` is the blob id the caller last
    /// saw: required to change or delete, refused to create over a file.
    /// `new_branch` commits onto a new branch started from `branch`.
    #[allow(clippy::too_many_arguments)]
    pub fn write_file(
        &self,
        project_id: &str,
        branch: Option<&str>,
        new_branch: Option<&str>,
        path: &str,
        data: Option<&[u8]>,
        expected: Option<&str>,
        message: &str,
        author: &Author,
    ) -> Result<(Oid, Option<Oid>), GitError> {
        let (oid, blobs) = self.write_files(
            project_id,
            branch,
            new_branch,
            &[FileChange {
                path,
                data,
                expected,
            }],
            message,
            author,
        )?;
        Ok((oid, blobs[0]))
    }

    /// Moves a file (its content unchanged) in one commit on the current
    /// branch; `expected` is the blob id the caller last saw.
    pub fn rename_file(
        &self,
        project_id: &str,
        from: &str,
        to: &str,
        expected: &str,
        message: &str,
        author: &Author,
    ) -> Result<(Oid, Oid), GitError> {
        let data = match self.read(project_id, None, from)?.0 {
            Content::File { data, .. } => data,
            Content::Dir(_) => return Err(GitError::Conflict(format!("{from} is a folder"))),
        };
        let changes = [
            FileChange {
                path: to,
                data: Some(&data),
                expected: None,
            },
            FileChange {
                path: from,
                data: None,
                expected: Some(expected),
            },
        ];
        let (oid, blobs) = self.write_files(project_id, None, None, &changes, message, author)?;
        Ok((oid, blobs[0].expect("the new path has a blob")))
    }

    /// Several file changes as one commit (see `write_file`); the blob id of
    /// each change (None for a deletion).
    pub fn write_files(
        &self,
        project_id: &str,
        branch: Option<&str>,
        new_branch: Option<&str>,
        changes: &[FileChange],
        message: &str,
        author: &Author,
    ) -> Result<(Oid, Vec<Option<Oid>>), GitError> {
        let base_branch = match branch {
            Some(b) => b.to_string(),
            None => self.current_branch(project_id)?,
        };
        let target_branch = new_branch.unwrap_or(&base_branch).to_string();
        let (oid, blobs) = {
            let repo = self.open(project_id)?;
            if let Some(nb) = new_branch {
                super::validate_branch_name(nb)?;
                if repo.find_branch(nb, git2::BranchType::Local).is_ok() {
                    return Err(GitError::Conflict(format!("branch {nb} already exists")));
                }
            }
            let parent = match repo.find_branch(&base_branch, git2::BranchType::Local) {
                Ok(b) => Some(b.get().peel_to_commit()?),
                // An empty repository: the first commit creates the branch.
                Err(_) if has_no_refs(&repo)? => None,
                Err(_) => return Err(GitError::NotFound("branch")),
            };
            let base_tree = match &parent {
                Some(c) => Some(c.tree()?),
                None => None,
            };
            let mut update = git2::build::TreeUpdateBuilder::new();
            let mut blobs = Vec::with_capacity(changes.len());
            for change in changes {
                let path = validate_path(change.path)?;
                if path.is_empty() {
                    return Err(GitError::Invalid("a file path is required".into()));
                }
                if let Some(tree) = &base_tree {
                    refuse_non_folder_parents(tree, &path)?;
                }
                let existing = base_tree
                    .as_ref()
                    .and_then(|t| t.get_path(std::path::Path::new(&path)).ok());
                match (&existing, change.data, change.expected) {
                    (Some(e), Some(_), None) if e.kind() == Some(ObjectType::Blob) => {
                        return Err(GitError::Conflict(format!(
                            "{path} already exists; send its sha to replace it"
                        )))
                    }
                    (Some(e), _, Some(sha)) if e.id().to_string() != sha => {
                        return Err(GitError::Conflict(format!(
                            "{path} has changed since you read it (sha {sha} is stale)"
                        )))
                    }
                    (None, None, _) => return Err(GitError::NotFound("file")),
                    (None, Some(_), Some(_)) => return Err(GitError::NotFound("file")),
                    (Some(e), _, _) if e.kind() == Some(ObjectType::Tree) => {
                        return Err(GitError::Conflict(format!("{path} is a folder")))
                    }
                    _ => {}
                }
                blobs.push(match change.data {
                    Some(bytes) => {
                        let oid = repo.blob(bytes)?;
                        update.upsert(&path, oid, git2::FileMode::Blob);
                        Some(oid)
                    }
                    None => {
                        update.remove(&path);
                        None
                    }
                });
            }
            let new_tree = match &base_tree {
                Some(t) => update.create_updated(&repo, t)?,
                None => {
                    let empty = repo.treebuilder(None)?.write()?;
                    update.create_updated(&repo, &repo.find_tree(empty)?)?
                }
            };
            let sig = author.signature()?;
            let parents: Vec<&git2::Commit> = parent.iter().collect();
            let refname = format!("refs/heads/{target_branch}");
            let tree = repo.find_tree(new_tree)?;
            let oid = if new_branch.is_some() || parent.is_none() {
                let oid = repo.commit(None, &sig, &sig, message, &tree, &parents)?;
                repo.reference(&refname, oid, false, message)?;
                oid
            } else {
                // Moves the branch only if nobody moved it meanwhile.
                let old = parent.as_ref().map(|c| c.id()).expect("parent exists");
                let oid = repo.commit(None, &sig, &sig, message, &tree, &parents)?;
                repo.reference_matching(&refname, oid, true, old, message)?;
                oid
            };
            (oid, blobs)
        };
        if self.current_branch(project_id)? == target_branch {
            self.sync_worktree(project_id)?;
        }
        Ok((oid, blobs))
    }

    /// Creates an empty bare repository (Gitea's `auto_init: false`) whose
    /// default branch will be `branch` once something is pushed to it.
    pub fn create_empty(&self, project_id: &str, branch: &str) -> Result<(), GitError> {
        super::validate_branch_name(branch)?;
        let final_path = self.repo_path(project_id);
        if final_path.exists() {
            return Err(GitError::Conflict("the repository already exists".into()));
        }
        let staging = self.repos.join(format!(".new-{project_id}"));
        let _ = std::fs::remove_dir_all(&staging);
        drop(super::init_bare(&staging, branch)?);
        std::fs::rename(&staging, &final_path)?;
        std::fs::create_dir_all(self.worktree_path(project_id))?;
        Ok(())
    }

    /// True when the repository has no commit yet.
    pub fn is_empty(&self, project_id: &str) -> Result<bool, GitError> {
        has_no_refs(&self.open(project_id)?)
    }

    /// Size of the repository on disk, in KiB (Gitea's `size`).
    pub fn size_kib(&self, project_id: &str) -> u64 {
        fn walk(p: &std::path::Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| match e.file_type() {
                            Ok(t) if t.is_dir() => walk(&e.path()),
                            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.repo_path(project_id)) / 1024
    }
}

/// A file can only go under folders: a parent that is a file or a
/// symbolic link in this version is a clear conflict (libgit2 would fail
/// deep inside the tree update).
fn refuse_non_folder_parents(tree: &git2::Tree, path: &str) -> Result<(), GitError> {
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        let Ok(entry) = tree.get_path(std::path::Path::new(&prefix)) else {
            return Ok(());
        };
        if entry.kind() != Some(ObjectType::Tree) {
            let what = if entry.filemode() == 0o120000 {
                "a symbolic link"
            } else {
                "a file"
            };
            return Err(GitError::Conflict(format!(
                "{prefix} is {what} in this version, not a folder; {path} cannot be saved under it"
            )));
        }
    }
    Ok(())
}

/// No branch or tag at all. (libgit2's `is_empty` also wants HEAD to name the
/// configured default branch, which is not ours.)
fn has_no_refs(repo: &Repository) -> Result<bool, GitError> {
    Ok(repo.references()?.next().is_none())
}
