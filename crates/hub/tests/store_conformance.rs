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
use sealbox_hub::db::{migrate, practice, MIGRATIONS};
use sealbox_hub::relay::actions::apply_batch;
use sealbox_hub::relay::channels::{self, Channel};
use sealbox_hub::relay::envelope_json::EnvelopeJsonCache;
use sealbox_hub::relay::group_commit::{write_batch, Post};
use sealbox_hub::relay::patient::Ingested;
use sealbox_hub::relay::rate_limit::take_shared;
use sealbox_hub::relay::sync::read_page;
use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, Base64Bytes, IdempotencyKey,
    PatientMessageRequest,
};
use sealbox_model::ids::{MessageId, StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::role::Role;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + second).unwrap()
}

/// A practice and one patient channel; the practice id and the channel.
fn practice_and_patient(conn: &dyn Sql) -> (String, Channel) {
    let practice = practice::create(conn, "Riverside Surgery", at(0)).unwrap();
    let file = channels::issue(conn, 1, at(0)).unwrap();
    let token = file.patients[0].channel_token.0.clone();
    let channel = channels::by_token(conn, &token).unwrap().unwrap();
    (practice.id, channel)
}

fn post(channel: &Channel, practice: &str, thread: u64, message: u64, body: &[u8], second: i64) -> Post {
    Post {
        channel: channel.clone(),
        req: PatientMessageRequest {
            thread_id: ThreadId(thread),
            message_id: MessageId(message),
            category: Category::RepeatPrescription,
            envelope: Base64Bytes(body.to_vec()),
        },
        sealed_for: practice.to_owned(),
        now: at(second),
    }
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
        let (practice, channel) = practice_and_patient(conn);
        let outcomes = write_batch(
            conn,
            &[
                post(&channel, &practice, 10, 100, b"first", 1),
                // The same message id with other bytes: refused.
                post(&channel, &practice, 10, 100, b"other", 2),
                post(&channel, &practice, 11, 101, b"second", 3),
                // Sealed for another practice: refused.
                post(&channel, "prac-elsewhere", 12, 102, b"third", 4),
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
        let again = write_batch(conn, &[post(&channel, &practice, 10, 100, b"first", 5)]).unwrap();
        assert_eq!(again[0].as_ref().ok(), Some(&Ingested::Duplicate));
        let n: i64 = conn.query_value("SELECT count(*) FROM envelopes", args![]).unwrap();
        assert_eq!(n, 2);
    });
}

#[test]
fn an_action_retried_with_its_key_gets_its_first_outcome_and_acts_once() {
    each_backend(|conn| {
        let (practice, channel) = practice_and_patient(conn);
        write_batch(conn, &[post(&channel, &practice, 20, 200, b"hello", 1)]).unwrap();
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
        let (practice, channel) = practice_and_patient(conn);
        let posts: Vec<Post> = (0..7)
            .map(|i| post(&channel, &practice, 30 + i % 3, 300 + i, format!("m{i}").as_bytes(), 1))
            .collect();
        write_batch(conn, &posts).unwrap();
        apply_batch(conn, &gp(), &claim("k", 30, 3), at(2)).unwrap();
        let cache = EnvelopeJsonCache::new(1 << 20);
        let (mut cursor, mut seen, mut actions) = (0u64, Vec::new(), 0usize);
        loop {
            let page = read_page(conn, &cache, Role::Gp, cursor, 3).unwrap().to_page().unwrap();
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
fn a_patients_rate_limit_is_one_bucket_in_the_database() {
    each_backend(|conn| {
        let (_, channel) = practice_and_patient(conn);
        let patient = channel.patient_id.0.as_str();
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
        let (_, channel) = practice_and_patient(conn);
        let patient = &channel.patient_id;
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
