//! The sync engine when things die, against the real `sealbox-hub` binary
//! on loopback: (a) the hub killed at random points of a sync, 20 times;
//! (b) the clinician's app killed with SIGKILL mid-apply, 50 times. Each kill
//! point is a byte count of the hub's replies drawn from a fixed seed
//! (`support::tripwire`), not a timer: it lands inside the conversation on
//! any machine, and a failure replays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sealbox_core::store::{open, Keying};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::engine::Engine;
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::plan::TriageRules;
use sealbox_core::sync::{lock, outbox};
use sealbox_crypto::secret::SecretKey;
use sealbox_hub::db::DbError;
use sealbox_model::actor::StaffRef;
use sealbox_model::hub_api::{ActionOp, IdempotencyKey};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_model::thread_state::ThreadState;
use sealbox_sim::traffic;
use serde::{Deserialize, Serialize};
use x25519_dalek::StaticSecret;

use support::site::{cached_messages, device, site};
use support::tripwire::{Count, Tripwire};

fn now() -> Timestamp {
    Timestamp::now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_killed_mid_sync_20_times_leaves_the_device_with_exactly_its_messages() {
    let mut site = site(30);
    let gp = device(&site, Role::Gp, Pool::Gp).await;
    let store = &gp.store;
    // Small pages, so a sync is many round trips and a kill lands inside one.
    let engine = gp.engine.with_page_limit(10);
    let plan = traffic::plan(11, 30, 2000);
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let upstream = site.hub.url.trim_start_matches("http://").to_owned();
    // The most the hub sent in one pull so far, in bytes: kills are drawn below it.
    let mut longest: u64 = 20_000;
    let mut interrupted = 0;
    for (round, batch) in plan.chunks(100).enumerate() {
        site.send(batch).await;
        let kill_at = 1 + (longest as f64 * rng.gen_range(0.0..1.0)) as u64;
        let wire = Tripwire::start(upstream.clone(), Count::FromHub, kill_at).await;
        let keys =
            PoolKeyring::new(site.practice.practice_id.clone(), [(Pool::Gp, site.keys[&Pool::Gp].clone())]);
        let via_wire = Engine::new(
            HubClient::new(&wire.url, gp.token.clone()).unwrap(),
            keys,
            TriageRules::uk_default().unwrap(),
        )
        .with_page_limit(10);
        let pull = via_wire.pull(store, now());
        tokio::pin!(pull);
        let pulled = tokio::select! {
            pulled = &mut pull => pulled,
            () = wire.tripped() => {
                site.hub.kill();
                pull.await
            }
        };
        match pulled {
            Ok(_) => longest = longest.max(wire.bytes()),
            Err(e) => {
                assert!(e.is_transient(), "round {round}: {e}");
                interrupted += 1;
            }
        }
        site.hub.restart();
    }
    assert_eq!(site.hub.starts(), 21);
    engine.pull(store, now()).await.unwrap();

    let at_hub = site.hub_messages();
    assert_eq!(at_hub.len(), plan.len());
    let threads: BTreeSet<u64> = at_hub.iter().map(|(t, _)| *t).collect();
    let store = lock(store);
    assert_eq!(cached_messages(&store, threads), at_hub, "no gaps, nothing extra");
    assert_eq!(store.message_count().unwrap(), plan.len() as u64, "no duplicates");
    store.check_integrity().unwrap();
    println!(
        "hub killed 20 times; {interrupted} kills landed inside a pull; the cache holds all {} messages",
        plan.len()
    );
    assert!(interrupted > 0, "no kill interrupted a pull: the test proved nothing");
}

/// What the app child needs to run.
#[derive(Clone, Serialize, Deserialize)]
struct ChildConfig {
    hub: String,
    token: String,
    cache: String,
    cache_key: Vec<u8>,
    pool_key: Vec<u8>,
    practice: String,
    staff_id: String,
    threads: Vec<u64>,
}

/// The app side of test (b): sends what a killed run left queued, pulls,
/// then claims each thread in turn, printing each acknowledged key. A no-op
/// unless started by the test below.
#[test]
fn app_child_claims_threads() {
    let Ok(config) = std::env::var("SEALBOX_SYNC_CHILD") else { return };
    let c: ChildConfig = serde_json::from_str(&config).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let key = SecretKey::from_slice(&c.cache_key).unwrap();
        let store = Mutex::new(open::open(Path::new(&c.cache), Keying::Encrypted(&key)).unwrap());
        let pool_key: [u8; 32] = c.pool_key.as_slice().try_into().unwrap();
        let keyring = PoolKeyring::new(c.practice.clone(), [(Pool::Gp, StaticSecret::from(pool_key))]);
        let engine = Engine::new(
            HubClient::new(&c.hub, c.token.clone()).unwrap(),
            keyring,
            TriageRules::uk_default().unwrap(),
        )
        .with_page_limit(10);
        let me = StaffRef { id: StaffId(c.staff_id.clone()), role: Role::Gp };
        let out = std::io::stdout();
        let ack = |key: &str| {
            let mut lock = out.lock();
            writeln!(lock, "acked {key}").unwrap();
            lock.flush().unwrap();
        };
        let sent = outbox::send(&store, engine.hub(), now()).await.unwrap();
        assert!(sent.conflicts.is_empty() && sent.rejected.is_empty());
        engine.pull(&store, now()).await.unwrap();
        for t in &c.threads {
            let thread = ThreadId(*t);
            let state = lock(&store).thread(thread).unwrap().unwrap().thread.state;
            if state == (ThreadState::InProgress { by: me.clone() }) {
                continue;
            }
            let key = format!("claim-{t}");
            outbox::queue(
                &mut lock(&store),
                &me,
                thread,
                ActionOp::Claim,
                IdempotencyKey::new(key.clone()).unwrap(),
                now(),
            )
            .unwrap();
            let sent = outbox::send(&store, engine.hub(), now()).await.unwrap();
            assert!(sent.conflicts.is_empty() && sent.rejected.is_empty(), "{sent:?}");
            ack(&key);
        }
        ack("done");
    });
}

