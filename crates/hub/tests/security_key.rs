//! The software FIDO2 authenticator (sealbox-core's `SoftKey`) against the
//! hub's real webauthn-rs relying party over loopback HTTP, and the KEK its
//! hmac-secret yields opening a real SQLCipher cache through the real OS
//! keyring (Secret Service in `cargo xtask test`'s private session).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::cache::{self, CacheConfig, CacheError};
use sealbox_core::key::fallback::{choose_mode, KeyMode, KeyPolicy, KeyringKek};
use sealbox_core::key::local::LocalVerifier;
use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::{DerivedKek, KeyError, SecurityKey};
use sealbox_core::vault::Keyring;
use sealbox_crypto::keywrap::WrapContext;
use sealbox_crypto::secret::random_bytes;
use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;

use support::login::{enrol_finish, enrol_start, invite, login_finish, login_start, origin};
use support::start_hub;
use zeroize::Zeroizing;

/// Enrols `key` as a new GP; returns the user id.
async fn enrol(hub: &support::Hub, key: &mut SoftKey) -> String {
    let code = invite(&hub.state, Role::Gp);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = key.register(&origin(&hub.state), challenge.options).unwrap();
    enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap().user_id
}

/// One touch: the hub verifies the assertion (a new session); returns the
/// hmac-secret output for `salt`.
async fn sign_in(hub: &support::Hub, key: &mut SoftKey, user: &str, salt: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let challenge = login_start(&hub.client, &hub.url, user).await.unwrap();
    let assertion = key.sign_in(&origin(&hub.state), challenge.options, Some(salt)).unwrap();
    let session =
        login_finish(&hub.client, &hub.url, &challenge.ceremony_id, &assertion.credential).await.unwrap();
    assert_eq!(session.user_id, user);
    assertion.hmac_secret.unwrap()
}

#[tokio::test]
async fn the_hub_verifies_the_soft_key_and_hmac_secret_is_stable_per_credential_and_salt() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let mut key = SoftKey::new("2468");
    let user = enrol(&hub, &mut key).await;
    let salt = random_bytes::<32>();
    let first = sign_in(&hub, &mut key, &user, &salt).await;
    let again = sign_in(&hub, &mut key, &user, &salt).await;
    assert_eq!(*first, *again, "same credential, same salt: same output");
    let other_salt = sign_in(&hub, &mut key, &user, &random_bytes::<32>()).await;
    assert_ne!(*first, *other_salt);
    // Another person's key has its own credential secret.
    let mut other = SoftKey::new("1357");
    let other_user = enrol(&hub, &mut other).await;
    assert_ne!(*first, *sign_in(&hub, &mut other, &other_user, &salt).await);
}

#[tokio::test]
async fn wrong_key_wrong_pin_no_touch_and_no_hmac_secret_are_clear_errors() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let mut key = SoftKey::new("2468");
    let user = enrol(&hub, &mut key).await;
    let salt = random_bytes::<32>();
    let options = || async { login_start(&hub.client, &hub.url, &user).await.unwrap().options };
    let o = origin(&hub.state);

    let mut stranger = SoftKey::new("2468");
    assert_eq!(stranger.sign_in(&o, options().await, Some(&salt)).unwrap_err(), KeyError::WrongKey);
    key.enter_pin("0000");
    assert_eq!(key.sign_in(&o, options().await, Some(&salt)).unwrap_err(), KeyError::WrongPin);
    key.enter_pin("2468");
    key.set_touch(false);
    assert_eq!(key.sign_in(&o, options().await, Some(&salt)).unwrap_err(), KeyError::Cancelled);
    key.set_touch(true);
    assert!(key.sign_in(&o, options().await, Some(&salt)).is_ok());

    let mut weak = SoftKey::new("2468").without_hmac_secret();
    let weak_user = enrol(&hub, &mut weak).await;
    assert!(!weak.has_hmac_secret());
    let challenge = login_start(&hub.client, &hub.url, &weak_user).await.unwrap();
    assert_eq!(
        weak.sign_in(&o, challenge.options, Some(&salt)).unwrap_err(),
        KeyError::Unsupported("hmac-secret")
    );
    for e in [KeyError::WrongKey, KeyError::WrongPin, KeyError::Cancelled] {
        assert!(!e.to_string().is_empty());
    }
}

