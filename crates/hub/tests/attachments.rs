//! Photos in the thread (issue 23 point 12), end to end against the real
//! hub over loopback HTTP: the patient's device seals a photo under a key
//! of its own and puts the blob at the hub, which keeps bytes it cannot
//! read; a GP's workstation opens it in memory, checked against the thread
//! it was sent on and against what it claims to be. Every access rule of
//! the two routes is attacked over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::vault::Keyring;
use sealbox_core::workstation::attachment::AttachmentError;
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::ids::{AttachmentId, MessageId, ThreadId};
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::role::Role;
use sealbox_sim::content::PHOTO_PNG;
use sealbox_sim::traffic::{PlannedAttachment, PlannedMessage};
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::login::{enrol_and_login, enrol_and_login_unapproved};
use support::{start_hub, token, Hub};

fn with_files(
    patient: usize,
    thread: u64,
    category: Category,
    files: Vec<PlannedAttachment>,
) -> PlannedMessage {
    PlannedMessage {
        patient,
        thread_id: ThreadId(thread),
        message_id: MessageId(thread + 1),
        category,
        parts: vec![MessagePart::FreeText(FreeText::new("Photo attached of the patch on my elbow."))],
        red_flag: false,
        attachments: files,
    }
}

/// The attachments the hub holds: (id, thread, blob).
fn held(hub: &Hub) -> Vec<(String, i64, Vec<u8>)> {
    hub.state
        .db
        .sqlite_blocking(|c| {
            let mut stmt = c.prepare("SELECT id, thread_id, blob FROM attachments ORDER BY thread_id, id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
}

fn id_on(hub: &Hub, thread: u64) -> String {
    held(hub).into_iter().find(|(_, t, _)| *t == thread as i64).map(|(id, _, _)| id).expect("an attachment")
}

async fn put(hub: &Hub, patient: usize, thread: u64, id: &str, ctype: &str, body: Vec<u8>) -> u16 {
    let resp = hub
        .client
        .put(format!("{}/v1/patient/threads/{thread}/attachments/{id}", hub.url))
        .bearer_auth(token(hub, patient))
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status >= 400 {
        let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(ctype, "application/problem+json", "a refusal without a problem body ({status})");
    }
    status
}

async fn get(hub: &Hub, id: &str, bearer: Option<&str>) -> (u16, Vec<u8>, String) {
    let mut req = hub.client.get(format!("{}/v1/attachments/{id}", hub.url));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let cache = resp.headers().get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, resp.bytes().await.unwrap().to_vec(), cache)
}

/// A blob of the format the hub keeps (version 1), `len` bytes long.
fn blob(len: usize, fill: u8) -> Vec<u8> {
    let mut b = vec![fill; len];
    b[0] = sealbox_crypto::attachment::FORMAT_VERSION;
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_kept_blind_at_the_hub_and_opened_in_memory_only_for_its_own_thread() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (photo, other, fake) = (9_700u64, 9_710u64, 9_720u64);
    // A PDF sent as if it were a PNG photo.
    let pdf = PlannedAttachment { media_type: "image/png", bytes: b"%PDF-1.7 not a picture at all" };
    let sent = [
        with_files(0, photo, Category::ClinicalQuestion, vec![PlannedAttachment::photo()]),
        with_files(1, other, Category::ClinicalQuestion, vec![PlannedAttachment::photo()]),
        with_files(0, fake, Category::ClinicalQuestion, vec![pdf]),
    ];
    let summary =
        send::send(&hub.client, &hub.url, &hub.patients(), &sent, SendOptions::default()).await.unwrap();
    assert_eq!(summary.accepted, 3, "{summary}");

    // Blind at the hub: no blob holds any 32-byte run of the picture (its
    // header with the image size, or any stretch of its pixel data). 32
    // bytes: a chance match in ciphertext is below 2^-240 per position.
    let blobs = held(&hub);
    assert_eq!(blobs.len(), 3);
    let runs: Vec<&[u8]> = PHOTO_PNG.chunks_exact(32).collect();
    for (_, _, b) in &blobs {
        assert!(!b.windows(32).any(|w| runs.contains(&w)), "the hub holds a readable picture");
    }

    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    let view = desk.open_thread(ThreadId(photo), now).unwrap().unwrap();
    let line = view.messages[0].attachments.first().cloned().expect("the photo is listed");
    assert_eq!(line.label, "Photo (PNG, 3 KB)");
    assert!(line.image);
    assert_eq!(line.id, id_on(&hub, photo));

    // Opened in memory: exactly the photo the patient sent.
    let reader = desk.attachment_reader();
    let opened = reader.open(ThreadId(photo), &AttachmentId(line.id.clone())).await.unwrap();
    assert_eq!(opened.media_type, "image/png");
    assert_eq!(opened.bytes.as_slice(), PHOTO_PNG);
    assert!(!format!("{opened:?}").contains("137, 80"), "Debug shows the bytes");

    // An id the thread does not name is not fetched, even one the hub holds.
    let elsewhere = AttachmentId(id_on(&hub, other));
    match reader.open(ThreadId(photo), &elsewhere).await {
        Err(WorkstationError::Attachment(AttachmentError::NotInThread)) => {}
        got => panic!("another thread's attachment opened through this one: {got:?}"),
    }
    // Bytes that are not the picture the message says are not shown.
    let pdf_id = AttachmentId(id_on(&hub, fake));
    match reader.open(ThreadId(fake), &pdf_id).await {
        Err(WorkstationError::Attachment(AttachmentError::NotThePicture)) => {}
        got => panic!("a PDF labelled PNG was shown: {got:?}"),
    }

    // A blob swapped at the hub for another patient's photo does not open
    // (the key is the message's, the associated data binds thread and id).
    let (mine, theirs) = (line.id.clone(), elsewhere.0.clone());
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute(
                "UPDATE attachments SET blob = (SELECT blob FROM attachments WHERE id = ?2) WHERE id = ?1",
                [&mine, &theirs],
            )
        })
        .unwrap();
    match reader.open(ThreadId(photo), &AttachmentId(line.id.clone())).await {
        Err(WorkstationError::Attachment(AttachmentError::Rejected)) => {}
        got => panic!("a swapped blob was shown: {got:?}"),
    }

    // Nothing was written under the workstation's data directory but its
    // own files: no picture on disk.
    for entry in walk(dirs.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!bytes.windows(16).any(|w| w == &PHOTO_PNG[..16]), "a picture on disk: {}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_hands_an_attachment_only_to_roles_that_may_open_it_on_its_own_patients_thread() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    support::pool_keys::publish(&hub.state);
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let pharmacist = enrol_and_login(&hub.url, &hub.state, Role::Pharmacist).await;
    let navigator = enrol_and_login(&hub.url, &hub.state, Role::CareNavigator).await;
    let pending = enrol_and_login_unapproved(&hub.url, &hub.state, Role::Gp).await;
    let (question, refill) = (9_900u64, 9_910u64);
    let sent = [
        with_files(0, question, Category::ClinicalQuestion, vec![PlannedAttachment::photo()]),
        with_files(0, refill, Category::RepeatPrescription, vec![PlannedAttachment::photo()]),
    ];
    send::send(&hub.client, &hub.url, &hub.patients(), &sent, SendOptions::default()).await.unwrap();
    let (on_question, on_refill) = (id_on(&hub, question), id_on(&hub, refill));

    // A GP's approved device gets the blob, not to be cached.
    let (status, body, cache) = get(&hub, &on_question, Some(&gp.token)).await;
    assert_eq!(status, 200);
    assert_eq!(body, held(&hub).into_iter().find(|(id, _, _)| *id == on_question).unwrap().2);
    assert_eq!(cache, "no-store");
    // A pharmacist reads repeat prescriptions but may not open their attachments.
    assert_eq!(get(&hub, &on_refill, Some(&pharmacist.token)).await.0, 403);
    // A care navigator may not read clinical questions at all.
    assert_eq!(get(&hub, &on_question, Some(&navigator.token)).await.0, 403);
    // A device not yet approved, or no session, gets nothing.
    assert_eq!(get(&hub, &on_question, Some(&pending.token)).await.0, 403);
    assert_eq!(get(&hub, &on_question, None).await.0, 401);
    assert_eq!(get(&hub, "att-unknown-000", Some(&gp.token)).await.0, 404);
    assert_eq!(get(&hub, "bad", Some(&gp.token)).await.0, 400);

    // Another patient cannot add to this patient's thread.
    assert_eq!(
        put(&hub, 1, question, "att-intruder-01", "application/octet-stream", blob(100, 1)).await,
        409
    );
    // A blob planted by patient 1 on a thread id patient 0 then uses is
    // never handed out through patient 0's thread.
    let planted = 9_920u64;
    assert_eq!(put(&hub, 1, planted, "att-planted-001", "application/octet-stream", blob(100, 2)).await, 201);
    send::send(
        &hub.client,
        &hub.url,
        &hub.patients(),
        &[with_files(0, planted, Category::ClinicalQuestion, Vec::new())],
        SendOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(get(&hub, "att-planted-001", Some(&gp.token)).await.0, 404);
    // Not yet on a thread: not found either.
    assert_eq!(put(&hub, 0, 9_930, "att-early-0001", "application/octet-stream", blob(100, 3)).await, 201);
    assert_eq!(get(&hub, "att-early-0001", Some(&gp.token)).await.0, 404);

    // The same blob again is accepted; another under the same id is not.
    assert_eq!(put(&hub, 0, 9_930, "att-early-0001", "application/octet-stream", blob(100, 3)).await, 200);
    assert_eq!(put(&hub, 0, 9_930, "att-early-0001", "application/octet-stream", blob(100, 4)).await, 409);
    // Only octets of the blob format, within the size limit. A photo larger
    // than the API's JSON limit is taken; one past the attachment limit is not.
    let octets = "application/octet-stream";
    assert_eq!(put(&hub, 0, 9_940, "att-json-00001", "application/json", blob(100, 5)).await, 415);
    assert_eq!(put(&hub, 0, 9_940, "att-short-0001", octets, vec![1; 10]).await, 400);
    assert_eq!(put(&hub, 0, 9_940, "att-format-001", octets, vec![9; 100]).await, 400);
    assert_eq!(put(&hub, 0, 9_940, "bad", octets, blob(100, 5)).await, 400);
    let big = sealbox_model::hub_api::MAX_BODY_BYTES * 3;
    assert_eq!(put(&hub, 0, 9_940, "att-big-000001", octets, blob(big, 6)).await, 201);
    let too_big = sealbox_crypto::attachment::MAX_BLOB_BYTES + 1;
    assert_eq!(put(&hub, 0, 9_940, "att-huge-00001", octets, blob(too_big, 7)).await, 413);
    // A conversation keeps a bounded number.
    for n in 1..sealbox_hub::relay::attachments::MAX_PER_THREAD {
        assert_eq!(put(&hub, 0, 9_940, &format!("att-many-{n:05}"), octets, blob(64, 8)).await, 201);
    }
    assert_eq!(put(&hub, 0, 9_940, "att-many-99999", octets, blob(64, 8)).await, 409);
    // Without a channel token, nothing is stored.
    let anonymous = hub
        .client
        .put(format!("{}/v1/patient/threads/9950/attachments/att-anon-00001", hub.url))
        .header("content-type", octets)
        .body(blob(100, 9))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}
