//! The cache life cycle: mock keyring for the many edge cases, the real
//! Secret Service (gnome-keyring in a private D-Bus session, as started by
//! `cargo xtask test`) for the round trip, the marker scan and wipe.

use sealbox_crypto::keywrap;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::message::FreeText;
use sealbox_model::pool::Pool;
use std::io::BufRead;
use std::process::{Command, Stdio};

use super::*;
use crate::store::quarantine::QuarantineReason;
use crate::store::testutil::*;
use crate::vault::tests::mock_keyring;
use crate::vault::FixedKek;

fn cfg(dir: &Path) -> CacheConfig {
    let device = format!("dev-{}", u64::from_ne_bytes(random_bytes()));
    CacheConfig { data_dir: dir.join("data"), context: WrapContext::new("P81001", "gp-ali", device) }
}

const KEK: FixedKek = FixedKek([7; 32]);

/// The real OS keyring; fails (never skips) when there is none.
fn real_keyring() -> Keyring {
    Keyring::platform().unwrap_or_else(|e| {
        panic!(
            "this test needs a Secret Service: run `cargo xtask test`, or \
             `xvfb-run -a dbus-run-session -- sh -c 'printf sealbox | gnome-keyring-daemon --unlock \
             --components=secrets >/dev/null; cargo test --release -p sealbox-core'` ({e})"
        )
    })
}

fn seed(session: &mut Session) {
    session
        .store()
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            w.enqueue(&outbox("k1", b"unsent reply"))
        })
        .unwrap();
}

#[test]
fn enrol_lock_unlock_round_trip_with_the_mock_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session;
    seed(&mut s);
    s.lock().unwrap();
    assert!(matches!(enrol(&cfg, &keyring, &KEK, t(0)), Err(CacheError::AlreadyEnrolled)));
    let mut u = unlock(&cfg, &keyring, &KEK, t(1)).unwrap();
    assert!(u.quarantined.is_none());
    assert_eq!(u.session.store().outbox().unwrap().len(), 1);
}

#[test]
fn not_enrolled_and_wrong_kek_are_typed_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    assert!(matches!(unlock(&cfg, &keyring, &KEK, t(0)), Err(CacheError::NotEnrolled)));
    let mut s = enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session;
    seed(&mut s);
    s.lock().unwrap();
    let before = fingerprint(&cfg.data_dir);
    let record = keyring.load(&cfg.context).unwrap();
    let err = unlock(&cfg, &keyring, &FixedKek([8; 32]), t(1)).unwrap_err();
    assert!(matches!(err, CacheError::WrongKey), "{err:?}");
    assert_eq!(fingerprint(&cfg.data_dir), before);
    assert_eq!(keyring.load(&cfg.context).unwrap(), record);
}

#[test]
fn a_data_key_that_does_not_open_our_file_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session;
    seed(&mut s);
    s.lock().unwrap();
    // The record now holds another data key for the same file.
    let mut record = keyring.load(&cfg.context).unwrap().unwrap();
    let kek = KEK.kek(&record.device_salt).unwrap();
    record.wrapped = keywrap::wrap(&kek, &SecretKey::generate(), &cfg.context).unwrap();
    keyring.save(&cfg.context, &record).unwrap();
    let before = fingerprint(&cfg.data_dir);
    let err = unlock(&cfg, &keyring, &KEK, t(1)).unwrap_err();
    assert!(matches!(err, CacheError::DataKeyMismatch), "{err:?}");
    assert!(err.to_string().contains("untouched"));
    assert_eq!(fingerprint(&cfg.data_dir), before);
}

fn assert_quarantined_and_rebuilt(
    cfg: &CacheConfig,
    keyring: &Keyring,
    original: &[u8],
    reason: QuarantineReason,
) {
    let mut u = unlock(cfg, keyring, &KEK, t(3600)).unwrap();
    let q = u.quarantined.take().expect("quarantined");
    assert_eq!(q.reason, reason);
    let said = q.user_message();
    assert!(said.contains("fetched") && said.contains("practice hub"), "{said}");
    assert!(said.contains(".quarantined-20250615T160640Z"), "names the copy kept: {said}");
    let (from, to) = &q.moved[0];
    assert_eq!(from, &cfg.db_path());
    assert!(to.to_string_lossy().ends_with(".quarantined-20250615T160640Z"), "{}", to.display());
    assert!(std::fs::read(to).unwrap() == original, "moved aside intact, not deleted");
    // A fresh, empty cache is open; the next unlock uses it without fuss.
    assert_eq!(u.session.store().outbox().unwrap().len(), 0);
    u.session.lock().unwrap();
    assert!(unlock(cfg, keyring, &KEK, t(3601)).unwrap().quarantined.is_none());
}

