//! The relay's clinician endpoints with a real signed-in session: a
//! patient message arrives, a GP syncs it and claims the thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{self, enrol_and_login};
use support::sse::next_event;
use support::{message, post_patient, start_hub};

#[tokio::test]
async fn a_signed_in_gp_syncs_and_claims_a_thread() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let (status, body) = post_patient(&hub, 0, &message(10, 100, b"sealed bytes")).await;
    assert_eq!(status, 201, "{body}");
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;

    // Without a session: 401.
    let res = hub.client.get(format!("{}/v1/sync", hub.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let (status, page) = login::get(&hub.client, format!("{}/v1/sync?cursor=0", hub.url), &gp.token).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["envelopes"].as_array().unwrap().len(), 1);
    let thread = &page["threads"][0];
    assert_eq!(thread["thread_id"], 10);
    let version = thread["version"].as_u64().unwrap();

    let claim = json!({"actions": [{
        "idempotency_key": "claim-1", "thread_id": 10, "expected_version": version, "op": {"kind": "claim"}
    }]});
    let (status, body, _) =
        login::post(&hub.client, format!("{}/v1/actions", hub.url), Some(&gp.token), &claim).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"]["status"], "applied", "{body}");

    // The action log names the signed-in GP.
    let cursor = page["next_cursor"].as_u64().unwrap();
    let (_, page) = login::get(&hub.client, format!("{}/v1/sync?cursor={cursor}", hub.url), &gp.token).await;
    let logged = page["actions"][0].to_string();
    assert!(logged.contains(&gp.user_id), "{page}");
}

#[tokio::test]
async fn the_event_stream_carries_ids_and_counts_only() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let nurse = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    let res =
        hub.client.get(format!("{}/v1/events", hub.url)).bearer_auth(&nurse.token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = res.bytes_stream();
    let mut buf = String::new();
    let first = next_event(&mut stream, &mut buf, |_| true).await;
    assert_eq!(first["thread_ids"], json!([]));

    let (status, _) = post_patient(&hub, 0, &message(77, 700, b"QZX-EVENT-MARKER please renew")).await;
    assert_eq!(status, 201);
    let event = next_event(&mut stream, &mut buf, |e| e["thread_ids"] == json!([77])).await;
    assert!(event["seq"].as_u64().unwrap() > first["seq"].as_u64().unwrap());
    // A repeat prescription waits in the pools that may read it.
    assert_eq!(event["pools"]["nurse"], 1, "{event}");
    // Each reader sees its own pool's count only (the pharmacy's is hidden).
    assert_eq!(event["pools"]["pharmacy"], 0, "{event}");
    let keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["pools", "seq", "thread_ids", "waiting"]);
    // Unassigned threads per category the role may read: counts only.
    assert_eq!(event["waiting"], json!([{"category": "repeat_prescription", "count": 1}]), "{event}");
    assert!(!event.to_string().contains("QZX"));
}

