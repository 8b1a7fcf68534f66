//! One agent turn: checks before it starts, the loop in the background, and
//! its end as one commit (or none), stored messages and a ledger charge.

use super::bridge::{ProviderModel, SandboxBridge};
use crate::error::ApiError;
use crate::state::AppState;
use autocrea_core::agent::files::{Limits as FileLimits, Worktree};
use autocrea_core::agent::runner::{self, ChatMsg, Ending, Event, Limits};
use autocrea_core::agent::store::{self, NewMessage, Thread, Turn};
use autocrea_core::gitstore::Author;
use autocrea_core::projects::Project;
use axum::http::StatusCode;
use serde_json::json;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Longest user message, in characters.
const MESSAGE_MAX: usize = 32_000;
const ROLE: &str = "Developer";

/// Starts a turn on `thread` for `content`; the loop runs in the background
/// and reports on the thread's event log.
pub async fn start(
    state: &AppState,
    user_id: i64,
    project: &Project,
    thread: &Thread,
    content: &str,
    model: Option<&str>,
) -> Result<Turn, ApiError> {
    let content = content.trim();
    if content.is_empty() || content.chars().count() > MESSAGE_MAX {
        return Err(ApiError::invalid(format!("content: 1 to {MESSAGE_MAX} characters")));
    }
    let balance = store::balance_milli(&state.pool, user_id).await.map_err(store_error)?;
    if balance <= 0 {
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_credits",
            format!("your balance is {:.3} credits; a turn needs a positive balance", balance as f64 / 1000.0),
        ));
    }
    let limit = state.config.agent.turns_per_hour;
    if store::turns_last_hour(&state.pool, user_id).await.map_err(store_error)? >= limit {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "turn_limit",
            format!("you started {limit} turns in the last hour, the most allowed ([agent] turns_per_hour); try again later"),
        );
        e.retry_after = Some(60);
        return Err(e);
    }
    let target = crate::api::gateway::resolve(state, user_id, model).await.map_err(|e| ApiError::new(e.status(), "model_unavailable", e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let mut running = state.agents.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(&thread.id) {
            return Err(ApiError::new(StatusCode::CONFLICT, "turn_running", "a turn is running on this thread; stop it or wait"));
        }
        running.insert(thread.id.clone(), stop.clone());
    }
    let started = begin(state, user_id, project, thread, content, &target.public_name).await;
    let (turn, history) = match started {
        Ok(t) => t,
        Err(e) => {
            state.agents.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&thread.id);
            return Err(e);
        }
    };
    let model = ProviderModel { target, state: state.clone(), user_id, project_id: project.id.clone() };
    let (state, project, thread, turn_out) = (state.clone(), project.clone(), thread.clone(), turn.clone());
    tokio::spawn(async move {
        run(state.clone(), project, thread.clone(), turn, history, model, stop).await;
        state.agents.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&thread.id);
    });
    Ok(turn_out)
}

/// Stores the user's message and the running turn; returns the conversation so far.
async fn begin(state: &AppState, user_id: i64, project: &Project, thread: &Thread, content: &str, model: &str) -> Result<(Turn, Vec<ChatMsg>), ApiError> {
    let git = state.git.clone();
    let id = project.id.clone();
    let base = crate::error::blocking(move || Ok(git.history(&id, None, 0, 1)?.0.first().map(|v| v.sha.clone()))).await?;
    let previous = store::messages(&state.pool, &thread.id).await.map_err(store_error)?;
    let turn = store::begin_turn(&state.pool, thread, user_id, "quick", model, base.as_deref()).await.map_err(store_error)?;
    let parent = previous.last().map(|m| m.id.clone());
    store::add_message(&state.pool, &thread.id, NewMessage { role: "user", content: content.to_string(), parent_id: parent, turn_id: Some(turn.id.clone()), ..Default::default() })
        .await
        .map_err(store_error)?;
    // Earlier turns are context as text: what was asked and what was answered.
    let mut history: Vec<ChatMsg> = previous
        .iter()
        .filter(|m| m.role == "user" || (m.role == "assistant" && m.tool_calls.is_none() && !m.content.is_empty()))
        .map(|m| ChatMsg::new(if m.role == "user" { "user" } else { "assistant" }, m.content.clone()))
        .collect();
    history.push(ChatMsg::new("user", content));
    Ok((turn, history))
}

