//! A project linked to an external git remote. The remote is a second git
//! server on loopback: bare repositories served by the real
//! `git http-backend` (CGI, behind a small axum shim in this file) that
//! demands the token as HTTP Basic, as GitHub, GitLab and Gitea do.

use autocrea_core::remote::webhook;
use autocrea_e2e::{Client, Git, TestServer};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode as HttpStatus, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const USER: &str = "ada";
const TOKEN: &str = "tok_Zq9c7LmB2xV4nR8w";

/// The second git server: `http://127.0.0.1:<port>/<name>.git`.
struct Remote {
    root: tempfile::TempDir,
    base: String,
    git: Git,
}

impl Remote {
    async fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_path_buf();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(move |method, uri, headers, body| {
            cgi(dir.clone(), method, uri, headers, body)
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            root,
            base,
            git: Git::new(),
        }
    }

    /// A new empty bare repository; returns its URL.
    async fn repo(&self, name: &str) -> String {
        let out = self
            .git
            .run(
                self.root.path(),
                &[
                    "init",
                    "--quiet",
                    "--bare",
                    "-b",
                    "main",
                    &format!("{name}.git"),
                ],
            )
            .await;
        assert!(out.ok, "{}", out.stderr);
        format!("{}/{name}.git", self.base)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(format!("{name}.git"))
    }

    /// The tip of `main` on the remote, if any.
    async fn tip(&self, name: &str) -> Option<String> {
        let out = self
            .git
            .run(
                &self.path(name),
                &["rev-parse", "--verify", "-q", "refs/heads/main"],
            )
            .await;
        out.ok.then(|| out.stdout.trim().to_string())
    }

    /// Someone commits on the remote directly: `path` gets `content`.
    async fn commit(&self, name: &str, path: &str, content: &str) -> String {
        let work = tempfile::tempdir().unwrap();
        let repo = self.path(name);
        let ok = |o: autocrea_e2e::GitOutput| assert!(o.ok, "{}{}", o.stdout, o.stderr);
        ok(self
            .git
            .run(
                work.path(),
                &["clone", "--quiet", repo.to_str().unwrap(), "w"],
            )
            .await);
        let w = work.path().join("w");
        std::fs::write(w.join(path), content).unwrap();
        ok(self.git.run(&w, &["add", "--all"]).await);
        ok(self
            .git
            .run(
                &w,
                &["commit", "--quiet", "-m", &format!("Remote edit of {path}")],
            )
            .await);
        ok(self
            .git
            .run(&w, &["push", "--quiet", "origin", "HEAD:main"])
            .await);
        self.tip(name).await.unwrap()
    }
}

/// `git http-backend` as CGI, behind HTTP Basic with USER:TOKEN.
async fn cgi(root: PathBuf, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TOKEN}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (
            HttpStatus::UNAUTHORIZED,
            [("www-authenticate", "Basic realm=\"git\"")],
            "authentication required",
        )
            .into_response();
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut cmd = tokio::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", &root)
        .env("GIT_PROJECT_ROOT", &root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", USER)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", method.as_str())
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await.unwrap();
    let _ = writer.await;
    let raw = out.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, sep)) = split else {
        return (
            HttpStatus::INTERNAL_SERVER_ERROR,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
            .into_response();
    };
    let mut builder = Response::builder().status(200);
    for line in String::from_utf8_lossy(&raw[..end]).lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            let code: u16 = v.split(' ').next().unwrap().parse().unwrap();
            builder = builder.status(code);
        } else {
            builder = builder.header(k.trim(), v);
        }
    }
    builder
        .body(axum::body::Body::from(raw[end + sep..].to_vec()))
        .unwrap()
}

async fn lab_server() -> TestServer {
    TestServer::start_with(|c| {
        c.remote.allow_http = true;
        c.remote.allow_loopback = true;
    })
    .await
}

