//! One patient's requests side by side (issue 23 point 11): a new thread
//! that repeats an open one is linked at intake (`duplicate_of`), a merge
//! the hub applied is kept (`merged_into`), and a message someone wrote on
//! the patient's behalf keeps who wrote it.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use sealbox_model::category::Category;
use sealbox_model::duplicates::{self, DuplicateReason, Request};
use sealbox_model::ids::{MessageId, PatientId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, MessagePart};
use sealbox_model::patient::Representative;
use sealbox_model::thread_state::StateKind;

use super::queries::{decode_json, parse_key};
use super::write::{id_of, json, key_of, Writer};
use super::{Store, StoreError};

/// Another open thread of the same patient, for grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenThread {
    /// The thread.
    pub id: ThreadId,
    /// Its category.
    pub category: Category,
    /// Its state key.
    pub state: String,
    /// When its latest patient message arrived.
    pub received: Timestamp,
}

fn patient_author() -> Result<String, StoreError> {
    json(&Author::Patient, "author")
}

/// The first patient message of `thread`: when, and its parts.
fn first_request(conn: &Connection, thread: i64) -> Result<Option<(i64, Vec<MessagePart>)>, StoreError> {
    let first: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT message_key, received_ms FROM messages WHERE thread_key = ?1 AND author_json = ?2
             ORDER BY received_ms, message_key LIMIT 1",
        )?
        .query_row(params![thread, patient_author()?], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((message, at)) = first else { return Ok(None) };
    let bodies = conn
        .prepare_cached("SELECT body_json FROM parts WHERE message_key = ?1 ORDER BY idx")?
        .query_map([message], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let parts =
        bodies.iter().map(|b| decode_json::<MessagePart>(b, "message part")).collect::<Result<_, _>>()?;
    Ok(Some((at, parts)))
}

/// The request as the duplicate rule reads it.
fn request<'a>(
    thread: i64,
    category: Category,
    at: i64,
    parts: &'a [MessagePart],
) -> Result<Request<'a>, StoreError> {
    let mut medicines = Vec::new();
    let mut text = "";
    for part in parts {
        match part {
            MessagePart::FreeText(t) if text.is_empty() => text = t.reveal(),
            MessagePart::MedicationRequest(m) => medicines.extend(m.items.iter().map(|i| i.reveal())),
            _ => {}
        }
    }
    let received_at = Timestamp::from_millisecond(at).map_err(|_| StoreError::Decode("timestamp"))?;
    Ok(Request { thread: ThreadId(id_of(thread)), category, received_at, medicines, text })
}

