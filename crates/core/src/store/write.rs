//! Writes. Every write happens inside [`Store::write`]: one IMMEDIATE
//! transaction that commits only if the closure returns `Ok` — so a sync
//! batch (messages + triage + cursor) or an action (cache + outbox + audit)
//! is all-or-nothing, including when the disk fills up half way.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, PatientId, StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{FreeText, Message, MessagePart};
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::Patient;
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::{Assignee, ThreadState};

use super::{Store, StoreError};

/// The order-preserving map from a u64 hub id to SQLite's i64 (the same as
/// `sealbox_model::inbox_order::thread_key`).
pub(crate) fn key_of(id: u64) -> i64 {
    i64::from_ne_bytes((id ^ (1u64 << 63)).to_ne_bytes())
}

/// Inverse of [`key_of`].
pub(crate) fn id_of(key: i64) -> u64 {
    u64::from_ne_bytes(key.to_ne_bytes()) ^ (1u64 << 63)
}

/// Milliseconds since the epoch.
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A thread as the cache keeps it: identity, life-cycle state and the triage
/// facts the inbox filters and sorts on. No patient-identifying text, so
/// `Debug` is safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRecord {
    /// The thread.
    pub id: ThreadId,
    /// Its patient (pseudonym; the patient row must exist).
    pub patient: PatientId,
    /// The queue it is in.
    pub pool: Pool,
    /// Current category.
    pub category: Category,
    /// Current priority.
    pub priority: Priority,
    /// Life-cycle state.
    pub state: ThreadState,
    /// Has a red flag.
    pub urgent: bool,
    /// Response due time (None: no target).
    pub due: Option<Timestamp>,
    /// When the latest patient message arrived.
    pub received: Timestamp,
}

/// An action waiting to be sent to the hub. The payload may carry clinical
/// text, so `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Sent with the request; the hub applies each key once.
    pub idempotency_key: String,
    /// What kind of action ("reply", "assign", …).
    pub kind: String,
    /// The thread it concerns, if any.
    pub thread: Option<ThreadId>,
    /// The request body.
    pub payload: Vec<u8>,
    /// When it was queued.
    pub created: Timestamp,
}

impl std::fmt::Debug for OutboxItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxItem")
            .field("idempotency_key", &self.idempotency_key)
            .field("kind", &self.kind)
            .field("thread", &self.thread)
            .field("payload_len", &self.payload.len())
            .field("created", &self.created)
            .finish()
    }
}

/// The writable view of the cache inside one transaction.
pub struct Writer<'a> {
    tx: Transaction<'a>,
}

impl Store {
    /// Runs `f` in one IMMEDIATE transaction; commits if it returns `Ok`,
    /// rolls back otherwise (including on SQLITE_FULL).
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut w = Writer { tx };
        let out = f(&mut w)?;
        w.tx.commit()?;
        Ok(out)
    }

    /// [`Store::write`] for what the hub can give again: the commit is
    /// atomic and survives the app being killed, but is not flushed to disk
    /// before returning (`synchronous = NORMAL` in WAL mode), so a power cut
    /// may roll it back — together with its cursor, so the next pull fetches
    /// it again. The next [`Store::write`] flushes it with its own commit.
    /// Never for the outbox, views or audit, which exist only here.
    pub fn write_refetchable<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let out = self.write(f);
        // Restore full durability whatever happened; failing that, the
        // connection must not be used for anything that needs it.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        out
    }
}

pub(super) fn json<T: serde::Serialize>(value: &T, what: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Decode(what))
}

pub(crate) fn assignee_staff(state: &ThreadState) -> Option<&str> {
    match state {
        ThreadState::Assigned { to: Assignee::Staff(s) } => Some(s.id.0.as_str()),
        ThreadState::InProgress { by } => Some(by.id.0.as_str()),
        ThreadState::AwaitingPatient { owner } => Some(owner.id.0.as_str()),
        _ => None,
    }
}

/// The text of a message that full-text search indexes.
pub(crate) fn search_text(message: &Message) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in &message.parts {
        match part {
            MessagePart::FreeText(t) => out.push(t.reveal()),
            MessagePart::MedicationRequest(m) => {
                out.extend(m.items.iter().map(|i| i.reveal()));
                out.extend(m.shared_notes.iter().map(|n| n.text.reveal()));
            }
            MessagePart::Attachment(_) => {}
        }
    }
    out.join(" ")
}

