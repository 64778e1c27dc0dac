//! A practice on disk with the real hub binary serving it, an in-process
//! handle on the same database (invites, reading what the hub holds), the
//! pool keys, and a clinician's device: a SQLCipher cache and a sync engine.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use sealbox_core::store::{open, Keying, Store};
use sealbox_core::sync::client::HubClient;
use sealbox_core::sync::engine::Engine;
use sealbox_core::sync::keys::PoolKeyring;
use sealbox_core::sync::plan::TriageRules;
use sealbox_core::sync::SharedStore;
use sealbox_crypto::secret::SecretKey;
use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::db::{practice, DbError};
use sealbox_hub::relay::channels;
use sealbox_hub::AppState;
use sealbox_model::actor::StaffRef;
use sealbox_model::hub_api::PracticeFile;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use sealbox_sim::{send, traffic, SendOptions};
use x25519_dalek::StaticSecret;

use super::process::HubProcess;

/// A practice on disk, its hub binary running, and an in-process handle on
/// the same database for invites and for reading what the hub holds.
pub struct Site {
    pub state: AppState,
    pub practice: PracticeFile,
    pub keys: HashMap<Pool, StaticSecret>,
    pub hub: HubProcess,
    _data: tempfile::TempDir,
    _logs: tempfile::TempDir,
}

pub fn site(patients: u32) -> Site {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let state = AppState::open(HubConfig::new(data.path()), Arc::new(SystemClock)).unwrap();
    let now = state.now();
    state
        .db
        .call_blocking(move |c| {
            practice::create(c, "Failure Surgery", now).unwrap();
            sealbox_hub::auth::policy::set(c, super::demo_practice(), "test", now)
        })
        .unwrap();
    let keys = super::pool_keys::publish(&state);
    let practice = state.db.call_blocking(move |c| channels::issue(c, patients, now)).unwrap();
    let hub = HubProcess::start(
        data.path(),
        logs.path(),
        &["--patient-burst", "1000000", "--patient-per-minute", "100000000"],
    );
    Site { state, practice, keys, hub, _data: data, _logs: logs }
}

impl Site {
    /// (thread, message) of every patient message the hub holds.
    pub fn hub_messages(&self) -> BTreeSet<(u64, u64)> {
        self.state
            .db
            .sqlite_blocking(|c| {
                let mut stmt =
                    c.prepare("SELECT thread_id, message_id FROM envelopes WHERE sender_kind = 'patient'")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))?;
                Ok::<_, DbError>(rows.collect::<Result<BTreeSet<_>, _>>()?)
            })
            .unwrap()
    }

    pub async fn send(&self, plan: &[traffic::PlannedMessage]) {
        let client = super::client();
        let summary =
            send::send(&client, &self.hub.url, &self.practice, plan, SendOptions::default()).await.unwrap();
        assert_eq!(summary.accepted, plan.len());
    }
}

/// A signed-in clinician's device.
pub struct Device {
    pub store: SharedStore,
    pub engine: Engine,
    pub me: StaffRef,
    pub token: String,
    dir: tempfile::TempDir,
}

impl Device {
    /// The cache file.
    pub fn cache_path(&self) -> std::path::PathBuf {
        self.dir.path().join("cache.sqlite3")
    }
}

/// Enrols and signs in a `role` with a software security key, and gives the
/// device a fresh cache and the key of `pool`.
pub async fn device(site: &Site, role: Role, pool: Pool) -> Device {
    let login = super::login::enrol_and_login(&site.hub.url, &site.state, role).await;
    let dir = tempfile::tempdir().unwrap();
    let store =
        open::open(&dir.path().join("cache.sqlite3"), Keying::Encrypted(&SecretKey::generate())).unwrap();
    let keyring = PoolKeyring::new(site.practice.practice_id.clone(), [(pool, site.keys[&pool].clone())]);
    let hub = HubClient::new(&site.hub.url, login.token.clone()).unwrap();
    let engine = Engine::new(hub, keyring, TriageRules::uk_default().unwrap());
    Device {
        store: Mutex::new(store),
        engine,
        me: StaffRef { id: StaffId(login.user_id), role },
        token: login.token,
        dir,
    }
}

/// (thread, message) of every message in the cache, for `threads`.
pub fn cached_messages(store: &Store, threads: impl IntoIterator<Item = u64>) -> BTreeSet<(u64, u64)> {
    let mut out = BTreeSet::new();
    for t in threads {
        if let Some(detail) = store.thread(ThreadId(t)).unwrap() {
            out.extend(detail.thread.messages.iter().map(|m| (t, m.id.0)));
        }
    }
    out
}
