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
use support::sse::next_event;
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
    let own = link(&gp.user_id, now_ms);
    let (status, body, _) = push(own.clone()).await;
    assert_eq!(status, 200, "the caller's own link, dated now: {body}");
    // Sealbox itself (the hub refused a queued action) is no one else.
    let system = Link::after(
        own.seq,
        own.hash,
        Event {
            at_ms: now_ms,
            actor: sealbox_model::actor::SYSTEM_ACTOR,
            device: &gp.device_id,
            action: "action_conflict",
            object: "thread 1",
        },
    );
    let (status, body, _) = push(system).await;
    assert_eq!(status, 200, "a system link: {body}");
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
        let store = sealbox_core::sync::lock(&shared);
        store.audit_events(50).unwrap().into_iter().filter(|e| e.action == "unlock_failed:wrong_pin").count()
    };
    assert_eq!(failures, sealbox_core::lock::throttle::FREE_ATTEMPTS as usize, "every failure audited");
    enrolled.wipe(&keyring);
}

/// Every page of `/v1/sync` for `token`: (threads with their categories,
/// thread ids of envelopes, thread ids of actions).
async fn sync_all(hub: &support::Hub, token: &str) -> (Vec<(u64, String)>, Vec<u64>, Vec<u64>) {
    let (mut threads, mut envelopes, mut actions) = (Vec::new(), Vec::new(), Vec::new());
    let mut cursor = 0u64;
    loop {
        let (status, page) =
            get(&hub.client, format!("{}/v1/sync?cursor={cursor}&limit=100", hub.url), token).await;
        assert_eq!(status, 200, "{page}");
        for t in page["threads"].as_array().unwrap() {
            threads.push((t["thread_id"].as_u64().unwrap(), t["category"].as_str().unwrap().to_owned()));
        }
        envelopes
            .extend(page["envelopes"].as_array().unwrap().iter().map(|e| e["thread_id"].as_u64().unwrap()));
        actions.extend(page["actions"].as_array().unwrap().iter().map(|a| a["thread_id"].as_u64().unwrap()));
        cursor = page["next_cursor"].as_u64().unwrap();
        if !page["more"].as_bool().unwrap() {
            return (threads, envelopes, actions);
        }
    }
}

