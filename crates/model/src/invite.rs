//! An enrolment invite as a person types it: the one-time code the hub
//! issued, and, when the invite came from someone who holds the practice's
//! key, that key's fingerprint after a slash:
//!
//! `1a2b3c4d-5e6f7a8b-9c0d1e2f-3a4b5c6d/7QXM-2KD9-H4TR-B1NZ`
//!
//! The workstation sends the code to the hub and keeps the fingerprint to
//! itself: it pins the practice key only if the key the hub serves has it
//! (issue 21). Case, spaces and dashes are forgiven on both halves.

/// The fingerprint's alphabet (Crockford-style base 32: no I, L, O, U).
const FINGERPRINT_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Why typed text is not an invite. Log-safe: it never repeats the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteTextError {
    /// Nothing typed.
    #[error("type the invite code your practice gave you")]
    Empty,
    /// The part after the slash is not a practice-key fingerprint.
    #[error("the part after the slash is not a practice key fingerprint (16 letters and digits)")]
    Fingerprint,
}

/// A typed invite, split.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteText {
    /// The hub's one-time code, as typed (the hub normalises it).
    pub code: String,
    /// The practice key's fingerprint, `XXXX-XXXX-XXXX-XXXX`, if given.
    pub fingerprint: Option<String>,
}

impl std::fmt::Debug for InviteText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a secret until used: never in a log.
        f.debug_struct("InviteText").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl InviteText {
    /// Splits typed text at its slash (if any).
    pub fn parse(typed: &str) -> Result<Self, InviteTextError> {
        let (code, fingerprint) = match typed.split_once('/') {
            Some((code, fp)) => (code, Some(normalise_fingerprint(fp).ok_or(InviteTextError::Fingerprint)?)),
            None => (typed, None),
        };
        let code = code.trim();
        if code.is_empty() {
            return Err(InviteTextError::Empty);
        }
        Ok(InviteText { code: code.to_owned(), fingerprint })
    }

    /// The text to hand a new member of staff.
    pub fn format(code: &str, fingerprint: &str) -> String {
        format!("{code}/{fingerprint}")
    }
}

/// `7qxm 2kd9-h4tr b1nz` → `7QXM-2KD9-H4TR-B1NZ`, or `None`.
fn normalise_fingerprint(typed: &str) -> Option<String> {
    let chars: Vec<char> =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != 16 || !chars.iter().all(|c| FINGERPRINT_ALPHABET.contains(*c)) {
        return None;
    }
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    Some(groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_alone_has_no_fingerprint() {
        let t = InviteText::parse("  1a2b3c4d-5e6f7a8b-9c0d1e2f-3a4b5c6d ").unwrap();
        assert_eq!(t.code, "1a2b3c4d-5e6f7a8b-9c0d1e2f-3a4b5c6d");
        assert_eq!(t.fingerprint, None);
    }

    #[test]
    fn a_fingerprint_after_the_slash_is_normalised() {
        let t = InviteText::parse("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d / 7qxm 2kd9-h4tr b1nz").unwrap();
        assert_eq!(t.code, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d");
        assert_eq!(t.fingerprint.as_deref(), Some("7QXM-2KD9-H4TR-B1NZ"));
        let again = InviteText::parse(&InviteText::format(&t.code, "7QXM-2KD9-H4TR-B1NZ")).unwrap();
        assert_eq!(again, t);
    }

    #[test]
    fn a_spoiled_fingerprint_or_no_code_is_refused_without_echoing_it() {
        for bad in ["abc/7QXM-2KD9-H4TR-B1N", "abc/7QXM-2KD9-H4TR-B1NO", "abc/", "abc/7QXM-2KD9-H4TR-B1NZZ"] {
            assert_eq!(InviteText::parse(bad), Err(InviteTextError::Fingerprint), "{bad}");
        }
        assert_eq!(InviteText::parse(" /7QXM-2KD9-H4TR-B1NZ"), Err(InviteTextError::Empty));
        assert_eq!(InviteText::parse(""), Err(InviteTextError::Empty));
        let t = InviteText::parse("secret-code/7QXM-2KD9-H4TR-B1NZ").unwrap();
        assert!(!format!("{t:?}").contains("secret"));
    }
}
