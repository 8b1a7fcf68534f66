//! A project's writer lock, which says when it is let go. Listeners (auto
//! deploy, the push mirror) learn that a project may have changed without
//! each write path having to remember to tell them.

use tokio::sync::{broadcast, OwnedMutexGuard};

/// Held while a writer may move the project's refs; on drop, the project's
/// id goes to `GitStore::subscribe_releases`.
pub struct WriterLock {
    _guard: OwnedMutexGuard<()>,
    project_id: String,
    released: broadcast::Sender<String>,
}

impl WriterLock {
    pub(super) fn new(
        guard: OwnedMutexGuard<()>,
        project_id: &str,
        released: &broadcast::Sender<String>,
    ) -> Self {
        Self {
            _guard: guard,
            project_id: project_id.to_string(),
            released: released.clone(),
        }
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // No listener is not an error: nothing follows this project.
        let _ = self.released.send(std::mem::take(&mut self.project_id));
    }
}
