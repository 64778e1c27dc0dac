//! The relay's clinician endpoints with a real signed-in session: a
//! patient message arrives, a GP syncs it and claims the thread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{self, enrol_and_login};
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
