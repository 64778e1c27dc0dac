//! The names the Bundle uses: identifier systems, code systems, UK Core
//! profiles, and each entry's stable `urn:uuid` (a version 5 UUID of our
//! own ids, so a second save names the same things).

use uuid::Uuid;

/// The NHS number (NHS England's identifier system).
pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// Professional registrations, by regulator (UK Core identifier systems).
pub fn registration_system(regulator: &str) -> Option<&'static str> {
    match regulator {
        "GMC" => Some("https://fhir.hl7.org.uk/Id/gmc-number"),
        "NMC" => Some("https://fhir.hl7.org.uk/Id/nmc-number"),
        "GPhC" => Some("https://fhir.hl7.org.uk/Id/gphc-number"),
        "HCPC" => Some("https://fhir.hl7.org.uk/Id/hcpc-number"),
        _ => None,
    }
}

/// Sealbox's own identifiers and codes live under this base. A practice's
/// clinical system sees them as opaque, stable, and ours.
const BASE: &str = "https://sealbox.example/fhir";

/// A message (`Communication.identifier`): `<practice>/<message id>`.
pub const MESSAGE_ID: &str = "https://sealbox.example/fhir/Id/message";
/// A thread (`Task.identifier`): `<practice>/<thread id>`.
pub const THREAD_ID: &str = "https://sealbox.example/fhir/Id/thread";
/// An issued medicine (`MedicationRequest.identifier`): `<practice>/<thread>/<n>`.
pub const ISSUE_ID: &str = "https://sealbox.example/fhir/Id/issue";
/// A member of staff without a registration: their staff id.
pub const STAFF_ID: &str = "https://sealbox.example/fhir/Id/staff";
/// A workstation: its device id.
pub const WORKSTATION_ID: &str = "https://sealbox.example/fhir/Id/workstation";
/// An audit chain event: its hash (hex).
pub const AUDIT_EVENT_ID: &str = "https://sealbox.example/fhir/Id/audit-event";
/// One save (`meta.tag` on the Provenance): `<practice>/<thread>/<audit link>`.
pub const SAVE_TAG: &str = "https://sealbox.example/fhir/CodeSystem/save";
/// Thread categories (`Task.code`).
pub const CATEGORY: &str = "https://sealbox.example/fhir/CodeSystem/category";
/// Red-flag rules (`Task.note` names them; the code is the rule's words).
pub const RED_FLAG: &str = "https://sealbox.example/fhir/CodeSystem/red-flag";
/// Why a repeat was not issued (`Task.statusReason`).
pub const REJECTION: &str = "https://sealbox.example/fhir/CodeSystem/refill-rejection";
/// The outcome of a repeat request (`Task.businessStatus`, `Task.output.type`).
pub const REFILL_OUTCOME: &str = "https://sealbox.example/fhir/CodeSystem/refill-outcome";

/// UK Core profiles, where one exists for the resource.
pub const UKCORE_COMMUNICATION: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Communication";
/// See [`UKCORE_COMMUNICATION`].
pub const UKCORE_TASK: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task";
/// See [`UKCORE_COMMUNICATION`].
pub const UKCORE_MEDICATION_REQUEST: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-MedicationRequest";

/// The namespace of our entry names (a fixed, random UUID).
const NAMESPACE: Uuid = Uuid::from_u128(0x5ea1_b0c5_7f1e_4c2a_9d3b_0a6e_2f4c_8b17);

/// The stable `urn:uuid:` of `kind` (`message`, `thread`, …) `id` of `practice`.
pub fn entry_name(practice: &str, kind: &str, id: &str) -> String {
    let name = format!("{BASE}/{kind}/{practice}/{id}");
    format!("urn:uuid:{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_stable_uuids_distinct_per_practice_kind_and_id() {
        let a = entry_name("p1", "message", "7");
        assert_eq!(a, entry_name("p1", "message", "7"), "a second save names the same entry");
        assert!(a.starts_with("urn:uuid:") && Uuid::parse_str(&a["urn:uuid:".len()..]).is_ok(), "{a}");
        assert_ne!(a, entry_name("p2", "message", "7"));
        assert_ne!(a, entry_name("p1", "thread", "7"));
        assert_ne!(a, entry_name("p1", "message", "8"));
        assert_eq!(registration_system("GMC"), Some("https://fhir.hl7.org.uk/Id/gmc-number"));
        assert_eq!(registration_system("XYZ"), None);
    }
}
