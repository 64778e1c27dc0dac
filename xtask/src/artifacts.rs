//! Building what the app is made of: the wasm apps (the desktop UI, the
//! patient web app), then the release shell and hub (which embed them at
//! compile time, so the order matters).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, io_error, Error, Result};
use crate::setup::WASM_TARGET;
use crate::update_sign::Signer;
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

/// Writes the bundle in a staging folder, then copies into `dist` only the
/// files whose bytes changed (and removes those gone). The hub's and the
/// shell's build scripts watch `dist` by modification time: a bundle
/// written anew each run, though identical, rebuilt both on every warm run.
fn bundle(ws: &Workspace, wasm: &Path, out_name: &str, dir: &str) -> Result<()> {
    let stage = ws.target.join("web-stage").join(dir);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| io_error("clearing", &stage, &e))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| io_error("creating", &stage, &e))?;
    proc::run(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-name", out_name, "--out-dir"])
            .arg(&stage)
            .arg(wasm),
    )?;
    let statics = ws.path(format!("{dir}/static"));
    for entry in std::fs::read_dir(&statics).map_err(|e| io_error("reading", &statics, &e))? {
        let entry = entry.map_err(|e| io_error("reading", &statics, &e))?;
        std::fs::copy(entry.path(), stage.join(entry.file_name()))
            .map_err(|e| io_error("copying", &entry.path(), &e))?;
    }
    sync_dir(&stage, &ws.path(format!("{dir}/dist")))
}

/// Makes `to` hold exactly the files of `from`, touching only those that differ.
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| io_error("creating", to, &e))?;
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(from).map_err(|e| io_error("reading", from, &e))? {
        let entry = entry.map_err(|e| io_error("reading", from, &e))?;
        let bytes = std::fs::read(entry.path()).map_err(|e| io_error("reading", &entry.path(), &e))?;
        let target = to.join(entry.file_name());
        if std::fs::read(&target).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&target, &bytes).map_err(|e| io_error("writing", &target, &e))?;
        }
        names.insert(entry.file_name());
    }
    for entry in std::fs::read_dir(to).map_err(|e| io_error("reading", to, &e))? {
        let entry = entry.map_err(|e| io_error("reading", to, &e))?;
        if !names.contains(&entry.file_name()) {
            std::fs::remove_file(entry.path()).map_err(|e| io_error("removing", &entry.path(), &e))?;
        }
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

/// The app binary a build made, and the key its updates are signed with.
pub struct Built {
    pub app: PathBuf,
    pub signer: Signer,
}

/// Builds the wasm apps, then the release desktop app with the rest of the native
/// workspace in one cargo invocation ([`NATIVE`]). The update key comes
/// first: it decides which key the app is built to trust
/// ([`Signer::for_builds`]), for this build and every cargo run after it.
pub fn build_app(ws: &Workspace, build: Build) -> Result<Built> {
    let signer = Signer::for_builds(ws)?;
    build_web(ws)?;
    let targets: &[&str] = match build {
        Build::Demo => &["--bins"],
        Build::Tests => &["--lib", "--bins", "--tests"],
    };
    proc::run(ws.cargo().arg("build").args(NATIVE).args(targets))?;
    Ok(Built { app: built(ws.app_binary())?, signer })
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
