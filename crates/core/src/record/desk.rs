//! Save to record at the desk: the workstation's own key for the record
//! system (made once, kept in the encrypted cache), what a thread shows
//! about the patient's record, and the rules for saving: an NHS number,
//! the patient looked up and matched (or a mismatch a clinician
//! confirmed), the save audited and queued. A thread closed here is saved
//! too when the practice turned that on.

use std::path::Path;

use sealbox_model::api::{RecordPanel, RecordSetup};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::thread_state::ThreadState;
use sealbox_record::endpoint::ClientKey;
use sealbox_record::matching::Match;

use super::handled::object;
use super::{RecordConfig, SaveToRecordError};
use crate::audit;
use crate::status::shown_time;
use crate::store::StoreError;
use crate::workstation::{Desk, WorkstationError};

/// The setting holding the workstation's record system key (hex).
const KEY_SETTING: &str = "record.client_key";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

impl Desk {
    /// This enrolment's key for the record system: made at first use and
    /// kept in the encrypted cache (a key that does not read back is made
    /// again: practice IT registers the new one).
    pub fn record_key(&self) -> Result<ClientKey, WorkstationError> {
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        if let Some(key) =
            store.setting(KEY_SETTING)?.and_then(|h| unhex(&h)).and_then(|b| ClientKey::from_bytes(&b))
        {
            return Ok(key);
        }
        let key = ClientKey::generate();
        let kept = zeroize::Zeroizing::new(hex(&key.to_bytes()));
        store.write(|w| w.set_setting(KEY_SETTING, &kept))?;
        Ok(key)
    }

    /// The set-up read from `file`, for practice IT: where it points, the
    /// client id and the public key to register.
    pub fn record_setup(&self, file: &Path) -> Result<RecordSetup, WorkstationError> {
        let jwk = serde_json::to_string_pretty(&self.record_key()?.public_jwk())
            .map_err(|_| WorkstationError::ProfileCorrupt)?;
        let device = &self.profile().device_id;
        let mut setup = RecordSetup {
            file: file.display().to_string(),
            client_id: device.clone(),
            jwk,
            ..RecordSetup::default()
        };
        match RecordConfig::load(file) {
            Ok(Some(config)) => {
                setup.endpoint = config.endpoint.clone();
                setup.client_id = config.client_id(device).to_owned();
                setup.save_on_close = config.save_on_close;
            }
            Ok(None) => {}
            Err(e) => setup.problem = Some(e.to_string()),
        }
        Ok(setup)
    }

    /// What `thread` shows about the patient's record; `message`: the
    /// last thing done, in words.
    pub fn record_panel(
        &self,
        thread: ThreadId,
        config: Option<&RecordConfig>,
        message: String,
    ) -> Result<RecordPanel, WorkstationError> {
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let staff = self.staff()?;
        let shared = self.store();
        let store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(crate::workstation::refill::RefillError::NoSuchThread)?;
        let kept = store.record_match(thread)?;
        let save = store.record_save(thread)?;
        drop(store);
        let outcome = kept.as_ref().and_then(|m| Match::from_key(&m.outcome));
        let confirmed = kept.as_ref().and_then(|m| m.confirmed.as_ref());
        let has_number = detail.patient.nhs_number.is_some();
        let waiting = save.as_ref().is_some_and(|s| s.saved_at.is_none());
        let warning = if !has_number {
            Some(SaveToRecordError::NoNhsNumber.to_string())
        } else {
            outcome.and_then(Match::warning).map(str::to_owned)
        };
        let allowed = outcome.is_some_and(|m| !m.needs_confirmation() || confirmed.is_some());
        let status = match &save {
            None => String::new(),
            Some(s) => match s.saved_at {
                Some(at) => format!("Saved to the record at {}", shown_time(at, &tz)),
                None => match &s.last_error {
                    Some(why) => format!("Waiting to be saved to the record: {why}"),
                    None => "Waiting to be saved to the record".to_owned(),
                },
            },
        };
        Ok(RecordPanel {
            endpoint: config.is_some(),
            warning,
            confirmable: matches!(outcome, Some(Match::Differs { .. })) && confirmed.is_none(),
            confirmed: confirmed.map(|(by, at)| format!("{} at {}", staff.shown(by), shown_time(*at, &tz))),
            can_save: config.is_some() && has_number && allowed && !waiting,
            status,
            message,
        })
    }

