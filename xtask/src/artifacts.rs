//! Building what the app is made of: the wasm UI, then the release shell
//! (which embeds the UI at compile time, so the order matters).

use std::path::PathBuf;
use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::workspace::Workspace;

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

/// Builds the UI and the release desktop app; returns the app binary.
pub fn build_app(ws: &Workspace) -> Result<PathBuf> {
    build_ui(ws)?;
    proc::run(ws.cargo().args(["build", "--release", "--package", "sealbox", "--bin", "sealbox"]))?;
    let bin = ws.app_binary();
    if !bin.is_file() {
        return Err(Error::new(format!("the build did not produce {}", bin.display())));
    }
    Ok(bin)
}

/// Builds the e2e harness's listen probe (`tests/listen-probe`), preloaded
/// into tauri-driver so the harness waits for it to listen; returns the
/// library.
pub fn build_listen_probe(ws: &Workspace) -> Result<PathBuf> {
    proc::run(ws.cargo().args(["build", "--release", "--package", "sealbox-listen-probe"]))?;
    let lib = ws.target.join("release").join("libsealbox_listen_probe.so");
    if !lib.is_file() {
        return Err(Error::new(format!("the build did not produce {}", lib.display())));
    }
    Ok(lib)
}
