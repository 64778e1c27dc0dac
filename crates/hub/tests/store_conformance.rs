//! One store suite, both backends: every test here runs the hub's own store
//! code on a SQLite file and on a real PostgreSQL database (the cluster
//! `cargo xtask test` starts) and must hold on both: migrations, the
//! append-only audit tables, group commit, idempotent actions and cursor
//! pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

#[path = "support/backends.rs"]
mod backends;

use backends::each_backend;
use sealbox_hub::args;
use sealbox_hub::config::RatePolicy;
use sealbox_hub::db::sql::Sql;
use sealbox_hub::db::{migrate, practice, DbError, MIGRATIONS};
use sealbox_hub::relay::actions::apply_batch;
use sealbox_hub::relay::backlog::{waiting_counts, Backlog};
use sealbox_hub::relay::channels::{self, Channel};
use sealbox_hub::relay::envelope_check::PatientSeal;
use sealbox_hub::relay::envelope_json::EnvelopeJsonCache;
use sealbox_hub::relay::group_commit::{write_batch, write_one_by_one, Outcome, Post};
use sealbox_hub::relay::patient::Ingested;
use sealbox_hub::relay::patient_batch::write_together;
use sealbox_hub::relay::rate_limit::{take_shared, Buckets};
use sealbox_hub::relay::store::{self, NewEnvelope, ThreadRow};
use sealbox_hub::relay::sync::read_page;
use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, Base64Bytes, IdempotencyKey,
    PatientMessageRequest, SyncPage,
};
use sealbox_model::ids::{MessageId, PatientId, StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::permissions::can_read_thread;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_model::thread_state::{Assignee, ThreadState};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + second).unwrap()
}

/// A patient's channel and its token.
#[derive(Clone)]
struct Patient {
    token: String,
    channel: Channel,
}

/// `count` new patients.
fn patients(conn: &dyn Sql, count: u32) -> Vec<Patient> {
    let file = channels::issue(conn, count, at(0)).unwrap();
    file.patients
        .iter()
        .map(|p| {
            let token = p.channel_token.0.clone();
            Patient { channel: channels::by_token(conn, &token).unwrap().unwrap(), token }
        })
        .collect()
}

/// A practice and one patient; the practice id and the patient.
fn practice_and_patient(conn: &dyn Sql) -> (String, Patient) {
    let practice = practice::create(conn, "Riverside Surgery", at(0)).unwrap();
    (practice.id, patients(conn, 1).remove(0))
}

/// A post signed by `patient`'s key, sealed for `practice`.
fn post(patient: &Patient, practice: &str, thread: u64, message: u64, body: &[u8], second: i64) -> Post {
    Post {
        token: patient.token.clone(),
        req: PatientMessageRequest {
            thread_id: ThreadId(thread),
            message_id: MessageId(message),
            category: Category::RepeatPrescription,
            envelope: Base64Bytes(body.to_vec()),
        },
        seal: PatientSeal { sender: patient.channel.ed25519_public, practice: practice.to_owned() },
        now: at(second),
    }
}

/// Buckets no test here runs dry.
fn roomy() -> Buckets {
    Buckets::Shared(RatePolicy { burst: 1000, per_minute: 1000 })
}

fn gp() -> StaffRef {
    StaffRef { id: StaffId("st-gp".into()), role: Role::Gp }
}

fn claim(key: &str, thread: u64, expected_version: u64) -> ActionsRequest {
    ActionsRequest {
        actions: vec![ActionRequest {
            idempotency_key: IdempotencyKey::new(key).unwrap(),
            thread_id: ThreadId(thread),
            expected_version,
            op: ActionOp::Claim,
        }],
    }
}

