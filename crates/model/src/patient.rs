//! Patients: a pseudonymous id plus the identifying details shown to the
//! clinician. Every identifying field redacts itself in `Debug`/`Display`.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ids::PatientId;
use crate::nhs_number::NhsNumber;
use crate::redact::{redacted_fmt, REDACTED};

/// The patient's name as the practice shows it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

redacted_fmt!(DisplayName);

impl DisplayName {
    /// Wraps a name.
    pub fn new(name: impl Into<String>) -> Self {
        DisplayName(name.into())
    }

    /// The name, for display to an authorised clinician.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// The patient's date of birth.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateOfBirth(Date);

redacted_fmt!(DateOfBirth);

impl DateOfBirth {
    /// Wraps a date.
    pub fn new(date: Date) -> Self {
        DateOfBirth(date)
    }

    /// The date, for display to an authorised clinician.
    pub fn reveal(&self) -> Date {
        self.0
    }

    /// Age in whole years on `on` (0 if `on` is before the birth date).
    pub fn age_on(&self, on: Date) -> u16 {
        let b = self.0;
        let mut years = i32::from(on.year()) - i32::from(b.year());
        if (on.month(), on.day()) < (b.month(), b.day()) {
            years -= 1;
        }
        u16::try_from(years.max(0)).unwrap_or(0)
    }
}

/// A patient as the clinician sees them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// Pseudonymous id from the hub (safe to log).
    pub id: PatientId,
    /// Name shown in the inbox.
    pub display_name: DisplayName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// NHS number, validated; none when the patient did not give one (a
    /// patient joining from the web app may leave it out).
    pub nhs_number: Option<NhsNumber>,
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Patient")
            .field("id", &self.id)
            .field("display_name", &format_args!("{REDACTED}"))
            .field("date_of_birth", &format_args!("{REDACTED}"))
            .field("nhs_number", &format_args!("{REDACTED}"))
            .finish()
    }
}

/// The identifying details a patient's app seals into each message (the
/// hub never sees them): what the clinician's device shows for a pseudonym.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientDetails {
    /// Name shown in the inbox.
    pub display_name: DisplayName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// NHS number, validated when read; none when the patient did not
    /// give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<NhsNumber>,
    /// Who wrote this message for the patient, when it was not the patient
    /// (a parent for a child, a carer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<Representative>,
}

redacted_fmt!(PatientDetails);

/// Someone writing on a patient's behalf, as the patient's app records
/// them. Patient data: redacted in `Debug`/`Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    /// Their name.
    pub name: DisplayName,
    /// How they are related to the patient.
    pub relationship: Relationship,
}

redacted_fmt!(Representative);

impl Representative {
    /// "Written by Jo Patel (parent) on the patient's behalf", for an
    /// authorised clinician's screen only.
    pub fn sentence(&self) -> String {
        format!("Written by {} ({}) on the patient's behalf", self.name.reveal(), self.relationship.words())
    }
}

/// How a representative is related to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// A parent or guardian.
    Parent,
    /// A paid or unpaid carer.
    Carer,
    /// A husband, wife or partner.
    Partner,
    /// Another relative.
    Relative,
    /// Someone with lasting power of attorney for health.
    Attorney,
    /// Anyone else the patient named.
    Other,
}

impl Relationship {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            Relationship::Parent => "parent or guardian",
            Relationship::Carer => "carer",
            Relationship::Partner => "partner",
            Relationship::Relative => "relative",
            Relationship::Attorney => "power of attorney",
            Relationship::Other => "someone the patient named",
        }
    }
}

impl PatientDetails {
    /// The bytes sealed into an envelope's patient-details part.
    pub fn to_sealed_plaintext(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Reads an opened patient-details part. The error says where the JSON
    /// broke, never what it held.
    pub fn from_sealed_plaintext(bytes: &[u8]) -> Result<Self, crate::message::PartDecodeError> {
        serde_json::from_slice(bytes).map_err(|e| crate::message::PartDecodeError::from_json(&e))
    }

    /// The patient these details name (who wrote the message is the
    /// message's, not the patient's: see [`PatientDetails::written_by`]).
    pub fn into_patient(self, id: PatientId) -> Patient {
        Patient {
            id,
            display_name: self.display_name,
            date_of_birth: self.date_of_birth,
            nhs_number: self.nhs_number,
        }
    }
}

impl fmt::Display for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "patient {}", self.id)
    }
}

