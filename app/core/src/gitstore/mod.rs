//! The git store: one bare repository per project (git2), plus a working
//! tree that follows the current branch head for the sandbox and the agent.
//!
//! Repositories live at `<data>/repos/<project id>.git` and working trees at
//! `<data>/worktrees/<project id>`: paths come from ids, never from names a
//! person typed, so no name can reach outside the data folder. Writers
//! (pushes, reverts, branch switches, later the agent and the editor) take
//! the project's lock, one at a time.

mod export;
mod facade;
mod files;
mod history;
mod pinned;
mod search;
mod templates;
mod tree;
mod writer;

pub use export::Exported;
pub use facade::Git;
pub use files::{resolve_ref, validate_path, Content, Entry, FileChange};
pub use history::{parse_sha, Branch, ChangedFile, FileDiff, Person, Version};
pub use search::{Replaced, SearchFile, SearchMatch, SearchQuery, SearchResult};
pub use writer::WriterLock;

use git2::{BranchType, Oid, Repository, RepositoryInitOptions, Signature};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Mutex as AsyncMutex};

pub const DEFAULT_BRANCH: &str = "main";

/// The environment of every git process the appliance starts on a project
/// (working-tree commands here, `git_http`'s upload/receive-pack): no system
/// or user config, and command-line settings (which outrank the
/// repository's own config, and reach every git the first one starts) that
/// turn hooks and `core.fsmonitor` off. A repository's config is written
/// only by the appliance (`init_bare`, checked by `audit_configs`); these
/// hold even if one were changed behind its back.
pub const GIT_ENV: &[(&str, &str)] = &[
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_COUNT", "3"),
    ("GIT_CONFIG_KEY_0", "core.hooksPath"),
    ("GIT_CONFIG_VALUE_0", "/dev/null"),
    ("GIT_CONFIG_KEY_1", "core.fsmonitor"),
    ("GIT_CONFIG_VALUE_1", "false"),
    ("GIT_CONFIG_KEY_2", "core.untrackedCache"),
    ("GIT_CONFIG_VALUE_2", "false"),
];

/// Variables of the appliance's own environment that would redirect git.
/// (`GIT_COMMON_DIR` is then set to the repository itself, so a
/// `commondir` file cannot point git at config or refs elsewhere.)
pub const GIT_ENV_REMOVED: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_SYSTEM",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_ATTR_SOURCE",
    "GIT_EXTERNAL_DIFF",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
];

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("repository error: {0}")]
    Git(#[from] git2::Error),
    #[error("file system error: {0}")]
    Io(#[from] std::io::Error),
}

/// Who makes a commit.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl Author {
    /// An agent role (Architect, Developer...) as commit author.
    pub fn agent(role: &str) -> Self {
        Self {
            name: format!("{role} (agent)"),
            email: format!("{}@{}", role.to_lowercase(), history::AGENT_DOMAIN),
        }
    }
    fn signature(&self) -> Result<Signature<'static>, GitError> {
        Ok(Signature::now(&self.name, &self.email)?)
    }
}

pub struct GitStore {
    repos: PathBuf,
    worktrees: PathBuf,
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
    pins: Mutex<HashMap<String, pinned::Pin>>,
    /// Project ids, sent each time a writer lock is released (see `writer`).
    released: broadcast::Sender<String>,
}

impl GitStore {
    pub fn new(data_dir: &Path) -> Result<Self, GitError> {
        let repos = data_dir.join("repos");
        let worktrees = data_dir.join("worktrees");
        std::fs::create_dir_all(&repos)?;
        std::fs::create_dir_all(&worktrees)?;
        // libgit2 writes objects and refs with fsync, like git with core.fsync.
        unsafe {
            libgit2_sys::git_libgit2_opts(
                libgit2_sys::GIT_OPT_ENABLE_FSYNC_GITDIR as std::ffi::c_int,
                1 as std::ffi::c_int,
            );
        }
        Ok(Self {
            repos,
            worktrees,
            locks: Mutex::new(HashMap::new()),
            pins: Mutex::new(HashMap::new()),
            released: broadcast::channel(1024).0,
        })
    }

