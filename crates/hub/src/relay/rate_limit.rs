//! A token bucket per patient channel. Time is a parameter. One rule
//! ([`Bucket::take`]), kept in two places: in this process when it is the
//! only one serving (SQLite), in the database when hub nodes share it
//! (PostgreSQL: `patient_rate`, so behind N nodes a patient still has one
//! bucket).

use sealbox_model::jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::RatePolicy;
use crate::db::many::{Kind, Many};
use crate::db::sql::{begin, Backend, Param, Sql, SqlRow, Statement, ToParam};
use crate::db::time::{from_db, to_db};
use crate::db::Db;
use crate::db::DbError;
use crate::http::ApiError;

/// One channel's bucket: tokens left (in millionths) as of `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    tokens_micro: i64,
    at: Timestamp,
}

const MICRO: i64 = 1_000_000;

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(policy: RatePolicy, now: Timestamp) -> Self {
        Bucket { tokens_micro: i64::from(policy.burst.max(1)) * MICRO, at: now }
    }

    /// Refills for the time since `at` (never for a clock gone back), then
    /// takes one token: `Ok(())`, or `Err(seconds to wait)`.
    pub fn take(&mut self, policy: RatePolicy, now: Timestamp) -> Result<(), u64> {
        let burst = i64::from(policy.burst.max(1)) * MICRO;
        let elapsed_us = now.duration_since(self.at).as_micros().max(0);
        let refill = elapsed_us.saturating_mul(i128::from(policy.per_minute)) / 60;
        let refill = i64::try_from(refill).unwrap_or(i64::MAX);
        self.tokens_micro = self.tokens_micro.saturating_add(refill).min(burst);
        if now > self.at {
            self.at = now;
        }
        if self.tokens_micro >= MICRO {
            self.tokens_micro -= MICRO;
            Ok(())
        } else if policy.per_minute > 0 {
            // Whole seconds until one token is back, rounded up.
            let short = u64::try_from(MICRO - self.tokens_micro).unwrap_or(0);
            Err((short * 60).div_ceil(u64::from(policy.per_minute) * MICRO as u64))
        } else {
            Err(3600)
        }
    }
}

/// Per-key token buckets in this process.
#[derive(Debug)]
pub struct RateLimiter {
    policy: RatePolicy,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Buckets following `policy`.
    pub fn new(policy: RatePolicy) -> Self {
        RateLimiter { policy, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `key` at `now`: `Ok(())`, or `Err(seconds to wait)`.
    pub fn take(&self, key: &str, now: Timestamp) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.entry(key.to_owned()).or_insert_with(|| Bucket::full(self.policy, now)).take(self.policy, now)
    }
}

/// Tokens taken: each take's result (`Err(seconds to wait)` when none was
/// left), and for shared buckets the statement that stores what is left.
#[must_use = "shared buckets keep what was taken only once `store` runs"]
pub struct Taken {
    /// Each take's result, in order.
    pub results: Vec<Result<(), u64>>,
    /// What is left of shared buckets, to store in the transaction that
    /// took them.
    pub store: Option<Statement>,
}

/// Where patients' buckets are kept.
#[derive(Debug, Clone)]
pub enum Buckets {
    /// In this process, the only one serving (SQLite).
    Here(Arc<RateLimiter>),
    /// In the database (`patient_rate`), shared by hub nodes (PostgreSQL).
    Shared(RatePolicy),
}

impl Buckets {
    /// The buckets of a hub on `backend` following `policy`: in the
    /// database on PostgreSQL, else here.
    pub fn new(backend: Backend, policy: RatePolicy) -> Buckets {
        match backend {
            Backend::Postgres => Buckets::Shared(policy),
            Backend::Sqlite => Buckets::Here(Arc::new(RateLimiter::new(policy))),
        }
    }

    /// Takes one token for each `(patient, now)` in turn (shared buckets
    /// inside the caller's transaction on `conn`): each take's result, in
    /// order, and for shared buckets the statement that stores what is
    /// left, which the caller runs in the same transaction
    /// ([`take_shared_in`]).
    pub fn take(&self, conn: &dyn Sql, takes: &[(&str, Timestamp)]) -> Result<Taken, DbError> {
        self.take_read(conn, takes, None)
    }

