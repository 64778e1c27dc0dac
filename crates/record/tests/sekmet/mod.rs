//! sekmet-fhir, a FHIR R4 server we did not write (PyPI: FastAPI over
//! SQLite, validating what it stores, with SMART Backend Services), as the
//! record tests start it: installed by `cargo xtask test`
//! (`SEALBOX_FHIR_SERVER_PYTHONPATH`), on a port of its own, a fresh
//! database each time. Shared with the hub crate's workstation tests
//! and the e2e scenario (`#[path]`), so nothing here depends on which
//! crate runs it; not every user calls every helper.
#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// A running server (killed when dropped).
pub struct Server {
    child: Child,
    /// The FHIR base URL.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server with `settings` (YAML, added to its defaults: anyone
/// may read and write; its simulator is always off: it would act on what
/// we store, e.g. dispense our MedicationRequests).
pub fn start(settings: &str) -> Server {
    let libs = std::env::var("SEALBOX_FHIR_SERVER_PYTHONPATH").expect(
        "SEALBOX_FHIR_SERVER_PYTHONPATH: run the tests with `cargo xtask test`, which installs the FHIR server",
    );
    let dir = tempfile::tempdir().unwrap();
    let settings_file = dir.path().join("settings.yaml");
    std::fs::write(&settings_file, format!("simulator:\n  enabled: false\n{settings}")).unwrap();
    // The launcher travels with this module (the workstation's tests in
    // the hub crate start the same server).
    let script = dir.path().join("fhir_server.py");
    std::fs::write(&script, include_str!("../fhir_server.py")).unwrap();
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .env("PYTHONPATH", libs)
        .env("SEKMET_CONFIG", &settings_file)
        .env("SEKMET_DB", dir.path().join("fhir.db"))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("the server did not start: {line:?}"));
    Server { base: format!("http://127.0.0.1:{port}/fhir"), child, _dir: dir }
}

/// An HTTP client for the test's own requests (reqwest's rustls needs a
/// crypto provider chosen, as the workstation's client does).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The static token the tests' own set-up writes and reads with.
pub const SETUP_TOKEN: &str = "test-setup-token";

/// A server with SMART Backend Services on (scopes enforced) that signs
/// in `client_id` with the public key `jwk`, as practice IT registers a
/// workstation; the tests' own set-up uses [`SETUP_TOKEN`].
pub fn start_smart(client_id: &str, jwk: &serde_json::Value) -> Server {
    let jwks = serde_json::json!({ "keys": [jwk] });
    start(&format!(
        "server_auth:\n  types: [smart, bearer]\n  tokens: [{SETUP_TOKEN}]\n  enforce_scopes: true\n  \
         smart_clients:\n    - client_id: \"{client_id}\"\n      scopes: \"system/*.*\"\n      jwks: {jwks}\n"
    ))
}

/// The tests' own set-up: a Patient in the record.
pub async fn add_patient(base: &str, nhs: &str, family: &str, given: &str, birth: &str) {
    let patient = serde_json::json!({
        "resourceType": "Patient",
        "identifier": [{ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs }],
        "name": [{ "family": family, "given": [given] }],
        "birthDate": birth,
    });
    let resp = http()
        .post(format!("{base}/Patient"))
        .bearer_auth(SETUP_TOKEN)
        .header("Content-Type", "application/fhir+json")
        .body(patient.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().await.unwrap_or_default());
}

/// What the record holds of `resource` under the identifier `system|value`.
pub async fn held(base: &str, resource: &str, system: &str, value: &str) -> Vec<serde_json::Value> {
    let reply: serde_json::Value = http()
        .get(format!("{base}/{resource}"))
        .query(&[("identifier", format!("{system}|{value}"))])
        .bearer_auth(SETUP_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["resource"].clone())
        .collect()
}
