//! Out-of-office cover (issue 23 point 10): a clinician going away hands
//! every open thread they hold to a named deputy, where the rules let the
//! deputy take its category, and otherwise back to the queue it is in —
//! each through the same hand-over as one at a time (`Desk::hand_over`:
//! offered options only, audited, checked again by the hub). A hand-over
//! changes who holds a thread, never when it is due: response targets keep
//! running from the patient's message.
//!
//! The absence itself is recorded at the hub (`Desk::record_absence`,
//! `PUT /v1/staff/me/absence`): until the clinician is back, colleagues are
//! not offered them to hand a thread to, and the hub refuses one handed to
//! them anyway (`away`).

use sealbox_model::calendar::uk_time_zone;
use sealbox_model::hub_api::AssignTarget;
use sealbox_model::ids::StaffId;
use sealbox_model::jiff::civil::Date;
use sealbox_model::jiff::Timestamp;

use super::{Desk, WorkstationError};
use crate::store::queries::InboxFilter;

/// What a cover moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cover {
    /// Threads handed to the deputy.
    pub to_deputy: u32,
    /// Threads returned to their queue (no deputy, or one the rules do not
    /// let take that category).
    pub to_queue: u32,
}

impl Desk {
    /// Hands every open thread this clinician holds to `deputy` (a
    /// colleague's staff id) where they may take it, else to its queue;
    /// the caller sends the outbox.
    pub fn cover_absence(&self, deputy: Option<&StaffId>, now: Timestamp) -> Result<Cover, WorkstationError> {
        let me = self.me();
        let held = {
            let shared = self.store();
            let mut store = crate::sync::lock(&shared);
            let mine = InboxFilter { assignee: Some(me.id.clone()), ..InboxFilter::default() };
            store.inbox_window(&mine, 0, u32::MAX, now)?.0
        };
        let staff = self.staff()?;
        let mut cover = Cover::default();
        for row in held {
            let options = self.hand_options(row.category, &staff);
            let to_deputy = deputy.and_then(|d| {
                options.iter().find(|o| matches!(&o.to, AssignTarget::Staff { id, .. } if id == d))
            });
            match to_deputy {
                Some(option) => {
                    self.hand_over(row.thread, &option.to, "", now)?;
                    cover.to_deputy += 1;
                }
                None => {
                    self.hand_over(row.thread, &AssignTarget::Pool { pool: row.pool }, "", now)?;
                    cover.to_queue += 1;
                }
            }
        }
        // Going away is not one action to take back in a few seconds.
        self.remember(None);
        Ok(cover)
    }
}

/// The start of `back_on` (a date, "2026-12-14"), UK time: when an absence
/// ends.
pub fn back_on(back_on: &str) -> Result<Timestamp, WorkstationError> {
    let date: Date = back_on.trim().parse().map_err(|_| WorkstationError::BadDate)?;
    let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
    date.to_zoned(tz).map(|z| z.timestamp()).map_err(|_| WorkstationError::BadDate)
}

impl Desk {
    /// Records at the hub that this clinician is away until `until` (none:
    /// back now), then fetches the staff directory again.
    pub async fn record_absence(&self, until: Option<Timestamp>) -> Result<(), WorkstationError> {
        self.hub().set_absence(until).await?;
        self.refresh_staff().await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_absence_ends_at_the_start_of_the_day_back_in_uk_time() {
        // 14 Dec 2026 is winter time: midnight UK is midnight UTC; in June,
        // 23:00 UTC the day before.
        assert_eq!(super::back_on("2026-12-14").unwrap().to_string(), "2026-12-14T00:00:00Z");
        assert_eq!(super::back_on("2026-06-15").unwrap().to_string(), "2026-06-14T23:00:00Z");
        assert!(super::back_on("next week").is_err());
    }
}
