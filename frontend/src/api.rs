//! The browser's client for the JSON API. Changes carry the CSRF token from
//! the `autocrea_csrf` cookie in `X-CSRF-Token`. On the server these calls are
//! never made (data loads in the browser), and they say so if they are.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub is_admin: bool,
    pub created_at: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub template: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ProjectList {
    pub projects: Vec<Project>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    pub stack: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TemplateList {
    pub templates: Vec<Template>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    pub token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceSettings {
    pub open_signup: bool,
    /// What the admin should know about this setup (e.g. previews that
    /// could set cookies for the console).
    #[serde(default)]
    pub warnings: Vec<SettingsWarning>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingsWarning {
    pub code: String,
    /// `warning` or `info`
    pub severity: String,
    pub message: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct UserList {
    pub users: Vec<User>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_label: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
}

/// A stored provider key: never the key, only its last four characters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ProviderKey {
    pub id: i64,
    pub provider: String,
    pub last4: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ProviderView {
    pub id: String,
    pub kind: String,
    pub models: Vec<String>,
    pub has_key: bool,
    /// The admin set a key everyone may use.
    pub shared_key: bool,
    /// Its models read images.
    #[serde(default)]
    pub images: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ProvidersView {
    pub local: bool,
    pub local_model: Option<String>,
    pub providers: Vec<ProviderView>,
    /// What the local model can do (absent on servers that do not say).
    #[serde(default)]
    pub local_status: Option<LocalStatus>,
}

impl ProvidersView {
    /// The `<provider>/<model>` names the caller can use now (a key is set).
    pub fn usable_models(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter(|p| p.has_key || p.shared_key)
            .flat_map(|p| p.models.iter().map(move |m| format!("{}/{m}", p.id)))
            .collect()
    }
}

/// Whether the local model can serve an agent turn, and if not, why and
/// what to do.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct LocalStatus {
    pub model: Option<String>,
    pub context: Option<u64>,
    #[serde(default)]
    pub test_model: bool,
    #[serde(default)]
    pub agent_ready: bool,
    /// `test_model`, `ready`, `context_too_small` or `unavailable`.
    pub state: String,
    #[serde(default)]
    pub message: String,
}

/// A new project and the first turn it started (with a prompt).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CreatedProject {
    #[serde(flatten)]
    pub project: Project,
    pub thread_id: Option<String>,
    pub turn_id: Option<String>,
    pub turn_error: Option<TurnError>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TurnError {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct UsageTotal {
    pub username: String,
    /// The person's display name.
    #[serde(default)]
    pub user_name: String,
    pub project_id: Option<String>,
    /// The project's name; None for calls outside a project or a deleted one.
    #[serde(default)]
    pub project_name: Option<String>,
    pub provider: String,
    pub model: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct WorkerStatus {
    pub state: String,
    pub model: Option<String>,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub retry_in_secs: Option<u64>,
    pub stderr_tail: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AdminLlm {
    pub worker: WorkerStatus,
    pub policy: serde_json::Value,
    pub shared_keys: Vec<SharedKey>,
    #[serde(default)]
    pub local_status: Option<LocalStatus>,
}

/// A key the admin set for everyone: never the key, only its last four characters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SharedKey {
    pub provider: String,
    pub last4: String,
    pub updated_at: String,
}

/// `GET path` as `T`.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    let value = request("GET", path, None).await?;
    decode(value)
}

/// A change (`POST`, `PATCH`, `DELETE`) with an optional JSON body; 204 gives `null`.
pub async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T, ApiFailure> {
    let value = request(method, path, body).await?;
    decode(value)
}

fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiFailure> {
    serde_json::from_value(value).map_err(|e| ApiFailure {
        status: 0,
        code: "bad_response".into(),
        message: format!("the server's answer was not understood: {e}"),
    })
}

/// Splits an error message of the form `field: reason` (how the server names
/// the field at fault) so forms can show it next to that field.
pub fn field_of(message: &str) -> Option<(&str, &str)> {
    let (field, reason) = message.split_once(": ")?;
    field
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '_')
        .then_some((field, reason))
}

#[cfg(feature = "hydrate")]
async fn request(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiFailure> {
    use gloo_net::http::{Method, RequestBuilder};
    let network = |e: gloo_net::Error| ApiFailure {
        status: 0,
        code: "network".into(),
        message: format!("cannot reach the server: {e}"),
    };
    let method = match method {
        "POST" => Method::POST,
        "PATCH" => Method::PATCH,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        _ => Method::GET,
    };
    let mut builder = RequestBuilder::new(path)
        .method(method.clone())
        .header("Accept", "application/json");
    if method != Method::GET {
        if let Some(token) = csrf_token() {
            builder = builder.header("X-CSRF-Token", &token);
        }
    }
    let response = match body {
        Some(b) => builder.json(&b).map_err(network)?.send().await,
        None => builder.send().await,
    }
    .map_err(network)?;
    answer(response).await
}

/// Uploads a file (a `File` from an input, a drop or a paste) as the raw
/// request body; the answer as `T`.
#[cfg(feature = "hydrate")]
pub async fn upload<T: DeserializeOwned>(
    path: &str,
    file: &web_sys::File,
) -> Result<T, ApiFailure> {
    use gloo_net::http::{Method, RequestBuilder};
    let mut builder = RequestBuilder::new(path)
        .method(Method::POST)
        .header("Accept", "application/json");
    if let Some(token) = csrf_token() {
        builder = builder.header("X-CSRF-Token", &token);
    }
    let network = |e: gloo_net::Error| ApiFailure {
        status: 0,
        code: "network".into(),
        message: format!("cannot reach the server: {e}"),
    };
    let blob: &wasm_bindgen::JsValue = file.as_ref();
    let response = builder
        .body(blob.clone())
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    decode(answer(response).await?)
}

/// The JSON of a response, or the server's error as an `ApiFailure`.
#[cfg(feature = "hydrate")]
async fn answer(response: gloo_net::http::Response) -> Result<serde_json::Value, ApiFailure> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let value: serde_json::Value = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    };
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let code = value["error"]["code"]
        .as_str()
        .unwrap_or("http_error")
        .to_string();
    let message = value["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the server answered {status}"));
    if status == 401 && code == "unauthenticated" {
        // The session ended elsewhere (sign-out, password change): start over.
        crate::session::go_to("/login");
    }
    Err(ApiFailure {
        status,
        code,
        message,
    })
}

#[cfg(not(feature = "hydrate"))]
async fn request(
    _method: &str,
    _path: &str,
    _body: Option<serde_json::Value>,
) -> Result<serde_json::Value, ApiFailure> {
    Err(ApiFailure {
        status: 0,
        code: "server_side".into(),
        message: "API calls are made from the browser".into(),
    })
}

#[cfg(feature = "hydrate")]
fn csrf_token() -> Option<String> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?
        .document()?
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?;
    let cookies = doc.cookie().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "autocrea_csrf" || *k == "__Host-autocrea_csrf")
        .map(|(_, v)| v.to_string())
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub kind: String,
    pub role: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ChangedFile {
    pub path: String,
    pub status: String,
    pub old_path: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Version {
    pub sha: String,
    pub short_sha: String,
    pub summary: String,
    pub message: String,
    pub author: Person,
    pub time: String,
    pub parents: Vec<String>,
    pub files: Vec<ChangedFile>,
    pub additions: usize,
    pub deletions: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct History {
    pub branch: String,
    pub versions: Vec<Version>,
    pub total: usize,
    pub page: usize,
    pub limit: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct FileDiff {
    pub path: String,
    pub old_path: Option<String>,
    pub status: String,
    pub binary: bool,
    pub additions: usize,
    pub deletions: usize,
    pub patch: String,
    pub truncated: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Diff {
    pub from: String,
    pub to: String,
    pub files: Vec<FileDiff>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Branch {
    pub name: String,
    pub current: bool,
    pub head: Version,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct BranchList {
    pub branches: Vec<Branch>,
}