    /// For shared buckets, the statement that reads (and on PostgreSQL
    /// locks) the buckets of the live channels whose tokens hash to
    /// `hashes`, in the caller's transaction on `backend`, to send with
    /// other reads; its rows go to [`Buckets::take_read`].
    pub fn read_query(&self, backend: Backend, hashes: &[[u8; 32]]) -> Option<Statement> {
        match self {
            Buckets::Here(_) => None,
            Buckets::Shared(_) => {
                let mut m = Many::new(backend);
                let hashes: Vec<Param<'_>> = hashes.iter().map(|h| h.param()).collect();
                let live = format!(
                    "IN (SELECT patient_id FROM patient_channels
                         WHERE token_sha256 {} AND revoked_at_us IS NULL)",
                    m.among(Kind::Blob, &hashes)
                );
                Some(buckets_query(m, &live))
            }
        }
    }

    /// [`Buckets::take`], with the shared buckets' rows read and locked
    /// already when `read` holds [`Buckets::read_query`]'s rows.
    pub fn take_read(
        &self,
        conn: &dyn Sql,
        takes: &[(&str, Timestamp)],
        read: Option<Vec<SqlRow>>,
    ) -> Result<Taken, DbError> {
        match (self, read) {
            (Buckets::Here(limiter), _) => {
                let results = takes.iter().map(|(patient, now)| limiter.take(patient, *now)).collect();
                Ok(Taken { results, store: None })
            }
            (Buckets::Shared(policy), Some(rows)) => {
                take_shared_from(conn, *policy, takes, buckets_from(rows)?)
            }
            (Buckets::Shared(policy), None) => take_shared_in(conn, *policy, takes),
        }
    }

    /// Takes one token for `patient`'s channel: in this process, or in
    /// the shared `patient_rate` row in a transaction of its own (locked
    /// until it commits, so two nodes taking at once take two tokens). 429
    /// with the wait when there is none.
    pub async fn take_one(&self, db: &Db, patient: &str, now: Timestamp) -> Result<(), ApiError> {
        let taken = match self {
            Buckets::Here(limiter) => limiter.take(patient, now),
            Buckets::Shared(policy) => {
                let (policy, patient) = (*policy, patient.to_owned());
                db.call(move |conn| take_shared(conn, policy, &patient, now)).await.map_err(ApiError::from)?
            }
        };
        taken.map_err(ApiError::too_many)
    }
}

/// [`Bucket::take`] on the channel's row, in one transaction.
pub fn take_shared(
    conn: &dyn Sql,
    policy: RatePolicy,
    patient: &str,
    now: Timestamp,
) -> Result<Result<(), u64>, DbError> {
    let tx = begin(conn)?;
    let taken = take_shared_in(&tx, policy, &[(patient, now)])?;
    tx.commit_with(taken.store.into_iter().collect())?;
    taken.results.into_iter().next().ok_or(DbError::NoRow)
}

/// A bucket row's columns: patient, tokens, when.
const BUCKET_KINDS: [Kind; 3] = [Kind::Text, Kind::Int, Kind::Int];

/// What locks the rows a query reads until the transaction ends, where
/// the engine has it (SQLite's one writer needs none).
fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// The patients of `takes`, each once, in order.
fn patients_of<'a>(takes: &[(&'a str, Timestamp)]) -> Vec<&'a str> {
    let mut patients: Vec<&str> = takes.iter().map(|(p, _)| *p).collect();
    patients.sort_unstable();
    patients.dedup();
    patients
}

/// The buckets of those of `patients` that have a row, locked until the
/// caller's transaction ends (PostgreSQL), by patient.
fn locked_buckets(conn: &dyn Sql, patients: &[&str]) -> Result<HashMap<String, Bucket>, DbError> {
    let mut m = Many::new(conn.backend());
    let among = m.among(Kind::Text, &patients.iter().map(|p| p.param()).collect::<Vec<_>>());
    buckets_from(conn.run(&buckets_query(m, &among))?)
}

/// The statement that reads, by patient and locked until the
/// transaction ends where the engine locks rows, the bucket rows of the
/// patients `among` names (what follows the column: a list or a query,
/// written in `m`, which holds its parameters).
fn buckets_query(m: Many, among: &str) -> Statement {
    let sql = format!(
        "SELECT patient_id, tokens_micro, at_us FROM patient_rate WHERE patient_id {among}
         ORDER BY patient_id{}",
        for_update(m.backend())
    );
    m.statement(sql)
}

/// Bucket rows (patient, tokens, at), by patient.
fn buckets_from(rows: Vec<SqlRow>) -> Result<HashMap<String, Bucket>, DbError> {
    rows.iter()
        .map(|row| {
            Ok((row.get::<String>(0)?, Bucket { tokens_micro: row.get(1)?, at: from_db(row.get(2)?)? }))
        })
        .collect()
}

