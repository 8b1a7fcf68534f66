//! A bounded, numbered log that live readers follow and reconnecting readers
//! resume from (`Last-Event-ID`): the sandbox's output lines and an agent
//! thread's events are both kept this way.

use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// What came before a point, and what follows it.
pub type Backlog<T> = (Vec<(u64, T)>, broadcast::Receiver<(u64, T)>);

pub struct Replay<T> {
    inner: Mutex<(u64, VecDeque<(u64, T)>)>,
    capacity: usize,
    tx: broadcast::Sender<(u64, T)>,
}

impl<T: Clone> Replay<T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((0, VecDeque::with_capacity(capacity.min(256)))),
            capacity,
            tx: broadcast::channel(1024).0,
        }
    }

    /// Appends the entry `make` builds from its number (one more than the
    /// last; the first is 1) and returns it.
    pub fn push(&self, make: impl FnOnce(u64) -> T) -> T {
        let mut inner = lock(&self.inner);
        inner.0 += 1;
        let seq = inner.0;
        let item = make(seq);
        if inner.1.len() == self.capacity {
            inner.1.pop_front();
        }
        inner.1.push_back((seq, item.clone()));
        let _ = self.tx.send((seq, item.clone()));
        item
    }

    /// Kept entries numbered after `after`, and a receiver for what follows
    /// them (taken under the same lock, so nothing falls between).
    pub fn since(&self, after: u64) -> Backlog<T> {
        let inner = lock(&self.inner);
        let rx = self.tx.subscribe();
        (
            inner
                .1
                .iter()
                .filter(|(seq, _)| *seq > after)
                .cloned()
                .collect(),
            rx,
        )
    }

    /// The last `n` entries.
    pub fn tail(&self, n: usize) -> Vec<(u64, T)> {
        let inner = lock(&self.inner);
        inner
            .1
            .iter()
            .skip(inner.1.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

/// The kept entries, then the live ones that come after them, as one stream
/// (a reader that falls behind skips what it missed rather than stalling).
pub fn kept_then_live<T: Clone + Send + 'static>(
    kept: Vec<(u64, T)>,
    rx: broadcast::Receiver<(u64, T)>,
) -> impl futures_util::Stream<Item = (u64, T)> + Send {
    use futures_util::StreamExt;
    let last = kept.last().map(|(seq, _)| *seq).unwrap_or(0);
    let live = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(entry) => return Some((entry, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .filter(move |(seq, _)| std::future::ready(*seq > last));
    futures_util::stream::iter(kept).chain(live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn bounded_numbered_and_resumable() {
        let log: Replay<&str> = Replay::new(3);
        for word in ["a", "b", "c", "d"] {
            log.push(|_| word);
        }
        assert_eq!(
            log.tail(10),
            [(2, "b"), (3, "c"), (4, "d")],
            "the oldest went"
        );
        let (kept, rx) = log.since(2);
        assert_eq!(kept, [(3, "c"), (4, "d")]);
        assert_eq!(log.push(|_| "e"), "e");
        let got: Vec<_> = kept_then_live(kept, rx).take(3).collect().await;
        assert_eq!(got, [(3, "c"), (4, "d"), (5, "e")]);
    }
}
