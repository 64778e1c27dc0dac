//! Strict query strings: only the named keys, each at most once, values
//! parsed as unsigned integers; errors name the parameter.

use super::problem::ApiError;

/// Parses `query` (without `?`) allowing only `allowed` keys with u64 values.
/// Returns the values in `allowed` order.
pub fn parse_u64_params<const N: usize>(
    query: Option<&str>,
    allowed: [&'static str; N],
) -> Result<[Option<u64>; N], ApiError> {
    let mut out = [None; N];
    let Some(query) = query else { return Ok(out) };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(i) = allowed.iter().position(|a| *a == key) else {
            let shown: String = key.chars().take(40).filter(|c| c.is_ascii_graphic()).collect();
            return Err(ApiError::field(shown, "unknown query parameter"));
        };
        if out[i].is_some() {
            return Err(ApiError::field(allowed[i], "given more than once"));
        }
        let ok = !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit());
        let parsed = if ok { value.parse::<u64>().ok() } else { None };
        out[i] = Some(parsed.ok_or_else(|| ApiError::field(allowed[i], "must be an unsigned integer"))?);
    }
    Ok(out)
}