async fn run(state: AppState, project: Project, thread: Thread, turn: Turn, history: Vec<ChatMsg>, mut model: ProviderModel, stop: Arc<AtomicBool>) {
    let log = state.agents.log(&thread.id);
    log.push("step", json!({"turn": turn.id, "role": ROLE, "status": "running"}));
    // The turn holds the project's writer lock: no push or save lands in the middle of it.
    let _lock = state.git.lock(&project.id).await;
    let mut wt = Worktree::new(state.git.worktree_path(&project.id), FileLimits::default());
    let files = wt.list_files("").unwrap_or_default();
    let mut conversation = vec![ChatMsg::new("system", system_prompt(&project, &files))];
    conversation.extend(history);
    let sandbox = SandboxBridge { state: state.clone(), project_id: project.id.clone(), template: project.template.clone() };
    let emit_log = log.clone();
    let turn_id = turn.id.clone();
    let result = runner::run(&mut model, &sandbox, &mut wt, conversation, Limits::default(), &stop, move |e| emit(&emit_log, &turn_id, e)).await;

    for m in &result.messages {
        let calls = (!m.tool_calls.is_empty()).then(|| {
            serde_json::to_string(&m.tool_calls.iter().map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments})).collect::<Vec<_>>()).unwrap_or_default()
        });
        let stored = store::add_message(&state.pool, &thread.id, NewMessage {
            role: if m.role == "tool" { "tool" } else if m.role == "user" { "user" } else { "assistant" },
            agent_role: Some(ROLE.into()),
            content: m.content.clone(),
            tool_calls: calls,
            tool_call_id: m.tool_call_id.clone(),
            turn_id: Some(turn.id.clone()),
            model: Some(turn.model.clone()),
            ..Default::default()
        })
        .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "could not store an agent message");
        }
    }
    let tokens = (result.prompt_tokens + result.completion_tokens) as i64;
    let (status, commit, error) = match &result.ending {
        Ending::Done { remaining_errors } => {
            let git = state.git.clone();
            let (id, message) = (project.id.clone(), commit_message(&thread, &result));
            match crate::error::blocking(move || Ok(git.commit_worktree(&id, &message, &Author::agent(ROLE))?)).await {
                Ok(sha) => ("done", sha, (*remaining_errors > 0).then(|| format!("{remaining_errors} error(s) left after the repair rounds"))),
                Err(e) => ("failed", None, Some(format!("could not commit: {}", e.message))),
            }
        }
        Ending::Stopped => ("stopped", None, Some("stopped by the user".to_string())),
        Ending::IterationLimit => ("failed", None, Some(format!("no answer after {} model calls", Limits::default().max_iterations))),
        Ending::Failed(e) => ("failed", None, Some(e.clone())),
    };
    if status != "done" {
        let git = state.git.clone();
        let id = project.id.clone();
        if let Err(e) = crate::error::blocking(move || Ok(git.discard_worktree_changes(&id)?)).await {
            tracing::error!(project = %project.id, error = %e.message, "could not discard a turn's changes");
        }
    }
    if let Err(e) = store::end_turn(&state.pool, &turn.id, status, commit.as_deref(), error.as_deref()).await {
        tracing::error!(turn = %turn.id, error = %e, "could not end a turn");
    }
    if tokens > 0 {
        if let Err(e) = store::record_credits(&state.pool, turn.user_id, -tokens * state.config.agent.milli_credits_per_token, "turn", Some(&turn.id)).await {
            tracing::error!(turn = %turn.id, error = %e, "could not charge a turn");
        }
    }
    log.push("step", json!({"turn": turn.id, "role": ROLE, "status": status}));
    log.push("turn:end", json!({"turn": turn.id, "status": status, "commit": commit, "error": error,
        "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens, "repairs": result.repairs}));
}

fn emit(log: &super::EventLog, turn: &str, e: Event) {
    let (kind, data) = match e {
        Event::Text(t) => ("message", json!({"turn": turn, "text": t})),
        Event::ToolStart { id, name } => ("tool:start", json!({"turn": turn, "id": id, "name": name})),
        Event::ToolEnd { id, name, ok, summary } => ("tool:end", json!({"turn": turn, "id": id, "name": name, "ok": ok, "summary": summary})),
        Event::FileUpdated(path) => ("file:updated", json!({"turn": turn, "path": path})),
        Event::PreviewRefresh => ("preview:refresh", json!({"turn": turn})),
        Event::ErrorsDetected(errors) => ("error:detected", json!({"turn": turn, "errors": errors})),
        Event::Editor { open, paths } => ("editor", json!({"turn": turn, "open": open, "paths": paths})),
    };
    log.push(kind, data);
}

fn system_prompt(project: &Project, files: &[String]) -> String {
    format!(
        "You are the Developer in AUTOCREA, an app builder. You change the project \"{}\" (template {}) \
         only by calling tools. Paths are relative to the project root. Read a file before changing \
         parts of it. When the work is done, answer with a short summary and call no tool.\n\n\
         The project's files:\n{}",
        project.name,
        project.template,
        files.join("\n")
    )
}

fn commit_message(thread: &Thread, result: &runner::Run) -> String {
    let summary = result
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "assistant" && m.tool_calls.is_empty() && !m.content.trim().is_empty())
        .map(|m| m.content.lines().next().unwrap_or("").trim().chars().take(72).collect::<String>())
        .unwrap_or_else(|| format!("Changes from the chat \"{}\"", thread.title));
    format!("{summary}\n\nMade by the {ROLE} agent in thread {}.", thread.id)
}

pub fn store_error(e: store::StoreError) -> ApiError {
    match e {
        store::StoreError::NotFound(what) => ApiError::not_found(what),
        store::StoreError::Invalid(m) => ApiError::invalid(m),
        store::StoreError::Db(e) => {
            tracing::error!(error = %e, "agent store");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the database failed")
        }
    }
}