#[test]
fn files_that_are_not_a_sealbox_cache_are_quarantined_with_the_time_and_rebuilt() {
    type Case = (&'static str, fn(&Path), QuarantineReason);
    let cases: [Case; 3] = [
        (
            "plain sqlite",
            |p| {
                rusqlite::Connection::open(p)
                    .unwrap()
                    .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
                    .unwrap()
            },
            QuarantineReason::NotSealbox,
        ),
        ("too short", |p| std::fs::write(p, b"oops").unwrap(), QuarantineReason::NotSealbox),
        (
            "random bytes",
            |p| std::fs::write(p, random_bytes::<8192>()).unwrap(),
            QuarantineReason::Unrecognised,
        ),
    ];
    for (name, make, reason) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
        enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session.lock().unwrap();
        std::fs::remove_file(cfg.db_path()).unwrap();
        make(&cfg.db_path());
        let original = std::fs::read(cfg.db_path()).unwrap();
        eprintln!("case: {name}");
        assert_quarantined_and_rebuilt(&cfg, &keyring, &original, reason);
    }
}

#[test]
fn a_cache_corrupted_after_page_one_is_quarantined_by_the_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session;
    s.store()
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            for i in 0..100 {
                w.insert_message(ThreadId(1), &message(i, 0, &"filler ".repeat(100), None))?;
            }
            Ok(())
        })
        .unwrap();
    s.lock().unwrap();
    let mut bytes = std::fs::read(cfg.db_path()).unwrap();
    for b in &mut bytes[4096 * 4 + 10..4096 * 4 + 60] {
        *b ^= 0x55;
    }
    std::fs::write(cfg.db_path(), &bytes).unwrap();
    // Opens (page 1 is fine), the check finds it, the file goes aside intact.
    let u = unlock(&cfg, &keyring, &KEK, t(0)).unwrap();
    assert!(u.quarantined.is_none());
    let mut u = u.verify_or_rebuild(&cfg, &keyring, t(3600)).unwrap();
    let q = u.quarantined.take().expect("quarantined");
    assert_eq!(q.reason, QuarantineReason::Corrupt);
    assert!(std::fs::read(&q.moved[0].1).unwrap() == bytes);
    assert_eq!(u.session.store().message_count().unwrap(), 0);
    u.session.lock().unwrap();
    let u = unlock(&cfg, &keyring, &KEK, t(3601)).unwrap();
    assert!(u.verify_or_rebuild(&cfg, &keyring, t(3601)).unwrap().quarantined.is_none());
}

#[test]
fn a_cache_made_with_another_key_by_another_install_is_quarantined() {
    // A SQLCipher file made with some other key (another install's cache
    // restored over ours): not ours, so set aside.
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session.lock().unwrap();
    std::fs::remove_file(cfg.db_path()).unwrap();
    let other = crate::store::open::open(&cfg.db_path(), Keying::Encrypted(&SecretKey::generate())).unwrap();
    other.close().unwrap();
    let original = std::fs::read(cfg.db_path()).unwrap();
    assert_quarantined_and_rebuilt(&cfg, &keyring, &original, QuarantineReason::Unrecognised);
}

