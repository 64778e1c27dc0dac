//! Pool keys for tests that need sealed traffic.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use sealbox_crypto::directory::{Entry, Statement, GENESIS};
use sealbox_hub::AppState;
use sealbox_model::hub_api::StatementRecord;
use sealbox_model::pool::Pool;
use x25519_dalek::{PublicKey, StaticSecret};

/// Stands in for the practice admin's device setting up the practice (the
/// admin flow itself is tested with real workstations): a practice key, the
/// pools' public keys published and signed into the key directory. Call it
/// once the practice exists and before issuing the patients' file, so the
/// file names the key. Returns the pools' private halves.
pub fn publish(state: &AppState) -> HashMap<Pool, StaticSecret> {
    let secrets: HashMap<Pool, StaticSecret> =
        Pool::ALL.iter().map(|p| (*p, StaticSecret::random_from_rng(OsRng))).collect();
    let keys: Vec<(Pool, [u8; 32])> =
        Pool::ALL.iter().map(|p| (*p, *PublicKey::from(&secrets[p]).as_bytes())).collect();
    let practice_key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    state
        .db
        .call_blocking(move |conn| {
            let practice: String = conn.query_value("SELECT id FROM practice", sealbox_hub::args![])?;
            conn.execute(
                "INSERT INTO practice_signing_key (id, ed25519_public, set_by_device, set_at_us) VALUES (1, ?1, 'admin-device', 0)",
                sealbox_hub::args![practice_key.verifying_key().as_bytes()],
            )?;
            let mut head = (0, GENESIS);
            for (pool, key) in &keys {
                conn.execute(
                    "INSERT INTO pool_keys (pool, key_version, x25519_public, published_by_device, published_at_us)
                     VALUES (?1, 1, ?2, 'admin-device', 0)",
                    sealbox_hub::args![pool.key(), key],
                )?;
                let s = Statement::sign(&practice_key, &practice, head, Entry::PoolKey { pool: *pool, version: 1, public: *key });
                head = (s.seq, s.hash(&practice));
                conn.execute(
                    "INSERT INTO directory (seq, statement, added_by_device, added_at_us) VALUES (?1, ?2, 'admin-device', 0)",
                    sealbox_hub::args![s.seq, serde_json::to_string(&StatementRecord::from(&s)).unwrap()],
                )?;
            }
            Ok::<_, sealbox_hub::db::DbError>(())
        })
        .unwrap();
    secrets
}
