//! Enrolment and login over real HTTP with a software security key, the
//! hub verifying with webauthn-rs: invites (one use, expiry), sessions
//! (idle and absolute expiry, logout), replayed assertions and counter
//! regressions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::jiff::SignedDuration;
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{
    self, enrol, enrol_and_login, enrol_finish, enrol_start, login_finish, login_start, new_key, origin,
};
use support::start_hub;
use webauthn_authenticator_rs::WebauthnAuthenticator;

#[tokio::test]
async fn enrol_then_login_gives_a_session_that_works() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let me = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    assert_eq!(me.role, Role::Nurse);
    assert_eq!(me.practice_id, hub.practice.practice_id);
    assert_eq!(me.token.len(), 43, "256-bit base64url");
    // Stored only hashed.
    let stored: i64 = hub
        .state
        .db
        .sqlite_blocking(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM sessions WHERE token_sha256 = ?1",
                [sealbox_hub::auth::secret::sha256(&me.token).to_vec()],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(stored, 1);
    let (status, body) = login::get(&hub.client, format!("{}/v1/me/logins", hub.url), &me.token).await;
    assert_eq!(status, 200, "{body}");
    // No token, a bad token: 401 problem+json.
    let res = hub.client.get(format!("{}/v1/me/logins", hub.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let (status, _) = login::get(&hub.client, format!("{}/v1/me/logins", hub.url), "not-a-token").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_invite_works_once() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let code = login::invite(&hub.state, Role::Gp);
    let mut key = new_key();
    enrol(&hub.client, &hub.url, &origin, &code, &mut key).await.unwrap();
    let mut other = new_key();
    let (status, body) = enrol(&hub.client, &hub.url, &origin, &code, &mut other).await.unwrap_err();
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["type"], "urn:sealbox:problem:invite_used");
    let (status, _) = enrol(&hub.client, &hub.url, &origin, "0000-0000", &mut other).await.unwrap_err();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let code = login::invite(&hub.state, Role::Gp);
    hub.clock.advance(SignedDuration::from_hours(72));
    let mut key = new_key();
    let (status, body) = enrol(&hub.client, &hub.url, &origin, &code, &mut key).await.unwrap_err();
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["type"], "urn:sealbox:problem:invite_expired");
}

#[tokio::test]
async fn a_key_without_user_verification_cannot_enrol() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let code = login::invite(&hub.state, Role::Gp);
    // A client that ignores the hub's "user verification required": the
    // key then signs authenticator data without the UV flag.
    let mut challenge = enrol_start(&hub.client, &hub.url, &code).await.unwrap();
    let selection = challenge.options.public_key.authenticator_selection.as_mut().unwrap();
    assert_eq!(serde_json::to_value(selection.user_verification).unwrap(), json!("required"));
    selection.user_verification = serde_json::from_value(json!("preferred")).unwrap();
    let mut key = new_key();
    let credential = key.do_registration(origin.clone(), challenge.options).unwrap();
    let (status, body) =
        enrol_finish(&hub.client, &hub.url, &challenge.ceremony_id, &credential).await.unwrap_err();
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["type"], "urn:sealbox:problem:not_verified");
    // The invite is still usable by a proper key.
    let mut good = new_key();
    enrol(&hub.client, &hub.url, &origin, &code, &mut good).await.unwrap();
}

#[tokio::test]
async fn sessions_end_after_fifteen_idle_minutes() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let url = format!("{}/v1/me/logins", hub.url);
    // Activity keeps it alive.
    for _ in 0..3 {
        hub.clock.advance(SignedDuration::from_mins(14));
        assert_eq!(login::get(&hub.client, url.clone(), &me.token).await.0, 200);
    }
    hub.clock.advance(SignedDuration::from_mins(15));
    let (status, body) = login::get(&hub.client, url.clone(), &me.token).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("idle"), "{body}");
    // And it stays dead.
    hub.clock.advance(SignedDuration::from_mins(-20));
    assert_eq!(login::get(&hub.client, url, &me.token).await.0, 401);
}

