//! The inbox order: breached first, then red-flagged, then by due time, then
//! by received time, then by thread id. One total order, used by the cache's
//! SQL queries (through [`InboxSortKey::encode`]) and by the UI (through
//! `Ord`), so both always list threads the same way.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

use crate::breach::{BreachState, BreachStatus};
use crate::ids::ThreadId;

/// The columns a cache stores to reproduce the order, and the ORDER BY that
/// sorts them exactly as [`InboxSortKey`]'s `Ord` does.
pub const SQL_ORDER_BY: &str =
    "breached_rank ASC, urgent_rank ASC, due_ms ASC, received_ms ASC, thread_key ASC";

/// What the inbox sorts on. Times are whole milliseconds since the Unix epoch
/// so that the comparator and the integer encoding see the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InboxSortKey {
    /// Past its due time.
    pub breached: bool,
    /// Has at least one red flag.
    pub urgent: bool,
    /// Due time (None: no target, sorts after every due time).
    pub due_ms: Option<i64>,
    /// When the hub received the thread's latest patient message.
    pub received_ms: i64,
    /// Final tie-break.
    pub thread: ThreadId,
}

impl InboxSortKey {
    /// Builds a key from a breach status (if any) and the other facts.
    pub fn new(breach: Option<&BreachStatus>, urgent: bool, received: Timestamp, thread: ThreadId) -> Self {
        InboxSortKey {
            breached: breach.is_some_and(|b| b.state == BreachState::Breached),
            urgent,
            due_ms: breach.map(|b| b.due.as_millisecond()),
            received_ms: received.as_millisecond(),
            thread,
        }
    }

    /// The key as integers whose lexicographic order (ascending, column by
    /// column, as in [`SQL_ORDER_BY`]) equals this type's `Ord`.
    ///
    /// `[breached_rank, urgent_rank, due_ms, received_ms, thread_key]`:
    /// ranks are 0 for yes and 1 for no; a missing due time is `i64::MAX`;
    /// the u64 thread id is mapped to i64 by flipping the sign bit, which
    /// keeps its order within SQLite's signed 64-bit integers.
    pub fn encode(&self) -> [i64; 5] {
        [
            i64::from(!self.breached),
            i64::from(!self.urgent),
            self.due_ms.unwrap_or(i64::MAX),
            self.received_ms,
            thread_key(self.thread),
        ]
    }
}

/// Order-preserving map from a u64 thread id to i64.
pub fn thread_key(id: ThreadId) -> i64 {
    i64::from_ne_bytes((id.0 ^ (1u64 << 63)).to_ne_bytes())
}

impl Ord for InboxSortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        // true before false for the flags.
        other
            .breached
            .cmp(&self.breached)
            .then(other.urgent.cmp(&self.urgent))
            .then(match (self.due_ms, other.due_ms) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
            .then(self.received_ms.cmp(&other.received_ms))
            .then(self.thread.cmp(&other.thread))
    }
}

impl PartialOrd for InboxSortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Sorts keys into inbox order.
pub fn sort_inbox(keys: &mut [InboxSortKey]) {
    keys.sort();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(breached: bool, urgent: bool, due: Option<i64>, received: i64, id: u64) -> InboxSortKey {
        InboxSortKey { breached, urgent, due_ms: due, received_ms: received, thread: ThreadId(id) }
    }

    #[test]
    fn breached_then_urgent_then_due_then_received_then_id() {
        let mut keys = vec![
            key(false, false, None, 1, 1),
            key(false, false, Some(50), 9, 2),
            key(false, true, Some(900), 9, 3),
            key(true, false, Some(10), 9, 4),
            key(false, false, Some(50), 5, 5),
            key(false, false, Some(50), 5, 0),
            key(true, true, Some(20), 9, 6),
        ];
        sort_inbox(&mut keys);
        let ids: Vec<u64> = keys.iter().map(|k| k.thread.0).collect();
        assert_eq!(ids, vec![6, 4, 3, 0, 5, 2, 1]);
    }

    #[test]
    fn thread_key_preserves_unsigned_order() {
        let ids = [0u64, 1, 42, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX];
        for w in ids.windows(2) {
            assert!(thread_key(ThreadId(w[0])) < thread_key(ThreadId(w[1])), "{w:?}");
        }
    }
}
