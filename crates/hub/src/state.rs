//! What every handler gets: the database, the clock, the settings, the push
//! bus, the patient-channel rate limiter and the metrics.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::HubConfig;
use crate::db::{Db, DbError};
use crate::ops::Metrics;
use crate::relay::envelope_json::EnvelopeJsonCache;
use crate::relay::events::EventBus;
use crate::relay::group_commit::GroupCommit;
use crate::relay::rate_limit::Buckets;

/// Shared, clone-able state (all fields are cheap handles).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<HubConfig>,
    /// Push events to `GET /v1/events` subscribers.
    pub events: EventBus,
    /// Patient channels' rate limits (shared with the writer).
    pub patient_rate: Buckets,
    /// The patient channel's writer: concurrent posts share one commit.
    pub ingest: GroupCommit,
    /// Envelopes' sync-page JSON, serialised once.
    pub envelope_json: Arc<EnvelopeJsonCache>,
    /// Counts and timings for `/metrics`.
    pub metrics: Metrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config", &self.config).finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the database (migrating it) with `clock`: PostgreSQL when the
    /// configuration names one, else the data directory's SQLite file.
    pub fn open(config: HubConfig, clock: Arc<dyn Clock>) -> Result<AppState, DbError> {
        let db = match &config.postgres {
            Some(conninfo) => Db::open_postgres(&conninfo.0)?,
            None => Db::open(&config.data_dir)?,
        };
        Ok(Self::on(db, config, clock, Metrics::default()))
    }

    /// The state of a hub on `db` (opened and migrated), counting into
    /// `metrics` (one practice of several shares its deployment's).
    pub fn on(db: Db, config: HubConfig, clock: Arc<dyn Clock>, metrics: Metrics) -> AppState {
        let patient_rate = Buckets::new(db.backend(), config.patient_rate);
        AppState {
            db,
            clock,
            events: EventBus::new(),
            ingest: GroupCommit::new(patient_rate.clone()),
            patient_rate,
            envelope_json: Arc::new(EnvelopeJsonCache::default()),
            metrics,
            config: Arc::new(config),
        }
    }

    /// [`AppState::open`] with the system clock.
    pub fn open_system(config: HubConfig) -> Result<AppState, DbError> {
        Self::open(config, Arc::new(SystemClock))
    }

    /// The current time.
    pub fn now(&self) -> sealbox_model::jiff::Timestamp {
        self.clock.now()
    }
}
