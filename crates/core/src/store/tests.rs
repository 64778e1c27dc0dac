//! The cache against real SQLCipher files.

use sealbox_crypto::secret::SecretKey;
use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, StaffId, ThreadId};
use sealbox_model::inbox_order::InboxSortKey;
use sealbox_model::message::FreeText;
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::{StateKind, ThreadState};

use super::migrations::{self, LATEST};
use super::open::{self, file_shape, FileShape};
use super::queries::InboxFilter;
use super::retention::RetentionPolicy;
use super::testutil::*;
use super::{Keying, StoreError, APPLICATION_ID};

#[test]
fn opens_real_sqlcipher_with_the_required_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _key, path) = new_store(dir.path());
    let c = store.conn();
    let version: String = c.query_row("PRAGMA cipher_version", [], |r| r.get(0)).unwrap();
    assert!(!version.is_empty());
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    for (pragma, want) in [("secure_delete", 1), ("temp_store", 2), ("foreign_keys", 1), ("auto_vacuum", 2)] {
        let got: i64 = c.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0)).unwrap();
        assert_eq!(got, want, "{pragma}");
    }
    let app: i32 = c.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
    assert_eq!(app, APPLICATION_ID);
    assert_eq!(store.schema_version().unwrap(), LATEST);
    store.close().unwrap();
    // Encrypted on disk: no SQLite header, a salt instead.
    assert!(matches!(file_shape(&path).unwrap(), FileShape::Opaque(_)));
}

#[test]
fn reopens_with_the_same_key_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, key, path) = new_store(dir.path());
    store.write(|w| w.set_setting("k", "v")).unwrap();
    store.close().unwrap();
    let store = open::open(&path, Keying::Encrypted(&key)).unwrap();
    assert_eq!(store.setting("k").unwrap().as_deref(), Some("v"));
}

#[test]
fn wrong_key_fails_typed_and_leaves_every_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, path) = new_store(dir.path());
    store.write(|w| w.enqueue(&outbox("a", b"payload"))).unwrap();
    // Keep a WAL around too: the failed open must not checkpoint or touch it.
    // (-shm is SQLite's shared-memory WAL index, not data: left out.)
    let data_files = |d: &std::path::Path| {
        fingerprint(d)
            .into_iter()
            .filter(|(p, ..)| !p.to_string_lossy().ends_with("-shm"))
            .collect::<Vec<_>>()
    };
    let before = data_files(dir.path());
    assert_eq!(before.len(), 2, "database and WAL");
    let err = open::open(&path, Keying::Encrypted(&SecretKey::generate())).unwrap_err();
    assert!(matches!(err, StoreError::CannotDecrypt), "{err:?}");
    assert_eq!(data_files(dir.path()), before);
    store.close().unwrap();
    let before = fingerprint(dir.path());
    assert_eq!(before.len(), 1, "closed: only the database");
    assert!(matches!(
        open::open(&path, Keying::Encrypted(&SecretKey::generate())),
        Err(StoreError::CannotDecrypt)
    ));
    assert_eq!(fingerprint(dir.path()), before);
}

#[test]
fn plain_sqlite_and_short_files_are_not_sealbox_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    rusqlite::Connection::open(&plain).unwrap().execute_batch("CREATE TABLE x(y);").unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    let err = open::open(&plain, Keying::Encrypted(&SecretKey::generate())).unwrap_err();
    assert!(matches!(err, StoreError::NotSealbox), "{err:?}");
    assert!(std::fs::read(&plain).unwrap() == bytes);

    let short = dir.path().join("short.db");
    std::fs::write(&short, b"hello").unwrap();
    assert!(matches!(
        open::open(&short, Keying::Encrypted(&SecretKey::generate())),
        Err(StoreError::NotSealbox)
    ));

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        open::open(&junk, Keying::Encrypted(&SecretKey::generate())),
        Err(StoreError::CannotDecrypt)
    ));
    assert!(std::fs::read(&junk).unwrap() == vec![0x5a; 8192]);
}

