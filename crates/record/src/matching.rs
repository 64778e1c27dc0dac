//! Matching the patient before acting (issue 27 point 3), the rule: what
//! the record holds for the NHS number against what the patient wrote. A
//! save to record waits for a person's confirmation unless it is one
//! patient whose family name, first given name and date of birth agree.

use crate::endpoint::Lookup;

/// What the patient wrote about themselves (patient data: no Debug).
pub struct Wrote<'a> {
    /// Their family name.
    pub family: &'a str,
    /// Their first given name.
    pub given: &'a str,
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

fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == '-' || c == '\'')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    !a.trim().is_empty() && norm(a) == norm(b)
}

/// The record's answer against what the patient wrote.
pub fn check(record: &Lookup, wrote: &Wrote<'_>) -> Match {
    match record {
        Lookup::Unknown => Match::Unknown,
        Lookup::Several(_) => Match::Several,
        Lookup::One { family, given, birth_date } => {
            let name = !(same(family, wrote.family) && given.first().is_some_and(|g| same(g, wrote.given)));
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
        let wrote = Wrote { family: "O'Brien-Smith", given: "Mary", birth_date: "1958-03-14" };
        assert_eq!(check(&one("o brien smith", "MARY", "1958-03-14"), &wrote), Match::Agrees);
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
        for m in [Match::Unknown, Match::Several, Match::Differs { name: true, birth_date: false }] {
            assert!(m.needs_confirmation() && m.warning().is_some(), "{m:?}");
        }
        assert!(!Match::Agrees.needs_confirmation() && Match::Agrees.warning().is_none());
    }
}
