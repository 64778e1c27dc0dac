//! The audit trail end to end against the real hub over loopback HTTP: a
//! device writes its chain in a real SQLCipher cache, pushes it in signed
//! segments; the hub refuses gaps, forks, foreign links and bad signatures,
//! keeps what it holds append-only (triggers), and `audit verify` — in
//! process and as the `sealbox-hub` binary — finds every one of 1,000 random
//! tamperings of its database. `audit export` lists the events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use sealbox_core::audit;
use sealbox_core::store::{open, Keying};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::SharedStore;
use sealbox_crypto::audit_chain::{Event, Link, SegmentHead};
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::secret::SecretKey;
use sealbox_hub::audit::check::{check, check_device, Filter};
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, ActionsResponse, IdempotencyKey, RefillChoice,
    ThreadActivity,
};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::role::Role;
use serde_json::{json, Value};

use support::login::{enrol_and_login, post};
use support::start_hub;

const LINKS: u64 = 40;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The problem code at the end of a problem body's `type`.
fn code(body: &Value) -> Option<&str> {
    body["type"].as_str().and_then(|t| t.rsplit(':').next())
}

fn link_json(l: &Link) -> Value {
    json!({
        "seq": l.seq, "at_ms": l.at_ms, "actor": l.actor, "device": l.device, "action": l.action,
        "object": l.object, "prev_hash": b64(&l.prev_hash), "hash": b64(&l.hash),
    })
}

fn segment_json(device: &str, links: &[Link], key: &SigningKey) -> Value {
    let (first, last) = (&links[0], &links[links.len() - 1]);
    let head = SegmentHead {
        device,
        first_seq: first.seq,
        last_seq: last.seq,
        prev_hash: first.prev_hash,
        last_hash: last.hash,
    };
    json!({ "links": links.iter().map(link_json).collect::<Vec<_>>(), "signature": b64(&head.sign(key)) })
}

fn links_now(store: &SharedStore) -> Vec<Link> {
    store.lock().unwrap().audit_links_after(0).unwrap()
}

fn record(store: &SharedStore, n: u64, actor: &str, from: u64) {
    let mut store = store.lock().unwrap();
    for i in from..from + n {
        let action = ["view", "claim", "unlock", "lock:idle"][(i % 4) as usize];
        let at = Timestamp::from_second(1_750_000_000 + i as i64).unwrap();
        store.write(|w| audit::append(w, at, actor, action, &format!("{}", 500 + i % 7))).unwrap();
    }
}

