//! Login throttling per (user, client address) and per client address: the first
//! [`FREE_FAILURES`] consecutive failures cost nothing, each further one
//! doubles the wait (from [`BASE_DELAY`], capped at [`MAX_DELAY`]). A
//! success resets the count. Failures older than [`WINDOW`] are forgotten.

use sealbox_model::jiff::{SignedDuration, Timestamp};

use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};

/// Failures allowed before any delay.
pub const FREE_FAILURES: u32 = 5;
/// Delay after the FREE_FAILURES-th failure.
pub const BASE_DELAY: SignedDuration = SignedDuration::from_secs(30);
/// Longest delay.
pub const MAX_DELAY: SignedDuration = SignedDuration::from_hours(1);
/// Failures further back than this do not count.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The rule: after `failures` consecutive failures, the last at
/// `last_failure`, how many seconds must the caller still wait at `now`?
pub fn wait_secs(failures: u32, last_failure: Timestamp, now: Timestamp) -> Option<u64> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    let delay = BASE_DELAY.checked_mul(1i32 << doublings).unwrap_or(MAX_DELAY).min(MAX_DELAY);
    let until = last_failure.checked_add(delay).ok()?;
    let left = until.duration_since(now);
    if left.is_positive() {
        // Round up so a client waiting Retry-After seconds gets in.
        let secs = u64::try_from(left.as_secs()).unwrap_or(0);
        Some(if left.subsec_nanos() > 0 { secs + 1 } else { secs }.max(1))
    } else {
        None
    }
}

/// Which attempts a count is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// One member of staff from one client address: failures from
    /// elsewhere cannot lock a clinician out at their own desk.
    UserAt(&'a str, &'a str),
    /// One client address, whoever it names.
    Address(&'a str),
}

/// Seconds `subject` must still wait, if throttled.
pub fn check(conn: &dyn Sql, subject: Subject<'_>, now: Timestamp) -> Result<Option<u64>, DbError> {
    // The window's start is ?1; the subject's filter binds from ?2 on (a
    // statement binds only the parameters it names: PostgreSQL cannot type
    // one it does not use).
    let filter = match subject {
        Subject::UserAt(..) => "staff_id = ?2 AND address = ?3",
        Subject::Address(..) => "address = ?2",
    };
    let since = time::to_db(now.checked_sub(WINDOW).unwrap_or(now));
    let sql = format!(
        "SELECT COUNT(*), MAX(at_us) FROM login_attempts
         WHERE {filter} AND at_us > ?1 AND outcome NOT IN ('ok', 'throttled')
           AND id > COALESCE((SELECT MAX(id) FROM login_attempts WHERE {filter} AND outcome = 'ok'), 0)"
    );
    let row = match subject {
        Subject::UserAt(id, addr) => conn.query_opt(&sql, args![since, id, addr])?,
        Subject::Address(addr) => conn.query_opt(&sql, args![since, addr])?,
    }
    .ok_or(DbError::NoRow)?;
    let (count, last): (i64, Option<i64>) = (row.get(0)?, row.get(1)?);
    let Some(last) = last else { return Ok(None) };
    Ok(wait_secs(u32::try_from(count).unwrap_or(u32::MAX), time::from_db(last)?, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_750_000_000 + secs).unwrap()
    }

    #[test]
    fn five_failures_are_free_then_the_wait_doubles() {
        assert_eq!(wait_secs(4, at(0), at(0)), None);
        assert_eq!(wait_secs(5, at(0), at(0)), Some(30));
        assert_eq!(wait_secs(5, at(0), at(29)), Some(1));
        assert_eq!(wait_secs(5, at(0), at(30)), None);
        assert_eq!(wait_secs(6, at(0), at(0)), Some(60));
        assert_eq!(wait_secs(8, at(0), at(0)), Some(240));
    }

    #[test]
    fn the_wait_is_capped_at_an_hour() {
        assert_eq!(wait_secs(40, at(0), at(0)), Some(3600));
        assert_eq!(wait_secs(u32::MAX, at(0), at(3600)), None);
    }
}
