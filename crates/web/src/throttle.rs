//! Sign-in attempts counted in memory where there is no account row to count them in:
//! per typed username that names no account (so that an unknown name locks exactly as
//! a known one does, and the answers do not tell which names exist), and per peer
//! address (so that one machine cannot try a password on many names).
//!
//! As in `fupin_store::users::claim_attempt`, an attempt is counted *before* its
//! password is checked: a burst of parallel attempts cannot all pass the check before
//! the first failure is counted.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// At most this many keys are remembered; past it, expired ones are forgotten first,
/// and if none has expired the oldest window is.
const MAX_KEYS: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Attempts counted in the current window.
    count: i64,
    /// When the window began.
    since: OffsetDateTime,
    /// Refused until then.
    locked_until: Option<OffsetDateTime>,
}

/// What an attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Go on and check the password; `locks` when this attempt used the last try, so a
    /// failure of it is the one that locked.
    Allowed { locks: bool },
    /// Refused without checking the password.
    Locked(OffsetDateTime),
}

/// Counters by key, each with its own window.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Attempts {
    /// Counts one attempt of `key`: at most `max` within `window`; the attempt that
    /// makes `max` locks the key for `window` from `now`.
    pub fn claim(&self, key: &str, max: i64, window: Duration, now: OffsetDateTime) -> Claim {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            entries.retain(|_, e| e.locked_until.is_some_and(|u| u > now) || e.since + window > now);
            if entries.len() >= MAX_KEYS
                && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.since).map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        let e = entries.entry(key.to_owned()).or_insert(Entry { count: 0, since: now, locked_until: None });
        if let Some(until) = e.locked_until {
            if until > now {
                return Claim::Locked(until);
            }
            *e = Entry { count: 0, since: now, locked_until: None };
        }
        if e.since + window <= now {
            *e = Entry { count: 0, since: now, locked_until: None };
        }
        e.count += 1;
        let locks = e.count >= max;
        if locks {
            // The count stays: if this attempt turns out right, [`Attempts::refund`]
            // lifts the lock and gives back this one attempt, not the failures before it.
            e.locked_until = Some(now + window);
        }
        Claim::Allowed { locks }
    }

    /// Gives back an attempt that turned out right: only failures count. The lock the
    /// attempt took, if it took one, is lifted; the failures counted before it stay, so
    /// a right password between failures does not start the count again.
    pub fn refund(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = entries.get_mut(key) {
            e.locked_until = None;
            e.count = (e.count - 1).max(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_that_reaches_the_limit_locks_and_later_ones_are_refused() {
        let a = Attempts::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let w = Duration::minutes(15);
        for _ in 0..4 {
            assert_eq!(a.claim("x", 5, w, now), Claim::Allowed { locks: false });
        }
        assert_eq!(a.claim("x", 5, w, now), Claim::Allowed { locks: true });
        assert_eq!(a.claim("x", 5, w, now), Claim::Locked(now + w));
        assert_eq!(a.claim("y", 5, w, now), Claim::Allowed { locks: false }, "keys are apart");
        // After the lock: counting starts again.
        assert_eq!(a.claim("x", 5, w, now + w), Claim::Allowed { locks: false });
    }

    #[test]
    fn a_right_attempt_is_given_back_and_a_window_ends() {
        let a = Attempts::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let w = Duration::minutes(15);
        for _ in 0..10 {
            assert_eq!(a.claim("x", 2, w, now), Claim::Allowed { locks: false });
            a.refund("x");
        }
        assert_eq!(a.claim("x", 2, w, now), Claim::Allowed { locks: false });
        assert_eq!(a.claim("x", 2, w, now + w), Claim::Allowed { locks: false }, "a new window");
        assert_eq!(a.claim("x", 2, w, now + w), Claim::Allowed { locks: true });
    }

    #[test]
    fn a_right_attempt_that_reached_the_limit_leaves_the_failures_before_it() {
        let a = Attempts::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let w = Duration::minutes(15);
        for _ in 0..4 {
            assert_eq!(a.claim("x", 5, w, now), Claim::Allowed { locks: false });
        }
        assert_eq!(a.claim("x", 5, w, now), Claim::Allowed { locks: true });
        a.refund("x");
        assert_eq!(a.claim("x", 5, w, now), Claim::Allowed { locks: true }, "the four failures still count");
        assert_eq!(a.claim("x", 5, w, now), Claim::Locked(now + w));
    }
}
