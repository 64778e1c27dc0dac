//! `cargo xtask bench hub`: the hub under load on loopback. N clinician
//! clients hold the event stream (a subset also syncs on every event) while
//! simulated patients post sealed messages as fast as the hub takes them.
//! Prints ingest messages/s, push latency (post sent → event received, per
//! thread, sampled on every 10th client) and sync latency (request → page;
//! a syncing client pulls on an event, at most once a second).
//!
//! Options (after `--`): --clients N (1000) --messages N (20000)
//! --syncers N (50) --concurrency N (64) --sessions N (20) --nodes N (1)
//! --postgres (the hub on a fresh database in the PostgreSQL cluster named
//! by `SEALBOX_TEST_POSTGRES`, which `cargo xtask bench hub --backend
//! postgres` starts). With N nodes, N hubs share that database, each with
//! its own pool, listener and port; clients and patients are spread over
//! them in turn.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

#[path = "../tests/support/backends.rs"]
mod backends;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use reqwest::Client;
use tokio::sync::{watch, Notify};

use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::{HubConfig, RatePolicy};
use sealbox_hub::db::postgres::Conninfo;
use sealbox_hub::db::practice;
use sealbox_hub::relay::channels;
use sealbox_hub::{server, AppState};
use sealbox_model::hub_api::{Base64Bytes, Cursor, PatientMessageRequest, PushEvent};
use sealbox_model::role::Role;
use sealbox_sim::seal::seal_message;
use sealbox_sim::{send, traffic};

/// How often a syncing client may pull during a burst.
const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// The longest pause between an event and the pull it causes.
const SYNC_JITTER: Duration = Duration::from_millis(500);

struct Args {
    clients: usize,
    messages: usize,
    syncers: usize,
    concurrency: usize,
    sessions: usize,
    nodes: usize,
    postgres: bool,
}

