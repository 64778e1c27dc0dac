//! The demo's software key (`SoftKey`) is its own mode: refused unless the
//! practice allows demo keys — by the workstation before anything is
//! registered, and by the hub over HTTP (by the credential's AAGUID) for a
//! client that does not say — named in the profile, the audit chain and the
//! lock screen's status, and stopped when the practice withdraws it, online
//! and offline. Real hub, real SQLCipher caches, the real OS keyring.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::{KeyError, SecurityKey};
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Verified, Workstation, WorkstationError};
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::PracticePolicy;
use sealbox_model::role::Role;

use support::login::{enrol, enrol_finish, enrol_start, invite, new_key, origin};
use support::{demo_practice, start_hub};

fn set_policy(hub: &support::Hub, policy: PracticePolicy) {
    let now = hub.state.now();
    hub.state.db.call_blocking(move |c| sealbox_hub::auth::policy::set(c, policy, "test", now)).unwrap();
}

fn count(hub: &support::Hub, sql: &'static str) -> i64 {
    hub.state.db.sqlite_blocking(move |c| c.query_row(sql, [], |r| r.get(0))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_refuses_the_demo_key_by_default_at_the_workstation_and_at_the_hub() {
    let hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    set_policy(&hub, PracticePolicy::default());
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();

    // The workstation knows its key is the demo's: refused before the key
    // registers anything.
    let mut ws = Workstation::open(dirs.path().join("gp"), keyring.clone()).unwrap();
    let code = invite(&hub.state, Role::Gp);
    let err = ws.enrol(&hub.url, &code, "Room 3 PC", &mut SoftKey::new("2468"), now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::DemoKeyRefused)), "{err:?}");
    assert!(err.to_string().contains("use a hardware security key"), "{err}");
    assert!(ws.profile().is_none());

    // A client that does not say which key it has: the hub knows the demo
    // key by the AAGUID in its attestation and refuses it.
    let mut key = SoftKey::new("2468");
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = key.register(&origin(&hub.state), challenge.options).unwrap();
    let (status, problem) =
        enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap_err();
    assert_eq!(status, 403, "{problem}");
    assert!(problem["type"].as_str().unwrap().ends_with("demo_key_refused"), "{problem}");
    assert_eq!(count(&hub, "SELECT COUNT(*) FROM devices"), 0, "nothing enrolled");
    assert_eq!(count(&hub, "SELECT COUNT(*) FROM login_attempts WHERE outcome = 'key_refused'"), 1);

    // The rule is about the demo key only: another authenticator (webauthn-
    // authenticator-rs's) enrols under the same policy.
    let other = invite(&hub.state, Role::Nurse);
    enrol(&hub.client, &hub.url, &origin(&hub.state), &other, &mut new_key()).await.unwrap();
    assert_eq!(count(&hub, "SELECT COUNT(*) FROM devices"), 1);

    // Allowed: the same kind of key enrols.
    set_policy(&hub, demo_practice());
    let code = invite(&hub.state, Role::Gp);
    let challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let credential = key.register(&origin(&hub.state), challenge.options).unwrap();
    enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap();
    assert_eq!(count(&hub, "SELECT COUNT(*) FROM devices WHERE demo_key = 1"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_key_is_named_everywhere_and_stops_when_the_practice_withdraws_it() {
    let mut hub = start_hub(1, RatePolicy { burst: 100, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let support::desks::Enrolled { mut ws, mut key, admin, admin_key } =
        support::desks::enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let dir = ws.dir().to_path_buf();

    // Named in the profile, the status the lock screen shows, and the
    // audit chain.
    let profile = ws.profile().unwrap().clone();
    assert!(profile.demo_key && !profile.demo_withdrawn);
    let written = std::fs::read_to_string(dir.join("profile.json")).unwrap();
    assert!(written.contains("\"demo_key\": true"), "{written}");
    let status = sealbox_core::status::app_status(
        "1",
        false,
        Some(&profile),
        None,
        sealbox_model::jiff::SignedDuration::ZERO,
    );
    assert!(status.demo_key && !status.weaker_key);
    let desk = ws.unlock(&mut key, now).await.unwrap();
    let actions: Vec<String> =
        lock(&desk.store()).audit_events(20).unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"demo_software_key".to_owned()), "{actions:?}");
    assert!(
        actions.iter().any(|a| a.ends_with(",demo_keys=true")),
        "the policy it was allowed under: {actions:?}"
    );
    desk.lock("now", now).await.unwrap();

    // The practice withdraws demo keys: the hub refuses the next sign-in.
    set_policy(&hub, PracticePolicy::default());
    let err = ws.unlock(&mut key, now).await.unwrap_err();
    let outcomes: Vec<String> = hub
        .state
        .db
        .sqlite_blocking(|c| {
            let mut st = c.prepare("SELECT outcome FROM login_attempts ORDER BY id")?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>();
            rows
        })
        .unwrap();
    assert!(matches!(err, WorkstationError::Key(KeyError::DemoKeyRefused)), "{err:?} {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "key_refused").count(), 1, "{outcomes:?}");
    // Remembered on the device: with the hub out of reach (after a
    // restart too), the device does not open offline either.
    let addr = hub.running.addr;
    hub.running.stop().await.unwrap();
    let mut restarted = Workstation::open(dir.clone(), keyring.clone()).unwrap();
    assert!(restarted.profile().unwrap().demo_withdrawn);
    let err = restarted.unlock(&mut key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Key(KeyError::DemoKeyRefused)), "{err:?}");

    // Allowed again: the next online unlock opens and clears it.
    hub.running = sealbox_hub::server::start(hub.state.clone(), addr, None).await.unwrap();
    set_policy(&hub, demo_practice());
    let desk = restarted.unlock(&mut key, now).await.unwrap();
    assert_eq!(desk.verified(), Verified::Online);
    assert!(!restarted.profile().unwrap().demo_withdrawn);
    desk.lock("now", now).await.unwrap();
    support::desks::Enrolled { ws: restarted, key, admin, admin_key }.wipe(&keyring);
}