#[test]
fn corruption_after_page_one_is_found_by_the_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, key, path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            for i in 0..200 {
                w.insert_message(ThreadId(1), &message(i, 0, &"filler text ".repeat(40), None))?;
            }
            Ok(())
        })
        .unwrap();
    store.checkpoint().unwrap();
    store.check_integrity().unwrap();
    store.close().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096 * 8);
    for b in &mut bytes[4096 * 5 + 100..4096 * 5 + 200] {
        *b ^= 0xff;
    }
    std::fs::write(&path, &bytes).unwrap();
    let store = open::open(&path, Keying::Encrypted(&key)).unwrap();
    assert!(matches!(store.check_integrity(), Err(StoreError::Corrupt)));
}

#[test]
fn schema_newer_than_this_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key, path) = new_store(dir.path());
    store.conn().execute_batch(&format!("PRAGMA user_version = {};", LATEST + 1)).unwrap();
    store.close().unwrap();
    let err = open::open(&path, Keying::Encrypted(&key)).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported } if found == LATEST + 1 && supported == LATEST)
    );
}

/// Builds a database at every earlier schema version, with the data that
/// version can hold, then opens it with this build: it must reach the latest
/// version with the data intact (and, from v1, searchable).
#[test]
fn migrates_a_fixture_database_of_every_earlier_version() {
    for from in 0..LATEST {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        let key = SecretKey::generate();
        let store = open::open_at(&path, Keying::Encrypted(&key), from).unwrap();
        assert_eq!(store.schema_version().unwrap(), from);
        if from >= 1 {
            // Written with version 1's SQL, as a version-1 build did.
            let m = message(70, 5, "my inhaler ran out", Some("Salbutamol 100mcg"));
            let parts: Vec<String> = m.parts.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
            let state = serde_json::to_string(&ThreadState::New).unwrap();
            let (tk, mk) = (super::write::key_of(7), super::write::key_of(70));
            let c = store.conn();
            c.execute_batch(
                "INSERT INTO patients VALUES ('p1', 'Ada Lovelace', '1948-03-17', '9434765919');
                 INSERT INTO sync_cursor VALUES (1, 'c-42', 0);
                 INSERT INTO outbox(idempotency_key, kind, thread_key, payload, created_ms)
                     VALUES ('k1', 'reply', NULL, x'00', 0);",
            )
            .unwrap();
            c.execute(
                "INSERT INTO threads(thread_key, patient_id, state_json, closed_ms, updated_ms)
                 VALUES (?1, 'p1', ?2, NULL, 0)",
                rusqlite::params![tk, state],
            )
            .unwrap();
            c.execute(
                "INSERT INTO triage VALUES (?1, 'pharmacy', 'repeat_prescription', 'urgent', 'new', NULL, 1, 0, 100, 5)",
                [tk],
            )
            .unwrap();
            // Columns named: version 9 added one to messages.
            c.execute(
                "INSERT INTO messages(message_key, thread_key, author_json, received_ms)
                 VALUES (?1, ?2, '\"patient\"', 5000)",
                [mk, tk],
            )
            .unwrap();
            c.execute("INSERT INTO parts VALUES (?1, 0, 'free_text', ?2)", rusqlite::params![mk, parts[0]])
                .unwrap();
            c.execute(
                "INSERT INTO parts VALUES (?1, 1, 'medication_request', ?2)",
                rusqlite::params![mk, parts[1]],
            )
            .unwrap();
            c.execute("INSERT INTO views VALUES (?1, 'ph-1', 9000)", [mk]).unwrap();
            c.execute(
                "INSERT INTO audit_events(seq, at_ms, actor, action, object, prev_hash, hash)
                 VALUES (1, 9000, 'ph-1', 'view', '70', zeroblob(32), zeroblob(32))",
                [],
            )
            .unwrap();
        }
        store.close().unwrap();

        let store = open::open(&path, Keying::Encrypted(&key)).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST, "from v{from}");
        if from >= 1 {
            let detail = store.thread(ThreadId(7)).unwrap().unwrap();
            // v5: the patient's reply key is unknown until the next sync names it.
            assert_eq!(store.patient_key(ThreadId(7)).unwrap(), None, "from v{from}");
            assert_eq!(detail.thread.messages.len(), 1);
            assert_eq!(
                detail.thread.messages[0].parts,
                message(70, 5, "my inhaler ran out", Some("Salbutamol 100mcg")).parts
            );
            assert_eq!(detail.patient.display_name.reveal(), "Ada Lovelace");
            assert_eq!(detail.views.len(), 1);
            assert_eq!(store.outbox().unwrap().len(), 1);
            assert_eq!(store.sync_cursor().unwrap().as_deref(), Some("c-42"));
            // Version 2's backfill indexed version 1's text and medication
            // (rows written raw at v2 or later bypass the indexing writer).
            for q in ["inhaler", "salbutamol", "note"] {
                let hits = store.search(q, 10).unwrap();
                let expected = usize::from(from < 2);
                assert_eq!(hits.len(), expected, "search {q} after migrating from v{from}");
            }
            // Version 3 starts every cached thread at hub version 0.
            assert_eq!(store.hub_version(ThreadId(7)).unwrap(), Some(0));
            // Version 4 names the device of each audit link; earlier ones
            // name none.
            let links = store.audit_events(5).unwrap();
            assert_eq!(links.len(), 1);
            assert_eq!((links[0].action.as_str(), links[0].device.as_str()), ("view", ""));
        }
    }
}

