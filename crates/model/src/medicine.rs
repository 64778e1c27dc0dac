//! A requested medicine as a patient wrote it ("Ramipril 5mg capsules",
//! "Salbutamol 100micrograms/dose inhaler x2"), split for the refill screen
//! into name, strength, form and quantity. Splitting never loses text:
//! what is not recognised stays in the name, and the whole text is kept.

/// The parts of one requested item. Patient data: `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct MedicineParts {
    /// The words before the strength (or everything, if none was found).
    pub name: String,
    /// e.g. "5mg", "100micrograms/dose", "0.1%".
    pub strength: Option<String>,
    /// The words after the strength, e.g. "capsules".
    pub form: Option<String>,
    /// e.g. "x2", "28 tablets" when the patient said how many.
    pub quantity: Option<String>,
}

impl std::fmt::Debug for MedicineParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MedicineParts { <hidden> }")
    }
}

const UNITS: [&str; 9] = ["mg", "mcg", "micrograms", "microgram", "g", "ml", "%", "units", "iu"];

/// "5mg", "0.5ml", "100micrograms/dose", "2.5%": a number directly followed
/// by a known unit (an optional "/..." after it); or a combination product's
/// "100/6", "160/4.5".
fn is_strength(word: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
    if let Some((a, b)) = word.split_once('/') {
        if number(a) && number(b) && a.starts_with(|c: char| c.is_ascii_digit()) {
            return true;
        }
    }
    let lower = word.to_ascii_lowercase();
    let digits = lower.chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
    if digits == 0 || !lower.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let unit = lower[digits..].split('/').next().unwrap_or_default();
    UNITS.contains(&unit)
}

/// "x2", "x28", "28" followed by a form word at the end.
fn is_count(word: &str) -> bool {
    let w = word.trim_start_matches(['x', 'X', '×']);
    !w.is_empty() && w.len() < word.len() && w.chars().all(|c| c.is_ascii_digit())
}

/// Splits `text` (see the module docs).
pub fn split(text: &str) -> MedicineParts {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut parts = MedicineParts::default();
    let Some(at) = words.iter().position(|w| is_strength(w)) else {
        parts.name = words.join(" ");
        return parts;
    };
    parts.name = words[..at].join(" ");
    parts.strength = Some(words[at].to_owned());
    let mut rest: Vec<&str> = words[at + 1..].to_vec();
    if let Some(last) = rest.last().copied() {
        if is_count(last) {
            parts.quantity = Some(last.to_owned());
            rest.pop();
        }
    }
    if !rest.is_empty() {
        parts.form = Some(rest.join(" "));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_strength_form_and_quantity_are_split() {
        let p = split("Ramipril 5mg capsules");
        assert_eq!(
            (p.name.as_str(), p.strength.as_deref(), p.form.as_deref(), p.quantity.as_deref()),
            ("Ramipril", Some("5mg"), Some("capsules"), None)
        );
        let p = split("Salbutamol 100micrograms/dose inhaler x2");
        assert_eq!(
            (p.name.as_str(), p.strength.as_deref(), p.form.as_deref(), p.quantity.as_deref()),
            ("Salbutamol", Some("100micrograms/dose"), Some("inhaler"), Some("x2"))
        );
        let p = split("Omeprazole 20mg gastro-resistant capsules");
        assert_eq!(p.form.as_deref(), Some("gastro-resistant capsules"));
        let p = split("Fostair 100/6 inhaler");
        assert_eq!(
            (p.name.as_str(), p.strength.as_deref(), p.form.as_deref()),
            ("Fostair", Some("100/6"), Some("inhaler"))
        );
        let p = split("Hydrocortisone 1% cream");
        assert_eq!((p.strength.as_deref(), p.form.as_deref()), (Some("1%"), Some("cream")));
    }

    #[test]
    fn text_without_a_strength_stays_whole_in_the_name() {
        let p = split("my usual blue  inhaler");
        assert_eq!(p.name, "my usual blue inhaler");
        assert_eq!((p.strength, p.form, p.quantity), (None, None, None));
        assert_eq!(split("").name, "");
        // A number that is not a strength is not taken for one.
        assert_eq!(split("Vitamin D3 tablets").strength, None);
        assert_eq!(split("2 boxes of plasters").strength, None);
    }

    #[test]
    fn debug_hides_the_medicine() {
        assert!(!format!("{:?}", split("Ramipril 5mg capsules")).contains("Ramipril"));
    }
}
