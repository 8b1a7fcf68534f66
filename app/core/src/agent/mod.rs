//! The agent: safe paths and the file tools on a project's working tree
//! (`paths`, `files`), the tools' schemas and parsing (`tools`, and
//! `textcalls` for models without native tool calls), one role's loop
//! (`runner`) over the conversation types (`message`), the roles of a turn
//! (`pipeline`), what goes into a model's context (`budget` shares it
//! between prompt and answer, `context` cuts a conversation to size,
//! `history` summarises older messages), the security scan (`security`)
//! and what is kept in SQLite (`store`, `attachments`, their `StoreError`
//! in `store_error`). A turn writes in place and ends as one commit
//! (`GitStore::commit_worktree`) or is discarded whole
//! (`GitStore::discard_worktree_changes`).

pub mod attachments;
pub mod budget;
pub mod context;
pub mod errors;
pub mod files;
pub mod history;
pub mod message;
pub mod paths;
pub mod pipeline;
pub mod runner;
pub mod security;
pub mod store;
pub mod store_error;
pub mod textcalls;
pub mod tools;

/// What a tool call can fail with; the message goes back to the model.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("path refused: {0}")]
    Path(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("file system error: {0}")]
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::files::{Limits, Section, Worktree};
    use crate::gitstore::{Author, GitStore};

    /// A turn's writes become one commit by the acting role; a failed turn
    /// leaves the tree exactly at the last commit.
    #[test]
    fn a_turn_is_one_commit_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let git = GitStore::new(dir.path()).unwrap();
        let me = Author {
            name: "Ada".into(),
            email: "ada@example.com".into(),
        };
        let first = git.create("p1", "static", &me).unwrap().to_string();
        let root = git.worktree_path("p1");

        let mut wt = Worktree::new(root.clone(), Limits::default());
        wt.create_file("about.html", "<h1>About</h1>\n").unwrap();
        wt.update_file_sections(
            "index.html",
            &[Section {
                search: "Hello from AUTOCREA".into(),
                replace: "Hello, agent".into(),
            }],
        )
        .unwrap();
        wt.delete_file("style.css").unwrap();
        let sha = git
            .commit_worktree("p1", "Add an about page", &Author::agent("Developer"))
            .unwrap()
            .expect("a commit");
        let (log, total) = git.history("p1", None, 0, 10).unwrap();
        assert_eq!(
            (total, log[0].sha.as_str(), log[1].sha.as_str()),
            (2, sha.as_str(), first.as_str())
        );
        assert_eq!(log[0].author.kind.as_str(), "agent");
        let mut files: Vec<(String, String)> = log[0]
            .files
            .iter()
            .map(|f| (f.path.clone(), f.status.to_string()))
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                ("about.html".into(), "added".into()),
                ("index.html".into(), "modified".into()),
                ("style.css".into(), "deleted".into())
            ]
        );
        assert_eq!(
            git.commit_worktree("p1", "nothing", &me).unwrap(),
            None,
            "no empty commits"
        );

        // A turn that fails half-way: everything it did goes.
        let mut wt = Worktree::new(root.clone(), Limits::default());
        wt.create_file("half/new.js", "x\n").unwrap();
        wt.full_file_rewrite("index.html", "broken").unwrap();
        wt.delete_file("app.js").unwrap();
        git.discard_worktree_changes("p1").unwrap();
        assert!(!root.join("half").exists() && root.join("app.js").exists());
        assert!(std::fs::read_to_string(root.join("index.html"))
            .unwrap()
            .contains("Hello, agent"));
        assert_eq!(git.history("p1", None, 0, 10).unwrap().1, 2);
    }
}
