//! A shared workstation (issue 24), against the real hub over loopback
//! HTTP with real SQLCipher caches and the real keyring: a GP and a
//! pharmacist enrolled on one machine, each with their own invite and key.
//! The key that answers picks the seat; each sees only their own pools;
//! while locked, blind notifications count what they together may read,
//! each thread once, and say nobody's name; a practice admin (only) removes one, audited, and the
//! others keep working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::KeyError;
use sealbox_core::notify::desktop::{NotificationSink, NotifyError};
use sealbox_core::notify::locked::{LockedRoom, LockedWatch};
use sealbox_core::notify::{BlindNotification, BlindNotifier};
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::room::{Room, SEATS_DIR};
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::role::Role;
use sealbox_sim::{send, SendOptions};
use tokio::sync::{mpsc, watch};

use support::desks::enrol_approved;
use support::login::invite;
use support::{request, start_hub};

/// The notifications a locked screen shows, handed to the test as they are shown.
struct Recorded(mpsc::UnboundedSender<BlindNotification>);

impl NotificationSink for Recorded {
    fn show(&self, n: &BlindNotification) -> Result<(), NotifyError> {
        let _ = self.0.send(n.clone());
        Ok(())
    }
}

/// "Sealbox: 3 new messages (1 urgent)" → 3.
fn count(n: &BlindNotification) -> u32 {
    n.summary().split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clinicians_share_a_workstation_each_opening_only_their_own_seat_with_their_own_key() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    // The GP enrolled first: the room's first seat is their data directory.
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let room_dir = gp.ws.dir().to_path_buf();
    let mut room = Room::open(room_dir.clone(), keyring.clone()).unwrap();
    assert_eq!(room.clinicians().len(), 1);

    // A pharmacist enrols on the same machine with their own invite and key.
    let mut pharmacist_key = SoftKey::new("1357");
    let code = invite(&hub.state, Role::Pharmacist);
    let desk = room.enrol(&hub.url, &code, "Room 4 PC", &mut pharmacist_key, now).await.unwrap();
    gp.approve(&hub, &desk).await;
    desk.lock("enrolled", now).await.unwrap();
    let names: Vec<Role> = room.clinicians().iter().map(|p| p.role).collect();
    assert_eq!(names, [Role::Gp, Role::Pharmacist]);
    assert!(room_dir.join(SEATS_DIR).is_dir(), "the second seat lives under clinicians/");

    // The same key cannot take a second seat.
    let again = invite(&hub.state, Role::Pharmacist);
    match room.enrol(&hub.url, &again, "Room 4 PC", &mut pharmacist_key, now).await {
        Err(WorkstationError::AlreadyEnrolled) => {}
        got => panic!("a key took a second seat: {:?}", got.map(|_| ())),
    }
    assert_eq!(room.clinicians().len(), 2, "a refused enrolment leaves no seat");

    let (question, refill) = (8_100u64, 8_110u64);
    let sent = [
        request(0, question, Category::ClinicalQuestion, "A lump in my neck for three weeks", &[]),
        request(0, refill, Category::RepeatPrescription, "My usual please", &["Amlodipine 5mg tablets"]),
    ];
    send::send(&hub.client, &hub.url, &hub.patients(), &sent, SendOptions::default()).await.unwrap();

    // The pharmacist's key opens the pharmacist's seat: refills, never the
    // clinical question (not in this seat's cache at all).
    let (seat, desk) = room.unlock(&mut pharmacist_key, now).await.unwrap();
    assert_eq!((seat, desk.profile().role), (1, Role::Pharmacist));
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.open_thread(ThreadId(refill), now).unwrap().is_some());
    assert!(
        desk.open_thread(ThreadId(question), now).unwrap().is_none(),
        "a pharmacist reads a clinical question"
    );
    let pharmacist_user = desk.profile().user_id.clone();
    let pharmacist_counts = desk.lock("switch", now).await.unwrap().expect("online: a counts-only token");

    // The GP's key opens the GP's seat, with both.
    gp.key.enter_pin("2468");
    let (seat, desk) = room.unlock(&mut gp.key, now).await.unwrap();
    assert_eq!((seat, desk.profile().role), (0, Role::Gp));
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.open_thread(ThreadId(question), now).unwrap().is_some());
    assert!(desk.open_thread(ThreadId(refill), now).unwrap().is_some());
    let gp_user = desk.profile().user_id.clone();
    let gp_counts = desk.lock("done", now).await.unwrap().expect("online: a counts-only token");

    // Locked: the GP's stream and the pharmacist's (the last to lock here),
    // each rendered by the hub for its role, read together. Four new
    // threads: a refill and a medication question both may read, a
    // clinical question (the pharmacist reads its medication part) and a
    // fit note only the GP may read. Four messages, each once: not the
    // pharmacist's three alone, not seven from adding both streams.
    let mut locked = LockedRoom::default();
    locked.keep(&gp_user, gp_counts);
    locked.keep(&pharmacist_user, pharmacist_counts);
    let streams = locked.streams();
    assert_eq!(streams.iter().map(|(_, r)| *r).collect::<Vec<_>>(), [Role::Pharmacist, Role::Gp]);
    let watch = LockedWatch::connect(&streams, Duration::from_secs(30)).await.unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let (shown_tx, mut shown) = mpsc::unbounded_channel();
    // Each reading of the clock is 31 s later: nothing waits for the
    // coalescing window.
    let tick = std::sync::atomic::AtomicI64::new(0);
    let clock = || {
        let n = tick.fetch_add(31, std::sync::atomic::Ordering::SeqCst);
        Timestamp::now().checked_add(SignedDuration::from_secs(n)).unwrap()
    };
    let mut notifier = BlindNotifier::new(true);
    let sink = Recorded(shown_tx);
    let watching = watch.run(&mut notifier, &sink, &clock, stop, Duration::from_secs(30));
    let driver = async {
        let later = [
            request(0, 8_200, Category::RepeatPrescription, "My inhaler please", &["Salbutamol inhaler"]),
            request(0, 8_210, Category::AdminFitNote, "A fit note for work", &[]),
            request(0, 8_220, Category::ClinicalQuestion, "Chest pain when I climb stairs", &[]),
            request(0, 8_230, Category::MedicationQuestion, "Can I take ibuprofen with this?", &[]),
        ];
        send::send(&hub.client, &hub.url, &hub.patients(), &later, SendOptions::default()).await.unwrap();
        let mut seen = Vec::new();
        while seen.iter().map(count).sum::<u32>() < 4 {
            let n = tokio::time::timeout(Duration::from_secs(30), shown.recv()).await.unwrap().unwrap();
            seen.push(n);
        }
        stop_tx.send(true).unwrap();
        seen
    };
    let (ran, seen) = tokio::join!(watching, driver);
    ran.unwrap();
    assert_eq!(seen.iter().map(count).sum::<u32>(), 4, "each new thread the two may read, once");
    for n in &seen {
        let text = format!("{} {}", n.summary(), n.body());
        assert!(
            !text.contains("Test Staff") && !text.contains(&gp_user) && !text.contains(&pharmacist_user),
            "{text}"
        );
    }

    // A key enrolled on no seat here is refused before any PIN is sent.
    let mut stranger = SoftKey::new("2468");
    match room.unlock(&mut stranger, now).await {
        Err(WorkstationError::Key(KeyError::WrongKey)) => {}
        got => panic!("a stranger's key opened a seat: {:?}", got.map(|(s, _)| s)),
    }

    // Failed PINs count against their own seat: the room names it as
    // waiting (the shell then tries no demo PIN against any seat), and the
    // GP's seat is not held back.
    let pharmacist = room.clinicians()[1].user_id.clone();
    assert_eq!(room.waiting_clinician(now), None);
    for _ in 0..5 {
        pharmacist_key.enter_pin("0000");
        assert!(room.unlock_seat_of_user(&pharmacist, &mut pharmacist_key, now).await.is_err());
    }
    assert_eq!(room.waiting_clinician(now), Some(pharmacist.clone()));
    assert!(room.unlock_wait(now).is_zero(), "one seat's failures hold the others back");
    pharmacist_key.enter_pin("1357");

    // A practice manager enrols here too; removing a colleague is theirs.
    let mut manager_key = SoftKey::new("8642");
    let code = invite(&hub.state, Role::PracticeAdmin);
    let desk = room.enrol(&hub.url, &code, "Room 4 PC", &mut manager_key, now).await.unwrap();
    gp.approve(&hub, &desk).await;
    desk.lock("enrolled", now).await.unwrap();

    // The GP may not remove the pharmacist; nobody removes themselves; a
    // name not enrolled here is said so. Nothing is removed by any of it.
    gp.key.enter_pin("2468");
    let (_, desk) = room.unlock(&mut gp.key, now).await.unwrap();
    match room.remove_by(&desk, &pharmacist, now) {
        Err(WorkstationError::MayNotRemove) => {}
        got => panic!("a GP removed a colleague: {:?}", got.map(|r| r.len())),
    }
    desk.lock("done", now).await.unwrap();
    manager_key.enter_pin("8642");
    let (_, manager) = room.unlock(&mut manager_key, now).await.unwrap();
    assert_eq!(manager.profile().role, Role::PracticeAdmin);
    let me = manager.profile().user_id.clone();
    assert!(matches!(room.remove_by(&manager, &me, now), Err(WorkstationError::MayNotRemove)));
    assert!(matches!(room.remove_by(&manager, "no-such-user", now), Err(WorkstationError::NotInRoom)));
    assert_eq!(room.clinicians().len(), 3);
    let members = room.members(manager.profile());
    assert!(members[0].you && !members[0].removable, "{members:?}");
    assert!(members[1..].iter().all(|m| !m.you && m.removable), "{members:?}");

    // The pharmacist leaves: the manager removes their seat, wiped with a
    // report and audited in the manager's chain; the GP's is untouched and
    // still opens.
    let removed = room.remove_by(&manager, &pharmacist, now).unwrap();
    {
        let shared = manager.store();
        let store = lock(&shared);
        let actions: Vec<String> = store.audit_events(20).unwrap().into_iter().map(|e| e.action).collect();
        assert!(actions.contains(&"remove_clinician".to_owned()), "{actions:?}");
    }
    manager.lock("done", now).await.unwrap();
    assert_eq!(removed.len(), 1);
    let report = &removed[0];
    assert!(report.keyring_entry_removed);
    let files: Vec<String> =
        report.files_removed.iter().filter_map(|p| p.file_name()?.to_str().map(str::to_owned)).collect();
    assert!(
        files.iter().any(|f| f == "cache.sqlite3") && files.iter().any(|f| f == "profile.json"),
        "{files:?}"
    );
    assert!(report.files_removed.iter().all(|p| !p.exists()));
    let reopened = Room::open(room_dir.clone(), keyring.clone()).unwrap();
    assert_eq!(
        reopened.clinicians().iter().map(|p| p.role).collect::<Vec<_>>(),
        [Role::Gp, Role::PracticeAdmin]
    );
    assert_eq!(
        std::fs::read_dir(room_dir.join(SEATS_DIR)).unwrap().count(),
        1,
        "the pharmacist's seat directory is gone, the manager's stays"
    );
    let mut room = reopened;
    match room.unlock(&mut pharmacist_key, now).await {
        Err(WorkstationError::Key(KeyError::WrongKey)) => {}
        got => panic!("a removed clinician's key opened a seat: {:?}", got.map(|(s, _)| s)),
    }
    gp.key.enter_pin("2468");
    let (_, desk) = room.unlock(&mut gp.key, now).await.unwrap();
    assert!(desk.open_thread(ThreadId(question), now).unwrap().is_some(), "the GP's cache was touched");
    desk.lock("done", now).await.unwrap();
    manager_key.enter_pin("8642");
    let (_, manager) = room.unlock(&mut manager_key, now).await.unwrap();
    manager.lock("done", now).await.unwrap();
    room.remove(&me).unwrap();
    gp.wipe(&keyring);
}
