//! Bearer secrets (invite codes, session tokens, ceremony ids): random from
//! the OS, shown once, stored only as SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// SHA-256 of a secret's text form.
pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// `N` random bytes from the OS.
pub fn random<const N: usize>() -> [u8; N] {
    let mut raw = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    raw
}

/// A 256-bit session token, base64url without padding (43 characters).
pub fn session_token() -> String {
    URL_SAFE_NO_PAD.encode(random::<32>())
}

/// A 128-bit ceremony id, base64url.
pub fn ceremony_id() -> String {
    URL_SAFE_NO_PAD.encode(random::<16>())
}

/// A 128-bit invite code, shown as four groups of eight hex digits so it
/// can be read out and typed.
pub fn invite_code() -> String {
    let hex = crate::db::practice::hex(&random::<16>());
    let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect();
    groups.join("-")
}

/// The canonical form of a typed invite code (case, spaces and dashes
/// ignored), or `None` if it cannot be one.
pub fn normalise_invite(typed: &str) -> Option<String> {
    let hex: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 8..i * 8 + 8)).collect();
    Some(groups.join("-"))
}

/// A random id with a prefix, e.g. `staff-0123456789abcdef`.
pub fn prefixed_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::db::practice::hex(&random::<8>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_round_trip_through_normalisation() {
        let code = invite_code();
        assert_eq!(code.len(), 35);
        assert_eq!(normalise_invite(&code).as_deref(), Some(code.as_str()));
        assert_eq!(normalise_invite(&code.to_uppercase().replace('-', " ")).as_deref(), Some(code.as_str()));
        assert_eq!(normalise_invite("abc"), None);
        assert_eq!(normalise_invite(&"g".repeat(32)), None);
    }

    #[test]
    fn session_tokens_are_256_bit_and_distinct() {
        let (a, b) = (session_token(), session_token());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).map(|v| v.len()).ok(), Some(32));
        assert_ne!(a, b);
    }
}
