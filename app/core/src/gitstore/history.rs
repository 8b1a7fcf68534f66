//! Reading history: versions (commits) with their changed files, diffs
//! between any two versions, branches.

use super::GitError;
pub use autocrea_wire::versions::{
    AuthorKind, Branch, ChangeKind, ChangedFile, FileDiff, Person, Version,
};
use git2::{Commit, Delta, DiffOptions, Oid, Repository, Sort};

/// Commits by agent roles carry an address in this domain (`developer@agent.autocrea`).
pub const AGENT_DOMAIN: &str = "agent.autocrea";
/// Larger patches are cut, with `truncated` set.
const PATCH_LIMIT: usize = 256 * 1024;

pub fn parse_sha(sha: &str) -> Result<Oid, GitError> {
    if sha.len() < 4 || sha.len() > 40 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(GitError::Invalid(format!("{sha:?} is not a version id")));
    }
    if sha.len() == 40 {
        return Ok(Oid::from_str(sha)?);
    }
    Err(GitError::Invalid(
        "use the full 40-character version id".into(),
    ))
}

fn status_name(d: Delta) -> ChangeKind {
    match d {
        Delta::Added | Delta::Untracked | Delta::Copied => ChangeKind::Added,
        Delta::Deleted => ChangeKind::Deleted,
        Delta::Renamed => ChangeKind::Renamed,
        Delta::Typechange => ChangeKind::Typechange,
        _ => ChangeKind::Modified,
    }
}

fn person(sig: &git2::Signature) -> Person {
    let name = String::from_utf8_lossy(sig.name_bytes()).into_owned();
    let email = String::from_utf8_lossy(sig.email_bytes()).into_owned();
    let role = email
        .strip_suffix(&format!("@{AGENT_DOMAIN}"))
        .map(str::to_string);
    Person {
        name,
        email,
        kind: if role.is_some() {
            AuthorKind::Agent
        } else {
            AuthorKind::Person
        },
        role,
    }
}

fn commit_diff<'r>(repo: &'r Repository, commit: &Commit) -> Result<git2::Diff<'r>, GitError> {
    let parent_tree = match commit.parents().next() {
        Some(p) => Some(p.tree()?),
        None => None,
    };
    let mut diff = repo.diff_tree_to_tree(
        parent_tree.as_ref(),
        Some(&commit.tree()?),
        Some(&mut DiffOptions::new()),
    )?;
    diff.find_similar(None)?;
    Ok(diff)
}

pub fn version_of(repo: &Repository, commit: &Commit) -> Result<Version, GitError> {
    let diff = commit_diff(repo, commit)?;
    let files = diff
        .deltas()
        .map(|d| {
            let new = d.new_file().path().map(|p| p.to_string_lossy().to_string());
            let old = d.old_file().path().map(|p| p.to_string_lossy().to_string());
            let path = new.clone().or(old.clone()).unwrap_or_default();
            ChangedFile {
                old_path: old.filter(|o| d.status() == Delta::Renamed && Some(o) != new.as_ref()),
                path,
                status: status_name(d.status()),
            }
        })
        .collect();
    let stats = diff.stats()?;
    let sha = commit.id().to_string();
    let time = crate::clock::rfc3339(commit.author().when().seconds());
    Ok(Version {
        short_sha: sha[..7].to_string(),
        sha,
        summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        author: person(&commit.author()),
        time,
        parents: commit.parent_ids().map(|p| p.to_string()).collect(),
        files,
        additions: stats.insertions(),
        deletions: stats.deletions(),
    })
}

