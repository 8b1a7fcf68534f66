//! One agent turn: checks before it starts, the pipeline in the background,
//! and its end as one commit (or none), stored messages and a ledger charge.
//! A turn answers a new message, an edited one (a new branch beside the
//! old) or an earlier one again (regenerate); the last two start from the
//! code the original answer started from.

use super::bridge::{ProviderModel, SandboxBridge};
use super::hooks::ServerHooks;
use crate::error::ApiError;
use crate::state::AppState;
use autocrea_core::agent::budget::{self, Budget};
use autocrea_core::agent::files::{Limits as FileLimits, Worktree};
use autocrea_core::agent::pipeline::{self, Mode, TurnInput, TurnRun};
use autocrea_core::agent::runner::{ChatMsg, Ending, Event, Image, Limits, Settings};
use autocrea_core::agent::store::{
    self, Message, NewMessage, Role, StepStatus, Thread, Turn, TurnStatus,
};
use autocrea_core::agent::{attachments, context, history};
use autocrea_core::gitstore::Author;
use autocrea_core::projects::Project;
use autocrea_core::sync::lock;
use axum::http::StatusCode;
use serde_json::json;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Longest user message, in characters.
const MESSAGE_MAX: usize = 32_000;
/// Files the user has open that go into the context, at most.
const OPEN_FILES_MAX: usize = 10;

/// What the turn answers.
pub enum Ask {
    /// A new message at the end of the current branch, with attachment ids.
    New {
        content: String,
        attachments: Vec<String>,
    },
    /// An earlier user message, edited: a new branch beside it. Its
    /// attachments are the old message's when `attachments` is None.
    Edit {
        message_id: String,
        content: String,
        attachments: Option<Vec<String>>,
    },
    /// An earlier user message, answered again.
    Regenerate { message_id: String },
}

#[derive(Default)]
pub struct Options {
    /// The project's mode when unset.
    pub mode: Option<Mode>,
    /// The project's model when unset.
    pub model: Option<String>,
    /// Build the Architect's plan without waiting for approval.
    pub auto_approve: bool,
    /// Files the user has open in the editor, for the context.
    pub open_files: Vec<String>,
}

/// What `begin` prepared for the background run.
struct Prepared {
    turn: Turn,
    /// The user message the turn answers; the first answer's parent.
    request: Message,
    /// Earlier messages on the branch (ids kept for the summary's mark).
    history: Vec<(String, ChatMsg)>,
    /// Load this version into the working tree first (edit, regenerate).
    restore: Option<String>,
}

