//! Vault unit tests: the key record format and the keyring error mapping,
//! against keyring-core's mock store (the real Secret Service is exercised
//! in `cache::tests`).

use super::*;
use keyring_core::mock;

pub(crate) fn mock_keyring() -> Keyring {
    Keyring::with_store(mock::Store::new().unwrap())
}

fn ctx() -> WrapContext {
    WrapContext::new("P81001", "gp-ali", "dev-1")
}

fn record(next: bool) -> KeyRecord {
    KeyRecord {
        device_salt: [1; DEVICE_SALT_LEN],
        db_salt: [2; SALT_LEN],
        wrapped: vec![3; WRAPPED_LEN],
        wrapped_next: next.then(|| vec![4; WRAPPED_LEN]),
    }
}

#[test]
fn record_round_trips_with_and_without_a_pending_key() {
    for next in [false, true] {
        let r = record(next);
        assert_eq!(KeyRecord::decode(&r.encode()).unwrap(), r);
    }
}

#[test]
fn malformed_records_are_typed_errors() {
    let good = record(true).encode();
    for bad in [&good[..10], &good[..good.len() - 1], b"XXXXnope".as_slice()] {
        assert!(matches!(KeyRecord::decode(bad), Err(VaultError::RecordCorrupt)));
    }
    let mut flag = record(false).encode();
    flag[4 + 1 + DEVICE_SALT_LEN + SALT_LEN] = 1;
    assert!(matches!(KeyRecord::decode(&flag), Err(VaultError::RecordCorrupt)));
}

#[test]
fn save_load_delete_through_a_store() {
    let k = mock_keyring();
    assert_eq!(k.load(&ctx()).unwrap(), None);
    k.save(&ctx(), &record(false)).unwrap();
    assert_eq!(k.load(&ctx()).unwrap(), Some(record(false)));
    assert_eq!(k.load(&WrapContext::new("P81001", "gp-ali", "dev-2")).unwrap(), None);
    assert!(k.delete(&ctx()).unwrap());
    assert!(!k.delete(&ctx()).unwrap());
}

#[test]
fn a_locked_keyring_says_what_to_unlock() {
    let k = mock_keyring();
    let entry = k.entry(&ctx()).unwrap();
    let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(keyring_core::Error::NoStorageAccess("locked".into()));
    let err = k.load(&ctx()).unwrap_err();
    assert!(matches!(err, VaultError::KeyringLocked { .. }), "{err:?}");
    assert!(err.to_string().contains("unlock"), "{err}");

    let entry = k.entry(&ctx()).unwrap();
    let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(keyring_core::Error::PlatformFailure("no service".into()));
    let err = k.save(&ctx(), &record(false)).unwrap_err();
    assert!(matches!(err, VaultError::KeyringUnavailable { .. }), "{err:?}");
    #[cfg(target_os = "linux")]
    assert!(err.to_string().contains("gnome-keyring"), "{err}");
}