impl Writer<'_> {
    /// Links `thread` to the open thread of its patient and category it
    /// repeats, if any (see [`sealbox_model::duplicates`]). Run once, when
    /// the thread first enters the cache.
    pub fn link_repeat(
        &mut self,
        thread: ThreadId,
    ) -> Result<Option<(ThreadId, DuplicateReason)>, StoreError> {
        let key = key_of(thread.0);
        let conn: &Connection = self.tx();
        let head: Option<(String, String)> = conn
            .query_row(
                "SELECT th.patient_id, t.category FROM threads th JOIN triage t ON t.thread_key = th.thread_key
                 WHERE th.thread_key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((patient, category)) = head else { return Ok(None) };
        let category = parse_key(&Category::ALL, Category::key, &category, "category")?;
        let Some((at, parts)) = first_request(conn, key)? else { return Ok(None) };
        let others = conn
            .prepare_cached(
                "SELECT th.thread_key FROM threads th JOIN triage t ON t.thread_key = th.thread_key
                 WHERE th.patient_id = ?1 AND t.category = ?2 AND th.thread_key != ?3
                   AND t.state != ?4 AND th.merged_into IS NULL",
            )?
            .query_map(params![patient, category.key(), key, StateKind::Closed.key()], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut loaded = Vec::with_capacity(others.len());
        for other in others {
            if let Some((their_at, their_parts)) = first_request(conn, other)? {
                loaded.push((other, their_at, their_parts));
            }
        }
        let open =
            loaded.iter().map(|(k, a, p)| request(*k, category, *a, p)).collect::<Result<Vec<_>, _>>()?;
        let found = duplicates::duplicate_of(&request(key, category, at, &parts)?, &open);
        if let Some((of, why)) = found {
            self.tx()
                .prepare_cached(
                    "UPDATE threads SET duplicate_of = ?2, duplicate_reason = ?3 WHERE thread_key = ?1",
                )?
                .execute(params![key, key_of(of.0), why.key()])?;
        }
        Ok(found)
    }

    /// Records the thread `thread` was merged into (`None`: reopened).
    pub fn set_merged_into(&mut self, thread: ThreadId, into: Option<ThreadId>) -> Result<(), StoreError> {
        self.tx()
            .prepare_cached("UPDATE threads SET merged_into = ?2 WHERE thread_key = ?1")?
            .execute(params![key_of(thread.0), into.map(|t| key_of(t.0))])?;
        Ok(())
    }

    /// Records who wrote `message` on the patient's behalf.
    pub fn set_written_by(&mut self, message: MessageId, by: &Representative) -> Result<(), StoreError> {
        let by = zeroize::Zeroizing::new(json(by, "representative")?);
        self.tx()
            .prepare_cached("UPDATE messages SET written_by_json = ?2 WHERE message_key = ?1")?
            .execute(params![key_of(message.0), by.as_str()])?;
        Ok(())
    }
}

impl Store {
    /// The open thread `thread` repeats, as linked at intake, while it is
    /// still open and not merged.
    pub fn duplicate_link(
        &self,
        thread: ThreadId,
    ) -> Result<Option<(ThreadId, DuplicateReason)>, StoreError> {
        let row: Option<(Option<i64>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT th.duplicate_of, th.duplicate_reason FROM threads th
                 JOIN threads o ON o.thread_key = th.duplicate_of JOIN triage t ON t.thread_key = o.thread_key
                 WHERE th.thread_key = ?1 AND th.merged_into IS NULL AND o.merged_into IS NULL AND t.state != ?2",
                params![key_of(thread.0), StateKind::Closed.key()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(of), Some(why))) => {
                DuplicateReason::from_key(&why).map(|why| (ThreadId(id_of(of)), why))
            }
            _ => None,
        })
    }

    /// The threads merged into `thread`, oldest first.
    pub fn merged_in(&self, thread: ThreadId) -> Result<Vec<ThreadId>, StoreError> {
        let keys = self
            .conn
            .prepare_cached("SELECT thread_key FROM threads WHERE merged_into = ?1 ORDER BY thread_key")?
            .query_map([key_of(thread.0)], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(keys.into_iter().map(|k| ThreadId(id_of(k))).collect())
    }

    /// The patient's other open threads, newest first.
    pub fn open_threads_of(
        &self,
        patient: &PatientId,
        except: ThreadId,
    ) -> Result<Vec<OpenThread>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT th.thread_key, t.category, t.state, t.received_ms FROM threads th
                 JOIN triage t ON t.thread_key = th.thread_key
                 WHERE th.patient_id = ?1 AND th.thread_key != ?2 AND t.state != ?3
                 ORDER BY t.received_ms DESC, th.thread_key DESC",
            )?
            .query_map(params![patient.0, key_of(except.0), StateKind::Closed.key()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(k, category, state, at)| {
                Ok(OpenThread {
                    id: ThreadId(id_of(k)),
                    category: parse_key(&Category::ALL, Category::key, &category, "category")?,
                    state,
                    received: Timestamp::from_millisecond(at).map_err(|_| StoreError::Decode("timestamp"))?,
                })
            })
            .collect()
    }

    /// Per thread of `ids`: whether it has a live repeat link, and how many
    /// other open threads its patient has (the inbox row's badges).
    pub fn patient_groups(&self, ids: &[ThreadId]) -> Result<BTreeMap<ThreadId, (bool, u32)>, StoreError> {
        let mut others = self.conn.prepare_cached(
            "SELECT count(*) FROM threads th JOIN triage t ON t.thread_key = th.thread_key
             WHERE th.patient_id = (SELECT patient_id FROM threads WHERE thread_key = ?1)
               AND th.thread_key != ?1 AND t.state != ?2",
        )?;
        let mut out = BTreeMap::new();
        for id in ids {
            let n: i64 = others.query_row(params![key_of(id.0), StateKind::Closed.key()], |r| r.get(0))?;
            let repeat = self.duplicate_link(*id)?.is_some();
            out.insert(*id, (repeat, u32::try_from(n).unwrap_or(u32::MAX)));
        }
        Ok(out)
    }

    /// Who wrote which of `thread`'s messages on the patient's behalf.
    pub fn written_by(&self, thread: ThreadId) -> Result<BTreeMap<MessageId, Representative>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT message_key, written_by_json FROM messages
                 WHERE thread_key = ?1 AND written_by_json IS NOT NULL",
            )?
            .query_map([key_of(thread.0)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(k, j)| Ok((MessageId(id_of(k)), decode_json::<Representative>(&j, "representative")?)))
            .collect()
    }
}
