//! Working together (issue 23 points 7 and 8), against the real hub over
//! loopback HTTP: an internal note is sealed to the practice's pools only
//! (the hub refuses one with a slot for the patient) and never reaches the
//! patient's replies; a thread is handed only to a colleague working here
//! now under the role the practice gave them; and, with two real
//! workstations (SQLCipher caches, the OS keyring), a GP hands a thread to
//! a named nurse with a note: only the queues and colleagues allowed to
//! handle it are offered, the nurse sees the note apart from replies, and
//! the patient reads the reply and nothing of the notes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sealbox_core::key::soft::SoftKey;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::note::NoteError;
use sealbox_core::workstation::WorkstationError;
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::envelope::{seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId};
use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::AssignTarget;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::SignedDuration;
use sealbox_model::message::{FreeText, MedicationRequest, MessagePart, SharedNote};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_sim::read_replies::read_replies;
use sealbox_sim::{send, SendOptions};
use serde_json::{json, Value};

use support::desks::enrol_approved;
use support::login::{enrol_and_login, enrol_and_login_unapproved, get, post};
use support::start_hub;

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A note's envelope on thread 77, signed with `key`, sealed to the GP
/// pool and, when `to_patient`, to the patient as well.
fn note_envelope(key: &SigningKey, practice: &str, message: u64, to_patient: bool) -> Vec<u8> {
    let text =
        MessagePart::FreeText(FreeText::new("Bloods normal last month")).to_sealed_plaintext().unwrap();
    let public = |b: u8| x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([b; 32]));
    let mut to = vec![Recipient { id: RecipientId::Pool(Pool::Gp), public_key: public(7) }];
    if to_patient {
        to.push(Recipient { id: RecipientId::Patient, public_key: public(8) });
    }
    let fields = EnvelopeFields { practice, thread_id: 77, message_id: message };
    let part = PartInput { kind: PartKind::FreeText, plaintext: &text, recipients: &to };
    seal_envelope(&mut rand::rngs::OsRng, key, &fields, &[part]).unwrap()
}

/// A note shared into the medication part on thread 77, signed with `key`,
/// sealed to the pharmacy pool.
fn shared_note_envelope(key: &SigningKey, practice: &str, message: u64) -> Vec<u8> {
    let shared = MessagePart::MedicationRequest(MedicationRequest {
        items: Vec::new(),
        shared_notes: vec![SharedNote {
            shared_by: StaffId("staff-x".into()),
            at: support::t0(),
            text: FreeText::new("On warfarin since May"),
        }],
        answers: Vec::new(),
    });
    let text = shared.to_sealed_plaintext().unwrap();
    let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([9u8; 32]));
    let to = [Recipient { id: RecipientId::Pool(Pool::Pharmacy), public_key: public }];
    let fields = EnvelopeFields { practice, thread_id: 77, message_id: message };
    let part = PartInput { kind: PartKind::MedicationRequest, plaintext: &text, recipients: &to };
    seal_envelope(&mut rand::rngs::OsRng, key, &fields, &[part]).unwrap()
}

fn one_action(key: &str, version: u64, op: Value) -> Value {
    json!({"actions": [{"idempotency_key": key, "thread_id": 77, "expected_version": version, "op": op}]})
}

