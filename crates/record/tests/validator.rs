//! Each Bundle the threads make is a valid FHIR R4 Bundle for an
//! independent implementation: PyPI's fhir.resources 6.4.0 (R4 models),
//! installed by `cargo xtask test` (`SEALBOX_FHIR_R4_PYTHONPATH`). The
//! committed golden files are checked too, and a broken Bundle is refused
//! (the check can fail).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

mod threads;

use std::path::{Path, PathBuf};
use std::process::Command;

use sealbox_record::{to_bundle, to_json};

fn validate(files: &[PathBuf]) -> (bool, String) {
    let libs = std::env::var("SEALBOX_FHIR_R4_PYTHONPATH").expect(
        "SEALBOX_FHIR_R4_PYTHONPATH: run the tests with `cargo xtask test`, which installs the validator",
    );
    let script = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("tests/validate_r4.py");
    let out =
        Command::new("/usr/bin/python3").arg(script).args(files).env("PYTHONPATH", libs).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn every_bundle_and_golden_file_is_valid_r4_for_fhir_resources_and_a_broken_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let golden = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("tests/golden");
    let mut files = Vec::new();
    for (name, thread) in threads::all() {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(&to_json(to_bundle(&thread).unwrap()).unwrap()).unwrap())
            .unwrap();
        files.push(path);
        files.push(golden.join(format!("{name}.json")));
    }
    let (ok, text) = validate(&files);
    println!("{text}");
    assert!(ok, "{text}");
    assert_eq!(text.matches("valid R4 Bundle:").count(), files.len(), "{text}");

    // A Task without its required `intent`: refused.
    let mut broken = to_json(to_bundle(&threads::all().remove(0).1).unwrap()).unwrap();
    broken["entry"][0]["resource"].as_object_mut().unwrap().remove("intent");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, serde_json::to_vec(&broken).unwrap()).unwrap();
    let (ok, text) = validate(&[path]);
    assert!(!ok && text.contains("intent"), "{text}");
}
