//! Signing out after inactivity: the page forgets what it showed and the
//! channel's keys after 15 minutes without a key press, tap or click (or
//! sooner, when the link asks: `?idle=<seconds>` can only shorten it).

/// The longest a page stays open untouched.
pub const LIMIT_MS: f64 = 15.0 * 60.0 * 1000.0;

/// The limit for a page whose query string is `query` (with its `?`).
pub fn limit_ms(query: &str) -> f64 {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("idle="))
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(LIMIT_MS, |s| (s * 1000.0).min(LIMIT_MS))
}

/// Whether a page last used at `last_ms` should sign out at `now_ms`.
pub fn expired(last_ms: f64, now_ms: f64, limit_ms: f64) -> bool {
    now_ms - last_ms >= limit_ms
}
