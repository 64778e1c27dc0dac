//! Pools: the shared queues a thread can be assigned to.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::category::Category;

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

    /// Its queue as people name it: "GPs' queue".
    pub fn queue_title(self) -> &'static str {
        match self {
            Pool::Gp => "GPs' queue",
            Pool::Nurse => "Nurses' queue",
            Pool::Pharmacy => "Pharmacists' queue",
            Pool::Admin => "Care navigators' queue",
        }
    }
}

impl Pool {
    /// The queue a new thread of `category` lands in until someone assigns
    /// it elsewhere: refills to the nurses, medication questions to the
    /// pharmacists, admin to the care navigators, the rest to the GPs.
    pub fn home_of(category: Category) -> Pool {
        match category {
            Category::RepeatPrescription => Pool::Nurse,
            Category::MedicationQuestion => Pool::Pharmacy,
            Category::TestResults | Category::ClinicalQuestion | Category::Other => Pool::Gp,
            Category::AdminFitNote | Category::AdminAppointment | Category::AdminLetters => Pool::Admin,
        }
    }
}

impl fmt::Display for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::pools_that_can_read;

    #[test]
    fn every_category_lands_in_a_pool_that_may_read_it() {
        for category in Category::ALL {
            let home = Pool::home_of(category);
            assert!(pools_that_can_read(category).contains(&home), "{category:?} -> {home:?}");
        }
        assert_eq!(Pool::home_of(Category::RepeatPrescription), Pool::Nurse);
        assert_eq!(Pool::home_of(Category::AdminFitNote), Pool::Admin);
    }
}
