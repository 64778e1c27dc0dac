//! A token bucket per patient channel. Time is a parameter.

use sealbox_model::jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::RatePolicy;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

/// Per-key token buckets.
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
        let burst = f64::from(self.policy.burst.max(1));
        let per_sec = f64::from(self.policy.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        let elapsed = now.duration_since(bucket.at).as_secs_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else if per_sec > 0.0 {
            Err(((1.0 - bucket.tokens) / per_sec).ceil() as u64)
        } else {
            Err(3600)
        }
    }
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
