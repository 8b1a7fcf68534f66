//! Test support: the real server on 127.0.0.1:0 with a temporary data
//! folder, and HTTP clients that behave like a browser (cookies + CSRF) or
//! like a script (API token).

pub mod apps;
pub mod preview;
pub mod scripted;

pub use preview::Preview;

use autocrea_core::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    /// This server's label on the Docker engine: its containers go when it does.
    pub sandbox_instance: String,
    config: Config,
    running: Option<autocrea::server::Running>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        // Tests that need the local model start a worker of their own.
        config.llm.worker = false;
        // Sandbox tests ask for a warm pool when they test it.
        config.sandbox.warm_pool = 0;
        adjust(&mut config);
        let running = autocrea::server::start(config.clone())
            .await
            .expect("server starts");
        Self {
            url: format!("http://{}", running.addr),
            dir,
            sandbox_instance: running.state.sandboxes.instance().to_string(),
            config,
            running: Some(running),
        }
    }

    /// Stops the server and starts a new one on the same data folder and port.
    pub async fn restart(mut self) -> Self {
        let addr = self.running.as_ref().unwrap().addr;
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let mut config = self.config.clone();
        config.listen = addr;
        let running = autocrea::server::start(config)
            .await
            .expect("server restarts");
        self.running = Some(running);
        self
    }

    pub fn state(&self) -> &autocrea::state::AppState {
        &self.running.as_ref().unwrap().state
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.as_ref().unwrap().addr
    }

    pub fn pool(&self) -> &sqlx_pool::Pool {
        &self.running.as_ref().unwrap().state.pool
    }

    /// A client with a cookie jar, like a browser.
    pub fn browser(&self) -> Client {
        Client::new(&self.url, None)
    }

    /// A client that sends `Authorization: Bearer <token>`.
    pub fn with_token(&self, token: &str) -> Client {
        Client::new(&self.url, Some(token.to_string()))
    }

    /// Signs up a new person in a fresh browser and returns that browser.
    pub async fn user(&self, email: &str) -> Client {
        let c = self.browser();
        let r = c
            .post(
                "/api/v1/auth/signup",
                json!({ "email": email, "name": "Test User", "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "signup {email}: {}", r.body);
        c
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

impl Drop for TestServer {
    /// Sandboxes outlive a server on purpose (a restart adopts them); a
    /// test server's go with it.
    fn drop(&mut self) {
        remove_sandboxes(&self.sandbox_instance);
        // Published apps and builds carry their own label (see publish::Publisher).
        remove_sandboxes(&format!("{}-apps", self.sandbox_instance));
    }
}

/// Removes every container labelled with `instance` (docker CLI; nothing when absent).
pub fn remove_sandboxes(instance: &str) {
    let Ok(out) = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=org.autocrea.instance={instance}"),
        ])
        .output()
    else {
        return;
    };
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    if !ids.is_empty() {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f"])
            .args(&ids)
            .output();
    }
}

/// Re-exported so tests can name the pool type without depending on sqlx.
pub mod sqlx_pool {
    pub type Pool = sqlx::SqlitePool;
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The `error.code` of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub token: Option<String>,
    pub csrf: Arc<Mutex<Option<String>>>,
    /// Send the CSRF header on changes (turn off to test the refusal).
    pub send_csrf: bool,
}

impl Client {
    pub fn new(base: &str, token: Option<String>) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: base.to_string(),
            http,
            jar,
            token,
            csrf: Arc::new(Mutex::new(None)),
            send_csrf: true,
        }
    }

    pub fn without_csrf(&self) -> Self {
        Self {
            send_csrf: false,
            ..self.clone()
        }
    }

    /// The session cookie's value, to replay it later.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == "autocrea_session")
            .map(|(_, v)| v.to_string())
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        if self.send_csrf && method != Method::GET {
            if let Some(c) = self.csrf.lock().unwrap().clone() {
                rb = rb.header("X-CSRF-Token", c);
            }
        }
        rb
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(c) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
            *self.csrf.lock().unwrap() = Some(c.to_string());
        }
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }
    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(self.request(Method::POST, path)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(Method::PATCH, path).json(&body))
            .await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Creates an API token and returns its secret.
    pub async fn new_token(&self, name: &str) -> String {
        let r = self
            .post("/api/v1/me/tokens", json!({ "name": name }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["token"].as_str().unwrap().to_string()
    }

    /// Creates a project and returns its JSON.
    pub async fn new_project(&self, name: &str) -> Value {
        let r = self
            .post(
                "/api/v1/projects",
                json!({ "name": name, "template": "static" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }
}

/// Runs the real `git` client with a private HOME (no user config leaks in).
pub struct Git {
    pub home: tempfile::TempDir,
}

pub struct GitOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Default for Git {
    fn default() -> Self {
        Self::new()
    }
}

impl Git {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn run(&self, dir: &std::path::Path, args: &[&str]) -> GitOutput {
        self.run_env(dir, args, &[]).await
    }

    pub async fn run_env(
        &self,
        dir: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> GitOutput {
        let out = tokio::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .envs(env.iter().copied())
            .output()
            .await
            .expect("git runs");
        GitOutput {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }

    /// `git fsck --full` on a bare repository must be clean.
    pub async fn assert_fsck(&self, repo: &std::path::Path) {
        let out = self.run(repo, &["fsck", "--full", "--strict"]).await;
        assert!(out.ok, "git fsck failed: {}{}", out.stdout, out.stderr);
        assert!(
            !out.stderr.contains("error") && !out.stdout.contains("error"),
            "git fsck: {}{}",
            out.stdout,
            out.stderr
        );
    }
}

impl TestServer {
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// `http://user:password@host/git/<owner>/<slug>.git`
    pub fn git_url(&self, login: &str, secret: &str, owner: &str, slug: &str) -> String {
        let host = self.url.trim_start_matches("http://");
        format!("http://{login}:{secret}@{host}/git/{owner}/{slug}.git")
    }
}
