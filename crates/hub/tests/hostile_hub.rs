//! A hub that cannot read even when it is compromised (issue 21): a real
//! hub whose database the test edits as an attacker would, against real
//! workstations (SQLCipher caches, the keyring session) and the simulator.
//! Each edit is refused with an error naming what failed, and nothing is
//! sealed to the attacker's key (checked on the envelopes themselves).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::account::pool_keys::{seal, HeldPoolKeys};
use sealbox_core::account::practice_key::{PinnedBy, PracticeKey, TrustError};
use sealbox_core::key::soft::SoftKey;
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Workstation, WorkstationError};
use sealbox_crypto::directory::{fingerprint, DirectoryError, Entry, Statement};
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::envelope::{open_envelope, RecipientId};
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_hub::config::RatePolicy;
use sealbox_hub::relay::channels;
use sealbox_model::hub_api::{PracticeFile, StatementRecord};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::invite::InviteText;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_sim::read_replies;
use sealbox_sim::send::{self, SendOptions};
use sealbox_sim::traffic::{self, PlannedMessage};
use sealbox_sim::SimError;

use support::desks::{enrol_approved, Enrolled};
use support::login::invite;
use support::{start_hub, Hub};

fn keyring() -> Keyring {
    Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)")
}

/// A practice set up as it is for real, and a patients' file issued after it
/// (so it names the practice key).
async fn practice(dir: &std::path::Path) -> (Hub, Enrolled, PracticeFile) {
    let hub = start_hub(0, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let enrolled = enrol_approved(&hub, &keyring(), dir, Role::Gp).await;
    let now = hub.state.now();
    let file = hub.state.db.call_blocking(move |c| channels::issue(c, 3, now)).unwrap();
    assert!(file.practice_key.is_some(), "issued after set-up, the file names the practice key");
    (hub, enrolled, file)
}

/// Every envelope the hub holds, as stored.
fn envelopes(hub: &Hub) -> Vec<Vec<u8>> {
    hub.state
        .db
        .sqlite_blocking(|c| {
            let mut stmt = c.prepare("SELECT body FROM envelopes ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_key_swapped_at_the_hub_is_never_sealed_to() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let practice_id = file.practice_id.clone();

    // The attacker puts its own key in the hub's list of pool keys.
    let attacker = StaticSecret::from([0x5A; 32]);
    let attacker_public = PublicKey::from(&attacker).as_bytes().to_vec();
    hub.state
        .db
        .sqlite_blocking(move |c| c.execute("UPDATE pool_keys SET x25519_public = ?1", [attacker_public]))
        .unwrap();
    let admin = e.admin.profile().unwrap().clone();
    assert_eq!(admin.practice_key.as_ref().unwrap().pinned_by, PinnedBy::OwnKey);

    // Patients write: the simulator takes the keys from the signed directory.
    let plan = traffic::plan(21, 3, 12);
    let summary = send::send(&hub.client, &hub.url, &file, &plan, SendOptions::default()).await.unwrap();
    assert_eq!(summary.accepted, plan.len());
    let sealed = envelopes(&hub);
    assert_eq!(sealed.len(), plan.len());
    let thief = PoolKeyring::new(practice_id.clone(), Pool::ALL.iter().map(|p| (*p, attacker.clone())));
    for body in &sealed {
        assert!(!matches!(thief.open(body), Ok(Some(_))), "an envelope opened with the attacker's key");
    }

    // The GP's workstation unlocks (its own pool key is the signed one),
    // opens every message, and seals its reply to the directory's keys for
    // every pool that may read it, not to the swapped list.
    let now = hub.state.now();
    e.key.enter_pin("2468");
    let desk = e.ws.unlock(&mut e.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    let pulled = engine.pull(&desk.store(), now).await.unwrap();
    assert_eq!(pulled.applied.messages, plan.len(), "the GP opened every message");
    desk.reply(plan[0].thread_id, "Please book a review with the practice nurse.", now).unwrap();
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "{sent:?}");
    let sealed = envelopes(&hub);
    assert_eq!(sealed.len(), plan.len() + 1, "the reply reached the hub");
    let reply = sealed.last().unwrap();
    assert!(!matches!(thief.open(reply), Ok(Some(_))), "the reply opened with the attacker's key");
    let gp = HeldPoolKeys::load(&lock(&desk.store())).unwrap().keyring(&practice_id);
    assert!(matches!(gp.open(reply), Ok(Some(_))), "the real GP pool key opens the reply");
    desk.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_key_the_hub_seals_to_a_device_itself_is_refused_at_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let device = e.ws.profile().unwrap().device_id.clone();

    // The hub seals a GP-pool key of its own to the GP's device public key
    // (anyone can seal to a public key) in place of the admin's.
    let device_public: Vec<u8> = {
        let id = device.clone();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.query_row("SELECT x25519_public FROM devices WHERE id = ?1", [id], |r| r.get(0))
            })
            .unwrap()
    };
    let device_public = PublicKey::from(<[u8; 32]>::try_from(device_public.as_slice()).unwrap());
    let attacker = StaticSecret::from([0x6B; 32]);
    let blob = seal(&file.practice_id, &device, &device_public, Pool::Gp, 1, &attacker).unwrap();
    let swap = |sealed: Vec<u8>| {
        let device = device.clone();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.execute(
                    "UPDATE device_pool_keys SET sealed = ?1 WHERE device_id = ?2 AND pool = 'gp'",
                    (sealed, device),
                )
            })
            .unwrap()
    };
    let honest: Vec<u8> = {
        let id = device.clone();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.query_row(
                    "SELECT sealed FROM device_pool_keys WHERE device_id = ?1 AND pool = 'gp'",
                    [id],
                    |r| r.get(0),
                )
            })
            .unwrap()
    };
    swap(blob.sealed.0.clone());

    let now = hub.state.now();
    e.key.enter_pin("2468");
    let err = e.ws.unlock(&mut e.key, now).await.unwrap_err();
    assert!(
        matches!(err, WorkstationError::Trust(TrustError::UnvouchedPoolKey { pool: "gp", version: 1 })),
        "{err:?}"
    );
    assert!(err.to_string().contains("does not vouch for"), "{err}");

    // The refusal is in the GP's audit chain, seen once the hub is honest again.
    swap(honest);
    e.key.enter_pin("2468");
    let desk = e.ws.unlock(&mut e.key, now).await.unwrap();
    let actions: Vec<String> =
        lock(&desk.store()).audit_events(20).unwrap().into_iter().map(|a| a.action).collect();
    assert!(actions.contains(&"trust_refused:unvouched_pool_key".to_owned()), "{actions:?}");
    desk.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_statement_or_another_practice_key_is_refused_by_workstation_and_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let practice_id = file.practice_id.clone();
    let now = hub.state.now();

    // 1. An unsigned device added to the chain by the hub (signed with a key
    //    of its own, in the chain's next place).
    let (head_seq, head_json): (i64, String) = hub
        .state
        .db
        .sqlite_blocking(|c| {
            c.query_row("SELECT seq, statement FROM directory ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .unwrap();
    let head: StatementRecord = serde_json::from_str(&head_json).unwrap();
    let head = Statement::try_from(&head).unwrap();
    let evil = SigningKey::from_bytes(&[0x66; 32]);
    let rogue = Statement::sign(
        &evil,
        &practice_id,
        (head_seq as u64, head.hash(&practice_id)),
        Entry::Device {
            device: "dev-rogue".into(),
            staff: "staff-rogue".into(),
            role: "gp".into(),
            x25519: [0x77; 32],
            ed25519: [0x78; 32],
        },
    );
    let rogue_json = serde_json::to_string(&StatementRecord::from(&rogue)).unwrap();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute(
                "INSERT INTO directory (seq, statement, added_by_device, added_at_us) VALUES (?1, ?2, 'hub', 0)",
                (head_seq + 1, rogue_json),
            )
        })
        .unwrap();
    e.key.enter_pin("2468");
    let err = e.ws.unlock(&mut e.key, now).await.unwrap_err();
    let seq = head_seq as u64 + 1;
    assert!(
        matches!(&err, WorkstationError::Trust(TrustError::Refused(DirectoryError::BadSignature { seq: s })) if *s == seq),
        "{err:?}"
    );
    let plan = traffic::plan(22, 3, 3);
    let sim = send::send(&hub.client, &hub.url, &file, &plan, SendOptions::default()).await.unwrap_err();
    assert!(matches!(sim, SimError::Untrusted(_)), "{sim:?}");
    assert!(sim.to_string().contains("not signed by the practice key"), "{sim}");
    assert!(envelopes(&hub).is_empty(), "nothing was sent");

    // 2. The hub presents a practice key of its own (and could re-sign the
    //    whole chain with it): the pinned key is not the served one.
    let evil_public = evil.verifying_key().as_bytes().to_vec();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("DELETE FROM directory WHERE added_by_device = 'hub'", [])?;
            c.execute("UPDATE practice_signing_key SET ed25519_public = ?1", [evil_public])
        })
        .unwrap();
    e.key.enter_pin("2468");
    let err = e.ws.unlock(&mut e.key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Trust(TrustError::KeyChanged)), "{err:?}");
    assert!(err.to_string().contains("different practice key"), "{err}");
    let sim = send::send(&hub.client, &hub.url, &file, &plan, SendOptions::default()).await.unwrap_err();
    assert!(sim.to_string().contains("different practice key"), "{sim}");
    assert!(envelopes(&hub).is_empty(), "nothing was sent");
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_carrying_the_practice_fingerprint_pins_only_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, e, _file) = practice(dir.path()).await;
    let now = hub.state.now();
    let admin_pin = e.admin.profile().unwrap().practice_key.clone().unwrap();
    let right = admin_pin.fingerprint().unwrap();
    let wrong = fingerprint(&SigningKey::from_bytes(&[9; 32]).verifying_key());

    // A fingerprint the hub's key does not have: refused, nothing written.
    let mut ws = Workstation::open(dir.path().join("nurse"), keyring()).unwrap();
    let code = InviteText::format(&invite(&hub.state, Role::Nurse), &wrong);
    let err = ws.enrol(&hub.url, &code, "Room 4 PC", &mut SoftKey::new("1357"), now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Trust(TrustError::FingerprintMismatch)), "{err:?}");
    assert!(ws.profile().is_none());
    assert!(!ws.dir().join("profile.json").exists(), "no enrolment was written");

    // The admin's fingerprint: pinned as given by the invite.
    let mut ws = Workstation::open(dir.path().join("nurse2"), keyring()).unwrap();
    let code = InviteText::format(&invite(&hub.state, Role::Nurse), &right);
    let desk = ws.enrol(&hub.url, &code, "Room 4 PC", &mut SoftKey::new("1357"), now).await.unwrap();
    let pinned = desk.profile().practice_key.clone().unwrap();
    assert_eq!((pinned.pinned_by, &pinned.ed25519_public), (PinnedBy::Invite, &admin_pin.ed25519_public));
    assert_eq!(desk.practice_fingerprint().as_deref(), Some(right.as_str()));
    desk.lock("done", now).await.unwrap();

    // `sealbox-hub invite` prints the code with the fingerprint.
    let printed = sealbox_hub::auth::cli::invite(&hub.state, Role::Nurse, "Nurse Two", None).unwrap();
    assert!(printed.ends_with(&format!("/{right}")), "{printed}");
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patients_key_swapped_at_the_hub_gets_no_reply_sealed_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let plan = traffic::plan(23, 3, 6);
    send::send(&hub.client, &hub.url, &file, &plan, SendOptions::default()).await.unwrap();
    let now = hub.state.now();
    e.key.enter_pin("2468");
    let desk = e.ws.unlock(&mut e.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();

    // The attacker names its own reply key for the patient of a thread; the
    // patient writes again, so the hub serves the thread's record anew.
    let first = plan[0].clone();
    let patient = file.patients[first.patient].patient_id.0.clone();
    let attacker = StaticSecret::from([0x7C; 32]);
    let attacker_public = PublicKey::from(&attacker).as_bytes().to_vec();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute(
                "UPDATE patient_channels SET x25519_public = ?1 WHERE patient_id = ?2",
                (attacker_public, patient),
            )
        })
        .unwrap();
    let again = PlannedMessage { message_id: MessageId(first.message_id.0 + 1_000_000), ..first.clone() };
    send::send(&hub.client, &hub.url, &file, &[again], SendOptions::default()).await.unwrap();
    let pulled = engine.pull(&desk.store(), now).await.unwrap();
    assert_eq!(pulled.applied.patient_key_changes, 1, "the changed key is kept aside, not applied");

    // The reply goes to the key pinned at first sight: the patient reads it,
    // the attacker's key opens nothing.
    desk.reply(first.thread_id, "We have received your message.", now).unwrap();
    sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    let reply = envelopes(&hub).pop().unwrap();
    assert!(open_envelope(&reply, RecipientId::Patient, &attacker, None).is_err(), "sealed to the attacker");
    let read = read_replies::read_replies(&hub.client, &hub.url, &file).await.unwrap();
    assert!(
        read.iter().any(|r| r.thread_id == first.thread_id.0 && r.text.contains("We have received")),
        "{}",
        read.len()
    );
    desk.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_the_hub_writes_itself_is_not_shown_to_the_patient() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let plan = traffic::plan(29, 3, 3);
    send::send(&hub.client, &hub.url, &file, &plan, SendOptions::default()).await.unwrap();
    let now = hub.state.now();
    e.key.enter_pin("2468");
    let desk = e.ws.unlock(&mut e.key, now).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    let first = plan[0].clone();
    desk.reply(first.thread_id, "We have received your message.", now).unwrap();
    sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    let read = read_replies::read_replies(&hub.client, &hub.url, &file).await.unwrap();
    assert_eq!(read.len(), 1, "the GP's reply, signed by an approved device, is read");

    // The compromised hub seals a "reply" of its own to the patient's key
    // (which it holds) and signs it with a key of its own.
    let patient = &file.patients[first.patient];
    let x = StaticSecret::from(<[u8; 32]>::try_from(patient.x25519_secret.as_slice()).unwrap());
    let part = sealbox_model::message::MessagePart::FreeText(sealbox_model::message::FreeText::new(
        "Your results are fine, no need to call. FORGED-BY-THE-HUB",
    ))
    .to_sealed_plaintext()
    .unwrap();
    let to =
        [sealbox_crypto::envelope::Recipient { id: RecipientId::Patient, public_key: PublicKey::from(&x) }];
    let input = [sealbox_crypto::envelope::PartInput {
        kind: sealbox_crypto::envelope::PartKind::FreeText,
        plaintext: &part,
        recipients: &to,
    }];
    let fields = sealbox_crypto::envelope::EnvelopeFields {
        practice: &file.practice_id,
        thread_id: first.thread_id.0,
        message_id: 9_000_000_777,
    };
    let forged = sealbox_crypto::envelope::seal_envelope(
        &mut rand::rngs::OsRng,
        &SigningKey::from_bytes(&[0x66; 32]),
        &fields,
        &input,
    )
    .unwrap();
    let staff = sealbox_model::actor::StaffRef::new(desk.profile().user_id.clone(), Role::Gp);
    hub.state
        .db
        .call_blocking(|c| {
            sealbox_hub::relay::store::insert_envelope(
                c,
                first.thread_id,
                MessageId(9_000_000_777),
                Some(&staff),
                &forged,
                now,
                false,
            )
        })
        .unwrap();
    let err = read_replies::read_replies(&hub.client, &hub.url, &file).await.unwrap_err();
    assert!(
        matches!(&err, SimError::Open(why) if why.contains("not signed by a computer the practice approved")),
        "{err}"
    );
    desk.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_showing_devices_two_histories_is_caught_by_both() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let practice_id = file.practice_id.clone();
    let now = hub.state.now();
    e.admin_key.enter_pin("1111");
    let admin = e.admin.unlock(&mut e.admin_key, now).await.unwrap();
    let key = PracticeKey::load(&lock(&admin.store())).unwrap().expect("the admin holds the practice key");
    let spare = |byte: u8| Entry::Device {
        device: "dev-spare".into(),
        staff: "staff-spare".into(),
        role: "gp".into(),
        x25519: [byte; 32],
        ed25519: [byte; 32],
    };
    let signed = key.append(admin.hub(), &practice_id, vec![spare(0x11)]).await.unwrap();
    let (seq, _) = signed.head();

    // The GP verifies the chain and posts its signed head.
    e.key.enter_pin("2468");
    e.ws.unlock(&mut e.key, now).await.unwrap().lock("seen", now).await.unwrap();
    let heads: Vec<i64> = hub
        .state
        .db
        .sqlite_blocking(|c| {
            c.prepare("SELECT seq FROM directory_heads")?.query_map([], |r| r.get(0))?.collect()
        })
        .unwrap();
    assert!(heads.contains(&(seq as i64)), "{heads:?}");

    // Whoever has the practice key (stolen with the admin's workstation)
    // and the hub's database shows everyone else another last statement.
    let stored: String = hub
        .state
        .db
        .sqlite_blocking(move |c| {
            c.query_row("SELECT statement FROM directory WHERE seq = ?1", [seq as i64], |r| r.get(0))
        })
        .unwrap();
    let prev = Statement::try_from(&serde_json::from_str::<StatementRecord>(&stored).unwrap()).unwrap().prev;
    let forked = key.sign(&practice_id, (seq - 1, prev), spare(0x22));
    let forked = serde_json::to_string(&StatementRecord::from(&forked)).unwrap();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("UPDATE directory SET statement = ?1 WHERE seq = ?2", (forked, seq as i64))
        })
        .unwrap();

    // The GP sees its own history rewritten.
    e.key.enter_pin("2468");
    let err = e.ws.unlock(&mut e.key, now).await.unwrap_err();
    assert!(
        matches!(&err, WorkstationError::Trust(TrustError::Refused(DirectoryError::Fork { seq: s })) if *s == seq),
        "{err:?}"
    );
    assert!(err.to_string().contains("forked"), "{err}");

    // A pharmacist who never saw the first history is caught by the GP's
    // signed head.
    let mut ws = Workstation::open(dir.path().join("pharmacist"), keyring()).unwrap();
    let mut pharmacist_key = SoftKey::new("8642");
    let code = invite(&hub.state, Role::Pharmacist);
    let desk = ws.enrol(&hub.url, &code, "Dispensary PC", &mut pharmacist_key, now).await.unwrap();
    let id = desk.profile().device_id.clone();
    let device = admin.hub().devices().await.unwrap().devices.into_iter().find(|d| d.id == id).unwrap();
    admin.approve_device(&device).await.unwrap();
    desk.lock("enrolled", now).await.unwrap();
    pharmacist_key.enter_pin("8642");
    let err = ws.unlock(&mut pharmacist_key, now).await.unwrap_err();
    assert!(
        matches!(&err, WorkstationError::Trust(TrustError::Refused(DirectoryError::Fork { seq: s })) if *s == seq),
        "{err:?}"
    );
    admin.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_admin_holds_the_practice_key_only_as_pinned_and_carries_on_approving() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let practice_id = file.practice_id.clone();
    let now = hub.state.now();
    e.admin_key.enter_pin("1111");
    let first = e.admin.unlock(&mut e.admin_key, now).await.unwrap();
    let fingerprint = first.practice_fingerprint().unwrap();

    // Two more admins enrol with invites naming the practice key; the first
    // approves both (signed) and shares the key with them.
    let enrol_admin = |name: &'static str, pin: &'static str| {
        let (hub, dir, fingerprint) = (&hub, dir.path().to_path_buf(), fingerprint.clone());
        async move {
            let mut ws = Workstation::open(dir.join(name), keyring()).unwrap();
            let mut key = SoftKey::new(pin);
            let code = InviteText::format(&invite(&hub.state, Role::PracticeAdmin), &fingerprint);
            let desk = ws.enrol(&hub.url, &code, name, &mut key, now).await.unwrap();
            let id = desk.profile().device_id.clone();
            desk.lock("enrolled", now).await.unwrap();
            (ws, key, id)
        }
    };
    let (mut second_ws, mut second_key, second_id) = enrol_admin("second", "2222").await;
    let (mut third_ws, mut third_key, third_id) = enrol_admin("third", "3333").await;
    let devices = first.hub().devices().await.unwrap().devices;
    for id in [&second_id, &third_id] {
        first.approve_device(devices.iter().find(|d| &d.id == id).unwrap()).await.unwrap();
        first.share_practice_key(id).await.unwrap();
    }

    // Never to a clinician's device: refused here, and by the hub over HTTP.
    let gp_id = e.ws.profile().unwrap().device_id.clone();
    let err = first.share_practice_key(&gp_id).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Trust(TrustError::NotAnAdminDevice)), "{err:?}");
    let body = serde_json::json!({ "sealed": "AAAA" });
    let other_admin = support::login::enrol_and_login(&hub.url, &hub.state, Role::PracticeAdmin).await;
    let url = format!("{}/v1/devices/{gp_id}/practice-key", hub.url);
    let (status, problem) = support::login::put(&hub.client, url, &other_admin.token, &body).await;
    assert_eq!((status, problem["type"].as_str()), (409, Some("urn:sealbox:problem:not_an_admin_device")));

    // The second admin keeps the pinned key and approves a nurse with it.
    second_key.enter_pin("2222");
    let second = second_ws.unlock(&mut second_key, now).await.unwrap();
    let held = PracticeKey::load(&lock(&second.store())).unwrap().expect("the shared key is kept");
    assert_eq!(held.fingerprint(), fingerprint);
    let mut nurse_ws = Workstation::open(dir.path().join("nurse"), keyring()).unwrap();
    let mut nurse_key = SoftKey::new("1357");
    let nurse = nurse_ws
        .enrol(&hub.url, &invite(&hub.state, Role::Nurse), "Room 4 PC", &mut nurse_key, now)
        .await
        .unwrap();
    let nurse_id = nurse.profile().device_id.clone();
    nurse.lock("enrolled", now).await.unwrap();
    let devices = second.hub().devices().await.unwrap().devices;
    second.approve_device(devices.iter().find(|d| d.id == nurse_id).unwrap()).await.unwrap();
    nurse_key.enter_pin("1357");
    let nurse = nurse_ws.unlock(&mut nurse_key, now).await.unwrap();
    assert_eq!(nurse.pools(), vec![Pool::Nurse], "the nurse's pool key, vouched for");
    nurse.lock("done", now).await.unwrap();
    second.lock("done", now).await.unwrap();

    // The hub puts a key of its own in the third admin's share: not kept.
    let third_x25519: Vec<u8> = {
        let id = third_id.clone();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.query_row("SELECT x25519_public FROM devices WHERE id = ?1", [id], |r| r.get(0))
            })
            .unwrap()
    };
    let forged =
        PracticeKey::generate().seal_for(&practice_id, &third_id, &third_x25519.try_into().unwrap()).unwrap();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("UPDATE practice_key_shares SET sealed = ?1 WHERE device_id = ?2", (forged, third_id))
        })
        .unwrap();
    third_key.enter_pin("3333");
    let err = third_ws.unlock(&mut third_key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Trust(TrustError::SharedKeyDiffers)), "{err:?}");
    first.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_device_rotates_its_pools_keys_so_it_cannot_open_what_comes_after() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, mut e, file) = practice(dir.path()).await;
    let practice_id = file.practice_id.clone();
    let now = hub.state.now();
    e.admin_key.enter_pin("1111");
    let mut admin = e.admin.unlock(&mut e.admin_key, now).await.unwrap();

    // A second GP, approved.
    let mut gp2_ws = Workstation::open(dir.path().join("gp2"), keyring()).unwrap();
    let mut gp2_key = SoftKey::new("4321");
    let gp2 =
        gp2_ws.enrol(&hub.url, &invite(&hub.state, Role::Gp), "Room 6 PC", &mut gp2_key, now).await.unwrap();
    let gp2_id = gp2.profile().device_id.clone();
    gp2.lock("enrolled", now).await.unwrap();
    let devices = admin.hub().devices().await.unwrap().devices;
    admin.approve_device(devices.iter().find(|d| d.id == gp2_id).unwrap()).await.unwrap();

    // Patients write (to the GP pool's key, version 1); the first GP's
    // workstation holds that key: a copy of it leaves with the device.
    let before = traffic::plan(31, 3, 9);
    send::send(&hub.client, &hub.url, &file, &before, SendOptions::default()).await.unwrap();
    e.key.enter_pin("2468");
    let gp1 = e.ws.unlock(&mut e.key, now).await.unwrap();
    let gp1_device = gp1.profile().device_id.clone();
    let taken = HeldPoolKeys::load(&lock(&gp1.store())).unwrap().keyring(&practice_id);
    gp1.lock("done", now).await.unwrap();

    // The admin revokes it: the GP pool's key is rotated.
    let (cut, _) = admin.directory().await.unwrap().head();
    admin.revoke_device(&gp1_device).await.unwrap();
    let dir_now = admin.directory().await.unwrap();
    assert!(dir_now.device(&gp1_device).unwrap().revoked);
    assert_eq!(dir_now.pool_key(Pool::Gp).map(|(v, _)| v), Some(2), "the GP pool's key, version 2");
    assert_eq!(dir_now.pool_key(Pool::Nurse).map(|(v, _)| v), Some(1), "other pools unchanged");

    // Patients write again: sealed to version 2, which the taken key cannot open.
    let sealed_before = envelopes(&hub).len();
    let after: Vec<PlannedMessage> = traffic::plan(32, 3, 9)
        .into_iter()
        .map(|m| PlannedMessage {
            thread_id: ThreadId(m.thread_id.0 + 5_000_000),
            message_id: MessageId(m.message_id.0 + 5_000_000),
            ..m
        })
        .collect();
    send::send(&hub.client, &hub.url, &file, &after, SendOptions::default()).await.unwrap();
    let sealed = envelopes(&hub);
    assert_eq!(sealed.len(), sealed_before + after.len());
    for body in &sealed[sealed_before..] {
        assert!(!matches!(taken.open(body), Ok(Some(_))), "the revoked device's key opened a later message");
    }
    assert!(
        sealed[..sealed_before].iter().any(|b| matches!(taken.open(b), Ok(Some(_)))),
        "it did open the earlier ones"
    );

    // The other GP reads all of them: version 1 for the earlier, 2 for the later.
    gp2_key.enter_pin("4321");
    let gp2 = gp2_ws.unlock(&mut gp2_key, now).await.unwrap();
    let pulled = gp2.engine().unwrap().pull(&gp2.store(), now).await.unwrap();
    assert_eq!(pulled.applied.messages, before.len() + after.len(), "{pulled:?}");
    assert_eq!(pulled.applied.unreadable, 0, "{pulled:?}");
    gp2.lock("done", now).await.unwrap();

    // The hub rolls the directory back to before the rotation (so senders
    // would seal to the key the revoked device holds): the simulator and the
    // other GP both refuse, seeing devices' signed heads beyond it.
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("DELETE FROM directory WHERE seq > ?1", [cut as i64])?;
            c.execute("DELETE FROM pool_keys WHERE key_version > 1", [])
        })
        .unwrap();
    let again = vec![PlannedMessage { message_id: MessageId(after[0].message_id.0 + 1), ..after[0].clone() }];
    let refused = send::send(&hub.client, &hub.url, &file, &again, SendOptions::default()).await.unwrap_err();
    assert!(refused.to_string().contains("older key directory"), "{refused}");
    assert_eq!(envelopes(&hub).len(), sealed.len(), "nothing was sent");
    gp2_key.enter_pin("4321");
    let err = gp2_ws.unlock(&mut gp2_key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::Trust(TrustError::RolledBack { .. })), "{err:?}");

    // And the revoked workstation no longer opens.
    e.key.enter_pin("2468");
    let err = e.ws.unlock(&mut e.key, now).await.unwrap_err();
    assert!(matches!(err, WorkstationError::HubRefused), "{err:?}");
    admin.lock("done", now).await.unwrap();
    e.wipe(&keyring());
}