    /// Queues `thread` to be saved to the patient's record, if the match
    /// allows it: audited as `save_to_record`, whose link the Bundle's
    /// Provenance names. The sender sends it.
    pub fn save_to_record(
        &self,
        thread: ThreadId,
        config: Option<&RecordConfig>,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        if config.is_none() {
            return Err(SaveToRecordError::NotSetUp.into());
        }
        let me = StaffId(self.profile().user_id.clone());
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(crate::workstation::refill::RefillError::NoSuchThread)?;
        if detail.patient.nhs_number.is_none() {
            return Err(SaveToRecordError::NoNhsNumber.into());
        }
        let kept = store.record_match(thread)?.ok_or(SaveToRecordError::NotLookedUp)?;
        match Match::from_key(&kept.outcome).ok_or(StoreError::Decode("record match"))? {
            Match::Agrees => {}
            Match::Differs { .. } if kept.confirmed.is_some() => {}
            Match::Differs { .. } => return Err(SaveToRecordError::NotConfirmed.into()),
            Match::Unknown | Match::Several => return Err(SaveToRecordError::RecordNeedsFixing.into()),
        }
        store.write(|w| {
            let link = audit::append_hashed(w, now, &me.0, "save_to_record", &object(thread))?;
            w.queue_record_save(thread, &me, &hex(&link), now)
        })?;
        Ok(())
    }

    /// Queues `thread` if it is closed, the practice saves on close and
    /// the match allows it; true if it was queued. A thread the match
    /// holds back shows why on its panel and waits for a person.
    pub fn save_on_close(
        &self,
        thread: ThreadId,
        config: Option<&RecordConfig>,
        now: Timestamp,
    ) -> Result<bool, WorkstationError> {
        let Some(config) = config.filter(|c| c.save_on_close) else { return Ok(false) };
        let closed = {
            let shared = self.store();
            let store = crate::sync::lock(&shared);
            let detail = store.thread(thread)?;
            let waiting = store.record_save(thread)?.is_some_and(|s| s.saved_at.is_none());
            detail.is_some_and(|d| d.thread.state == ThreadState::Closed) && !waiting
        };
        if !closed {
            return Ok(false);
        }
        match self.save_to_record(thread, Some(config), now) {
            Ok(()) => Ok(true),
            Err(WorkstationError::Record(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A clinician confirms that the record's patient is the one who
    /// wrote, though their name or date of birth differ (audited as
    /// `confirm_record_match` with the outcome confirmed).
    pub fn confirm_record_match(&self, thread: ThreadId, now: Timestamp) -> Result<(), WorkstationError> {
        let me = StaffId(self.profile().user_id.clone());
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let kept = store.record_match(thread)?.ok_or(SaveToRecordError::NotLookedUp)?;
        let outcome = Match::from_key(&kept.outcome).ok_or(StoreError::Decode("record match"))?;
        match outcome {
            Match::Differs { .. } if kept.confirmed.is_none() => {}
            Match::Unknown | Match::Several => return Err(SaveToRecordError::RecordNeedsFixing.into()),
            _ => return Err(SaveToRecordError::NothingToConfirm.into()),
        }
        store.write(|w| {
            audit::append(
                w,
                now,
                &me.0,
                "confirm_record_match",
                &format!("{}: {}", object(thread), outcome.key()),
            )?;
            w.confirm_record_match(thread, &me, now)
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_kept_as_hex_reads_back_and_anything_else_does_not() {
        let key = ClientKey::generate();
        let text = hex(&key.to_bytes());
        assert_eq!(text.len(), 64);
        let back = unhex(&text).and_then(|b| ClientKey::from_bytes(&b)).unwrap();
        assert_eq!(back.public_jwk(), key.public_jwk());
        assert!(unhex("abc").is_none() && unhex("zz").is_none());
    }
}
