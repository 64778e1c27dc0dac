//! The security review's findings (issue 20), each as the attack itself:
//! over real HTTP against the real hub, or on the workstation's real files.
//! Each test fails without the rule it names (see docs/architecture.md,
//! "Threats we test").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sealbox_core::key::KeyError;
use sealbox_core::sync::SyncError;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Workstation, WorkstationError};
use sealbox_crypto::audit_chain::{Event, Link, SegmentHead, GENESIS};
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use serde_json::{json, Value};

use support::login::{self, approve, enrol_and_login, enrol_and_login_unapproved, get, post};
use support::start_hub;

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Finding 1: with an intercepted invite, an enrolled but unapproved device
/// could read every pool and act in the invitee's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_device_reads_nothing_and_acts_on_nothing() {
    let hub = start_hub(2, RatePolicy::default()).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let who = enrol_and_login_unapproved(&url, &hub.state, Role::Gp).await;

    for path in ["/v1/sync?cursor=0&limit=10", "/v1/audit/head", "/v1/threads/1/activity", "/v1/me/logins"] {
        let (status, body) = get(c, format!("{url}{path}"), &who.token).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    let claim = json!({"actions": [{"idempotency_key": "k-1", "thread_id": 1, "expected_version": 1,
                                     "op": {"kind": "claim"}}]});
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&who.token), &claim).await;
    assert_eq!(status, 403, "{body}");
    let (status, body, _) = post(c, format!("{url}/v1/audit/segments"), Some(&who.token), &json!({})).await;
    assert_eq!(status, 403, "{body}");
    // Neither the session nor the counts-only token opens the event stream.
    for token in [&who.token, &who.counts_token] {
        let res = c.get(format!("{url}/v1/events")).bearer_auth(token).send().await.unwrap();
        assert!(matches!(res.status().as_u16(), 401 | 403), "{}", res.status());
    }

    // What enrolment needs still works: the device's keys, then (once
    // approved) everything else.
    let keys = json!({"x25519_public": b64(&[1; 32]), "ed25519_public": b64(&[2; 32])});
    let (status, body, _) = post(c, format!("{url}/v1/devices/keys"), Some(&who.token), &keys).await;
    assert_eq!(status, 204, "{body}");
    approve(&hub.state, &who.device_id);
    let (status, body) = get(c, format!("{url}/v1/sync?cursor=0&limit=10"), &who.token).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = post(c, format!("{url}/v1/lock"), Some(&who.token), &json!({})).await;
    assert_eq!(status, 204, "{body}");
}

/// Finding 1, the bootstrap: the practice's first admin device approves
/// itself by registering its keys (its invite came from the hub's console);
/// a second admin device waits for the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_first_admin_device_is_approved_without_an_admin() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let keys = json!({"x25519_public": b64(&[1; 32]), "ed25519_public": b64(&[2; 32])});
    let first = enrol_and_login_unapproved(&url, &hub.state, Role::PracticeAdmin).await;
    assert_eq!(get(c, format!("{url}/v1/devices"), &first.token).await.0, 403);
    assert_eq!(post(c, format!("{url}/v1/devices/keys"), Some(&first.token), &keys).await.0, 204);
    assert_eq!(get(c, format!("{url}/v1/devices"), &first.token).await.0, 200);

    let second = enrol_and_login_unapproved(&url, &hub.state, Role::PracticeAdmin).await;
    assert_eq!(post(c, format!("{url}/v1/devices/keys"), Some(&second.token), &keys).await.0, 204);
    assert_eq!(get(c, format!("{url}/v1/devices"), &second.token).await.0, 403);
}

fn segment(device: &str, links: &[Link], key: &SigningKey) -> Value {
    let head = SegmentHead {
        device,
        first_seq: links[0].seq,
        last_seq: links[links.len() - 1].seq,
        prev_hash: links[0].prev_hash,
        last_hash: links[links.len() - 1].hash,
    };
    let links: Vec<Value> = links
        .iter()
        .map(|l| {
            json!({"seq": l.seq, "at_ms": l.at_ms, "actor": l.actor, "device": l.device, "action": l.action,
                   "object": l.object, "prev_hash": b64(&l.prev_hash), "hash": b64(&l.hash)})
        })
        .collect();
    json!({"links": links, "signature": b64(&head.sign(key))})
}

/// Finding 4: a device could sign links naming a colleague as the actor,
/// or dated far from now, and the hub showed them as that colleague's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_links_must_name_the_caller_and_a_time_near_the_hubs_clock() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let gp = enrol_and_login(&url, &hub.state, Role::Gp).await;
    let colleague = enrol_and_login(&url, &hub.state, Role::Nurse).await;
    let key = SigningKey::from_bytes(&[31u8; 32]);
    let keys = json!({"x25519_public": b64(&[5; 32]), "ed25519_public": b64(key.verifying_key().as_bytes())});
    let (status, body, _) = post(c, format!("{url}/v1/devices/keys"), Some(&gp.token), &keys).await;
    assert!(status < 300, "{status} {body}");

    let now_ms = hub.state.now().as_millisecond();
    let link = |actor: &str, at_ms: i64| {
        Link::after(0, GENESIS, Event { at_ms, actor, device: &gp.device_id, action: "view", object: "1" })
    };
    let push = |l: Link| {
        let (client, url, token) = (c.clone(), format!("{url}/v1/audit/segments"), gp.token.clone());
        let body = segment(&gp.device_id, &[l], &key);
        async move { post(&client, url, Some(&token), &body).await }
    };
    let (status, body, _) = push(link(&colleague.user_id, now_ms)).await;
    assert_eq!(status, 403, "a link in a colleague's name: {body}");
    let (status, body, _) = push(link(&gp.user_id, now_ms + 24 * 3600 * 1000)).await;
    assert_eq!(status, 400, "a link dated tomorrow: {body}");
    let (status, body, _) = push(link(&gp.user_id, now_ms - 400 * 24 * 3600 * 1000)).await;
    assert_eq!(status, 400, "a link dated before the device was enrolled: {body}");
    let (status, body, _) = push(link(&gp.user_id, now_ms)).await;
    assert_eq!(status, 200, "the caller's own link, dated now: {body}");
}