#[test]
fn migrations_run_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    assert!(migrations::migrate(&mut store.conn, LATEST).unwrap().is_empty());
}

#[test]
fn disk_full_mid_transaction_rolls_back_everything_and_keeps_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            for i in 0..3 {
                w.enqueue(&outbox(&format!("k{i}"), format!("payload {i}").as_bytes()))?;
            }
            Ok(())
        })
        .unwrap();
    let outbox_before = store.outbox().unwrap();
    let pages: i64 = store.conn().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    assert_eq!(store.limit_pages(pages + 3).unwrap(), pages + 3);

    let mut written = 0;
    let err = store
        .write(|w| {
            w.enqueue(&outbox("k-new", b"new action"))?;
            w.ack_outbox("k0")?;
            for i in 0..500 {
                w.insert_message(ThreadId(1), &message(1000 + i, 0, &"x".repeat(2000), None))?;
                written += 1;
            }
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(written > 0 && written < 500, "the limit hit mid-transaction ({written})");
    assert_eq!(store.outbox().unwrap(), outbox_before);
    assert_eq!(store.message_count().unwrap(), 0);

    // With space again, the same transaction goes through.
    store.limit_pages(1 << 30).unwrap();
    store.write(|w| w.enqueue(&outbox("k-new", b"new action"))).unwrap();
    assert_eq!(store.outbox().unwrap().len(), 4);
}

fn seed_inbox(store: &mut super::Store) -> Vec<InboxSortKey> {
    let mut keys = Vec::new();
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_patient(&patient("p2", "Bea"))?;
            for i in 0..60u64 {
                let pool = Pool::ALL[(i % 4) as usize];
                let urgent = i % 5 == 0;
                let due = if i % 7 == 0 { None } else { Some(((i * 37) % 50) as i64 * 100) };
                let received = ((i * 13) % 17) as i64;
                let mut rec = thread(i, if i % 2 == 0 { "p1" } else { "p2" }, pool, urgent, due, received);
                if i % 6 == 0 {
                    rec.state = held_by("gp-ali");
                }
                if i == 59 {
                    rec.state = ThreadState::Closed;
                }
                rec.category =
                    if i % 3 == 0 { Category::RepeatPrescription } else { Category::ClinicalQuestion };
                w.upsert_thread(&rec, t(0))?;
                if i != 59 {
                    keys.push((
                        rec.pool,
                        rec.category,
                        rec.priority,
                        rec.state.kind(),
                        due,
                        urgent,
                        received,
                        i,
                    ));
                }
            }
            Ok(())
        })
        .unwrap();
    let now_ms = t(2500).as_millisecond();
    keys.into_iter()
        .map(|(_, _, _, _, due, urgent, received, i)| {
            let due_ms = due.map(|d| t(d).as_millisecond());
            InboxSortKey {
                breached: due_ms.is_some_and(|d| d <= now_ms),
                urgent,
                due_ms,
                received_ms: t(received).as_millisecond(),
                thread: ThreadId(i),
            }
        })
        .collect()
}

#[test]
fn inbox_pages_follow_the_model_order_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let mut expected = seed_inbox(&mut store);
    expected.sort();
    assert!(expected.iter().any(|k| k.breached) && expected.iter().any(|k| !k.breached));
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = store.inbox_page(&InboxFilter::default(), after.as_ref(), 7, t(2500)).unwrap();
        assert!(page.rows.len() <= 7);
        got.extend(page.rows.iter().map(|r| r.sort_key));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(got, expected);
}

