//! What the server keeps in memory between requests, each with the rule that keeps it
//! true:
//!
//! - **sessions**: the account behind a session token, for [`SESSION_TTL`]. Signing out
//!   and every account change made through the web forget them at once; a change made
//!   with `fupin user …` while the server runs takes effect within the TTL.
//! - **division names**: the tree changes only with `fupin init`/`demo`; kept for
//!   [`DIVISION_TTL`].
//! - **households**: the rows a household page shows, tagged with the registry head (the
//!   newest change-record number) they were read at. Every registry write goes through
//!   the writer and its hash-chained change log, so an entry whose head is still the
//!   registry's head is exactly what the database holds; any write anywhere (web, import,
//!   CLI) moves the head and the entry is read again.
//!
//! Each map is bounded: when it is full it starts afresh, which costs one read per
//! entry and never serves anything stale.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fupin_store::users::User;

/// How long a session lookup is trusted without asking the database.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(2);
/// How long a division name is trusted.
pub(crate) const DIVISION_TTL: Duration = Duration::from_secs(300);
/// At most this many entries per map.
const CAPACITY: usize = 4096;

/// A bounded map of values with the instant each was stored.
struct Timed<K, V> {
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Timed<K, V> {
    fn new() -> Self {
        Timed { map: Mutex::new(HashMap::new()) }
    }

    /// The value stored for `key` less than `ttl` ago.
    fn get(&self, key: &K, ttl: Duration) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(at, _)| at.elapsed() < ttl).map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, (Instant::now(), value));
    }

    fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A session's account and when the session expires (RFC 3339, as stored).
pub(crate) type SessionEntry = (User, String);

/// The server's in-memory caches (see the module documentation for their rules).
pub(crate) struct Caches {
    sessions: Timed<String, SessionEntry>,
    divisions: Timed<String, Option<String>>,
    households: Timed<String, Arc<dyn std::any::Any + Send + Sync>>,
}

impl Caches {
    pub fn new() -> Caches {
        Caches { sessions: Timed::new(), divisions: Timed::new(), households: Timed::new() }
    }

    pub fn session(&self, token_hash: &str) -> Option<SessionEntry> {
        self.sessions.get(&token_hash.to_owned(), SESSION_TTL)
    }

    pub fn put_session(&self, token_hash: &str, entry: SessionEntry) {
        self.sessions.put(token_hash.to_owned(), entry);
    }

    /// Forgets every cached session: after signing out or any account change.
    pub fn forget_sessions(&self) {
        self.sessions.clear();
    }

    /// The cached name of a division (`Some(None)`: known not to exist).
    pub fn division(&self, code: &str) -> Option<Option<String>> {
        self.divisions.get(&code.to_owned(), DIVISION_TTL)
    }

    pub fn put_division(&self, code: &str, name: Option<String>) {
        self.divisions.put(code.to_owned(), name);
    }

    /// A household's page data read at registry head `head`, if that is what is cached.
    pub fn household<T: Send + Sync + 'static>(&self, hh_id: &str, head: i64) -> Option<Arc<T>> {
        let entry = self.households.get(&hh_id.to_owned(), Duration::MAX)?;
        let data = entry.downcast::<Tagged<T>>().ok()?;
        (data.head == head).then(|| Arc::clone(&data.value))
    }

    pub fn put_household<T: Send + Sync + 'static>(&self, hh_id: &str, head: i64, value: Arc<T>) {
        self.households.put(hh_id.to_owned(), Arc::new(Tagged { head, value }));
    }
}

/// A value and the registry head it was read at.
struct Tagged<T> {
    head: i64,
    value: Arc<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_entry_is_served_only_at_the_head_it_was_read_at() {
        let c = Caches::new();
        c.put_household("h1", 7, Arc::new(String::from("rows")));
        assert_eq!(c.household::<String>("h1", 7).as_deref().map(String::as_str), Some("rows"));
        assert!(c.household::<String>("h1", 8).is_none(), "a newer head reads again");
        assert!(c.household::<u32>("h1", 7).is_none(), "another type is not confused with it");
        assert!(c.household::<String>("h2", 7).is_none());
    }

    #[test]
    fn maps_stay_bounded_and_expire() {
        let t: Timed<u32, u32> = Timed::new();
        for i in 0..(CAPACITY as u32 + 10) {
            t.put(i, i);
        }
        assert!(t.map.lock().unwrap().len() <= CAPACITY);
        t.put(1, 1);
        assert_eq!(t.get(&1, Duration::from_secs(60)), Some(1));
        assert_eq!(t.get(&1, Duration::ZERO), None, "an entry older than the TTL is not served");
    }
}
