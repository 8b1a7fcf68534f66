//! Shared by the sandbox tests: servers whose containers are removed at the
//! end, projects, the way into a preview origin, file changes through the
//! git store (as the agent and the editor make them), WebSockets.

use autocrea_core::gitstore::{Author, Content};
use autocrea_e2e::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn project(c: &Client, template: &str) -> String {
    let r = c.post("/api/v1/projects", json!({ "name": format!("App {template}"), "template": template })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Starts the sandbox and waits until its dev server answers.
pub async fn start_ready(c: &Client, id: &str, wait_secs: u64) -> Value {
    let r = c.post_empty(&format!("/api/v1/projects/{id}/sandbox/start?wait_secs={wait_secs}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "ready", "sandbox not ready: {}", r.body);
    r.body
}

pub async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// A browser on a project's preview origin (`p-<id>.localhost`, resolved to the server).
pub struct Preview {
    pub http: reqwest::Client,
    pub origin: String,
    pub cookie: String,
}

impl Preview {
    /// A client for the preview origin of `id` without any credential.
    pub fn anonymous(s: &TestServer, id: &str) -> Self {
        let host = format!("p-{id}.localhost");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, s.addr())
            .build()
            .unwrap();
        Self { http, origin: format!("http://{host}:{}", s.addr().port()), cookie: String::new() }
    }

    /// Signs `c`'s user into the preview with a one-time ticket.
    pub async fn enter(s: &TestServer, c: &Client, id: &str) -> Self {
        let mut p = Self::anonymous(s, id);
        let ticket = c.post_empty(&format!("/api/v1/projects/{id}/preview/ticket")).await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
        let url = ticket.body["url"].as_str().unwrap();
        assert!(url.starts_with(&p.origin), "{url} is on the preview origin {}", p.origin);
        let r = p.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && !set.contains("Domain="), "host-only, HttpOnly: {set}");
        p.cookie = set.split(';').next().unwrap().to_string();
        // A ticket works once.
        let again = p.http.get(url).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
        p
    }

    /// A page load (Accept: text/html, as a browser navigates).
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        self.request(path, "text/html,*/*").await
    }

    /// A script or asset request.
    pub async fn fetch(&self, path: &str) -> (StatusCode, String) {
        self.request(path, "*/*").await
    }

    async fn request(&self, path: &str, accept: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.origin))
            .header("cookie", &self.cookie)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }

    /// Connects a WebSocket through the proxy.
    pub async fn websocket(
        &self,
        path: &str,
        protocol: Option<&str>,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path}", self.origin.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("cookie", self.cookie.parse().unwrap());
        if let Some(p) = protocol {
            req.headers_mut().insert("sec-websocket-protocol", p.parse().unwrap());
        }
        // Resolve the preview host to the server ourselves.
        let port: u16 = self.origin.rsplit(':').next().unwrap().parse().unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        // A path the dev server does not upgrade is never answered: fail instead of waiting forever.
        let handshake = tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp));
        let (ws, resp) = tokio::time::timeout(Duration::from_secs(30), handshake)
            .await
            .unwrap_or_else(|_| panic!("no websocket handshake on {path} within 30 s"))
            .expect("websocket through the preview proxy");
        assert_eq!(resp.status(), 101);
        ws
    }
}

/// Reads text messages until one contains `needle`.
pub async fn ws_until<S>(ws: &mut S, needle: &str, limit: Duration) -> String
where
    S: futures_util::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    use futures_util::StreamExt;
    let mut seen = String::new();
    let found = tokio::time::timeout(limit, async {
        while let Some(Ok(msg)) = ws.next().await {
            let text = match msg {
                tokio_tungstenite::tungstenite::Message::Text(t) => t.to_string(),
                tokio_tungstenite::tungstenite::Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                _ => continue,
            };
            seen.push_str(&text);
            if seen.contains(needle) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no message with {needle:?}; got {seen:?}");
    seen
}

/// Changes a file as the agent and the editor do: a commit through the git
/// store, which updates the working tree the sandbox mounts.
pub fn write_file(s: &TestServer, id: &str, path: &str, text: &str) {
    let git = &s.state().git;
    let expected = match git.read(id, None, path) {
        Ok((Content::File { entry, .. }, _)) => Some(entry.sha),
        _ => None,
    };
    let author = Author { name: "Test".into(), email: "test@example.com".into() };
    git.write_file(id, None, None, path, Some(text.as_bytes()), expected.as_deref(), &format!("Change {path}"), &author)
        .expect("file written");
}

/// `docker inspect` of a container, as JSON.
pub fn inspect(container: &str) -> Value {
    let out = std::process::Command::new("docker").args(["inspect", container]).output().unwrap();
    assert!(out.status.success(), "docker inspect {container}");
    serde_json::from_slice::<Value>(&out.stdout).unwrap()[0].clone()
}

/// Runs a command in a container as root, around the appliance (to play a
/// crash or read state a user could not).
pub fn docker_exec(container: &str, cmd: &[&str]) -> std::process::Output {
    std::process::Command::new("docker").arg("exec").arg(container).args(cmd).output().unwrap()
}
