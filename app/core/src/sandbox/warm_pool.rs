//! The warm pool's state: started containers per template, waiting for a
//! project. Filling and claiming are `Sandboxes` methods (`pool.rs`); the
//! state is apart so the manager can hold it without depending on them.

use crate::sync::lock;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// The file a warm-pool container waits for before starting its dev server.
pub(super) const GO_FILE: &str = "/tmp/.autocrea-go";

#[derive(Default)]
pub(super) struct WarmPool {
    /// Per template.
    pub(super) ready: Mutex<HashMap<String, Vec<Warm>>>,
    /// Held by the one fill that runs.
    pub(super) filling: tokio::sync::Mutex<()>,
    /// Asked for during a fill: that fill goes round once more.
    pub(super) refill_wanted: AtomicBool,
}

/// A started container waiting for a project.
pub(super) struct Warm {
    pub(super) id: String,
    pub(super) dir: PathBuf,
}

impl WarmPool {
    pub(super) fn take(&self, template: &str) -> Option<Warm> {
        lock(&self.ready).get_mut(template)?.pop()
    }

    pub(super) fn len(&self, template: &str) -> usize {
        lock(&self.ready).get(template).map_or(0, Vec::len)
    }

    pub(super) fn add(&self, template: &str, warm: Warm) {
        lock(&self.ready)
            .entry(template.to_string())
            .or_default()
            .push(warm);
    }

    pub(super) fn counts(&self) -> HashMap<String, usize> {
        lock(&self.ready)
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }
}
