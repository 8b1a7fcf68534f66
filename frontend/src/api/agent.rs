//! The agent: threads, their messages and turns, the turn events, the
//! files attached to messages, and a project's agent settings.

use super::projects::path as project;
use super::{send_json, send_json_only, send_only, ApiFailure};
use autocrea_wire::agent::{
    AgentSettings, CreateThread, EditMessage, EventList, MessageList, PlanAnswer, SendMessage,
    Thread, ThreadList, Turn, TurnList, TurnOptions,
};

/// `/api/v1/projects/{id}/threads/{thread}`.
fn thread_path(project_id: &str, thread: &str) -> String {
    format!("{}/threads/{thread}", project(project_id))
}

/// `GET /projects/{id}/threads`: newest first.
pub async fn threads(project_id: &str) -> Result<ThreadList, ApiFailure> {
    super::get(&format!("{}/threads", project(project_id))).await
}

/// `POST /projects/{id}/threads`.
pub async fn create_thread(project_id: &str, body: &CreateThread) -> Result<Thread, ApiFailure> {
    send_json("POST", &format!("{}/threads", project(project_id)), body).await
}

/// `GET /projects/{id}/threads/{thread}/messages`: every branch's messages.
pub async fn messages(project_id: &str, thread: &str) -> Result<MessageList, ApiFailure> {
    super::get(&format!("{}/messages", thread_path(project_id, thread))).await
}

/// `POST /projects/{id}/threads/{thread}/messages`: the turn it started.
pub async fn send(project_id: &str, thread: &str, body: &SendMessage) -> Result<Turn, ApiFailure> {
    send_json(
        "POST",
        &format!("{}/messages", thread_path(project_id, thread)),
        body,
    )
    .await
}

/// `POST /projects/{id}/threads/{thread}/messages/{message}/edit`: a new
/// branch from the edited message, and the turn it started.
pub async fn edit(
    project_id: &str,
    thread: &str,
    message: &str,
    body: &EditMessage,
) -> Result<Turn, ApiFailure> {
    send_json(
        "POST",
        &format!(
            "{}/messages/{message}/edit",
            thread_path(project_id, thread)
        ),
        body,
    )
    .await
}

/// `POST /projects/{id}/threads/{thread}/messages/{message}/regenerate`.
pub async fn regenerate(
    project_id: &str,
    thread: &str,
    message: &str,
    body: &TurnOptions,
) -> Result<Turn, ApiFailure> {
    send_json(
        "POST",
        &format!(
            "{}/messages/{message}/regenerate",
            thread_path(project_id, thread)
        ),
        body,
    )
    .await
}

/// `GET /projects/{id}/threads/{thread}/turns`: with their steps.
pub async fn turns(project_id: &str, thread: &str) -> Result<TurnList, ApiFailure> {
    super::get(&format!("{}/turns", thread_path(project_id, thread))).await
}

/// `POST /projects/{id}/threads/{thread}/turns/{turn}/plan`: approve or reject the plan.
pub async fn answer_plan(
    project_id: &str,
    thread: &str,
    turn: &str,
    body: &PlanAnswer,
) -> Result<(), ApiFailure> {
    send_json_only(
        "POST",
        &format!("{}/turns/{turn}/plan", thread_path(project_id, thread)),
        body,
    )
    .await
}

/// `POST /projects/{id}/threads/{thread}/stop`: the running turn ends.
pub async fn stop(project_id: &str, thread: &str) -> Result<(), ApiFailure> {
    send_only("POST", &format!("{}/stop", thread_path(project_id, thread))).await
}

/// `GET /projects/{id}/threads/{thread}/events?follow=false`: the kept events.
pub async fn events(project_id: &str, thread: &str) -> Result<EventList, ApiFailure> {
    super::get(&format!(
        "{}/events?follow=false",
        thread_path(project_id, thread)
    ))
    .await
}

/// The event stream (for an `EventSource`) of the thread, after event `after`.
pub fn events_url(project_id: &str, thread: &str, after: u64) -> String {
    format!("{}/events?after={after}", thread_path(project_id, thread))
}

/// `GET /projects/{id}/agent`.
pub async fn settings(project_id: &str) -> Result<AgentSettings, ApiFailure> {
    super::get(&format!("{}/agent", project(project_id))).await
}

/// `PUT /projects/{id}/agent`.
pub async fn set_settings(
    project_id: &str,
    body: &AgentSettings,
) -> Result<AgentSettings, ApiFailure> {
    send_json("PUT", &format!("{}/agent", project(project_id)), body).await
}

/// `POST /projects/{id}/attachments?name=`: uploads a file for the next message.
#[cfg(feature = "hydrate")]
pub async fn upload_attachment(
    project_id: &str,
    file: &web_sys::File,
) -> Result<autocrea_wire::agent::Attachment, ApiFailure> {
    let url = format!(
        "{}/attachments?name={}",
        project(project_id),
        super::encode(&file.name())
    );
    super::upload(&url, file).await
}

/// Where an attached file is read (links and thumbnails).
pub fn attachment_url(project_id: &str, id: &str) -> String {
    format!("{}/attachments/{id}", project(project_id))
}
