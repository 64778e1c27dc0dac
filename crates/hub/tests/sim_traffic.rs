//! The simulator against the real hub over loopback HTTP: realistic traffic
//! is accepted, re-sending is idempotent, and what the hub stored opens — per
//! part — only for the pools the permission matrix allows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod support;

use std::collections::HashMap;

use sealbox_crypto::envelope::{open_envelope, EnvelopeError, EnvelopeHeader, PartKind, RecipientId};
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::hub_api::Base64Bytes;
use sealbox_model::ids::AttachmentId;
use sealbox_model::message::{AttachmentRef, MessagePart};
use sealbox_model::permissions::pools_that_can_read_part;
use sealbox_model::pool::Pool;
use sealbox_sim::{send, traffic, SendOptions};

fn stored_envelopes(hub: &support::Hub) -> HashMap<u64, Vec<u8>> {
    hub.state
        .db
        .sqlite_blocking(|conn| {
            let mut stmt = conn.prepare("SELECT message_id, body FROM envelopes")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?)))?;
            Ok::<_, sealbox_hub::db::DbError>(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_patients_reach_the_hub_sealed_to_the_right_pools() {
    let hub = support::start_hub(20, RatePolicy { burst: 10_000, per_minute: 600_000 }).await;
    let secrets = support::pool_keys::publish(&hub.state);
    let plan = traffic::plan(7, 20, 300);

    let summary =
        send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    println!("{summary}");
    assert_eq!(summary.accepted, plan.len(), "{summary}");
    assert!(summary.refused.is_empty(), "{summary}");
    assert!(summary.red_flags > 0 && summary.by_category.len() >= 6, "{summary}");

    // The same ids sealed afresh are different bytes: the hub refuses them
    // (409) rather than overwrite what it holds. (Identical re-posts are
    // accepted as duplicates: patient_channel.rs.)
    let again =
        send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 0), "{again}");
    assert_eq!(again.refused.get(&409).copied(), Some(plan.len()), "{again}");

    let stored = stored_envelopes(&hub);
    assert_eq!(stored.len(), plan.len());
    let mut photos_opened = 0;
    for planned in &plan {
        let bytes = &stored[&planned.message_id.0];
        let header = EnvelopeHeader::parse(bytes).unwrap();
        assert_eq!(
            (header.thread_id, header.practice.as_str()),
            (planned.thread_id.0, hub.practice.practice_id.as_str())
        );
        for (pool, secret) in &secrets {
            // The planned parts, and a reference per attached photo (sealed
            // by `send` with the key to its blob).
            let photo_part = MessagePart::Attachment(AttachmentRef {
                id: AttachmentId("att-shape-only".to_owned()),
                media_type: "image/png".to_owned(),
                size_bytes: 0,
                key: Base64Bytes(Vec::new()),
            });
            let photos = planned.attachments.iter().map(|_| &photo_part);
            let readable: Vec<&MessagePart> = planned
                .parts
                .iter()
                .chain(photos)
                .filter(|p| pools_that_can_read_part(p, planned.category).contains(pool))
                .collect();
            let opened = match open_envelope(bytes, RecipientId::Pool(*pool), secret, None) {
                Ok(opened) => opened,
                Err(EnvelopeError::NotARecipient) if readable.is_empty() => continue,
                Err(e) => panic!("{pool:?} could not open a message it may read: {e}"),
            };
            // Every pool that may read a part also learns who the patient is.
            let (details, parts): (Vec<_>, Vec<_>) =
                opened.parts.iter().partition(|p| p.kind == PartKind::PatientDetails);
            assert_eq!(details.len(), 1, "{pool:?}: the patient's details");
            assert_eq!(parts.len(), readable.len(), "{pool:?}: parts opened vs allowed");
            for part in parts {
                let decoded = MessagePart::from_sealed_plaintext(&part.plaintext).unwrap();
                let photo = matches!(&decoded, MessagePart::Attachment(a)
                    if a.is_well_formed() && planned.attachments.iter().any(|f| f.bytes.len() as u64 == a.size_bytes));
                assert!(planned.parts.contains(&decoded) || photo, "a part the sender did not write");
                if photo {
                    photos_opened += 1;
                    assert_ne!(*pool, Pool::Pharmacy, "the pharmacy holds the key to a photo");
                }
            }
            // Pharmacy reads a repeat request's or a medication question's
            // free text (they answer those), and never receives the key to
            // the free text of any other kind of request.
            let wrote = planned.parts.iter().any(|p| matches!(p, MessagePart::FreeText(_)));
            if *pool == Pool::Pharmacy && wrote {
                let medication =
                    matches!(planned.category, Category::RepeatPrescription | Category::MedicationQuestion);
                let opened_text = opened.parts.iter().any(|p| p.kind == PartKind::FreeText);
                assert_eq!(opened_text, medication, "{:?}", planned.category);
                assert_eq!(opened.withheld.contains(&PartKind::FreeText), !medication);
            }
        }
    }
    assert!(photos_opened > 0, "the traffic carried no photo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_practice_key_the_simulator_sends_nothing_and_says_so() {
    let hub = support::start_hub(2, RatePolicy::default()).await;
    let plan = traffic::plan(1, 2, 3);
    // Patients seal only to pool keys signed with the practice key: a file
    // naming none is refused before anything is sealed.
    let err =
        send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("names no practice key"), "{err}");
}
