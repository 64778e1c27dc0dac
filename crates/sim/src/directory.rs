//! The pool keys a patient seals to, from the practice's signed key
//! directory (issue 21): the hub's statements replayed under the practice
//! key the practice file names, never under a key the hub serves, and
//! reaching every head a practice device signed it had verified. A hub that
//! swapped a pool key, showed another practice key, broke the chain or
//! rolled it back (to a pool key a revoked device still holds) gets nothing
//! sealed to it.

use ed25519_dalek::VerifyingKey;
use reqwest::Client;

use sealbox_crypto::directory::{verify_for_patient, Directory};
use sealbox_crypto::patient_message::PoolKeys;
use sealbox_model::hub_api::{Base64Bytes, DirectoryPage, HeadsPage, PracticeFile};

use crate::client::get_json;
use crate::SimError;

/// The newest key of each pool the directory vouches for.
pub async fn signed_pool_keys(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    pinned: &Base64Bytes,
) -> Result<PoolKeys, SimError> {
    Ok(PoolKeys::from_directory(&verified_directory(client, hub, practice, pinned).await?))
}

/// The practice's signed key directory, verified under `pinned` (the
/// practice key in the practice file).
pub async fn verified_directory(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    pinned: &Base64Bytes,
) -> Result<Directory, SimError> {
    let raw: [u8; 32] = pinned.as_slice().try_into().map_err(|_| SimError::BadKey("practice key"))?;
    let pinned = VerifyingKey::from_bytes(&raw).map_err(|_| SimError::BadKey("practice key"))?;
    let patient = practice
        .patients
        .first()
        .ok_or_else(|| SimError::PracticeFormat("the practice file has no patients".to_owned()))?;
    let token = Some(patient.channel_token.0.as_str());
    // The devices' signed heads first: the chain fetched after them must
    // reach each (it only grows), or the hub is showing an older one.
    let heads: HeadsPage =
        get_json(client, hub, "/v1/directory/heads", token, "GET /v1/directory/heads").await?;
    let page: DirectoryPage =
        get_json(client, hub, "/v1/directory?after=0", token, "GET /v1/directory").await?;
    verify_for_patient(&practice.practice_id, pinned, &page, &heads)
        .map_err(|e| SimError::Untrusted(e.to_string()))
}