/// Starts a turn; the pipeline runs in the background and reports on the
/// thread's event log.
pub async fn start(
    state: &AppState,
    user_id: i64,
    project: &Project,
    thread: &Thread,
    ask: Ask,
    opts: Options,
) -> Result<Turn, ApiError> {
    if let Ask::New { content, .. } | Ask::Edit { content, .. } = &ask {
        let content = content.trim();
        if content.is_empty() || content.chars().count() > MESSAGE_MAX {
            return Err(ApiError::invalid(format!(
                "content: 1 to {MESSAGE_MAX} characters"
            )));
        }
    }
    if let Ask::Edit { message_id, .. } | Ask::Regenerate { message_id } = &ask {
        let m = store::message(&state.pool, &thread.id, message_id).await?;
        if m.role != Role::User {
            return Err(ApiError::invalid(
                "only your own messages can be edited or answered again",
            ));
        }
    }
    if let Ask::New {
        attachments: ids, ..
    }
    | Ask::Edit {
        attachments: Some(ids),
        ..
    } = &ask
    {
        attachments::check_own(&state.pool, &project.id, user_id, ids).await?;
    }
    if opts.open_files.len() > OPEN_FILES_MAX {
        return Err(ApiError::invalid(format!(
            "open_files: at most {OPEN_FILES_MAX} paths"
        )));
    }
    let balance = store::balance_milli(&state.pool, user_id).await?;
    if balance <= 0 {
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_credits",
            format!(
                "your balance is {:.3} credits; a turn needs a positive balance",
                balance as f64 / 1000.0
            ),
        ));
    }
    let limit = state.config.agent.turns_per_hour;
    if store::turns_last_hour(&state.pool, user_id).await? >= limit {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "turn_limit",
            format!("you started {limit} turns in the last hour, the most allowed ([agent] turns_per_hour); try again later"),
        );
        e.retry_after = Some(60);
        return Err(e);
    }
    let mode = opts
        .mode
        .or_else(|| project.agent_mode.as_deref().and_then(Mode::parse))
        .unwrap_or(Mode::Quick);
    let model_name = opts.model.clone().or_else(|| project.agent_model.clone());
    let target = crate::llm::resolve::resolve(state, user_id, model_name.as_deref())
        .await
        .map_err(|e| ApiError::new(e.status(), "model_unavailable", e.to_string()))?;
    // Refused before anything is stored when the model's context cannot
    // hold the agent's smallest prompt and answer: no turn could ever fit.
    let budget = Budget::new(
        target.context_tokens,
        state.config.agent.max_tokens as usize,
    );
    let wt = Worktree::new(state.git.worktree_path(&project.id), FileLimits::default());
    let text_tools = target.tools == autocrea_core::llm::policy::ToolFormat::Text;
    // The description is in every role's brief.
    let smallest = pipeline::smallest_prompt(mode, text_tools, &wt)
        + request_tokens(&ask)
        + context::estimate(&project.description);
    if let Err(e) = budget.check(smallest) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "context_too_small",
            e.to_string(),
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let mut running = lock(&state.agents.running);
        if running.contains_key(&thread.id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "turn_running",
                "a turn is running on this thread; stop it or wait",
            ));
        }
        running.insert(thread.id.clone(), (String::new(), stop.clone()));
    }
    let prepared = match begin(
        state,
        user_id,
        project,
        thread,
        ask,
        mode,
        &target.public_name,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            lock(&state.agents.running).remove(&thread.id);
            return Err(e);
        }
    };
    if let Some(entry) = lock(&state.agents.running).get_mut(&thread.id) {
        entry.0 = prepared.turn.id.clone();
    }
    let log = state.agents.log(&thread.id);
    let model = ProviderModel::new(
        target,
        state.clone(),
        user_id,
        project.id.clone(),
        log,
        prepared.turn.id.clone(),
    );
    let turn_out = prepared.turn.clone();
    let (state, project, thread) = (state.clone(), project.clone(), thread.clone());
    tokio::spawn(async move {
        run(
            state.clone(),
            project,
            thread.clone(),
            prepared,
            mode,
            opts,
            model,
            stop,
        )
        .await;
        lock(&state.agents.running).remove(&thread.id);
    });
    Ok(turn_out)
}

/// What the request's own text costs beyond `budget::REQUEST_ALLOWANCE`
/// (a regeneration's is already stored and was checked when it was sent).
fn request_tokens(ask: &Ask) -> usize {
    match ask {
        Ask::New { content, .. } | Ask::Edit { content, .. } => {
            context::estimate(content).saturating_sub(budget::REQUEST_ALLOWANCE)
        }
        Ask::Regenerate { .. } => 0,
    }
}

