//! One deployment serving two practices (issue 28 point 3), on SQLite
//! files and on the real PostgreSQL `cargo xtask test` starts: nothing a
//! request of practice A sends — its staff session, its patients' tokens,
//! its invite, its ids — sees, counts or touches anything of practice B,
//! over real HTTP. The same thread id and the same message id in both
//! practices are two separate things.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

#[path = "support/backends.rs"]
mod backends;
mod support;

use std::sync::Arc;

use sealbox_hub::args;
use sealbox_hub::clock::ManualClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::db::postgres::Conninfo;
use sealbox_hub::practices::Deployment;
use sealbox_hub::relay::channels;
use sealbox_hub::server::{self, Running};
use sealbox_hub::AppState;
use sealbox_model::hub_api::PracticeFile;
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{self, enrol_and_login, LoggedIn};
use support::process::HubProcess;
use support::sse::next_event;
use support::{client, demo_practice, sealed_message, t0};

/// One practice of the deployment: its address, state, patients, staff.
struct Practice {
    id: String,
    base: String,
    state: AppState,
    patients: PracticeFile,
    gp: LoggedIn,
    admin: LoggedIn,
}

async fn practice(deployment: &Arc<Deployment>, url: &str, name: &str) -> Practice {
    let (id, said) = deployment.create(name).unwrap();
    assert!(said.contains(&id), "{said}");
    let (state, _) = deployment.serve(&id).await.unwrap().unwrap();
    let now = state.now();
    let patients = state
        .db
        .call_blocking(|c| {
            sealbox_hub::auth::policy::set(c, demo_practice(), "test", now).unwrap();
            channels::issue(c, 1, now)
        })
        .unwrap();
    assert_eq!(patients.practice_id, id);
    let base = format!("{url}/p/{id}");
    let admin = enrol_and_login(&base, &state, Role::PracticeAdmin).await;
    let gp = enrol_and_login(&base, &state, Role::Gp).await;
    Practice { id, base, state, patients, gp, admin }
}