#[test]
fn rekey_rotates_the_data_key_and_survives_an_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), mock_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0)).unwrap().session;
    seed(&mut s);
    let before = keyring.load(&cfg.context).unwrap().unwrap();
    let old_dk = SecretKey::from_slice(s.data_key.expose()).unwrap();
    s.rekey(&cfg, &keyring, &KEK).unwrap();
    assert!(s.data_key != old_dk);
    assert_eq!(s.store().outbox().unwrap().len(), 1);
    s.lock().unwrap();
    let after = keyring.load(&cfg.context).unwrap().unwrap();
    assert_ne!(after.wrapped, before.wrapped);
    assert_eq!(after.wrapped_next, None);
    // The old key no longer opens the file.
    assert!(matches!(
        crate::store::open::open(&cfg.db_path(), Keying::Encrypted(&old_dk)),
        Err(StoreError::CannotDecrypt)
    ));
    let mut u = unlock(&cfg, &keyring, &KEK, t(1)).unwrap();
    assert_eq!(u.session.store().outbox().unwrap().len(), 1);
    u.session.lock().unwrap();

    // Crash after the file was re-encrypted, before the record switched:
    // the record still names the old key as current and the new as next.
    let kek = KEK.kek(&after.device_salt).unwrap();
    let current = keywrap::unwrap(&kek, &after.wrapped, &cfg.context).unwrap();
    let mut store = crate::store::open::open(&cfg.db_path(), Keying::Encrypted(&current)).unwrap();
    let newer = SecretKey::generate();
    let pending =
        KeyRecord { wrapped_next: Some(keywrap::wrap(&kek, &newer, &cfg.context).unwrap()), ..after.clone() };
    keyring.save(&cfg.context, &pending).unwrap();
    store.rekey(&newer).unwrap();
    store.close().unwrap();
    let mut u = unlock(&cfg, &keyring, &KEK, t(2)).unwrap();
    assert_eq!(u.session.store().outbox().unwrap().len(), 1);
    assert!(u.session.data_key == newer);
    assert_eq!(keyring.load(&cfg.context).unwrap().unwrap().wrapped_next, None);

    // Crash before the file changed: the pending key is dropped.
    let r = keyring.load(&cfg.context).unwrap().unwrap();
    keyring
        .save(
            &cfg.context,
            &KeyRecord {
                wrapped_next: Some(keywrap::wrap(&kek, &SecretKey::generate(), &cfg.context).unwrap()),
                ..r
            },
        )
        .unwrap();
    u.session.lock().unwrap();
    let mut u = unlock(&cfg, &keyring, &KEK, t(3)).unwrap();
    assert_eq!(u.session.store().outbox().unwrap().len(), 1);
    assert_eq!(keyring.load(&cfg.context).unwrap().unwrap().wrapped_next, None);
}

#[test]
fn real_keyring_round_trip_and_wipe_reports_what_it_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), real_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0))
        .unwrap_or_else(|e| panic!("enrol against the real keyring: {e}"))
        .session;
    seed(&mut s);
    s.lock().unwrap();
    let mut u = unlock(&cfg, &keyring, &KEK, t(1)).unwrap();
    assert_eq!(u.session.store().outbox().unwrap().len(), 1);
    // Leave a quarantined copy around too: wipe takes it.
    let q = crate::store::quarantine::quarantine(
        &cfg.data_dir.join("cache.sqlite3-other"),
        QuarantineReason::Corrupt,
        t(0),
    );
    drop(q);
    std::fs::write(cfg.data_dir.join("cache.sqlite3.quarantined-20250101T000000Z"), b"old").unwrap();
    let report = wipe_device(&cfg, &keyring, Some(u.session)).unwrap();
    assert!(report.keyring_entry_removed);
    let names: Vec<String> =
        report.files_removed.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(names.contains(&"cache.sqlite3".to_owned()), "{names:?}");
    assert!(names.contains(&"cache.sqlite3.quarantined-20250101T000000Z".to_owned()), "{names:?}");
    assert!(all_files(&cfg.data_dir).is_empty(), "nothing left in the data dir");
    assert_eq!(keyring.load(&cfg.context).unwrap(), None);
    assert!(matches!(unlock(&cfg, &keyring, &KEK, t(2)), Err(CacheError::NotEnrolled)));
    // Wiping again is harmless and says nothing was there.
    assert_eq!(wipe_device(&cfg, &keyring, None).unwrap(), WipeReport::default());
}

