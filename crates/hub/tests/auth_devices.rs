//! Devices and pool keys over HTTP: key upload, admin approval, pool public
//! keys published (and served by GET /v1/practice/keys), sealed private key
//! blobs, revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sealbox_hub::config::RatePolicy;
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{self, enrol_and_login, login_start};
use support::start_hub;

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[tokio::test]
async fn admin_approves_a_device_seals_pool_keys_to_it_and_revokes_it() {
    let hub = start_hub(0, RatePolicy::default()).await;
    let (c, url) = (&hub.client, hub.url.clone());
    let admin = enrol_and_login(&url, &hub.state, Role::PracticeAdmin).await;
    let mut nurse = login::enrol_and_login_unapproved(&url, &hub.state, Role::Nurse).await;

    // Bad keys: named field.
    let (status, body, _) = login::post(
        c,
        format!("{url}/v1/devices/keys"),
        Some(&nurse.token),
        &json!({"x25519_public": b64(&[1; 31]), "ed25519_public": b64(&[2; 32])}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["field"], "x25519_public");
    let keys = json!({"x25519_public": b64(&[1; 32]), "ed25519_public": b64(&[2; 32])});
    let (status, _, _) = login::post(c, format!("{url}/v1/devices/keys"), Some(&nurse.token), &keys).await;
    assert_eq!(status, 204);

    // Not approved yet: no blobs; only an admin may approve.
    assert_eq!(login::get(c, format!("{url}/v1/devices/me/pool-keys"), &nurse.token).await.0, 403);
    let approve = format!("{url}/v1/devices/{}/approve", nurse.device_id);
    assert_eq!(login::post(c, approve.clone(), Some(&nurse.token), &json!({})).await.0, 403);
    assert_eq!(login::post(c, approve, Some(&admin.token), &json!({})).await.0, 204);
    let (status, body) = login::get(c, format!("{url}/v1/devices"), &admin.token).await;
    assert_eq!(status, 200);
    let listed =
        body["devices"].as_array().unwrap().iter().find(|d| d["id"] == nurse.device_id.as_str()).unwrap();
    assert_eq!(listed["approved"], true);
    assert_eq!(listed["keys"], keys);

    // Publish the nurse pool's public key; versions only go up.
    let publish = format!("{url}/v1/practice/keys/nurse");
    let key_v1 = json!({"x25519_public": b64(&[7; 32]), "key_version": 1});
    assert_eq!(login::put(c, publish.clone(), &nurse.token, &key_v1).await.0, 403);
    assert_eq!(login::put(c, publish.clone(), &admin.token, &key_v1).await.0, 201);
    assert_eq!(login::put(c, publish.clone(), &admin.token, &key_v1).await.0, 204, "retry-safe");
    let stale = json!({"x25519_public": b64(&[8; 32]), "key_version": 1});
    assert_eq!(login::put(c, publish, &admin.token, &stale).await.0, 409);
    let practice: serde_json::Value =
        c.get(format!("{url}/v1/practice/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        practice["pools"],
        json!([{"pool": "nurse", "x25519_public": b64(&[7; 32]), "key_version": 1}])
    );

    // Seal it to the nurse's device (the hub keeps opaque bytes, ≤ 4 KiB).
    let put_keys = format!("{url}/v1/devices/{}/pool-keys", nurse.device_id);
    let too_big = json!({"keys": [{"pool": "nurse", "key_version": 1, "sealed": b64(&vec![0; 4097])}]});
    assert_eq!(login::put(c, put_keys.clone(), &admin.token, &too_big).await.0, 400);
    let unpublished = json!({"keys": [{"pool": "gp", "key_version": 1, "sealed": b64(&[9; 80])}]});
    assert_eq!(login::put(c, put_keys.clone(), &admin.token, &unpublished).await.0, 409);
    let sealed = json!({"keys": [{"pool": "nurse", "key_version": 1, "sealed": b64(&[9; 80])}]});
    assert_eq!(login::put(c, put_keys, &admin.token, &sealed).await.0, 204);
    let (status, body) = login::get(c, format!("{url}/v1/devices/me/pool-keys"), &nurse.token).await;
    assert_eq!(status, 200);
    assert_eq!(body, sealed);

    // Revoke: the session dies, the blobs go, login is refused.
    let revoke = format!("{url}/v1/devices/{}/revoke", nurse.device_id);
    assert_eq!(login::post(c, revoke, Some(&admin.token), &json!({})).await.0, 204);
    assert_eq!(login::get(c, format!("{url}/v1/devices/me/pool-keys"), &nurse.token).await.0, 401);
    let blobs: i64 = hub
        .state
        .db
        .sqlite_blocking(|conn| conn.query_row("SELECT COUNT(*) FROM device_pool_keys", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(blobs, 0);
    // The revoked key is still challenged (so its holder, and only they,
    // learns why), and its answer is refused.
    let challenge = login_start(c, &url, &nurse.user_id).await.unwrap();
    let answer = login::assert(&mut nurse.key, &login::origin(&hub.state), &challenge);
    let (status, body, _) = login::login_finish(c, &url, &challenge.ceremony_id, &answer).await.unwrap_err();
    assert_eq!(status, 401);
    assert!(body.to_string().contains("revoked"), "{body}");
}
