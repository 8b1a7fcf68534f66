//! Threads, messages, turns and credits in SQLite. Callers check that the
//! user may see the project first (`projects::get`); these functions take
//! the ids as given.

use crate::{clock, secrets};
pub use autocrea_wire::agent::{Message, Role, Step, StepStatus, Thread, Turn, TurnStatus};
use sqlx::SqlitePool;

pub use super::store_error::StoreError;

/// A message to store; ids and time are filled in.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub parent_id: Option<String>,
    pub turn_id: Option<String>,
    pub role: Role,
    pub agent_role: Option<String>,
    pub content: String,
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Attachment ids (checked by the caller), linked in the same transaction.
    pub attachments: Vec<String>,
}

impl Default for NewMessage {
    /// An empty message of the person's (`role` is the one field every caller sets).
    fn default() -> Self {
        NewMessage {
            parent_id: None,
            turn_id: None,
            role: Role::User,
            agent_role: None,
            content: String::new(),
            tool_calls: None,
            tool_call_id: None,
            model: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            attachments: Vec::new(),
        }
    }
}

const TITLE_MAX: usize = 200;

pub async fn create_thread(
    pool: &SqlitePool,
    project_id: &str,
    user_id: i64,
    title: &str,
) -> Result<Thread, StoreError> {
    let title = title.trim();
    let title = if title.is_empty() { "New chat" } else { title };
    if title.chars().count() > TITLE_MAX {
        return Err(StoreError::Invalid(format!(
            "title: at most {TITLE_MAX} characters"
        )));
    }
    let now = clock::now();
    Ok(sqlx::query_as::<_, Thread>(
        "INSERT INTO threads (id, project_id, title, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(secrets::random_label(12))
    .bind(project_id)
    .bind(title)
    .bind(user_id)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

pub async fn threads(pool: &SqlitePool, project_id: &str) -> Result<Vec<Thread>, StoreError> {
    Ok(sqlx::query_as::<_, Thread>(
        "SELECT * FROM threads WHERE project_id = ? ORDER BY updated_at DESC, id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?)
}

/// A thread of `project_id` (404 for a thread of another project).
pub async fn thread(
    pool: &SqlitePool,
    project_id: &str,
    thread_id: &str,
) -> Result<Thread, StoreError> {
    sqlx::query_as::<_, Thread>("SELECT * FROM threads WHERE id = ? AND project_id = ?")
        .bind(thread_id)
        .bind(project_id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound("thread"))
}

pub async fn add_message(
    pool: &SqlitePool,
    thread_id: &str,
    m: NewMessage,
) -> Result<Message, StoreError> {
    let now = clock::now();
    let mut tx = pool.begin().await?;
    let attachments = m.attachments.clone();
    let mut msg = insert_message(&mut tx, thread_id, m, now).await?;
    msg.attachments = super::attachments::link(&mut tx, &msg.id, &attachments).await?;
    touch_thread(&mut tx, thread_id, now).await?;
    tx.commit().await?;
    Ok(msg)
}

/// Threads list the most recently active first.
async fn touch_thread(
    conn: &mut sqlx::SqliteConnection,
    thread_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE threads SET updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(thread_id)
        .execute(conn)
        .await?;
    Ok(())
}

async fn insert_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    thread_id: &str,
    m: NewMessage,
    now: i64,
) -> Result<Message, StoreError> {
    Ok(sqlx::query_as::<_, Message>(
        "INSERT INTO messages (id, thread_id, parent_id, turn_id, role, agent_role, content, tool_calls, tool_call_id, model,
             prompt_tokens, completion_tokens, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(secrets::random_label(16))
    .bind(thread_id)
    .bind(&m.parent_id)
    .bind(&m.turn_id)
    .bind(m.role)
    .bind(&m.agent_role)
    .bind(&m.content)
    .bind(&m.tool_calls)
    .bind(&m.tool_call_id)
    .bind(&m.model)
    .bind(m.prompt_tokens)
    .bind(m.completion_tokens)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn messages(pool: &SqlitePool, thread_id: &str) -> Result<Vec<Message>, StoreError> {
    let mut messages = sqlx::query_as::<_, Message>(
        "SELECT * FROM messages WHERE thread_id = ? ORDER BY created_at, rowid",
    )
    .bind(thread_id)
    .fetch_all(pool)
    .await?;
    let mut attached = super::attachments::of_thread(pool, thread_id).await?;
    for m in &mut messages {
        m.attachments = attached.remove(&m.id).unwrap_or_default();
    }
    Ok(messages)
}

/// One message of the thread.
pub async fn message(pool: &SqlitePool, thread_id: &str, id: &str) -> Result<Message, StoreError> {
    sqlx::query_as::<_, Message>("SELECT * FROM messages WHERE thread_id = ? AND id = ?")
        .bind(thread_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound("message"))
}

/// The branch that ends at `leaf`, oldest first: the leaf and its parents.
/// `messages` is the whole thread (as `messages` returns it).
pub fn branch<'m>(messages: &'m [Message], leaf: Option<&str>) -> Vec<&'m Message> {
    let by_id: std::collections::HashMap<&str, &Message> =
        messages.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut path = Vec::new();
    let mut next = leaf;
    while let Some(id) = next {
        let Some(m) = by_id.get(id) else { break };
        path.push(*m);
        next = m.parent_id.as_deref();
        if path.len() > messages.len() {
            break; // a cycle cannot be written, but never loop
        }
    }
    path.reverse();
    path
}

/// The leaf of the branch the thread shows: its newest message (an edit or a
/// regeneration writes the newest messages, so its branch becomes current).
pub fn active_leaf(messages: &[Message]) -> Option<&str> {
    messages.last().map(|m| m.id.as_str())
}

pub async fn set_summary(
    pool: &SqlitePool,
    thread_id: &str,
    summary: &str,
    upto: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE threads SET summary = ?, summary_upto = ? WHERE id = ?")
        .bind(summary)
        .bind(upto)
        .bind(thread_id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn begin_turn(
    pool: &SqlitePool,
    thread: &Thread,
    user_id: i64,
    mode: &str,
    model: &str,
    base_sha: Option<&str>,
) -> Result<Turn, StoreError> {
    if !matches!(mode, "quick" | "full") {
        return Err(StoreError::Invalid("mode: quick or full".into()));
    }
    Ok(sqlx::query_as::<_, Turn>(
        "INSERT INTO turns (id, thread_id, project_id, user_id, mode, model, status, base_sha, started_at)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING *",
    )
    .bind(secrets::random_label(16))
    .bind(&thread.id)
    .bind(&thread.project_id)
    .bind(user_id)
    .bind(mode)
    .bind(model)
    .bind(base_sha)
    .bind(clock::now())
    .fetch_one(pool)
    .await?)
}

pub async fn set_request(
    pool: &SqlitePool,
    turn_id: &str,
    message_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE turns SET request_id = ? WHERE id = ?")
        .bind(message_id)
        .bind(turn_id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn turn(pool: &SqlitePool, thread_id: &str, id: &str) -> Result<Turn, StoreError> {
    sqlx::query_as::<_, Turn>("SELECT * FROM turns WHERE thread_id = ? AND id = ?")
        .bind(thread_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound("turn"))
}

/// The thread's turns, oldest first, each with its steps.
pub async fn turns_with_steps(
    pool: &SqlitePool,
    thread_id: &str,
) -> Result<Vec<(Turn, Vec<Step>)>, StoreError> {
    let turns = sqlx::query_as::<_, Turn>(
        "SELECT * FROM turns WHERE thread_id = ? ORDER BY started_at, rowid",
    )
    .bind(thread_id)
    .fetch_all(pool)
    .await?;
    let steps = sqlx::query_as::<_, Step>(
        "SELECT s.* FROM turn_steps s JOIN turns t ON t.id = s.turn_id WHERE t.thread_id = ? ORDER BY s.turn_id, s.position",
    )
    .bind(thread_id)
    .fetch_all(pool)
    .await?;
    Ok(turns
        .into_iter()
        .map(|t| {
            let mine = steps
                .iter()
                .filter(|s| s.turn_id == t.id)
                .cloned()
                .collect();
            (t, mine)
        })
        .collect())
}

/// Keeps a step as it is now (insert or replace).
pub async fn save_step(
    pool: &SqlitePool,
    turn_id: &str,
    s: &crate::agent::pipeline::StepReport,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO turn_steps (turn_id, position, role, status, started_at, duration_ms, prompt_tokens, completion_tokens, output)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (turn_id, position) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
           duration_ms = excluded.duration_ms, prompt_tokens = excluded.prompt_tokens,
           completion_tokens = excluded.completion_tokens, output = excluded.output",
    )
    .bind(turn_id)
    .bind(s.position as i64)
    .bind(s.role)
    .bind(s.status)
    .bind(s.started_at)
    .bind(s.duration_ms.map(|d| d as i64))
    .bind(s.prompt_tokens as i64)
    .bind(s.completion_tokens as i64)
    .bind(&s.output)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends a running turn: `done` (with its commit), `failed` or `stopped` (with why).
pub async fn end_turn(
    pool: &SqlitePool,
    turn_id: &str,
    status: TurnStatus,
    commit_sha: Option<&str>,
    error: Option<&str>,
) -> Result<Turn, StoreError> {
    let mut tx = pool.begin().await?;
    let turn = end_turn_in(&mut tx, turn_id, status, commit_sha, error).await?;
    tx.commit().await?;
    Ok(turn)
}

async fn end_turn_in(
    conn: &mut sqlx::SqliteConnection,
    turn_id: &str,
    status: TurnStatus,
    commit_sha: Option<&str>,
    error: Option<&str>,
) -> Result<Turn, StoreError> {
    if status == TurnStatus::Running {
        return Err(StoreError::Invalid(format!(
            "a turn cannot end as {status:?}"
        )));
    }
    sqlx::query_as::<_, Turn>(
        "UPDATE turns SET status = ?, commit_sha = ?, error = ?, ended_at = ? WHERE id = ? AND status = 'running' RETURNING *",
    )
    .bind(status)
    .bind(commit_sha)
    .bind(error)
    .bind(clock::now())
    .bind(turn_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound("running turn"))
}

/// How a turn ended, for `finish_turn`.
pub struct TurnEnd<'a> {
    pub status: TurnStatus,
    pub commit_sha: Option<&'a str>,
    pub error: Option<&'a str>,
    /// Thousandths of a credit to charge (0: none).
    pub charge_milli: i64,
}

/// The end of a turn in one transaction: its messages (a chain after
/// `request_id`), its status and its charge. A crash leaves all or none.
pub async fn finish_turn(
    pool: &SqlitePool,
    turn: &Turn,
    request_id: &str,
    chain: Vec<NewMessage>,
    end: TurnEnd<'_>,
) -> Result<Turn, StoreError> {
    let mut tx = pool.begin().await?;
    let now = clock::now();
    let mut parent = Some(request_id.to_string());
    for m in chain {
        let msg = insert_message(
            &mut tx,
            &turn.thread_id,
            NewMessage {
                parent_id: parent.take(),
                ..m
            },
            now,
        )
        .await?;
        parent = Some(msg.id);
    }
    touch_thread(&mut tx, &turn.thread_id, now).await?;
    let ended = end_turn_in(&mut tx, &turn.id, end.status, end.commit_sha, end.error).await?;
    if end.charge_milli != 0 {
        record_credits_in(
            &mut tx,
            turn.user_id,
            -end.charge_milli,
            "turn",
            Some(&turn.id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// After a crash: every turn still `running` failed. Returns them, so the
/// caller can put their projects' working trees back to the last commit.
pub async fn fail_interrupted_turns(pool: &SqlitePool) -> Result<Vec<Turn>, StoreError> {
    let mut tx = pool.begin().await?;
    let turns = sqlx::query_as::<_, Turn>(
        "UPDATE turns SET status = 'failed', error = 'the appliance stopped during this turn; its changes were discarded',
             ended_at = ? WHERE status = 'running' RETURNING *",
    )
    .bind(clock::now())
    .fetch_all(&mut *tx)
    .await?;
    // Their steps: the one under way failed, the ones after it never ran.
    sqlx::query(
        "UPDATE turn_steps SET status = CASE status WHEN 'pending' THEN 'skipped' ELSE 'failed' END
         WHERE status IN ('pending', 'running', 'waiting')",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(turns)
}

/// Turns `user_id` started in the last hour.
pub async fn turns_last_hour(pool: &SqlitePool, user_id: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM turns WHERE user_id = ? AND started_at > ?",
    )
    .bind(user_id)
    .bind(clock::now() - 3600)
    .fetch_one(pool)
    .await?)
}

/// The user's credits, in thousandths.
pub async fn balance_milli(pool: &SqlitePool, user_id: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(SUM(milli), 0) FROM credit_ledger WHERE user_id = ?",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?)
}

/// Adds a ledger entry (negative to charge).
pub async fn record_credits(
    pool: &SqlitePool,
    user_id: i64,
    milli: i64,
    reason: &str,
    turn_id: Option<&str>,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    record_credits_in(&mut conn, user_id, milli, reason, turn_id).await
}

async fn record_credits_in(
    conn: &mut sqlx::SqliteConnection,
    user_id: i64,
    milli: i64,
    reason: &str,
    turn_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO credit_ledger (user_id, milli, reason, turn_id, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(user_id)
        .bind(milli)
        .bind(reason)
        .bind(turn_id)
        .bind(clock::now())
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, SqlitePool, i64, String) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open_and_migrate(&dir.path().join("t.db"))
            .await
            .unwrap();
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, username, name, password_hash, is_admin, created_at, updated_at)
             VALUES ('a@example.com', 'a', 'A', 'x', 0, 0, 0) RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let project = crate::projects::create(&pool, user, "App", "", "static")
            .await
            .unwrap();
        (dir, pool, user, project.id)
    }

    #[tokio::test]
    async fn threads_messages_turns_and_credits() {
        let (_d, pool, user, project) = db().await;
        assert_eq!(
            balance_milli(&pool, user).await.unwrap(),
            100_000,
            "100 free credits"
        );
        let t = create_thread(&pool, &project, user, "  ").await.unwrap();
        assert_eq!(t.title, "New chat");
        assert!(
            thread(&pool, "other", &t.id).await.is_err(),
            "a thread belongs to its project"
        );
        let turn = begin_turn(&pool, &t, user, "quick", "local", Some("abc"))
            .await
            .unwrap();
        let q = add_message(
            &pool,
            &t.id,
            NewMessage {
                role: Role::User,
                content: "Build a todo app".into(),
                turn_id: Some(turn.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        add_message(
            &pool,
            &t.id,
            NewMessage {
                role: Role::Assistant,
                parent_id: Some(q.id.clone()),
                agent_role: Some("Developer".into()),
                content: String::new(),
                tool_calls: Some(r#"[{"id":"c1","name":"create_file","arguments":"{}"}]"#.into()),
                prompt_tokens: 120,
                completion_tokens: 30,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let list = messages(&pool, &t.id).await.unwrap();
        assert_eq!(
            list.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(),
            ["user", "assistant"]
        );
        assert_eq!(list[1].parent_id.as_deref(), Some(q.id.as_str()));
        record_credits(&pool, user, -1_500, "turn", Some(&turn.id))
            .await
            .unwrap();
        assert_eq!(balance_milli(&pool, user).await.unwrap(), 98_500);
        let done = end_turn(&pool, &turn.id, TurnStatus::Done, Some("def"), None)
            .await
            .unwrap();
        assert_eq!(
            (done.status.as_str(), done.commit_sha.as_deref()),
            ("done", Some("def"))
        );
        assert!(
            end_turn(&pool, &turn.id, TurnStatus::Failed, None, None)
                .await
                .is_err(),
            "a turn ends once"
        );
    }

    #[tokio::test]
    async fn running_turns_fail_after_a_crash() {
        let (_d, pool, user, project) = db().await;
        let t = create_thread(&pool, &project, user, "Chat").await.unwrap();
        let running = begin_turn(&pool, &t, user, "full", "local", None)
            .await
            .unwrap();
        let finished = begin_turn(&pool, &t, user, "quick", "local", None)
            .await
            .unwrap();
        end_turn(
            &pool,
            &finished.id,
            TurnStatus::Stopped,
            None,
            Some("stopped by the user"),
        )
        .await
        .unwrap();
        let failed = fail_interrupted_turns(&pool).await.unwrap();
        assert_eq!(
            failed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            [running.id.as_str()]
        );
        assert_eq!(failed[0].status, TurnStatus::Failed);
        assert!(fail_interrupted_turns(&pool).await.unwrap().is_empty());
    }
}
