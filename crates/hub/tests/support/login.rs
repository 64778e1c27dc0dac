//! Enrolment and login over real HTTP with a software authenticator
//! (webauthn-authenticator-rs SoftPasskey: real P-256 signatures, verified
//! by the hub's webauthn-rs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::Client;
use sealbox_hub::auth::api::{EnrolChallenge, Enrolled, LoginChallenge, Session};
use sealbox_hub::auth::invites;
use sealbox_hub::AppState;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use serde_json::{json, Value};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential, Url};

/// A signed-in member of staff.
pub struct LoggedIn {
    pub token: String,
    /// Accepted by `GET /v1/events` only.
    pub counts_token: String,
    pub user_id: String,
    pub device_id: String,
    pub role: Role,
    pub practice_id: String,
    /// The security key (for further logins).
    pub key: SoftPasskey,
}

/// The origin the hub's relying party expects.
pub fn origin(state: &AppState) -> Url {
    Url::parse(&state.config.webauthn.rp_origin).unwrap()
}

/// The registration the tests' clinicians carry (none for other roles).
pub fn registration(role: Role) -> Option<Registration> {
    let text = match role {
        Role::Gp => "GMC 7012345",
        Role::Nurse => "NMC 12A3456E",
        Role::Pharmacist => "GPhC 2034567",
        Role::CareNavigator | Role::PracticeAdmin => return None,
    };
    Registration::parse(text).ok()
}

/// Issues an invite directly in the database (as `sealbox-hub invite` does).
pub fn invite(state: &AppState, role: Role) -> String {
    let now = state.now();
    let reg = registration(role);
    state
        .db
        .call_blocking(|conn| {
            invites::issue(conn, role, "Test Staff", reg.as_ref(), now, invites::DEFAULT_TTL)
        })
        .unwrap()
}

/// POSTs JSON; returns (status, body as JSON or Null).
pub async fn post(
    client: &Client,
    url: String,
    bearer: Option<&str>,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let mut req = client.post(url).json(body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

/// A software security key that reports user verification (it has no
/// PIN; `SoftPasskey::new(true)` claims UV, which the hub requires).
pub fn new_key() -> SoftPasskey {
    SoftPasskey::new(true)
}

/// Enrolment step 1.
pub async fn enrol_start(client: &Client, base: &str, code: &str) -> Result<EnrolChallenge, (u16, Value)> {
    let (status, body, _) = post(
        client,
        format!("{base}/v1/enrol/start"),
        None,
        &json!({"invite_code": code, "device_name": "Test PC"}),
    )
    .await;
    if status != 200 {
        return Err((status, body));
    }
    Ok(serde_json::from_value(body).unwrap())
}

/// Enrolment step 2.
pub async fn enrol_finish(
    client: &Client,
    base: &str,
    ceremony_id: &str,
    credential: &RegisterPublicKeyCredential,
) -> Result<Enrolled, (u16, Value)> {
    let (status, body, _) = post(
        client,
        format!("{base}/v1/enrol/finish"),
        None,
        &json!({"ceremony_id": ceremony_id, "credential": credential}),
    )
    .await;
    if status != 201 {
        return Err((status, body));
    }
    Ok(serde_json::from_value(body).unwrap())
}

/// Enrols `key` with `code`; Ok(enrolled) or Err((status, problem)).
pub async fn enrol(
    client: &Client,
    base: &str,
    origin: &Url,
    code: &str,
    key: &mut SoftPasskey,
) -> Result<Enrolled, (u16, Value)> {
    let challenge = enrol_start(client, base, code).await?;
    let credential = key.do_registration(origin.clone(), challenge.options).unwrap();
    enrol_finish(client, base, &challenge.ceremony_id, &credential).await
}

/// Login step 1: the challenge, or Err((status, problem, retry-after)).
pub async fn login_start(
    client: &Client,
    base: &str,
    user_id: &str,
) -> Result<LoginChallenge, (u16, Value, Option<String>)> {
    let (status, body, retry) =
        post(client, format!("{base}/v1/login/start"), None, &json!({"user_id": user_id})).await;
    if status != 200 {
        return Err((status, body, retry));
    }
    Ok(serde_json::from_value(body).unwrap())
}

/// The authenticator's assertion for a challenge.
pub fn assert(key: &mut SoftPasskey, origin: &Url, challenge: &LoginChallenge) -> PublicKeyCredential {
    key.do_authentication(origin.clone(), challenge.options.clone()).unwrap()
}

/// Login step 2: the session, or Err((status, problem, retry-after)).
pub async fn login_finish(
    client: &Client,
    base: &str,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> Result<Session, (u16, Value, Option<String>)> {
    let (status, body, retry) = post(
        client,
        format!("{base}/v1/login/finish"),
        None,
        &json!({"ceremony_id": ceremony_id, "credential": credential}),
    )
    .await;
    if status != 201 {
        return Err((status, body, retry));
    }
    Ok(serde_json::from_value(body).unwrap())
}

/// A full login with `key`.
pub async fn login(
    client: &Client,
    base: &str,
    origin: &Url,
    user_id: &str,
    key: &mut SoftPasskey,
) -> Session {
    let challenge = login_start(client, base, user_id).await.unwrap();
    let credential = assert(key, origin, &challenge);
    login_finish(client, base, &challenge.ceremony_id, &credential).await.unwrap()
}

/// Invites, enrols a new security key, has the device approved (as the
/// practice admin would) and logs in: a session for `role`.
pub async fn enrol_and_login(base: &str, state: &AppState, role: Role) -> LoggedIn {
    let who = enrol_and_login_unapproved(base, state, role).await;
    approve(state, &who.device_id);
    who
}

/// Marks `device` approved in the hub's database (what the admin's
/// `POST /v1/devices/{id}/approve` records).
pub fn approve(state: &AppState, device: &str) {
    let device = device.to_owned();
    let now = sealbox_hub::db::time::to_db(state.now());
    state
        .db
        .call_blocking(move |conn| {
            conn.execute(
                "UPDATE devices SET approved_at_us = ?2, approved_by = 'test' WHERE id = ?1",
                sealbox_hub::args![device, now],
            )
        })
        .unwrap();
}

/// Invites, enrols and logs in, leaving the device unapproved.
pub async fn enrol_and_login_unapproved(base: &str, state: &AppState, role: Role) -> LoggedIn {
    let client = super::client();
    let origin = origin(state);
    let mut key = new_key();
    let code = invite(state, role);
    let enrolled = enrol(&client, base, &origin, &code, &mut key).await.unwrap();
    let session = login(&client, base, &origin, &enrolled.user_id, &mut key).await;
    assert_eq!(session.user_id, enrolled.user_id);
    LoggedIn {
        token: session.token,
        counts_token: session.counts_token,
        user_id: session.user_id,
        device_id: session.device_id,
        role: session.role,
        practice_id: session.practice_id,
        key,
    }
}

/// GET with a bearer token; returns (status, JSON body or Null).
pub async fn get(client: &Client, url: String, bearer: &str) -> (u16, Value) {
    let res = client.get(url).bearer_auth(bearer).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// PUT JSON with a bearer token; returns (status, JSON body or Null).
pub async fn put(client: &Client, url: String, bearer: &str, body: &Value) -> (u16, Value) {
    let res = client.put(url).bearer_auth(bearer).json(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
