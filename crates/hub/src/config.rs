//! Run-time settings of the hub.

use std::path::PathBuf;
use std::time::Duration;

/// How fast one patient channel may post: a token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePolicy {
    /// Messages a channel may send at once.
    pub burst: u32,
    /// Messages added back per minute.
    pub per_minute: u32,
}

impl Default for RatePolicy {
    fn default() -> Self {
        RatePolicy { burst: 20, per_minute: 6 }
    }
}

impl RatePolicy {
    /// The defaults, with what the practice set (`serve`'s flags or its
    /// settings file) in their place.
    pub fn with(burst: Option<u32>, per_minute: Option<u32>) -> Self {
        let defaults = RatePolicy::default();
        RatePolicy {
            burst: burst.unwrap_or(defaults.burst),
            per_minute: per_minute.unwrap_or(defaults.per_minute),
        }
    }
}

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Where the database lives (the SQLite file) unless `postgres` is set.
    pub data_dir: PathBuf,
    /// The PostgreSQL database several hub nodes share, instead of the
    /// SQLite file.
    pub postgres: Option<crate::db::postgres::Conninfo>,
    /// Patient channel rate limit.
    pub patient_rate: RatePolicy,
    /// Push events are coalesced over at most this long.
    pub push_coalesce: Duration,
    /// SSE keep-alive comment interval.
    pub keep_alive: Duration,
    /// How often an open event stream checks that its token still stands
    /// (session live, device not revoked); it ends at the first check after.
    pub stream_recheck: Duration,
    /// WebAuthn relying party id, its origin and attestation policy.
    pub webauthn: crate::auth::rp::RpConfig,
    /// The practice's SMTP relay for blind notices to patients; none sent
    /// without it.
    pub smtp: Option<crate::notice::smtp::SmtpConfig>,
}

impl HubConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        HubConfig {
            data_dir: data_dir.into(),
            postgres: None,
            patient_rate: RatePolicy::default(),
            push_coalesce: Duration::from_millis(50),
            keep_alive: Duration::from_secs(15),
            stream_recheck: Duration::from_secs(15),
            webauthn: crate::auth::rp::RpConfig::default(),
            smtp: None,
        }
    }
}
