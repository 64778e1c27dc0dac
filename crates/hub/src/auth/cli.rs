//! `sealbox-hub init-practice` and `sealbox-hub invite`: they return the
//! text to print (the one-time invite code is shown only there).

use sealbox_crypto::directory::fingerprint;
use sealbox_model::invite::InviteText;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;

use super::invites;
use crate::db::practice::{self, PracticeError};
use crate::db::sql::begin;
use crate::db::DbError;
use crate::state::AppState;

/// Why an identity command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The practice exists already.
    #[error("this hub already has a practice")]
    PracticeExists,
    /// `invite` before `init-practice`.
    #[error("no practice yet: run `sealbox-hub init-practice` first")]
    NoPractice,
    /// A name was empty or too long.
    #[error("name must be 1 to 200 characters")]
    BadName,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<PracticeError> for CliError {
    fn from(e: PracticeError) -> Self {
        match e {
            PracticeError::Exists => CliError::PracticeExists,
            PracticeError::Db(e) => CliError::Db(e),
        }
    }
}

fn check_name(name: &str) -> Result<&str, CliError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CliError::BadName);
    }
    Ok(name)
}

/// Creates the practice and a first practice-admin invite (one transaction).
pub fn init_practice(state: &AppState, name: &str) -> Result<String, CliError> {
    init_practice_as(state, &practice::new_id(), name)
}

/// [`init_practice`] with the practice id `id` (one of a deployment's,
/// whose schema or folder is named after it).
pub fn init_practice_as(state: &AppState, id: &str, name: &str) -> Result<String, CliError> {
    let name = check_name(name)?.to_owned();
    let now = state.now();
    state.db.call_blocking(move |conn| {
        let tx = begin(conn)?;
        let practice = practice::create_as(&tx, id, &name, now)?;
        let code = invites::issue(
            &tx,
            Role::PracticeAdmin,
            "Practice administrator",
            None,
            now,
            invites::DEFAULT_TTL,
        )?;
        tx.commit()?;
        Ok(format!(
            "practice {} created\nfirst practice_admin invite (one use, expires in {} hours): {code}",
            practice.id,
            invites::DEFAULT_TTL.as_hours()
        ))
    })
}

/// Issues a one-time, expiring enrolment code.
pub fn invite(
    state: &AppState,
    role: Role,
    name: &str,
    registration: Option<&Registration>,
) -> Result<String, CliError> {
    let registration = registration.cloned();
    let name = check_name(name)?.to_owned();
    let now = state.now();
    state.db.call_blocking(move |conn| {
        practice::get(conn)?.ok_or(CliError::NoPractice)?;
        let code = invites::issue(conn, role, &name, registration.as_ref(), now, invites::DEFAULT_TTL)?;
        // With the practice key's fingerprint once the practice has one:
        // the new workstation pins that key only if the hub serves it.
        let code = match super::directory::signing_key(conn)? {
            Some(key) => InviteText::format(&code, &fingerprint(&key)),
            None => code,
        };
        Ok(format!("{role} invite (one use, expires in {} hours): {code}", invites::DEFAULT_TTL.as_hours()))
    })
}