/// One random tampering of the hub's audit tables, as someone with the
/// database file (and the triggers dropped) could do.
fn tamper(conn: &Connection, device: &str, total: i64, rng: &mut StdRng) -> String {
    let row = rng.gen_range(1..=total);
    let choice = rng.gen_range(0..10);
    match choice {
        0..=3 => {
            let (column, value): (&str, rusqlite::types::Value) = match rng.gen_range(0..7) {
                0 => ("at_ms", (1_750_000_000_001i64 + 2 * rng.gen_range(1..1_000_000)).into()),
                1 => ("actor", "someone-else".to_owned().into()),
                2 => ("device", "dev-x".to_owned().into()),
                3 => ("action", "refill_approved".to_owned().into()),
                4 => ("object", "999".to_owned().into()),
                5 => ("prev_hash", rng.gen::<[u8; 32]>().to_vec().into()),
                _ => ("hash", rng.gen::<[u8; 32]>().to_vec().into()),
            };
            conn.execute(
                &format!("UPDATE audit_links SET {column} = ?1 WHERE device_id = ?2 AND seq = ?3"),
                rusqlite::params![value, device, row],
            )
            .unwrap();
            format!("modify {column} of link {row}")
        }
        4 | 5 => {
            conn.execute(
                "DELETE FROM audit_links WHERE device_id = ?1 AND seq = ?2",
                rusqlite::params![device, row],
            )
            .unwrap();
            format!("delete link {row}")
        }
        6 => {
            let other = (row + rng.gen_range(1..total) - 1) % total + 1;
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE swap AS SELECT * FROM audit_links WHERE device_id = '{device}' AND seq IN ({row}, {other});
                 UPDATE audit_links SET (at_ms, actor, device, action, object, prev_hash, hash) =
                   (SELECT at_ms, actor, device, action, object, prev_hash, hash FROM swap
                    WHERE swap.seq = CASE audit_links.seq WHEN {row} THEN {other} ELSE {row} END)
                 WHERE device_id = '{device}' AND seq IN ({row}, {other});
                 DROP TABLE swap;"
            ))
            .unwrap();
            format!("swap links {row} and {other}")
        }
        7 | 8 => {
            // A well-formed link chained after `row - 1`, pushed in at `row`.
            let prev: [u8; 32] = if row == 1 {
                [0u8; 32]
            } else {
                let h: Vec<u8> = conn
                    .query_row(
                        "SELECT hash FROM audit_links WHERE device_id = ?1 AND seq = ?2",
                        rusqlite::params![device, row - 1],
                        |r| r.get(0),
                    )
                    .unwrap();
                h.try_into().unwrap()
            };
            let forged = Link::after(
                (row - 1) as u64,
                prev,
                Event { at_ms: 1, actor: "gp", device, action: "refill_approved", object: "501" },
            );
            // Move the later links up by one (through a free range: the
            // primary key and the seq check hold at every step).
            conn.execute(
                "UPDATE audit_links SET seq = seq + 1000000 WHERE device_id = ?1 AND seq >= ?2",
                rusqlite::params![device, row],
            )
            .unwrap();
            conn.execute(
                "UPDATE audit_links SET seq = seq - 999999 WHERE device_id = ?1 AND seq > 1000000",
                [device],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO audit_links (device_id, seq, at_ms, actor, device, action, object, prev_hash, hash,
                                          received_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)",
                rusqlite::params![
                    device,
                    row,
                    forged.at_ms,
                    forged.actor,
                    forged.device,
                    forged.action,
                    forged.object,
                    forged.prev_hash.to_vec(),
                    forged.hash.to_vec()
                ],
            )
            .unwrap();
            format!("insert a link at {row}")
        }
        _ => {
            // The signed segments: change what one says, or drop one.
            let segments: i64 = conn
                .query_row("SELECT count(*) FROM audit_segments WHERE device_id = ?1", [device], |r| r.get(0))
                .unwrap();
            let pick = rng.gen_range(0..segments);
            let first: i64 = conn
                .query_row(
                    "SELECT first_seq FROM audit_segments WHERE device_id = ?1 ORDER BY first_seq LIMIT 1 OFFSET ?2",
                    rusqlite::params![device, pick],
                    |r| r.get(0),
                )
                .unwrap();
            let sql = match rng.gen_range(0..3) {
                0 => "DELETE FROM audit_segments WHERE device_id = ?1 AND first_seq = ?2",
                1 => "UPDATE audit_segments SET signature = randomblob(64) WHERE device_id = ?1 AND first_seq = ?2",
                _ => "UPDATE audit_segments SET last_hash = randomblob(32) WHERE device_id = ?1 AND first_seq = ?2",
            };
            conn.execute(sql, rusqlite::params![device, first]).unwrap();
            format!("segment from {first}: {sql}")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pushes_its_chain_and_every_tampering_at_the_hub_is_found() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let other = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    let key = SigningKey::from_bytes(&[21u8; 32]);
    let x25519 = [5u8; 32];
    let (status, body, _) = post(
        &hub.client,
        format!("{}/v1/devices/keys", hub.url),
        Some(&gp.token),
        &json!({ "x25519_public": b64(&x25519), "ed25519_public": b64(key.verifying_key().as_bytes()) }),
    )
    .await;
    assert!(status < 300, "{status} {body}");

    // The device's chain, in a real SQLCipher cache, pushed in two runs.
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = std::sync::Mutex::new(
        open::open(&dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap(),
    );
    store.lock().unwrap().write(|w| audit::set_device(w, &gp.device_id)).unwrap();
    let client = HubClient::new(&hub.url, gp.token.clone()).unwrap();
    record(&store, 25, &gp.user_id, 0);
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), 25);
    record(&store, LINKS - 25, &gp.user_id, 25);
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), (LINKS - 25) as usize);
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), 0, "nothing left to send");
    assert_eq!(audit::verify(&store.lock().unwrap()).unwrap().0, LINKS);

    let device = gp.device_id.clone();
    let checks = hub.state.db.call_blocking(|c| check(c, &Filter::default())).unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(
        (checks[0].device.as_str(), checks[0].links, &checks[0].broken),
        (device.as_str(), LINKS, &None)
    );
    let filtered = |f: Filter| hub.state.db.call_blocking(move |c| check(c, &f)).unwrap().len();
    assert_eq!(filtered(Filter { user: Some(gp.user_id.clone()), thread: None }), 1);
    assert_eq!(filtered(Filter { user: Some(other.user_id.clone()), thread: None }), 0);
    assert_eq!(filtered(Filter { user: None, thread: Some("503".into()) }), 1);
    assert_eq!(filtered(Filter { user: None, thread: Some("42".into()) }), 0);

    // What the hub refuses: a gap, a fork, another device's links, a bad
    // signature; a segment it already holds is acknowledged again.
    let links: Vec<Link> = store.lock().unwrap().audit_links_after(0).unwrap();
    let url = format!("{}/v1/audit/segments", hub.url);
    let send = |body: Value, token: String| {
        let (client, url) = (hub.client.clone(), url.clone());
        async move { post(&client, url, Some(&token), &body).await }
    };
    let (status, body, _) = send(segment_json(&device, &links[30..], &key), gp.token.clone()).await;
    assert_eq!((status, body["seq"].as_u64()), (200, Some(LINKS)), "{body}");
    let next = |prev: &Link, action: &str| {
        Link::after(
            prev.seq,
            prev.hash,
            Event { at_ms: 1_750_000_050_000, actor: &gp.user_id, device: &device, action, object: "1" },
        )
    };
    let n41 = next(&links[39], "view");
    let n42 = next(&n41, "view");
    let (status, body, _) =
        send(segment_json(&device, std::slice::from_ref(&n42), &key), gp.token.clone()).await;
    assert_eq!((status, code(&body)), (409, Some("audit_gap")), "{body}");
    let fork = next(&links[38], "claim");
    let (status, body, _) = send(segment_json(&device, &[fork], &key), gp.token.clone()).await;
    assert_eq!((status, code(&body)), (409, Some("audit_fork")), "{body}");
    let stranger = SigningKey::from_bytes(&[22u8; 32]);
    let (status, body, _) =
        send(segment_json(&device, std::slice::from_ref(&n41), &stranger), gp.token.clone()).await;
    assert_eq!((status, code(&body)), (400, Some("invalid_field")), "{body}");
    let foreign = Link::after(
        LINKS,
        links[39].hash,
        Event {
            at_ms: 1_750_000_050_000,
            actor: &gp.user_id,
            device: "another-device",
            action: "view",
            object: "1",
        },
    );
    let (status, body, _) = send(segment_json(&device, &[foreign], &key), gp.token.clone()).await;
    assert_eq!(status, 400, "{body}");
    let (status, body, _) = send(segment_json(&device, &[n41], &key), other.token.clone()).await;
    assert_eq!(status, 403, "another device's session has no signing key here: {body}");

    // A refill approval needs the approver's view of every patient message
    // of the thread in the audit trail the hub holds — whatever sends it.
    for msg in [7001u64, 7002] {
        let (status, body) =
            support::post_patient(&hub, 0, &support::message(77, msg, b"Ramipril 5mg")).await;
        assert!(status < 300, "{status} {body}");
    }
    let approve = |key: &str| {
        serde_json::to_value(ActionsRequest {
            actions: vec![ActionRequest {
                idempotency_key: IdempotencyKey::new(key).unwrap(),
                thread_id: ThreadId(77),
                // Two patient messages: the thread is at version 2.
                expected_version: 2,
                op: ActionOp::RefillDecision { decision: RefillChoice::Approve, items: vec![] },
            }],
        })
        .unwrap()
    };
    let act = |body: Value| {
        let (client, url, token) = (hub.client.clone(), format!("{}/v1/actions", hub.url), gp.token.clone());
        async move {
            let (status, reply, _) = post(&client, url, Some(&token), &body).await;
            assert_eq!(status, 200, "{reply}");
            serde_json::from_value::<ActionsResponse>(reply).unwrap().results.remove(0).outcome
        }
    };
    let outcome = act(approve("approve-1")).await;
    assert!(
        matches!(&outcome, ActionOutcome::Rejected { code, .. } if code == "unviewed_patient_messages"),
        "{outcome:?}"
    );
    // One message viewed (pushed through the device's store): still refused.
    {
        let mut s = store.lock().unwrap();
        let at = Timestamp::from_second(1_750_000_100).unwrap();
        s.write(|w| audit::append(w, at, &gp.user_id, "view", "7001")).unwrap();
    }
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), 1);
    let outcome = act(approve("approve-2")).await;
    assert!(
        matches!(&outcome, ActionOutcome::Rejected { code, detail } if code == "unviewed_patient_messages" && detail.starts_with("1 ")),
        "{outcome:?}"
    );
    // A colleague's view, from the colleague's own device, does not count
    // for this approver.
    let nurse_key = SigningKey::from_bytes(&[23u8; 32]);
    let (status, body, _) = post(
        &hub.client,
        format!("{}/v1/devices/keys", hub.url),
        Some(&other.token),
        &json!({ "x25519_public": b64(&[6u8; 32]), "ed25519_public": b64(nurse_key.verifying_key().as_bytes()) }),
    )
    .await;
    assert!(status < 300, "{status} {body}");
    let nurse_dir = tempfile::tempdir().unwrap();
    let nurse_store: SharedStore = std::sync::Mutex::new(
        open::open(&nurse_dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate()))
            .unwrap(),
    );
    {
        let mut s = nurse_store.lock().unwrap();
        s.write(|w| audit::set_device(w, &other.device_id)).unwrap();
        let at = Timestamp::from_second(1_750_000_101).unwrap();
        s.write(|w| audit::append(w, at, &other.user_id, "view", "7002")).unwrap();
    }
    let nurse_client = HubClient::new(&hub.url, other.token.clone()).unwrap();
    assert_eq!(audit::push(&nurse_store, &nurse_client, &nurse_key).await.unwrap(), 1);
    assert!(matches!(act(approve("approve-3")).await, ActionOutcome::Rejected { .. }));
    {
        let mut s = store.lock().unwrap();
        let at = Timestamp::from_second(1_750_000_102).unwrap();
        s.write(|w| audit::append(w, at, &gp.user_id, "view", "7002")).unwrap();
    }
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), 1);
    let outcome = act(approve("approve-4")).await;
    assert!(matches!(outcome, ActionOutcome::Applied { .. }), "{outcome:?}");
    // An acknowledgement lost on the way: the device still thinks the hub
    // holds only the first 25 links, records 3 more, and resumes after what
    // the hub really holds — no fork, nothing sent twice.
    {
        let early = &links_now(&store)[24];
        let mark = format!("25:{}", early.hash.iter().map(|b| format!("{b:02x}")).collect::<String>());
        store.lock().unwrap().write(|w| w.set_setting("audit.pushed", &mark)).unwrap();
    }
    record(&store, 3, &gp.user_id, LINKS);
    assert_eq!(audit::push(&store, &client, &key).await.unwrap(), 3);
    let total = links_now(&store).len() as u64;
    assert_eq!(total, LINKS + 5);
    let d = device.clone();
    let at_hub = hub.state.db.call_blocking(move |c| check_device(c, &d)).unwrap();
    assert_eq!((at_hub.links, at_hub.broken), (total, None));

    // Who did what on the thread, for staff who may read it.
    let activity = |thread: &str| {
        let (client, url, token) =
            (hub.client.clone(), format!("{}/v1/threads/{thread}/activity", hub.url), gp.token.clone());
        async move { support::login::get(&client, url, &token).await }
    };
    let (status, body) = activity("77").await;
    assert_eq!(status, 200, "{body}");
    let events: ThreadActivity = serde_json::from_value(body).unwrap();
    let seen: Vec<(&str, &str, &str)> =
        events.events.iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.object.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            (gp.user_id.as_str(), "view", "7001"),
            (other.user_id.as_str(), "view", "7002"),
            (gp.user_id.as_str(), "view", "7002")
        ]
    );
    assert!(events.events.iter().all(|e| e.actor_name == "Test Staff"), "names from the staff register");
    assert_eq!(activity("4242").await.0, 404);
    assert_eq!(activity("x").await.0, 400);

    // Append-only: no update or delete gets through the triggers.
    for sql in [
        "UPDATE audit_links SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_links WHERE seq = 1",
        "UPDATE audit_segments SET last_seq = 1",
        "DELETE FROM audit_segments",
    ] {
        let err = hub.state.db.sqlite_blocking(move |c| c.execute(sql, [])).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }

    // 1,000 random tamperings behind the triggers' back: every one found.
    let dev = device.clone();
    hub.state
        .db
        .sqlite_blocking(move |c| -> rusqlite::Result<()> {
            c.execute_batch(
                "DROP TRIGGER audit_links_no_update; DROP TRIGGER audit_links_no_delete;
                 DROP TRIGGER audit_segments_no_update; DROP TRIGGER audit_segments_no_delete;",
            )?;
            let mut rng = StdRng::seed_from_u64(5);
            for round in 0..1000 {
                c.execute_batch("SAVEPOINT tamper")?;
                let what = tamper(c, &dev, total as i64, &mut rng);
                let found = check_device(c, &dev).unwrap();
                c.execute_batch("ROLLBACK TO tamper; RELEASE tamper")?;
                assert!(found.broken.is_some(), "round {round}: {what} was not found");
            }
            assert_eq!(check_device(c, &dev).unwrap().broken, None, "untouched, it verifies");
            Ok(())
        })
        .unwrap();

    // The command line: verified, exported, then one change found.
    let data_dir = hub.dir.path().to_path_buf();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sealbox-hub"))
            .args(args)
            .arg("--data-dir")
            .arg(&data_dir)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, out) = cli(&["audit", "verify"]);
    assert!(ok && out.contains(&format!("device {device}: {total} links, verified")), "{out}");
    let (ok, csv) =
        cli(&["audit", "export", "--from", "2025-01-01", "--to", "2030-01-01", "--format", "csv"]);
    assert!(ok, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "at,actor,action,object,device,seq,hash,verified");
    // The GP's device's links, the nurse's one view, the header.
    assert_eq!(lines.len() as u64, total + 2);
    assert!(lines[1..].iter().all(|l| l.ends_with(",true")), "{csv}");
    // Every event was recorded by the GP, but one view by the nurse.
    assert_eq!(lines[1..].iter().filter(|l| l.contains(&other.user_id)).count(), 1, "{csv}");
    // Events are at 2025-06-15T15:06:40Z + i s (i < 43), plus the three
    // views at +100 s to +102 s; from 15:07:00 on: 23 + 3.
    let (ok, json_out) =
        cli(&["audit", "export", "--from", "2025-06-15T15:07:00Z", "--to", "2030-01-01", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&json_out).unwrap();
    assert!(ok, "{json_out}");
    assert_eq!(rows.len(), 26);
    assert_eq!(rows[0]["seq"].as_u64(), Some(21));

    hub.state
        .db
        .sqlite_blocking(|c| c.execute("UPDATE audit_links SET object = '999' WHERE seq = 17", []))
        .unwrap();
    let (ok, out) = cli(&["audit", "verify", "--user", &gp.user_id]);
    assert!(!ok, "a changed link must fail verify: {out}");
    assert!(out.contains("BROKEN") && out.contains("seq 17"), "{out}");
    let (ok, csv) = cli(&["audit", "export", "--from", "2025-01-01", "--to", "2030-01-01"]);
    assert!(ok);
    let verified: Vec<bool> = csv.lines().skip(1).map(|l| l.ends_with(",true")).collect();
    assert_eq!(
        verified.iter().filter(|v| **v).count(),
        17,
        "events before the break (and the nurse's device's) still verify"
    );

    // Every export is recorded, append-only.
    let (exports, rows): (i64, i64) = hub
        .state
        .db
        .sqlite_blocking(|c| {
            c.query_row("SELECT count(*), sum(rows) FROM audit_exports", [], |r| Ok((r.get(0)?, r.get(1)?)))
        })
        .unwrap();
    assert_eq!((exports, rows), (3, 2 * (total as i64 + 1) + 26));
    let err = hub.state.db.sqlite_blocking(|c| c.execute("DELETE FROM audit_exports", [])).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}
