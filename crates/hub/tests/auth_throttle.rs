//! Login throttling (per user and per address, 429 + Retry-After) and the
//! login record a user can read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::auth::throttle::FREE_FAILURES;
use sealbox_hub::config::RatePolicy;
use sealbox_model::jiff::SignedDuration;
use sealbox_model::role::Role;
use support::login::{self, enrol_and_login, login_finish, login_start, origin};
use support::start_hub;

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after_then_recover() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let mut me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    // A valid assertion for one challenge, sent to other challenges: each fails.
    let first = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let wrong = login::assert(&mut me.key, &origin, &first);
    for _ in 0..FREE_FAILURES {
        let c = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
        let (status, _, _) = login_finish(&hub.client, &hub.url, &c.ceremony_id, &wrong).await.unwrap_err();
        assert_eq!(status, 401);
    }
    let (status, body, retry) = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap_err();
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry.as_deref(), Some("30"));
    // The live challenge from before cannot be used either.
    let right = login::assert(&mut me.key, &origin, &first);
    let (status, _, _) = login_finish(&hub.client, &hub.url, &first.ceremony_id, &right).await.unwrap_err();
    assert_eq!(status, 429);
    // After Retry-After, a correct login works and resets the count.
    hub.clock.advance(SignedDuration::from_secs(30));
    login::login(&hub.client, &hub.url, &origin, &me.user_id, &mut me.key).await;
    login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
}

#[tokio::test]
async fn guessing_invite_codes_from_one_address_is_throttled() {
    let hub = start_hub(0, RatePolicy::default()).await;
    for i in 0..FREE_FAILURES {
        let code = format!("{i:032x}");
        let (status, _) = login::enrol_start(&hub.client, &hub.url, &code).await.unwrap_err();
        assert_eq!(status, 401);
    }
    let real = login::invite(&hub.state, Role::Nurse);
    let (status, _) = login::enrol_start(&hub.client, &hub.url, &real).await.unwrap_err();
    assert_eq!(status, 429);
    hub.clock.advance(SignedDuration::from_mins(1));
    login::enrol_start(&hub.client, &hub.url, &real).await.unwrap();
}

#[tokio::test]
async fn a_user_sees_their_own_login_history() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let origin = origin(&hub.state);
    let mut me = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let other = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    // One failure for me.
    let a = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    let stale = login::assert(&mut me.key, &origin, &a);
    let b = login_start(&hub.client, &hub.url, &me.user_id).await.unwrap();
    login_finish(&hub.client, &hub.url, &b.ceremony_id, &stale).await.unwrap_err();
    let (status, body) = login::get(&hub.client, format!("{}/v1/me/logins", hub.url), &me.token).await;
    assert_eq!(status, 200, "{body}");
    let attempts = body["attempts"].as_array().unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    let kinds: Vec<&str> = attempts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["failed", "ok", "ok"], "newest first: {body}");
    assert_eq!(kinds, ["login", "login", "enrol"]);
    assert_eq!(attempts[1]["device_id"], me.device_id.as_str());
    assert_eq!(attempts[1]["address"], "127.0.0.1");
    assert!(attempts.iter().all(|a| a["at"].as_str().unwrap().ends_with('Z')));
    // The other user sees only theirs.
    let (_, body) = login::get(&hub.client, format!("{}/v1/me/logins", hub.url), &other.token).await;
    assert_eq!(body["attempts"].as_array().unwrap().len(), 2);
}
