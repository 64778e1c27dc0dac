//! `GET /v1/staff`: the practice's staff as colleagues see them, so every
//! screen names people ("Asha Rao · GP") rather than ids. Approved devices
//! only. Staff names are not patient data.

use serde::{Deserialize, Serialize};

use crate::ids::StaffId;
use crate::role::Role;

/// Every member of staff the hub knows, including those who have left (so
/// what they did keeps their name).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffDirectory {
    /// In name order.
    pub staff: Vec<StaffEntry>,
}

/// One member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    /// Their id.
    pub id: StaffId,
    /// Their name, as their invite gave it.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Working here now: not disabled, with a device the practice approved
    /// and has not revoked. Only they are offered to hand a thread to.
    #[serde(default)]
    pub active: bool,
    /// Away until then (an absence they recorded); not active meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_until: Option<jiff::Timestamp>,
}

/// `PUT /v1/staff/me/absence`: the caller is away until `until` (none: back
/// now). At most [`MAX_ABSENCE_DAYS`] ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceRequest {
    /// When they are back.
    pub until: Option<jiff::Timestamp>,
}

/// The longest absence one request records.
pub const MAX_ABSENCE_DAYS: i64 = 366;

impl StaffDirectory {
    /// "Asha Rao · GP" for `id`; the id itself when the directory does not
    /// hold it (not fetched yet, or someone new since).
    pub fn shown(&self, id: &StaffId) -> String {
        match self.staff.iter().find(|s| &s.id == id) {
            Some(s) => format!("{} \u{b7} {}", s.name, s.role.title()),
            None => id.0.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colleague_is_shown_by_name_and_role_and_an_unknown_id_as_itself() {
        let dir = StaffDirectory {
            staff: vec![StaffEntry {
                id: StaffId("staff-1".into()),
                name: "Asha Rao".into(),
                role: Role::Gp,
                active: true,
                away_until: None,
            }],
        };
        assert_eq!(dir.shown(&StaffId("staff-1".into())), "Asha Rao \u{b7} GP");
        assert_eq!(dir.shown(&StaffId("staff-9".into())), "staff-9");
    }
}
