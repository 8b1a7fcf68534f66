//! The agent's threads, messages, turns and their steps, and what people
//! send to it. Times here are Unix seconds, as the API has always sent them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Thread {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// A summary of the thread up to message `summary_upto` (long threads).
    pub summary: Option<String>,
    pub summary_upto: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadList {
    pub threads: Vec<Thread>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateThread {
    #[serde(default)]
    pub title: String,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// A tool's answer to an assistant's call (`tool_call_id`).
    Tool,
}

names!(Role { User => "user", Assistant => "assistant", Tool => "tool" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    pub parent_id: Option<String>,
    pub turn_id: Option<String>,
    pub role: Role,
    /// The agent role that wrote it (`Developer`, `Architect`...).
    pub agent_role: Option<String>,
    pub content: String,
    /// JSON text, for assistant messages that call tools.
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub created_at: i64,
    /// Files the person attached (user messages).
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageList {
    /// Every message, every branch (`parent_id` links them).
    pub messages: Vec<Message>,
    /// The ids of the current branch, oldest first: its newest message and
    /// that message's parents. An edit or a regeneration starts a new branch
    /// beside the old one, which stays in `messages`.
    pub branch: Vec<String>,
    /// Whether a turn is running on the thread now.
    pub running: bool,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Attachment {
    pub id: String,
    pub name: String,
    /// `image` or `text`.
    pub kind: String,
    pub media_type: String,
    pub size: i64,
}

/// Where a turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum TurnStatus {
    Running,
    Done,
    Failed,
    Stopped,
}

names!(TurnStatus { Running => "running", Done => "done", Failed => "failed", Stopped => "stopped" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Turn {
    pub id: String,
    pub thread_id: String,
    pub project_id: String,
    pub user_id: i64,
    /// `quick` or `full`.
    pub mode: String,
    pub model: String,
    pub status: TurnStatus,
    pub base_sha: Option<String>,
    pub commit_sha: Option<String>,
    pub error: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// The user message the turn answers.
    pub request_id: Option<String>,
}

/// Where one role's part of a turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pending,
    Running,
    /// A plan waits for the person's approval.
    Waiting,
    Done,
    Failed,
    Stopped,
    Skipped,
}

names!(StepStatus { Pending => "pending", Running => "running", Waiting => "waiting", Done => "done", Failed => "failed", Stopped => "stopped", Skipped => "skipped" });

/// A stored step of a turn: one role's part, with its time, tokens and output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Step {
    #[serde(skip)]
    pub turn_id: String,
    pub position: i64,
    /// The agent role: `Developer`, `Architect`, `DevOps`, `Tester`, `Security Auditor`.
    pub role: String,
    pub status: StepStatus,
    pub started_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// The plan, the role's summary, or the audit report.
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnView {
    #[serde(flatten)]
    pub turn: Turn,
    /// The roles of the turn, in order, with status, time, tokens and output.
    pub steps: Vec<Step>,
    /// Its Architect's plan waits for your answer.
    pub plan_waiting: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnList {
    pub turns: Vec<TurnView>,
}

/// One event of a turn (a token, a tool call, a step), as stored for replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventList {
    pub events: Vec<EventView>,
}

/// How a turn runs; each field falls back to the project's agent settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnOptions {
    /// `local`, the local model's id, or `<provider>/<model>`.
    pub model: Option<String>,
    /// `quick` (the Developer alone) or `full` (Architect, Developer, DevOps, Tester, Security Auditor).
    pub mode: Option<String>,
    /// Full mode: build the Architect's plan without waiting for approval.
    #[serde(default)]
    pub auto_approve: bool,
    /// Files open in the editor, given to the agent as context (at most 10).
    #[serde(default)]
    pub open_files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessage {
    pub content: String,
    /// Ids of files uploaded to /attachments (at most 5).
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(flatten)]
    pub options: TurnOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditMessage {
    pub content: String,
    /// The edited message's attachments; the old message's when left out.
    pub attachments: Option<Vec<String>>,
    #[serde(flatten)]
    pub options: TurnOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanAnswer {
    /// true: build the plan; false: the turn ends without changes.
    pub approve: bool,
    /// Your edit of the plan, built instead of the Architect's.
    pub plan: Option<String>,
    /// Why not (when rejecting).
    #[serde(default)]
    pub reason: String,
}

/// A project's agent settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// The agent's model for the project; null: the local model.
    pub model: Option<String>,
    /// quick or full; null: quick.
    pub mode: Option<String>,
}
