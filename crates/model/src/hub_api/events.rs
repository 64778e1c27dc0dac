//! `GET /v1/events`: server-sent events. Each event's SSE `id` is the
//! change-log sequence number and its `data` a [`PushEvent`]: ids and counts
//! only, never content.

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::ids::ThreadId;

/// Something changed; sync from your cursor to see what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushEvent {
    /// The latest change-log sequence number.
    pub seq: u64,
    /// Threads that changed since the previous event.
    pub thread_ids: Vec<ThreadId>,
    /// Open threads waiting in each pool's queue.
    pub pools: PoolCounts,
    /// Open threads new or triaged (not yet assigned), per category the
    /// reader's role may read: each thread once, so a workstation shared by
    /// several roles counts a thread two of them may read once. (A hub
    /// from before it sends none.)
    #[serde(default)]
    pub waiting: Vec<CategoryCount>,
}

/// How many open threads of one category wait unassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryCount {
    /// The category.
    pub category: Category,
    /// How many.
    pub count: u64,
}

/// Open threads waiting per pool: threads new or triaged that the pool may
/// read, plus threads assigned to the pool itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolCounts {
    /// GPs.
    pub gp: u64,
    /// Nurses.
    pub nurse: u64,
    /// Pharmacists.
    pub pharmacy: u64,
    /// Reception and admin.
    pub admin: u64,
}
