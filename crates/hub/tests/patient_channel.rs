//! The patient channel over real HTTP: storing, idempotent retries, id
//! conflicts, token checks, per-channel rate limits, replies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::hub_api::{Base64Bytes, PatientMessageRequest, PatientRepliesPage, PracticeKeys};
use sealbox_model::jiff::SignedDuration;
use support::*;

#[tokio::test]
async fn stores_a_message_and_a_retry_is_a_duplicate() {
    let hub = start_hub(2, RatePolicy::default()).await;
    let req = message(11, 101, b"sealed-bytes-1");
    let (status, body) = post_patient(&hub, 0, &req).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["duplicate"], false);
    let (status, body) = post_patient(&hub, 0, &req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], true);
    // A follow-up on the same thread moves it on.
    let (status, _) = post_patient(&hub, 0, &message(11, 102, b"sealed-bytes-2")).await;
    assert_eq!(status, 201);
    let count = envelope_count(&hub);
    assert_eq!(count, 2);
    let version: i64 = hub
        .state
        .db
        .sqlite_blocking(|c| c.query_row("SELECT version FROM threads WHERE id = 11", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(version, 2);
}

#[tokio::test]
async fn reused_ids_are_conflicts_naming_the_field() {
    let hub = start_hub(2, RatePolicy::default()).await;
    assert_eq!(post_patient(&hub, 0, &message(11, 101, b"one")).await.0, 201);
    // Same message id, different bytes.
    let (status, body) = post_patient(&hub, 0, &message(11, 101, b"two")).await;
    assert_eq!(status, 409);
    assert_eq!(body["errors"][0]["field"], "message_id");
    // Another patient cannot write into this thread.
    let (status, body) = post_patient(&hub, 1, &message(11, 202, b"three")).await;
    assert_eq!(status, 409);
    assert_eq!(body["errors"][0]["field"], "thread_id");
    // Nor reuse the first patient's message id.
    let (status, _) = post_patient(&hub, 1, &message(12, 101, b"one")).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn bad_or_missing_tokens_are_refused() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let body = serde_json::to_vec(&message(1, 1, b"x")).unwrap();
    for bearer in [None, Some("not-a-token"), Some("")] {
        let (status, ctype, text) =
            post_raw(&hub, "/v1/patient/messages", bearer, "application/json", body.clone()).await;
        assert_eq!(status, 401, "{text}");
        problem(&ctype, &text);
    }
    let count = envelope_count(&hub);
    assert_eq!(count, 0);
}

#[tokio::test]
async fn rate_limited_per_channel_with_retry_after() {
    let hub = start_hub(2, RatePolicy { burst: 3, per_minute: 6 }).await;
    for i in 0..3 {
        assert_eq!(post_patient(&hub, 0, &message(5, 50 + i, b"m")).await.0, 201);
    }
    let res = hub
        .client
        .post(format!("{}/v1/patient/messages", hub.url))
        .bearer_auth(token(&hub, 0))
        .json(&message(5, 60, b"m"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers()["retry-after"], "10");
    // The other channel is unaffected.
    assert_eq!(post_patient(&hub, 1, &message(6, 70, b"m")).await.0, 201);
    // Ten seconds later one more is allowed.
    hub.clock.advance(SignedDuration::from_secs(10));
    assert_eq!(post_patient(&hub, 0, &message(5, 60, b"m")).await.0, 201);
    assert_eq!(post_patient(&hub, 0, &message(5, 61, b"m")).await.0, 429);
}

#[tokio::test]
async fn replies_page_starts_empty_and_keys_name_the_practice() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let page: PatientRepliesPage = hub
        .client
        .get(format!("{}/v1/patient/replies?cursor=0", hub.url))
        .bearer_auth(token(&hub, 0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.replies.is_empty());
    assert!(!page.more);
    let keys: PracticeKeys =
        hub.client.get(format!("{}/v1/practice/keys", hub.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys.practice_id, hub.practice.practice_id);
}

#[tokio::test]
async fn token_is_stored_only_as_a_hash() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let token = token(&hub, 0);
    let db = std::fs::read(hub.dir.path().join(sealbox_hub::db::DB_FILE)).unwrap();
    let wal =
        std::fs::read(hub.dir.path().join(format!("{}-wal", sealbox_hub::db::DB_FILE))).unwrap_or_default();
    let needle = token.as_bytes();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "channel token found in the data dir");
    }
}

#[tokio::test]
async fn envelopes_that_are_not_this_patients_for_this_message_are_refused_unstored() {
    let hub = start_hub(2, RatePolicy::default()).await;
    let other_patient = support::sealed_message(&hub.practice, 1, 40, 400, b"hello");
    let mut wrong_ids = support::sealed_message(&hub.practice, 0, 41, 401, b"hello");
    wrong_ids.message_id = sealbox_model::ids::MessageId(402);
    let other_practice = PatientMessageRequest {
        envelope: Base64Bytes(support::sealed("prac-elsewhere", &hub.practice.patients[0], 42, 403, b"hi")),
        ..message(42, 403, b"")
    };
    let mut flipped = support::sealed_message(&hub.practice, 0, 43, 404, b"hello");
    let last = flipped.envelope.0.len() - 1;
    flipped.envelope.0[last] ^= 1;
    let garbage = message(44, 405, b"not an envelope");
    for (what, req) in [
        ("signed by another patient", other_patient),
        ("ids differ", wrong_ids),
        ("another practice", other_practice),
        ("signature flipped", flipped),
        ("garbage", garbage),
    ] {
        let res = hub
            .client
            .post(format!("{}/v1/patient/messages", hub.url))
            .bearer_auth(token(&hub, 0))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{what}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "envelope", "{what}: {body}");
    }
    let count = envelope_count(&hub);
    assert_eq!(count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_committed_together_succeed_or_fail_one_by_one() {
    let hub = start_hub(2, RatePolicy { burst: 1000, per_minute: 60_000 }).await;
    for i in 0..20 {
        assert_eq!(post_patient(&hub, 0, &message(500 + i, 5000 + i, b"first")).await.0, 201);
    }
    // Forty posts at once (so they share commits): twenty new, twenty reusing
    // a stored id with other bytes.
    let posts = (0..40u64).map(|i| {
        let req = if i % 2 == 0 {
            message(600 + i, 6000 + i, b"new")
        } else {
            message(500 + i / 2, 5000 + i / 2, b"other")
        };
        let hub = &hub;
        async move { post_patient(hub, 0, &req).await.0 }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 20, "{statuses:?}");
    let count = envelope_count(&hub);
    assert_eq!(count, 40);
}
