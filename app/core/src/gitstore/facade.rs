//! The git store for async code. libgit2 and the disk block, so every call
//! here runs on tokio's blocking pool (`spawn_blocking`) and async callers
//! never stall a runtime thread; the per-project writer lock and the paths,
//! which do not block, are passed through. Code that is blocking already
//! (a blocking task, the smart-HTTP service, start-up) takes `store()`.
//! (TabbyML's tabby-git wraps its blocking library the same way.)

use super::WriterLock;
use super::{Author, Branch, Content, Entry, FileDiff, GitError, GitStore, SearchQuery};
use super::{SearchResult, Version};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct Git(Arc<GitStore>);

impl Git {
    pub fn new(store: Arc<GitStore>) -> Self {
        Git(store)
    }

    /// The blocking store, for code that already runs off the runtime.
    pub fn store(&self) -> &Arc<GitStore> {
        &self.0
    }

    /// Several blocking steps in one trip to the blocking pool (e.g. read the
    /// current branch, then its history), so nothing moves in between.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&GitStore) -> Result<T, GitError> + Send + 'static,
    ) -> Result<T, GitError> {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| GitError::Io(std::io::Error::other(format!("git task failed: {e}"))))?
    }

    /// The project's writer lock (see `GitStore::lock`).
    pub async fn lock(&self, project_id: &str) -> WriterLock {
        self.0.lock(project_id).await
    }

    /// The writer lock when nobody holds it (see `GitStore::try_lock`).
    pub fn try_lock(&self, project_id: &str) -> Option<WriterLock> {
        self.0.try_lock(project_id)
    }

    /// Project ids as their writer locks are released (see `GitStore::subscribe_releases`).
    pub fn subscribe_releases(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.0.subscribe_releases()
    }

    pub fn repo_path(&self, project_id: &str) -> PathBuf {
        self.0.repo_path(project_id)
    }

    pub fn worktree_path(&self, project_id: &str) -> PathBuf {
        self.0.worktree_path(project_id)
    }

    pub async fn create(
        &self,
        project_id: &str,
        template: &str,
        author: &Author,
    ) -> Result<(), GitError> {
        let (id, template, author) = (project_id.to_owned(), template.to_owned(), author.clone());
        self.run(move |g| g.create(&id, &template, &author).map(|_| ()))
            .await
    }

    pub async fn duplicate(&self, from: &str, to: &str) -> Result<(), GitError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.run(move |g| g.duplicate(&from, &to)).await
    }

    pub async fn delete(&self, project_id: &str) -> Result<(), GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.delete(&id)).await
    }

    pub async fn all_files(
        &self,
        project_id: &str,
    ) -> Result<(Option<String>, Vec<Entry>), GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.all_files(&id)).await
    }

    /// A file or folder at `reference` (the current version when None), and
    /// the commit it was read from.
    pub async fn read(
        &self,
        project_id: &str,
        reference: Option<&str>,
        path: &str,
    ) -> Result<(Content, String), GitError> {
        let (id, reference, path) = (
            project_id.to_owned(),
            reference.map(str::to_owned),
            path.to_owned(),
        );
        self.run(move |g| g.read(&id, reference.as_deref(), &path))
            .await
    }

    pub async fn search(
        &self,
        project_id: &str,
        query: SearchQuery,
        limit: usize,
    ) -> Result<SearchResult, GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.search(&id, &query, limit)).await
    }

    pub async fn history(
        &self,
        project_id: &str,
        branch: Option<&str>,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<Version>, usize), GitError> {
        let (id, branch) = (project_id.to_owned(), branch.map(str::to_owned));
        self.run(move |g| g.history(&id, branch.as_deref(), skip, limit))
            .await
    }

    pub async fn version(&self, project_id: &str, sha: &str) -> Result<Version, GitError> {
        let (id, sha) = (project_id.to_owned(), sha.to_owned());
        self.run(move |g| g.version(&id, &sha)).await
    }

    pub async fn diff(
        &self,
        project_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<FileDiff>, GitError> {
        let (id, from, to) = (project_id.to_owned(), from.to_owned(), to.to_owned());
        self.run(move |g| g.diff(&id, &from, &to)).await
    }

    pub async fn restore(
        &self,
        project_id: &str,
        sha: &str,
        author: &Author,
    ) -> Result<Version, GitError> {
        let (id, sha, author) = (project_id.to_owned(), sha.to_owned(), author.clone());
        self.run(move |g| g.restore(&id, &sha, &author)).await
    }

    pub async fn branches(&self, project_id: &str) -> Result<Vec<Branch>, GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.branches(&id)).await
    }

    pub async fn create_branch(
        &self,
        project_id: &str,
        name: &str,
        from: Option<&str>,
    ) -> Result<Branch, GitError> {
        let (id, name, from) = (
            project_id.to_owned(),
            name.to_owned(),
            from.map(str::to_owned),
        );
        self.run(move |g| g.create_branch(&id, &name, from.as_deref()))
            .await
    }

    pub async fn switch_branch(&self, project_id: &str, name: &str) -> Result<(), GitError> {
        let (id, name) = (project_id.to_owned(), name.to_owned());
        self.run(move |g| g.switch_branch(&id, &name)).await
    }

    pub async fn delete_branch(&self, project_id: &str, name: &str) -> Result<(), GitError> {
        let (id, name) = (project_id.to_owned(), name.to_owned());
        self.run(move |g| g.delete_branch(&id, &name)).await
    }

    /// Ends the preview of a pinned version; false when none was pinned.
    pub async fn unpin(&self, project_id: &str) -> Result<bool, GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.unpin(&id)).await
    }

    pub async fn sync_worktree(&self, project_id: &str) -> Result<(), GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.sync_worktree(&id)).await
    }

    pub async fn load_version_into_worktree(
        &self,
        project_id: &str,
        sha: &str,
    ) -> Result<(), GitError> {
        let (id, sha) = (project_id.to_owned(), sha.to_owned());
        self.run(move |g| g.load_version_into_worktree(&id, &sha))
            .await
    }

    /// Commits what changed in the working tree; None when nothing did.
    pub async fn commit_worktree(
        &self,
        project_id: &str,
        message: &str,
        author: &Author,
    ) -> Result<Option<String>, GitError> {
        let (id, message, author) = (project_id.to_owned(), message.to_owned(), author.clone());
        self.run(move |g| g.commit_worktree(&id, &message, &author))
            .await
    }

    pub async fn discard_worktree_changes(&self, project_id: &str) -> Result<(), GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.discard_worktree_changes(&id)).await
    }

    pub async fn worktree_diff(
        &self,
        project_id: &str,
        max_bytes: usize,
    ) -> Result<String, GitError> {
        let id = project_id.to_owned();
        self.run(move |g| g.worktree_diff(&id, max_bytes)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_run_off_the_runtime_and_see_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(Arc::new(GitStore::new(dir.path()).unwrap()));
        git.create("p1", "static", &Author::agent("Developer"))
            .await
            .unwrap();
        let (version, files) = git.all_files("p1").await.unwrap();
        assert!(version.is_some());
        assert!(files.iter().any(|f| f.path == "index.html"));
        // The blocking store underneath is the same one.
        assert!(git.store().repo_exists("p1"));
        let missing = git.history("nope", None, 0, 1).await.unwrap_err();
        assert!(matches!(missing, GitError::NotFound(_)), "{missing:?}");
        // A panic in the blocking closure is an error, not a crashed caller.
        let failed = git
            .run(|_| -> Result<(), GitError> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(GitError::Io(_))));
    }
}
