//! "Now" for idle times. Idle stop is measured in minutes; a clock the
//! tests can move lets them check it without waiting.

#[cfg(test)]
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone, Default)]
pub(crate) enum Clock {
    #[default]
    System,
    /// Stands still until `advance`d.
    #[cfg(test)]
    Manual(Arc<Mutex<Instant>>),
}

impl Clock {
    pub fn now(&self) -> Instant {
        match self {
            Clock::System => Instant::now(),
            #[cfg(test)]
            Clock::Manual(now) => *crate::sync::lock(now),
        }
    }

    #[cfg(test)]
    pub fn manual() -> Self {
        Clock::Manual(Arc::new(Mutex::new(Instant::now())))
    }

    #[cfg(test)]
    pub fn advance(&self, by: std::time::Duration) {
        if let Clock::Manual(now) = self {
            *crate::sync::lock(now) += by;
        }
    }
}
