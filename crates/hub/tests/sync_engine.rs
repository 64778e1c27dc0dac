//! The device's sync engine (sealbox-core) against the real `sealbox-hub`
//! binary over loopback: simulated patients' traffic pulled into real
//! SQLCipher caches, claims racing between two clinicians' devices, the
//! event stream followed through the hub going away and coming back (the
//! clinician working offline meanwhile), and hostile hub replies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::Duration;

use sealbox_core::store::{open, Keying};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::engine::{stored_cursor, Engine, SyncStatus};
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::plan::TriageRules;
use sealbox_core::sync::{lock, outbox, SyncError};
use sealbox_crypto::secret::SecretKey;
use sealbox_hub::db::DbError;
use sealbox_model::hub_api::{ActionOp, Cursor, IdempotencyKey};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::permissions::{can_read_thread, pools_that_can_read, pools_that_can_read_part};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_model::thread_state::ThreadState;
use sealbox_sim::traffic;
use tokio::sync::watch;
use x25519_dalek::StaticSecret;

use support::site::{device, site};

fn now() -> Timestamp {
    Timestamp::now()
}

/// The distinct threads of `plan` a `pool` may read, in order.
fn threads_for(plan: &[traffic::PlannedMessage], pool: Pool) -> Vec<ThreadId> {
    let mut threads: Vec<ThreadId> = plan
        .iter()
        .filter(|m| pools_that_can_read(m.category).contains(&pool))
        .map(|m| m.thread_id)
        .collect();
    threads.sort();
    threads.dedup();
    threads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_device_holds_exactly_the_hubs_messages_its_pool_may_read() {
    let site = site(30);
    let plan = traffic::plan(7, 30, 300);
    site.send(&plan).await;
    for (role, pool) in [(Role::Gp, Pool::Gp), (Role::Pharmacist, Pool::Pharmacy)] {
        let d = device(&site, role, pool).await;
        let pulled = d.engine.pull(&d.store, now()).await.unwrap();
        // A message reaches a device when some part of it is sealed to its pool.
        let readable = plan
            .iter()
            .filter(|m| m.parts.iter().any(|p| pools_that_can_read_part(p, m.category).contains(&pool)))
            .count();
        match pool {
            // GPs read every category; a pharmacist's device only medication.
            Pool::Gp => assert_eq!(readable, plan.len()),
            _ => {
                assert!(readable > 0 && readable < plan.len(), "{pool:?}: the traffic mixes readable and not")
            }
        }
        assert_eq!(lock(&d.store).message_count().unwrap(), readable as u64, "{pool:?}");
        // The hub sends only the threads the role may read; of those, the
        // messages with no part for this pool are counted, not stored.
        let sent = plan.iter().filter(|m| can_read_thread(role, m.category)).count();
        assert!(sent < plan.len() || pool == Pool::Gp, "{pool:?}: the hub filtered nothing");
        assert_eq!(pulled.applied.not_for_this_device, sent - readable, "{pool:?}");
        assert_eq!(pulled.applied.unreadable, 0);
        assert_eq!(pulled.arrivals.total() as usize, readable, "{pool:?}: what a notification may count");
        assert!(pulled.pages >= 1);
        // Pulling again changes nothing: no duplicates, cursor at the head.
        let again = d.engine.pull(&d.store, now()).await.unwrap();
        assert_eq!(again.applied.messages, 0);
        assert_eq!(lock(&d.store).message_count().unwrap(), readable as u64);
        assert_eq!(stored_cursor(&lock(&d.store)).unwrap(), Cursor(plan.len() as u64));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clinicians_claim_the_same_thread_exactly_one_wins_100_times() {
    let site = site(30);
    let plan = traffic::plan(7, 30, 600);
    site.send(&plan).await;
    let a = device(&site, Role::Gp, Pool::Gp).await;
    let b = device(&site, Role::Gp, Pool::Gp).await;
    a.engine.pull(&a.store, now()).await.unwrap();
    b.engine.pull(&b.store, now()).await.unwrap();
    let threads = threads_for(&plan, Pool::Gp);
    assert!(threads.len() >= 100, "only {} GP threads", threads.len());
    let mut wins: BTreeMap<&str, usize> = BTreeMap::new();
    for (round, thread) in threads.iter().take(100).enumerate() {
        let t = now();
        let ka = IdempotencyKey::new(format!("a-{round}")).unwrap();
        let kb = IdempotencyKey::new(format!("b-{round}")).unwrap();
        assert!(outbox::queue(&mut lock(&a.store), &a.me, *thread, ActionOp::Claim, ka, t).unwrap());
        assert!(outbox::queue(&mut lock(&b.store), &b.me, *thread, ActionOp::Claim, kb, t).unwrap());
        let (ra, rb) = tokio::join!(
            outbox::send(&a.store, a.engine.hub(), t),
            outbox::send(&b.store, b.engine.hub(), t)
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
        assert!(lock(&a.store).outbox().unwrap().is_empty() && lock(&b.store).outbox().unwrap().is_empty());
        // The loser's cache no longer shows its own optimistic claim.
        let shown = lock(&loser_device.store).thread(*thread).unwrap().unwrap().thread.state;
        assert_ne!(shown, ThreadState::InProgress { by: loser_device.me.clone() });
    }
    assert_eq!(wins.values().sum::<usize>(), 100);
    // After a pull both caches show the winner's claim, at the hub's version.
    a.engine.pull(&a.store, now()).await.unwrap();
    b.engine.pull(&b.store, now()).await.unwrap();
    for thread in threads.iter().take(100) {
        let (sa, sb) = (lock(&a.store), lock(&b.store));
        let state_a = sa.thread(*thread).unwrap().unwrap().thread.state;
        assert_eq!(state_a, sb.thread(*thread).unwrap().unwrap().thread.state);
        assert!(matches!(state_a, ThreadState::InProgress { .. }));
        assert_eq!(sa.hub_version(*thread).unwrap(), sb.hub_version(*thread).unwrap());
    }
}

/// The first word of a cached message's free text (something to search for).
fn a_word_from(store: &sealbox_core::store::Store, thread: ThreadId) -> String {
    let detail = store.thread(thread).unwrap().unwrap();
    detail
        .thread
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .find_map(|p| match p {
            MessagePart::FreeText(t) => {
                t.reveal().split_whitespace().find(|w| w.len() > 4).map(str::to_owned)
            }
            _ => None,
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_the_hub_through_an_outage_the_clinician_keeps_working_and_nothing_is_lost() {
    let mut site = site(30);
    let plan = traffic::plan(9, 30, 120);
    site.send(&plan[..60]).await;
    let d = device(&site, Role::Gp, Pool::Gp).await;
    let engine = d.engine.with_retry_base(Duration::from_millis(20));
    let store = &d.store;
    let (status_tx, mut status) = watch::channel(SyncStatus::default());
    let (stop_tx, stop) = watch::channel(false);
    let driver = async {
        // Online: the first sync brings the backlog.
        status.wait_for(|s| s.online && s.last_synced.is_some()).await.unwrap();
        assert_eq!(lock(store).message_count().unwrap(), 60);
        // New messages arrive by event, with no pull asked for.
        site.send(&plan[60..]).await;
        while lock(store).message_count().unwrap() < 120 {
            status.changed().await.unwrap();
        }
        // The hub goes away: the status says offline since when.
        site.hub.kill();
        let offline = status.wait_for(|s| !s.online).await.unwrap().clone();
        assert!(offline.offline_since.is_some());
        // Offline, the clinician reads, searches, drafts and queues.
        let thread = threads_for(&plan, Pool::Gp)[0];
        {
            let mut cache = lock(store);
            let word = a_word_from(&cache, thread);
            assert!(!cache.search(&word, 10).unwrap().is_empty(), "search works offline");
            cache.write(|w| w.save_draft(thread, &FreeText::new("Draft written offline"), now())).unwrap();
            let key = IdempotencyKey::new("offline-claim").unwrap();
            assert!(outbox::queue(&mut cache, &d.me, thread, ActionOp::Claim, key, now()).unwrap());
        }
        status.wait_for(|s| !s.online && s.queued == 1).await.unwrap();
        // The hub returns: the follower reconnects and sends the queue.
        site.hub.restart();
        status.wait_for(|s| s.online && s.queued == 0).await.unwrap();
        stop_tx.send(true).unwrap();
        thread
    };
    let followed = engine.follow(store, &now, &status_tx, stop, Duration::from_secs(30));
    let (result, thread) =
        tokio::time::timeout(Duration::from_secs(120), async { tokio::join!(followed, driver) })
            .await
            .expect("the follower did not reach every state in time");
    result.unwrap();
    let cache = lock(store);
    assert_eq!(
        cache.draft(thread).unwrap().map(|d| d.reveal().to_owned()).as_deref(),
        Some("Draft written offline")
    );
    assert_eq!(
        cache.thread(thread).unwrap().unwrap().thread.state,
        ThreadState::InProgress { by: d.me.clone() }
    );
    let user = d.me.id.0.clone();
    let claims: i64 = site
        .state
        .db
        .sqlite_blocking(move |c| {
            Ok::<_, DbError>(
                c.query_row("SELECT count(*) FROM actions WHERE by_id = ?1", [&user], |r| r.get(0))?,
            )
        })
        .unwrap();
    assert_eq!(claims, 1, "the offline claim reached the hub once");
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
        store.write(|w| w.set_sync_cursor("9", now())).unwrap();
        let store = Mutex::new(store);
        let keyring = PoolKeyring::new("p", [(Pool::Gp, StaticSecret::random_from_rng(rand::rngs::OsRng))]);
        let engine = Engine::new(
            HubClient::new(&url, "t".into()).unwrap(),
            keyring,
            TriageRules::uk_default().unwrap(),
        );
        let err = engine.pull(&store, now()).await.unwrap_err();
        assert!(expected(&err), "{name}: got {err:?}");
        assert!(!err.to_string().contains("marker"), "{name}: {err}");
        let store = lock(&store);
        assert_eq!(store.message_count().unwrap(), 0, "{name}");
        assert_eq!(store.sync_cursor().unwrap().as_deref(), Some("9"), "{name}: cursor untouched");
    }

    // An event stream that stalls: a typed error after the stall limit.
    let url = hostile(http("200 OK", "content-type: text/event-stream\r\n", b": hello\n\n"));
    let client = HubClient::new(&url, "t".into()).unwrap();
    let mut events = client.events().await.unwrap();
    let err = events.next(Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(err, SyncError::Stalled { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_that_cannot_be_opened_is_kept_and_listed_never_dropped() {
    use sealbox_model::category::Category;
    use sealbox_model::hub_api::{Base64Bytes, EnvelopeRecord, Sender, SyncPage, ThreadMeta};
    use sealbox_model::ids::{MessageId, PatientId};
    let garbage = b"SBX1 not an envelope QZX-MARKER".to_vec();
    let page = SyncPage {
        envelopes: vec![EnvelopeRecord {
            seq: 1,
            thread_id: ThreadId(42),
            message_id: MessageId(4200),
            sender: Sender::Patient,
            received_at: now(),
            envelope: Base64Bytes(garbage.clone()),
        }],
        threads: vec![ThreadMeta {
            thread_id: ThreadId(42),
            patient_id: PatientId("p-42".into()),
            patient_x25519_public: Base64Bytes(vec![0; 32]),
            category: Category::Other,
            state: ThreadState::New,
            version: 1,
            created_at: now(),
            updated_at: now(),
            updated_by: None,
            triage: None,
            merged_into: None,
        }],
        actions: Vec::new(),
        next_cursor: Cursor(1),
        more: false,
    };
    let body = serde_json::to_vec(&page).unwrap();
    let url = hostile(http(
        "200 OK",
        &format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()),
        &body,
    ));
    let dir = tempfile::tempdir().unwrap();
    let store = Mutex::new(
        open::open(&dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap(),
    );
    let keyring = PoolKeyring::new("p", [(Pool::Gp, StaticSecret::random_from_rng(rand::rngs::OsRng))]);
    let engine =
        Engine::new(HubClient::new(&url, "t".into()).unwrap(), keyring, TriageRules::uk_default().unwrap());
    let pulled = engine.pull(&store, now()).await.unwrap();
    assert_eq!(pulled.applied.unreadable, 1);
    let cache = lock(&store);
    let items = cache.undecryptable().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].thread, items[0].message), (ThreadId(42), MessageId(4200)));
    assert!(!items[0].reason.contains("QZX"), "{}", items[0].reason);
    assert_eq!(cache.message_count().unwrap(), 0);
    assert_eq!(stored_cursor(&cache).unwrap(), Cursor(1), "the sync moves on past it");
}