/// Finding 6: unknown names were answered differently from real ones, and
/// failures from any address throttled the named GP everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_tells_nobody_who_works_here_and_a_stranger_cannot_lock_a_gp_out() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let url = hub.url.clone();
    let origin = login::origin(&hub.state);
    let mut gp = enrol_and_login(&url, &hub.state, Role::Gp).await;

    // The same shape for a real user, an unknown id and an unknown name.
    let real = login::login_start(&hub.client, &url, &gp.user_id).await.unwrap();
    let shape = |v: &Value| -> Vec<String> {
        let mut keys = Vec::new();
        fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m.iter().for_each(|(k, v)| walk(&format!("{prefix}.{k}"), v, out)),
                Value::Array(a) => a.iter().for_each(|v| walk(&format!("{prefix}[]"), v, out)),
                Value::String(s) if prefix.ends_with(".id") => out.push(format!("{prefix}:{}", s.len())),
                _ => out.push(prefix.to_owned()),
            }
        }
        walk("", v, &mut keys);
        keys
    };
    let real_json = serde_json::to_value(&real).unwrap();
    let unknown = login::login_start(&hub.client, &url, "staff-does-not-exist").await.unwrap();
    let unknown_json = serde_json::to_value(&unknown).unwrap();
    assert_eq!(shape(&real_json), shape(&unknown_json));
    let (status, by_name, _) =
        post(&hub.client, format!("{url}/v1/login/start"), None, &json!({"username": "a.nobody"})).await;
    assert_eq!(status, 200, "{by_name}");
    assert_eq!(shape(&real_json), shape(&by_name));
    // Stable across attempts, as a real user's credential is.
    let again = login::login_start(&hub.client, &url, "staff-does-not-exist").await.unwrap();
    assert_eq!(
        unknown.options.public_key.allow_credentials[0].id,
        again.options.public_key.allow_credentials[0].id
    );

    // A stranger at 127.0.0.2 fails as the GP, again and again.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stranger = reqwest::Client::builder().local_address("127.0.0.2".parse().ok()).build().unwrap();
    let wrong = login::assert(&mut gp.key, &origin, &real);
    for _ in 0..12 {
        match login::login_start(&stranger, &url, &gp.user_id).await {
            Ok(c) => {
                let (status, _, _) =
                    login::login_finish(&stranger, &url, &c.ceremony_id, &wrong).await.unwrap_err();
                assert_eq!(status, 401);
            }
            Err((status, _, _)) => assert_eq!(status, 429, "the stranger's own address is throttled"),
        }
    }
    let (status, _, _) = login::login_start(&stranger, &url, &gp.user_id).await.unwrap_err();
    assert_eq!(status, 429);
    // The GP at their own desk (127.0.0.1) signs in at once.
    login::login(&hub.client, &url, &origin, &gp.user_id, &mut gp.key).await;
}

/// Finding 7: a hub address typed as plain http would carry bearer tokens
/// in clear. Refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_refuses_a_plain_http_hub_that_is_not_this_machine() {
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workstation::open(dir.path().join("ws"), keyring).unwrap();
    let mut key = sealbox_core::key::soft::SoftKey::new("2468");
    let now = support::t0();
    let err = ws.enrol("http://hub.example:8080", "code", "Room 3 PC", &mut key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Hub(SyncError::InsecureHub)), "{err:?}");
    assert!(ws.profile().is_none());
}

/// Finding 8: quitting and restarting the app reset the unlock throttle,
/// buying five more guesses each time, and lost the failures from the audit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_app_neither_resets_the_unlock_wait_nor_loses_a_failure() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut enrolled = support::desks::enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let now = hub.state.now();
    enrolled.key.enter_pin("0000");
    for _ in 0..sealbox_core::lock::throttle::FREE_ATTEMPTS {
        let err = enrolled.ws.unlock(&mut enrolled.key, now).await.unwrap_err();
        assert!(matches!(err, WorkstationError::Key(KeyError::WrongPin)), "{err:?}");
    }
    // The app restarts: a new Workstation over the same folder.
    let dir = enrolled.ws.dir().to_path_buf();
    let mut restarted = Workstation::open(dir, keyring.clone()).unwrap();
    assert!(restarted.unlock_wait(now).as_secs() > 0, "the wait survived the restart");
    enrolled.key.enter_pin("2468");
    let err = restarted.unlock(&mut enrolled.key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::TryLater(_)), "{err:?}");
    let later = now.checked_add(sealbox_model::jiff::SignedDuration::from_mins(1)).unwrap();
    let desk = restarted.unlock(&mut enrolled.key, later).await.unwrap();
    let failures = {
        let shared = desk.store();
        let mut store = sealbox_core::sync::lock(&shared);
        store.audit_events(50).unwrap().into_iter().filter(|e| e.action == "unlock_failed:wrong_pin").count()
    };
    assert_eq!(failures, sealbox_core::lock::throttle::FREE_ATTEMPTS as usize, "every failure audited");
    enrolled.wipe(&keyring);
}
