//! The Bundles of three handled threads, byte for byte against committed
//! golden files (tests/golden/*.json; `SEALBOX_BLESS=1` rewrites them after
//! a change that is meant), the `fhir` crate's own validation of each, and
//! a second save naming exactly the same entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod threads;

use fhir::r4::validate::Validate;
use sealbox_record::{to_bundle, to_json};

fn golden_dir() -> std::path::PathBuf {
    // Read at run time (docs/architecture.md, Builds: a reused target dir).
    std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("tests/golden")
}

#[test]
fn each_thread_is_its_golden_bundle_and_valid() {
    for (name, thread) in threads::all() {
        let bundle = to_bundle(&thread).unwrap();
        let issues = bundle.validate();
        assert!(issues.is_empty(), "{name}: {issues:?}");
        let text = serde_json::to_string_pretty(&to_json(bundle).unwrap()).unwrap() + "\n";
        let path = golden_dir().join(format!("{name}.json"));
        if std::env::var_os("SEALBOX_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text == golden, "{name}: the Bundle differs from {}:\n{text}", path.display());
    }
}

#[test]
fn the_patient_is_referenced_by_nhs_number_and_never_created() {
    for (name, thread) in threads::all() {
        let doc = to_json(to_bundle(&thread).unwrap()).unwrap();
        let entries = doc["entry"].as_array().unwrap();
        assert!(entries.iter().all(|e| e["resource"]["resourceType"] != "Patient"), "{name}");
        let task = &entries[0]["resource"];
        assert_eq!(task["resourceType"], "Task", "{name}");
        assert_eq!(task["for"]["identifier"]["system"], "https://fhir.nhs.uk/Id/nhs-number");
        assert_eq!(task["for"]["identifier"]["value"], thread.nhs_number.reveal(), "{name}");
        // Every entry is a conditional create: a second save adds nothing.
        for e in entries {
            assert_eq!(e["request"]["method"], "POST");
            let cond = e["request"]["ifNoneExist"].as_str().unwrap_or_default();
            assert!(cond.starts_with("identifier=") || cond.starts_with("_tag="), "{name}: {e}");
        }
        let again = to_json(to_bundle(&thread).unwrap()).unwrap();
        assert_eq!(doc, again, "{name}: the same thread saves the same Bundle");
    }
}

#[test]
fn the_decision_and_the_overruled_red_flag_are_in_the_task() {
    let all = threads::all();
    let doc = |i: usize| to_json(to_bundle(&all[i].1).unwrap()).unwrap();
    let approved = doc(0);
    let kinds: Vec<&str> = approved["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["Task", "Communication", "Communication", "MedicationRequest", "MedicationRequest", "Provenance"]
    );
    let issued = &approved["entry"][3]["resource"];
    assert_eq!(issued["medicationCodeableConcept"]["text"], "Amlodipine 5 mg tablets");
    assert_eq!(issued["dispenseRequest"]["quantity"]["value"], 28);
    assert_eq!(issued["requester"]["identifier"]["system"], "https://fhir.hl7.org.uk/Id/nmc-number");

    let rejected = doc(1);
    let task = &rejected["entry"][0]["resource"];
    assert_eq!(task["statusReason"]["coding"][0]["code"], "monitoring_needed");
    assert_eq!(task["businessStatus"]["coding"][0]["code"], "rejected");

    let question = doc(2);
    let task = &question["entry"][0]["resource"];
    let note = task["note"][0]["text"].as_str().unwrap();
    assert!(note.contains("chest pain") && note.contains("Overruled"), "{note}");
    assert_eq!(task["note"][0]["authorReference"]["identifier"]["value"], "7012345");
    assert_eq!(task["priority"], "asap");
    let photo = &question["entry"][1]["resource"]["payload"][1]["contentAttachment"];
    assert_eq!(photo["contentType"], "image/png");
    let provenance = &question["entry"][3]["resource"];
    assert_eq!(provenance["resourceType"], "Provenance");
    assert_eq!(provenance["entity"][0]["what"]["identifier"]["value"], all[2].1.saved.audit_link);
    assert_eq!(provenance["agent"][1]["who"]["identifier"]["value"], "device-7f3a");
}