/// Finding 2: sync and events showed every pool's threads (ids, states,
/// owners, envelopes) to every role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_events_show_a_role_only_the_threads_it_may_read() {
    let hub = start_hub(10, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    support::pool_keys::publish(&hub.state);
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let navigator = enrol_and_login(&hub.url, &hub.state, Role::CareNavigator).await;
    let res =
        hub.client.get(format!("{}/v1/events", hub.url)).bearer_auth(&navigator.token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut stream = res.bytes_stream();
    let mut buf = String::new();
    let first = next_event(&mut stream, &mut buf, |_| true).await;

    let plan = sealbox_sim::traffic::plan(3, 10, 80);
    let sent = sealbox_sim::send::send(&hub.client, &hub.url, &hub.patients(), &plan, Default::default())
        .await
        .unwrap();
    assert_eq!(sent.accepted, plan.len());

    let (all, all_envelopes, _) = sync_all(&hub, &gp.token).await;
    let (seen, envelopes, actions) = sync_all(&hub, &navigator.token).await;
    let readable = |c: &str| {
        let category: sealbox_model::category::Category = serde_json::from_value(json!(c)).unwrap();
        sealbox_model::permissions::can_read_thread(Role::CareNavigator, category)
    };
    assert!(seen.iter().all(|(_, c)| readable(c)), "a navigator sees only admin threads: {seen:?}");
    let mine: Vec<u64> = all.iter().filter(|(_, c)| readable(c)).map(|(t, _)| *t).collect();
    assert!(!mine.is_empty() && mine.len() < all.len(), "the plan mixes categories");
    assert_eq!(seen.iter().map(|(t, _)| *t).collect::<Vec<_>>(), mine);
    assert!(envelopes.iter().chain(&actions).all(|t| mine.contains(t)));
    assert_eq!(envelopes.len(), all_envelopes.iter().filter(|t| mine.contains(t)).count());

    // Events: only readable thread ids, only the navigator's own pool count.
    let mut told = Vec::new();
    loop {
        let event = next_event(&mut stream, &mut buf, |_| true).await;
        for key in ["gp", "nurse", "pharmacy"] {
            assert_eq!(event["pools"][key], 0, "another pool's count: {event}");
        }
        told.extend(event["thread_ids"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap()));
        if mine.iter().all(|t| told.contains(t)) {
            break;
        }
    }
    assert!(told.iter().all(|t| mine.contains(t)), "an unreadable thread id in an event: {told:?}");
    assert!(first["seq"].as_u64().is_some());
}

/// Whether the stream ends (rather than staying open) within 10 s.
async fn stream_ends<B: AsRef<[u8]>>(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
) -> bool {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Finding 5: an open event stream was checked once and outlived the
/// device's revocation and the session's expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_ends_with_its_session() {
    let hub = support::start_hub_with(0, RatePolicy::default(), |c| {
        c.stream_recheck = std::time::Duration::from_millis(20);
    })
    .await;
    let url = hub.url.clone();
    let admin = enrol_and_login(&url, &hub.state, Role::PracticeAdmin).await;
    let open = |token: String| {
        let (client, url) = (hub.client.clone(), url.clone());
        async move {
            let res = client.get(format!("{url}/v1/events")).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            res.bytes_stream()
        }
    };

    // Revoked: both the session's and the counts-only token's streams end.
    let nurse = enrol_and_login(&url, &hub.state, Role::Nurse).await;
    let mut by_session = open(nurse.token.clone()).await;
    let mut by_counts = open(nurse.counts_token.clone()).await;
    let mut buf = String::new();
    next_event(&mut by_session, &mut buf, |_| true).await;
    let revoke = format!("{url}/v1/devices/{}/revoke", nurse.device_id);
    assert_eq!(post(&hub.client, revoke, Some(&admin.token), &json!({})).await.0, 204);
    assert!(stream_ends(&mut by_session).await, "the session's stream outlived the revocation");
    assert!(stream_ends(&mut by_counts).await, "the counts-only stream outlived the revocation");

    // Expired: 15 minutes without a request ends the session and its stream.
    let gp = enrol_and_login(&url, &hub.state, Role::Gp).await;
    let mut stream = open(gp.token.clone()).await;
    let mut buf = String::new();
    next_event(&mut stream, &mut buf, |_| true).await;
    hub.clock.advance(sealbox_model::jiff::SignedDuration::from_mins(16));
    assert!(stream_ends(&mut stream).await, "the stream outlived the session");
}

/// Finding 5: a revoked device unlocked offline for ever. The practice's
/// offline allowance (72 h unless set) since the last unlock the hub
/// verified caps it, with words that say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_unlocks_stop_after_the_practices_allowance() {
    let mut hub = start_hub(0, RatePolicy::default()).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut enrolled = support::desks::enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let now = hub.state.now();
    let desk = enrolled.ws.unlock(&mut enrolled.key, now).await.unwrap();
    desk.lock("now", now).await.unwrap();

    let addr = hub.running.addr;
    hub.running.stop().await.unwrap();
    let hours = |h: i64| now.checked_add(sealbox_model::jiff::SignedDuration::from_hours(h)).unwrap();
    let desk = enrolled.ws.unlock(&mut enrolled.key, hours(71)).await.unwrap();
    assert_eq!(desk.verified(), sealbox_core::workstation::Verified::Offline);
    desk.lock("now", hours(71)).await.unwrap();
    let err = enrolled.ws.unlock(&mut enrolled.key, hours(73)).await.unwrap_err();
    assert!(matches!(err, WorkstationError::OfflineTooLong { hours: 72 }), "{err:?}");
    assert!(err.to_string().contains("connect it to the practice network"), "{err}");

    // Online again: the hub verifies the unlock and the allowance restarts.
    hub.running = sealbox_hub::server::start(hub.state.clone(), addr, None).await.unwrap();
    hub.clock.advance(sealbox_model::jiff::SignedDuration::from_hours(73));
    let desk = enrolled.ws.unlock(&mut enrolled.key, hours(73)).await.unwrap();
    assert_eq!(desk.verified(), sealbox_core::workstation::Verified::Online);
    let refused = sealbox_core::sync::lock(&desk.store())
        .audit_events(20)
        .unwrap()
        .into_iter()
        .any(|e| e.action == "unlock_refused:offline_too_long");
    assert!(refused, "the refusal is in the audit chain");
    desk.lock("now", hours(73)).await.unwrap();
    enrolled.wipe(&keyring);
}

