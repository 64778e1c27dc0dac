//! Pool keys for tests that need sealed traffic.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use rand::rngs::OsRng;
use sealbox_hub::AppState;
use sealbox_model::pool::Pool;
use x25519_dalek::{PublicKey, StaticSecret};

/// Stands in for the practice admin's device publishing the pool public keys
/// (the admin flow is tested in auth_*); returns the private halves.
pub fn publish(state: &AppState) -> HashMap<Pool, StaticSecret> {
    let secrets: HashMap<Pool, StaticSecret> =
        Pool::ALL.iter().map(|p| (*p, StaticSecret::random_from_rng(OsRng))).collect();
    let rows: Vec<(String, Vec<u8>)> =
        secrets.iter().map(|(p, s)| (p.key().to_owned(), PublicKey::from(s).as_bytes().to_vec())).collect();
    state
        .db
        .call_blocking(move |conn| {
            for (pool, key) in &rows {
                conn.execute(
                    "INSERT INTO pool_keys (pool, key_version, x25519_public, published_by_device, published_at_us)
                     VALUES (?1, 1, ?2, 'admin-device', 0)",
                    rusqlite::params![pool, key],
                )?;
            }
            Ok::<_, sealbox_hub::db::DbError>(())
        })
        .unwrap();
    secrets
}