#[test]
fn inbox_windows_at_any_offset_match_the_pages_and_count_every_match() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let mut expected = seed_inbox(&mut store);
    expected.sort();
    let now = t(2500);
    let mut got = Vec::new();
    for offset in (0..expected.len() as u32 + 5).step_by(5) {
        let (rows, counts) = store.inbox_window(&InboxFilter::default(), offset, 5, now).unwrap();
        assert_eq!(counts.total as usize, expected.len());
        // Counted over every match, whichever rows this window holds.
        let urgent = expected.iter().filter(|k| k.urgent).count();
        let breached = expected.iter().filter(|k| k.breached).count();
        assert_eq!((counts.urgent as usize, counts.breached as usize), (urgent, breached));
        got.extend(rows.iter().map(|r| r.sort_key));
    }
    assert_eq!(got, expected, "windows laid end to end are the inbox in order");
    let (rows, counts) = store.inbox_window(&InboxFilter::default(), 3, 4, now).unwrap();
    assert_eq!(
        (rows.iter().map(|r| r.sort_key).collect::<Vec<_>>(), counts.total as usize),
        (expected[3..7].to_vec(), expected.len())
    );
    let gp = InboxFilter { pool: Some(Pool::Gp), ..Default::default() };
    let (rows, counts) = store.inbox_window(&gp, 0, 1_000, now).unwrap();
    assert_eq!(counts.total as usize, rows.len());
    assert_eq!(counts.urgent as usize, rows.iter().filter(|r| r.sort_key.urgent).count());
    assert!(rows.iter().all(|r| r.pool == Pool::Gp));
}

#[test]
fn inbox_filters_by_pool_category_priority_state_and_assignee() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    seed_inbox(&mut store);
    let now = t(2500);
    let all = |store: &mut super::Store, f: InboxFilter| store.inbox_page(&f, None, 1000, now).unwrap().rows;
    let gp = all(&mut store, InboxFilter { pool: Some(Pool::Gp), ..Default::default() });
    assert_eq!(gp.len(), 15);
    assert!(gp.iter().all(|r| r.pool == Pool::Gp));
    let rx =
        all(&mut store, InboxFilter { category: Some(Category::RepeatPrescription), ..Default::default() });
    assert_eq!(rx.len(), 20);
    let urgent = all(&mut store, InboxFilter { priority: Some(Priority::Urgent), ..Default::default() });
    assert_eq!(urgent.len(), 12);
    assert!(urgent.iter().all(|r| r.sort_key.urgent));
    let held =
        all(&mut store, InboxFilter { assignee: Some(StaffId("gp-ali".into())), ..Default::default() });
    assert_eq!(held.len(), 10);
    assert!(held.iter().all(|r| r.state == StateKind::InProgress));
    let closed = all(&mut store, InboxFilter { state: Some(StateKind::Closed), ..Default::default() });
    assert_eq!(closed.iter().map(|r| r.thread).collect::<Vec<_>>(), vec![ThreadId(59)]);
    let both = all(
        &mut store,
        InboxFilter {
            pool: Some(Pool::Gp),
            category: Some(Category::RepeatPrescription),
            ..Default::default()
        },
    );
    assert!(both.iter().all(|r| r.pool == Pool::Gp && r.category == Category::RepeatPrescription));
    assert_eq!(both.len(), 5);
    assert_eq!(gp[0].display_name.reveal().len(), 3);
}

#[test]
fn breach_flags_follow_the_clock_passed_in() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, Some(100), 50), t(0))?;
            w.upsert_thread(&thread(2, "p1", Pool::Gp, true, Some(500), 10), t(0))
        })
        .unwrap();
    let order = |store: &mut super::Store, now| {
        store
            .inbox_page(&InboxFilter::default(), None, 10, now)
            .unwrap()
            .rows
            .iter()
            .map(|r| r.thread.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&mut store, t(99)), vec![2, 1]);
    assert_eq!(order(&mut store, t(100)), vec![1, 2]);
    let counts = store.pool_counts(t(100)).unwrap();
    let gp = counts.iter().find(|c| c.pool == Pool::Gp).unwrap();
    assert_eq!((gp.open, gp.breached, gp.urgent), (2, 1, 1));
    assert!(counts.iter().filter(|c| c.pool != Pool::Gp).all(|c| c.open == 0));
}

