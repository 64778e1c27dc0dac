//! Decoy login challenges. `POST /v1/login/start` for a name the hub does
//! not know (or one with no key at all) answers like it does for a real
//! user: a real webauthn-rs challenge whose allowed credential is a decoy
//! id derived from a hub secret and the name, so it is the same on every
//! attempt and as long as a real one. Finishing it fails as a wrong
//! signature does. Nobody can learn from the answer who works here.

use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Passkey, RequestChallengeResponse};
use webauthn_rs::Webauthn;

use super::ceremony_errors as err;
use super::secret;
use crate::args;
use crate::db::sql::Sql;
use crate::db::DbError;
use crate::http::ApiError;

/// The secret's name in `hub_secrets`.
const SECRET: &str = "login_decoy";

/// The hub's decoy secret, made on first use.
fn decoy_secret(conn: &dyn Sql) -> Result<[u8; 32], DbError> {
    conn.execute(
        "INSERT INTO hub_secrets (name, secret) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![SECRET, secret::random::<32>()],
    )?;
    let stored: Vec<u8> =
        conn.query_value("SELECT secret FROM hub_secrets WHERE name = ?1", args![SECRET])?;
    stored.try_into().map_err(|_| DbError::Corrupt { what: "hub secret" })
}

/// `len` bytes derived from `key` and `who` (SHA-256 in counter mode over
/// a fixed-length key prefix).
pub fn credential_id(key: &[u8; 32], who: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = 0u32;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(key);
        h.update(block.to_be_bytes());
        h.update(who.as_bytes());
        out.extend_from_slice(&h.finalize());
        block += 1;
    }
    out.truncate(len);
    out
}

/// A challenge for `who` (as typed) that no key can answer, shaped like a
/// real one: webauthn-rs makes it from a stored passkey, whose credential
/// id is then replaced by the decoy.
pub fn challenge(
    conn: &dyn Sql,
    webauthn: &Webauthn,
    who: &str,
) -> Result<RequestChallengeResponse, ApiError> {
    let key = decoy_secret(conn)?;
    let sample: Option<String> = conn
        .query_opt("SELECT passkey FROM devices ORDER BY id LIMIT 1", args![])?
        .map(|r| r.get(0))
        .transpose()?;
    // No passkey anywhere: nobody can sign in, known or not, and every
    // name gets this same answer.
    let json = sample.ok_or_else(|| ApiError::unauthorized("unknown user or no active security key"))?;
    let passkey: Passkey =
        serde_json::from_str(&json).map_err(|_| ApiError::from(DbError::Corrupt { what: "passkey" }))?;
    let (mut options, _) =
        webauthn.start_passkey_authentication(&[passkey]).map_err(|e| err::internal(&e))?;
    let allow = &mut options.public_key.allow_credentials;
    allow.truncate(1);
    for c in allow.iter_mut() {
        c.id = credential_id(&key, who, c.id.len());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_id_is_stable_per_name_and_differs_between_names() {
        let key = [7u8; 32];
        assert_eq!(credential_id(&key, "a.rao", 80), credential_id(&key, "a.rao", 80));
        assert_ne!(credential_id(&key, "a.rao", 80), credential_id(&key, "b.rao", 80));
        assert_ne!(credential_id(&key, "a.rao", 16), credential_id(&[8u8; 32], "a.rao", 16));
        assert_eq!(credential_id(&key, "a.rao", 80).len(), 80);
    }
}
