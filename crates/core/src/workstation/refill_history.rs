//! The patient's earlier requests as the practice hub holds them (issue 23
//! point 5): a workstation's cache purges closed threads after its
//! retention period, so the refill panel's own list can miss a request a
//! colleague decided weeks ago. The hub lists the patient's threads of the
//! same category that this role may read, each with its last decision by
//! place; medicines are named from the cache where it still holds the
//! thread (the hub reads none).

use std::sync::Arc;

use sealbox_model::api::RefillHistoryView;
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::hub_api::{EarlierDecision, ItemOutcome, RefillChoice, ThreadHistory};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::reply_templates::and_list;

use super::refill::latest_request;
use super::{Desk, WorkstationError};
use crate::sync::client::HubClient;
use crate::sync::{SharedStore, SyncError};

/// Asks the hub for a thread's earlier requests, away from the desk (a
/// task the shell keeps with its sends, so a lock stops it).
pub struct RefillHistoryReader {
    store: Arc<SharedStore>,
    hub: HubClient,
}

impl std::fmt::Debug for RefillHistoryReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefillHistoryReader").finish_non_exhaustive()
    }
}

impl Desk {
    /// A reader of earlier requests for this desk's session.
    pub fn refill_history_reader(&self) -> RefillHistoryReader {
        RefillHistoryReader { store: self.store(), hub: self.hub.clone() }
    }
}

impl RefillHistoryReader {
    /// The earlier requests of `thread`'s patient, in words, newest first.
    pub async fn lines(&self, thread: ThreadId) -> Result<RefillHistoryView, WorkstationError> {
        let history: ThreadHistory = self
            .hub
            .call::<(), _>(reqwest::Method::GET, &format!("/v1/threads/{}/history", thread.0), None)
            .await?
            .ok_or(SyncError::Protocol("the hub sent no history"))?;
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let store = crate::sync::lock(&self.store);
        let mut lines = Vec::with_capacity(history.threads.len());
        for earlier in &history.threads {
            let named: Vec<String> = store
                .thread(earlier.thread_id)?
                .and_then(|d| {
                    latest_request(&d.thread.messages)
                        .map(|r| r.items.iter().map(|i| i.reveal().to_owned()).collect())
                })
                .unwrap_or_default();
            let day = Timestamp::from_millisecond(earlier.created_at_ms)
                .map(|at| at.to_zoned(tz.clone()).strftime("%-d %b %Y").to_string())
                .unwrap_or_default();
            let asked = if named.is_empty() {
                "medicines not on this workstation".to_owned()
            } else {
                and_list(&named.iter().map(String::as_str).collect::<Vec<_>>())
            };
            let mut line = vec![day, asked];
            line.extend(earlier.decision.as_ref().map(decided));
            line.push(earlier.state.key().replace('_', " "));
            lines.push(line.join(" \u{b7} "));
        }
        Ok(RefillHistoryView { lines })
    }
}

/// "approved by Dr Asha Rao", "not issued (a medication review is needed
/// first) by …", "1 of 2 issued by …", "the patient was asked a question by …".
fn decided(d: &EarlierDecision) -> String {
    let what = if d.items.is_empty() {
        match d.decision {
            RefillChoice::Approve => "approved".to_owned(),
            RefillChoice::Reject { reason } => format!("not issued ({})", reason.label().to_lowercase()),
            RefillChoice::QueryPatient => "the patient was asked a question".to_owned(),
        }
    } else {
        let issued = d.items.iter().filter(|i| i.outcome == ItemOutcome::Issue).count();
        format!("{issued} of {} issued", d.items.len())
    };
    format!("{what} by {}", d.by_name)
}
