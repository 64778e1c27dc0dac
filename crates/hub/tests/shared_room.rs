//! A shared workstation (issue 24), against the real hub over loopback
//! HTTP with real SQLCipher caches and the real keyring: a GP and a
//! pharmacist enrolled on one machine, each with their own invite and key.
//! The key that answers picks the seat; each sees only their own pools;
//! removing one leaves the other working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::KeyError;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::room::{Room, SEATS_DIR};
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::ids::ThreadId;
use sealbox_model::role::Role;
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::login::invite;
use support::{request, start_hub};

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
    gp.admin_key.enter_pin("1111");
    let admin = gp.admin.unlock(&mut gp.admin_key, now).await.unwrap();
    let devices = admin.hub().devices().await.unwrap();
    let device = devices.devices.iter().find(|d| d.id == desk.profile().device_id).unwrap();
    admin.approve_device(device).await.unwrap();
    desk.lock("enrolled", now).await.unwrap();
    admin.lock("done", now).await.unwrap();
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
    desk.lock("switch", now).await.unwrap();

    // The GP's key opens the GP's seat, with both.
    gp.key.enter_pin("2468");
    let (seat, desk) = room.unlock(&mut gp.key, now).await.unwrap();
    assert_eq!((seat, desk.profile().role), (0, Role::Gp));
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    assert!(desk.open_thread(ThreadId(question), now).unwrap().is_some());
    assert!(desk.open_thread(ThreadId(refill), now).unwrap().is_some());
    desk.lock("done", now).await.unwrap();

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

    // The pharmacist leaves: their seat is wiped with a report; the GP's is
    // untouched and still opens.
    let removed = room.remove(&pharmacist).unwrap();
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
    assert_eq!(reopened.clinicians().iter().map(|p| p.role).collect::<Vec<_>>(), [Role::Gp]);
    assert_eq!(
        std::fs::read_dir(room_dir.join(SEATS_DIR)).unwrap().count(),
        0,
        "the seat's directory is gone"
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
    gp.wipe(&keyring);
}