#[tokio::test]
async fn a_reply_reaches_the_patient_and_only_that_patient_reads_it() {
    use sealbox_crypto::ed25519_dalek::SigningKey;
    use sealbox_crypto::envelope::{
        seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId,
    };
    use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
    use sealbox_model::hub_api::Base64Bytes;
    use sealbox_model::message::{FreeText, MessagePart};
    use sealbox_model::pool::Pool;

    let hub = start_hub(2, RatePolicy::default()).await;
    assert_eq!(post_patient(&hub, 0, &message(20, 200, b"Please renew my inhaler")).await.0, 201);
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let (_, page) = login::get(&hub.client, format!("{}/v1/sync?cursor=0", hub.url), &gp.token).await;
    let version = page["threads"][0]["version"].as_u64().unwrap();
    let claim = json!({"actions": [{
        "idempotency_key": "claim-20", "thread_id": 20, "expected_version": version, "op": {"kind": "claim"}
    }]});
    let (_, body, _) =
        login::post(&hub.client, format!("{}/v1/actions", hub.url), Some(&gp.token), &claim).await;
    let version = body["results"][0]["outcome"]["version"].as_u64().unwrap();

    // The GP's desktop seals the reply to the patient (and to its own pool).
    let patient = &hub.practice.patients[0];
    let patient_key: [u8; 32] = patient.x25519_secret.as_slice().try_into().unwrap();
    let to = [
        Recipient { id: RecipientId::Patient, public_key: PublicKey::from(&StaticSecret::from(patient_key)) },
        Recipient {
            id: RecipientId::Pool(Pool::Gp),
            public_key: PublicKey::from(&StaticSecret::from([9u8; 32])),
        },
    ];
    let text = MessagePart::FreeText(FreeText::new("Your inhaler is ready to collect from the pharmacy."))
        .to_sealed_plaintext()
        .unwrap();
    let seal_with = |key: &SigningKey| {
        let envelope = seal_envelope(
            &mut rand::rngs::OsRng,
            key,
            &EnvelopeFields { practice: &hub.practice.practice_id, thread_id: 20, message_id: 201 },
            &[PartInput { kind: PartKind::FreeText, plaintext: &text, recipients: &to }],
        )
        .unwrap();
        json!({"actions": [{
            "idempotency_key": "reply-20", "thread_id": 20, "expected_version": version,
            "op": {"kind": "reply", "message_id": 201, "envelope": Base64Bytes(envelope).encode()}
        }]})
    };
    let device_key = SigningKey::from_bytes(&[5u8; 32]);
    let actions = format!("{}/v1/actions", hub.url);

    // Before the device has registered its signing key, a reply is refused.
    let (status, body, _) =
        login::post(&hub.client, actions.clone(), Some(&gp.token), &seal_with(&device_key)).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("actions[0].op.envelope")),
        "{body}"
    );
    let keys = json!({
        "x25519_public": Base64Bytes(PublicKey::from(&StaticSecret::from([6u8; 32])).as_bytes().to_vec()).encode(),
        "ed25519_public": Base64Bytes(device_key.verifying_key().to_bytes().to_vec()).encode(),
    });
    let (status, _, _) =
        login::post(&hub.client, format!("{}/v1/devices/keys", hub.url), Some(&gp.token), &keys).await;
    assert_eq!(status, 204);
    // Signed by another key: refused; by the device's key: applied.
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let (status, body, _) =
        login::post(&hub.client, actions.clone(), Some(&gp.token), &seal_with(&other)).await;
    assert_eq!(status, 400, "{body}");
    let (status, body, _) = login::post(&hub.client, actions, Some(&gp.token), &seal_with(&device_key)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["outcome"]["status"], "applied", "{body}");

    // Patient 0 opens it with their own key, signed by the device's key;
    // patient 1 has none. (This practice has no signed directory, so the
    // simulator's `read-replies`, which shows only replies from devices
    // the directory names, is tested in `reply` and `hostile_hub`.)
    let replies_of = |token: String| {
        let url = format!("{}/v1/patient/replies?cursor=0", hub.url);
        let client = hub.client.clone();
        async move { login::get(&client, url, &token).await }
    };
    let (status, page) = replies_of(patient.channel_token.0.clone()).await;
    assert_eq!(status, 200, "{page}");
    let records = page["replies"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{page}");
    assert_eq!((records[0]["thread_id"].as_u64(), records[0]["message_id"].as_u64()), (Some(20), Some(201)));
    let bytes = Base64Bytes::decode(records[0]["envelope"].as_str().unwrap()).unwrap();
    let opened = sealbox_crypto::envelope::open_envelope(
        bytes.as_slice(),
        RecipientId::Patient,
        &StaticSecret::from(patient_key),
        Some(&device_key.verifying_key()),
    )
    .unwrap();
    let text = MessagePart::from_sealed_plaintext(&opened.parts[0].plaintext).unwrap();
    assert!(
        matches!(&text, MessagePart::FreeText(t) if t.reveal() == "Your inhaler is ready to collect from the pharmacy.")
    );
    let (status, page) = replies_of(hub.practice.patients[1].channel_token.0.clone()).await;
    assert_eq!((status, page["replies"].as_array().map(Vec::len)), (200, Some(0)), "{page}");
}