    pub fn repo_path(&self, project_id: &str) -> PathBuf {
        self.repos.join(format!("{project_id}.git"))
    }

    pub fn worktree_path(&self, project_id: &str) -> PathBuf {
        self.worktrees.join(project_id)
    }

    /// The project's writer lock; hold it across anything that moves a ref.
    /// A previewed version (see `pin_version`) ends first.
    pub async fn lock(&self, project_id: &str) -> WriterLock {
        self.unpin_for_writer(project_id);
        let guard = self.lock_of(project_id).lock_owned().await;
        WriterLock::new(guard, project_id, &self.released)
    }

    /// The writer lock when nobody holds it (an agent turn holds it for its
    /// whole length), for work that has another way to go.
    pub fn try_lock(&self, project_id: &str) -> Option<WriterLock> {
        self.unpin_for_writer(project_id);
        let guard = self.lock_of(project_id).try_lock_owned().ok()?;
        Some(WriterLock::new(guard, project_id, &self.released))
    }

    /// Project ids as their writer locks are released: every change of a
    /// ref happens under that lock, so a listener that compares what it
    /// cares about (a branch tip) after each release misses none, whatever
    /// path made the change (a turn, a save, a push, a pull). A listener
    /// that falls behind gets `Lagged` and should check every project it
    /// follows.
    pub fn subscribe_releases(&self) -> broadcast::Receiver<String> {
        self.released.subscribe()
    }

    fn lock_of(&self, project_id: &str) -> Arc<AsyncMutex<()>> {
        let mut locks = self.locks.lock().expect("git lock table");
        locks.entry(project_id.to_string()).or_default().clone()
    }

    pub fn open(&self, project_id: &str) -> Result<Repository, GitError> {
        let path = self.repo_path(project_id);
        if !path.exists() {
            return Err(GitError::NotFound("repository"));
        }
        Ok(Repository::open_bare(path)?)
    }

    /// Creates the bare repository with the template's files as first commit,
    /// and checks it out. Built in a temporary folder and renamed into place,
    /// so a crash never leaves half a repository under the real name.
    pub fn create(
        &self,
        project_id: &str,
        template: &str,
        author: &Author,
    ) -> Result<Oid, GitError> {
        self.create_on(project_id, template, author, DEFAULT_BRANCH)
    }