#[test]
fn migrations_apply_once_each_and_in_order() {
    each_backend(|conn| {
        let names: Vec<String> = conn
            .query_map("SELECT name FROM schema_migrations ORDER BY name", args![], |r| r.get(0))
            .unwrap();
        let expected: Vec<&str> = MIGRATIONS.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected, "{:?}", conn.backend());
        // Running them again changes nothing and fails nothing.
        migrate(conn).unwrap();
        let count: i64 = conn.query_value("SELECT count(*) FROM schema_migrations", args![]).unwrap();
        assert_eq!(count as usize, MIGRATIONS.len());
        // The last migration's column is there.
        let ok: i64 = conn.query_value("SELECT count(*) FROM patient_channels", args![]).unwrap();
        assert_eq!(ok, 0);
    });
}

#[test]
fn the_audit_tables_refuse_every_update_and_delete() {
    each_backend(|conn| {
        conn.execute(
            "INSERT INTO staff (id, webauthn_uuid, username, name, role, created_at_us)
             VALUES ('st-1', 'u-1', 'gp1', 'Dr One', 'gp', 0)",
            args![],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO devices (id, staff_id, name, credential_id, passkey, created_at_us)
             VALUES ('dev-1', 'st-1', 'desk', ?1, '{}', 0)",
            args![[1u8; 16]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit_links (device_id, seq, at_ms, actor, device, action, object, prev_hash, hash,
                                      received_at_us)
             VALUES ('dev-1', 1, 5, 'st-1', 'dev-1', 'view', '42', ?1, ?2, 7)",
            args![[0u8; 32], [9u8; 32]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit_segments (device_id, first_seq, last_seq, prev_hash, last_hash, signature,
                                         received_at_us)
             VALUES ('dev-1', 1, 1, ?1, ?2, ?3, 7)",
            args![[0u8; 32], [9u8; 32], [3u8; 64]],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit_exports (at_us, run_by, from_ms, to_ms, format, rows) VALUES (1, 'admin', 0, 9, 'csv', 1)",
            args![],
        )
        .unwrap();
        for attack in [
            "UPDATE audit_links SET action = 'reply'",
            "DELETE FROM audit_links",
            "UPDATE audit_segments SET last_seq = 2",
            "DELETE FROM audit_segments",
            "UPDATE audit_exports SET rows = 0",
            "DELETE FROM audit_exports",
        ] {
            let refused = conn.execute(attack, args![]).err().map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|e| e.contains("the audit trail is append-only")),
                "{:?}: {attack}: {refused:?}",
                conn.backend()
            );
        }
        for table in ["audit_links", "audit_segments", "audit_exports"] {
            let n: i64 = conn.query_value(&format!("SELECT count(*) FROM {table}"), args![]).unwrap();
            assert_eq!(n, 1, "{:?}: {table}", conn.backend());
        }
    });
}

