//! Gitea's JSON shapes, built from our users, projects and git objects.

use autocrea_core::accounts::User;
use autocrea_core::clock::rfc3339;
use autocrea_core::gitstore::{Entry, Version};
use autocrea_core::projects::Project;
use serde_json::{json, Value};

pub fn user(u: &User, base: &str) -> Value {
    json!({
        "id": u.id,
        "login": u.username,
        "login_name": "",
        "source_id": 0,
        "full_name": u.name,
        "email": u.email,
        "avatar_url": format!("{base}/assets/favicon.svg"),
        "html_url": format!("{base}/git/{}", u.username),
        "language": "",
        "is_admin": u.is_admin,
        "last_login": rfc3339(u.created_at),
        "created": rfc3339(u.created_at),
        "restricted": false,
        "active": !u.disabled,
        "prohibit_login": u.disabled,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "private",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
        "username": u.username,
    })
}

pub struct RepoFacts {
    pub empty: bool,
    pub default_branch: String,
    pub size_kib: u64,
}

pub fn repository(p: &Project, owner: &User, facts: &RepoFacts, base: &str) -> Value {
    let full = format!("{}/{}", owner.username, p.slug);
    json!({
        "id": p.seq,
        "owner": user(owner, base),
        "name": p.slug,
        "full_name": full,
        "description": p.description,
        "empty": facts.empty,
        "private": true,
        "fork": false,
        "template": false,
        "parent": null,
        "mirror": false,
        "size": facts.size_kib,
        "language": "",
        "languages_url": format!("{base}/git/api/v1/repos/{full}/languages"),
        "html_url": format!("{base}/projects/{}", p.id),
        "url": format!("{base}/git/api/v1/repos/{full}"),
        "link": "",
        "ssh_url": "",
        "clone_url": format!("{base}/git/{full}.git"),
        "original_url": "",
        "website": "",
        "stars_count": 0,
        "forks_count": 0,
        "watchers_count": 0,
        "open_issues_count": 0,
        "open_pr_counter": 0,
        "release_counter": 0,
        "default_branch": facts.default_branch,
        "archived": false,
        "created_at": rfc3339(p.created_at),
        "updated_at": rfc3339(p.updated_at),
        "archived_at": "1970-01-01T00:00:00Z",
        "permissions": { "admin": true, "push": true, "pull": true },
        "has_issues": false,
        "has_wiki": false,
        "has_pull_requests": false,
        "has_projects": false,
        "has_releases": false,
        "has_packages": false,
        "has_actions": false,
        "ignore_whitespace_conflicts": false,
        "allow_merge_commits": false,
        "allow_rebase": false,
        "allow_rebase_explicit": false,
        "allow_squash_merge": false,
        "allow_rebase_update": false,
        "default_delete_branch_after_merge": false,
        "default_merge_style": "merge",
        "default_allow_maintainer_edit": false,
        "avatar_url": "",
        "internal": false,
        "mirror_interval": "",
        "object_format_name": "sha1",
        "mirror_updated": "0001-01-01T00:00:00Z",
        "repo_transfer": null,
        "topics": [],
        "licenses": [],
    })
}

/// `ContentsResponse`; `content` is base64 for files, absent for folder listings.
pub fn contents(
    entry: &Entry,
    last_commit: &str,
    content_b64: Option<String>,
    repo_url: &str,
    base: &str,
    full: &str,
    reference: &str,
) -> Value {
    let self_url = format!("{repo_url}/contents/{}?ref={reference}", entry.path);
    let git_url = format!(
        "{repo_url}/git/{}s/{}",
        if entry.kind == "dir" { "tree" } else { "blob" },
        entry.sha
    );
    let html_url = format!("{base}/git/{full}/src/branch/{reference}/{}", entry.path);
    json!({
        "name": entry.name,
        "path": entry.path,
        "sha": entry.sha,
        "last_commit_sha": last_commit,
        "type": entry.kind,
        "size": entry.size,
        "encoding": if content_b64.is_some() { Value::from("base64") } else { Value::Null },
        "content": content_b64,
        "target": null,
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": if entry.kind == "file" { Value::from(format!("{base}/git/{full}/raw/branch/{reference}/{}", entry.path)) } else { Value::Null },
        "submodule_git_url": null,
        "_links": { "self": self_url, "git": git_url, "html": html_url },
    })
}

fn commit_user(v: &Version) -> Value {
    json!({ "name": v.author.name, "email": v.author.email, "date": v.time })
}

/// `FileCommitResponse` (inside create/update/delete file replies).
pub fn file_commit(v: &Version, repo_url: &str, base: &str, full: &str) -> Value {
    json!({
        "url": format!("{repo_url}/git/commits/{}", v.sha),
        "sha": v.sha,
        "created": v.time,
        "html_url": format!("{base}/git/{full}/commit/{}", v.sha),
        "author": commit_user(v),
        "committer": commit_user(v),
        "parents": v.parents.iter().map(|p| json!({ "url": format!("{repo_url}/git/commits/{p}"), "sha": p, "created": v.time })).collect::<Vec<_>>(),
        "message": v.message,
        "tree": { "url": format!("{repo_url}/git/trees/{}", v.sha), "sha": v.sha, "created": v.time },
    })
}

pub fn verification() -> Value {
    json!({ "verified": false, "reason": "gpg.error.not_signed_commit", "signature": "", "signer": null, "payload": "" })
}

/// `Commit` as listed by `/commits` and `/git/commits/{sha}`.
pub fn commit(v: &Version, repo_url: &str, base: &str, full: &str) -> Value {
    json!({
        "url": format!("{repo_url}/git/commits/{}", v.sha),
        "sha": v.sha,
        "created": v.time,
        "html_url": format!("{base}/git/{full}/commit/{}", v.sha),
        "commit": {
            "url": format!("{repo_url}/git/commits/{}", v.sha),
            "author": commit_user(v),
            "committer": commit_user(v),
            "message": v.message,
            "tree": { "url": format!("{repo_url}/git/trees/{}", v.sha), "sha": v.sha, "created": v.time },
            "verification": verification(),
        },
        "author": null,
        "committer": null,
        "parents": v.parents.iter().map(|p| json!({ "url": format!("{repo_url}/git/commits/{p}"), "sha": p, "created": v.time })).collect::<Vec<_>>(),
        "files": v.files.iter().map(|f| json!({ "filename": f.path, "status": f.status })).collect::<Vec<_>>(),
        "stats": { "total": v.additions + v.deletions, "additions": v.additions, "deletions": v.deletions },
    })
}

/// `Branch` with its head as `PayloadCommit`.
pub fn branch(name: &str, head: &Version, repo_url: &str) -> Value {
    let person = json!({ "name": head.author.name, "email": head.author.email, "username": "" });
    json!({
        "name": name,
        "commit": {
            "id": head.sha,
            "message": head.message,
            "url": format!("{repo_url}/git/commits/{}", head.sha),
            "author": person,
            "committer": person,
            "verification": null,
            "timestamp": head.time,
            "added": null,
            "removed": null,
            "modified": null,
        },
        "protected": false,
        "required_approvals": 0,
        "enable_status_check": false,
        "status_check_contexts": [],
        "user_can_push": true,
        "user_can_merge": true,
        "effective_branch_protection_name": "",
    })
}
