//! `GET /v1/staff` over real HTTP: an approved device gets every member of
//! staff by id, name and role (so screens name people, not ids); no
//! session, or an enrolled but unapproved device, gets nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use support::login::{self, enrol_and_login, enrol_and_login_unapproved};
use support::start_hub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_approved_device_reads_the_staff_directory() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let gp = enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let nurse = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    let stranger = enrol_and_login_unapproved(&hub.url, &hub.state, Role::Pharmacist).await;

    let res = hub.client.get(format!("{}/v1/staff", hub.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401, "no session, no names");
    let (status, body) = login::get(&hub.client, format!("{}/v1/staff", hub.url), &stranger.token).await;
    assert_eq!(status, 403, "an unapproved device reads nothing: {body}");

    let (status, body) = login::get(&hub.client, format!("{}/v1/staff", hub.url), &nurse.token).await;
    assert_eq!(status, 200, "{body}");
    let staff = body["staff"].as_array().unwrap();
    let entry = |id: &str| staff.iter().find(|s| s["id"] == id).cloned().unwrap_or_default();
    assert_eq!(entry(&gp.user_id)["role"], "gp");
    assert_eq!(entry(&gp.user_id)["name"], "Test Staff");
    assert_eq!(entry(&nurse.user_id)["role"], "nurse");
    assert_eq!(staff.len(), 3, "everyone the hub knows, approved or not: {body}");
    for s in staff {
        let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["active", "id", "name", "role"],
            "id, name, role and whether they work here now only: {s}"
        );
    }
}