/// What a search box's text says about a patient besides their name.
/// Patient data: no `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub enum PatientKey {
    /// An NHS number (valid check digit; spaces or dashes allowed).
    Nhs(NhsNumber),
    /// A date of birth as UK staff type it ("17/03/1948", "17-3-1948",
    /// "17.03.1948", "17 Mar 1948", "17 March 1948") or in ISO form
    /// ("1948-03-17").
    Born(Date),
}

impl PatientKey {
    /// The NHS number or date of birth `text` is, if it is one.
    pub fn parse(text: &str) -> Option<PatientKey> {
        let text = text.trim();
        if let Ok(n) = NhsNumber::parse(text) {
            return Some(PatientKey::Nhs(n));
        }
        let formats = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%Y-%m-%d"];
        formats.iter().find_map(|f| Date::strptime(f, text).ok()).map(PatientKey::Born)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_for_an_nhs_number_or_a_date_of_birth_is_recognised_as_staff_type_them() {
        let nhs = |s| match PatientKey::parse(s) {
            Some(PatientKey::Nhs(n)) => Some(n.reveal().to_owned()),
            _ => None,
        };
        assert_eq!(nhs("943 476 5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs("943-476-5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs("9434765918"), None, "a wrong check digit is not an NHS number");
        let born = Date::new(1948, 3, 17).unwrap();
        for s in [
            "17/03/1948",
            "17/3/1948",
            "17-03-1948",
            "17.03.1948",
            "17 Mar 1948",
            "17 March 1948",
            "1948-03-17",
        ] {
            assert!(PatientKey::parse(s) == Some(PatientKey::Born(born)), "{s}");
        }
        for s in ["Ada", "chest pain", "31/02/1948", "1948"] {
            assert!(PatientKey::parse(s).is_none(), "{s}");
        }
    }

    fn patient() -> Patient {
        Patient {
            id: PatientId("p-7f3a".into()),
            display_name: DisplayName::new("Margaret Okonkwo-Smith"),
            date_of_birth: DateOfBirth::new(Date::new(1948, 3, 17).unwrap()),
            nhs_number: Some(NhsNumber::parse("9434765919").unwrap()),
        }
    }

    #[test]
    fn details_round_trip_sealed_and_redact_in_debug() {
        let p = patient();
        let details = PatientDetails {
            display_name: p.display_name.clone(),
            date_of_birth: p.date_of_birth,
            nhs_number: p.nhs_number.clone(),
            written_by: None,
        };
        let bytes = details.to_sealed_plaintext().unwrap();
        let back = PatientDetails::from_sealed_plaintext(&bytes).unwrap();
        assert_eq!(back.clone().into_patient(p.id.clone()), p);
        assert!(!format!("{back:?}").contains("Margaret"));
        let bad = PatientDetails::from_sealed_plaintext(br#"{"display_name":"Margaret","nhs_number":"1"}"#);
        assert!(!bad.unwrap_err().to_string().contains("Margaret"));
    }

    #[test]
    fn patient_debug_and_display_redact_everything_but_the_pseudonym() {
        let p = patient();
        for out in [format!("{p:?}"), format!("{p:#?}"), format!("{p}")] {
            assert!(out.contains("p-7f3a"), "{out}");
            for secret in ["Margaret", "Okonkwo", "1948", "03-17", "9434765919", "943"] {
                assert!(!out.contains(secret), "{secret} leaked in {out}");
            }
        }
        assert!(format!("{p:?}").contains(REDACTED));
    }

    #[test]
    fn field_types_redact_on_their_own() {
        let p = patient();
        assert_eq!(format!("{:?}", p.display_name), "DisplayName(<redacted>)");
        assert_eq!(format!("{}", p.display_name), "<redacted>");
        assert_eq!(format!("{:?}", p.date_of_birth), "DateOfBirth(<redacted>)");
        assert_eq!(format!("{}", p.date_of_birth), "<redacted>");
        assert_eq!(p.display_name.reveal(), "Margaret Okonkwo-Smith");
    }

    #[test]
    fn age_counts_completed_years() {
        let dob = DateOfBirth::new(Date::new(2000, 6, 15).unwrap());
        assert_eq!(dob.age_on(Date::new(2025, 6, 14).unwrap()), 24);
        assert_eq!(dob.age_on(Date::new(2025, 6, 15).unwrap()), 25);
        assert_eq!(dob.age_on(Date::new(1999, 1, 1).unwrap()), 0);
    }

    #[test]
    fn patient_round_trips_through_json_for_the_ui() {
        let p = patient();
        let json = serde_json::to_string(&p).unwrap();
        let back: Patient = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
}
