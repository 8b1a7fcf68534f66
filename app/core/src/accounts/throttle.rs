//! Login throttling, in memory, in a sliding window of failed sign-ins.
//!
//! Three counters, so that an attacker is slowed without locking the real
//! owner out (anyone who knows an email could otherwise keep its owner out
//! by failing on purpose):
//!
//! - per client address: past `max_failures_per_ip`, that address may not
//!   try any account until the lockout ends;
//! - per account *and* address: past `max_failures`, that address may not
//!   try that account until the lockout ends;
//! - per account alone: never a lockout, only a short added delay before
//!   each try once the account has seen `account_delay_after` failures,
//!   growing by `account_delay_step_ms` per failure up to
//!   `account_delay_max_ms`. It slows guessing spread over many addresses;
//!   the owner, signing in from their own address, waits at most that long.

use crate::accounts::AccountError;
use crate::config::ThrottleConfig;
use crate::sync::lock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Entry {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

impl Entry {
    fn forget_older_than(&mut self, now: Instant, window: Duration) {
        self.failures.retain(|t| now - *t < window);
    }

    fn locked_for(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn is_stale(&self, now: Instant, window: Duration) -> bool {
        self.locked_for(now).is_none() && self.failures.iter().all(|t| now - *t >= window)
    }
}

/// Whether a sign-in may be tried now.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// This address (for any account, or for this one) is locked out.
    Refused { retry_after_secs: u64 },
    /// Go ahead after this delay (zero unless the account is under attack).
    Allowed { delay: Duration },
}

pub struct LoginThrottle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Keys of the three counters; the address is absent when the server does
/// not know it (then only the account's delay applies).
struct Keys {
    account: String,
    pair: Option<String>,
    ip: Option<String>,
}

fn keys(account: &str, ip: Option<&str>) -> Keys {
    let account = account.trim().to_lowercase();
    Keys {
        pair: ip.map(|ip| format!("pair:{account}|{ip}")),
        ip: ip.map(|ip| format!("ip:{ip}")),
        account: format!("account:{account}"),
    }
}

/// Entries kept before stale ones are swept, so a spray of random emails
/// cannot grow memory without bound.
const SWEEP_ABOVE: usize = 100_000;

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn window(&self) -> Duration {
        Duration::from_secs(self.config.window_secs)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere while holding the lock leaves counters that are still usable.
        lock(&self.entries)
    }

    /// Whether `account` may be tried from `ip` now, and after what delay.
    pub fn attempt(&self, account: &str, ip: Option<&str>) -> Attempt {
        let k = keys(account, ip);
        let now = Instant::now();
        let window = self.window();
        let mut entries = self.entries();
        let locked = [k.ip.as_ref(), k.pair.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|key| entries.get(key).and_then(|e| e.locked_for(now)))
            .max();
        if let Some(wait) = locked {
            return Attempt::Refused {
                retry_after_secs: wait.as_secs().max(1),
            };
        }
        let failures = entries.get_mut(&k.account).map_or(0, |e| {
            e.forget_older_than(now, window);
            e.failures.len() as u32
        });
        Attempt::Allowed {
            delay: self.account_delay(failures),
        }
    }

    /// The added wait for an account that has seen `failures` recent failures.
    fn account_delay(&self, failures: u32) -> Duration {
        let after = self.config.account_delay_after;
        if after == 0 || failures < after {
            return Duration::ZERO;
        }
        let steps = u64::from(failures - after + 1);
        let ms = steps
            .saturating_mul(self.config.account_delay_step_ms)
            .min(self.config.account_delay_max_ms);
        Duration::from_millis(ms)
    }

    /// Waits out the account's delay, or refuses a locked-out address: what
    /// every password check (sign-in, git Basic auth) does first.
    pub async fn wait_turn(&self, account: &str, ip: Option<&str>) -> Result<(), AccountError> {
        match self.attempt(account, ip) {
            Attempt::Refused { retry_after_secs } => {
                Err(AccountError::Throttled { retry_after_secs })
            }
            Attempt::Allowed { delay } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(())
            }
        }
    }

    /// Records a failure; returns the wait if this failure started a lockout
    /// (of the address, or of the address for this account).
    pub fn record_failure(&self, account: &str, ip: Option<&str>) -> Option<u64> {
        let k = keys(account, ip);
        let now = Instant::now();
        let window = self.window();
        let lockout = Duration::from_secs(self.config.lockout_secs);
        let mut entries = self.entries();
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, e| !e.is_stale(now, window));
        }
        let mut locked = None;
        let counters = [
            (Some(k.account), None),
            (k.pair, Some(self.config.max_failures)),
            (k.ip, Some(self.config.max_failures_per_ip)),
        ];
        for (key, lock_at) in counters {
            let Some(key) = key else { continue };
            let entry = entries.entry(key).or_default();
            entry.forget_older_than(now, window);
            entry.failures.push(now);
            // The account alone is never locked: its counter only feeds the delay.
            if let Some(limit) = lock_at {
                if entry.failures.len() as u32 >= limit {
                    entry.locked_until = Some(now + lockout);
                    entry.failures.clear();
                    locked = Some(lockout.as_secs());
                }
            }
        }
        locked
    }

    /// A successful sign-in clears the account's failures and those of this
    /// address for it (not the address's own count: other accounts it tried
    /// still count against it).
    pub fn record_success(&self, account: &str, ip: Option<&str>) {
        let k = keys(account, ip);
        let mut entries = self.entries();
        entries.remove(&k.account);
        if let Some(pair) = k.pair {
            entries.remove(&pair);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            max_failures: 3,
            max_failures_per_ip: 5,
            window_secs: 60,
            lockout_secs: 120,
            account_delay_after: 4,
            account_delay_step_ms: 100,
            account_delay_max_ms: 250,
        })
    }

    fn refused(a: Attempt) -> bool {
        matches!(a, Attempt::Refused { .. })
    }

    #[test]
    fn an_address_is_locked_out_of_an_account_but_the_owner_elsewhere_is_not() {
        let t = throttle();
        assert!(t.record_failure("a@x.io", Some("1.1.1.1")).is_none());
        assert!(t.record_failure("A@x.io", Some("1.1.1.1")).is_none());
        assert_eq!(t.record_failure("a@x.io", Some("1.1.1.1")), Some(120));
        assert!(refused(t.attempt("a@x.io", Some("1.1.1.1"))));
        assert_eq!(
            t.attempt("a@x.io", Some("9.9.9.9")),
            Attempt::Allowed {
                delay: Duration::ZERO
            },
            "the account is not locked from other addresses"
        );
        assert!(
            !refused(t.attempt("b@x.io", Some("1.1.1.1"))),
            "the address may still try other accounts"
        );
    }

    #[test]
    fn an_address_that_fails_on_many_accounts_is_locked_out_of_all() {
        let t = throttle();
        for account in ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"] {
            t.record_failure(account, Some("1.1.1.1"));
        }
        assert!(refused(t.attempt("f@x.io", Some("1.1.1.1"))));
        assert!(!refused(t.attempt("f@x.io", Some("2.2.2.2"))));
    }

    #[test]
    fn failures_from_many_addresses_only_slow_the_account_down_with_a_bounded_delay() {
        let t = throttle();
        let delay = |t: &LoginThrottle| match t.attempt("a@x.io", Some("9.9.9.9")) {
            Attempt::Allowed { delay } => delay,
            other => panic!("the owner's address is never refused here: {other:?}"),
        };
        for n in 0..3 {
            t.record_failure("a@x.io", Some(&format!("10.0.0.{n}")));
        }
        assert_eq!(delay(&t), Duration::ZERO, "below account_delay_after");
        t.record_failure("a@x.io", Some("10.0.0.3"));
        assert_eq!(delay(&t), Duration::from_millis(100));
        t.record_failure("a@x.io", Some("10.0.0.4"));
        assert_eq!(delay(&t), Duration::from_millis(200));
        for n in 5..50 {
            t.record_failure("a@x.io", Some(&format!("10.0.0.{n}")));
        }
        assert_eq!(
            delay(&t),
            Duration::from_millis(250),
            "capped at account_delay_max_ms"
        );
        t.record_success("a@x.io", Some("9.9.9.9"));
        assert_eq!(
            delay(&t),
            Duration::ZERO,
            "the owner's sign-in clears the account's count"
        );
    }

    #[test]
    fn success_clears_the_pair_but_not_the_address() {
        let t = throttle();
        t.record_failure("a@x.io", Some("1.1.1.1"));
        t.record_failure("a@x.io", Some("1.1.1.1"));
        t.record_failure("b@x.io", Some("1.1.1.1"));
        t.record_failure("c@x.io", Some("1.1.1.1"));
        t.record_success("a@x.io", Some("1.1.1.1"));
        t.record_failure("a@x.io", Some("1.1.1.1"));
        assert!(
            refused(t.attempt("z@x.io", Some("1.1.1.1"))),
            "five failures from the address in all"
        );
    }

    #[test]
    fn unknown_addresses_only_feed_the_account_delay() {
        let t = throttle();
        for _ in 0..10 {
            assert!(t.record_failure("a@x.io", None).is_none());
        }
        assert!(!refused(t.attempt("a@x.io", None)));
    }
}
