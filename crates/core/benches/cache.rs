//! Cache benchmarks: SQLCipher against plain SQLite of the same schema,
//! through the same code path (`Keying::Plain` is the only difference).
//!
//! `cargo xtask bench cache` runs this and prints one table from criterion's
//! medians; `cargo bench -p sealbox-core --features plaintext-bench --bench
//! cache` runs it alone. Each run builds two caches of 100,000 messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, BatchSize, Criterion};
use sealbox_core::store::open::open;
use sealbox_core::store::queries::InboxFilter;
use sealbox_core::store::write::ThreadRecord;
use sealbox_core::store::{Keying, Store};
use sealbox_crypto::keywrap::{self, WrapContext};
use sealbox_crypto::secret::SecretKey;
use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, PatientId, ThreadId};
use sealbox_model::jiff::civil::Date;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, FreeText, Message, MessagePart};
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::{DateOfBirth, DisplayName, Patient};
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::{Assignee, ThreadState};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MESSAGES: u64 = 100_000;
const PER_THREAD: u64 = 5;
const PATIENTS: u64 = 5_000;
const INSERT_TOTAL: u64 = 10_000;
const INSERT_BATCH: u64 = 500;

const WORDS: &[&str] = &[
    "pain",
    "since",
    "tuesday",
    "tablets",
    "repeat",
    "request",
    "please",
    "doctor",
    "cough",
    "fever",
    "rash",
    "blood",
    "test",
    "results",
    "appointment",
    "letter",
    "sleep",
    "tired",
    "dizzy",
    "headache",
    "knee",
    "back",
    "chest",
    "breathing",
    "inhaler",
    "asthma",
    "diabetes",
    "sugar",
    "pressure",
    "ramipril",
    "metformin",
    "amlodipine",
    "sertraline",
    "mood",
    "anxious",
    "work",
    "fit",
    "note",
    "week",
    "month",
    "better",
    "worse",
    "again",
    "still",
    "help",
    "thanks",
    "morning",
    "evening",
    "night",
    "child",
    "mother",
    "father",
];
const RARE: &str = "wheeze";

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_750_000_000_000 + ms).unwrap()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn text(rng: &mut Rng, id: u64) -> String {
    let mut words: Vec<&str> = (0..30).map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize]).collect();
    if id % 100 == 0 {
        words[7] = RARE;
    }
    words.join(" ")
}

fn message(id: u64, rng: &mut Rng) -> Message {
    Message {
        id: MessageId(id),
        author: Author::Patient,
        received_at: t(id as i64 * 1000),
        parts: vec![MessagePart::FreeText(FreeText::new(text(rng, id)))],
    }
}

fn thread_record(id: u64) -> ThreadRecord {
    let pool = Pool::ALL[(id % 4) as usize];
    ThreadRecord {
        id: ThreadId(id),
        patient: PatientId(format!("p{}", id % PATIENTS)),
        pool,
        category: Category::ALL[(id % 8) as usize],
        priority: Priority::ALL[(id % 3) as usize],
        state: if id % 10 == 0 {
            ThreadState::Closed
        } else {
            ThreadState::Assigned { to: Assignee::Pool(pool) }
        },
        urgent: id % 13 == 0,
        due: (id % 7 != 0).then(|| t((id as i64 * 7919) % 1_000_000_000)),
        received: t(id as i64 * 5000),
    }
}

fn build(path: &Path, keying: Keying<'_>) -> Store {
    let _ = std::fs::remove_file(path);
    for s in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(s);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let mut store = open(path, keying).unwrap();
    let mut rng = Rng(42);
    store
        .write(|w| {
            for p in 0..PATIENTS {
                w.upsert_patient(&Patient {
                    id: PatientId(format!("p{p}")),
                    display_name: DisplayName::new(format!("Patient {p}")),
                    date_of_birth: DateOfBirth::new(Date::new(1950, 1, 1).unwrap()),
                    nhs_number: Some(NhsNumber::parse("9434765919").unwrap()),
                })?;
            }
            Ok(())
        })
        .unwrap();
    let threads = MESSAGES / PER_THREAD;
    for chunk in 0..threads / 1000 {
        store
            .write(|w| {
                for th in chunk * 1000..(chunk + 1) * 1000 {
                    w.upsert_thread(&thread_record(th), t(0))?;
                    for m in 0..PER_THREAD {
                        w.insert_message(ThreadId(th), &message(th * PER_THREAD + m, &mut rng))?;
                    }
                }
                Ok(())
            })
            .unwrap();
    }
    store.checkpoint().unwrap();
    store
}

struct Variant {
    name: &'static str,
    path: PathBuf,
    key: Option<SecretKey>,
}

impl Variant {
    fn keying(&self) -> Keying<'_> {
        match &self.key {
            Some(k) => Keying::Encrypted(k),
            None => Keying::Plain,
        }
    }
}

/// What unlock does once the KEK is known: unwrap the data key (if the
/// variant is encrypted) and open the cache.
fn unwrap_and_open(path: &Path, wrapped: Option<&[u8]>, kek: &SecretKey, ctx: &WrapContext) -> Store {
    let dk = wrapped.map(|w| keywrap::unwrap(kek, w, ctx).unwrap());
    let keying = match &dk {
        Some(k) => Keying::Encrypted(k),
        None => Keying::Plain,
    };
    open(path, keying).unwrap()
}