fn outcome(body: &Value) -> (String, String) {
    let o = &body["results"][0]["outcome"];
    (o["status"].as_str().unwrap_or_default().to_owned(), o["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_is_sealed_to_the_practice_only_and_never_served_to_the_patient() {
    let hub = start_hub(1, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let gp = enrol_and_login(&url, &hub.state, Role::Gp).await;
    let key = SigningKey::from_bytes(&[43u8; 32]);
    let keys = json!({"x25519_public": b64(&[6; 32]), "ed25519_public": b64(key.verifying_key().as_bytes())});
    assert!(post(c, format!("{url}/v1/devices/keys"), Some(&gp.token), &keys).await.0 < 300);
    let (status, body) = support::post_patient(&hub, 0, &support::message(77, 700, b"please renew")).await;
    assert!(status < 300, "{status} {body}");

    // A note with a slot for the patient is refused whole, before storing.
    let leaky = note_envelope(&key, &gp.practice_id, 901, true);
    let batch = one_action("note-1", 1, json!({"kind": "note", "message_id": 901, "envelope": b64(&leaky)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &batch).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("may not be sealed to the patient"), "{body}");
    assert_eq!(support::envelope_count(&hub), 1, "nothing stored");

    // Sealed to the practice only: applied, and it reaches colleagues.
    let note = note_envelope(&key, &gp.practice_id, 902, false);
    let batch = one_action("note-2", 1, json!({"kind": "note", "message_id": 902, "envelope": b64(&note)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &batch).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "{body}");
    let (status, page) = get(c, format!("{url}/v1/sync?cursor=0&limit=100"), &gp.token).await;
    assert_eq!(status, 200);
    let ids: Vec<u64> =
        page["envelopes"].as_array().unwrap().iter().map(|e| e["message_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![700, 902]);

    // A reply after it: the patient's replies hold the reply, not the note.
    let reply = {
        let text = MessagePart::FreeText(FreeText::new("Done")).to_sealed_plaintext().unwrap();
        let patient = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([8u8; 32]));
        let to = [Recipient { id: RecipientId::Patient, public_key: patient }];
        let fields = EnvelopeFields { practice: &gp.practice_id, thread_id: 77, message_id: 903 };
        let part = PartInput { kind: PartKind::FreeText, plaintext: &text, recipients: &to };
        seal_envelope(&mut rand::rngs::OsRng, &key, &fields, &[part]).unwrap()
    };
    let batch =
        one_action("reply-3", 2, json!({"kind": "reply", "message_id": 903, "envelope": b64(&reply)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &batch).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "{body}");
    let (status, replies) =
        get(c, format!("{url}/v1/patient/replies?cursor=0&limit=100"), &support::token(&hub, 0)).await;
    assert_eq!(status, 200, "{replies}");
    let ids: Vec<u64> =
        replies["replies"].as_array().unwrap().iter().map(|e| e["message_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![903], "the patient is never served a note");

    // A role that may not read the thread's free text may not write a note.
    let navigator = enrol_and_login(&url, &hub.state, Role::CareNavigator).await;
    let theirs = SigningKey::from_bytes(&[44u8; 32]);
    let keys =
        json!({"x25519_public": b64(&[9; 32]), "ed25519_public": b64(theirs.verifying_key().as_bytes())});
    assert!(post(c, format!("{url}/v1/devices/keys"), Some(&navigator.token), &keys).await.0 < 300);
    let note = note_envelope(&theirs, &gp.practice_id, 904, false);
    let batch = one_action("note-4", 3, json!({"kind": "note", "message_id": 904, "envelope": b64(&note)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&navigator.token), &batch).await;
    assert_eq!((status, outcome(&body)), (200, ("rejected".to_owned(), "forbidden".to_owned())), "{body}");
    assert_eq!(support::envelope_count(&hub), 3, "the navigator's note was not stored");

    // Sharing into the medication part is a grant of its own: a pharmacist
    // (who reads a repeat request's free text and so may note on it) may
    // not; the GP may.
    let pharmacist = enrol_and_login(&url, &hub.state, Role::Pharmacist).await;
    let pk = SigningKey::from_bytes(&[45u8; 32]);
    let keys = json!({"x25519_public": b64(&[10; 32]), "ed25519_public": b64(pk.verifying_key().as_bytes())});
    assert!(post(c, format!("{url}/v1/devices/keys"), Some(&pharmacist.token), &keys).await.0 < 300);
    let shared = shared_note_envelope(&pk, &gp.practice_id, 905);
    let batch =
        one_action("share-5", 3, json!({"kind": "note", "message_id": 905, "envelope": b64(&shared)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&pharmacist.token), &batch).await;
    assert_eq!((status, outcome(&body)), (200, ("rejected".to_owned(), "forbidden".to_owned())), "{body}");
    assert!(body.to_string().contains("share_into_medication_part"), "{body}");
    let note = note_envelope(&pk, &gp.practice_id, 906, false);
    let batch = one_action("note-6", 3, json!({"kind": "note", "message_id": 906, "envelope": b64(&note)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&pharmacist.token), &batch).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "a plain note: {body}");
    let shared = shared_note_envelope(&key, &gp.practice_id, 907);
    let batch =
        one_action("share-7", 4, json!({"kind": "note", "message_id": 907, "envelope": b64(&shared)}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &batch).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "{body}");
    assert_eq!(support::envelope_count(&hub), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_is_handed_only_to_a_colleague_working_here_under_their_own_role() {
    let hub = start_hub(1, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let gp = enrol_and_login(&url, &hub.state, Role::Gp).await;
    let nurse = enrol_and_login(&url, &hub.state, Role::Nurse).await;
    let waiting = enrol_and_login_unapproved(&url, &hub.state, Role::Nurse).await;
    let (status, body) = support::post_patient(&hub, 0, &support::message(77, 700, b"please renew")).await;
    assert!(status < 300, "{status} {body}");
    let claim = one_action("claim", 1, json!({"kind": "claim"}));
    let (status, body, _) = post(c, format!("{url}/v1/actions"), Some(&gp.token), &claim).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "{body}");
    let version = body["results"][0]["outcome"]["version"].as_u64().unwrap();

    let hand = |key: &str, id: &str, role: &str| {
        one_action(key, version, json!({"kind": "assign", "to": {"kind": "staff", "id": id, "role": role}}))
    };
    for (key, id, role, code) in [
        ("h1", "staff-nobody", "nurse", "unknown_staff"),
        ("h2", waiting.user_id.as_str(), "nurse", "unknown_staff"),
        // Claiming the navigator's role would slip a clinical thread past
        // the permission rule, which trusts the role it is given.
        ("h3", nurse.user_id.as_str(), "care_navigator", "wrong_role"),
    ] {
        let (status, body, _) =
            post(c, format!("{url}/v1/actions"), Some(&gp.token), &hand(key, id, role)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(outcome(&body), ("rejected".to_owned(), code.to_owned()), "{id} as {role}: {body}");
    }
    let (status, body, _) =
        post(c, format!("{url}/v1/actions"), Some(&gp.token), &hand("h4", &nurse.user_id, "nurse")).await;
    assert_eq!((status, outcome(&body).0.as_str()), (200, "applied"), "{body}");

    // The directory marks who works here now (the one a hand-over offers).
    let (status, dir) = get(c, format!("{url}/v1/staff"), &gp.token).await;
    assert_eq!(status, 200);
    let active =
        |id: &str| dir["staff"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["active"].clone();
    assert_eq!(active(&nurse.user_id), json!(true));
    assert_eq!(active(&waiting.user_id), json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_hands_a_thread_to_a_named_nurse_with_a_note_the_patient_never_reads() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (mut ws_nurse, mut key_nurse) =
        gp.another(&hub, &keyring, &dirs.path().join("nurse"), Role::Nurse, SoftKey::new("2468")).await;
    let nurse_id = StaffId(ws_nurse.profile().unwrap().user_id.clone());
    let thread = ThreadId(8_001);
    let question = support::clinical_question(
        thread.0,
        8_101,
        "Could someone check my blood pressure readings from the pharmacy?",
        false,
    );
    send::send(&hub.client, &hub.url, &hub.patients(), &[question], SendOptions::default()).await.unwrap();

    let now = hub.state.now();
    let a = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine_a = a.engine().unwrap();
    engine_a.pull(&a.store(), now).await.unwrap();
    let view = a.open_thread(thread, now).unwrap().unwrap();
    assert!(view.can_note);
    let offered: Vec<&str> = view.hand_to.iter().map(|o| o.label.as_str()).collect();
    assert!(offered.contains(&"GPs' queue") && offered.contains(&"Nurses' queue"), "{offered:?}");
    assert!(
        !offered.contains(&"Care navigators' queue"),
        "a clinical question never goes to admin: {offered:?}"
    );
    let to_nurse = view
        .hand_to
        .iter()
        .find(|o| o.to == AssignTarget::Staff { id: nurse_id.clone(), role: Role::Nurse })
        .expect("the nurse is offered by name");
    let nurse_shown = format!("Test Staff \u{b7} {}", Role::Nurse.title());
    assert_eq!(to_nurse.label, nurse_shown);
    assert!(to_nurse.reads_notes);
    let me = a.profile().user_id.clone();
    assert!(
        view.hand_to.iter().all(|o| o.to != AssignTarget::Staff { id: StaffId(me.clone()), role: Role::Gp }),
        "not to oneself"
    );

    // Refused before anything is queued: blank, someone not offered.
    let err = a.note(thread, "  ", now).unwrap_err();
    assert!(matches!(err, WorkstationError::Note(NoteError::Empty)), "{err:?}");
    let stranger = AssignTarget::Staff { id: StaffId("staff-nobody".into()), role: Role::Nurse };
    let err = a.hand_over(thread, &stranger, "", now).unwrap_err();
    assert!(matches!(err, WorkstationError::Note(NoteError::NotOffered)), "{err:?}");
    assert!(lock(&a.store()).outbox().unwrap().is_empty());

    // A note, a reply, then the hand-over with a note for the nurse, each
    // sent a minute after the last (the thread lists messages by when the
    // hub stored them).
    let next_minute = || {
        hub.clock.advance(SignedDuration::from_mins(1));
        hub.state.now()
    };
    let mut sent = Vec::new();
    let t1 = next_minute();
    a.note(thread, "Readings last month were normal.", t1).unwrap();
    sent.push(engine_a.send(&a.store(), t1).await.unwrap());
    let t2 = next_minute();
    a.reply(thread, "We will look at your readings today.", t2).unwrap();
    sent.push(engine_a.send(&a.store(), t2).await.unwrap());
    let now = next_minute();
    a.hand_over(thread, &to_nurse.to, "Please call her about the home readings.", now).unwrap();
    let shown = a.open_thread(thread, now).unwrap().unwrap();
    let notes: Vec<&str> = shown.messages.iter().filter(|m| m.note).map(|m| m.text.as_str()).collect();
    assert_eq!(notes, vec!["Readings last month were normal.", "Please call her about the home readings."]);
    assert_eq!(shown.holder, nurse_shown, "shown at once");
    sent.push(engine_a.send(&a.store(), now).await.unwrap());
    assert!(sent.iter().all(|s| s.conflicts.is_empty() && s.rejected.is_empty()), "{sent:?}");
    assert_eq!(sent.iter().map(|s| s.applied).sum::<usize>(), 5, "note, reply, note, triage, hand-over");
    let audit = lock(&a.store()).audit_events(20).unwrap();
    assert_eq!(audit.iter().filter(|l| l.action == "note").count(), 2, "each note is audited");

    // The nurse: the thread is hers; the notes are notes, by name; the
    // reply is a reply.
    let n = ws_nurse.unlock(&mut key_nurse, now).await.unwrap();
    n.engine().unwrap().pull(&n.store(), now).await.unwrap();
    let theirs = n.open_thread(thread, now).unwrap().unwrap();
    assert_eq!(theirs.holder, "You");
    let lines: Vec<(bool, &str, &str)> =
        theirs.messages.iter().map(|m| (m.note, m.from.as_str(), m.text.as_str())).collect();
    assert!(!lines[0].0, "the patient's message");
    assert_eq!(lines[1], (true, "Test Staff \u{b7} GP", "Readings last month were normal."));
    assert!(!lines[2].0 && lines[2].2.starts_with("We will look at your readings today."), "{:?}", lines[2]);
    assert_eq!(lines[3], (true, "Test Staff \u{b7} GP", "Please call her about the home readings."));

    // The patient reads the reply and nothing of either note.
    let replies = read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap();
    assert_eq!(replies.len(), 1, "{:?}", replies.iter().map(|r| r.thread_id).collect::<Vec<_>>());
    assert!(replies[0].text.starts_with("We will look at your readings today."));

    drop(engine_a);
    a.lock("idle", now).await.unwrap();
    n.lock("idle", now).await.unwrap();
    gp.wipe(&keyring);
    support::desks::wipe(&ws_nurse, &keyring);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_shares_a_note_into_the_medication_part_the_pharmacist_reads_without_the_patients_words() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (mut ws_ph, mut key_ph) = gp
        .another(&hub, &keyring, &dirs.path().join("pharmacist"), Role::Pharmacist, SoftKey::new("1357"))
        .await;
    let (thread, words_only) = (ThreadId(8_201), ThreadId(8_202));
    let words = "I bruise very easily since the new tablets";
    // The patient names the medicine too: that part, with their details, is
    // sealed to the pharmacy, which so knows the patient but not the words.
    let mut question = support::clinical_question(thread.0, 8_301, words, false);
    question.parts.push(MessagePart::MedicationRequest(MedicationRequest {
        items: vec![sealbox_model::message::MedicationText::new("Warfarin 3mg tablets")],
        shared_notes: Vec::new(),
        answers: Vec::new(),
    }));
    let plain = support::clinical_question(words_only.0, 8_302, "Can I have a call about my results?", false);
    send::send(&hub.client, &hub.url, &hub.patients(), &[question, plain], SendOptions::default())
        .await
        .unwrap();

    let now = hub.state.now();
    let a = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = a.engine().unwrap();
    engine.pull(&a.store(), now).await.unwrap();
    let view = a.open_thread(thread, now).unwrap().unwrap();
    assert!(view.can_share, "the pharmacy cannot read a clinical question's text: sharing is offered");
    // Words only: the pharmacy was never told who this patient is, so a
    // shared note could not reach it; not offered, and refused.
    assert!(!a.open_thread(words_only, now).unwrap().unwrap().can_share);
    let err = a.share_with_pharmacy(words_only, "On warfarin", now).unwrap_err();
    assert!(matches!(err, WorkstationError::Note(NoteError::NotForPharmacy)), "{err:?}");
    let err = a.share_with_pharmacy(thread, " ", now).unwrap_err();
    assert!(matches!(err, WorkstationError::Note(NoteError::Empty)), "{err:?}");
    let shared = "On warfarin 3 mg since May; asks about bruising";
    a.share_with_pharmacy(thread, shared, now).unwrap();
    let sent = engine.send(&a.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (1, 0), "{sent:?}");
    let mine = a.open_thread(thread, now).unwrap().unwrap();
    let last = mine.messages.last().unwrap();
    assert!(last.note, "never sent to the patient");
    assert_eq!(last.text, format!("Shared with the pharmacy: {shared}"));

    // The pharmacist's workstation opens the shared note, and holds no key
    // to the patient's own words.
    let p = ws_ph.unlock(&mut key_ph, now).await.unwrap();
    p.engine().unwrap().pull(&p.store(), now).await.unwrap();
    let theirs = p.open_thread(thread, now).unwrap().unwrap();
    let texts: Vec<&str> = theirs.messages.iter().map(|m| m.text.as_str()).collect();
    println!("the pharmacist sees: {texts:?}");
    assert!(texts.contains(&format!("Shared with the pharmacy: {shared}").as_str()), "{texts:?}");
    assert!(texts.iter().all(|t| !t.contains("bruise very easily")), "{texts:?}");
    assert_eq!(
        theirs.messages[0].medicines,
        vec!["Warfarin 3mg tablets".to_owned()],
        "the medicine it may read"
    );
    assert!(!theirs.can_share, "a pharmacist has no share grant");
    assert!(
        read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap().is_empty(),
        "nothing to the patient"
    );

    drop(engine);
    a.lock("idle", now).await.unwrap();
    p.lock("idle", now).await.unwrap();
    gp.wipe(&keyring);
    support::desks::wipe(&ws_ph, &keyring);
}
