//! Several hub nodes on one PostgreSQL database: real `sealbox-hub serve`
//! processes started with `--postgres-file`, on the cluster `cargo xtask
//! test` starts. A message posted to node A reaches an event stream open
//! on node B (NOTIFY, then a read), also when B's listening connection was
//! cut (B catches up from the change log); a session made on B is good on
//! A, and a patient's rate limit is one bucket across the nodes; a node
//! killed mid-request loses nothing it accepted. A node that reaches the
//! database over TCP holds only TLS connections (its pool and its LISTEN).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

#[path = "support/backends.rs"]
mod backends;
mod support;

use std::sync::Arc;

use sealbox_hub::args;
use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::db::postgres::Conninfo;
use sealbox_hub::db::practice;
use sealbox_hub::relay::channels;
use sealbox_hub::AppState;
use sealbox_model::hub_api::{PatientMessageRequest, PracticeFile};
use sealbox_model::role::Role;
use serde_json::json;
use support::login::{self, enrol_and_login};
use support::process::HubProcess;
use support::sse::next_event;
use support::{client, demo_practice, sealed_message};

/// A PostgreSQL database set up as `sealbox-hub init-practice` and
/// `patient-channels` would, and a console (an AppState on it, serving
/// nothing) to issue invites through; the file naming the database.
struct Shared {
    console: AppState,
    practice: PracticeFile,
    conninfo_file: std::path::PathBuf,
    dir: tempfile::TempDir,
}

fn shared(patients: u32) -> Shared {
    let dir = tempfile::tempdir().unwrap();
    let conninfo = backends::fresh_postgres_database();
    let conninfo_file = dir.path().join("postgres.conninfo");
    std::fs::write(&conninfo_file, &conninfo).unwrap();
    let mut config = HubConfig::new(dir.path().join("console"));
    config.postgres = Some(Conninfo(conninfo));
    let console = AppState::open(config, Arc::new(SystemClock)).unwrap();
    let now = console.now();
    let practice = console
        .db
        .call_blocking(|c| {
            practice::create(c, "Network Surgery", now).unwrap();
            sealbox_hub::auth::policy::set(c, demo_practice(), "test", now).unwrap();
            channels::issue(c, patients, now)
        })
        .unwrap();
    Shared { console, practice, conninfo_file, dir }
}

/// A `serve` process on the shared database, allowing each patient
/// channel `burst` messages and no refill during the test.
fn node(shared: &Shared, name: &str, burst: u32) -> HubProcess {
    node_at(shared, &shared.conninfo_file, name, burst)
}

/// [`node`] reaching the database as the file `conninfo_file` says.
fn node_at(shared: &Shared, conninfo_file: &std::path::Path, name: &str, burst: u32) -> HubProcess {
    let data = shared.dir.path().join(name);
    std::fs::create_dir_all(&data).unwrap();
    let postgres = conninfo_file.to_str().unwrap();
    let burst = burst.to_string();
    let args = ["--postgres-file", postgres, "--patient-burst", &burst, "--patient-per-minute", "0"];
    HubProcess::start(&data, &data, &args)
}

