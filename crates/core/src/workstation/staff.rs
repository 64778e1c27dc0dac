//! Names, not ids: the practice's staff directory (`GET /v1/staff`), kept
//! in the encrypted cache at every online unlock so the screens name
//! colleagues ("Asha Rao · GP") offline too. An id the directory does not
//! hold is shown as it is.

use sealbox_model::hub_api::StaffDirectory;

use super::{Desk, WorkstationError};

const STAFF_SETTING: &str = "practice.staff";

impl Desk {
    /// The staff directory kept here (empty before the first fetch).
    pub fn staff(&self) -> Result<StaffDirectory, WorkstationError> {
        let stored = crate::sync::lock(&self.store()).setting(STAFF_SETTING)?;
        Ok(stored.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default())
    }

    /// Fetches the directory and keeps it; out of reach, the kept one
    /// stands (names are a convenience, never a reason to refuse work).
    pub async fn refresh_staff(&self) -> Result<(), WorkstationError> {
        let Ok(directory) = self.hub().staff().await else { return Ok(()) };
        let json = serde_json::to_string(&directory).map_err(|_| WorkstationError::ProfileCorrupt)?;
        crate::sync::lock(&self.store()).write(|w| w.set_setting(STAFF_SETTING, &json))?;
        Ok(())
    }
}
