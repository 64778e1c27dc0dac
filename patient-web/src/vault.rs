//! The channel as IndexedDB keeps it ([`StoredChannel`]: sealed under the
//! patient's passphrase), one per browser profile.

use idb::{DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use wasm_bindgen::JsValue;

use crate::channel::StoredChannel;

const DB: &str = "sealbox-patient";
const STORE: &str = "channel";
const KEY: &str = "current";

/// IndexedDB refused.
#[derive(Debug, thiserror::Error)]
#[error("This browser could not keep your details ({0}). Private browsing can cause this.")]
pub struct VaultError(String);

impl From<idb::Error> for VaultError {
    fn from(e: idb::Error) -> Self {
        VaultError(e.to_string())
    }
}

async fn open() -> Result<idb::Database, VaultError> {
    let factory = Factory::new()?;
    let mut request = factory.open(DB, Some(1))?;
    request.on_upgrade_needed(|event| {
        if let Ok(db) = event.database() {
            let _ = db.create_object_store(STORE, ObjectStoreParams::new());
        }
    });
    Ok(request.await?)
}

/// The record under `key`, if this browser has one.
async fn get<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>, VaultError> {
    let db = open().await?;
    let tx = db.transaction(&[STORE], TransactionMode::ReadOnly)?;
    let value = tx.object_store(STORE)?.get(JsValue::from_str(key))?.await?;
    tx.await?;
    db.close();
    match value {
        Some(v) if !v.is_undefined() => serde_wasm_bindgen::from_value(v)
            .map(Some)
            .map_err(|_| VaultError("the saved record is damaged".to_owned())),
        _ => Ok(None),
    }
}

/// Keeps `value` under `key`, replacing any earlier one.
async fn put<T: serde::Serialize + ?Sized>(key: &str, value: &T) -> Result<(), VaultError> {
    let value = serde_wasm_bindgen::to_value(value).map_err(|e| VaultError(e.to_string()))?;
    let db = open().await?;
    let tx = db.transaction(&[STORE], TransactionMode::ReadWrite)?;
    tx.object_store(STORE)?.put(&value, Some(&JsValue::from_str(key)))?.await?;
    tx.commit()?.await?;
    db.close();
    Ok(())
}

/// `key` for the practice this page belongs to: as it is on a hub of one
/// practice; followed by the practice's path on a deployment serving
/// several at one address, whose pages share this browser storage.
fn keyed(key: &str) -> String {
    format!("{key}{}", crate::hub::base())
}

/// The stored channel, if this browser has one.
pub async fn load() -> Result<Option<StoredChannel>, VaultError> {
    get(&keyed(KEY)).await
}

/// Keeps `channel`, replacing any earlier one.
pub async fn save(channel: &StoredChannel) -> Result<(), VaultError> {
    put(&keyed(KEY), channel).await
}

/// Where the medicines the patient asked for before are kept (sealed to
/// the channel's own key: `Channel::seal_for_here`).
const MEDICINES: &str = "medicines";

/// The sealed list of medicines asked for before, if any.
pub async fn load_medicines() -> Result<Option<Vec<u8>>, VaultError> {
    get(&keyed(MEDICINES)).await
}

/// Keeps the sealed list of medicines asked for before.
pub async fn save_medicines(sealed: &[u8]) -> Result<(), VaultError> {
    put(&keyed(MEDICINES), sealed).await
}
