//! A clinician's professional registration, shown under every reply they
//! send: "GMC 7012345" (doctors), "NMC 12A3456E" (nurses), "GPhC 2034567"
//! (pharmacists), "HCPC PA12345" (allied health). Staff data, not patient
//! data. Validated so that nothing but a regulator and a number reaches a
//! patient's screen.

use serde::{Deserialize, Serialize};

/// The regulators Sealbox knows.
pub const REGULATORS: [&str; 4] = ["GMC", "NMC", "GPhC", "HCPC"];

/// A checked registration: a known regulator, a space, 4 to 12 letters or
/// digits with at least one digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Registration(String);

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a registration is a regulator (GMC, NMC, GPhC or HCPC), a space and its number, e.g. \"GMC 7012345\""
)]
pub struct BadRegistration;

impl Registration {
    /// Checks `text` (surrounding spaces ignored; the regulator's case as
    /// written is normalised).
    pub fn parse(text: &str) -> Result<Self, BadRegistration> {
        let (body, number) = text.trim().split_once(' ').ok_or(BadRegistration)?;
        let body = REGULATORS.iter().find(|r| r.eq_ignore_ascii_case(body)).ok_or(BadRegistration)?;
        let number = number.trim();
        let ok = (4..=12).contains(&number.len())
            && number.chars().all(|c| c.is_ascii_alphanumeric())
            && number.chars().any(|c| c.is_ascii_digit());
        if !ok {
            return Err(BadRegistration);
        }
        Ok(Registration(format!("{body} {}", number.to_ascii_uppercase())))
    }

    /// As shown, e.g. "GMC 7012345".
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Registration {
    type Error = BadRegistration;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Registration::parse(&s)
    }
}

impl From<Registration> for String {
    fn from(r: Registration) -> Self {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regulators_numbers_are_accepted_and_normalised() {
        assert_eq!(Registration::parse("GMC 7012345").unwrap().as_str(), "GMC 7012345");
        assert_eq!(Registration::parse(" nmc 12a3456e ").unwrap().as_str(), "NMC 12A3456E");
        assert_eq!(Registration::parse("gphc 2034567").unwrap().as_str(), "GPhC 2034567");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "GMC",
            "7012345",
            "BMA 7012345",
            "GMC 12",
            "GMC <script>",
            "GMC ABCDEFG",
            "GMC 1234567890123",
        ] {
            assert_eq!(Registration::parse(bad), Err(BadRegistration), "{bad:?}");
        }
        assert!(serde_json::from_str::<Registration>("\"GMC x\"").is_err());
        assert_eq!(
            serde_json::to_string(&Registration::parse("GMC 7012345").unwrap()).unwrap(),
            "\"GMC 7012345\""
        );
    }
}
