//! The pool keys a patient seals to, from the practice's signed key
//! directory (issue 21): the hub's statements replayed under the practice
//! key the practice file names, never under a key the hub serves, and
//! reaching every head a practice device signed it had verified. A hub that
//! swapped a pool key, showed another practice key, broke the chain or
//! rolled it back (to a pool key a revoked device still holds) gets nothing
//! sealed to it.

use ed25519_dalek::VerifyingKey;
use reqwest::Client;
use x25519_dalek::PublicKey;

use sealbox_crypto::directory::{Directory, HeadClaim, Statement};
use sealbox_model::hub_api::{Base64Bytes, DirectoryPage, HeadsPage, PracticeFile};
use sealbox_model::pool::Pool;

use crate::client::get_json;
use crate::seal::PoolKeys;
use crate::SimError;

/// The newest key of each pool the directory vouches for.
pub async fn signed_pool_keys(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    pinned: &Base64Bytes,
) -> Result<PoolKeys, SimError> {
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
    if page.practice_key.as_ref().map(Base64Bytes::as_slice) != Some(pinned.as_bytes().as_slice()) {
        return Err(SimError::Untrusted(
            "the hub presents a different practice key from the one in the practice file".to_owned(),
        ));
    }
    let mut dir = Directory::new(&practice.practice_id, pinned);
    for record in &page.statements {
        let statement = Statement::try_from(record).map_err(|field| {
            SimError::Untrusted(format!("a key directory statement is malformed ({field})"))
        })?;
        dir.apply(&statement).map_err(|e| SimError::Untrusted(e.to_string()))?;
    }
    for claim in heads.heads.iter().filter_map(|h| HeadClaim::try_from(h).ok()) {
        let Some(device) = dir.device(&claim.device) else { continue };
        if !claim.verify(&practice.practice_id, &device.ed25519) {
            continue;
        }
        match dir.check_head(claim.seq, claim.hash) {
            Ok(true) => {}
            Ok(false) => {
                return Err(SimError::Untrusted(format!(
                    "the hub shows an older key directory (up to statement {}) than a practice device signed it had verified (statement {})",
                    dir.head().0,
                    claim.seq
                )))
            }
            Err(e) => return Err(SimError::Untrusted(e.to_string())),
        }
    }
    Ok(PoolKeys::new(
        Pool::ALL.iter().filter_map(|pool| dir.pool_key(*pool).map(|(_, key)| (*pool, PublicKey::from(key)))),
    ))
}
