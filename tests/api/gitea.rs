//! The Gitea-compatible API against Gitea's JSON shapes and status codes.

use autocrea_e2e::{Client, Git, TestServer, PASSWORD};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

const API: &str = "/git/api/v1";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn basic(login: &str, password: &str) -> String {
    format!("Basic {}", b64(&format!("{login}:{password}")))
}

fn has_keys(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(*k).is_some(), "missing {k} in {v}");
    }
}

async fn setup() -> (TestServer, Client, String) {
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let token = c.new_token("gitea").await;
    (s, c, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_user_and_repositories() {
    let (s, _c, token) = setup().await;
    let t = s.with_token(&token);
    let anon = s.browser();

    let r = anon.get(&format!("{API}/version")).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.body["version"].as_str().unwrap();
    let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(
        parts[0] == 1 && parts[1] >= 21,
        "semver at or above 1.21: {v}"
    );

    let r = anon.get(&format!("{API}/user")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body["message"].is_string() && r.body["url"].is_string(),
        "Gitea's error shape: {}",
        r.text
    );

    let me = t.get(&format!("{API}/user")).await;
    assert_eq!(me.status, StatusCode::OK);
    has_keys(
        &me.body,
        &[
            "id",
            "login",
            "full_name",
            "email",
            "avatar_url",
            "is_admin",
            "created",
            "username",
        ],
    );
    assert_eq!(me.body["login"], "ada");
    // The same with `Authorization: token ...` and with Basic.
    let rb = t
        .http
        .get(format!("{}{API}/user", s.url))
        .header("authorization", format!("token {token}"));
    assert_eq!(t.send(rb).await.status, StatusCode::OK);
    let rb = t
        .http
        .get(format!("{}{API}/user", s.url))
        .header("authorization", basic("ada", PASSWORD));
    assert_eq!(t.send(rb).await.status, StatusCode::OK);

    // Create: a project in the UI too.
    let r = t.post(&format!("{API}/user/repos"), json!({"name": "tools", "description": "CLI tools", "auto_init": true, "private": false})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    has_keys(
        &r.body,
        &[
            "id",
            "owner",
            "name",
            "full_name",
            "description",
            "empty",
            "private",
            "fork",
            "size",
            "html_url",
            "clone_url",
            "default_branch",
            "created_at",
            "updated_at",
            "permissions",
        ],
    );
    assert_eq!(
        (
            r.body["full_name"].as_str(),
            r.body["empty"].as_bool(),
            r.body["default_branch"].as_str()
        ),
        (Some("ada/tools"), Some(false), Some("main"))
    );
    assert!(r.body["clone_url"]
        .as_str()
        .unwrap()
        .ends_with("/git/ada/tools.git"));
    assert!(r.body["id"].is_i64());
    let projects = t.get("/api/v1/projects").await;
    assert_eq!(
        projects.body["projects"][0]["name"], "tools",
        "a repository is a project"
    );
    let r = t
        .post(&format!("{API}/user/repos"), json!({"name": "tools"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = t
        .post(&format!("{API}/user/repos"), json!({"name": "../x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .post(&format!("{API}/user/repos"), json!({"name": "empty-one"}))
        .await;
    assert_eq!(r.body["empty"], true);

    // And the reverse: a project made in the UI is a repository.
    t.new_project("From the UI").await;
    let list = t.get(&format!("{API}/user/repos?limit=2&page=1")).await;
    assert_eq!(list.headers["x-total-count"], "3");
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    assert!(list.headers["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    let past = t.get(&format!("{API}/user/repos?limit=2&page=5")).await;
    assert_eq!(past.body, json!([]), "an empty list past the last page");
    let names: Vec<String> = t
        .get(&format!("{API}/users/ada/repos"))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["empty-one", "from-the-ui", "tools"]);

    // Someone else sees none of it.
    let bob = s.user("bob@example.com").await;
    let bob = s.with_token(&bob.new_token("x").await);
    assert_eq!(
        bob.get(&format!("{API}/users/ada/repos")).await.body,
        json!([])
    );
    assert_eq!(
        bob.get(&format!("{API}/repos/ada/tools")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.delete(&format!("{API}/repos/ada/tools")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("{API}/users/nobody/repos")).await.status,
        StatusCode::NOT_FOUND
    );

    let r = t.get(&format!("{API}/repos/ada/tools")).await;
    assert_eq!(r.body["description"], "CLI tools");
    let r = t
        .patch(
            &format!("{API}/repos/ada/tools"),
            json!({"description": "Better tools"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["description"].as_str()),
        (StatusCode::OK, Some("Better tools"))
    );
    assert_eq!(
        t.delete(&format!("{API}/repos/ada/empty-one")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.get(&format!("{API}/repos/ada/empty-one")).await.status,
        StatusCode::NOT_FOUND
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_branches_and_commits() {
    let (s, _c, token) = setup().await;
    let t = s.with_token(&token);
    let repo = format!("{API}/repos/ada/site");
    t.post(&format!("{API}/user/repos"), json!({"name": "site"}))
        .await;

    // An empty repository: commits are 409, contents 404.
    let r = t.get(&format!("{repo}/commits")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(
        t.get(&format!("{repo}/contents")).await.status,
        StatusCode::NOT_FOUND
    );

    let r = t
        .post(
            &format!("{repo}/contents/docs/readme.md"),
            json!({"content": b64("# Hello\n"), "message": "Add a readme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    has_keys(&r.body, &["content", "commit", "verification"]);
    has_keys(
        &r.body["content"],
        &[
            "name",
            "path",
            "sha",
            "type",
            "size",
            "url",
            "html_url",
            "git_url",
            "download_url",
            "_links",
        ],
    );
    has_keys(
        &r.body["commit"],
        &[
            "sha",
            "url",
            "author",
            "committer",
            "message",
            "tree",
            "parents",
        ],
    );
    assert_eq!(
        (
            r.body["content"]["path"].as_str(),
            r.body["content"]["type"].as_str()
        ),
        (Some("docs/readme.md"), Some("file"))
    );
    let sha1 = r.body["content"]["sha"].as_str().unwrap().to_string();
    let r = t
        .post(
            &format!("{repo}/contents/docs/readme.md"),
            json!({"content": b64("again")}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "creating over an existing file"
    );

    let r = t
        .get(&format!("{repo}/contents/docs/readme.md?ref=main"))
        .await;
    assert_eq!(
        (r.body["encoding"].as_str(), r.body["content"].as_str()),
        (Some("base64"), Some(b64("# Hello\n").as_str()))
    );
    let dir = t.get(&format!("{repo}/contents/docs")).await;
    assert_eq!(dir.body[0]["name"], "readme.md");
    assert!(dir.body[0]["content"].is_null());
    let root = t.get(&format!("{repo}/contents")).await;
    assert_eq!(
        (root.body[0]["name"].as_str(), root.body[0]["type"].as_str()),
        (Some("docs"), Some("dir"))
    );

    let r = t.send(t.request(reqwest::Method::PUT, &format!("{repo}/contents/docs/readme.md")).json(&json!({"content": b64("# Hi\n"), "sha": "0000000000000000000000000000000000000000"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale sha is refused");
    let r = t
        .send(
            t.request(
                reqwest::Method::PUT,
                &format!("{repo}/contents/docs/readme.md"),
            )
            .json(&json!({"content": b64("# Hi\n"), "sha": sha1, "message": "Shorter"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sha2 = r.body["content"]["sha"].as_str().unwrap().to_string();
    for bad in [
        "..%2Fetc",
        "%2Fetc%2Fpasswd",
        ".git/config",
        "a%2F..%2Fb",
        "x%00y",
    ] {
        let r = t
            .post(
                &format!("{repo}/contents/{bad}"),
                json!({"content": b64("x")}),
            )
            .await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::NOT_FOUND,
            "{bad}: {}",
            r.status
        );
    }

    // Branches.
    let r = t
        .post(
            &format!("{repo}/branches"),
            json!({"new_branch_name": "draft", "old_branch_name": "main"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    has_keys(&r.body, &["name", "commit", "protected", "user_can_push"]);
    has_keys(
        &r.body["commit"],
        &["id", "message", "url", "author", "committer", "timestamp"],
    );
    let r = t
        .post(
            &format!("{repo}/contents/draft.txt"),
            json!({"content": b64("wip"), "branch": "draft"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let branches = t.get(&format!("{repo}/branches")).await;
    let names: Vec<&str> = branches
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["draft", "main"]);
    assert_eq!(
        t.get(&format!("{repo}/branches/draft")).await.body["name"],
        "draft"
    );
    assert_eq!(
        t.get(&format!("{repo}/branches/nope")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&format!("{repo}/contents/draft.txt?ref=main"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&format!("{repo}/contents/draft.txt?ref=draft"))
            .await
            .status,
        StatusCode::OK
    );

    // Commits with paging headers, sha and path filters.
    let r = t.get(&format!("{repo}/commits?limit=1")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (
            r.headers["x-total"].to_str().unwrap(),
            r.headers["x-hasmore"].to_str().unwrap()
        ),
        ("2", "true")
    );
    assert_eq!(r.headers["x-pagecount"], "2");
    has_keys(
        &r.body[0],
        &[
            "sha", "url", "html_url", "commit", "parents", "files", "stats", "created",
        ],
    );
    assert_eq!(r.body[0]["commit"]["message"], "Shorter");
    assert_eq!(
        t.get(&format!("{repo}/commits?page=9")).await.body,
        json!([])
    );
    assert_eq!(
        t.get(&format!("{repo}/commits?sha=draft")).await.headers["x-total"],
        "3"
    );
    assert_eq!(
        t.get(&format!("{repo}/commits?sha=draft&path=draft.txt"))
            .await
            .headers["x-total"],
        "1"
    );
    let first = t.get(&format!("{repo}/commits?page=2&limit=1")).await.body[0]["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t.get(&format!("{repo}/git/commits/{first}")).await;
    assert_eq!(
        (r.status, r.body["sha"].as_str()),
        (StatusCode::OK, Some(first.as_str()))
    );
    assert_eq!(
        t.get(&format!("{repo}/git/commits/{}", "1".repeat(40)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let r = t
        .send(
            t.request(
                reqwest::Method::DELETE,
                &format!("{repo}/contents/docs/readme.md"),
            )
            .json(&json!({"sha": sha2})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["content"].is_null());
    has_keys(&r.body["commit"], &["sha"]);
    assert_eq!(
        t.delete(&format!("{repo}/branches/main")).await.status,
        StatusCode::CONFLICT,
        "not the default branch"
    );
    assert_eq!(
        t.delete(&format!("{repo}/branches/draft")).await.status,
        StatusCode::NO_CONTENT
    );

    // The repository stays clean and clonable.
    let project = t.get("/api/v1/projects").await.body["projects"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Git::new()
        .assert_fsck(&s.data_dir().join("repos").join(format!("{project}.git")))
        .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_need_basic_auth_and_a_scope_and_read_only_tokens_cannot_write() {
    let (s, _c, token) = setup().await;
    let http = reqwest::Client::new();
    let url = format!("{}{API}/users/ada/tokens", s.url);
    let r = http
        .post(&url)
        .header("authorization", format!("token {token}"))
        .json(&json!({"name": "ci", "scopes": ["write:repository"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a token cannot mint tokens"
    );
    let r = http
        .post(&url)
        .header("authorization", basic("ada", PASSWORD))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "at least one scope"
    );
    let r = http
        .post(&url)
        .header("authorization", basic("ada", PASSWORD))
        .json(&json!({"name": "ci", "scopes": ["read:repository"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    for k in ["id", "name", "sha1", "token_last_eight", "scopes"] {
        assert!(created.get(k).is_some(), "{k}");
    }
    let read_only = created["sha1"].as_str().unwrap().to_string();
    assert_eq!(
        created["token_last_eight"].as_str().unwrap(),
        &read_only[read_only.len() - 8..]
    );

    let ro = s.with_token(&read_only);
    assert_eq!(ro.get(&format!("{API}/user")).await.status, StatusCode::OK);
    let r = ro
        .post(&format!("{API}/user/repos"), json!({"name": "nope"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "read-only scopes cannot write"
    );
    assert_eq!(
        ro.post("/api/v1/projects", json!({"name": "nope"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let list: Value = http
        .get(&url)
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ci = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap();
    assert_eq!(ci["sha1"], "", "never the secret again");
    assert_eq!(ci["scopes"], json!(["read:repository"]));
    let r = http
        .delete(format!("{url}/ci"))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ro.get(&format!("{API}/user")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = http
        .get(format!("{}{API}/users/bob/tokens", s.url))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Read-only tokens cannot push with git either.
    let r = http
        .post(&url)
        .header("authorization", basic("ada", PASSWORD))
        .json(&json!({"name": "pull-only", "scopes": ["read:repository"]}))
        .send()
        .await
        .unwrap();
    let pull_only = r.json::<Value>().await.unwrap()["sha1"]
        .as_str()
        .unwrap()
        .to_string();
    s.with_token(&token)
        .post(
            &format!("{API}/user/repos"),
            json!({"name": "lib", "auto_init": true}),
        )
        .await;
    let git = Git::new();
    let work = tempfile::tempdir().unwrap();
    let host = s.url.trim_start_matches("http://");
    let out = git
        .run(
            work.path(),
            &[
                "clone",
                &format!("http://ada:{pull_only}@{host}/git/ada/lib.git"),
                "lib",
            ],
        )
        .await;
    assert!(out.ok, "read scopes may clone: {}", out.stderr);
    std::fs::write(work.path().join("lib/x.txt"), "x").unwrap();
    git.run(&work.path().join("lib"), &["add", "."]).await;
    git.run(&work.path().join("lib"), &["commit", "-qm", "x"])
        .await;
    let out = git.run(&work.path().join("lib"), &["push"]).await;
    assert!(!out.ok, "read scopes may not push");
    s.stop().await;
}

/// A default branch other than `main`: the name the client gives at
/// creation is the project's default branch, with or without a first
/// commit; a repository created empty takes the first branch pushed to it;
/// the appliance's own views (versions, publish) follow that branch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_branches_other_than_main() {
    let (s, c, token) = setup().await;
    let t = s.with_token(&token);

    let r = t
        .post(
            &format!("{API}/user/repos"),
            json!({"name": "trunk-app", "auto_init": true, "default_branch": "trunk"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["default_branch"], "trunk");
    let branches = t.get(&format!("{API}/repos/ada/trunk-app/branches")).await;
    let names: Vec<&str> = branches
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["trunk"]);

    // Empty, for `master`: a push of master makes it the project's branch.
    let r = t
        .post(
            &format!("{API}/user/repos"),
            json!({"name": "legacy", "auto_init": false, "default_branch": "master"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["default_branch"], "master");
    assert_eq!(r.body["empty"], true);
    let project_id = c.get("/api/v1/projects").await.body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "legacy")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let git = Git::new();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert!(git.run(w, &["init", "-q", "-b", "master", "."]).await.ok);
    std::fs::write(w.join("index.html"), "<h1>Legacy</h1>\n").unwrap();
    assert!(git.run(w, &["add", "-A"]).await.ok);
    assert!(git.run(w, &["commit", "-qm", "First on master"]).await.ok);
    let url = s.git_url("ada", &token, "ada", "legacy");
    let out = git.run(w, &["push", "-q", &url, "master"]).await;
    assert!(out.ok, "{}", out.stderr);
    let repo = t.get(&format!("{API}/repos/ada/legacy")).await;
    assert_eq!(repo.body["default_branch"], "master");
    assert_eq!(repo.body["empty"], false);
    let versions = c
        .get(&format!("/api/v1/projects/{project_id}/versions"))
        .await;
    assert_eq!(
        versions.body["versions"][0]["summary"], "First on master",
        "{}",
        versions.text
    );
    let d = autocrea_e2e::apps::publish(&c, &project_id, None, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(d["status"], "ready", "{d}");

    // Empty for `main`, but the client pushes only `develop`: it becomes the default.
    let r = t
        .post(
            &format!("{API}/user/repos"),
            json!({"name": "other", "auto_init": false}),
        )
        .await;
    assert_eq!(r.body["default_branch"], "main");
    let url = s.git_url("ada", &token, "ada", "other");
    let out = git.run(w, &["push", "-q", &url, "master:develop"]).await;
    assert!(out.ok, "{}", out.stderr);
    let repo = t.get(&format!("{API}/repos/ada/other")).await;
    assert_eq!(repo.body["default_branch"], "develop");

    // A name git would refuse is refused with Gitea's 422.
    for bad in ["-x", "a..b", "HEAD", "with space"] {
        let r = t
            .post(
                &format!("{API}/user/repos"),
                json!({"name": format!("bad-{}", bad.len()), "default_branch": bad}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
}