async fn head(c: &Client, project: &str) -> String {
    let v = c.get(&format!("/api/v1/projects/{project}/versions")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    v.body["versions"][0]["sha"].as_str().unwrap().to_string()
}

/// Saves a file through the files API (a version each).
async fn save(c: &Client, project: &str, path: &str, content: &str) {
    let current = c
        .get(&format!("/api/v1/projects/{project}/file?path={path}"))
        .await;
    let mut body = json!({ "content": content });
    if current.status == StatusCode::OK {
        body["sha"] = current.body["sha"].clone();
    }
    let r = c
        .send(
            c.request(
                reqwest::Method::PUT,
                &format!("/api/v1/projects/{project}/file?path={path}"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn link(c: &Client, project: &str, body: Value) -> autocrea_e2e::Reply {
    c.send(
        c.request(
            reqwest::Method::PUT,
            &format!("/api/v1/projects/{project}/remote"),
        )
        .json(&body),
    )
    .await
}

/// Polls until `check` holds (background pushes and pulls), 15 s at most.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Every file under `dir` (database, WAL, repositories...) lacks `needle`.
fn assert_nowhere(dir: &Path, needle: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            assert_nowhere(&path, needle);
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds the token in clear",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mirror_pull_and_webhook() {
    let s = lab_server().await;
    let remote = Remote::start().await;
    let url = remote.repo("team/app").await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Mirrored").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Link with a token: only its last four characters come back.
    let r = link(
        &c,
        &id,
        json!({"url": url, "username": USER, "token": TOKEN, "push_mirror": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(TOKEN), "{}", r.text);
    assert_eq!(r.body["token_last4"], &TOKEN[TOKEN.len() - 4..]);
    let secret = r.body["webhook_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    assert!(r.body["webhook_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v1/hooks/remote/{id}")));
    let got = c.get(&format!("/api/v1/projects/{id}/remote")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!got.text.contains(TOKEN));
    assert!(
        got.body["remote"]["webhook_secret"].is_null(),
        "secret shown once"
    );

    // The push mirror: linking pushes what the project has...
    let first = head(&c, &id).await;
    until("the first mirror push", || async {
        remote.tip("team/app").await.as_deref() == Some(first.as_str())
    })
    .await;
    // ...and each new version follows.
    save(&c, &id, "about.html", "<h1>About</h1>\n").await;
    let second = head(&c, &id).await;
    assert_ne!(first, second);
    until("the mirror push of a new version", || async {
        remote.tip("team/app").await.as_deref() == Some(second.as_str())
    })
    .await;
    let pushed = c.get(&format!("/api/v1/projects/{id}/remote")).await.body;
    assert_eq!(pushed["remote"]["last_push"]["sha"], second.as_str());
    assert!(pushed["remote"]["last_push"]["error"].is_null());

    // A commit made on the remote comes in as a version by Pull now.
    let theirs = remote
        .commit("team/app", "remote.txt", "from outside\n")
        .await;
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/pull"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["outcome"], "fast_forward");
    assert_eq!(head(&c, &id).await, theirs);
    let f = c
        .get(&format!("/api/v1/projects/{id}/file?path=remote.txt"))
        .await;
    assert_eq!(f.body["content"], "from outside\n");
    // The working tree followed.
    let wt = s.data_dir().join("worktrees").join(&id).join("remote.txt");
    assert_eq!(std::fs::read_to_string(wt).unwrap(), "from outside\n");

    // The webhook: a bad signature is refused, a good one pulls.
    let hook = format!("{}/api/v1/hooks/remote/{id}", s.url);
    let http = reqwest::Client::new();
    let event = json!({"ref": "refs/heads/main", "after": "x"}).to_string();
    let bad = github_delivery(&hook, b"wrong", &event).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let unsigned = http.post(&hook).body(event.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    // Another branch is ignored (signed as Gitea signs).
    let other = json!({"ref": "refs/heads/feature"}).to_string();
    let r = http
        .post(&hook)
        .header(
            "x-gitea-signature",
            webhook::sign(secret.as_bytes(), other.as_bytes()),
        )
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["pull"], false);

    let third = remote
        .commit("team/app", "hooked.txt", "by webhook\n")
        .await;
    let r = github_delivery(&hook, secret.as_bytes(), &event).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["pull"], true);
    until("the webhook's pull", || async {
        head(&c, &id).await == third
    })
    .await;

    // A wrong token: the push fails with git's reason, the token nowhere.
    let wrong = "tok_wrong_Kd93hQ1p";
    let r = link(
        &c,
        &id,
        json!({"url": url, "username": USER, "token": wrong, "push_mirror": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    assert_eq!(r.code(), "remote_failed");
    assert!(
        !r.text.contains(wrong) && !r.text.contains(TOKEN),
        "{}",
        r.text
    );
    let got = c.get(&format!("/api/v1/projects/{id}/remote")).await;
    assert!(got.body["remote"]["last_push"]["error"].is_string());
    assert!(!got.text.contains(wrong));

    // The tokens are nowhere on disk in clear: database, WAL, repositories.
    assert_nowhere(&s.data_dir(), TOKEN);
    assert_nowhere(&s.data_dir(), wrong);
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TOKEN}"));
    assert_nowhere(&s.data_dir(), &b64);

    // Another user's project is 404; unlinking works for the owner.
    let other_user = s.user("eve@example.com").await;
    let r = other_user
        .get(&format!("/api/v1/projects/{id}/remote"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c.delete(&format!("/api/v1/projects/{id}/remote")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = github_delivery(&hook, secret.as_bytes(), &event).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no link, no pull");
    s.stop().await;
}

/// Links a fresh project to a fresh remote repository and pushes once.
/// A push event delivered to `hook` as GitHub signs it, with `secret`.
async fn github_delivery(hook: &str, secret: &[u8], event: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(hook)
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", webhook::sign(secret, event.as_bytes())),
        )
        .body(event.to_string())
        .send()
        .await
        .unwrap()
}

async fn linked(s: &TestServer, c: &Client, remote: &Remote, name: &str) -> (String, String) {
    // By name: the host is resolved, checked, and git pinned to its addresses.
    let url = remote.repo(name).await.replace("127.0.0.1", "localhost");
    let id = c.new_project(name).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = link(
        c,
        &id,
        json!({"url": url, "username": USER, "token": TOKEN, "push_mirror": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(remote.tip(name).await, Some(head(c, &id).await));
    let _ = s;
    (id, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_divergence_conflicts_and_merges() {
    let s = lab_server().await;
    let remote = Remote::start().await;
    let c = s.user("ada@example.com").await;

    // Both sides change README.md's first line: a conflict, nothing moves.
    let (id, _) = linked(&s, &c, &remote, "clash").await;
    save(&c, &id, "README.md", "# Changed here\n").await;
    let local = head(&c, &id).await;
    let theirs = remote
        .commit("clash", "README.md", "# Changed there\n")
        .await;
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/pull"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["outcome"], "conflict", "{}", r.text);
    let conflict = &r.body["remote"]["conflict"];
    assert_eq!(conflict["paths"], json!(["README.md"]));
    assert_eq!(conflict["local_sha"], local.as_str());
    assert_eq!(conflict["remote_sha"], theirs.as_str());
    assert!(conflict["advice"]
        .as_str()
        .unwrap()
        .contains("Nothing was changed"));
    assert_eq!(head(&c, &id).await, local, "the local branch is unchanged");
    let f = c
        .get(&format!("/api/v1/projects/{id}/file?path=README.md"))
        .await;
    assert_eq!(f.body["content"], "# Changed here\n");
    // The conflict stays visible, and a push is refused, never forced.
    let got = c.get(&format!("/api/v1/projects/{id}/remote")).await;
    assert_eq!(
        got.body["remote"]["conflict"]["paths"],
        json!(["README.md"])
    );
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.code(), "remote_has_changes");
    assert!(r.message().contains("pull first"));
    assert_eq!(remote.tip("clash").await.as_deref(), Some(theirs.as_str()));

    // A webhook-triggered pull meets a conflict too: it is recorded (the
    // remote's new tip) and nothing here moves.
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/webhook-secret"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let secret = r.body["webhook_secret"].as_str().unwrap().to_string();
    let again = remote
        .commit("clash", "README.md", "# Changed there again\n")
        .await;
    let event = json!({"ref": "refs/heads/main"}).to_string();
    let delivered = github_delivery(
        &format!("{}/api/v1/hooks/remote/{id}", s.url),
        secret.as_bytes(),
        &event,
    )
    .await;
    assert_eq!(delivered.status(), StatusCode::ACCEPTED);
    until("the webhook's pull to record the conflict", || async {
        let got = c.get(&format!("/api/v1/projects/{id}/remote")).await;
        got.body["remote"]["conflict"]["remote_sha"] == again.as_str()
    })
    .await;
    assert_eq!(head(&c, &id).await, local, "the local branch is unchanged");

    // Different files on each side: the pull merges them as one version.
    let (id, _) = linked(&s, &c, &remote, "apart").await;
    save(&c, &id, "local.txt", "mine\n").await;
    let local = head(&c, &id).await;
    let theirs = remote.commit("apart", "remote.txt", "theirs\n").await;
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/pull"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["outcome"], "merged", "{}", r.text);
    let merged = head(&c, &id).await;
    assert_ne!(merged, local);
    let v = c
        .get(&format!("/api/v1/projects/{id}/versions/{merged}"))
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    for (path, content) in [("local.txt", "mine\n"), ("remote.txt", "theirs\n")] {
        let f = c
            .get(&format!("/api/v1/projects/{id}/file?path={path}"))
            .await;
        assert_eq!(f.body["content"], content);
    }
    // Both tips are parents of the merge.
    let repo = s.data_dir().join("repos").join(format!("{id}.git"));
    let parents = remote
        .git
        .run(
            &repo,
            &["rev-parse", &format!("{merged}^1"), &format!("{merged}^2")],
        )
        .await;
    assert_eq!(
        parents.stdout.split_whitespace().collect::<Vec<_>>(),
        [local.as_str(), theirs.as_str()]
    );
    // The remote then takes the merge as a fast-forward.
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(remote.tip("apart").await, Some(merged));
    Git::new().assert_fsck(&repo).await;

    // A remote that started on its own (GitHub's "initialize with a
    // README"): the push is refused until a pull joins the two histories.
    let url = remote.repo("separate").await;
    remote.commit("separate", "LICENSE", "MIT\n").await;
    let id = c.new_project("Separate").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = link(
        &c,
        &id,
        json!({"url": url, "username": USER, "token": TOKEN}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/pull"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["outcome"], "merged", "{}", r.text);
    let f = c
        .get(&format!("/api/v1/projects/{id}/file?path=LICENSE"))
        .await;
    assert_eq!(f.body["content"], "MIT\n");
    let r = c
        .post_empty(&format!("/api/v1/projects/{id}/remote/push"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(remote.tip("separate").await, Some(head(&c, &id).await));
    s.stop().await;
}

#[tokio::test]
async fn remote_urls_are_checked() {
    // The defaults: https only, no loopback.
    let s = TestServer::start().await;
    let c = s.user("ada@example.com").await;
    let id = c.new_project("Strict").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (url, hint) in [
        ("https://ada:hunter2pass@example.com/a.git", "token"),
        ("ftp://example.com/a.git", "https://"),
        ("ext::sh", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://127.0.0.1/a.git", "loopback"),
        ("https://localhost/a.git", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("http://10.0.0.1/a.git", "https"),
    ] {
        let r = link(&c, &id, json!({"url": url, "push_mirror": false})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert!(r.message().contains(hint), "{url}: {}", r.text);
        assert!(!r.text.contains("hunter2pass"), "{}", r.text);
    }
    // The host's container networks (Docker's default bridge here) are
    // refused: git on the host must not reach other projects' containers.
    // An address on the first bridge network in the routing table.
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let gateway = route.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let bridge = std::path::Path::new("/sys/class/net")
            .join(f.first()?)
            .join("bridge")
            .exists();
        let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
        (bridge && *f.get(2)? == "00000000").then(|| {
            let net = std::net::Ipv4Addr::from(dest.to_ne_bytes());
            std::net::Ipv4Addr::from(u32::from(net) + 1).to_string()
        })
    });
    if let Some(gw) = gateway {
        let url = format!("https://{gw}/team/app.git");
        let r = link(&c, &id, json!({"url": url, "push_mirror": false})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert!(r.message().contains("container networks"), "{}", r.text);
    }
    // Nothing was stored.
    let r = c.get(&format!("/api/v1/projects/{id}/remote")).await;
    assert!(r.body["remote"].is_null(), "{}", r.text);
    // A private network is fine (the company's GitLab).
    let r = link(
        &c,
        &id,
        json!({"url": "https://10.0.0.1/team/app.git", "token": "glpat-abcdefgh1234"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["token_last4"], "1234");
    // The stored token is not sent to a new host unless it is given again.
    let r = link(&c, &id, json!({"url": "https://10.0.0.2/team/app.git"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.message().contains("token again"), "{}", r.text);
    let r = link(&c, &id, json!({"url": "https://10.0.0.1/team/other.git"})).await;
    assert_eq!(r.status, StatusCode::OK, "same host: {}", r.text);
    assert_eq!(r.body["token_last4"], "1234");
    // A bad branch name, a user name with ':'.
    let r = link(
        &c,
        &id,
        json!({"url": "https://10.0.0.1/a.git", "branch": "../x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = link(
        &c,
        &id,
        json!({"url": "https://10.0.0.1/a.git", "username": "a:b"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // The webhook of an unknown project says no more than a bad signature.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/hooks/remote/nosuchproject", s.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}
