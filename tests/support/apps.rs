//! A browser on a published app's origin (`<label>.apps.localhost`,
//! resolved to the test server), and publishing helpers.

use crate::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub struct AppVisitor {
    pub http: reqwest::Client,
    pub origin: String,
    pub cookie: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl AppVisitor {
    /// A visitor of the app at `label` without any credential.
    pub fn anonymous(s: &TestServer, label: &str) -> Self {
        let host = format!("{label}.apps.localhost");
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

    /// Goes into the app as `c`'s user, the way a browser does: the
    /// console's open route, then the ticket on the app's origin.
    pub async fn enter(s: &TestServer, c: &Client, label: &str) -> Self {
        let mut v = Self::anonymous(s, label);
        let r = c.get(&format!("/api/v1/apps/{label}/open?next=/")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let url = r.headers["location"].to_str().unwrap().to_string();
        assert!(url.starts_with(&v.origin), "{url} is on {}", v.origin);
        let r = v.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set.contains("HttpOnly") && !set.contains("Domain="),
            "{set}"
        );
        v.cookie = set.split(';').next().unwrap().to_string();
        v
    }

    /// A page load (Accept: text/html).
    pub async fn get(&self, path: &str) -> Answer {
        self.request(path, &[("accept", "text/html,*/*")]).await
    }

    pub async fn request(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut rb = self.http.get(format!("{}{path}", self.origin));
        if !self.cookie.is_empty() {
            rb = rb.header("cookie", &self.cookie);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        Answer {
            status,
            headers,
            text: r.text().await.unwrap_or_default(),
        }
    }
}

/// Publishes `version` (the latest when `None`) and waits for the build
/// to end; returns the deployment as the API shows it at the end.
pub async fn publish(c: &Client, project: &str, version: Option<&str>, wait: Duration) -> Value {
    let body = match version {
        Some(v) => json!({ "version": v }),
        None => json!({}),
    };
    let r = c
        .post(&format!("/api/v1/projects/{project}/deployments"), body)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    wait_for(c, project, &id, wait).await
}

/// Waits until deployment `id` is no longer queued or building.
pub async fn wait_for(c: &Client, project: &str, id: &str, wait: Duration) -> Value {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let d = c
            .get(&format!("/api/v1/projects/{project}/deployments/{id}"))
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
        if !matches!(d.body["status"].as_str(), Some("queued" | "building")) {
            return d.body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deployment {id} still {} after {wait:?}",
            d.body["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The site's address name.
pub async fn site_name(c: &Client, project: &str) -> String {
    let r = c.get(&format!("/api/v1/projects/{project}/site")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["name"].as_str().unwrap().to_string()
}

/// Saves `content` at `path` through the files API (one version) and
/// returns the new version's id.
pub async fn save(c: &Client, project: &str, path: &str, content: &str) -> String {
    let current = c
        .get(&format!("/api/v1/projects/{project}/file?path={path}"))
        .await;
    let sha = current.body["sha"].as_str().map(String::from);
    let r = c
        .send(
            c.request(
                reqwest::Method::PUT,
                &format!("/api/v1/projects/{project}/file?path={path}"),
            )
            .json(&json!({"content": content, "sha": sha})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = c.get(&format!("/api/v1/projects/{project}/versions")).await;
    v.body["versions"][0]["sha"].as_str().unwrap().to_string()
}
