//! STUB by helper B; helper C fills these in. `sealbox-hub init-practice` and
//! `sealbox-hub invite` call them with an opened state and print the result.

use sealbox_model::role::Role;

use crate::state::AppState;

/// Why an auth command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Not written yet.
    #[error("not implemented yet")]
    NotImplemented,
}

/// Creates the practice and returns the text to print (the first admin invite).
pub fn init_practice(_state: &AppState, _name: &str) -> Result<String, CliError> {
    Err(CliError::NotImplemented)
}

/// Issues a one-time, expiring enrolment code; returns the text to print.
pub fn invite(_state: &AppState, _role: Role, _name: &str) -> Result<String, CliError> {
    Err(CliError::NotImplemented)
}
