//! A token bucket per patient channel. Time is a parameter. One rule
//! ([`Bucket::take`]), kept in two places: in this process when it is the
//! only one serving (SQLite), in the database when hub nodes share it
//! (PostgreSQL: `patient_rate`, so behind N nodes a patient still has one
//! bucket).

use sealbox_model::jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::args;
use crate::config::RatePolicy;
use crate::db::sql::{begin, Backend, Sql};
use crate::db::time::{from_db, to_db};
use crate::db::DbError;
use crate::http::ApiError;
use crate::state::AppState;

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

/// Takes one token for `patient`'s channel: in this process on SQLite, in
/// the shared `patient_rate` row on PostgreSQL (locked until the commit,
/// so two nodes taking at once take two tokens). 429 with the wait when
/// there is none.
pub async fn take_patient(state: &AppState, patient: &str, now: Timestamp) -> Result<(), ApiError> {
    if state.db.backend() == Backend::Sqlite {
        return state.patient_rate.take(patient, now).map_err(ApiError::too_many);
    }
    let (policy, patient) = (state.config.patient_rate, patient.to_owned());
    let taken =
        state.db.call(move |conn| take_shared(conn, policy, &patient, now)).await.map_err(ApiError::from)?;
    taken.map_err(ApiError::too_many)
}

/// [`Bucket::take`] on the channel's row, in one transaction.
pub fn take_shared(
    conn: &dyn Sql,
    policy: RatePolicy,
    patient: &str,
    now: Timestamp,
) -> Result<Result<(), u64>, DbError> {
    let tx = begin(conn)?;
    let t: &dyn Sql = &tx;
    let full = Bucket::full(policy, now);
    t.execute(
        "INSERT INTO patient_rate (patient_id, tokens_micro, at_us) VALUES (?1, ?2, ?3)
         ON CONFLICT (patient_id) DO NOTHING",
        args![patient, full.tokens_micro, to_db(now)],
    )?;
    let lock = if t.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
    let row = t
        .query_opt(
            &format!("SELECT tokens_micro, at_us FROM patient_rate WHERE patient_id = ?1{lock}"),
            args![patient],
        )?
        .ok_or(DbError::NoRow)?;
    let mut bucket = Bucket { tokens_micro: row.get(0)?, at: from_db(row.get(1)?)? };
    let taken = bucket.take(policy, now);
    t.execute(
        "UPDATE patient_rate SET tokens_micro = ?2, at_us = ?3 WHERE patient_id = ?1",
        args![patient, bucket.tokens_micro, to_db(bucket.at)],
    )?;
    tx.commit()?;
    Ok(taken)
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