async fn two_practices(config: HubConfig) -> (Running, String, Practice, Practice) {
    let deployment = Arc::new(Deployment::open(config, Arc::new(ManualClock::new(t0()))).unwrap());
    let running =
        server::start_deployment(deployment.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    let url = format!("http://{}", running.addr);
    let a = practice(&deployment, &url, "Riverside Surgery").await;
    let b = practice(&deployment, &url, "Hillside Practice").await;
    assert_ne!(a.id, b.id);
    (running, url, a, b)
}

async fn post_message(base: &str, token: &str, req: &sealbox_model::hub_api::PatientMessageRequest) -> u16 {
    let res = client().post(format!("{base}/v1/patient/messages")).bearer_auth(token).json(req).send().await;
    res.unwrap().status().as_u16()
}

fn thread_version(state: &AppState, thread: u64) -> Option<i64> {
    state
        .db
        .call_blocking(|c| c.query_opt("SELECT version FROM threads WHERE id = ?1", args![thread]))
        .unwrap()
        .map(|row| row.get(0).unwrap())
}

/// Every attack of A on B, over HTTP, on one deployment.
async fn practice_a_reaches_nothing_of_practice_b(config: HubConfig) {
    let (running, url, a, b) = two_practices(config).await;
    let c = client();
    let token = |p: &Practice| p.patients.patients[0].channel_token.0.clone();

    // The same thread id, and message ids, in each: two separate threads.
    let from_a = sealed_message(&a.patients, 0, 7, 70, b"practice A's patient");
    let from_b = sealed_message(&b.patients, 0, 7, 80, b"practice B's patient");
    assert_eq!(post_message(&a.base, &token(&a), &from_a).await, 201);
    assert_eq!(post_message(&b.base, &token(&b), &from_b).await, 201);

    // See: each practice's sync holds its own message only.
    for (p, mine) in [(&a, 70), (&b, 80)] {
        let (status, page) = login::get(&c, format!("{}/v1/sync", p.base), &p.gp.token).await;
        assert_eq!(status, 200, "{page}");
        let ids: Vec<u64> =
            page["envelopes"].as_array().unwrap().iter().map(|e| e["message_id"].as_u64().unwrap()).collect();
        assert_eq!(ids, vec![mine], "{page}");
    }

    // A's staff session, counts token and patient token are not B's.
    for path in ["/v1/sync", "/v1/staff", "/v1/devices", "/v1/threads/7/history"] {
        let (status, body) = login::get(&c, format!("{}{path}", b.base), &a.gp.token).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    for bearer in [&a.gp.token, &a.gp.counts_token] {
        let res = c.get(format!("{}/v1/events", b.base)).bearer_auth(bearer).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
    let again = sealed_message(&a.patients, 0, 8, 81, b"A's patient writing to B");
    assert_eq!(post_message(&b.base, &token(&a), &again).await, 401);
    let (status, _) = login::get(&c, format!("{}/v1/patient/replies", b.base), &token(&a)).await;
    assert_eq!(status, 401);

    // Touch: A's admin cannot revoke B's clinician's device, and A's GP's
    // claim of "thread 7" moves A's thread, not B's.
    let revoke = format!("{}/v1/devices/{}/revoke", a.base, b.gp.device_id);
    let (status, body, _) = login::post(&c, revoke, Some(&a.admin.token), &json!({})).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = login::get(&c, format!("{}/v1/sync", b.base), &b.gp.token).await;
    assert_eq!(status, 200, "B's GP still signed in");
    let before_b = thread_version(&b.state, 7).unwrap();
    let claim = json!({"actions": [{"idempotency_key": "k-1", "thread_id": 7,
                                    "expected_version": thread_version(&a.state, 7).unwrap(),
                                    "op": {"kind": "claim"}}]});
    let (status, body, _) =
        login::post(&c, format!("{}/v1/actions", a.base), Some(&a.gp.token), &claim).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(thread_version(&b.state, 7), Some(before_b), "B's thread 7 untouched");
    assert!(thread_version(&a.state, 7).unwrap() > before_b, "A's thread 7 moved");

    // An invite of A's does not enrol at B.
    let code = login::invite(&a.state, Role::Nurse);
    let refused = login::enrol_start(&c, &b.base, &code).await;
    assert!(matches!(refused, Err((400..=499, _))), "{:?}", refused.map(|_| ()));

    // Count and hear: B's stream counts B's one waiting thread, and a new
    // message to A is never told to it (on PostgreSQL each practice has
    // its own NOTIFY channel); the next event B hears is B's own.
    let res = c.get(format!("{}/v1/events", b.base)).bearer_auth(&b.gp.token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut stream = res.bytes_stream();
    let mut buf = String::new();
    let first = next_event(&mut stream, &mut buf, |_| true).await;
    assert_eq!(first["pools"]["gp"], 1, "{first}");
    let to_a = sealed_message(&a.patients, 0, 9, 90, b"a second message to A");
    assert_eq!(post_message(&a.base, &token(&a), &to_a).await, 201);
    let to_b = sealed_message(&b.patients, 0, 10, 100, b"a second message to B");
    assert_eq!(post_message(&b.base, &token(&b), &to_b).await, 201);
    let heard = next_event(&mut stream, &mut buf, |e| e["thread_ids"] != json!([])).await;
    assert_eq!(heard["thread_ids"], json!([10]), "{heard}");
    assert_eq!(heard["pools"]["gp"], 2, "{heard}");
    // Time for a notification of A's to have crossed, had it been sent
    // where B listens: B's next event is still B's alone.
    let again_b = sealed_message(&b.patients, 0, 11, 110, b"a third message to B");
    assert_eq!(post_message(&b.base, &token(&b), &again_b).await, 201);
    let heard = next_event(&mut stream, &mut buf, |e| e["thread_ids"] != json!([])).await;
    assert_eq!(heard["thread_ids"], json!([11]), "{heard}");
    assert_eq!(heard["pools"]["gp"], 3, "{heard}");

    // No practice, an unknown one, or a malformed one: the same 404.
    for path in ["/v1/health", "/p/prac-0000000000000000/v1/health", "/p/../v1/health", "/p/prac-x/v1/health"]
    {
        let res = c.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    let res = c.get(format!("{}/v1/health", a.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_practice_a_reaches_nothing_of_practice_b() {
    let dir = tempfile::tempdir().unwrap();
    practice_a_reaches_nothing_of_practice_b(HubConfig::new(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_practice_a_reaches_nothing_of_practice_b() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HubConfig::new(dir.path());
    config.postgres = Some(Conninfo(backends::fresh_postgres_database()));
    practice_a_reaches_nothing_of_practice_b(config).await;
}

/// The console makes a deployment's practices on PostgreSQL, lists them,
/// and issues a practice's invites; a node already serving serves a
/// practice added after it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_adds_practices_a_running_node_serves() {
    let dir = tempfile::tempdir().unwrap();
    let conninfo = dir.path().join("postgres.conninfo");
    std::fs::write(&conninfo, backends::fresh_postgres_database()).unwrap();
    let pg = conninfo.to_str().unwrap();
    let console = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sealbox-hub")).args(args).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{args:?}: {text} {}", String::from_utf8_lossy(&out.stderr));
        text
    };
    let id_in = |text: &str| {
        let at = text.find("prac-").unwrap();
        text[at..at + 21].to_owned()
    };

    let first = id_in(&console(&["add-practice", "--postgres-file", pg, "--name", "Riverside Surgery"]));
    let node = HubProcess::start(dir.path(), dir.path(), &["--postgres-file", pg, "--multi-practice"]);
    let second = id_in(&console(&["add-practice", "--postgres-file", pg, "--name", "Hillside Practice"]));
    let listed = console(&["practices", "--postgres-file", pg]);
    assert!(
        listed.contains(&first) && listed.contains(&second) && listed.contains("2 practice(s)"),
        "{listed}"
    );

    for id in [&first, &second] {
        let res = client().get(format!("{}/p/{id}/v1/health", node.url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{id}");
        // A practice's invite, from the console, enrols at that practice.
        let said = console(&[
            "invite",
            "--postgres-file",
            pg,
            "--practice",
            id,
            "--role",
            "gp",
            "--name",
            "Dr Test",
        ]);
        let code = said.split_whitespace().last().unwrap();
        let challenge = login::enrol_start(&client(), &format!("{}/p/{id}", node.url), code).await;
        assert!(challenge.is_ok(), "{said}");
    }
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_sealbox-hub"))
        .args(["invite", "--postgres-file", pg, "--practice", "prac-0000000000000000", "--role", "gp"])
        .args(["--name", "Dr Nobody"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no practice"), "{unknown:?}");
}