    /// `create` with `branch` as the default branch (a Gitea client's or a
    /// remote's `master`, say).
    pub fn create_on(
        &self,
        project_id: &str,
        template: &str,
        author: &Author,
        branch: &str,
    ) -> Result<Oid, GitError> {
        validate_branch_name(branch)?;
        let files = templates::files(template)
            .ok_or_else(|| GitError::Invalid(format!("unknown template {template}")))?;
        let final_path = self.repo_path(project_id);
        if final_path.exists() {
            return Err(GitError::Conflict("the repository already exists".into()));
        }
        let staging = self.repos.join(format!(".new-{project_id}"));
        let _ = std::fs::remove_dir_all(&staging);
        let repo = init_bare(&staging, branch)?;
        let tree = tree::write(&repo, &files)?;
        let sig = author.signature()?;
        let oid = repo.commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Start from the template",
            &repo.find_tree(tree)?,
            &[],
        )?;
        drop(repo);
        std::fs::rename(&staging, &final_path)?;
        self.sync_worktree(project_id)?;
        Ok(oid)
    }

    /// Copies every ref and object of one project into a new one.
    pub fn duplicate(&self, from: &str, to: &str) -> Result<(), GitError> {
        let source = self.repo_path(from);
        let staging = self.repos.join(format!(".new-{to}"));
        let _ = std::fs::remove_dir_all(&staging);
        copy_dir(&source, &staging)?;
        std::fs::rename(&staging, self.repo_path(to))?;
        self.sync_worktree(to)?;
        Ok(())
    }

    /// Removes the repository and its working tree.
    pub fn delete(&self, project_id: &str) -> Result<(), GitError> {
        self.forget_pin(project_id);
        // Rename first so a half-finished removal never looks like a repository.
        let path = self.repo_path(project_id);
        if path.exists() {
            let doomed = self.repos.join(format!(".deleted-{project_id}"));
            std::fs::rename(&path, &doomed)?;
            std::fs::remove_dir_all(&doomed)?;
        }
        let wt = self.worktree_path(project_id);
        if wt.exists() {
            std::fs::remove_dir_all(wt)?;
        }
        Ok(())
    }

    /// Makes the working tree match the current branch head. Files the
    /// history does not track (installed dependencies, build output) stay.
    ///
    /// Done by the git CLI in a child process (the classic deploy-hook
    /// checkout): it streams large blobs to disk, where libgit2 would hold a
    /// whole 100 MB file in this process's memory.
    pub fn sync_worktree(&self, project_id: &str) -> Result<(), GitError> {
        let repo = self.repo_path(project_id);
        if !repo.exists() {
            return Err(GitError::NotFound("repository"));
        }
        let wt = self.worktree_path(project_id);
        std::fs::create_dir_all(&wt)?;
        if self.is_empty(project_id)? {
            return Ok(()); // nothing to check out yet
        }
        let branch = self.current_branch(project_id)?;
        self.worktree_git(
            project_id,
            &["checkout", "--force", "--quiet", &branch, "--"],
            "update the working tree",
        )?;
        Ok(())
    }

    /// Runs the git CLI on the project's repository and working tree.
    fn worktree_git(
        &self,
        project_id: &str,
        args: &[&str],
        doing: &str,
    ) -> Result<std::process::Output, GitError> {
        let mut cmd = std::process::Command::new("git");
        cmd.arg("--git-dir")
            .arg(self.repo_path(project_id))
            .arg("--work-tree")
            .arg(self.worktree_path(project_id))
            .args(args)
            .envs(GIT_ENV.iter().copied());
        for var in GIT_ENV_REMOVED {
            cmd.env_remove(var);
        }
        cmd.env("GIT_COMMON_DIR", self.repo_path(project_id));
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(GitError::Io(std::io::Error::other(format!(
                "could not {doing}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))));
        }
        Ok(out)
    }

    /// Commits every change in the working tree (files written in place, as
    /// an agent turn does) as one version on the current branch. `None` when
    /// nothing changed. The caller holds the project's writer lock.
    pub fn commit_worktree(
        &self,
        project_id: &str,
        message: &str,
        author: &Author,
    ) -> Result<Option<String>, GitError> {
        self.worktree_git(
            project_id,
            &["add", "--all", "--", ".", TEMP_FILES_EXCLUDED],
            "stage the changes",
        )?;
        let name = format!("user.name={}", author.name);
        let email = format!("user.email={}", author.email);
        let committed = self.worktree_git(
            project_id,
            &[
                "-c",
                &name,
                "-c",
                &email,
                "commit",
                "--quiet",
                "--no-verify",
                "-m",
                message,
            ],
            "commit the changes",
        );
        match committed {
            Ok(_) => {
                let head = self
                    .open(project_id)?
                    .head()?
                    .target()
                    .ok_or(GitError::NotFound("version"))?;
                Ok(Some(head.to_string()))
            }
            // `git commit` refuses an empty commit; asking only then whether
            // anything was staged saves a process on every turn.
            Err(e) => match self.worktree_git(
                project_id,
                &[
                    "diff",
                    "--cached",
                    "--quiet",
                    "--no-ext-diff",
                    "--no-textconv",
                ],
                "list the changes",
            ) {
                Ok(_) => Ok(None),
                Err(_) => Err(e),
            },
        }
    }

    /// Puts the working tree back to the current version: changed and
    /// deleted files restored, new files removed (ignored ones, such as
    /// installed dependencies, stay).
    pub fn discard_worktree_changes(&self, project_id: &str) -> Result<(), GitError> {
        if self.is_empty(project_id)? {
            return Ok(());
        }
        self.worktree_git(
            project_id,
            &["reset", "--quiet", "--hard", "HEAD"],
            "restore the working tree",
        )?;
        self.worktree_git(
            project_id,
            &["clean", "-d", "--force", "--quiet"],
            "remove new files",
        )?;
        Ok(())
    }

    /// Puts the files of version `sha` into the working tree without a
    /// commit (HEAD stays): the turn that regenerates an earlier answer
    /// starts from the code that answer started from, and its commit (or
    /// discard) is then relative to the current version as usual.
    pub fn load_version_into_worktree(&self, project_id: &str, sha: &str) -> Result<(), GitError> {
        let oid = history::parse_sha(sha)?;
        self.open(project_id)?
            .find_commit(oid)
            .map_err(|_| GitError::NotFound("version"))?;
        let sha = oid.to_string();
        self.worktree_git(
            project_id,
            &["read-tree", "--reset", "-u", &sha],
            "load the version into the working tree",
        )?;
        Ok(())
    }

    /// The working tree's changes against the current version, as a
    /// unified diff (new files included), cut at `max_bytes`.
    pub fn worktree_diff(&self, project_id: &str, max_bytes: usize) -> Result<String, GitError> {
        if self.is_empty(project_id)? {
            return Ok(String::new());
        }
        self.worktree_git(
            project_id,
            &["add", "--all", "--", ".", TEMP_FILES_EXCLUDED],
            "stage the changes",
        )?;
        let out = self.worktree_git(
            project_id,
            &[
                "diff",
                "--cached",
                "--no-color",
                "--no-ext-diff",
                "--no-renames",
            ],
            "diff the changes",
        )?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.truncate(crate::text::prefix(&text, max_bytes).len());
        Ok(text)
    }

    /// The branch HEAD points at.
    pub fn current_branch(&self, project_id: &str) -> Result<String, GitError> {
        let repo = self.open(project_id)?;
        let head = repo.find_reference("HEAD")?;
        let target = head
            .symbolic_target()
            .ok()
            .flatten()
            .unwrap_or("refs/heads/main");
        Ok(target.trim_start_matches("refs/heads/").to_string())
    }

    /// After a push: when HEAD names a branch that does not exist (a repository
    /// created empty for `main` that got only `master`), HEAD moves to a
    /// branch that does: `main`, else `master`, else the first by name, as
    /// Gitea and GitHub make the first pushed branch the default. Returns
    /// the branch HEAD was moved to.
    pub fn settle_head(&self, project_id: &str) -> Result<Option<String>, GitError> {
        let repo = self.open(project_id)?;
        if repo.head().is_ok() {
            return Ok(None);
        }
        let mut names: Vec<String> = repo
            .branches(Some(BranchType::Local))?
            .filter_map(|b| b.ok()?.0.name().ok().flatten().map(String::from))
            .collect();
        names.sort();
        let pick = ["main", "master"]
            .iter()
            .find(|n| names.iter().any(|b| b == *n))
            .map(|n| n.to_string())
            .or_else(|| names.first().cloned());
        let Some(branch) = pick else {
            return Ok(None);
        };
        repo.set_head(&format!("refs/heads/{branch}"))?;
        Ok(Some(branch))
    }

    pub fn history(
        &self,
        project_id: &str,
        branch: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<Version>, usize), GitError> {
        history::log(&self.open(project_id)?, branch, skip, limit)
    }

    pub fn version(&self, project_id: &str, sha: &str) -> Result<Version, GitError> {
        history::version(&self.open(project_id)?, sha)
    }

    pub fn diff(&self, project_id: &str, from: &str, to: &str) -> Result<Vec<FileDiff>, GitError> {
        history::diff(&self.open(project_id)?, from, to)
    }

    /// A new commit on the current branch whose files are exactly those of
    /// version `sha`. History is never rewritten.
    pub fn restore(
        &self,
        project_id: &str,
        sha: &str,
        author: &Author,
    ) -> Result<Version, GitError> {
        let oid = {
            let repo = self.open(project_id)?;
            let target = repo
                .find_commit(history::parse_sha(sha)?)
                .map_err(|_| GitError::NotFound("version"))?;
            let head = repo.head()?.peel_to_commit()?;
            if head.tree_id() == target.tree_id() {
                return Err(GitError::Conflict(
                    "the files already match that version".into(),
                ));
            }
            let short = &target.id().to_string()[..7];
            let summary: String =
                String::from_utf8_lossy(target.summary_bytes().unwrap_or_default())
                    .chars()
                    .take(60)
                    .collect();
            let message = format!(
                "Revert to {short}: {summary}\n\nRestores the files of version {}.",
                target.id()
            );
            let sig = author.signature()?;
            let tree = target.tree()?;
            repo.commit(Some("HEAD"), &sig, &sig, &message, &tree, &[&head])?
        };
        self.sync_worktree(project_id)?;
        self.version(project_id, &oid.to_string())
    }

    pub fn branches(&self, project_id: &str) -> Result<Vec<Branch>, GitError> {
        let repo = self.open(project_id)?;
        let current = self.current_branch(project_id)?;
        let mut out = Vec::new();
        for b in repo.branches(Some(BranchType::Local))? {
            let (branch, _) = b?;
            let Some(name) = branch.name()?.map(str::to_string) else {
                continue;
            };
            let commit = branch.get().peel_to_commit()?;
            out.push(Branch {
                current: name == current,
                name,
                head: history::version_of(&repo, &commit)?,
            });
        }
        out.sort_by(|a, b| b.current.cmp(&a.current).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    pub fn create_branch(
        &self,
        project_id: &str,
        name: &str,
        from: Option<&str>,
    ) -> Result<Branch, GitError> {
        validate_branch_name(name)?;
        let repo = self.open(project_id)?;
        let commit = match from {
            Some(sha) => repo
                .find_commit(history::parse_sha(sha)?)
                .map_err(|_| GitError::NotFound("version"))?,
            None => repo.head()?.peel_to_commit()?,
        };
        if repo.find_branch(name, BranchType::Local).is_ok() {
            return Err(GitError::Conflict(format!("branch {name} already exists")));
        }
        repo.branch(name, &commit, false)?;
        Ok(Branch {
            name: name.to_string(),
            current: false,
            head: history::version_of(&repo, &commit)?,
        })
    }

    pub fn delete_branch(&self, project_id: &str, name: &str) -> Result<(), GitError> {
        let repo = self.open(project_id)?;
        if self.current_branch(project_id)? == name {
            return Err(GitError::Conflict(
                "the current branch cannot be deleted; switch to another first".into(),
            ));
        }
        let mut branch = repo
            .find_branch(name, BranchType::Local)
            .map_err(|_| GitError::NotFound("branch"))?;
        branch.delete()?;
        Ok(())
    }

    /// Points HEAD at another branch and checks it out into the working tree.
    pub fn switch_branch(&self, project_id: &str, name: &str) -> Result<(), GitError> {
        let repo = self.open(project_id)?;
        repo.find_branch(name, BranchType::Local)
            .map_err(|_| GitError::NotFound("branch"))?;
        repo.set_head(&format!("refs/heads/{name}"))?;
        drop(repo);
        self.sync_worktree(project_id)
    }

    /// `git fsck`-style check used by tests and admins: every object reachable.
    pub fn repo_exists(&self, project_id: &str) -> bool {
        self.repo_path(project_id).join("HEAD").exists()
    }
}

/// A half-written temporary file of `crate::confined` (a process that died
/// mid-write) is never committed.
const TEMP_FILES_EXCLUDED: &str = ":(exclude,glob)**/*.autocrea-tmp";

/// What the appliance writes into a repository's config (`init_bare`);
/// keys in git's lower-case form.
const OWN_CONFIG: &[(&str, &str)] = &[
    // Pushed objects are checked; refs and objects reach the disk before git reports success.
    ("receive.fsckobjects", "true"),
    ("core.fsync", "committed"),
    ("core.fsyncmethod", "fsync"),
    ("http.receivepack", "true"),
    // Shallow clones and fetches of any advertised commit work.
    ("uploadpack.allowfilter", "true"),
    ("uploadpack.allowanysha1inwant", "true"),
];

/// A bare repository's whole config as the appliance writes it: the keys
/// `git init --bare` writes on Linux, then ours. Nothing else belongs there.
fn canonical_config() -> impl Iterator<Item = (&'static str, &'static str)> {
    [
        ("core.repositoryformatversion", "0"),
        ("core.filemode", "true"),
        ("core.bare", "true"),
    ]
    .into_iter()
    .chain(OWN_CONFIG.iter().copied())
}

/// Files in a git directory that make git read config, refs or objects
/// from somewhere else; the appliance never writes them.
const REDIRECTING_FILES: &[&str] = &[
    "commondir",
    "config.worktree",
    "worktrees",
    "objects/info/alternates",
    "objects/info/http-alternates",
    "info/grafts",
];

/// Renders the canonical config into `<repo>/config.autocrea-new` and
/// returns that path and its bytes.
fn render_config(repo: &Path) -> Result<(PathBuf, Vec<u8>), GitError> {
    let fresh = repo.join("config.autocrea-new");
    let _ = std::fs::remove_file(&fresh);
    {
        let mut config = git2::Config::open(&fresh)?;
        for (key, value) in canonical_config() {
            config.set_str(key, value)?;
        }
    }
    let bytes = std::fs::read(&fresh)?;
    Ok((fresh, bytes))
}

fn init_bare(path: &Path, branch: &str) -> Result<Repository, GitError> {
    let mut opts = RepositoryInitOptions::new();
    opts.bare(true).initial_head(branch).mkpath(true);
    drop(Repository::init_opts(path, &opts)?);
    let (fresh, _) = render_config(path)?;
    std::fs::File::open(&fresh)?.sync_all()?;
    std::fs::rename(&fresh, path.join("config"))?;
    Ok(Repository::open_bare(path)?)
}

impl GitStore {
    /// Checks every repository's config against what the appliance writes:
    /// anything else (a `core.fsmonitor` command, hooks path, filter,
    /// alias...) is removed, and our own settings are put back. Returns
    /// `(project id, keys removed or restored)` for each repository that
    /// needed it. Run at start, before any git process touches a project.
    pub fn audit_configs(&self) -> Result<Vec<(String, Vec<String>)>, GitError> {
        let mut repaired = Vec::new();
        for entry in std::fs::read_dir(&self.repos)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            let Some(id) = name.strip_suffix(".git") else {
                continue;
            };
            let fixed = self.audit_config(id)?;
            if !fixed.is_empty() {
                repaired.push((id.to_string(), fixed));
            }
        }
        Ok(repaired)
    }

    fn audit_config(&self, project_id: &str) -> Result<Vec<String>, GitError> {
        let repo = self.repo_path(project_id);
        let path = repo.join("config");
        let mut fixed = Vec::new();
        for name in REDIRECTING_FILES {
            let p = repo.join(name);
            match std::fs::symlink_metadata(&p) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&p)?,
                Ok(_) => std::fs::remove_file(&p)?,
                Err(_) => continue,
            }
            fixed.push((*name).to_string());
        }
        // The config is compared as bytes with what the appliance writes, never
        // parsed by libgit2 first (which follows `include.path`, and stops at a
        // syntax error): anything else is replaced whole.
        let (fresh, want) = render_config(&repo)?;
        let current = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_file() => std::fs::read(&path).ok(),
            _ => None, // missing, a link, a FIFO: not a config we wrote
        };
        if current.as_deref() == Some(want.as_slice()) {
            std::fs::remove_file(&fresh)?;
            return Ok(fixed);
        }
        fixed.extend(match &current {
            Some(_) => foreign_keys(&path),
            None => vec!["config (missing or not a plain file)".into()],
        });
        std::fs::File::open(&fresh)?.sync_all()?;
        std::fs::rename(&fresh, &path)?;
        Ok(fixed)
    }
}