#[test]
fn thread_round_trips_with_messages_views_and_draft() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let m1 = message(10, 1, "first", Some("Ramipril 5mg"));
    let m2 = message(11, 2, "second", None);
    let rec = thread(u64::MAX, "p1", Pool::Nurse, false, None, 2);
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&rec, t(0))?;
            w.insert_message(rec.id, &m2)?;
            w.insert_message(rec.id, &m1)?;
            w.record_view(m1.id, &StaffId("n-1".into()), t(5))?;
            w.record_view(m2.id, &StaffId("n-1".into()), t(6))?;
            w.save_draft(rec.id, &FreeText::new("draft reply"), t(7))
        })
        .unwrap();
    let d = store.thread(rec.id).unwrap().unwrap();
    assert_eq!(d.thread.messages, vec![m1.clone(), m2.clone()]);
    assert_eq!(d.thread.state, rec.state);
    assert_eq!(d.thread.category, rec.category);
    assert_eq!(
        d.views.iter().map(|v| (v.message, v.at)).collect::<Vec<_>>(),
        vec![(m1.id, t(5)), (m2.id, t(6))]
    );
    assert_eq!(store.draft(rec.id).unwrap().map(|d| d.reveal().to_owned()).as_deref(), Some("draft reply"));
    assert!(store.thread(ThreadId(3)).unwrap().is_none());
}

#[test]
fn search_matches_words_and_prefixes_and_ignores_query_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            w.insert_message(ThreadId(1), &message(1, 1, "Chest pain since Tuesday", None))?;
            w.insert_message(ThreadId(1), &message(2, 2, "Need my ramipril", Some("Ramipril 5mg capsules")))?;
            w.insert_message(ThreadId(1), &message(3, 3, "Café visit, crème", None))
        })
        .unwrap();
    let ids = |q: &str| store.search(q, 10).unwrap().iter().map(|h| h.message.0).collect::<Vec<_>>();
    assert_eq!(ids("chest"), vec![1]);
    assert_eq!(ids("rami"), vec![2]);
    assert_eq!(ids("CAPSULES ramipril"), vec![2]);
    assert_eq!(ids("cafe creme"), vec![3]);
    assert_eq!(ids("pain AND NOT \"x"), Vec::<u64>::new());
    assert_eq!(ids("\"chest\" OR"), Vec::<u64>::new());
    assert_eq!(ids("chest*)("), vec![1]);
    assert!(ids("  ").is_empty());
}

#[test]
fn retention_purges_long_closed_threads_and_gives_the_pages_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let path = dir.path().join("cache.sqlite3");
    let mut store = open::open(&path, Keying::Encrypted(&key)).unwrap();
    let day = 24 * 3600;
    store
        .write(|w| {
            w.upsert_patient(&patient("p-old", "Old Patient"))?;
            w.upsert_patient(&patient("p-new", "New Patient"))?;
            let mut old = thread(1, "p-old", Pool::Gp, false, None, 0);
            old.state = ThreadState::Closed;
            w.upsert_thread(&old, t(0))?;
            for i in 0..50 {
                w.insert_message(ThreadId(1), &message(100 + i, 0, &"ZQXOLDMARK ".repeat(100), None))?;
            }
            w.record_view(MessageId(100), &StaffId("gp-1".into()), t(1))?;
            w.save_draft(ThreadId(1), &FreeText::new("old draft"), t(1))?;
            let mut recent = thread(2, "p-new", Pool::Gp, false, None, 0);
            recent.state = ThreadState::Closed;
            w.upsert_thread(&recent, t(20 * day))?;
            w.insert_message(ThreadId(2), &message(200, 0, "recent", None))?;
            w.upsert_thread(&thread(3, "p-new", Pool::Gp, false, None, 0), t(0))?;
            w.insert_message(ThreadId(3), &message(300, 0, "open", None))
        })
        .unwrap();
    // Re-upserting a closed thread keeps its original close time.
    store
        .write(|w| {
            let mut old = thread(1, "p-old", Pool::Gp, false, None, 0);
            old.state = ThreadState::Closed;
            w.upsert_thread(&old, t(29 * day))
        })
        .unwrap();
    let report = store.purge_closed(RetentionPolicy::default(), t(31 * day)).unwrap();
    assert_eq!((report.threads, report.messages, report.patients), (1, 50, 1));
    assert!(report.pages_freed > 0, "{report:?}");
    assert!(store.thread(ThreadId(1)).unwrap().is_none());
    assert!(store.thread(ThreadId(2)).unwrap().is_some());
    assert!(store.thread(ThreadId(3)).unwrap().is_some());
    assert!(store.search("ZQXOLDMARK", 10).unwrap().is_empty());
    assert!(store.draft(ThreadId(1)).unwrap().is_none());
    // Nothing is due yet for the recent one.
    assert_eq!(store.purge_closed(RetentionPolicy::default(), t(31 * day)).unwrap().threads, 0);
    // Freed pages went back to the file system (none left on the free
    // list), and secure_delete zeroed the cells of pages still in use.
    let free: i64 = store.conn().query_row("PRAGMA freelist_count", [], |r| r.get(0)).unwrap();
    assert_eq!(free, 0);
    store.close().unwrap();
}

