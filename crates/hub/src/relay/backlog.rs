//! What a push counts: the threads waiting, per pool and per category.
//! Counted in full by one query ([`waiting_counts`], for a stream's first
//! event), and kept by the publisher in memory between publications
//! ([`Backlog`]): a publication reads only the threads it names, where a
//! full count reads the whole backlog every time, a cost that grew with it
//! (docs/benchmarks.md).

use std::collections::HashMap;

use sealbox_model::category::Category;
use sealbox_model::hub_api::{CategoryCount, PoolCounts};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::pools_that_can_read;
use sealbox_model::pool::Pool;

use super::store::from_key;
use crate::db::many::{Kind, Many};
use crate::db::sql::{Param, Sql, SqlRow, ToParam};
use crate::db::DbError;

/// The states a thread waits in ([`waits_in`] in SQL).
const WAITING: &str = "state_kind IN ('new', 'triaged', 'assigned')";

/// Whether a thread whose state is of `kind` waits.
fn waits_in(kind: &str) -> bool {
    matches!(kind, "new" | "triaged" | "assigned")
}

/// What a waiting thread counts for: its state's kind (`new`, `triaged`,
/// `assigned`), its category and, assigned, its pool (as stored).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Waits {
    kind: String,
    category: String,
    queue: Option<String>,
}

/// Open threads waiting per pool: new or triaged threads each pool may read,
/// plus threads assigned to the pool.
pub fn pool_counts(conn: &dyn Sql) -> Result<PoolCounts, DbError> {
    Ok(waiting_counts(conn)?.0)
}

/// What a push counts, from one query: open threads waiting per pool (new
/// or triaged threads each pool may read, plus threads assigned to the
/// pool), and threads new or triaged (not assigned) per category, in
/// [`Category::ALL`] order, categories with none left out.
pub fn waiting_counts(conn: &dyn Sql) -> Result<(PoolCounts, Vec<CategoryCount>), DbError> {
    let rows = conn.query_map(
        &format!(
            "SELECT state_kind, category, queue_pool, COUNT(*) FROM threads
             WHERE {WAITING} GROUP BY state_kind, category, queue_pool"
        ),
        &[],
        |r| Ok((waits(&r, 0)?, r.get::<u64>(3)?)),
    )?;
    counted(rows.iter().map(|(w, n)| (w, *n)))
}

/// The counts of `tally` (what threads wait for, and how many).
fn counted<'a>(
    tally: impl Iterator<Item = (&'a Waits, u64)>,
) -> Result<(PoolCounts, Vec<CategoryCount>), DbError> {
    let mut pools = PoolCounts::default();
    let mut categories: Vec<CategoryCount> = Vec::new();
    for (waits, n) in tally {
        if waits.kind == "assigned" {
            if let Some(q) = &waits.queue {
                bump(&mut pools, from_key::<Pool>(q, "queue pool")?, n);
            }
            continue;
        }
        let category: Category = from_key(&waits.category, "category")?;
        for pool in pools_that_can_read(category) {
            bump(&mut pools, pool, n);
        }
        match categories.iter_mut().find(|c| c.category == category) {
            Some(c) => c.count = c.count.saturating_add(n),
            None => categories.push(CategoryCount { category, count: n }),
        }
    }
    categories.sort_by_key(|c| Category::ALL.iter().position(|k| *k == c.category));
    Ok((pools, categories))
}

/// Adds `by` to `pool`'s count.
pub fn bump(counts: &mut PoolCounts, pool: Pool, by: u64) {
    let slot = match pool {
        Pool::Gp => &mut counts.gp,
        Pool::Nurse => &mut counts.nurse,
        Pool::Pharmacy => &mut counts.pharmacy,
        Pool::Admin => &mut counts.admin,
    };
    *slot = slot.saturating_add(by);
}

/// Columns `first..first + 3` of `row`: state kind, category, queue pool.
fn waits(row: &SqlRow, first: usize) -> Result<Waits, DbError> {
    Ok(Waits { kind: row.get(first)?, category: row.get(first + 1)?, queue: row.get(first + 2)? })
}

/// A publication's counts (per pool, per category), and the category of
/// each thread it names.
pub type Counted = ((PoolCounts, Vec<CategoryCount>), Vec<(ThreadId, Category)>);

/// The waiting threads as last read, and how many wait for each thing:
/// kept by the publisher, which reads the threads each publication names
/// and counts from memory. Loaded in full at first, and again every
/// [`Backlog::RELOAD_EVERY`] publications, so a change no writer told
/// (none is known) is counted right again soon after.
#[derive(Debug, Default)]
pub struct Backlog {
    threads: HashMap<ThreadId, Waits>,
    tally: HashMap<Waits, u64>,
    /// Publications since the last full load (`None`: never loaded).
    since_load: Option<u32>,
}

impl Backlog {
    /// Publications between two full loads.
    pub const RELOAD_EVERY: u32 = 1000;

    /// Brings the backlog up to date with `changed` (threads that changed
    /// since the last call; loaded in full instead when due): the counts,
    /// and the category of each of `changed` the hub knows. Should reading
    /// fail, the next call loads it in full.
    pub fn update(&mut self, conn: &dyn Sql, changed: &[ThreadId]) -> Result<Counted, DbError> {
        let updated = self.try_update(conn, changed);
        if updated.is_err() {
            self.since_load = None;
        }
        updated
    }

    fn try_update(&mut self, conn: &dyn Sql, changed: &[ThreadId]) -> Result<Counted, DbError> {
        let mut categories = Vec::with_capacity(changed.len());
        let due = self.since_load.is_none_or(|n| n >= Self::RELOAD_EVERY);
        for chunk in changed.chunks(1000) {
            let params: Vec<Param<'_>> = chunk.iter().map(|t| t.0.param()).collect();
            let mut m = Many::new(conn.backend());
            let among = m.among(Kind::Int, &params);
            let query = m.statement(format!(
                "SELECT id, state_kind, category, queue_pool FROM threads WHERE id {among}"
            ));
            let mut found: HashMap<ThreadId, Waits> = HashMap::with_capacity(chunk.len());
            for row in conn.run(&query)? {
                let (id, waits) = (ThreadId(row.get(0)?), waits(&row, 1)?);
                categories.push((id, from_key(&waits.category, "category")?));
                found.insert(id, waits);
            }
            if !due {
                for id in chunk {
                    let now = found.remove(id).filter(|w| waits_in(&w.kind));
                    self.set(*id, now);
                }
            }
        }
        if due {
            self.load(conn)?;
        }
        self.since_load = self.since_load.map(|n| n.saturating_add(1));
        Ok((counted(self.tally.iter().map(|(w, n)| (w, *n)))?, categories))
    }

    /// Reads every waiting thread anew.
    fn load(&mut self, conn: &dyn Sql) -> Result<(), DbError> {
        let rows = conn.query(
            &format!("SELECT id, state_kind, category, queue_pool FROM threads WHERE {WAITING}"),
            &[],
        )?;
        *self = Backlog { since_load: Some(0), ..Backlog::default() };
        for row in rows {
            self.set(ThreadId(row.get(0)?), Some(waits(&row, 1)?));
        }
        Ok(())
    }

    /// `id` now waits for `now` (or no longer waits, with `None`).
    fn set(&mut self, id: ThreadId, now: Option<Waits>) {
        if let Some(before) = self.threads.remove(&id) {
            if let Some(n) = self.tally.get_mut(&before) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.tally.remove(&before);
                }
            }
        }
        if let Some(now) = now {
            *self.tally.entry(now.clone()).or_default() += 1;
            self.threads.insert(id, now);
        }
    }
}
