//! Previewing an earlier version: the working tree (which the sandbox
//! serves) shows the files of another commit while the branch stays where
//! it is. The pin holds the project's writer lock, so nothing commits from
//! a working tree that does not match its branch; any writer that asks for
//! the lock (an agent turn, a save, a push, a revert) first puts the tree
//! back to the branch head and ends the pin. A marker file names the pinned
//! version, so a restart after a crash puts the tree back too.

use super::WriterLock;
use super::{history, GitError, GitStore};
use crate::sync::lock;
use std::path::PathBuf;

/// A pinned version and the writer lock it holds.
pub(super) struct Pin {
    sha: String,
    _lock: WriterLock,
}

impl GitStore {
    fn pin_marker(&self, project_id: &str) -> PathBuf {
        self.worktrees.join(".pins").join(project_id)
    }

    /// Shows version `sha` in the working tree until `unpin` or the next
    /// writer. The caller passes the project's writer lock, which the pin
    /// keeps. Returns the full commit id.
    pub fn pin_version(
        &self,
        project_id: &str,
        sha: &str,
        lock: WriterLock,
    ) -> Result<String, GitError> {
        let oid = history::parse_sha(sha)?;
        let commit = self
            .open(project_id)?
            .find_commit(oid)
            .map_err(|_| GitError::NotFound("version"))?
            .id()
            .to_string();
        let marker = self.pin_marker(project_id);
        std::fs::create_dir_all(marker.parent().expect("marker has a folder"))?;
        // The marker first: a crash between the two leaves a tree that the
        // next start puts back.
        std::fs::write(&marker, &commit)?;
        if let Err(e) = self.load_version_into_worktree(project_id, &commit) {
            let _ = self.discard_worktree_changes(project_id);
            let _ = std::fs::remove_file(&marker);
            return Err(e);
        }
        self.pins_table().insert(
            project_id.to_string(),
            Pin {
                sha: commit.clone(),
                _lock: lock,
            },
        );
        Ok(commit)
    }

    /// The version the working tree shows instead of the branch head.
    pub fn pinned(&self, project_id: &str) -> Option<String> {
        self.pins_table().get(project_id).map(|p| p.sha.clone())
    }

    /// Puts the working tree back to the branch head; false when no version was pinned.
    pub fn unpin(&self, project_id: &str) -> Result<bool, GitError> {
        // Taken out of the table first, so the lock it holds is released
        // only after the tree is back (the pin drops at the end).
        let Some(pin) = self.pins_table().remove(project_id) else {
            return Ok(false);
        };
        let result = self.restore_pinned_tree(project_id);
        drop(pin);
        result.map(|_| true)
    }

    /// Ends a pin before a writer takes the lock. Runs two short git
    /// processes, only when a version is pinned; a failure is logged, and
    /// the marker stays so the next start tries again.
    pub(super) fn unpin_for_writer(&self, project_id: &str) {
        if let Err(e) = self.unpin(project_id) {
            tracing::error!(project = project_id, error = %e, "could not put the working tree back from a previewed version");
        }
    }

    /// The project goes: its pin (and marker) with it, no tree to restore.
    pub(super) fn forget_pin(&self, project_id: &str) {
        self.pins_table().remove(project_id);
        let _ = std::fs::remove_file(self.pin_marker(project_id));
    }

    fn restore_pinned_tree(&self, project_id: &str) -> Result<(), GitError> {
        self.discard_worktree_changes(project_id)?;
        match std::fs::remove_file(self.pin_marker(project_id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// After a restart: working trees left on a previewed version go back
    /// to their branch heads. Returns the projects put back.
    pub fn restore_pinned_trees(&self) -> Result<Vec<String>, GitError> {
        let dir = self.worktrees.join(".pins");
        let mut restored = Vec::new();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(restored);
        };
        for entry in entries {
            let id = entry?.file_name().to_string_lossy().to_string();
            if self.repo_exists(&id) {
                self.restore_pinned_tree(&id)?;
            } else {
                std::fs::remove_file(dir.join(&id))?;
            }
            restored.push(id);
        }
        Ok(restored)
    }

    fn pins_table(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Pin>> {
        lock(&self.pins)
    }
}