/// Stores the user's message (unless regenerating) and the running turn.
async fn begin(
    state: &AppState,
    user_id: i64,
    project: &Project,
    thread: &Thread,
    ask: Ask,
    mode: Mode,
    model: &str,
) -> Result<Prepared, ApiError> {
    let head = state
        .git
        .history(&project.id, None, 0, 1)
        .await
        .map(|(versions, _)| versions.first().map(|v| v.sha.clone()))?;
    let all = store::messages(&state.pool, &thread.id).await?;
    // The message the new one follows, and the version to start from.
    let (parent, content, earlier) = match &ask {
        Ask::New { content, .. } => (
            store::active_leaf(&all).map(str::to_string),
            Some(content.trim().to_string()),
            None,
        ),
        Ask::Edit {
            message_id,
            content,
            ..
        } => {
            let m = find(&all, message_id)?;
            (
                m.parent_id.clone(),
                Some(content.trim().to_string()),
                Some(m),
            )
        }
        Ask::Regenerate { message_id } => {
            let m = find(&all, message_id)?;
            (m.parent_id.clone(), None, Some(m))
        }
    };
    let restore = match earlier.and_then(|m| m.turn_id.clone()) {
        Some(turn_id) => store::turn(&state.pool, &thread.id, &turn_id)
            .await?
            .base_sha
            .filter(|b| Some(b) != head.as_ref()),
        None => None,
    };
    let history = store::branch(&all, parent.as_deref())
        .into_iter()
        .filter(|m| {
            m.role == Role::User
                || (m.role == Role::Assistant && m.tool_calls.is_none() && !m.content.is_empty())
        })
        .map(|m| {
            (
                m.id.clone(),
                ChatMsg::new(
                    if m.role == Role::User {
                        "user"
                    } else {
                        "assistant"
                    },
                    with_attachment_names(m),
                ),
            )
        })
        .collect();
    let turn = store::begin_turn(
        &state.pool,
        thread,
        user_id,
        mode.as_str(),
        model,
        head.as_deref(),
    )
    .await?;
    let attachment_ids = match &ask {
        Ask::New { attachments, .. }
        | Ask::Edit {
            attachments: Some(attachments),
            ..
        } => attachments.clone(),
        Ask::Edit {
            message_id,
            attachments: None,
            ..
        } => attachments::ids_of_message(&state.pool, message_id).await?,
        Ask::Regenerate { .. } => Vec::new(),
    };
    let request = match (content, &ask) {
        (Some(content), _) => {
            store::add_message(
                &state.pool,
                &thread.id,
                NewMessage {
                    role: Role::User,
                    content,
                    parent_id: parent,
                    turn_id: Some(turn.id.clone()),
                    attachments: attachment_ids,
                    ..Default::default()
                },
            )
            .await?
        }
        (None, Ask::Regenerate { message_id }) => find(&all, message_id)?,
        (None, _) => unreachable!("only a regeneration has no new content"),
    };
    store::set_request(&state.pool, &turn.id, &request.id).await?;
    Ok(Prepared {
        turn,
        request,
        history,
        restore,
    })
}

/// The request as the model gets it: text files inlined after the
/// message (together at most `text_budget` bytes, so a small context is not
/// overrun: a longer file is cut, and says so), images as images for a
/// model that reads them and as a note for one that does not.
fn request_with_attachments(
    content: &str,
    attached: Vec<(attachments::Attachment, Vec<u8>)>,
    images_ok: bool,
    text_budget: usize,
) -> (String, Vec<Image>) {
    use base64::Engine;
    let mut text = content.to_string();
    let mut budget = text_budget;
    let mut images = Vec::new();
    for (a, data) in attached {
        if a.kind == "image" {
            if images_ok {
                text.push_str(&format!("\n\n(Attached image `{}`, shown below.)", a.name));
                images.push(Image {
                    media_type: a.media_type,
                    base64: base64::engine::general_purpose::STANDARD
                        .encode(&data)
                        .into(),
                });
            } else {
                text.push_str(&format!(
                    "\n\n(The person attached the image `{}`, but the model in use cannot see images; ask them to describe it if it matters.)",
                    a.name
                ));
            }
        } else {
            let mut body = String::from_utf8_lossy(&data).into_owned();
            if body.len() > budget {
                body.truncate(autocrea_core::text::prefix(&body, budget).len());
                body.push_str(
                    "\n[the rest of this file was cut: it does not fit the model's context]",
                );
            }
            budget = budget.saturating_sub(body.len());
            // A fence longer than any run of backticks in the file.
            let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            text.push_str(&format!(
                "\n\nAttached file `{}`:\n{fence}\n{body}\n{fence}",
                a.name
            ));
        }
    }
    (text, images)
}

/// An earlier message in the history: its attachments by name only (the
/// files themselves went with that turn).
fn with_attachment_names(m: &Message) -> String {
    if m.attachments.is_empty() {
        return m.content.clone();
    }
    let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
    format!("{}\n\n(Attached: {})", m.content, names.join(", "))
}

