//! Pools: the shared queues a thread can be assigned to.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A team queue, with its own sealing key (see design.md, "Pool keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// The GPs' queue.
    Gp,
    /// The nursing team's queue.
    Nurse,
    /// The practice pharmacists' queue.
    Pharmacy,
    /// Reception and admin.
    Admin,
}

impl Pool {
    /// Every pool.
    pub const ALL: [Pool; 4] = [Pool::Gp, Pool::Nurse, Pool::Pharmacy, Pool::Admin];

    /// The snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            Pool::Gp => "gp",
            Pool::Nurse => "nurse",
            Pool::Pharmacy => "pharmacy",
            Pool::Admin => "admin",
        }
    }
}

impl fmt::Display for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