#[tokio::test]
async fn only_the_enrolled_keys_touch_opens_the_cache() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let mut key = SoftKey::new("2468");
    let user = enrol(&hub, &mut key).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dir = tempfile::tempdir().unwrap();
    let device = format!("dev-{}", u64::from_ne_bytes(random_bytes()));
    let cfg =
        CacheConfig { data_dir: dir.path().join("data"), context: WrapContext::new("P81001", &user, device) };

    // Enrolment: the app picks the device salt, the key is touched for it,
    // and the KEK from its hmac-secret wraps the new data key.
    let salt = random_bytes::<32>();
    let output = sign_in(&hub, &mut key, &user, &salt).await;
    let unlocked =
        cache::enrol_with_salt(&cfg, &keyring, &DerivedKek::new(output, salt), salt, hub.state.now())
            .unwrap();
    unlocked.session.lock().unwrap();

    // Unlock: the salt comes back from the keyring; the same key opens it.
    assert_eq!(cache::device_salt(&cfg, &keyring).unwrap(), salt);
    let output = sign_in(&hub, &mut key, &user, &salt).await;
    let again = cache::unlock(&cfg, &keyring, &DerivedKek::new(output, salt), hub.state.now()).unwrap();
    assert!(again.quarantined.is_none());
    again.session.lock().unwrap();

    // Another enrolled key (a colleague's) cannot: a different KEK.
    let mut colleague = SoftKey::new("1357");
    let colleague_user = enrol(&hub, &mut colleague).await;
    let output = sign_in(&hub, &mut colleague, &colleague_user, &salt).await;
    let err = cache::unlock(&cfg, &keyring, &DerivedKek::new(output, salt), hub.state.now()).unwrap_err();
    assert!(matches!(err, CacheError::WrongKey), "{err:?}");
    // A touch for another salt is refused before any unwrap is tried.
    let output = sign_in(&hub, &mut key, &user, &random_bytes::<32>()).await;
    assert!(cache::unlock(&cfg, &keyring, &DerivedKek::new(output, [9; 32]), hub.state.now()).is_err());
    cache::wipe_device(&cfg, &keyring, None).unwrap();
}

#[tokio::test]
async fn offline_the_device_verifies_the_key_itself_with_the_credential_from_enrolment() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let mut key = SoftKey::new("2468");
    let code = invite(&hub.state, Role::Gp);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = key.register(&origin(&hub.state), challenge.options).unwrap();
    let enrolled = enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap();
    let mut passkey = enrolled.passkey;
    let salt = random_bytes::<32>();
    let online = sign_in(&hub, &mut key, &enrolled.user_id, &salt).await;

    // The hub goes away; the desktop verifies the key on its own.
    let rp_id = hub.state.config.webauthn.rp_id.clone();
    let o = origin(&hub.state);
    hub.running.stop().await.unwrap();
    let local = LocalVerifier::new(&rp_id, &o).unwrap();
    let offline = local.sign_in(&mut key, &mut passkey, &salt).unwrap();
    assert_eq!(*offline, *online, "the same KEK online and offline");
    assert!(local.sign_in(&mut key, &mut passkey, &salt).is_ok(), "the counter advances each time");

    // Another key, even one with this credential's id unknown to it, fails.
    let mut stranger = SoftKey::new("2468");
    assert_eq!(local.sign_in(&mut stranger, &mut passkey, &salt).unwrap_err(), KeyError::WrongKey);
    key.enter_pin("9999");
    assert_eq!(local.sign_in(&mut key, &mut passkey, &salt).unwrap_err(), KeyError::WrongPin);
}

#[tokio::test]
async fn a_key_without_hmac_secret_gets_the_weaker_mode_only_if_policy_allows_and_only_after_a_verified_touch(
) {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let mut weak = SoftKey::new("2468").without_hmac_secret();
    // (This is the demo's key: the practice allows demo keys here.)
    let demo = KeyPolicy { allow_demo_key: true, ..KeyPolicy::default() };
    assert_eq!(choose_mode(&weak, KeyPolicy::default()).unwrap_err(), KeyError::DemoKeyRefused);
    assert_eq!(
        choose_mode(&weak, demo).unwrap_err(),
        KeyError::Unsupported("hmac-secret, which this practice requires")
    );
    let mode = choose_mode(&weak, KeyPolicy { allow_keyring_fallback: true, ..demo }).unwrap();
    assert_eq!(mode, KeyMode::KeyringFallback);
    assert_eq!(mode.key(), "keyring_fallback_weaker", "named as weaker in the UI and the audit log");
    assert_eq!(choose_mode(&SoftKey::new("1"), demo).unwrap(), KeyMode::HmacSecret);

    let code = invite(&hub.state, Role::Nurse);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = weak.register(&origin(&hub.state), challenge.options).unwrap();
    let enrolled = enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap();
    let mut passkey = enrolled.passkey;
    let local = LocalVerifier::new(&hub.state.config.webauthn.rp_id, &origin(&hub.state)).unwrap();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dir = tempfile::tempdir().unwrap();
    let device = format!("dev-{}", u64::from_ne_bytes(random_bytes()));
    let cfg = CacheConfig {
        data_dir: dir.path().join("data"),
        context: WrapContext::new("P81001", &enrolled.user_id, device),
    };

    let touch = local.verify(&mut weak, &mut passkey).unwrap();
    let kek = KeyringKek::create(&keyring, &cfg, touch).unwrap();
    cache::enrol(&cfg, &keyring, &kek, hub.state.now()).unwrap().session.lock().unwrap();

    // Unlock: the KEK comes out of the keyring only for a verified touch.
    let mut stranger = SoftKey::new("2468").without_hmac_secret();
    assert_eq!(local.verify(&mut stranger, &mut passkey).unwrap_err(), KeyError::WrongKey);
    let touch = local.verify(&mut weak, &mut passkey).unwrap();
    let kek = KeyringKek::release(&keyring, &cfg, touch).unwrap();
    cache::unlock(&cfg, &keyring, &kek, hub.state.now()).unwrap().session.lock().unwrap();

    // Wiping the device removes the weaker mode's KEK too.
    cache::wipe_device(&cfg, &keyring, None).unwrap();
    let touch = local.verify(&mut weak, &mut passkey).unwrap();
    assert!(KeyringKek::release(&keyring, &cfg, touch).is_err());
}