#[test]
fn store_errors_are_log_safe() {
    // Errors carry codes and kinds, never values: a failed insert of a
    // duplicate idempotency key does not echo the key.
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store.write(|w| w.enqueue(&outbox("SECRETKEYVALUE", b"x"))).unwrap();
    let err = store.write(|w| w.enqueue(&outbox("SECRETKEYVALUE", b"y"))).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("SECRETKEYVALUE"), "{shown}");
    assert!(matches!(err, StoreError::Sqlite { code: rusqlite::ErrorCode::ConstraintViolation, .. }));
}

#[test]
fn a_patients_first_details_are_pinned_and_a_difference_waits_for_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let id = sealbox_model::ids::PatientId("p1".to_owned());
    assert!(!store.write(|w| w.pin_patient(&patient("p1", "Ada"))).unwrap(), "first sight: pinned");
    assert!(
        !store.write(|w| w.pin_patient(&patient("p1", "Ada"))).unwrap(),
        "the same again: nothing to ask"
    );
    assert!(store.pending_patient_change(&id).unwrap().is_none());

    // Another name for the same patient: not applied, kept for a person.
    assert!(store.write(|w| w.pin_patient(&patient("p1", "Eve"))).unwrap());
    assert!(!store.write(|w| w.pin_patient(&patient("p1", "Eve"))).unwrap(), "asked once");
    assert_eq!(store.patient(&id).unwrap().unwrap().display_name.reveal(), "Ada");
    let (change, proposed) = store.pending_patient_change(&id).unwrap().unwrap();
    assert_eq!(proposed.display_name.reveal(), "Eve");

    // Confirmed: applied, and nothing waits any more.
    assert_eq!(store.write(|w| w.confirm_patient_change(change)).unwrap().as_deref(), Some("p1"));
    assert_eq!(store.patient(&id).unwrap().unwrap().display_name.reveal(), "Eve");
    assert!(store.pending_patient_change(&id).unwrap().is_none());
    assert_eq!(store.write(|w| w.confirm_patient_change(change)).unwrap(), None, "confirmed once");
    // Back to the old name later: asked again, never silently.
    assert!(store.write(|w| w.pin_patient(&patient("p1", "Ada"))).unwrap());
}

#[test]
fn sqlcipher_wipes_what_it_frees() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _key, _path) = new_store(dir.path());
    let on: String = store.conn().query_row("PRAGMA cipher_memory_security", [], |r| r.get(0)).unwrap();
    assert_eq!(on, "1", "decrypted pages must not outlive the lock in freed memory");
}

#[test]
fn the_latest_patient_message_of_each_thread_in_one_query() {
    use sealbox_model::ids::StaffId;
    use sealbox_model::message::{Author, Message, MessagePart};
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            for id in 1..=3 {
                w.upsert_thread(&thread(id, "p1", Pool::Gp, false, None, 0), t(0))?;
            }
            w.insert_message(ThreadId(1), &message(10, 5, "first question", None))?;
            w.insert_message(ThreadId(1), &message(11, 9, "newest words", Some("Ramipril 5mg")))?;
            // A clinician's later reply is not what the row previews.
            let reply = Message {
                id: MessageId(12),
                author: Author::Clinician(StaffId("gp-1".into())),
                received_at: t(20),
                parts: vec![MessagePart::FreeText(FreeText::new("our answer"))],
            };
            w.insert_message(ThreadId(1), &reply)?;
            w.insert_message(ThreadId(2), &message(20, 3, "only one", None))?;
            Ok(())
        })
        .unwrap();
    let latest =
        store.latest_patient_messages(&[ThreadId(1), ThreadId(2), ThreadId(3), ThreadId(99)]).unwrap();
    assert_eq!(latest.len(), 2, "thread 3 has no message; 99 is not cached");
    let one = &latest[&ThreadId(1)];
    assert_eq!((one.id, one.received_at), (MessageId(11), t(9)));
    assert_eq!(one.parts.len(), 2, "every part, in order");
    assert_eq!(one.preview(), "newest words");
    assert_eq!(latest[&ThreadId(2)].preview(), "only one");
    assert!(store.latest_patient_messages(&[]).unwrap().is_empty());
}