/// `url`'s event stream for `token`, its first event read.
async fn events(
    url: &str,
    token: &str,
) -> (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin, String) {
    let res = client().get(format!("{url}/v1/events")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut stream = res.bytes_stream();
    let mut buf = String::new();
    next_event(&mut stream, &mut buf, |_| true).await;
    (stream, buf)
}

async fn post(url: &str, practice: &PracticeFile, patient: usize, req: &PatientMessageRequest) -> u16 {
    client()
        .post(format!("{url}/v1/patient/messages"))
        .bearer_auth(&practice.patients[patient].channel_token.0)
        .json(req)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_posted_to_one_node_reaches_the_streams_on_another() {
    let shared = shared(1);
    let (a, b) = (node(&shared, "a", 3), node(&shared, "b", 3));
    let gp = enrol_and_login(&b.url, &shared.console, Role::Gp).await;

    // The session made on B is good on A: sessions live in the database.
    let (status, _) = login::get(&client(), format!("{}/v1/sync", a.url), &gp.token).await;
    assert_eq!(status, 200);

    let (mut stream, mut buf) = events(&b.url, &gp.token).await;

    let first = sealed_message(&shared.practice, 0, 41, 410, b"please renew my inhaler");
    assert_eq!(post(&a.url, &shared.practice, 0, &first).await, 201);
    let event = next_event(&mut stream, &mut buf, |e| e["thread_ids"] == json!([41])).await;
    assert_eq!(event["pools"]["gp"], 1, "{event}");
    // And B serves it: a read, not a copy carried in the notification.
    let (_, page) = login::get(&client(), format!("{}/v1/sync", b.url), &gp.token).await;
    assert_eq!(page["envelopes"][0]["message_id"], 410, "{page}");

    // Every listening connection cut (as a database failover would): the
    // message committed meanwhile still reaches B, from the change log.
    shared
        .console
        .db
        .call_blocking(|c| {
            c.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'",
                args![],
            )
        })
        .unwrap();
    let second = sealed_message(&shared.practice, 0, 42, 420, b"and my blood pressure tablets");
    assert_eq!(post(&a.url, &shared.practice, 0, &second).await, 201);
    let event = next_event(&mut stream, &mut buf, |e| e["thread_ids"] == json!([42])).await;
    assert!(event["seq"].as_u64().unwrap() >= 2, "{event}");

    // The patient's third message (burst 3) is taken by B; a fourth is
    // refused by A: one bucket in the database, not one per node.
    let third = sealed_message(&shared.practice, 0, 43, 430, b"third");
    assert_eq!(post(&b.url, &shared.practice, 0, &third).await, 201);
    let fourth = sealed_message(&shared.practice, 0, 44, 440, b"fourth");
    assert_eq!(post(&a.url, &shared.practice, 0, &fourth).await, 429);
    assert_eq!(post(&b.url, &shared.practice, 0, &fourth).await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reaching_postgresql_over_tcp_holds_only_verified_tls_connections() {
    let shared = shared(1);
    let over_tls = shared.dir.path().join("postgres-tls.conninfo");
    std::fs::write(&over_tls, backends::over_tls(&std::fs::read_to_string(&shared.conninfo_file).unwrap()))
        .unwrap();
    // A on the socket, B over TCP: a post to A reaches B's stream only
    // through B's LISTEN, so B's pool and its listener both work over TLS.
    let (a, b) = (node(&shared, "a", 3), node_at(&shared, &over_tls, "b", 3));
    let gp = enrol_and_login(&b.url, &shared.console, Role::Gp).await;
    let (mut stream, mut buf) = events(&b.url, &gp.token).await;
    let first = sealed_message(&shared.practice, 0, 51, 510, b"please call me back");
    assert_eq!(post(&a.url, &shared.practice, 0, &first).await, 201);
    next_event(&mut stream, &mut buf, |e| e["thread_ids"] == json!([51])).await;

    // Every connection to this database from TCP (B's: A and the console
    // use the socket) is TLS, the listener's among them.
    let tcp: Vec<(String, String)> = shared
        .console
        .db
        .call_blocking(|c| {
            c.query_map(
                "SELECT coalesce(a.query, ''), s.ssl::text FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                 WHERE a.datname = current_database() AND a.client_addr IS NOT NULL",
                args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap();
    assert!(tcp.len() >= 2, "B's pool and listener: {tcp:?}");
    assert!(tcp.iter().all(|(_, ssl)| ssl == "true"), "{tcp:?}");
    assert!(tcp.iter().any(|(query, _)| query.starts_with("LISTEN")), "{tcp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_request_loses_nothing_it_accepted() {
    let shared = shared(4);
    // Fifty messages a patient, each perhaps twice: no rate limit in the way.
    let (mut a, b) = (node(&shared, "a", 1000), node(&shared, "b", 1000));
    let messages: Vec<(usize, PatientMessageRequest)> = (0..200u64)
        .map(|i| {
            let patient = (i % 4) as usize;
            (patient, sealed_message(&shared.practice, patient, 100 + i % 4, 1000 + i, b"repeat request"))
        })
        .collect();
    let messages = Arc::new(messages);

    // Four clients post to A at once; A is killed while they are at it,
    // once the 40th answer is in.
    let answered = Arc::new(std::sync::Mutex::new(Vec::new()));
    let fortieth = Arc::new(tokio::sync::Notify::new());
    let mut clients = Vec::new();
    for part in 0..4usize {
        let (url, practice, messages, answered, fortieth) =
            (a.url.clone(), shared.practice.clone(), messages.clone(), answered.clone(), fortieth.clone());
        clients.push(tokio::spawn(async move {
            for (i, (patient, req)) in messages.iter().enumerate().skip(part).step_by(4) {
                if post(&url, &practice, *patient, req).await == 201 {
                    let mut answered = answered.lock().unwrap();
                    answered.push(i);
                    if answered.len() == 40 {
                        fortieth.notify_one();
                    }
                }
            }
        }));
    }
    tokio::time::timeout(std::time::Duration::from_secs(60), fortieth.notified())
        .await
        .expect("node A answered fewer than 40 posts");
    tokio::task::spawn_blocking(move || {
        a.kill();
        a
    })
    .await
    .unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 40 && answered.len() < messages.len(), "killed mid-run: {}", answered.len());

    // Everything A answered 201 for is in the database B serves.
    let stored: Vec<i64> = shared
        .console
        .db
        .call_blocking(|c| c.query_map("SELECT message_id FROM envelopes", args![], |r| r.get(0)))
        .unwrap();
    for i in &answered {
        let id = i64::try_from(messages[*i].1.message_id.0).unwrap();
        assert!(stored.contains(&id), "message {id} was answered 201 by A and is gone");
    }
    // The patients send again what went unanswered, to B: each message
    // once, none twice (a post A had stored before dying is a duplicate).
    for (patient, req) in messages.iter() {
        let status = post(&b.url, &shared.practice, *patient, req).await;
        assert!(status == 201 || status == 200, "status {status}");
    }
    let (count, distinct): (i64, i64) = shared
        .console
        .db
        .call_blocking(|c| {
            let row = c.query_opt("SELECT count(*), count(DISTINCT message_id) FROM envelopes", args![])?;
            let row = row.ok_or(sealbox_hub::db::DbError::NoRow)?;
            Ok::<_, sealbox_hub::db::DbError>((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!((count, distinct), (200, 200));
}