/// Newest first: `limit` versions after skipping `skip`, and how many there are in all.
pub fn log(
    repo: &Repository,
    branch: Option<&str>,
    skip: usize,
    limit: usize,
) -> Result<(Vec<Version>, usize), GitError> {
    let start = match branch {
        Some(b) => repo
            .find_branch(b, git2::BranchType::Local)
            .map_err(|_| GitError::NotFound("branch"))?
            .get()
            .peel_to_commit()?
            .id(),
        None => match repo.head() {
            Ok(h) => h.peel_to_commit()?.id(),
            Err(_) => return Ok((Vec::new(), 0)), // empty repository
        },
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push(start)?;
    let mut total = 0;
    let mut page = Vec::new();
    for oid in walk {
        let oid = oid?;
        if total >= skip && page.len() < limit {
            page.push(version_of(repo, &repo.find_commit(oid)?)?);
        }
        total += 1;
    }
    Ok((page, total))
}

pub fn version(repo: &Repository, sha: &str) -> Result<Version, GitError> {
    let commit = repo
        .find_commit(parse_sha(sha)?)
        .map_err(|_| GitError::NotFound("version"))?;
    version_of(repo, &commit)
}

/// Per-file unified diffs from version `from` to version `to`.
pub fn diff(repo: &Repository, from: &str, to: &str) -> Result<Vec<FileDiff>, GitError> {
    let a = repo
        .find_commit(parse_sha(from)?)
        .map_err(|_| GitError::NotFound("version"))?;
    let b = repo
        .find_commit(parse_sha(to)?)
        .map_err(|_| GitError::NotFound("version"))?;
    let mut opts = DiffOptions::new();
    opts.context_lines(3);
    let mut diff = repo.diff_tree_to_tree(Some(&a.tree()?), Some(&b.tree()?), Some(&mut opts))?;
    diff.find_similar(None)?;
    let mut out = Vec::new();
    for idx in 0..diff.deltas().len() {
        let delta = diff.get_delta(idx).expect("index in range");
        let new = delta
            .new_file()
            .path()
            .map(|p| p.to_string_lossy().to_string());
        let old = delta
            .old_file()
            .path()
            .map(|p| p.to_string_lossy().to_string());
        let mut file = FileDiff {
            path: new.clone().or(old.clone()).unwrap_or_default(),
            old_path: old.filter(|o| Some(o) != new.as_ref()),
            status: status_name(delta.status()),
            binary: delta.flags().is_binary(),
            additions: 0,
            deletions: 0,
            patch: String::new(),
            truncated: false,
        };
        if let Some(mut patch) = git2::Patch::from_diff(&diff, idx)? {
            let (_, adds, dels) = patch.line_stats()?;
            file.additions = adds;
            file.deletions = dels;
            file.binary |= patch.delta().flags().is_binary();
            let buf = patch.to_buf()?;
            let text = String::from_utf8_lossy(&buf);
            if text.len() > PATCH_LIMIT {
                file.patch = crate::text::prefix(&text, PATCH_LIMIT).to_string();
                file.truncated = true;
            } else {
                file.patch = text.into_owned();
            }
        }
        out.push(file);
    }
    Ok(out)
}

/// Like [`log`] from any ref (branch, tag or commit id), keeping only
/// versions that changed `path` (a file or a folder prefix) when given.
pub fn log_from(
    repo: &Repository,
    start: Oid,
    path: Option<&str>,
    skip: usize,
    limit: usize,
) -> Result<(Vec<Version>, usize), GitError> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    walk.push(start)?;
    let prefix = path.map(|p| format!("{}/", p.trim_end_matches('/')));
    let mut total = 0;
    let mut page = Vec::new();
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let version = if path.is_some() || (total >= skip && page.len() < limit) {
            Some(version_of(repo, &commit)?)
        } else {
            None
        };
        if let (Some(p), Some(v)) = (path, &version) {
            let touches = v.files.iter().any(|f| {
                let hit =
                    |x: &str| x == p || prefix.as_deref().is_some_and(|pre| x.starts_with(pre));
                hit(&f.path) || f.old_path.as_deref().is_some_and(hit)
            });
            if !touches {
                continue;
            }
        }
        if total >= skip && page.len() < limit {
            page.extend(version);
        }
        total += 1;
    }
    Ok((page, total))
}