#[test]
fn patients_are_found_by_name_nhs_number_or_date_of_birth() {
    use sealbox_model::jiff::civil::Date;
    use sealbox_model::nhs_number::NhsNumber;
    use sealbox_model::patient::DateOfBirth;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let mut other = patient("p2", "Bea Jones");
    other.nhs_number = Some(NhsNumber::parse("4010232137").unwrap());
    other.date_of_birth = DateOfBirth::new(Date::new(1990, 12, 1).unwrap());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada Smith"))?;
            w.upsert_patient(&other)?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            w.upsert_thread(&thread(2, "p2", Pool::Gp, false, None, 0), t(0))?;
            Ok(())
        })
        .unwrap();
    let found = |text: &str| store.threads_of_patients_named(text, 10).unwrap();
    assert_eq!(found("jones"), vec![ThreadId(2)]);
    assert_eq!(found("401 023 2137"), vec![ThreadId(2)]);
    assert_eq!(found("943-476-5919"), vec![ThreadId(1)]);
    assert_eq!(found("1/12/1990"), vec![ThreadId(2)]);
    assert_eq!(found("17 March 1948"), vec![ThreadId(1)]);
    assert!(found("2 Dec 1990").is_empty());
}

#[test]
fn a_patient_who_gave_no_nhs_number_is_kept_without_one_and_gaining_one_is_a_change_to_confirm() {
    use sealbox_model::nhs_number::NhsNumber;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    let mut none = patient("p3", "Cal Reid");
    none.nhs_number = None;
    store
        .write(|w| {
            w.pin_patient(&none)?;
            w.upsert_thread(&thread(3, "p3", Pool::Gp, false, None, 0), t(0))?;
            Ok(())
        })
        .unwrap();
    let held = store.patient(&none.id).unwrap().unwrap();
    assert_eq!(held.nhs_number, None);
    // Nobody is found by an NHS number they never gave.
    assert!(store.threads_of_patients_named("943 476 5919", 10).unwrap().is_empty());
    // The same details again are no change; a number given later is one.
    assert!(!store.write(|w| w.pin_patient(&none)).unwrap());
    let mut given = none.clone();
    given.nhs_number = Some(NhsNumber::parse("9434765919").unwrap());
    assert!(store.write(|w| w.pin_patient(&given)).unwrap());
    let (_, change) = store.pending_patient_change(&none.id).unwrap().unwrap();
    assert_eq!(change.nhs_number, given.nhs_number);
}

#[test]
fn a_thread_closed_here_is_purged_from_its_close_and_a_reopened_one_is_kept() {
    use super::retention::RetentionPolicy;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _key, _path) = new_store(dir.path());
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            w.upsert_thread(&thread(2, "p1", Pool::Gp, false, None, 0), t(0))?;
            w.set_thread_state(ThreadId(1), &ThreadState::Closed, t(10))?;
            w.set_thread_state(ThreadId(2), &ThreadState::Closed, t(10))?;
            w.set_thread_state(ThreadId(2), &ThreadState::Triaged, t(20))
        })
        .unwrap();
    let days = |d: i64| t(10) + sealbox_model::jiff::SignedDuration::from_hours(24 * d);
    assert_eq!(store.purge_closed(RetentionPolicy::default(), days(29)).unwrap().threads, 0);
    assert_eq!(store.purge_closed(RetentionPolicy::default(), days(30)).unwrap().threads, 1);
    assert!(store.thread(ThreadId(1)).unwrap().is_none());
    assert!(store.thread(ThreadId(2)).unwrap().is_some(), "reopened: kept");
}
