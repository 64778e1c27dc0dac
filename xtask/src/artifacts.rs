//! Building what the app is made of: the wasm UI, then the release shell
//! (which embeds the UI at compile time, so the order matters).

use std::path::PathBuf;
use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::workspace::{Workspace, NATIVE};

/// Builds the Yew UI to wasm and writes the bundle to ui/dist.
pub fn build_ui(ws: &Workspace) -> Result<PathBuf> {
    proc::run(ws.cargo().args(["build", "--release", "--package", "sealbox-ui", "--target", WASM_TARGET]))?;
    let wasm = ws.target.join(WASM_TARGET).join("release").join("sealbox-ui.wasm");
    let dist = ws.path("ui/dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| Error::new(format!("clearing {}: {e}", dist.display())))?;
    }
    std::fs::create_dir_all(&dist).map_err(|e| Error::new(format!("creating {}: {e}", dist.display())))?;
    proc::run(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-name", "sealbox_ui", "--out-dir"])
            .arg(&dist)
            .arg(&wasm),
    )?;
    let statics = ws.path("ui/static");
    let entries =
        std::fs::read_dir(&statics).map_err(|e| Error::new(format!("reading {}: {e}", statics.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::new(format!("reading {}: {e}", statics.display())))?;
        std::fs::copy(entry.path(), dist.join(entry.file_name()))
            .map_err(|e| Error::new(format!("copying {}: {e}", entry.path().display())))?;
    }
    Ok(dist)
}

/// What a native build is for.
#[derive(Clone, Copy)]
pub enum Build {
    /// The demo: every binary (the app and the demo practice).
    Demo,
    /// The test run: every binary, library (the listen probe) and test, in
    /// the selection and with the dev-dependencies the test suites use, so
    /// the suites then compile nothing but the e2e scenarios.
    Tests,
}

/// Builds the UI, then the release desktop app with the rest of the native
/// workspace in one cargo invocation ([`NATIVE`]); returns the app binary.
pub fn build_app(ws: &Workspace, build: Build) -> Result<PathBuf> {
    build_ui(ws)?;
    let targets: &[&str] = match build {
        Build::Demo => &["--bins"],
        Build::Tests => &["--lib", "--bins", "--tests"],
    };
    proc::run(ws.cargo().arg("build").args(NATIVE).args(targets))?;
    built(ws.app_binary())
}

/// The e2e harness's listen probe (`tests/listen-probe`, built by
/// [`Build::Tests`]), preloaded into tauri-driver so the harness waits for
/// it to listen.
pub fn listen_probe(ws: &Workspace) -> Result<PathBuf> {
    built(ws.target.join("release").join("libsealbox_listen_probe.so"))
}

fn built(path: PathBuf) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::new(format!("the build did not produce {}", path.display())))
    }
}
