//! A thread's triage facts as a person left them: what the thread shows
//! (`threads.triage_json`, the decision queued here or the hub's) and the
//! hub's own (`threads.hub_triage_json`, shown again when the hub refuses a
//! decision queued here). The inbox sorts on the `triage` row, written with
//! them in the same transaction.

use rusqlite::{params, OptionalExtension};
use sealbox_model::category::Category;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::ThreadState;
use sealbox_model::triage::TriageSet;
use serde::{Deserialize, Serialize};

use super::queries::decode_json;
use super::write::{json, key_of, ms, ThreadRecord, Writer};
use super::{Store, StoreError};
use crate::sync::plan::queue_pool_of;

/// Priority, category, order and the decision behind them. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageFacts {
    /// The priority shown.
    pub priority: Priority,
    /// The category shown.
    pub category: Category,
    /// Sorts among the urgent (red-flagged and not lowered, or made urgent).
    pub urgent: bool,
    /// Response due time.
    pub due: Option<Timestamp>,
    /// The latest decision a person made (none: nobody has).
    pub set: Option<TriageSet>,
}

impl TriageFacts {
    /// The facts of `record`, with the decision behind them.
    pub fn of(record: &ThreadRecord, set: Option<TriageSet>) -> TriageFacts {
        TriageFacts {
            priority: record.priority,
            category: record.category,
            urgent: record.urgent,
            due: record.due,
            set,
        }
    }
}

impl Writer<'_> {
    /// Shows `facts` on `thread` (and keeps them as the hub's when `hub`).
    pub fn set_triage_facts(
        &mut self,
        thread: ThreadId,
        facts: &TriageFacts,
        hub: bool,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let key = key_of(thread.0);
        self.keep_triage_facts(thread, facts, hub.then_some(facts))?;
        let due_ms = facts.due.map_or(i64::MAX, ms);
        // The queue follows a new category by the sync's own rule.
        let state: String =
            self.tx()
                .query_row("SELECT state_json FROM threads WHERE thread_key = ?1", [key], |r| r.get(0))?;
        let pool = queue_pool_of(&decode_json::<ThreadState>(&state, "thread state")?, facts.category);
        self.tx()
            .prepare_cached(
                "UPDATE triage SET category = ?2, priority = ?3, urgent_rank = ?4, due_ms = ?5,
                     breached_rank = ?6, pool = ?7
                 WHERE thread_key = ?1",
            )?
            .execute(params![
                key,
                facts.category.key(),
                facts.priority.key(),
                i64::from(!facts.urgent),
                due_ms,
                i64::from(due_ms > ms(now)),
                pool.key(),
            ])?;
        Ok(())
    }

    /// Records the facts shown and, if given, the hub's (the `triage` row
    /// is the caller's: a synced page writes it with the thread).
    pub fn keep_triage_facts(
        &mut self,
        thread: ThreadId,
        shown: &TriageFacts,
        hub: Option<&TriageFacts>,
    ) -> Result<(), StoreError> {
        let shown = json(shown, "triage facts")?;
        let hub = hub.map(|h| json(h, "triage facts")).transpose()?;
        self.tx()
            .prepare_cached(
                "UPDATE threads SET triage_json = ?2, hub_triage_json = coalesce(?3, hub_triage_json)
                 WHERE thread_key = ?1",
            )?
            .execute(params![key_of(thread.0), shown, hub])?;
        Ok(())
    }

    /// Shows the hub's facts again (the hub refused a decision queued here).
    pub fn restore_hub_triage(&mut self, thread: ThreadId, now: Timestamp) -> Result<(), StoreError> {
        let hub: Option<String> = self
            .tx()
            .query_row("SELECT hub_triage_json FROM threads WHERE thread_key = ?1", [key_of(thread.0)], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        let Some(hub) = hub else { return Ok(()) };
        let facts: TriageFacts = decode_json(&hub, "triage facts")?;
        self.set_triage_facts(thread, &facts, true, now)
    }
}

impl Store {
    /// The triage facts `thread` shows (none: not cached, or cached before
    /// this schema and not synced since).
    pub fn triage_facts(&self, thread: ThreadId) -> Result<Option<TriageFacts>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT triage_json FROM threads WHERE thread_key = ?1", [key_of(thread.0)], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        text.map(|t| decode_json(&t, "triage facts")).transpose()
    }
}