/// The keys of a config file that the canonical config does not hold with
/// the same value, for the log (read by `git config --no-includes`).
fn foreign_keys(path: &Path) -> Vec<String> {
    let mut cmd = std::process::Command::new("git");
    cmd.args(["config", "--no-includes", "--list", "-z", "--file"])
        .arg(path)
        .envs(GIT_ENV.iter().copied());
    let Ok(out) = cmd.output() else {
        return vec!["config (unreadable)".into()];
    };
    if !out.status.success() {
        return vec!["config (unreadable)".into()];
    }
    let mut keys = Vec::new();
    for item in out.stdout.split(|b| *b == 0).filter(|i| !i.is_empty()) {
        let item = String::from_utf8_lossy(item);
        let (key, value) = item.split_once('\n').unwrap_or((&item, ""));
        let key = key.to_ascii_lowercase();
        let ours = canonical_config().any(|(k, v)| k == key && v.eq_ignore_ascii_case(value));
        if !ours && !keys.contains(&key) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        keys.push("config (reformatted)".into());
    }
    keys
}

/// Copies a bare repository. It holds only what the appliance and git
/// wrote, but a link found there is not followed (`fs::copy` would copy
/// its target): it is left out.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Branch names people may choose: git's rules, kept simple and strict.
pub fn validate_branch_name(name: &str) -> Result<(), GitError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !name.starts_with(['-', '.', '/'])
        && !name.ends_with(['.', '/'])
        && !name.contains("..")
        && !name.contains("//")
        && !name.ends_with(".lock")
        && name != "HEAD"
        // git's own rules too (no component starting with '.' or ending in
        // ".lock", ...): a name it refuses would leave HEAD naming no ref.
        && git2::Reference::is_valid_name(&format!("refs/heads/{name}"));
    if ok {
        Ok(())
    } else {
        Err(GitError::Invalid(format!(
            "invalid branch name {name:?}: use letters, digits, '-', '_', '.' and '/', up to 100 characters"
        )))
    }
}

