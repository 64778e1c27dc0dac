//! A person's priority and category over real HTTP with signed-in sessions:
//! who may set them, lowering an urgent thread needs a coded reason, the
//! decision (who, when, why) reaches every reader's sync and the action log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use serde_json::{json, Value};
use support::login::{self, enrol_and_login, LoggedIn};
use support::{message, post_patient, start_hub, Hub};

async fn post_decision(hub: &Hub, who: &LoggedIn, key: &str, version: u64, decision: Value) -> (u16, Value) {
    let body = json!({"actions": [{
        "idempotency_key": key, "thread_id": 10, "expected_version": version,
        "op": {"kind": "prioritise", "decision": decision}
    }]});
    let (status, reply, _) =
        login::post(&hub.client, format!("{}/v1/actions", hub.url), Some(&who.token), &body).await;
    (status, reply)
}

async fn prioritise(hub: &Hub, who: &LoggedIn, key: &str, version: u64, decision: Value) -> Value {
    let (status, reply) = post_decision(hub, who, key, version, decision).await;
    assert_eq!(status, 200, "{reply}");
    reply["results"][0]["outcome"].clone()
}

async fn thread_meta(hub: &Hub, who: &LoggedIn) -> Value {
    let (status, page) = login::get(&hub.client, format!("{}/v1/sync?cursor=0", hub.url), &who.token).await;
    assert_eq!(status, 200, "{page}");
    page["threads"].as_array().unwrap().iter().find(|t| t["thread_id"] == 10).cloned().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_sets_priority_and_lowering_an_urgent_thread_needs_a_reason() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let (status, body) = post_patient(&hub, 0, &message(10, 100, b"sealed bytes")).await;
    assert_eq!(status, 201, "{body}");
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let navigator = enrol_and_login(&hub.url, &hub.state, Role::CareNavigator).await;

    let meta = thread_meta(&hub, &gp).await;
    assert_eq!(meta["triage"], Value::Null, "nobody has decided yet: {meta}");
    assert_eq!(meta["state"]["state"], "new");

    // A care navigator may not route a clinical thread (deny by default).
    let out =
        prioritise(&hub, &navigator, "nav-1", 1, json!({"priority": "routine", "category": "admin_letters"}))
            .await;
    assert_eq!(out["code"], "forbidden", "{out}");

    // The GP raises it: the new thread is triaged by the decision.
    let out =
        prioritise(&hub, &gp, "gp-1", 1, json!({"priority": "urgent", "category": "clinical_question"}))
            .await;
    assert_eq!(out["status"], "applied", "{out}");
    let meta = thread_meta(&hub, &gp).await;
    assert_eq!(meta["state"]["state"], "triaged", "{meta}");
    assert_eq!(meta["triage"]["decision"]["priority"], "urgent");
    assert_eq!(meta["triage"]["by"]["id"], gp.user_id.as_str());

    // Lowering it without a reason is refused, and changes nothing.
    let out =
        prioritise(&hub, &gp, "gp-2", 2, json!({"priority": "routine", "category": "clinical_question"}))
            .await;
    assert_eq!(out["code"], "reason_required", "{out}");
    assert_eq!(thread_meta(&hub, &gp).await["triage"]["decision"]["priority"], "urgent");

    // With a coded reason it is applied; a free-text reason is not a reason.
    let (status, reply) = post_decision(
        &hub,
        &gp,
        "gp-3",
        2,
        json!({"priority": "routine", "category": "clinical_question", "reason": "because I said so"}),
    )
    .await;
    assert_eq!(status, 400, "an unknown reason fails the whole request: {reply}");
    let out = prioritise(
        &hub,
        &gp,
        "gp-4",
        2,
        json!({"priority": "soon", "category": "test_results", "reason": "past_or_resolved"}),
    )
    .await;
    assert_eq!(out["status"], "applied", "{out}");
    let meta = thread_meta(&hub, &gp).await;
    assert_eq!(meta["triage"]["decision"]["priority"], "soon", "{meta}");
    assert_eq!(meta["triage"]["decision"]["reason"], "past_or_resolved");
    assert_eq!(meta["category"], "test_results", "recategorised: {meta}");

    // The action log keeps who, when and why.
    let (_, page) = login::get(&hub.client, format!("{}/v1/sync?cursor=0", hub.url), &gp.token).await;
    let logged: Vec<&Value> =
        page["actions"].as_array().unwrap().iter().filter(|a| a["op"]["kind"] == "prioritise").collect();
    assert_eq!(logged.len(), 2, "{page}");
    assert_eq!(logged[1]["op"]["decision"]["reason"], "past_or_resolved");
    assert_eq!(logged[1]["by"]["id"], gp.user_id.as_str());
}