/// Finding 3: a staff reply could carry a `PatientDetails` part, and every
/// workstation then rewrote that patient's name, date of birth and NHS
/// number. The hub refuses it (the device ignores it and pins the first
/// details: `sealbox-core` plan and store tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_cannot_carry_a_patients_identity() {
    use sealbox_crypto::envelope::{
        seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId,
    };
    let hub = start_hub(1, RatePolicy::default()).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let gp = enrol_and_login(&url, &hub.state, Role::Gp).await;
    let key = SigningKey::from_bytes(&[41u8; 32]);
    let keys = json!({"x25519_public": b64(&[6; 32]), "ed25519_public": b64(key.verifying_key().as_bytes())});
    assert!(post(c, format!("{url}/v1/devices/keys"), Some(&gp.token), &keys).await.0 < 300);
    let (status, body) = support::post_patient(&hub, 0, &support::message(77, 700, b"please renew")).await;
    assert!(status < 300, "{status} {body}");

    let someone_else = sealbox_model::patient::PatientDetails {
        display_name: sealbox_model::patient::DisplayName::new("Not The Patient".to_owned()),
        date_of_birth: sealbox_model::patient::DateOfBirth::new(sealbox_model::jiff::civil::date(1950, 1, 1)),
        nhs_number: Some(sealbox_model::nhs_number::NhsNumber::parse("9434765919").unwrap()),
        written_by: None,
    };
    let who = someone_else.to_sealed_plaintext().unwrap();
    let text = sealbox_model::message::MessagePart::FreeText(sealbox_model::message::FreeText::new("Done."))
        .to_sealed_plaintext()
        .unwrap();
    let to = [Recipient {
        id: RecipientId::Pool(sealbox_model::pool::Pool::Gp),
        public_key: x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([7u8; 32])),
    }];
    let envelope = seal_envelope(
        &mut rand::rngs::OsRng,
        &key,
        &EnvelopeFields { practice: &gp.practice_id, thread_id: 77, message_id: 901 },
        &[
            PartInput { kind: PartKind::FreeText, plaintext: &text, recipients: &to },
            PartInput { kind: PartKind::PatientDetails, plaintext: &who, recipients: &to },
        ],
    )
    .unwrap();
    let batch = json!({"actions": [{"idempotency_key": "reply-1", "thread_id": 77, "expected_version": 1,
        "op": {"kind": "reply", "message_id": 901, "envelope": b64(&envelope)}}]});
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &batch).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("may not carry patient details"), "{body}");
}

/// Finding 9: a damaged cache was set aside and a fresh one started, but
/// the device's keys lived only in the damaged file: the workstation asked
/// to be enrolled again and unsent work was lost without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_cache_keeps_the_device_and_says_what_to_check() {
    let hub = start_hub(10, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut enrolled = support::desks::enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let plan = sealbox_sim::traffic::plan(9, 10, 30);
    let sent = sealbox_sim::send::send(&hub.client, &hub.url, &hub.patients(), &plan, Default::default())
        .await
        .unwrap();
    assert_eq!(sent.accepted, plan.len());
    let now = hub.state.now();
    let desk = enrolled.ws.unlock(&mut enrolled.key, now).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.notice().is_none());
    desk.lock("now", now).await.unwrap();

    // The cache file's first page is overwritten (a disk fault).
    let profile = enrolled.ws.profile().unwrap().clone();
    let cfg = sealbox_core::cache::CacheConfig {
        data_dir: enrolled.ws.dir().to_path_buf(),
        context: profile.context(),
    };
    let mut bytes = std::fs::read(cfg.db_path()).unwrap();
    for (i, b) in bytes.iter_mut().take(4096).enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(cfg.db_path(), &bytes).unwrap();

    // The next unlock keeps the device, rebuilds from the hub and says so.
    let desk = enrolled.ws.unlock(&mut enrolled.key, now).await.unwrap();
    let notice = desk.notice().expect("the clinician is told").to_owned();
    assert!(notice.contains("set aside") && notice.contains("had not reached the hub"), "{notice}");
    assert_eq!(desk.pools(), vec![sealbox_model::pool::Pool::Gp], "pool keys fetched again");
    let pulled = desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert_eq!(pulled.applied.messages, plan.len(), "rebuilt from the hub");
    let rebuilt = sealbox_core::sync::lock(&desk.store())
        .audit_events(20)
        .unwrap()
        .into_iter()
        .any(|e| e.action == "cache_rebuilt");
    assert!(rebuilt, "the rebuild is in the audit chain");
    let kept = std::fs::read_dir(enrolled.ws.dir())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains(".quarantined-"));
    assert!(kept, "the damaged copy is kept for practice IT");
    desk.lock("now", now).await.unwrap();
    enrolled.wipe(&keyring);
}
