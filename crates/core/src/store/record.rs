//! Save to record in the cache (issue 27): the saves waiting for the
//! practice's FHIR endpoint, the patient match found for a thread and who
//! confirmed it, and the refill decisions sent from here that the hub
//! applied (kept for the record once the outbox has forgotten them). No patient data in any of it:
//! ids, times, keys, and errors in plain words.

use rusqlite::{params, OptionalExtension};
use sealbox_model::hub_api::{ItemDecision, RefillChoice};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::queries::decode_json;
use super::write::{id_of, json, key_of, ms, Writer};
use super::{Store, StoreError};

/// A refill decision sent from this workstation, as the hub applied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefillDecided {
    /// The decision as a whole.
    pub decision: RefillChoice,
    /// Per medicine, when decided one by one.
    #[serde(default)]
    pub items: Vec<ItemDecision>,
}

/// Where a thread's save to record stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRow {
    /// When it was asked for.
    pub queued_at: Timestamp,
    /// Who asked.
    pub queued_by: StaffId,
    /// The save's own audit event (hex), named in the Bundle's Provenance.
    pub audit_hash: String,
    /// Attempts so far.
    pub tries: u32,
    /// The last refusal, in plain words.
    pub last_error: Option<String>,
    /// When the endpoint took it (none: still waiting).
    pub saved_at: Option<Timestamp>,
}

/// The patient match kept for a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRow {
    /// `sealbox_record::matching::Match::key`.
    pub outcome: String,
    /// When it was looked up.
    pub checked_at: Timestamp,
    /// The clinician who confirmed a match that needed it, and when.
    pub confirmed: Option<(StaffId, Timestamp)>,
}

fn at(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Decode("record time"))
}

impl Writer<'_> {
    /// Keeps the refill decision on `thread` the hub just applied.
    pub fn keep_refill_decision(
        &mut self,
        thread: ThreadId,
        decided: &RefillDecided,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx().execute(
            "INSERT OR REPLACE INTO refill_decisions (thread_key, decision_json, applied_at) VALUES (?1, ?2, ?3)",
            params![key_of(thread.0), json(decided, "refill decision")?, ms(now)],
        )?;
        Ok(())
    }

    /// Queues `thread` to be saved (again, if it was saved before: what is
    /// already in the record is matched by its ids, not written twice).
    pub fn queue_record_save(
        &mut self,
        thread: ThreadId,
        by: &StaffId,
        audit_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx().execute(
            "INSERT OR REPLACE INTO record_saves (thread_key, queued_at, queued_by, audit_hash, tries)
             VALUES (?1, ?2, ?3, ?4, 0)",
            params![key_of(thread.0), ms(now), by.0, audit_hash],
        )?;
        Ok(())
    }

    /// A try that failed, and why (plain words: it is shown and kept).
    pub fn record_save_failed(&mut self, thread: ThreadId, why: &str) -> Result<(), StoreError> {
        self.tx().execute(
            "UPDATE record_saves SET tries = tries + 1, last_error = ?2 WHERE thread_key = ?1",
            params![key_of(thread.0), why],
        )?;
        Ok(())
    }

    /// The endpoint took the save.
    pub fn record_saved(&mut self, thread: ThreadId, now: Timestamp) -> Result<(), StoreError> {
        self.tx().execute(
            "UPDATE record_saves SET tries = tries + 1, last_error = NULL, saved_at = ?2 WHERE thread_key = ?1",
            params![key_of(thread.0), ms(now)],
        )?;
        Ok(())
    }

    /// Keeps the match found for `thread`; a confirmation stands only
    /// while the outcome it confirmed does.
    pub fn set_record_match(
        &mut self,
        thread: ThreadId,
        outcome: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx().execute(
            "INSERT INTO record_matches (thread_key, outcome, checked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(thread_key) DO UPDATE SET
                 confirmed_by = CASE WHEN outcome = excluded.outcome THEN confirmed_by END,
                 confirmed_at = CASE WHEN outcome = excluded.outcome THEN confirmed_at END,
                 outcome = excluded.outcome, checked_at = excluded.checked_at",
            params![key_of(thread.0), outcome, ms(now)],
        )?;
        Ok(())
    }

    /// A clinician confirms the match kept for `thread` (false: none kept).
    pub fn confirm_record_match(
        &mut self,
        thread: ThreadId,
        by: &StaffId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = self.tx().execute(
            "UPDATE record_matches SET confirmed_by = ?2, confirmed_at = ?3 WHERE thread_key = ?1",
            params![key_of(thread.0), by.0, ms(now)],
        )?;
        Ok(changed == 1)
    }
}