/// Plants markers in a patient, a message (free text and medication), a
/// draft and an outbox payload; then scans every file under the data dir and
/// the keyring entry: no marker, and no data key (raw or hex), anywhere.
#[test]
fn no_marker_and_no_data_key_in_any_file_or_in_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, keyring) = (cfg(dir.path()), real_keyring());
    let mut s = enrol(&cfg, &keyring, &KEK, t(0))
        .unwrap_or_else(|e| panic!("enrol against the real keyring: {e}"))
        .session;
    let markers = ["MRKPATIENTQZ", "MRKMESSAGEQZ", "MRKMEDICATIONQZ", "MRKDRAFTQZ", "MRKOUTBOXQZ"];
    s.store()
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada MRKPATIENTQZ"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))?;
            for i in 0..20 {
                w.insert_message(
                    ThreadId(1),
                    &message(i, 0, "chest pain MRKMESSAGEQZ", Some("Ramipril MRKMEDICATIONQZ")),
                )?;
            }
            w.save_draft(ThreadId(1), &FreeText::new("draft MRKDRAFTQZ"), t(0))?;
            w.enqueue(&outbox("k1", b"reply MRKOUTBOXQZ"))?;
            w.record_view(sealbox_model::ids::MessageId(1), &StaffId("gp-ali".into()), t(1))
        })
        .unwrap();
    // The markers are really in there (so the scan below could fail).
    assert_eq!(s.store().search("MRKMESSAGEQZ", 50).unwrap().len(), 20);
    let dk = SecretKey::from_slice(s.data_key.expose()).unwrap();
    let secrets: Vec<Vec<u8>> = markers
        .iter()
        .map(|m| m.as_bytes().to_vec())
        .chain([dk.expose().to_vec(), dk.expose()[..16].to_vec(), dk.expose()[16..].to_vec()])
        .chain([dk.to_hex().as_bytes().to_vec(), dk.to_hex().to_uppercase().into_bytes()])
        .collect();
    let scan = |when: &str| {
        let files = all_files(dir.path());
        assert!(!files.is_empty());
        for (path, bytes) in &files {
            for (i, secret) in secrets.iter().enumerate() {
                assert!(!contains(bytes, secret), "{when}: secret #{i} found in {}", path.display());
            }
        }
        let entry = keyring.entry(&cfg.context).unwrap().get_secret().unwrap();
        for (i, secret) in secrets.iter().enumerate() {
            assert!(!contains(&entry, secret), "{when}: secret #{i} found in the keyring entry");
        }
        files.len()
    };
    let open_files = scan("unlocked, WAL live");
    assert!(open_files >= 2, "scanned the -wal/-shm too ({open_files} files)");
    s.store().checkpoint().unwrap();
    scan("after checkpoint");
    s.lock().unwrap();
    scan("locked");
    wipe_device(&cfg, &keyring, None).unwrap();
}

