//! The device's sync engine (sealbox-core) against a real hub over
//! loopback HTTP: simulated patients' traffic pulled into real SQLCipher
//! caches, claims racing between two clinicians' devices, and hostile hub
//! replies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpListener;

use sealbox_core::store::{open, Keying, Store};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::engine::Engine;
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::outbox;
use sealbox_core::sync::plan::TriageRules;
use sealbox_core::sync::SyncError;
use sealbox_crypto::secret::SecretKey;
use sealbox_hub::config::RatePolicy;
use sealbox_model::actor::StaffRef;
use sealbox_model::hub_api::{ActionOp, Cursor, IdempotencyKey};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::permissions::pools_that_can_read;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_sim::{send, traffic, SendOptions};
use x25519_dalek::StaticSecret;

use support::{start_hub, Hub};

struct Device {
    store: Store,
    engine: Engine,
    me: StaffRef,
    _dir: tempfile::TempDir,
}

async fn device(hub: &Hub, keys: &HashMap<Pool, StaticSecret>, role: Role, pool: Pool) -> Device {
    let login = support::login::enrol_and_login(&hub.url, &hub.state, role).await;
    let dir = tempfile::tempdir().unwrap();
    let store =
        open::open(&dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap();
    let keyring = PoolKeyring::new(hub.practice.practice_id.clone(), [(pool, keys[&pool].clone())]);
    let engine = Engine::new(
        HubClient::new(&hub.url, login.token).unwrap(),
        keyring,
        TriageRules::uk_default().unwrap(),
    );
    Device { store, engine, me: StaffRef { id: StaffId(login.user_id), role }, _dir: dir }
}

async fn hub_with_traffic(
    messages: usize,
) -> (Hub, HashMap<Pool, StaticSecret>, Vec<traffic::PlannedMessage>) {
    let hub = start_hub(30, RatePolicy { burst: 1_000_000, per_minute: 0 }).await;
    let keys = support::pool_keys::publish(&hub.state);
    let plan = traffic::plan(7, 30, messages);
    let summary =
        send::send(&hub.client, &hub.url, &hub.practice, &plan, SendOptions::default()).await.unwrap();
    assert_eq!(summary.accepted, messages);
    (hub, keys, plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_device_holds_exactly_the_hubs_messages_its_pool_may_read() {
    let (hub, keys, plan) = hub_with_traffic(300).await;
    for (role, pool) in [(Role::Gp, Pool::Gp), (Role::Pharmacist, Pool::Pharmacy)] {
        let mut d = device(&hub, &keys, role, pool).await;
        let pulled = d.engine.pull(&mut d.store, support::t0()).await.unwrap();
        let readable = plan.iter().filter(|m| pools_that_can_read(m.category).contains(&pool)).count();
        match pool {
            // GPs read every category; a pharmacist's device only medication.
            Pool::Gp => assert_eq!(readable, plan.len()),
            _ => {
                assert!(readable > 0 && readable < plan.len(), "{pool:?}: the traffic mixes readable and not")
            }
        }
        assert_eq!(d.store.message_count().unwrap(), readable as u64, "{pool:?}");
        assert_eq!(pulled.applied.not_for_this_device, plan.len() - readable, "{pool:?}");
        assert_eq!(pulled.applied.unreadable, 0);
        assert!(pulled.pages >= 1);
        // Pulling again changes nothing: no duplicates, cursor at the head.
        let again = d.engine.pull(&mut d.store, support::t0()).await.unwrap();
        assert_eq!(again.applied.messages, 0);
        assert_eq!(d.store.message_count().unwrap(), readable as u64);
        let cursor = sealbox_core::sync::engine::stored_cursor(&d.store).unwrap();
        assert_eq!(cursor, Cursor(plan.len() as u64));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clinicians_claim_the_same_thread_exactly_one_wins_100_times() {
    let (hub, keys, plan) = hub_with_traffic(600).await;
    let mut a = device(&hub, &keys, Role::Gp, Pool::Gp).await;
    let mut b = device(&hub, &keys, Role::Gp, Pool::Gp).await;
    a.engine.pull(&mut a.store, support::t0()).await.unwrap();
    b.engine.pull(&mut b.store, support::t0()).await.unwrap();
    let mut threads: Vec<ThreadId> = plan
        .iter()
        .filter(|m| pools_that_can_read(m.category).contains(&Pool::Gp))
        .map(|m| m.thread_id)
        .collect();
    threads.sort();
    threads.dedup();
    assert!(threads.len() >= 100, "only {} GP threads", threads.len());
    let mut wins: BTreeMap<&str, usize> = BTreeMap::new();
    for (round, thread) in threads.iter().take(100).enumerate() {
        let t0 = support::t0();
        let ka = IdempotencyKey::new(format!("a-{round}")).unwrap();
        let kb = IdempotencyKey::new(format!("b-{round}")).unwrap();
        assert!(outbox::queue(&mut a.store, &a.me, *thread, ActionOp::Claim, ka, t0).unwrap());
        assert!(outbox::queue(&mut b.store, &b.me, *thread, ActionOp::Claim, kb, t0).unwrap());
        let (ra, rb) = tokio::join!(
            outbox::send(&mut a.store, a.engine.hub(), t0),
            outbox::send(&mut b.store, b.engine.hub(), t0)
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let outcome = (ra.applied, rb.applied, ra.conflicts.len(), rb.conflicts.len());
        let (winner, loser, loser_device, winner_me) = match outcome {
            (1, 0, 0, 1) => ("a", &rb, &b, &a.me),
            (0, 1, 1, 0) => ("b", &ra, &a, &b.me),
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        };
        *wins.entry(winner).or_default() += 1;
        let conflict = &loser.conflicts[0];
        assert_eq!(conflict.thread, *thread);
        assert_eq!(conflict.changed_by.as_ref(), Some(winner_me), "the conflict says who won");
        assert!(a.store.outbox().unwrap().is_empty() && b.store.outbox().unwrap().is_empty());
        // The loser's cache no longer shows its own optimistic claim.
        let shown = loser_device.store.thread(*thread).unwrap().unwrap().thread.state;
        assert_ne!(
            shown,
            sealbox_model::thread_state::ThreadState::InProgress { by: loser_device.me.clone() }
        );
    }
    // After a pull both caches show the winner's claim, at the hub's version.
    a.engine.pull(&mut a.store, support::t0()).await.unwrap();
    b.engine.pull(&mut b.store, support::t0()).await.unwrap();
    for thread in threads.iter().take(100) {
        let sa = a.store.thread(*thread).unwrap().unwrap().thread.state;
        let sb = b.store.thread(*thread).unwrap().unwrap().thread.state;
        assert_eq!(sa, sb);
        assert_eq!(a.store.hub_version(*thread).unwrap(), b.store.hub_version(*thread).unwrap());
    }
    assert_eq!(wins.values().sum::<usize>(), 100);
}

/// A "hub" that answers every request with `reply` (raw HTTP) and then
/// holds the connection open without sending more.
fn hostile(reply: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(&reply);
            held.push(stream);
        }
    });
    url
}

/// What a case expects of the error.
type Expect = fn(&SyncError) -> bool;

fn http(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n{headers}\r\n").into_bytes();
    out.extend_from_slice(body);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_hub_replies_give_typed_errors_and_write_nothing() {
    let ok_json = "content-type: application/json\r\n";
    let huge = sealbox_core::sync::client::MAX_BODY + 1;
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "wrong types",
            http("200 OK", &format!("{ok_json}content-length: 24\r\n"), br#"{"envelopes":"nonsense"}"#),
            |e| matches!(e, SyncError::Malformed { .. }),
        ),
        (
            "truncated body",
            http(
                "200 OK",
                &format!("{ok_json}content-length: 40\r\nconnection: close\r\n"),
                br#"{"envelopes":[],"thr"#,
            ),
            |e| matches!(e, SyncError::Unreachable(_) | SyncError::Malformed { .. }),
        ),
        ("huge body", http("200 OK", &format!("{ok_json}content-length: {huge}\r\n"), b"{"), |e| {
            matches!(e, SyncError::TooLarge { .. })
        }),
        (
            "cursor going backwards",
            {
                let body = br#"{"envelopes":[],"threads":[],"actions":[],"next_cursor":3,"more":false}"#;
                http("200 OK", &format!("{ok_json}content-length: {}\r\n", body.len()), body)
            },
            |e| matches!(e, SyncError::Protocol(_)),
        ),
        (
            "server error with a hostile problem body",
            {
                let body = br#"{"type":"https://x/<script>marker","status":500}"#;
                http("500 Internal Server Error", &format!("content-length: {}\r\n", body.len()), body)
            },
            |e| matches!(e, SyncError::Status { status: 500, code } if code == "unknown"),
        ),
    ];
    for (name, reply, expected) in cases {
        let url = hostile(reply);
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            open::open(&dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap();
        // A cursor of 9, so "3" is going backwards.
        store.write(|w| w.set_sync_cursor("9", support::t0())).unwrap();
        let keyring = PoolKeyring::new("p", [(Pool::Gp, StaticSecret::random_from_rng(rand::rngs::OsRng))]);
        let engine = Engine::new(
            HubClient::new(&url, "t".into()).unwrap(),
            keyring,
            TriageRules::uk_default().unwrap(),
        );
        let err = engine.pull(&mut store, support::t0()).await.unwrap_err();
        assert!(expected(&err), "{name}: got {err:?}");
        assert!(!err.to_string().contains("marker"), "{name}: {err}");
        assert_eq!(store.message_count().unwrap(), 0, "{name}");
        assert_eq!(store.sync_cursor().unwrap().as_deref(), Some("9"), "{name}: cursor untouched");
    }

    // An event stream that stalls: a typed error after the stall limit.
    let url = hostile(http("200 OK", "content-type: text/event-stream\r\n", b": hello\n\n"));
    let client = HubClient::new(&url, "t".into()).unwrap();
    let mut events = client.events().await.unwrap();
    let err = events.next(std::time::Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(err, SyncError::Stalled { .. }), "{err:?}");
}
