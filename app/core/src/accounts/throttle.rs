//! Login throttling, in memory: counts failed sign-ins per account and per
//! client address in a sliding window; past the limit, sign-in is refused
//! (even with the right password) until the lockout ends.

use crate::config::ThrottleConfig;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Entry {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

pub struct LoginThrottle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, ip: Option<&str>) -> (String, Option<String>) {
        (
            format!("account:{}", account.trim().to_lowercase()),
            ip.map(|ip| format!("ip:{ip}")),
        )
    }

    /// Seconds to wait before the next try, if this account or address is locked.
    pub fn check(&self, account: &str, ip: Option<&str>) -> Option<u64> {
        let (a, i) = Self::keys(account, ip);
        let now = Instant::now();
        let entries = self.entries.lock().expect("throttle lock");
        [Some(a), i]
            .into_iter()
            .flatten()
            .filter_map(|k| entries.get(&k).and_then(|e| e.locked_until))
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
            .max()
    }

    /// Records a failure; returns the wait if this failure started a lockout.
    pub fn record_failure(&self, account: &str, ip: Option<&str>) -> Option<u64> {
        let (a, i) = Self::keys(account, ip);
        let now = Instant::now();
        let window = Duration::from_secs(self.config.window_secs);
        let lockout = Duration::from_secs(self.config.lockout_secs);
        let mut entries = self.entries.lock().expect("throttle lock");
        // Keep memory bounded under a spray of random emails.
        if entries.len() > 100_000 {
            entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now)
                    || e.failures.iter().any(|t| now - *t < window)
            });
        }
        let mut locked = None;
        for (key, limit) in [
            (Some(a), self.config.max_failures),
            (i, self.config.max_failures_per_ip),
        ] {
            let Some(key) = key else { continue };
            let entry = entries.entry(key).or_default();
            entry.failures.retain(|t| now - *t < window);
            entry.failures.push(now);
            if entry.failures.len() as u32 >= limit {
                entry.locked_until = Some(now + lockout);
                entry.failures.clear();
                locked = Some(lockout.as_secs());
            }
        }
        locked
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let (a, _) = Self::keys(account, None);
        self.entries.lock().expect("throttle lock").remove(&a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_limit_per_account_and_ip() {
        let t = LoginThrottle::new(ThrottleConfig {
            max_failures: 3,
            max_failures_per_ip: 5,
            window_secs: 60,
            lockout_secs: 120,
        });
        assert!(t.check("a@x.io", Some("1.1.1.1")).is_none());
        assert!(t.record_failure("a@x.io", Some("1.1.1.1")).is_none());
        assert!(t.record_failure("A@x.io", Some("1.1.1.1")).is_none());
        assert_eq!(t.record_failure("a@x.io", Some("1.1.1.1")), Some(120));
        assert!(
            t.check("a@x.io", Some("9.9.9.9")).is_some(),
            "the account is locked from anywhere"
        );
        // The address: two more failures on other accounts lock it.
        t.record_failure("b@x.io", Some("1.1.1.1"));
        t.record_failure("c@x.io", Some("1.1.1.1"));
        assert!(t.check("d@x.io", Some("1.1.1.1")).is_some());
        assert!(t.check("d@x.io", Some("2.2.2.2")).is_none());
    }
}