impl Args {
    fn parse() -> Args {
        let mut a = Args {
            clients: 1000,
            messages: 20_000,
            syncers: 50,
            concurrency: 64,
            sessions: 20,
            nodes: 1,
            postgres: false,
        };
        let argv: Vec<String> = std::env::args().collect();
        let mut i = 1;
        while i < argv.len() {
            if argv[i] == "--postgres" {
                a.postgres = true;
                i += 1;
                continue;
            }
            let value = argv.get(i + 1).and_then(|v| v.parse::<usize>().ok());
            match (argv[i].as_str(), value) {
                ("--clients", Some(v)) => a.clients = v,
                ("--messages", Some(v)) => a.messages = v,
                ("--syncers", Some(v)) => a.syncers = v,
                ("--concurrency", Some(v)) => a.concurrency = v,
                ("--sessions", Some(v)) => a.sessions = v.max(1),
                ("--nodes", Some(v)) => a.nodes = v.max(1),
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        a
    }
}

/// The part of a sync page the generator needs: where the next one starts.
#[derive(serde::Deserialize)]
struct PageTail {
    next_cursor: Cursor,
    more: bool,
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// (when, threads) per event, on sampled clients.
    events: Vec<(Instant, Vec<u64>)>,
    /// Durations of sync requests, on syncing clients.
    syncs: Vec<Duration>,
}

async fn client_task(
    http: Client,
    base: String,
    token: String,
    sample: bool,
    syncer: bool,
    ready: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> Seen {
    let mut seen = Seen::default();
    let resp = http.get(format!("{base}/v1/events")).bearer_auth(&token).send().await.unwrap();
    assert!(resp.status().is_success(), "events: {}", resp.status());
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut first = true;
    let wake = Arc::new(Notify::new());
    let syncing = syncer.then(|| {
        let (http, base, token, wake) = (http.clone(), base.clone(), token.clone(), wake.clone());
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut cursor = 0u64;
            let mut durations = Vec::new();
            loop {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = stop.changed() => return durations,
                }
                // A desktop pulls at most once a second during a burst: the
                // event says "something changed", the next pull gets it all.
                let next_allowed = tokio::time::Instant::now() + SYNC_INTERVAL;
                // ...after a random pause of up to SYNC_JITTER, so a
                // practice's desktops do not all pull in the same instant.
                let pause = SYNC_JITTER.mul_f64(rand::random::<f64>());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return durations,
                }
                loop {
                    let t = Instant::now();
                    let resp = http
                        .get(format!("{base}/v1/sync?cursor={cursor}&limit=500"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    // The desktop opens the envelopes on its own CPU; the
                    // generator shares the hub's cores, so it reads the whole
                    // page but decodes only where to go next.
                    let page: PageTail = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                    durations.push(t.elapsed());
                    cursor = page.next_cursor.0;
                    if !page.more {
                        break;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(next_allowed) => {}
                    _ = stop.changed() => return durations,
                }
            }
        })
    });
    loop {
        let chunk = tokio::select! {
            c = body.next() => c,
            _ = stop.changed() => None,
        };
        let Some(Ok(chunk)) = chunk else { break };
        let at = Instant::now();
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = buf.drain(..end + 2).collect();
            let Some(start) = block.windows(5).position(|w| w == b"data:") else { continue };
            if first {
                first = false;
                ready.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            // Only sampled clients decode the event (the generator shares
            // the hub's two cores); every client still receives all of it.
            if sample {
                let event: PushEvent = serde_json::from_slice(block[start + 5..].trim_ascii()).unwrap();
                seen.events.push((at, event.thread_ids.iter().map(|t| t.0).collect()));
            }
            if syncer {
                wake.notify_one();
            }
        }
    }
    if let Some(handle) = syncing {
        seen.syncs = handle.await.unwrap();
    }
    seen
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    assert!(args.postgres || args.nodes == 1, "several nodes share a PostgreSQL database: add --postgres");
    let dir = tempfile::tempdir().unwrap();
    let conninfo = args.postgres.then(backends::fresh_postgres_database);
    let open = |n: usize| {
        let mut config = HubConfig::new(dir.path().join(format!("node-{n}")));
        config.patient_rate = RatePolicy { burst: 1_000_000, per_minute: 60_000_000 };
        config.postgres = conninfo.clone().map(Conninfo);
        AppState::open(config, Arc::new(SystemClock)).unwrap()
    };
    let state = open(0);
    let now = state.now();
    state.db.call_blocking(move |c| practice::create(c, "Load Surgery", now)).unwrap();
    support::pool_keys::publish(&state);
    let practice_file = state.db.call_blocking(move |c| channels::issue(c, 200, now)).unwrap();
    let mut nodes = vec![state.clone()];
    nodes.extend((1..args.nodes).map(open));
    let mut running = Vec::new();
    let mut bases = Vec::new();
    for node in &nodes {
        let r = server::start(node.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
        bases.push(format!("http://{}", r.addr));
        running.push(r);
    }
    let base = bases[0].clone();
    let http = support::client();

    // Clinicians: real WebAuthn enrolment and login (software authenticator),
    // each on a node in turn (a session is good on every node).
    let mut tokens = Vec::new();
    for i in 0..args.sessions {
        tokens.push(support::login::enrol_and_login(&bases[i % bases.len()], &state, Role::Gp).await.token);
    }

    // Patients' envelopes are sealed on their devices: seal before timing.
    let pools = send::fetch_pool_keys(&http, &base, &practice_file).await.unwrap();
    let plan = traffic::plan(7, 200, args.messages);
    let bodies: Vec<(u64, String, Vec<u8>)> = plan
        .iter()
        .map(|m| {
            let patient = &practice_file.patients[m.patient];
            let envelope = seal_message(&practice_file.practice_id, patient, &pools, m).unwrap();
            let req = PatientMessageRequest {
                thread_id: m.thread_id,
                message_id: m.message_id,
                category: m.category,
                envelope: Base64Bytes(envelope),
            };
            (m.thread_id.0, patient.channel_token.0.clone(), serde_json::to_vec(&req).unwrap())
        })
        .collect();

    // Clients connect and wait for their first event.
    let ready = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut handles = Vec::new();
    for i in 0..args.clients {
        handles.push(tokio::spawn(client_task(
            http.clone(),
            bases[i % bases.len()].clone(),
            tokens[i % tokens.len()].clone(),
            i % 10 == 0,
            i < args.syncers,
            ready.clone(),
            stop_rx.clone(),
        )));
    }
    let connect_deadline = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < args.clients {
        assert!(Instant::now() < connect_deadline, "only {} clients connected", ready.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Patients post as fast as the hub takes them.
    let started = Instant::now();
    let targets: Vec<String> = bases.iter().map(|b| format!("{b}/v1/patient/messages")).collect();
    let results: Vec<(u64, Instant, u16)> = stream::iter(bodies.into_iter().enumerate())
        .map(|(i, (thread, token, body))| {
            let (http, target) = (http.clone(), targets[i % targets.len()].clone());
            async move {
                let sent = Instant::now();
                let resp = http
                    .post(&target)
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (thread, sent, resp.status().as_u16())
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let ingest_time = started.elapsed();
    let accepted = results.iter().filter(|r| r.2 == 201).count();
    assert_eq!(accepted, results.len(), "the hub refused some messages");

    // Let the last events arrive, then stop everyone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).unwrap();
    let mut seen = Vec::new();
    for h in handles {
        seen.push(h.await.unwrap());
    }
    for r in running {
        r.stop().await.ok();
    }

    // Push latency: each (event, thread) pair against the latest post of
    // that thread sent before the event arrived.
    let mut sends: HashMap<u64, Vec<Instant>> = HashMap::new();
    for (thread, sent, _) in &results {
        sends.entry(*thread).or_default().push(*sent);
    }
    for v in sends.values_mut() {
        v.sort();
    }
    let mut push = Vec::new();
    let mut syncs = Vec::new();
    for s in &seen {
        for (at, threads) in &s.events {
            for t in threads {
                if let Some(sent) = sends.get(t).and_then(|v| v.iter().rev().find(|s| *s <= at)) {
                    push.push(*at - *sent);
                }
            }
        }
        syncs.extend(s.syncs.iter().copied());
    }
    push.sort();
    syncs.sort();
    let rate = accepted as f64 / ingest_time.as_secs_f64();
    let (p50, p99) = (percentile(&push, 0.50), percentile(&push, 0.99));
    println!();
    let backend = if args.postgres { "PostgreSQL" } else { "SQLite" };
    println!("| hub under load (loopback, 2 cores): {backend}, {} node(s) | value | target |", args.nodes);
    println!("|---|---:|---|");
    println!(
        "| clinician clients holding the event stream | {} ({} syncing) | 1,000 |",
        args.clients, args.syncers
    );
    println!(
        "| messages posted (sealed, {} in flight) | {} in {:.2} s | |",
        args.concurrency,
        accepted,
        ingest_time.as_secs_f64()
    );
    println!("| ingest | {rate:.0} messages/s | ≥ 2,000 |");
    println!(
        "| push latency p50 / p99 ({} samples) | {} / {} | p99 ≤ 200 ms |",
        push.len(),
        ms(p50),
        ms(p99)
    );
    println!(
        "| sync latency p50 / p99 ({} requests) | {} / {} | |",
        syncs.len(),
        ms(percentile(&syncs, 0.50)),
        ms(percentile(&syncs, 0.99))
    );
    let met = rate >= 2000.0 && p99 <= Duration::from_millis(200) && args.clients >= 1000;
    println!("{}", if met { "all targets met" } else { "targets missed" });
}
