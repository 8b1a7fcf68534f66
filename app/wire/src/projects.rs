//! Projects and the templates they start from.

use crate::error::ErrorDetail;
use serde::{Deserialize, Serialize};

/// A project as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    /// URL- and git-safe name, unique per owner.
    pub slug: String,
    pub description: String,
    pub template: String,
    pub owner_id: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Where the project's live preview is served (its own origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectList {
    pub projects: Vec<ProjectView>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProject {
    /// Derived from `prompt` when left out or empty (and a prompt is given).
    #[serde(default)]
    pub name: String,
    /// The project's description; the prompt when left out and a prompt is given.
    #[serde(default)]
    pub description: String,
    /// A template id from `GET /api/v1/templates`; `static` when left out.
    pub template: Option<String>,
    /// The first message to the agent: the server makes a thread and starts
    /// the first turn with it (see `CreatedProject`). 1 to 32000 characters.
    pub prompt: Option<String>,
    /// The agent's model for this project (as in `PUT /projects/{id}/agent`):
    /// `local` or `<provider>/<model>`; the default model when left out.
    pub model: Option<String>,
}

/// A new project and, when a prompt was given, the first turn it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedProject {
    #[serde(flatten)]
    pub project: ProjectView,
    /// The thread the first turn runs on (with a prompt).
    pub thread_id: Option<String>,
    /// The first turn (with a prompt, when it started).
    pub turn_id: Option<String>,
    /// Why the first turn did not start (e.g. `model_unavailable`); the
    /// project exists all the same, and the prompt can be sent again.
    pub turn_error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProject {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A template people can start a project from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Languages and tools, for the template card.
    pub stack: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateList {
    pub templates: Vec<TemplateView>,
}