/// Runs the app child, talking to the hub at `hub`; kills it (SIGKILL) when
/// `wire` trips, or lets it finish without one. Returns the keys it printed
/// as acknowledged.
async fn run_child(config: &ChildConfig, hub: &str, wire: Option<&Tripwire>) -> Vec<String> {
    let config = serde_json::to_string(&ChildConfig { hub: hub.to_owned(), ..config.clone() }).unwrap();
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "app_child_claims_threads", "--nocapture", "--test-threads=1"])
        .env("SEALBOX_SYNC_CHILD", config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut acked = Vec::new();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            // The first may follow libtest's "test name ... " on its line.
            if let Some(at) = line.find("acked ") {
                acked.push(line[at + 6..].to_owned());
            }
        }
        acked
    });
    match wire {
        Some(wire) => tokio::select! {
            () = wire.tripped() => child.kill().await.unwrap(),
            // Done before the kill point: nothing to kill.
            status = child.wait() => drop(status.unwrap()),
        },
        None => assert!(child.wait().await.unwrap().success(), "the final app run failed"),
    }
    reader.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_killed_mid_apply_50_times_every_acknowledged_action_is_at_the_hub_once() {
    let site = site(30);
    let gp = device(&site, Role::Gp, Pool::Gp).await;
    let plan = traffic::plan(13, 30, 1500);
    site.send(&plan).await;
    let mut threads: Vec<u64> = plan.iter().map(|m| m.thread_id.0).collect();
    threads.sort();
    threads.dedup();
    threads.truncate(300);
    // The app's own cache, written only by the app child.
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.sqlite3");
    let key = SecretKey::generate();
    let config = ChildConfig {
        hub: site.hub.url.clone(),
        token: gp.token.clone(),
        cache: cache.to_string_lossy().into_owned(),
        cache_key: key.expose().to_vec(),
        pool_key: site.keys[&Pool::Gp].to_bytes().to_vec(),
        practice: site.practice.practice_id.clone(),
        staff_id: gp.me.id.0.clone(),
        threads: threads.clone(),
    };

    let upstream = site.hub.url.trim_start_matches("http://").to_owned();
    let mut rng = ChaCha8Rng::seed_from_u64(50);
    let mut acked: Vec<String> = Vec::new();
    let (mut killed, mut killed_in_pull) = (0, 0);
    for _ in 0..50 {
        // Killed just after sending a request, somewhere in its first 4 kB
        // of requests (a page request is about 150 bytes, a claim about
        // 350; the pull is 150 pages, so the first run always dies in it):
        // while a page is opened and applied (the next is fetched
        // meanwhile) in the first runs, then with a claim in flight — the
        // hub may apply it and its acknowledgement is never seen.
        let wire = Tripwire::start(upstream.clone(), Count::ToHub, rng.gen_range(500..4_000)).await;
        let run = run_child(&config, &wire.url, Some(&wire)).await;
        if !run.iter().any(|k| k == "done") {
            killed += 1;
            killed_in_pull += usize::from(run.is_empty());
        }
        acked.extend(run.into_iter().filter(|k| k != "done"));
    }
    let killed_acks = acked.len();
    let last = run_child(&config, &site.hub.url, None).await;
    assert_eq!(last.last().map(String::as_str), Some("done"));
    acked.extend(last.into_iter().filter(|k| k != "done"));

    // At the hub: every thread claimed by this GP exactly once, including
    // every key the app saw acknowledged.
    let user = gp.me.id.0.clone();
    let per_thread: BTreeMap<u64, i64> = site
        .state
        .db
        .sqlite_blocking(move |c| {
            let mut stmt =
                c.prepare("SELECT thread_id, count(*) FROM actions WHERE by_id = ?1 GROUP BY thread_id")?;
            let rows = stmt.query_map([&user], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?)))?;
            Ok::<_, DbError>(rows.collect::<Result<BTreeMap<_, _>, _>>()?)
        })
        .unwrap();
    for t in &threads {
        assert_eq!(per_thread.get(t), Some(&1), "thread {t} claimed {:?} times", per_thread.get(t));
    }
    assert_eq!(per_thread.len(), threads.len());
    for key in &acked {
        let t: u64 = key.trim_start_matches("claim-").parse().unwrap();
        assert_eq!(per_thread.get(&t), Some(&1), "acknowledged {key}");
    }

    // The cache opens, is consistent and agrees with the hub.
    let store = open::open(&cache, Keying::Encrypted(&key)).unwrap();
    store.check_integrity().unwrap();
    assert!(store.outbox().unwrap().is_empty());
    let me = gp.me.clone();
    for t in &threads {
        let state = store.thread(ThreadId(*t)).unwrap().unwrap().thread.state;
        assert_eq!(state, ThreadState::InProgress { by: me.clone() }, "thread {t}");
    }
    let at_hub = site.hub_messages();
    let all_threads: BTreeSet<u64> = at_hub.iter().map(|(t, _)| *t).collect();
    assert_eq!(cached_messages(&store, all_threads), at_hub);
    println!(
        "app run 50 times, killed in {killed} ({killed_in_pull} before its first claim was acknowledged); \
         {killed_acks} claims acknowledged before a kill, {} in all; each at the hub once",
        acked.len()
    );
    assert!(
        killed_in_pull > 0 && killed_acks > 0,
        "no kill landed in the pull or among the claims: the test proved nothing"
    );
}