impl Store {
    /// The refill decision sent from here on `thread` that the hub
    /// applied, if one was.
    pub fn refill_decided(&self, thread: ThreadId) -> Result<Option<RefillDecided>, StoreError> {
        let row: Option<String> = self
            .conn
            .query_row(
                "SELECT decision_json FROM refill_decisions WHERE thread_key = ?1",
                [key_of(thread.0)],
                |r| r.get(0),
            )
            .optional()?;
        row.map(|decided| decode_json(&decided, "refill decision")).transpose()
    }

    /// Where `thread`'s save stands (none: never asked for).
    pub fn record_save(&self, thread: ThreadId) -> Result<Option<SaveRow>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT queued_at, queued_by, audit_hash, tries, last_error, saved_at
                 FROM record_saves WHERE thread_key = ?1",
                [key_of(thread.0)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        SaveRow {
                            queued_at: Timestamp::UNIX_EPOCH,
                            queued_by: StaffId(r.get(1)?),
                            audit_hash: r.get(2)?,
                            tries: r.get(3)?,
                            last_error: r.get(4)?,
                            saved_at: None,
                        },
                        r.get::<_, Option<i64>>(5)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(queued, row, saved)| {
            Ok(SaveRow { queued_at: at(queued)?, saved_at: saved.map(at).transpose()?, ..row })
        })
        .transpose()
    }

    /// Threads whose save is waiting, oldest first.
    pub fn waiting_record_saves(&self) -> Result<Vec<ThreadId>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT thread_key FROM record_saves WHERE saved_at IS NULL ORDER BY queued_at, thread_key",
        )?;
        let keys = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(keys.into_iter().map(|k| ThreadId(id_of(k))).collect())
    }

    /// The match kept for `thread`.
    pub fn record_match(&self, thread: ThreadId) -> Result<Option<MatchRow>, StoreError> {
        let row: Option<(String, i64, Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT outcome, checked_at, confirmed_by, confirmed_at FROM record_matches WHERE thread_key = ?1",
                [key_of(thread.0)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(outcome, checked, by, when)| {
            let confirmed = match (by, when) {
                (Some(by), Some(when)) => Some((StaffId(by), at(when)?)),
                _ => None,
            };
            Ok(MatchRow { outcome, checked_at: at(checked)?, confirmed })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use sealbox_model::hub_api::ItemOutcome;
    use sealbox_model::pool::Pool;
    use sealbox_model::refill::RejectionReason;
    use sealbox_model::thread_state::ThreadState;

    use super::super::retention::RetentionPolicy;
    use super::super::testutil::{new_store, patient, t, thread};
    use super::*;

    #[test]
    fn a_save_waits_until_taken_and_keeps_why_it_is_still_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _key, _path) = new_store(dir.path());
        let gp = StaffId("gp-1".into());
        let (one, two) = (ThreadId(1), ThreadId(2));
        store.write(|w| w.queue_record_save(two, &gp, "bb", t(5))).unwrap();
        store.write(|w| w.queue_record_save(one, &gp, "aa", t(1))).unwrap();
        assert_eq!(store.waiting_record_saves().unwrap(), [one, two], "oldest first");
        store.write(|w| w.record_save_failed(one, "could not be reached")).unwrap();
        let row = store.record_save(one).unwrap().unwrap();
        assert_eq!(
            (row.tries, row.last_error.as_deref(), row.saved_at),
            (1, Some("could not be reached"), None)
        );
        assert_eq!((row.queued_at, row.queued_by.0.as_str(), row.audit_hash.as_str()), (t(1), "gp-1", "aa"));
        store.write(|w| w.record_saved(one, t(9))).unwrap();
        let row = store.record_save(one).unwrap().unwrap();
        assert_eq!((row.tries, row.last_error, row.saved_at), (2, None, Some(t(9))));
        assert_eq!(store.waiting_record_saves().unwrap(), [two]);
        // Asked again (the thread went on): waiting again, counted afresh.
        store.write(|w| w.queue_record_save(one, &gp, "cc", t(20))).unwrap();
        let row = store.record_save(one).unwrap().unwrap();
        assert_eq!((row.tries, row.saved_at, row.audit_hash.as_str()), (0, None, "cc"));
        assert!(store.record_save(ThreadId(3)).unwrap().is_none());
    }

    #[test]
    fn a_confirmed_match_stands_only_while_the_record_says_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _key, _path) = new_store(dir.path());
        let (gp, one) = (StaffId("gp-1".into()), ThreadId(1));
        assert!(!store.write(|w| w.confirm_record_match(one, &gp, t(0))).unwrap(), "nothing looked up");
        store.write(|w| w.set_record_match(one, "differs_name", t(1))).unwrap();
        assert!(store.write(|w| w.confirm_record_match(one, &gp, t(2))).unwrap());
        store.write(|w| w.set_record_match(one, "differs_name", t(3))).unwrap();
        let kept = store.record_match(one).unwrap().unwrap();
        assert_eq!((kept.outcome.as_str(), kept.checked_at), ("differs_name", t(3)));
        assert_eq!(kept.confirmed, Some((gp.clone(), t(2))), "the same mismatch: still confirmed");
        store.write(|w| w.set_record_match(one, "differs_birth_date", t(4))).unwrap();
        assert_eq!(store.record_match(one).unwrap().unwrap().confirmed, None, "another: asked again");
    }

    #[test]
    fn a_decision_the_hub_applied_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _key, _path) = new_store(dir.path());
        let decided = RefillDecided {
            decision: RefillChoice::Reject { reason: RejectionReason::MonitoringNeeded },
            items: vec![
                ItemDecision { item: 0, outcome: ItemOutcome::Issue },
                ItemDecision {
                    item: 1,
                    outcome: ItemOutcome::NotIssued { reason: RejectionReason::TooEarly },
                },
            ],
        };
        assert_eq!(store.refill_decided(ThreadId(4)).unwrap(), None);
        store.write(|w| w.keep_refill_decision(ThreadId(4), &decided, t(1))).unwrap();
        assert_eq!(store.refill_decided(ThreadId(4)).unwrap(), Some(decided));
    }

    #[test]
    fn retention_keeps_a_closed_thread_until_its_save_to_record_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _key, _path) = new_store(dir.path());
        let gp = StaffId("gp-1".into());
        store
            .write(|w| {
                w.upsert_patient(&patient("p1", "Ada"))?;
                w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
                w.set_thread_state(ThreadId(1), &ThreadState::Closed, t(10))?;
                w.queue_record_save(ThreadId(1), &gp, "aa", t(10))?;
                w.set_record_match(ThreadId(1), "agrees", t(10))
            })
            .unwrap();
        let later = t(10 + 40 * 24 * 3600);
        let report = store.purge_closed(RetentionPolicy::default(), later).unwrap();
        assert_eq!(report.threads, 0, "its save still waits");
        assert!(store.thread(ThreadId(1)).unwrap().is_some());
        store.write(|w| w.record_saved(ThreadId(1), later)).unwrap();
        assert_eq!(store.purge_closed(RetentionPolicy::default(), later).unwrap().threads, 1);
        assert!(store.record_save(ThreadId(1)).unwrap().is_none(), "its rows go with it");
        assert!(store.record_match(ThreadId(1)).unwrap().is_none());
    }
}
