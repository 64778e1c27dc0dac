//! Patient channels: issued by the practice (`sealbox-hub patient-channels`),
//! each a pseudonymous patient id, a bearer token (stored as its SHA-256) and
//! the patient's public keys.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sealbox_model::hub_api::{Base64Bytes, ChannelToken, PracticeFile, SimPatient};
use sealbox_model::ids::PatientId;
use sealbox_model::jiff::Timestamp;

use super::store::sha256;
use crate::args;
use crate::db::many::{Kind, Many};
use crate::db::practice::{self, hex};
use crate::db::sql::{begin, Backend, Sql, SqlRow, Statement, ToParam};
use crate::db::time::to_db;
use crate::db::DbError;

/// A live channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The patient's pseudonym.
    pub patient_id: PatientId,
    /// Ed25519 public key that must sign the patient's envelopes.
    pub ed25519_public: [u8; 32],
}

/// Issuing channels failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// `init-practice` has not been run.
    #[error("no practice yet: run `sealbox-hub init-practice` first")]
    NoPractice,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Finds the live channel whose token is `token`.
pub fn by_token(conn: &dyn Sql, token: &str) -> Result<Option<Channel>, DbError> {
    Ok(by_tokens(conn, &[token])?.remove(token))
}

/// The live channels whose tokens are among `tokens`, by token: one query.
pub fn by_tokens(conn: &dyn Sql, tokens: &[&str]) -> Result<HashMap<String, Channel>, DbError> {
    if tokens.is_empty() {
        return Ok(HashMap::new());
    }
    let hashes = token_hashes(tokens);
    let query = by_hashes_query(conn.backend(), &hashes);
    by_hashes_from(tokens, &hashes, conn.run(&query)?)
}

/// Each token's SHA-256, as channels are stored under.
pub fn token_hashes(tokens: &[&str]) -> Vec<[u8; 32]> {
    tokens.iter().map(|t| sha256(t.as_bytes())).collect()
}

/// The statement [`by_tokens`] runs on `backend` to find the live
/// channels with these token hashes.
pub fn by_hashes_query(backend: Backend, hashes: &[[u8; 32]]) -> Statement {
    let mut m = Many::new(backend);
    let among = m.among(Kind::Blob, &hashes.iter().map(|h| h.param()).collect::<Vec<_>>());
    m.statement(format!(
        "SELECT token_sha256, patient_id, ed25519_public FROM patient_channels
         WHERE token_sha256 {among} AND revoked_at_us IS NULL"
    ))
}

/// The channels [`by_hashes_query`]'s `rows` name, by token (`hashes` are
/// `tokens`' own, in order).
pub fn by_hashes_from(
    tokens: &[&str],
    hashes: &[[u8; 32]],
    rows: Vec<SqlRow>,
) -> Result<HashMap<String, Channel>, DbError> {
    let token_of: HashMap<[u8; 32], &str> = hashes.iter().copied().zip(tokens.iter().copied()).collect();
    let mut found = HashMap::new();
    for row in rows {
        let hash: [u8; 32] =
            row.get::<Vec<u8>>(0)?.try_into().map_err(|_| DbError::Corrupt { what: "channel token hash" })?;
        let ed25519_public: [u8; 32] = row
            .get::<Vec<u8>>(2)?
            .try_into()
            .map_err(|_| DbError::Corrupt { what: "patient ed25519 key" })?;
        if let Some(token) = token_of.get(&hash) {
            found.insert((*token).to_owned(), Channel { patient_id: PatientId(row.get(1)?), ed25519_public });
        }
    }
    Ok(found)
}

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Issues `count` channels for simulated patients in one transaction and
/// returns the practice file (secrets included: it is the patients' side).
pub fn issue(conn: &dyn Sql, count: u32, now: Timestamp) -> Result<PracticeFile, ChannelError> {
    let tx = begin(conn)?;
    let practice = practice::get(&tx)?.ok_or(ChannelError::NoPractice)?;
    let mut patients = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        let mut id_raw = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id_raw);
        let patient_id = PatientId(format!("pt-{}", hex(&id_raw)));
        let token = URL_SAFE_NO_PAD.encode(random32());
        let ed_secret = random32();
        let x_secret = random32();
        let ed_public = ed25519_dalek::SigningKey::from_bytes(&ed_secret).verifying_key().to_bytes();
        let x_public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(x_secret)).to_bytes();
        tx.execute(
            "INSERT INTO patient_channels (patient_id, token_sha256, ed25519_public, x25519_public, created_at_us)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![patient_id.0, sha256(token.as_bytes()), ed_public, x_public, to_db(now)],
        )?;
        patients.push(SimPatient {
            patient_id,
            channel_token: ChannelToken(token),
            ed25519_secret: Base64Bytes(ed_secret.to_vec()),
            x25519_secret: Base64Bytes(x_secret.to_vec()),
        });
    }
    let practice_key = crate::auth::directory::signing_key(&tx)?
        .map(|k| sealbox_model::hub_api::Base64Bytes(k.as_bytes().to_vec()));
    tx.commit()?;
    Ok(PracticeFile { practice_id: practice.id, patients, practice_key })
}