/// [`Bucket::take`] for each `(patient, now)` in turn, on the patients'
/// rows, inside the caller's transaction (the rows stay locked until it
/// ends, so two nodes taking at once take two tokens): each take's result,
/// in order, and the statement that stores the rows as they are left,
/// which the caller runs in that transaction (with others, or its commit).
/// One statement and that one however many takes (three when some patient
/// has no row yet).
pub fn take_shared_in(
    conn: &dyn Sql,
    policy: RatePolicy,
    takes: &[(&str, Timestamp)],
) -> Result<Taken, DbError> {
    let patients = patients_of(takes);
    if patients.is_empty() {
        return Ok(Taken { results: Vec::new(), store: None });
    }
    let buckets = locked_buckets(conn, &patients)?;
    take_shared_from(conn, policy, takes, buckets)
}

/// [`take_shared_in`] once the rows that exist of the takes' patients'
/// buckets are read and locked (`buckets`, by patient; more are left as
/// they are).
fn take_shared_from(
    conn: &dyn Sql,
    policy: RatePolicy,
    takes: &[(&str, Timestamp)],
    mut buckets: HashMap<String, Bucket>,
) -> Result<Taken, DbError> {
    let patients = patients_of(takes);
    let Some(&(_, first_now)) = takes.first() else {
        return Ok(Taken { results: Vec::new(), store: None });
    };
    let missing: Vec<&str> = patients.iter().copied().filter(|p| !buckets.contains_key(*p)).collect();
    if !missing.is_empty() {
        // A row is made before it is locked: a first take races no other.
        let full = Bucket::full(policy, first_now);
        let (full_tokens, full_at) = (full.tokens_micro, to_db(full.at));
        let ids: Vec<Param<'_>> = missing.iter().map(|p| p.param()).collect();
        let mut m = Many::new(conn.backend());
        let shared = [(Kind::Int, full_tokens.param()), (Kind::Int, full_at.param())];
        let rows = m.rows_sharing(&[Kind::Text], &ids, &shared);
        let sql = format!(
            "INSERT INTO patient_rate (patient_id, tokens_micro, at_us) {rows}
             ON CONFLICT (patient_id) DO NOTHING"
        );
        conn.run(&m.statement(sql))?;
        buckets.extend(locked_buckets(conn, &missing)?);
    }
    let results = takes
        .iter()
        .map(|(patient, now)| {
            let bucket = buckets.get_mut(*patient).ok_or(DbError::NoRow)?;
            Ok(bucket.take(policy, *now))
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let kept: Vec<(&String, i64, i64)> =
        buckets.iter().map(|(patient, b)| (patient, b.tokens_micro, to_db(b.at))).collect();
    let mut params: Vec<Param<'_>> = Vec::with_capacity(kept.len() * 3);
    for (patient, tokens, at) in &kept {
        params.extend([patient.param(), tokens.param(), at.param()]);
    }
    let mut m = Many::new(conn.backend());
    let rows = m.rows(&BUCKET_KINDS, &params);
    let store = m.statement(format!(
        "INSERT INTO patient_rate (patient_id, tokens_micro, at_us) {rows}
         ON CONFLICT (patient_id) DO UPDATE SET tokens_micro = excluded.tokens_micro, at_us = excluded.at_us"
    ));
    Ok(Taken { results, store: Some(store) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealbox_model::jiff::SignedDuration;

    #[test]
    fn burst_then_refill() {
        let rl = RateLimiter::new(RatePolicy { burst: 3, per_minute: 6 });
        let t0 = Timestamp::from_second(1_750_000_000).unwrap();
        for _ in 0..3 {
            assert!(rl.take("a", t0).is_ok());
        }
        assert_eq!(rl.take("a", t0), Err(10));
        assert!(rl.take("b", t0).is_ok(), "buckets are per channel");
        let t1 = t0.checked_add(SignedDuration::from_secs(10)).unwrap();
        assert!(rl.take("a", t1).is_ok());
        assert!(rl.take("a", t1).is_err());
    }

    #[test]
    fn clock_going_back_does_not_mint_tokens() {
        let rl = RateLimiter::new(RatePolicy { burst: 1, per_minute: 60 });
        let t0 = Timestamp::from_second(1_750_000_000).unwrap();
        assert!(rl.take("a", t0).is_ok());
        let back = t0.checked_sub(SignedDuration::from_secs(100)).unwrap();
        assert!(rl.take("a", back).is_err());
    }
}