#[cfg(test)]
mod tests;

/// What [`GitStore::reconcile`] repaired.
#[derive(Debug, Default)]
pub struct Reconciled {
    pub created: Vec<String>,
    pub removed: Vec<String>,
}

impl GitStore {
    /// Brings the store in line with the database after a crash or an
    /// upgrade: leftovers of interrupted creates and deletes go, a project
    /// without a repository gets one from its template, a repository without
    /// a project goes.
    pub fn reconcile(
        &self,
        projects: &[(String, String)],
        author: &Author,
    ) -> Result<Reconciled, GitError> {
        let mut done = Reconciled::default();
        let known: std::collections::HashSet<&str> =
            projects.iter().map(|(id, _)| id.as_str()).collect();
        for entry in std::fs::read_dir(&self.repos)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            let orphan = match name.strip_suffix(".git") {
                Some(id) => !known.contains(id),
                None => name.starts_with(".new-") || name.starts_with(".deleted-"),
            };
            if orphan {
                std::fs::remove_dir_all(self.repos.join(&name))?;
                if let Some(id) = name.strip_suffix(".git") {
                    let _ = std::fs::remove_dir_all(self.worktree_path(id));
                }
                done.removed.push(name);
            }
        }
        for (id, template) in projects {
            if !self.repo_exists(id) {
                self.create(id, template, author)?;
                done.created.push(id.clone());
            }
        }
        Ok(done)
    }
}

impl GitStore {
    /// History from any ref, optionally only versions touching `path`.
    pub fn history_of(
        &self,
        project_id: &str,
        reference: &str,
        path: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<Version>, usize), GitError> {
        let repo = self.open(project_id)?;
        let start = resolve_ref(&repo, reference)?.id();
        history::log_from(&repo, start, path, skip, limit)
    }
}
