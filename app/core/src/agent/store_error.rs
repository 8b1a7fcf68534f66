//! What the agent's SQLite store (threads, messages, turns, attachments)
//! fails with. A module of its own: `store` and `attachments` both return
//! it, and `store` links attachments, so neither can own it without the two
//! depending on each other.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}
