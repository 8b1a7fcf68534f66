//! A browser on a project's preview origin (`p-<id>.localhost`, resolved
//! to the test server), for the sandbox and attack tests.

use crate::{Client, TestServer};
use reqwest::StatusCode;
use std::time::Duration;

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
        Self {
            http,
            origin: format!("http://{host}:{}", s.addr().port()),
            cookie: String::new(),
        }
    }

    /// Signs `c`'s user into the preview with a one-time ticket.
    pub async fn enter(s: &TestServer, c: &Client, id: &str) -> Self {
        let mut p = Self::anonymous(s, id);
        let ticket = c
            .post_empty(&format!("/api/v1/projects/{id}/preview/ticket"))
            .await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.text);
        let url = ticket.body["url"].as_str().unwrap();
        assert!(
            url.starts_with(&p.origin),
            "{url} is on the preview origin {}",
            p.origin
        );
        let r = p.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set.contains("HttpOnly") && !set.contains("Domain="),
            "host-only, HttpOnly: {set}"
        );
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
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path}", self.origin.replace("http://", "ws://"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("cookie", self.cookie.parse().unwrap());
        if let Some(p) = protocol {
            req.headers_mut()
                .insert("sec-websocket-protocol", p.parse().unwrap());
        }
        // Resolve the preview host to the server ourselves.
        let port: u16 = self.origin.rsplit(':').next().unwrap().parse().unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        // A path the dev server does not upgrade is never answered: fail instead of waiting forever.
        let handshake =
            tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp));
        let (ws, resp) = tokio::time::timeout(Duration::from_secs(30), handshake)
            .await
            .unwrap_or_else(|_| panic!("no websocket handshake on {path} within 30 s"))
            .expect("websocket through the preview proxy");
        assert_eq!(resp.status(), 101);
        ws
    }
}