#[test]
fn group_commit_refuses_one_post_without_undoing_the_others() {
    each_backend(|conn| {
        let (practice, patient) = practice_and_patient(conn);
        let outcomes = write_batch(
            conn,
            &roomy(),
            &[
                post(&patient, &practice, 10, 100, b"first", 1),
                // The same message id with other bytes: refused.
                post(&patient, &practice, 10, 100, b"other", 2),
                post(&patient, &practice, 11, 101, b"second", 3),
                // Sealed for another practice: refused.
                post(&patient, "prac-elsewhere", 12, 102, b"third", 4),
            ],
        )
        .unwrap();
        let kinds: Vec<Option<Ingested>> = outcomes.iter().map(|o| o.as_ref().ok().copied()).collect();
        assert_eq!(
            kinds,
            vec![Some(Ingested::Stored(1)), None, Some(Ingested::Stored(2)), None],
            "{:?}",
            conn.backend()
        );
        // Committed: both stored posts are there, the refused ones are not.
        let stored: Vec<(i64, Vec<u8>)> = conn
            .query_map("SELECT message_id, body FROM envelopes ORDER BY seq", args![], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(stored, vec![(100, b"first".to_vec()), (101, b"second".to_vec())]);
        // The same post again is a duplicate, not a second copy.
        let again = write_batch(conn, &roomy(), &[post(&patient, &practice, 10, 100, b"first", 5)]).unwrap();
        assert_eq!(again[0].as_ref().ok(), Some(&Ingested::Duplicate));
        let n: i64 = conn.query_value("SELECT count(*) FROM envelopes", args![]).unwrap();
        assert_eq!(n, 2);
    });
}

/// What a batch did, with ids and seqs counted from where its run began,
/// so two runs on one database compare.
#[derive(Debug, PartialEq)]
struct Written {
    outcomes: Vec<Result<Option<u64>, &'static str>>,
    threads: Vec<(i64, i64, String, i64, i64)>,
    envelopes: Vec<(i64, i64, i64, Vec<u8>)>,
    changes: Vec<(i64, i64, String)>,
}

/// A way to write posts let in.
type Write = fn(&dyn Sql, &Buckets, &[Post]) -> Result<Vec<Outcome>, DbError>;

/// A batch with every case a post meets — a token no channel has, an
/// envelope signed by another patient, a patient out of tokens, a thread
/// opened and answered in the batch, a duplicate of a post of the batch
/// and of one stored before, message and thread ids taken (in the batch
/// and before), a practice not this one — let in and written by `write`
/// with ids from `base` on, for two new patients.
fn mixed_batch(conn: &dyn Sql, practice: &str, base: u64, write: Write) -> Written {
    let [a, b]: [Patient; 2] = patients(conn, 2).try_into().ok().unwrap();
    let p = |who: &Patient, thread: u64, message: u64, body: &[u8], second: i64| {
        post(who, practice, base + thread, base + message, body, second)
    };
    // A token back every second, two at most.
    let buckets = Buckets::Shared(RatePolicy { burst: 2, per_minute: 60 });
    // Stored before: A's thread 20 with message 200.
    write_batch(conn, &buckets, &[p(&a, 20, 200, b"before", 1)]).unwrap();
    let seq0: i64 = conn.query_value("SELECT MAX(seq) FROM changes", args![]).unwrap();
    let stranger = Patient { token: "no-such-token".into(), ..a.clone() };
    let mut forged = p(&a, 13, 109, b"signed by b", 2);
    forged.seal.sender = b.channel.ed25519_public;
    let batch = vec![
        p(&stranger, 13, 110, b"who?", 2),
        forged,
        p(&a, 10, 100, b"open", 3),
        p(&a, 10, 101, b"again", 4),
        p(&a, 10, 100, b"open", 5),
        p(&a, 10, 100, b"other bytes", 6),
        p(&b, 10, 102, b"not b's thread", 6),
        p(&b, 11, 103, b"b opens", 7),
        p(&b, 11, 104, b"b again", 7),
        p(&b, 11, 105, b"b once too often", 7),
        post(&a, "prac-elsewhere", base + 12, base + 106, b"elsewhere", 10),
        p(&a, 20, 107, b"answers the stored thread", 11),
        p(&b, 20, 108, b"not b's either", 12),
        p(&a, 20, 200, b"before", 13),
        p(&a, 21, 200, b"before", 14),
    ];
    let outcomes = write(conn, &buckets, &batch)
        .unwrap()
        .into_iter()
        .map(|o| match o {
            Ok(Ingested::Stored(seq)) => Ok(Some(seq - seq0 as u64)),
            Ok(Ingested::Duplicate) => Ok(None),
            Err(e) => Err(e.code),
        })
        .collect();
    let (lo, hi) = (base as i64, base as i64 + 1000);
    let threads = conn
        .query_map(
            "SELECT id, version, state, created_at_us, updated_at_us FROM threads WHERE id >= ?1 AND id < ?2 ORDER BY id",
            args![lo, hi],
            |r| Ok((r.get::<i64>(0)? - lo, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let envelopes = conn
        .query_map(
            "SELECT seq, message_id, thread_id, body FROM envelopes WHERE seq > ?1 ORDER BY seq",
            args![seq0],
            |r| Ok((r.get::<i64>(0)? - seq0, r.get::<i64>(1)? - lo, r.get::<i64>(2)? - lo, r.get(3)?)),
        )
        .unwrap();
    let changes = conn
        .query_map("SELECT seq, thread_id, kind FROM changes WHERE seq > ?1 ORDER BY seq", args![seq0], |r| {
            Ok((r.get::<i64>(0)? - seq0, r.get::<i64>(1)? - lo, r.get(2)?))
        })
        .unwrap();
    Written { outcomes, threads, envelopes, changes }
}

#[test]
fn a_batch_written_together_stores_what_one_post_at_a_time_would() {
    each_backend(|conn| {
        let (practice, _) = practice_and_patient(conn);
        let together = mixed_batch(conn, &practice, 1000, write_together);
        let one_by_one = mixed_batch(conn, &practice, 2000, write_one_by_one);
        assert_eq!(together, one_by_one, "{:?}", conn.backend());
        // And what that is, spelled out.
        let taken = Err("message_id_taken");
        let thread_taken = Err("thread_id_taken");
        assert_eq!(
            together.outcomes,
            vec![
                Err("unauthorized"),
                Err("invalid_field"),
                Ok(Some(1)),
                Ok(Some(2)),
                Ok(None),
                taken,
                thread_taken,
                Ok(Some(3)),
                Ok(Some(4)),
                Err("rate_limited"),
                Err("invalid_field"),
                Ok(Some(5)),
                thread_taken,
                Ok(None),
                taken,
            ],
            "{:?}",
            conn.backend()
        );
        let versions: Vec<(i64, i64)> = together.threads.iter().map(|t| (t.0, t.1)).collect();
        assert_eq!(versions, vec![(10, 2), (11, 2), (20, 2)]);
        let kinds: Vec<(i64, i64)> = together.changes.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(kinds, vec![(1, 10), (2, 10), (3, 11), (4, 11), (5, 20)]);
        assert_eq!(together.envelopes[4], (5, 107, 20, b"answers the stored thread".to_vec()));
    });
}

#[test]
fn an_action_retried_with_its_key_gets_its_first_outcome_and_acts_once() {
    each_backend(|conn| {
        let (practice, patient) = practice_and_patient(conn);
        write_batch(conn, &roomy(), &[post(&patient, &practice, 20, 200, b"hello", 1)]).unwrap();
        let first = apply_batch(conn, &gp(), &claim("key-1", 20, 1), at(2)).unwrap();
        let ActionOutcome::Applied { version, seq } = first.results[0].outcome.clone() else {
            panic!("{:?}: not applied: {:?}", conn.backend(), first.results[0].outcome);
        };
        assert_eq!((version, seq), (2, 2));
        // The retry: the same outcome, nothing new stored.
        let retry = apply_batch(conn, &gp(), &claim("key-1", 20, 1), at(3)).unwrap();
        assert_eq!(retry.results[0].outcome, first.results[0].outcome);
        assert!(retry.changed.is_empty());
        let actions: i64 = conn.query_value("SELECT count(*) FROM actions", args![]).unwrap();
        assert_eq!(actions, 1, "{:?}", conn.backend());
        // The key on another request: refused, not replayed.
        let reused = apply_batch(conn, &gp(), &claim("key-1", 20, 2), at(4)).unwrap();
        assert!(
            matches!(&reused.results[0].outcome, ActionOutcome::Rejected { code, .. } if code == "idempotency_key_reused")
        );
        // A stale version: a conflict naming who changed it.
        let stale = apply_batch(conn, &gp(), &claim("key-2", 20, 1), at(5)).unwrap();
        match &stale.results[0].outcome {
            ActionOutcome::Conflict { current_version, changed_by, .. } => {
                assert_eq!(*current_version, 2);
                assert_eq!(changed_by.as_ref(), Some(&gp()));
            }
            other => panic!("{:?}: not a conflict: {other:?}", conn.backend()),
        }
    });
}

#[test]
fn sync_pages_walk_the_change_log_once_in_order() {
    each_backend(|conn| {
        let (practice, patient) = practice_and_patient(conn);
        let posts: Vec<Post> = (0..7)
            .map(|i| post(&patient, &practice, 30 + i % 3, 300 + i, format!("m{i}").as_bytes(), 1))
            .collect();
        write_batch(conn, &roomy(), &posts).unwrap();
        apply_batch(conn, &gp(), &claim("k", 30, 3), at(2)).unwrap();
        let cache = EnvelopeJsonCache::new(1 << 20);
        let (mut cursor, mut seen, mut actions, mut pages) = (0u64, Vec::new(), 0usize, Vec::new());
        loop {
            let json = read_page(conn, &cache, Role::Gp, cursor, 3).unwrap().to_json().unwrap();
            pages.push((cursor, json.clone()));
            let page: SyncPage = serde_json::from_slice(&json).unwrap();
            assert!(page.envelopes.len() + page.actions.len() <= 3);
            seen.extend(page.envelopes.iter().map(|e| e.seq));
            seen.extend(page.actions.iter().map(|a| a.seq));
            actions += page.actions.len();
            assert!(page.threads.iter().all(|t| (30..33).contains(&t.thread_id.0)));
            cursor = page.next_cursor.0;
            if !page.more {
                break;
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=8).collect::<Vec<u64>>(), "{:?}", conn.backend());
        assert_eq!(actions, 1);
        assert_eq!(cursor, 8);
        // Read again, every envelope now from the cache: the same pages.
        for (after, json) in &pages {
            assert_eq!(&read_page(conn, &cache, Role::Gp, *after, 3).unwrap().to_json().unwrap(), json);
        }
        // A role that may not read these threads is shown none of them,
        // from the cache or from the database, and its cursor still moves.
        assert!(!can_read_thread(Role::CareNavigator, Category::RepeatPrescription));
        for cache in [&cache, &EnvelopeJsonCache::new(1 << 20)] {
            let (mut after, mut shown) = (0u64, 0usize);
            loop {
                let page = read_page(conn, cache, Role::CareNavigator, after, 3).unwrap().to_page().unwrap();
                shown += page.envelopes.len() + page.threads.len() + page.actions.len();
                after = page.next_cursor.0;
                if !page.more {
                    break;
                }
            }
            assert_eq!((shown, after), (0, 8), "{:?}", conn.backend());
        }
        // A cursor ahead of the log is refused, not answered empty.
        assert!(read_page(conn, &cache, Role::Gp, 9, 3).is_err());
    });
}

#[test]
fn a_refused_write_names_no_stored_value() {
    each_backend(|conn| {
        let insert = "INSERT INTO patient_channels (patient_id, token_sha256, ed25519_public, x25519_public,
                                                    created_at_us)
                      VALUES (?1, ?2, ?3, ?4, 0)";
        conn.execute(insert, args!["pt-QZXSECRET", [1u8; 32], [2u8; 32], [3u8; 32]]).unwrap();
        let refused =
            conn.execute(insert, args!["pt-QZXSECRET", [4u8; 32], [2u8; 32], [3u8; 32]]).unwrap_err();
        // PostgreSQL's DETAIL would say `Key (patient_id)=(pt-QZXSECRET)`.
        let shown = format!("{refused} {refused:?}");
        assert!(!shown.contains("QZXSECRET"), "{:?}: {shown}", conn.backend());
        assert!(shown.contains("patient_channels") || shown.contains("unique"), "{shown}");
    });
}

#[test]
fn every_reference_a_post_makes_holds_however_it_is_attacked() {
    // Foreign keys on both engines; a batch's rows are checked as they
    // are written one statement per table.
    each_backend(|conn| {
        let backend = conn.backend();
        let (practice, patient) = practice_and_patient(conn);
        let outcomes =
            write_together(conn, &roomy(), &[post(&patient, &practice, 41, 410, b"sealed", 1)]).unwrap();
        let Ok(Ingested::Stored(stored_seq)) = outcomes[0] else { panic!("{backend:?}: not stored") };
        // A second patient with a thread but no rate bucket: only the
        // thread names the channel.
        let other = patients(conn, 1).remove(0).channel.patient_id;
        let other_thread = ThreadRow::opened(ThreadId(42), &other, Category::RepeatPrescription, at(2));
        conn.run(&store::save_threads_query(backend, &[&other_thread]).unwrap()).unwrap();
        let next_seq = || -> u64 {
            conn.query_value(
                "INSERT INTO changes (thread_id, kind) VALUES (41, 'envelope') RETURNING seq",
                args![],
            )
            .unwrap()
        };
        let envelope = |thread: u64, message: u64| NewEnvelope {
            thread: ThreadId(thread),
            message: MessageId(message),
            sender: None,
            body: b"sealed",
            at: at(3),
            internal: false,
        };
        let nobody = PatientId("pt-QZXNOBODY".into());
        let attacks: Vec<(&str, Result<Vec<_>, DbError>)> = vec![
            (
                "a batch of envelopes, one naming a thread not stored",
                conn.run(&store::insert_envelopes_query(
                    backend,
                    &[envelope(41, 411), envelope(999, 412)],
                    &[next_seq(), next_seq()],
                )),
            ),
            (
                "an envelope naming a change-log entry not stored",
                conn.run(&store::insert_envelopes_query(backend, &[envelope(41, 413)], &[999_999])),
            ),
            (
                "a thread naming a patient channel not stored",
                conn.run(
                    &store::save_threads_query(
                        backend,
                        &[&ThreadRow::opened(ThreadId(43), &nobody, Category::RepeatPrescription, at(4))],
                    )
                    .unwrap(),
                ),
            ),
            ("deleting a thread an envelope names", conn.query("DELETE FROM threads WHERE id = 41", args![])),
            (
                "deleting the change-log entry an envelope names",
                conn.query("DELETE FROM changes WHERE seq = ?1", args![stored_seq]),
            ),
            (
                "deleting a patient channel a thread names",
                conn.query("DELETE FROM patient_channels WHERE patient_id = ?1", args![other.0]),
            ),
            (
                "moving a thread to a patient channel not stored",
                conn.query("UPDATE threads SET patient_id = ?1 WHERE id = 42", args![nobody.0]),
            ),
            (
                "moving an envelope to a thread not stored",
                conn.query("UPDATE envelopes SET thread_id = 999 WHERE seq = ?1", args![stored_seq]),
            ),
        ];
        for (attack, result) in attacks {
            let refused = result.err().map(|e| format!("{e} {e:?}"));
            assert!(refused.is_some(), "{backend:?}: {attack} was let through");
            assert!(!refused.unwrap_or_default().contains("QZX"), "{backend:?}: {attack}: a value is named");
        }
        let count = |table: &str| -> i64 {
            conn.query_value(&format!("SELECT count(*) FROM {table}"), args![]).unwrap()
        };
        assert_eq!(
            (count("threads"), count("envelopes"), count("patient_channels")),
            (2, 1, 2),
            "{backend:?}"
        );
        // A batch naming stored rows only is let in whole.
        conn.run(&store::insert_envelopes_query(
            backend,
            &[envelope(41, 414), envelope(42, 415)],
            &[next_seq(), next_seq()],
        ))
        .unwrap();
        assert_eq!(count("envelopes"), 3, "{backend:?}");
    });
}

#[test]
fn a_patients_rate_limit_is_one_bucket_in_the_database() {
    each_backend(|conn| {
        let (_, patient) = practice_and_patient(conn);
        let patient = patient.channel.patient_id.0.as_str();
        let policy = RatePolicy { burst: 2, per_minute: 6 };
        assert_eq!(take_shared(conn, policy, patient, at(0)).unwrap(), Ok(()));
        assert_eq!(take_shared(conn, policy, patient, at(0)).unwrap(), Ok(()));
        assert_eq!(take_shared(conn, policy, patient, at(0)).unwrap(), Err(10), "{:?}", conn.backend());
        // A clock gone back mints nothing; ten seconds on, one token.
        assert!(take_shared(conn, policy, patient, at(-100)).unwrap().is_err());
        assert_eq!(take_shared(conn, policy, patient, at(10)).unwrap(), Ok(()));
        assert!(take_shared(conn, policy, patient, at(10)).unwrap().is_err());
    });
}

#[test]
fn a_due_notice_is_claimed_by_one_sender() {
    each_backend(|conn| {
        let (_, patient) = practice_and_patient(conn);
        let patient = &patient.channel.patient_id;
        sealbox_hub::notice::set_contact(conn, patient, "pat@example.org", at(0)).unwrap();
        sealbox_hub::notice::queue(conn, patient, at(0)).unwrap();
        let queued = sealbox_hub::db::time::to_db(at(0));
        let claim = |second| sealbox_hub::notice::claim(conn, &patient.0, queued, at(second)).unwrap();
        assert!(claim(1), "{:?}", conn.backend());
        // A second node, at once and within the claim: not its to send.
        assert!(!claim(1));
        assert!(!claim(200));
        // The first died mid-send: once the claim runs out, another may.
        let after = sealbox_hub::notice::CLAIM.as_secs() + 2;
        assert!(claim(after));
        assert!(!claim(after));
    });
}

#[test]
fn the_backlog_kept_in_memory_counts_what_a_full_count_does() {
    each_backend(|conn| {
        practice::create(conn, "Riverside Surgery", at(0)).unwrap();
        let people = patients(conn, 2);
        let nurse = ThreadState::Assigned { to: Assignee::Pool(Pool::Nurse) };
        let mut threads: Vec<ThreadRow> = [
            (1, Category::RepeatPrescription, ThreadState::New),
            (2, Category::TestResults, ThreadState::Triaged),
            (3, Category::ClinicalQuestion, nurse.clone()),
            (4, Category::AdminFitNote, ThreadState::InProgress { by: gp() }),
            (5, Category::AdminAppointment, ThreadState::Closed),
        ]
        .into_iter()
        .map(|(id, category, state)| {
            let opened =
                ThreadRow::opened(ThreadId(id), &people[id as usize % 2].channel.patient_id, category, at(0));
            if state == ThreadState::New {
                opened
            } else {
                opened.moved(state, at(1), Some(gp()))
            }
        })
        .collect();
        let save = |rows: &[ThreadRow]| store::save_threads(conn, &rows.iter().collect::<Vec<_>>()).unwrap();
        save(&threads);
        let mut backlog = Backlog::default();
        let (counts, _) = backlog.update(conn, &[]).unwrap();
        assert_eq!(counts, waiting_counts(conn).unwrap(), "first, in full: {:?}", conn.backend());
        assert_eq!(counts.0.nurse, 3, "repeat prescription, test results, and one assigned to nurses");

        // Threads move on, one is opened: told, the backlog follows them.
        threads[0] = threads[0].clone().moved(nurse.clone(), at(2), Some(gp()));
        threads[1] = threads[1].clone().moved(ThreadState::Closed, at(2), Some(gp()));
        threads[2] = threads[2].clone().moved(ThreadState::InProgress { by: gp() }, at(2), Some(gp()));
        threads.push(ThreadRow::opened(
            ThreadId(6),
            &people[0].channel.patient_id,
            Category::MedicationQuestion,
            at(2),
        ));
        save(&threads);
        let told = [ThreadId(1), ThreadId(2), ThreadId(3), ThreadId(6), ThreadId(99)];
        let (counts, categories) = backlog.update(conn, &told).unwrap();
        assert_eq!(counts, waiting_counts(conn).unwrap(), "after the changes told: {:?}", conn.backend());
        let mut categories: Vec<u64> = categories.iter().map(|(id, _)| id.0).collect();
        categories.sort_unstable();
        assert_eq!(categories, [1, 2, 3, 6], "the threads the hub knows, of those told");

        // A change nobody told is not counted from memory, until the next
        // full load.
        threads[3] = threads[3].clone().moved(nurse.clone(), at(3), Some(gp()));
        save(&threads);
        let full = waiting_counts(conn).unwrap();
        let (counts, _) = backlog.update(conn, &[]).unwrap();
        assert_ne!(counts, full, "counted from memory, not in full: {:?}", conn.backend());
        for _ in 1..Backlog::RELOAD_EVERY {
            backlog.update(conn, &[]).unwrap();
        }
        let (counts, _) = backlog.update(conn, &[]).unwrap();
        assert_eq!(counts, full, "after a full load: {:?}", conn.backend());
    });
}
