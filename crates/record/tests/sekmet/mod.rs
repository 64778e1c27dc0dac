//! sekmet-fhir, a FHIR R4 server we did not write (PyPI: FastAPI over
//! SQLite, validating what it stores, with SMART Backend Services), as the
//! record tests start it: installed by `cargo xtask test`
//! (`SEALBOX_FHIR_SERVER_PYTHONPATH`), on a port of its own, a fresh
//! database each time. Shared with the hub crate's workstation tests
//! (`#[path]`), so nothing here depends on which crate runs it.

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
