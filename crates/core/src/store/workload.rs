//! The workload: open threads per queue and per holder, with how many fall
//! due by the end of the day and how many are past their target; and the
//! threads one clinician closed since a time (from this workstation's audit
//! chain). Counts only.

use rusqlite::params;
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;

use super::queries::parse_key;
use super::write::ms;
use super::{Store, StoreError};

/// Open threads in a queue or held by a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    /// Open threads.
    pub open: u64,
    /// Of which due by the end of the day and not yet breached.
    pub due_today: u64,
    /// Of which past their response target.
    pub breached: u64,
}

/// [`Load`] per queue (every pool, zero included) and per holder (staff
/// ids holding at least one open thread, most open first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// Per pool, in [`Pool::ALL`] order.
    pub pools: Vec<(Pool, Load)>,
    /// Per staff id.
    pub holders: Vec<(String, Load)>,
}

impl Store {
    /// The workload at `now`, "today" ending at `day_end`; breach flags are
    /// refreshed to `now` first.
    pub fn workload(&mut self, now: Timestamp, day_end: Timestamp) -> Result<Workload, StoreError> {
        self.refresh_breaches(now)?;
        let grouped = |column: &str| -> Result<Vec<(String, Load)>, StoreError> {
            let sql = format!(
                "SELECT {column}, count(*), sum(breached_rank = 1 AND due_ms < ?1), sum(breached_rank = 0)
                 FROM triage WHERE state <> 'closed' AND {column} IS NOT NULL
                 GROUP BY {column} ORDER BY count(*) DESC, {column}"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(params![ms(day_end)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Load {
                            open: r.get::<_, i64>(1)?.unsigned_abs(),
                            due_today: r.get::<_, i64>(2)?.unsigned_abs(),
                            breached: r.get::<_, i64>(3)?.unsigned_abs(),
                        },
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        };
        let mut pools: Vec<(Pool, Load)> = Pool::ALL.iter().map(|&p| (p, Load::default())).collect();
        for (key, load) in grouped("pool")? {
            let pool = parse_key(&Pool::ALL, Pool::key, &key, "pool")?;
            if let Some(slot) = pools.iter_mut().find(|(p, _)| *p == pool) {
                slot.1 = load;
            }
        }
        Ok(Workload { pools, holders: grouped("assignee_staff")? })
    }

    /// How many threads `staff` closed at or after `since`, by this
    /// workstation's audit chain (each thread once).
    pub fn closed_by_since(&self, staff: &str, since: Timestamp) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(DISTINCT object) FROM audit_events WHERE actor = ?1 AND action = 'close' AND at_ms >= ?2",
            params![staff, ms(since)],
            |r| r.get(0),
        )?;
        Ok(n.unsigned_abs())
    }
}
