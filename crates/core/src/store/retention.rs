//! Retention: threads closed for longer than the policy period are purged
//! from the cache (the hub and the EHR hold the record), and the freed pages
//! are zeroed (`secure_delete`) and given back to the file system.

use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::write::ms;
use super::{Store, StoreError};

/// How long a closed thread stays in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days after closing.
    pub closed_days: u32,
}

impl Default for RetentionPolicy {
    /// 30 days.
    fn default() -> Self {
        RetentionPolicy { closed_days: 30 }
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    /// Threads removed.
    pub threads: u64,
    /// Messages removed with them.
    pub messages: u64,
    /// Patients left with no thread, removed too.
    pub patients: u64,
    /// Database pages returned to the file system.
    pub pages_freed: u64,
}

impl Store {
    /// Purges threads closed at or before `now - policy` with everything that
    /// hangs off them (messages, parts, views, search entries, drafts, save
    /// to record's rows), then patients without threads; then reclaims the
    /// space. A thread whose save to record is still waiting is kept.
    pub fn purge_closed(
        &mut self,
        policy: RetentionPolicy,
        now: Timestamp,
    ) -> Result<PurgeReport, StoreError> {
        let cutoff = now - SignedDuration::from_hours(24 * i64::from(policy.closed_days));
        let cutoff = ms(cutoff);
        let pages_before: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let report = self.write(|w| {
            let tx = w.tx();
            // A thread whose save to record still waits stays until saved.
            let messages = tx.execute(
                "DELETE FROM messages WHERE thread_key IN
                     (SELECT thread_key FROM threads WHERE closed_ms IS NOT NULL AND closed_ms <= ?1
                      AND thread_key NOT IN (SELECT thread_key FROM record_saves WHERE saved_at IS NULL))",
                [cutoff],
            )?;
            let threads = tx.execute(
                "DELETE FROM threads WHERE closed_ms IS NOT NULL AND closed_ms <= ?1
                 AND thread_key NOT IN (SELECT thread_key FROM record_saves WHERE saved_at IS NULL)",
                [cutoff],
            )?;
            let patients =
                tx.execute("DELETE FROM patients WHERE id NOT IN (SELECT patient_id FROM threads)", [])?;
            for table in ["record_saves", "record_matches", "refill_decisions"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE thread_key NOT IN (SELECT thread_key FROM threads)"),
                    [],
                )?;
            }
            if messages > 0 {
                // Rewrite the index so no segment still holds purged terms.
                tx.execute("INSERT INTO message_fts(message_fts) VALUES ('optimize')", [])?;
            }
            Ok(PurgeReport {
                threads: threads as u64,
                messages: messages as u64,
                patients: patients as u64,
                pages_freed: 0,
            })
        })?;
        {
            // Frees one page per step: run it to the end.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
        }
        self.checkpoint()?;
        let pages_after: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        Ok(PurgeReport { pages_freed: (pages_before - pages_after).max(0).unsigned_abs(), ..report })
    }
}
