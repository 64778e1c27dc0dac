//! Matching the patient before acting (issue 27 point 3), the rule: what
//! the record holds for the NHS number against what the patient wrote. A
//! save to record waits for a person's confirmation unless it is one
//! patient whose first given name begins, and whose family name ends, the
//! name the patient gave, and whose date of birth is the one they gave
//! (case, hyphens, apostrophes and spacing aside).

use crate::endpoint::Lookup;

/// What the patient wrote about themselves (patient data: no Debug).
pub struct Wrote<'a> {
    /// Their name as they gave it ("Mary Ann O'Brien-Smith").
    pub name: &'a str,
    /// `YYYY-MM-DD`.
    pub birth_date: &'a str,
}

/// The outcome, as the thread shows it (log-safe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// One patient, name and date of birth agree: saving may go ahead.
    Agrees,
    /// One patient, but the name or the date of birth differs.
    Differs {
        /// The name differs.
        name: bool,
        /// The date of birth differs.
        birth_date: bool,
    },
    /// The record has no patient with that number.
    Unknown,
    /// Several patients share the number: the record needs fixing first.
    Several,
}

impl Match {
    /// Whether a save must wait for a clinician to confirm the match.
    pub fn needs_confirmation(self) -> bool {
        self != Match::Agrees
    }

    /// What the thread's warning says.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Match::Agrees => None,
            Match::Differs { name: true, birth_date: true } => Some(
                "The record's name and date of birth for this NHS number differ from what the patient wrote",
            ),
            Match::Differs { name: true, .. } => {
                Some("The record's name for this NHS number differs from what the patient wrote")
            }
            Match::Differs { .. } => {
                Some("The record's date of birth for this NHS number differs from what the patient wrote")
            }
            Match::Unknown => Some("The practice's record has no patient with this NHS number"),
            Match::Several => Some("The practice's record has more than one patient with this NHS number"),
        }
    }
}

impl Match {
    /// A stable key to keep it by.
    pub fn key(self) -> &'static str {
        match self {
            Match::Agrees => "agrees",
            Match::Differs { name: true, birth_date: true } => "differs_name_birth_date",
            Match::Differs { name: true, .. } => "differs_name",
            Match::Differs { .. } => "differs_birth_date",
            Match::Unknown => "unknown",
            Match::Several => "several",
        }
    }

    /// The outcome kept as `key` (none: not one of ours).
    pub fn from_key(key: &str) -> Option<Match> {
        Some(match key {
            "agrees" => Match::Agrees,
            "differs_name_birth_date" => Match::Differs { name: true, birth_date: true },
            "differs_name" => Match::Differs { name: true, birth_date: false },
            "differs_birth_date" => Match::Differs { name: false, birth_date: true },
            "unknown" => Match::Unknown,
            "several" => Match::Several,
            _ => return None,
        })
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == '-' || c == '\'' || c == '\u{2019}')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The record's given and family names against the name as written.
fn name_agrees(given: &str, family: &str, written: &str) -> bool {
    let (given, family, written) = (words(given), words(family), words(written));
    !given.is_empty()
        && !family.is_empty()
        && written.len() >= given.len() + family.len()
        && written.starts_with(&given)
        && written.ends_with(&family)
}

/// The record's answer against what the patient wrote.
pub fn check(record: &Lookup, wrote: &Wrote<'_>) -> Match {
    match record {
        Lookup::Unknown => Match::Unknown,
        Lookup::Several(_) => Match::Several,
        Lookup::One { family, given, birth_date } => {
            let name = !given.first().is_some_and(|g| name_agrees(g, family, wrote.name));
            let birth = birth_date.is_empty() || birth_date != wrote.birth_date;
            if name || birth {
                Match::Differs { name, birth_date: birth }
            } else {
                Match::Agrees
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(family: &str, given: &str, birth: &str) -> Lookup {
        Lookup::One { family: family.to_owned(), given: vec![given.to_owned()], birth_date: birth.to_owned() }
    }

    #[test]
    fn only_one_patient_whose_name_and_birth_date_agree_lets_a_save_go_ahead() {
        let wrote = Wrote { name: "Mary Ann O\u{2019}Brien-Smith", birth_date: "1958-03-14" };
        assert_eq!(check(&one("o brien smith", "MARY", "1958-03-14"), &wrote), Match::Agrees);
        assert_eq!(check(&one("Smith", "Mary", "1958-03-14"), &wrote), Match::Agrees, "a middle part");
        assert_eq!(
            check(&one("O'Brien-Smith", "Ann", "1958-03-14"), &wrote),
            Match::Differs { name: true, birth_date: false },
            "the first given name begins the name"
        );
        assert_eq!(
            check(&one("O'Brien-Smith", "Maria", "1958-03-14"), &wrote),
            Match::Differs { name: true, birth_date: false }
        );
        assert_eq!(
            check(&one("O'Brien-Smith", "Mary", "1958-04-14"), &wrote),
            Match::Differs { name: false, birth_date: true }
        );
        assert_eq!(check(&one("", "", ""), &wrote), Match::Differs { name: true, birth_date: true });
        assert_eq!(check(&Lookup::Unknown, &wrote), Match::Unknown);
        assert_eq!(check(&Lookup::Several(2), &wrote), Match::Several);
        for m in [
            Match::Unknown,
            Match::Several,
            Match::Differs { name: true, birth_date: false },
            Match::Differs { name: false, birth_date: true },
            Match::Differs { name: true, birth_date: true },
        ] {
            assert!(m.needs_confirmation() && m.warning().is_some(), "{m:?}");
            assert_eq!(Match::from_key(m.key()), Some(m));
        }
        assert_eq!(Match::from_key(Match::Agrees.key()), Some(Match::Agrees));
        assert_eq!(Match::from_key("maybe"), None);
        assert!(!Match::Agrees.needs_confirmation() && Match::Agrees.warning().is_none());
    }
}
