//! Sync ingest: 10,000 sealed patient envelopes (realistic simulator
//! traffic, 20 pages of 500) opened with the device's pool key, triaged and
//! stored — beside storing the same plaintexts straight into the cache (the
//! limit: the same writes with the opening and triage already done).
//!
//! `cargo xtask bench sync` runs this and prints messages/s and the ratio;
//! `cargo bench -p sealbox-core --bench sync` runs it alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput};
use rand::rngs::OsRng;
use sealbox_core::store::{open, Keying, Store};
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::plan::{open_page, plan_opened, plan_page, PagePlan, TriageRules};
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::secret::SecretKey;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    Base64Bytes, ChannelToken, Cursor, EnvelopeRecord, Sender, SimPatient, SyncPage, ThreadMeta,
};
use sealbox_model::ids::{PatientId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use sealbox_model::thread_state::ThreadState;
use sealbox_sim::seal::{seal_message, PoolKeys};
use sealbox_sim::traffic;

const MESSAGES: usize = 10_000;
const PAGE: usize = 500;
const PATIENTS: usize = 500;
const PRACTICE: &str = "bench-practice";

fn t0() -> Timestamp {
    Timestamp::from_second(1_763_974_800).unwrap()
}

/// 20 pages of sealed traffic, as the hub would serve them, and the GP
/// pool's private key.
fn pages() -> (Vec<SyncPage>, StaticSecret) {
    let secrets: BTreeMap<Pool, StaticSecret> =
        Pool::ALL.iter().map(|p| (*p, StaticSecret::random_from_rng(OsRng))).collect();
    let pools = PoolKeys::new(secrets.iter().map(|(p, s)| (*p, PublicKey::from(s))));
    let patients: Vec<SimPatient> = (0..PATIENTS)
        .map(|i| SimPatient {
            patient_id: PatientId(format!("p-{i:04}")),
            channel_token: ChannelToken(String::new()),
            ed25519_secret: Base64Bytes(SigningKey::generate(&mut OsRng).to_bytes().to_vec()),
            x25519_secret: Base64Bytes(StaticSecret::random_from_rng(OsRng).to_bytes().to_vec()),
        })
        .collect();
    let plan = traffic::plan(3, PATIENTS, MESSAGES);
    let mut metas: BTreeMap<ThreadId, ThreadMeta> = BTreeMap::new();
    let mut records = Vec::with_capacity(MESSAGES);
    for (i, m) in plan.iter().enumerate() {
        let patient = &patients[m.patient];
        let at = Timestamp::from_second(t0().as_second() + i as i64).unwrap();
        records.push(EnvelopeRecord {
            seq: i as u64 + 1,
            thread_id: m.thread_id,
            message_id: m.message_id,
            sender: Sender::Patient,
            received_at: at,
            envelope: Base64Bytes(seal_message(PRACTICE, patient, &pools, m).unwrap()),
        });
        metas.entry(m.thread_id).or_insert(ThreadMeta {
            thread_id: m.thread_id,
            patient_id: patient.patient_id.clone(),
            patient_x25519_public: Base64Bytes(vec![0; 32]),
            category: m.category,
            state: ThreadState::New,
            version: 1,
            created_at: at,
            updated_at: at,
            updated_by: None,
            triage: None,
            merged_into: None,
        });
    }
    let pages = records
        .chunks(PAGE)
        .enumerate()
        .map(|(i, chunk)| {
            let ids: BTreeSet<ThreadId> = chunk.iter().map(|r| r.thread_id).collect();
            SyncPage {
                envelopes: chunk.to_vec(),
                threads: ids.iter().map(|id| metas[id].clone()).collect(),
                actions: Vec::new(),
                next_cursor: Cursor(((i + 1) * PAGE) as u64),
                more: (i + 1) * PAGE < MESSAGES,
            }
        })
        .collect();
    let gp = secrets.get(&Pool::Gp).cloned().unwrap();
    let _ = Category::ALL; // every category appears in the simulator's traffic
    (pages, gp)
}

fn new_store(dir: &std::path::Path) -> Store {
    open::open(&dir.join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap()
}

/// What `Engine::pull` does, without the network: page N+1 is opened (on
/// all cores) while page N is planned and stored.
fn ingest(store: &mut Store, pages: &[SyncPage], keys: &PoolKeyring, rules: &TriageRules) -> usize {
    let mut stored = 0;
    std::thread::scope(|scope| {
        let open = |page: &'_ SyncPage| open_page(&page.envelopes, keys, rules);
        let mut opening = pages.first().map(|first| scope.spawn(move || open(first)));
        for (i, page) in pages.iter().enumerate() {
            let opened = opening.take().unwrap().join().unwrap();
            opening = pages.get(i + 1).map(|next| scope.spawn(move || open(next)));
            let ids: BTreeSet<ThreadId> = page
                .threads
                .iter()
                .map(|t| t.thread_id)
                .chain(page.envelopes.iter().map(|e| e.thread_id))
                .collect();
            let known = store.known_threads(ids).unwrap();
            let plan = plan_opened(page, opened, rules, &known);
            stored += store.apply_page(&plan, t0()).unwrap().messages;
        }
    });
    stored
}

fn main() {
    let (pages, gp_key) = pages();
    let keys = PoolKeyring::new(PRACTICE, [(Pool::Gp, gp_key)]);
    let rules = TriageRules::uk_default().unwrap();
    // The limit's input: the same pages, opened and triaged beforehand,
    // planned against the cache as it grows (so the writes are the same).
    let plans: Vec<PagePlan> = {
        let dir = tempfile::tempdir().unwrap();
        let mut store = new_store(dir.path());
        pages
            .iter()
            .map(|page| {
                let ids: BTreeSet<ThreadId> = page.threads.iter().map(|t| t.thread_id).collect();
                let plan = plan_page(page, &keys, &rules, &store.known_threads(ids).unwrap());
                store.apply_page(&plan, t0()).unwrap();
                plan
            })
            .collect()
    };
    assert_eq!(plans.iter().map(|p| p.messages.len()).sum::<usize>(), MESSAGES, "a GP opens every message");

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    let mut g = c.benchmark_group("sync_ingest_10k");
    g.throughput(Throughput::Elements(MESSAGES as u64));
    g.bench_function("open_triage_store", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let mut store = new_store(dir.path());
                assert_eq!(ingest(&mut store, &pages, &keys, &rules), MESSAGES);
                dir
            },
            BatchSize::PerIteration,
        );
    });
    g.bench_function("store_plaintext", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let mut store = new_store(dir.path());
                let stored: usize = plans.iter().map(|p| store.apply_page(p, t0()).unwrap().messages).sum();
                assert_eq!(stored, MESSAGES);
                dir
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
    c.final_summary();
}