fn main() {
    let root = std::env::var_os("SEALBOX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sealbox-bench"));
    std::fs::create_dir_all(&root).unwrap();
    let variants = [
        Variant { name: "sqlcipher", path: root.join("encrypted.sqlite3"), key: Some(SecretKey::generate()) },
        Variant { name: "plain", path: root.join("plain.sqlite3"), key: None },
    ];
    let ctx = WrapContext::new("P81001", "gp-bench", "dev-bench");
    let kek = SecretKey::generate();

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let now = t(500_000_000);

    let mut stores: Vec<Store> = Vec::new();
    for v in &variants {
        let started = std::time::Instant::now();
        stores.push(build(&v.path, v.keying()));
        eprintln!("built {} cache of {MESSAGES} messages in {:.1?}", v.name, started.elapsed());
    }

    let mut g = c.benchmark_group("inbox_page");
    for (v, store) in variants.iter().zip(stores.iter_mut()) {
        let filter = InboxFilter { pool: Some(Pool::Gp), ..Default::default() };
        g.bench_function(v.name, |b| b.iter(|| black_box(store.inbox_page(&filter, None, 50, now).unwrap())));
    }
    g.finish();

    // The virtual list scrolled near the end: a window of 240 of every open
    // thread (about 18,000), with the count the list's length comes from.
    let mut g = c.benchmark_group("inbox_window");
    for (v, store) in variants.iter().zip(stores.iter_mut()) {
        let all = InboxFilter::default();
        let (rows, counts) = store.inbox_window(&all, 17_500, 240, now).unwrap();
        assert!(counts.total > 17_500 && !rows.is_empty(), "{counts:?}");
        g.bench_function(v.name, |b| {
            b.iter(|| black_box(store.inbox_window(&all, 17_500, 240, now).unwrap()))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("search");
    for (v, store) in variants.iter().zip(stores.iter_mut()) {
        assert!(!store.search(RARE, 50).unwrap().is_empty());
        g.bench_function(v.name, |b| b.iter(|| black_box(store.search(RARE, 50).unwrap())));
    }
    g.finish();

    let mut g = c.benchmark_group("insert_10k");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (v, store) in variants.iter().zip(stores.iter_mut()) {
        let mut next = 10 * MESSAGES;
        let mut rng = Rng(7);
        g.bench_function(v.name, |b| {
            b.iter_batched(
                || {
                    let batch: Vec<Message> =
                        (next..next + INSERT_TOTAL).map(|id| message(id, &mut rng)).collect();
                    next += INSERT_TOTAL;
                    batch
                },
                |batch| {
                    for chunk in batch.chunks(INSERT_BATCH as usize) {
                        store
                            .write(|w| {
                                for m in chunk {
                                    w.insert_message(ThreadId(m.id.0 % (MESSAGES / PER_THREAD)), m)?;
                                }
                                Ok(())
                            })
                            .unwrap();
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
    for s in stores.drain(..) {
        s.close().unwrap();
    }

    let mut g = c.benchmark_group("open_unlock");
    for v in &variants {
        let wrapped = v.key.as_ref().map(|k| keywrap::wrap(&kek, k, &ctx).unwrap());
        g.bench_function(v.name, |b| {
            b.iter(|| {
                let store = unwrap_and_open(&v.path, wrapped.as_deref(), &kek, &ctx);
                black_box(store.schema_version().unwrap());
                store.close().unwrap();
            })
        });
    }
    g.finish();

    // Issue 7's "successful assertion → inbox shown": once the key has
    // answered, what the desk does before the first inbox appears — unwrap
    // the data key, open the 100k-message cache, refresh breaches, read the
    // first 500 rows of the whole inbox in triage order.
    let mut g = c.benchmark_group("unlock_to_inbox");
    g.sample_size(20);
    for v in &variants {
        let wrapped = v.key.as_ref().map(|k| keywrap::wrap(&kek, k, &ctx).unwrap());
        g.bench_function(v.name, |b| {
            b.iter(|| {
                let mut store = unwrap_and_open(&v.path, wrapped.as_deref(), &kek, &ctx);
                store.refresh_breaches(now).unwrap();
                let page = store.inbox_page(&InboxFilter::default(), None, 500, now).unwrap();
                assert_eq!(page.rows.len(), 500);
                black_box(page);
                store.close().unwrap();
            })
        });
    }
    g.finish();

    // Issue 24's switch on a shared workstation, once the second
    // clinician's key has answered: the first clinician's cache closed (at
    // the lock), the second's data key unwrapped and their own cache of
    // 100k messages opened to its first 500 rows.
    let mut g = c.benchmark_group("switch_clinician");
    g.sample_size(20);
    for v in &variants {
        let second = v.path.with_extension("second.sqlite3");
        std::fs::copy(&v.path, &second).unwrap();
        let wrapped = v.key.as_ref().map(|k| keywrap::wrap(&kek, k, &ctx).unwrap());
        g.bench_function(v.name, |b| {
            b.iter_batched(
                || unwrap_and_open(&v.path, wrapped.as_deref(), &kek, &ctx),
                |first| {
                    first.close().unwrap();
                    let mut store = unwrap_and_open(&second, wrapped.as_deref(), &kek, &ctx);
                    store.refresh_breaches(now).unwrap();
                    let page = store.inbox_page(&InboxFilter::default(), None, 500, now).unwrap();
                    assert_eq!(page.rows.len(), 500);
                    (store, page)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
    c.final_summary();
}