fn part_kind(part: &MessagePart) -> &'static str {
    match part {
        MessagePart::FreeText(_) => "free_text",
        MessagePart::MedicationRequest(_) => "medication_request",
        MessagePart::Attachment(_) => "attachment",
    }
}

impl Writer<'_> {
    pub(crate) fn tx(&self) -> &Transaction<'_> {
        &self.tx
    }

    /// Inserts or replaces a patient's identifying details.
    pub fn upsert_patient(&mut self, p: &Patient) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO patients(id, display_name, date_of_birth, nhs_number) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name,
                 date_of_birth = excluded.date_of_birth, nhs_number = excluded.nhs_number",
            )?
            .execute(params![
                p.id.0,
                p.display_name.reveal(),
                p.date_of_birth.reveal().to_string(),
                nhs_text(p)
            ])?;
        Ok(())
    }

    /// Keeps `p` as the patient's details if none are held yet. Details that
    /// differ from those held are not applied: they are kept as a change for
    /// a person to confirm ([`Writer::confirm_patient_change`]). Returns
    /// whether such a change was recorded (false for one already waiting).
    pub fn pin_patient(&mut self, p: &Patient) -> Result<bool, StoreError> {
        let dob = p.date_of_birth.reveal().to_string();
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO patients(id, display_name, date_of_birth, nhs_number) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO NOTHING",
            )?
            .execute(params![p.id.0, p.display_name.reveal(), dob, nhs_text(p)])?;
        if inserted > 0 {
            return Ok(false);
        }
        let same: bool = self.tx.query_row(
            "SELECT display_name = ?2 AND date_of_birth = ?3 AND nhs_number = ?4 FROM patients WHERE id = ?1",
            params![p.id.0, p.display_name.reveal(), dob, nhs_text(p)],
            |r| r.get(0),
        )?;
        if same {
            return Ok(false);
        }
        let recorded = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO patient_detail_changes (patient_id, display_name, date_of_birth, nhs_number)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![p.id.0, p.display_name.reveal(), dob, nhs_text(p)])?;
        Ok(recorded > 0)
    }

    /// Pins `key` as the patient's reply key if none is held yet, and
    /// returns the key replies are sealed to: the pinned one. A different
    /// key is kept as a change and never applied (issue 21: a hub that swaps
    /// it gets nothing sealed to it); the flag says whether such a change
    /// was newly recorded.
    pub fn pin_patient_key(
        &mut self,
        patient: &PatientId,
        key: &[u8],
        now: Timestamp,
    ) -> Result<(Vec<u8>, bool), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO patient_keys (patient_id, x25519_public, pinned_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(patient_id) DO NOTHING",
            )?
            .execute(params![patient.0, key, ms(now)])?;
        let pinned: Vec<u8> = self.tx.query_row(
            "SELECT x25519_public FROM patient_keys WHERE patient_id = ?1",
            [&patient.0],
            |r| r.get(0),
        )?;
        if pinned == key {
            return Ok((pinned, false));
        }
        let recorded = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO patient_key_changes (patient_id, x25519_public, seen_at_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![patient.0, key, ms(now)])?;
        Ok((pinned, recorded > 0))
    }

    /// Applies the waiting change `change` to its patient; the patient's
    /// id, or `None` if no such change waits. The caller audits who.
    pub fn confirm_patient_change(&mut self, change: i64) -> Result<Option<String>, StoreError> {
        let row: Option<(String, String, String, String)> = self
            .tx
            .query_row(
                "SELECT patient_id, display_name, date_of_birth, nhs_number FROM patient_detail_changes
                 WHERE id = ?1",
                [change],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((patient, name, dob, nhs)) = row else { return Ok(None) };
        self.tx.execute(
            "UPDATE patients SET display_name = ?2, date_of_birth = ?3, nhs_number = ?4 WHERE id = ?1",
            params![patient, name, dob, nhs],
        )?;
        // Any other change waiting for this patient was a difference from
        // details no longer held: it goes too (a new difference is flagged anew).
        self.tx.execute("DELETE FROM patient_detail_changes WHERE patient_id = ?1", params![patient])?;
        Ok(Some(patient))
    }

    /// Inserts or updates a thread and its triage row. `now` decides whether
    /// it is already breached and, when it is closed, when it was closed
    /// (an existing close time is kept).
    pub fn upsert_thread(&mut self, t: &ThreadRecord, now: Timestamp) -> Result<(), StoreError> {
        let key = key_of(t.id.0);
        let closed = !t.state.is_open();
        self.tx
            .prepare_cached(
                "INSERT INTO threads(thread_key, patient_id, state_json, closed_ms, updated_ms)
             VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?5 END, ?5)
             ON CONFLICT(thread_key) DO UPDATE SET patient_id = excluded.patient_id,
                 state_json = excluded.state_json,
                 closed_ms = CASE WHEN ?4 THEN coalesce(threads.closed_ms, ?5) END,
                 updated_ms = excluded.updated_ms",
            )?
            .execute(params![key, t.patient.0, json(&t.state, "thread state")?, closed, ms(now)])?;
        let due_ms = t.due.map_or(i64::MAX, ms);
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO triage(thread_key, pool, category, priority, state, assignee_staff,
                 breached_rank, urgent_rank, due_ms, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                key,
                t.pool.key(),
                t.category.key(),
                t.priority.key(),
                t.state.kind().key(),
                assignee_staff(&t.state),
                i64::from(due_ms > ms(now)),
                i64::from(!t.urgent),
                due_ms,
                ms(t.received),
            ])?;
        Ok(())
    }

    /// Adds a message (its parts and its search entry) to a cached thread.
    /// Re-inserting the same message id replaces it.
    pub fn insert_message(&mut self, thread: ThreadId, m: &Message) -> Result<(), StoreError> {
        let key = key_of(m.id.0);
        // Replacing: clear the old rows (views kept). Only when the id is
        // known: a delete in the contentless search index costs a tombstone
        // even for a row it never held.
        let known = self
            .tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE message_key = ?1)")?
            .query_row([key], |r| r.get::<_, bool>(0))?;
        if known {
            self.tx.prepare_cached("DELETE FROM message_fts WHERE rowid = ?1")?.execute([key])?;
            self.tx.prepare_cached("DELETE FROM parts WHERE message_key = ?1")?.execute([key])?;
        }
        self.tx.prepare_cached("INSERT INTO messages(message_key, thread_key, author_json, received_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(message_key) DO UPDATE SET thread_key = excluded.thread_key,
                 author_json = excluded.author_json, received_ms = excluded.received_ms")?.execute(params![key, key_of(thread.0), json(&m.author, "author")?, ms(m.received_at)],
        )?;
        {
            let mut stmt = self.tx.prepare_cached(
                "INSERT INTO parts(message_key, idx, kind, body_json) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (idx, part) in m.parts.iter().enumerate() {
                let body = zeroize::Zeroizing::new(json(part, "message part")?);
                stmt.execute(params![key, idx as i64, part_kind(part), body.as_str()])?;
            }
        }
        let text = zeroize::Zeroizing::new(search_text(m));
        if !text.trim().is_empty() {
            self.tx
                .prepare_cached("INSERT INTO message_fts(rowid, body) VALUES (?1, ?2)")?
                .execute(params![key, text.as_str()])?;
        }
        Ok(())
    }

    /// Removes a message (parts, views and search entry with it) and
    /// returns its free text: a reply the hub refused goes back to the
    /// composer as a draft rather than being lost. `None` if not cached.
    pub fn take_message(&mut self, message: MessageId) -> Result<Option<FreeText>, StoreError> {
        let key = key_of(message.0);
        let bodies: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT body_json FROM parts WHERE message_key = ?1 AND kind = 'free_text' ORDER BY idx",
            )?
            .query_map([key], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut text = String::new();
        for body in &bodies {
            let body = zeroize::Zeroizing::new(body.clone());
            if let Ok(MessagePart::FreeText(t)) = serde_json::from_str::<MessagePart>(&body) {
                text.push_str(t.reveal());
            }
        }
        // Parts and views go by cascade, the search entry by the
        // messages_fts_delete trigger.
        if self.tx.prepare_cached("DELETE FROM messages WHERE message_key = ?1")?.execute([key])? == 0 {
            return Ok(None);
        }
        Ok(Some(FreeText::new(text)))
    }

    /// Shows `thread` in `state` at once (an action queued for the hub; the
    /// hub's own state is kept apart and restored if it refuses).
    pub fn set_thread_state(
        &mut self,
        thread: ThreadId,
        state: &ThreadState,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let json = json(state, "thread state")?;
        // Closed here: retention counts from now (as from a close synced
        // from the hub); reopened: not closed.
        self.tx
            .prepare_cached(
                "UPDATE threads SET state_json = ?2, updated_ms = ?3,
                     closed_ms = CASE WHEN ?4 THEN coalesce(closed_ms, ?3) END
                 WHERE thread_key = ?1",
            )?
            .execute(params![key_of(thread.0), json, ms(now), !state.is_open()])?;
        self.tx
            .prepare_cached("UPDATE triage SET state = ?2, assignee_staff = ?3 WHERE thread_key = ?1")?
            .execute(params![key_of(thread.0), state.kind().key(), assignee_staff(state)])?;
        if let ThreadState::Assigned { to: Assignee::Pool(pool) } = state {
            self.tx
                .prepare_cached("UPDATE triage SET pool = ?2 WHERE thread_key = ?1")?
                .execute(params![key_of(thread.0), pool.key()])?;
        }
        Ok(())
    }

    /// Records that `staff` saw `message` at `at`.
    pub fn record_view(
        &mut self,
        message: MessageId,
        staff: &StaffId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO views(message_key, staff_id, seen_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key_of(message.0), staff.0, ms(at)])?;
        Ok(())
    }

    /// Saves (replaces) the reply being drafted on a thread.
    pub fn save_draft(&mut self, thread: ThreadId, body: &FreeText, at: Timestamp) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO drafts(thread_key, body, updated_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key_of(thread.0), body.reveal(), ms(at)])?;
        Ok(())
    }

    /// Discards a draft; true if there was one.
    pub fn delete_draft(&mut self, thread: ThreadId) -> Result<bool, StoreError> {
        Ok(self.tx.prepare_cached("DELETE FROM drafts WHERE thread_key = ?1")?.execute([key_of(thread.0)])?
            > 0)
    }

    /// Queues an action for the hub. Returns its sequence number.
    pub fn enqueue(&mut self, item: &OutboxItem) -> Result<i64, StoreError> {
        self.tx.prepare_cached("INSERT INTO outbox(idempotency_key, kind, thread_key, payload, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?.execute(params![
                item.idempotency_key,
                item.kind,
                item.thread.map(|t| key_of(t.0)),
                item.payload,
                ms(item.created)
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Removes an action the hub acknowledged; true if it was queued.
    pub fn ack_outbox(&mut self, idempotency_key: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM outbox WHERE idempotency_key = ?1")?
            .execute([idempotency_key])?
            > 0)
    }

    /// Stores the hub sync cursor.
    pub fn set_sync_cursor(&mut self, cursor: &str, at: Timestamp) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT OR REPLACE INTO sync_cursor(id, cursor, updated_ms) VALUES (1, ?1, ?2)")?
            .execute(params![cursor, ms(at)])?;
        Ok(())
    }

    /// Appends a link to the audit chain (see `crate::audit::append`).
    pub fn append_audit(&mut self, link: &sealbox_crypto::audit_chain::Link) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit_events(seq, at_ms, actor, device, action, object, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                i64::try_from(link.seq).map_err(|_| StoreError::Decode("audit seq"))?,
                link.at_ms,
                link.actor,
                link.device,
                link.action,
                link.object,
                link.prev_hash.as_slice(),
                link.hash.as_slice()
            ])?;
        Ok(())
    }

    /// Sets a setting.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.tx
            .execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }

    /// Keeps an item from the hub that could not be opened or parsed.
    pub fn quarantine_item(
        &mut self,
        kind: &str,
        object_id: &str,
        reason: &str,
        payload: &[u8],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO quarantine(at_ms, kind, object_id, reason, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![ms(at), kind, object_id, reason, payload])?;
        Ok(())
    }

    /// The thread a message belongs to, if cached.
    pub fn thread_of(&self, message: MessageId) -> Result<Option<ThreadId>, StoreError> {
        let key: Option<i64> = self
            .tx
            .query_row("SELECT thread_key FROM messages WHERE message_key = ?1", [key_of(message.0)], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(key.map(|k| ThreadId(id_of(k))))
    }
}

/// The NHS number as the cache keeps it: empty when the patient gave none.
fn nhs_text(p: &Patient) -> &str {
    p.nhs_number.as_ref().map_or("", NhsNumber::reveal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_mapping_round_trips_and_matches_the_model() {
        for id in [0u64, 1, 7, u64::MAX / 2, u64::MAX / 2 + 1, u64::MAX] {
            assert_eq!(id_of(key_of(id)), id);
            assert_eq!(key_of(id), sealbox_model::inbox_order::thread_key(ThreadId(id)));
        }
    }
}
