//! What the desk shows the UI: the inbox in triage order, as the typed
//! lines of `sealbox_model::api`.

use sealbox_model::api::{InboxLine, InboxRequest, InboxView, QueueCount};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::category::Category;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;

use sealbox_model::breach::status_for;
use sealbox_model::thread_state::StateKind;

use super::{Desk, Verified, WorkstationError};
use crate::status::{shown_time, sync_line};
use crate::store::queries::InboxFilter;
use crate::sync::engine::SyncStatus;

/// Matches taken from each of the search's sources.
const SEARCH_HITS: u32 = 1_000;

impl Desk {
    /// The first `limit` inbox rows in triage order, with the sync line for
    /// `sync` (the follow loop's status; `None` before it reported).
    pub fn inbox_view(
        &self,
        now: Timestamp,
        limit: u32,
        sync: Option<&SyncStatus>,
    ) -> Result<InboxView, WorkstationError> {
        self.inbox_view_of(&InboxRequest::default(), now, limit, sync)
    }

    /// [`Desk::inbox_view`] of one queue ("mine": what the clinician holds),
    /// urgent threads only, a search's matches, from row `offset`: at most
    /// `limit` rows (fewer if the request asks). An unknown queue is an error.
    pub fn inbox_view_of(
        &self,
        request: &InboxRequest,
        now: Timestamp,
        limit: u32,
        sync: Option<&SyncStatus>,
    ) -> Result<InboxView, WorkstationError> {
        let mut filter = InboxFilter::default();
        match request.queue.as_deref() {
            None => {}
            Some("mine") => filter.assignee = Some(StaffId(self.profile().user_id.clone())),
            Some(key) => {
                filter.pool = Some(
                    Pool::ALL.into_iter().find(|p| p.key() == key).ok_or(WorkstationError::UnknownQueue)?,
                );
            }
        }
        if let Some(key) = request.category.as_deref() {
            filter.category = Some(
                Category::ALL.into_iter().find(|c| c.key() == key).ok_or(WorkstationError::UnknownQueue)?,
            );
        }
        if let Some(key) = request.state.as_deref() {
            filter.state = Some(
                StateKind::ALL.into_iter().find(|s| s.key() == key).ok_or(WorkstationError::UnknownQueue)?,
            );
        }
        filter.unassigned = request.unassigned;
        if request.urgent_only {
            filter.priority = Some(Priority::Urgent);
        }
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        if let Some(text) = request.search.as_deref().filter(|t| !t.trim().is_empty()) {
            let mut threads: Vec<ThreadId> =
                store.search(text, SEARCH_HITS)?.into_iter().map(|h| h.thread).collect();
            threads.extend(store.threads_of_patients_named(text, SEARCH_HITS)?);
            threads.sort_unstable();
            threads.dedup();
            filter.threads = Some(threads);
        }
        let limit = match request.limit {
            0 => limit,
            asked => asked.min(limit),
        };
        let (rows, counts) = store.inbox_window(&filter, request.offset, limit, now)?;
        let rules = self.rules();
        // Why each urgent row is urgent: the red flags its patient messages
        // raise, with the words that matched (few rows).
        let mut flags: std::collections::HashMap<ThreadId, Vec<String>> = std::collections::HashMap::new();
        for row in rows.iter().filter(|r| r.priority == Priority::Urgent) {
            let Some(detail) = store.thread(row.thread)? else { continue };
            flags.insert(row.thread, super::triage::flag_lines(&rules.red_flags, &detail.thread));
        }
        let ids: Vec<ThreadId> = rows.iter().map(|r| r.thread).collect();
        let mut latest = store.latest_patient_messages(&ids)?;
        let groups = store.patient_groups(&ids)?;
        let queues = store
            .pool_counts(now)?
            .into_iter()
            .map(|c| QueueCount {
                pool: c.pool.key().to_owned(),
                open: u32::try_from(c.open).unwrap_or(u32::MAX),
                urgent: u32::try_from(c.urgent).unwrap_or(u32::MAX),
                breached: u32::try_from(c.breached).unwrap_or(u32::MAX),
            })
            .collect();
        drop(store);
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let today = now.to_zoned(tz.clone()).date();
        let me = StaffId(self.profile().user_id.clone());
        let staff = self.staff()?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let received = Timestamp::from_millisecond(r.sort_key.received_ms).ok();
                let status = received.and_then(|at| {
                    status_for(&rules.calendar, &rules.policy, r.category, r.priority, at, now).ok().flatten()
                });
                let status = status.filter(|_| r.state != StateKind::Closed);
                InboxLine {
                    thread: r.thread.0.to_string(),
                    priority: r.priority.key().to_owned(),
                    breached: r.sort_key.breached,
                    category: r.category.key().to_owned(),
                    pool: r.pool.key().to_owned(),
                    state: r.state.key().to_owned(),
                    patient: r.display_name.reveal().to_owned(),
                    received: received.map(|t| t.to_string()).unwrap_or_default(),
                    received_shown: received.map(|t| shown_time(t, &tz)).unwrap_or_default(),
                    age: r.date_of_birth.age_on(today),
                    owner: match &r.assignee {
                        Some(a) if *a == me => "You".to_owned(),
                        Some(a) => staff.shown(a),
                        None => String::new(),
                    },
                    breach: status.map(|s| s.state.key().to_owned()).unwrap_or_default(),
                    due_shown: status.map(|s| shown_time(s.due, &tz)).unwrap_or_default(),
                    flags: flags.remove(&r.thread).unwrap_or_default(),
                    preview: latest.remove(&r.thread).map(|m| m.preview()).unwrap_or_default(),
                    repeat: groups.get(&r.thread).is_some_and(|g| g.0),
                    others_open: groups.get(&r.thread).map_or(0, |g| g.1),
                }
            })
            .collect();
        let p = self.profile();
        Ok(InboxView {
            clinician: format!(
                "{} \u{b7} {}",
                if p.name.trim().is_empty() { &p.username } else { &p.name },
                p.role.title()
            ),
            online: self.verified() == Verified::Online,
            sync: sync_line(sync.unwrap_or(&SyncStatus::default()), &tz),
            rows,
            offset: request.offset,
            total: counts.total,
            urgent: counts.urgent,
            breached: counts.breached,
            queues,
            notice: self.notice().map(str::to_owned),
        })
    }
}
