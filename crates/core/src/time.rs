//! Timestamp arithmetic that cannot fail: past the end of time is the end
//! of time (a deadline that far away never fires).

use sealbox_model::jiff::{SignedDuration, Timestamp};

/// `t + d`, clamped to the representable range.
pub fn after(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() { Timestamp::MIN } else { Timestamp::MAX })
}

/// `t - d`, clamped to the representable range.
pub fn before(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(if d.is_negative() { Timestamp::MAX } else { Timestamp::MIN })
}