/// The message `id` among the thread's (start checked that it is the user's).
fn find(all: &[Message], id: &str) -> Result<Message, ApiError> {
    all.iter()
        .find(|m| m.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("message"))
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: AppState,
    project: Project,
    thread: Thread,
    p: Prepared,
    mode: Mode,
    opts: Options,
    mut model: ProviderModel,
    stop: Arc<AtomicBool>,
) {
    let started = std::time::Instant::now();
    let log = state.agents.log(&thread.id);
    let turn = p.turn.clone();
    log.push("turn:start", json!({"turn": turn.id, "mode": mode.as_str(), "model": turn.model, "request": p.request.id}));
    // The turn holds the project's writer lock: no push or save lands in the middle of it.
    let _lock = state.git.lock(&project.id).await;
    let settings = Settings {
        limits: Limits {
            max_iterations: state.config.agent.max_iterations,
            repair_rounds: state.config.agent.repair_rounds,
        },
        context_tokens: model.target.context_tokens,
        max_answer: state.config.agent.max_tokens as usize,
        tools_in_prompt: model.text_tools(),
    };
    let result = match &p.restore {
        Some(sha) => state
            .git
            .load_version_into_worktree(&project.id, sha)
            .await
            .map_err(|e| e.to_string()),
        None => Ok(()),
    };
    let attached = attachments::with_data(&state.pool, &p.request.id).await;
    let result = match (result, attached) {
        (Err(e), _) => TurnRun::ended(Ending::Failed(format!(
            "could not load the earlier version: {e}"
        ))),
        (_, Err(e)) => TurnRun::ended(Ending::Failed(format!(
            "could not read the attachments: {e}"
        ))),
        (Ok(()), Ok(attached)) => {
            // Attached text may take half the prompt's room (about 3 bytes a token).
            let text_budget = settings.budget().prompt_limit() / 2 * 3;
            let (request, images) = request_with_attachments(
                &p.request.content,
                attached,
                model.target.images,
                text_budget,
            );
            let history = fit_history(
                &state,
                &thread,
                p.history,
                &mut model,
                settings.budget(),
                &stop,
            )
            .await;
            let mut wt = Worktree::new(state.git.worktree_path(&project.id), FileLimits::default());
            // Names only: the agent reads untrusted text and must never hold a value.
            let env_names = state
                .env
                .describe_for_agent(&project.id)
                .await
                .unwrap_or_default();
            let input = TurnInput {
                project: project_brief(&state, &project, &wt, &opts.open_files, &env_names),
                history,
                request,
                images,
                mode,
                settings,
                text_tools: model.text_tools(),
            };
            let sandbox = SandboxBridge {
                state: state.clone(),
                project_id: project.id.clone(),
                template: project.template.clone(),
            };
            let mut hooks = ServerHooks {
                state: state.clone(),
                log: log.clone(),
                turn_id: turn.id.clone(),
                project_id: project.id.clone(),
                stop: stop.clone(),
                auto_approve: opts.auto_approve,
            };
            let (emit_log, turn_id) = (log.clone(), turn.id.clone());
            pipeline::run_turn(
                &mut model,
                &sandbox,
                &mut wt,
                &mut hooks,
                input,
                &stop,
                move |e| emit(&emit_log, &turn_id, e),
            )
            .await
        }
    };
    let cancelled = model
        .cancelled_tokens
        .load(std::sync::atomic::Ordering::Relaxed);
    let tokens = (result.prompt_tokens + result.completion_tokens + cancelled) as i64;
    // Stop pressed after the last step's work: the person was told it stops, so nothing is committed.
    let ending = if stop.load(std::sync::atomic::Ordering::SeqCst) {
        Ending::Stopped
    } else {
        result.ending.clone()
    };
    let (status, commit, error) = match &ending {
        Ending::Done { remaining_errors } => {
            let message = commit_message(&thread, mode, &result);
            let author = Author::agent(pipeline::DEVELOPER.name);
            match state
                .git
                .commit_worktree(&project.id, &message, &author)
                .await
            {
                Ok(sha) => {
                    let mut notes = Vec::new();
                    if *remaining_errors > 0 {
                        notes.push(format!(
                            "{remaining_errors} error(s) left after the repair rounds"
                        ));
                    }
                    let high = result
                        .findings
                        .iter()
                        .filter(|f| f.severity == "high")
                        .count();
                    if high > 0 {
                        notes.push(format!("{high} high-severity security finding(s) left"));
                    }
                    (
                        TurnStatus::Done,
                        sha,
                        (!notes.is_empty()).then(|| notes.join("; ")),
                    )
                }
                Err(e) => (
                    TurnStatus::Failed,
                    None,
                    Some(format!("could not commit: {e}")),
                ),
            }
        }
        Ending::Stopped => (
            TurnStatus::Stopped,
            None,
            Some("stopped by the user".to_string()),
        ),
        Ending::IterationLimit => (
            TurnStatus::Failed,
            None,
            Some(format!(
                "no answer after {} model calls",
                settings.limits.max_iterations
            )),
        ),
        Ending::Failed(e) => (TurnStatus::Failed, None, Some(e.clone())),
    };
    if status != TurnStatus::Done {
        if let Err(e) = state.git.discard_worktree_changes(&project.id).await {
            tracing::error!(project = %project.id, error = %e, "could not discard a turn's changes");
        }
    }
    let end = store::TurnEnd {
        status,
        commit_sha: commit.as_deref(),
        error: error.as_deref(),
        charge_milli: tokens * state.config.agent.milli_credits_per_token,
    };
    if let Err(e) = store::finish_turn(
        &state.pool,
        &turn,
        &p.request.id,
        answer_chain(&turn, &result),
        end,
    )
    .await
    {
        tracing::error!(turn = %turn.id, error = %e, "could not store the end of a turn");
    }
    log.push("turn:end", json!({"turn": turn.id, "status": status, "commit": commit, "error": error,
        "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens, "repairs": result.repairs,
        "findings": result.findings, "duration_ms": started.elapsed().as_millis() as u64, "model_ms": model.model_ms}));
}

