//! Building what the app is made of: the wasm apps (the desktop UI, the
//! patient web app), then the release shell and hub (which embed them at
//! compile time, so the order matters).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::workspace::{Workspace, NATIVE, WASM_APPS};

/// Builds the wasm apps ([`WASM_APPS`]: the desktop UI, the patient web
/// app) in one cargo invocation and writes each bundle to its `dist`
/// folder (the shell and the hub embed them, so they come first).
pub fn build_web(ws: &Workspace) -> Result<()> {
    let mut build = ws.cargo();
    build.args(["build", "--release", "--target", WASM_TARGET]);
    for (package, _, _) in WASM_APPS {
        build.args(["--package", package]);
    }
    proc::run(&mut build)?;
    for (package, out_name, dir) in WASM_APPS {
        let wasm = ws.target.join(WASM_TARGET).join("release").join(format!("{package}.wasm"));
        bundle(ws, &wasm, out_name, dir)?;
    }
    Ok(())
}

fn bundle(ws: &Workspace, wasm: &Path, out_name: &str, dir: &str) -> Result<()> {
    let dist = ws.path(format!("{dir}/dist"));
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| Error::new(format!("clearing {}: {e}", dist.display())))?;
    }
    std::fs::create_dir_all(&dist).map_err(|e| Error::new(format!("creating {}: {e}", dist.display())))?;
    proc::run(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-name", out_name, "--out-dir"])
            .arg(&dist)
            .arg(wasm),
    )?;
    let statics = ws.path(format!("{dir}/static"));
    let entries =
        std::fs::read_dir(&statics).map_err(|e| Error::new(format!("reading {}: {e}", statics.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::new(format!("reading {}: {e}", statics.display())))?;
        std::fs::copy(entry.path(), dist.join(entry.file_name()))
            .map_err(|e| Error::new(format!("copying {}: {e}", entry.path().display())))?;
    }
    Ok(())
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

/// Builds the wasm apps, then the release desktop app with the rest of the native
/// workspace in one cargo invocation ([`NATIVE`]); returns the app binary.
pub fn build_app(ws: &Workspace, build: Build) -> Result<PathBuf> {
    build_web(ws)?;
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