/// The child side of the crash test: writes transactions in a loop and
/// prints each committed id. A no-op unless started by the parent below.
#[test]
fn crash_child_writer() {
    let (Ok(dir), Ok(key_hex)) = (std::env::var("SEALBOX_CRASH_DIR"), std::env::var("SEALBOX_CRASH_KEY"))
    else {
        return;
    };
    let bytes: Vec<u8> =
        (0..32).map(|i| u8::from_str_radix(&key_hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    let key = SecretKey::from_slice(&bytes).unwrap();
    let path = Path::new(&dir).join("cache.sqlite3");
    let mut store = crate::store::open::open(&path, Keying::Encrypted(&key)).unwrap();
    let mut next = store.outbox().unwrap().len() as u64;
    let out = std::io::stdout();
    loop {
        let id = next;
        store
            .write(|w| {
                w.enqueue(&outbox(&format!("op-{id}"), &vec![b'x'; 3000]))?;
                w.insert_message(ThreadId(1), &message(id, 0, &format!("message {id} ").repeat(50), None))?;
                w.set_sync_cursor(&format!("{id}"), t(0))
            })
            .unwrap();
        use std::io::Write;
        let mut lock = out.lock();
        writeln!(lock, "committed {id}").unwrap();
        lock.flush().unwrap();
        next += 1;
    }
}

/// kill -9 a writer at random moments, 100 times: the cache always opens,
/// every transaction the child reported committed is there, and none is
/// half-applied (outbox, message and cursor move together).
#[test]
fn kill_dash_nine_mid_write_loses_no_committed_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate();
    let path = dir.path().join("cache.sqlite3");
    let mut store = crate::store::open::open(&path, Keying::Encrypted(&key)).unwrap();
    store
        .write(|w| {
            w.upsert_patient(&patient("p1", "Ada"))?;
            w.upsert_thread(&thread(1, "p1", Pool::Gp, false, None, 0), t(0))
        })
        .unwrap();
    store.close().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut committed: u64 = 0;
    for round in 0..100 {
        let wait_for = 1 + u64::from(random_bytes::<1>()[0] % 4);
        let mut child = Command::new(&exe)
            .args(["--exact", "cache::tests::crash_child_writer", "--nocapture", "--test-threads=1"])
            .env("SEALBOX_CRASH_DIR", dir.path())
            .env("SEALBOX_CRASH_KEY", key.to_hex().as_str())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < wait_for {
            let line = lines.next().expect("child ended early").unwrap();
            // libtest may print "test … ... " on the same line first.
            if let Some(at) = line.find("committed ") {
                let id: u64 = line[at + "committed ".len()..].trim().parse().unwrap();
                assert_eq!(id, committed, "round {round}: ids are consecutive");
                committed += 1;
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Anything the child committed after our last read is fine too; what
        // matters is that everything reported is there and nothing is half.
        let store = crate::store::open::open(&path, Keying::Encrypted(&key)).unwrap();
        let outbox = store.outbox().unwrap();
        let n = outbox.len() as u64;
        assert!(n >= committed, "round {round}: {n} in outbox, {committed} reported committed");
        assert_eq!(store.message_count().unwrap(), n, "round {round}: message and outbox move together");
        assert_eq!(store.sync_cursor().unwrap(), Some(format!("{}", n - 1)), "round {round}: cursor too");
        for (i, item) in outbox.iter().enumerate() {
            assert_eq!(item.idempotency_key, format!("op-{i}"));
        }
        committed = n;
        store.close().unwrap();
    }
}

#[test]
fn a_missing_secret_service_says_what_to_install() {
    // In a child process whose session bus address points nowhere.
    if std::env::var_os("SEALBOX_NO_KEYRING_CHILD").is_some() {
        let err = Keyring::platform().and_then(|k| k.load(&WrapContext::new("p", "u", "d")).map(|_| k));
        match err {
            Ok(_) => println!("RESULT ok"),
            Err(e) => println!("RESULT {e}"),
        }
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "cache::tests::a_missing_secret_service_says_what_to_install", "--nocapture"])
        .env("SEALBOX_NO_KEYRING_CHILD", "1")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sealbox-test-bus")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line =
        stdout.lines().find(|l| l.starts_with("RESULT")).unwrap_or_else(|| panic!("no result: {stdout}"));
    assert!(line.contains("no OS keyring is available"), "{line}");
    #[cfg(target_os = "linux")]
    assert!(line.contains("install and start gnome-keyring"), "{line}");
}

/// A locked Secret Service (gnome-keyring in its own private D-Bus session,
/// its login collection locked, no display for an unlock prompt): the error
/// says to unlock it.
#[cfg(target_os = "linux")]
#[test]
fn a_locked_secret_service_says_what_to_unlock() {
    if std::env::var_os("SEALBOX_LOCKED_CHILD").is_some() {
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is installed");
        {
            use std::io::Write;
            daemon.stdin.take().unwrap().write_all(b"locked-test").unwrap();
        }
        assert!(daemon.wait().unwrap().success());
        let keyring = Keyring::platform().unwrap();
        let ctx = WrapContext::new("p", "u", "d");
        keyring.load(&ctx).unwrap(); // reachable and unlocked so far
        let locked = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/aliases/default",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(locked.success());
        let record = KeyRecord {
            device_salt: [0; 32],
            db_salt: [0; 16],
            wrapped: vec![0; keywrap::WRAPPED_LEN],
            wrapped_next: None,
        };
        match keyring.save(&ctx, &record) {
            Ok(()) => println!("RESULT saved"),
            Err(e) => println!("RESULT {e}"),
        }
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for d in ["data", "run"] {
        std::fs::create_dir(tmp.path().join(d)).unwrap();
    }
    let out = Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "cache::tests::a_locked_secret_service_says_what_to_unlock", "--nocapture"])
        .env("SEALBOX_LOCKED_CHILD", "1")
        .env("XDG_DATA_HOME", tmp.path().join("data"))
        .env("XDG_RUNTIME_DIR", tmp.path().join("run"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("dbus-run-session is installed (package dbus)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.find("RESULT").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no result: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    eprintln!("locked keyring: {line}");
    assert!(line.contains("locked or refused access"), "{line}");
    assert!(line.contains("unlock the login keyring"), "{line}");
}