#[tokio::test]
async fn sessions_end_after_twelve_hours_even_when_active() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let url = format!("{}/v1/me/logins", hub.url);
    for _ in 0..(12 * 6 - 1) {
        hub.clock.advance(SignedDuration::from_mins(10));
        assert_eq!(login::get(&hub.client, url.clone(), &me.token).await.0, 200);
    }
    hub.clock.advance(SignedDuration::from_mins(10));
    let (status, body) = login::get(&hub.client, url, &me.token).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("12 hours"), "{body}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let (status, _, _) =
        login::post(&hub.client, format!("{}/v1/logout", hub.url), Some(&me.token), &json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(login::get(&hub.client, format!("{}/v1/me/logins", hub.url), &me.token).await.0, 401);
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let mut me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let challenge = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let assertion = login::assert(&mut me.key, &origin, &challenge);
    login_finish(&hub.client, &hub.url, &challenge.ceremony_id, &assertion).await.unwrap();
    // Same ceremony again: the challenge was single-use.
    let (status, body, _) =
        login_finish(&hub.client, &hub.url, &challenge.ceremony_id, &assertion).await.unwrap_err();
    assert_eq!(status, 401);
    assert_eq!(body["type"], "urn:sealbox:problem:stale_challenge");
    // The old assertion against a fresh challenge: signature over the wrong challenge.
    let fresh = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let (status, body, _) =
        login_finish(&hub.client, &hub.url, &fresh.ceremony_id, &assertion).await.unwrap_err();
    assert_eq!(status, 401);
    assert_eq!(body["type"], "urn:sealbox:problem:not_verified");
}

#[tokio::test]
async fn a_counter_regression_is_refused() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let mut me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let first = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let older = login::assert(&mut me.key, &origin, &first);
    let second = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let newer = login::assert(&mut me.key, &origin, &second);
    login_finish(&hub.client, &hub.url, &second.ceremony_id, &newer).await.unwrap();
    // A valid signature over a live challenge, but with a lower counter.
    let (status, body, _) =
        login_finish(&hub.client, &hub.url, &first.ceremony_id, &older).await.unwrap_err();
    assert_eq!(status, 401);
    assert_eq!(body["type"], "urn:sealbox:problem:counter_regression");
}

#[tokio::test]
async fn an_unanswered_challenge_expires() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let mut me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let challenge = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let assertion = login::assert(&mut me.key, &origin, &challenge);
    hub.clock.advance(SignedDuration::from_mins(6));
    let (status, _, _) =
        login_finish(&hub.client, &hub.url, &challenge.ceremony_id, &assertion).await.unwrap_err();
    assert_eq!(status, 401);
}

/// The status of `GET path` with `bearer` (the body, maybe an endless event
/// stream, is not read).
async fn status_of(hub: &support::Hub, path: &str, bearer: &str) -> u16 {
    let resp = hub.client.get(format!("{}{path}", hub.url)).bearer_auth(bearer).send().await.unwrap();
    resp.status().as_u16()
}

#[tokio::test]
async fn the_counts_only_token_holds_the_event_stream_and_nothing_else_for_12_hours() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let gp = login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    assert_ne!(gp.counts_token, gp.token);
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 200);
    for path in ["/v1/sync?cursor=0", "/v1/me/logins"] {
        assert_eq!(status_of(&hub, path, &gp.counts_token).await, 401, "{path}");
    }
    let (status, _, _) = login::post(
        &hub.client,
        format!("{}/v1/actions", hub.url),
        Some(&gp.counts_token),
        &serde_json::json!({"actions": []}),
    )
    .await;
    assert_eq!(status, 401, "no actions with a counts-only token");
    // It outlives the session's 15-minute idle limit, not its 12 hours.
    hub.clock.advance(SignedDuration::from_mins(30));
    assert_eq!(status_of(&hub, "/v1/sync?cursor=0", &gp.token).await, 401, "the session ended idle");
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 200);
    hub.clock.advance(SignedDuration::from_hours(12));
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 401);
}

#[tokio::test]
async fn locking_ends_the_session_and_keeps_the_counts_only_token() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let gp = login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let (status, _, _) =
        login::post(&hub.client, format!("{}/v1/lock", hub.url), Some(&gp.token), &serde_json::json!({}))
            .await;
    assert_eq!(status, 204);
    assert_eq!(status_of(&hub, "/v1/sync?cursor=0", &gp.token).await, 401, "the session ended");
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 200, "counting goes on while locked");
    let (status, _, _) = login::post(
        &hub.client,
        format!("{}/v1/lock", hub.url),
        Some(&gp.counts_token),
        &serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 401, "a counts-only token cannot end anything");
}

#[tokio::test]
async fn signing_out_ends_the_counts_only_token_too() {
    let hub = start_hub(1, RatePolicy { burst: 10, per_minute: 0 }).await;
    let gp = login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 200);
    let (status, _, _) =
        login::post(&hub.client, format!("{}/v1/logout", hub.url), Some(&gp.token), &serde_json::json!({}))
            .await;
    assert_eq!(status, 204);
    assert_eq!(status_of(&hub, "/v1/events", &gp.counts_token).await, 401);
}