/// The turn's messages as the chain that answers the request, for `finish_turn`.
fn answer_chain(turn: &Turn, result: &TurnRun) -> Vec<NewMessage> {
    result
        .messages
        .iter()
        .map(|(role, m)| NewMessage {
            role: match m.role {
                "tool" => Role::Tool,
                "user" => Role::User,
                _ => Role::Assistant,
            },
            parent_id: None,
            agent_role: Some(role.to_string()),
            content: m.content.clone(),
            tool_calls: (!m.tool_calls.is_empty()).then(|| {
                serde_json::to_string(
                    &m.tool_calls
                        .iter()
                        .map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments}))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default()
            }),
            tool_call_id: m.tool_call_id.clone(),
            turn_id: Some(turn.id.clone()),
            model: Some(turn.model.clone()),
            prompt_tokens: m.prompt_tokens as i64,
            completion_tokens: m.completion_tokens as i64,
            attachments: Vec::new(),
        })
        .collect()
}

/// The thread's earlier messages for the prompt (`history::fit`): a summary
/// the model makes of older ones is kept on the thread. Stop ends the
/// summary call too.
async fn fit_history(
    state: &AppState,
    thread: &Thread,
    history: Vec<(String, ChatMsg)>,
    model: &mut ProviderModel,
    budget: Budget,
    stop: &AtomicBool,
) -> Vec<ChatMsg> {
    let kept = match (&thread.summary, &thread.summary_upto) {
        (Some(text), Some(upto)) => Some(history::Summary {
            text: text.clone(),
            upto: upto.clone(),
        }),
        _ => None,
    };
    let recent_only = history
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|(_, m)| m.clone())
        .collect();
    let fitted = tokio::select! {
        f = history::fit(model, history, kept, budget) => f,
        _ = autocrea_core::agent::runner::stopped(stop) => history::Fitted { messages: recent_only, new_summary: None },
    };
    if let Some(s) = &fitted.new_summary {
        if let Err(e) = store::set_summary(&state.pool, &thread.id, &s.text, &s.upto).await {
            tracing::error!(thread = %thread.id, error = %e, "could not keep a thread summary");
        }
    }
    fitted.messages
}

