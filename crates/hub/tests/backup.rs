//! `sealbox-hub backup` and `restore` (issue 26 point 2), through the real
//! binary: a backup taken while the hub serves and patients keep writing
//! holds every message accepted before it began and is a whole database,
//! for its owner only; it never overwrites a file; a restore refuses to
//! write over a database and refuses what is not a hub database; restored,
//! the hub serves the same messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sealbox_hub::config::{HubConfig, RatePolicy};
use sealbox_hub::{server, AppState};
use support::{message, post_patient, start_hub};

const BIN: &str = env!("CARGO_BIN_EXE_sealbox-hub");

fn hub_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn message_ids(db: &Path) -> BTreeSet<i64> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT message_id FROM envelopes").unwrap();
    let ids = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<BTreeSet<i64>, _>>().unwrap();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_patients_write_restores_into_a_hub_that_serves_the_same_messages() {
    let hub = Arc::new(start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await);
    for n in 0..20u64 {
        let (status, body) = post_patient(&hub, 0, &message(100 + n, 1_000 + n, b"before the backup")).await;
        assert_eq!(status, 201, "{body}");
    }
    let before: BTreeSet<i64> = (1_000..1_020).collect();

    // Patients go on writing while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (hub, stop) = (hub.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (status, _) =
                    post_patient(&hub, 1, &message(500 + n, 5_000 + n, b"during the backup")).await;
                assert_eq!(status, 201);
                n += 1;
            }
            n
        })
    };
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("hub-backup.sqlite3");
    let data_dir = hub.dir.path().to_str().unwrap().to_owned();
    let to = copy.to_str().unwrap().to_owned();
    let (ok, said) =
        tokio::task::spawn_blocking(move || hub_cli(&["backup", "--data-dir", &data_dir, "--to", &to]))
            .await
            .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written_during = writer.await.unwrap();
    assert!(ok, "{said}");
    assert!(said.contains("checked"), "{said}");
    let held = message_ids(&copy);
    assert!(held.is_superset(&before), "every message accepted before the backup is in it");
    println!("backup: {} messages held; {written_during} written while it ran", held.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600, "owner only");
    }

    // Never over a file; never over a database; never from a non-database.
    let data_dir = hub.dir.path().to_str().unwrap();
    let (ok, said) = hub_cli(&["backup", "--data-dir", data_dir, "--to", copy.to_str().unwrap()]);
    assert!(!ok && said.contains("exists already"), "{said}");
    let (ok, said) = hub_cli(&["restore", "--data-dir", data_dir, "--from", copy.to_str().unwrap()]);
    assert!(!ok && said.contains("exists already"), "{said}");
    let junk = out.path().join("junk.sqlite3");
    std::fs::write(&junk, [0x5a_u8; 8192]).unwrap();
    let elsewhere = out.path().join("elsewhere");
    let (ok, said) =
        hub_cli(&["restore", "--data-dir", elsewhere.to_str().unwrap(), "--from", junk.to_str().unwrap()]);
    assert!(!ok && said.contains("is not a Sealbox hub database"), "{said}");
    assert!(!elsewhere.join("hub.sqlite3").exists(), "nothing restored");

    // Restored into a new data directory, the hub serves the same messages.
    // The database is its owner's only, even from a copy others could read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let restored = out.path().join("restored");
    let (ok, said) =
        hub_cli(&["restore", "--data-dir", restored.to_str().unwrap(), "--from", copy.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains(&format!("{} messages", held.len())), "{said}");
    assert_eq!(message_ids(&restored.join("hub.sqlite3")), held);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(restored.join("hub.sqlite3")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the restored database is its owner's only");
    }
    let state = AppState::open_system(HubConfig::new(&restored)).unwrap();
    let running = server::start(state, "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    let health = support::client().get(format!("http://{}/v1/health", running.addr)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    // The patients' tokens are the backup's: one writes to the restored hub.
    let restored_hub =
        support::Hub { url: format!("http://{}", running.addr), ..Arc::into_inner(hub).unwrap() };
    let (status, body) = post_patient(&restored_hub, 0, &message(900, 9_000, b"after the restore")).await;
    assert_eq!(status, 201, "{body}");
    running.stop().await.unwrap();
}