/// About the project for the system prompt: name, template, description,
/// its variables' names, the errors the sandbox knows of, and the files the
/// user has open.
fn project_brief(
    state: &AppState,
    project: &Project,
    wt: &Worktree,
    open_files: &[String],
    env_names: &str,
) -> String {
    let mut s = format!(
        "The project is \"{}\" (template {}).",
        project.name, project.template
    );
    if !project.description.trim().is_empty() {
        s.push_str(&format!(" Its description: {}", project.description.trim()));
    }
    if !env_names.is_empty() {
        s.push_str("\n\n");
        s.push_str(env_names);
    }
    let errors = state.sandboxes.known_errors(&project.id);
    if !errors.is_empty() {
        // The same wording as check_for_errors: what the page reported is fenced as untrusted.
        let shown: Vec<_> = errors.into_iter().take(20).collect();
        s.push_str("\n\nErrors seen recently in the preview:\n");
        s.push_str(&autocrea_core::agent::runner::describe(&shown));
        s.push('\n');
    }
    for path in open_files {
        // Open files are context, cut to keep the prompt small; unreadable ones are left out.
        if let Ok(text) = wt.read_file(path) {
            let cut: String = text.chars().take(8000).collect();
            s.push_str(&format!("\n\nOpen in the editor: {path}\n```\n{cut}\n```"));
        }
    }
    s
}

fn emit(log: &super::EventLog, turn: &str, e: Event) {
    let (kind, data) = match e {
        Event::Text(t) => ("message", json!({"turn": turn, "text": t})),
        Event::ToolStart { id, name } => {
            ("tool:start", json!({"turn": turn, "id": id, "name": name}))
        }
        Event::ToolEnd {
            id,
            name,
            ok,
            summary,
        } => (
            "tool:end",
            json!({"turn": turn, "id": id, "name": name, "ok": ok, "summary": summary}),
        ),
        Event::FileUpdated(path) => ("file:updated", json!({"turn": turn, "path": path})),
        Event::PreviewRefresh => ("preview:refresh", json!({"turn": turn})),
        Event::ErrorsDetected(errors) => {
            ("error:detected", json!({"turn": turn, "errors": errors}))
        }
        Event::Editor { open, paths } => (
            "editor",
            json!({"turn": turn, "open": open, "paths": paths}),
        ),
    };
    log.push(kind, data);
}

fn commit_message(thread: &Thread, mode: Mode, result: &TurnRun) -> String {
    let summary = result
        .summary
        .as_deref()
        .map(|s| {
            s.lines()
                .next()
                .unwrap_or("")
                .trim()
                .chars()
                .take(72)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("Changes from the chat \"{}\"", thread.title));
    let roles: Vec<&str> = result
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Done)
        .map(|s| s.role)
        .collect();
    format!(
        "{summary}\n\nMade by the agent ({} mode: {}) in thread {}.",
        mode.as_str(),
        roles.join(", "),
        thread.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(name: &str, kind: &str) -> attachments::Attachment {
        attachments::Attachment {
            id: name.into(),
            name: name.into(),
            kind: kind.into(),
            media_type: "image/png".into(),
            size: 0,
        }
    }

    #[test]
    fn text_is_inlined_within_its_budget_and_images_follow_the_model() {
        let files = vec![
            (attachment("a.txt", "text"), b"x".repeat(100)),
            (attachment("b.txt", "text"), b"y".repeat(100)),
            (attachment("p.png", "image"), vec![1, 2, 3]),
        ];
        let (text, images) = request_with_attachments("Do it", files.clone(), true, 150);
        assert!(
            text.starts_with("Do it\n\nAttached file `a.txt`:\n```\n"),
            "{text}"
        );
        assert!(text.contains(&"x".repeat(100)) && !text.contains(&"x".repeat(101)));
        assert!(
            text.contains(&"y".repeat(50)) && !text.contains(&"y".repeat(51)),
            "the second file gets what is left"
        );
        assert!(text.contains("[the rest of this file was cut"));
        assert_eq!(images.len(), 1);
        assert_eq!(&*images[0].base64, "AQID");
        let (text, images) = request_with_attachments("Do it", files, false, 10_000);
        assert!(images.is_empty() && text.contains("cannot see images"));
    }
}
