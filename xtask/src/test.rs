//! `cargo xtask test`: set up, lint, build the release app, then — inside one
//! private test session (Xvfb display, private D-Bus session bus, unlocked
//! gnome-keyring Secret Service, throwaway XDG dirs) — every workspace test
//! and the end-to-end suite (the release app in its real webview).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::summary::Counts;
use crate::workspace::Workspace;
use crate::{artifacts, setup};

/// The hidden subcommand that runs inside the private session.
pub const IN_SESSION: &str = "__test-in-session";

pub fn run(args: &[String]) -> Result<()> {
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    proc::run(ws.cargo().args(["fmt", "--all", "--check"]))?;
    let app = artifacts::build_app(&ws)?;
    lint(&ws)?;
    fuzz_targets_build(&ws)?;
    let me = std::env::current_exe().map_err(|e| Error::new(format!("locating xtask: {e}")))?;
    let mut inner = if cfg!(target_os = "linux") {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x900x24", "dbus-run-session", "--"]).arg(me);
        c
    } else {
        Command::new(me)
    };
    inner.arg(IN_SESSION).args(args).env("SEALBOX_APP", &app).current_dir(&ws.root);
    proc::run(&mut inner)
}

/// Runs the tests; called by [`run`] inside the private session.
pub fn run_in_session(args: &[String]) -> Result<()> {
    let e2e = !args.iter().any(|a| a == "--no-e2e");
    let ws = Workspace::locate()?;
    let session = ws.target.join("test-session");
    if cfg!(target_os = "linux") {
        private_session(&session)?;
    }

    let mut counts = Counts::default();
    let mut failures = Vec::new();
    let mut unit = ws.cargo();
    // --show-output: what passing tests print (the red-flag corpus's recall and
    // precision, the hub's plaintext scan) belongs in the log too.
    unit.args(["test", "--release", "--workspace", "--exclude", "sealbox-ui", "--exclude", "sealbox-e2e"])
        .args(["--", "--show-output"]);
    if let Err(e) = run_counting(&mut unit, &mut counts) {
        failures.push(e.to_string());
    }

    if e2e {
        let mut cmd = ws.cargo();
        cmd.args(["test", "--release", "--package", "sealbox-e2e", "--", "--nocapture", "--test-threads=1"])
            .env("SEALBOX_E2E_OUT", ws.target.join("e2e"));
        if let Err(e) = run_counting(&mut cmd, &mut counts) {
            failures.push(e.to_string());
        }
    }

    if counts.total() == 0 {
        failures.push("no test ran".to_owned());
    }
    println!("summary: {counts}");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::new(failures.join("; ")))
    }
}

/// Points XDG dirs at a fresh folder and starts an unlocked gnome-keyring
/// Secret Service on this (private) session bus.
pub fn private_session(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::new(format!("clearing {}: {e}", dir.display())))?;
    }
    for (var, sub) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ] {
        let path: PathBuf = dir.join(sub);
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::new(format!("creating {}: {e}", path.display())))?;
        restrict(&path)?;
        // Safe: xtask is single-threaded here, before any child starts.
        std::env::set_var(var, &path);
    }
    if !proc::on_path("gnome-keyring-daemon") {
        return Err(Error::new("gnome-keyring-daemon is missing; run `cargo xtask setup`"));
    }
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("starting gnome-keyring-daemon: {e}")))?;
    if let Some(mut stdin) = daemon.stdin.take() {
        use std::io::Write;
        // The test keyring's password: the keyring lives in this run's temp dir.
        stdin
            .write_all(b"sealbox-test-keyring")
            .map_err(|e| Error::new(format!("unlocking gnome-keyring-daemon: {e}")))?;
    }
    let out = daemon.wait_with_output().map_err(|e| Error::new(format!("gnome-keyring-daemon: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!("gnome-keyring-daemon failed ({})", out.status)));
    }
    eprintln!(
        "xtask: test session: Xvfb display, private D-Bus, unlocked gnome-keyring in {}",
        dir.display()
    );
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::new(format!("chmod {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> Result<()> {
    Ok(())
}

/// The cargo-fuzz crate (outside the workspace) must keep building: on
/// stable as a plain binary; `cargo +nightly fuzz run envelope_decode` runs it.
fn fuzz_targets_build(ws: &Workspace) -> Result<()> {
    let manifest = ws.root.join("fuzz").join("Cargo.toml");
    proc::run(ws.cargo().args(["build", "--release", "--locked", "--manifest-path"]).arg(manifest))
}

/// Clippy with the workspace lints (no unwrap/expect/panic outside tests) as errors.
fn lint(ws: &Workspace) -> Result<()> {
    proc::run(ws.cargo().args([
        "clippy",
        "--release",
        "--workspace",
        "--exclude",
        "sealbox-ui",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    proc::run(ws.cargo().args([
        "clippy",
        "--release",
        "--package",
        "sealbox-ui",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))
}

/// Runs a cargo test command, echoing its output and adding up its results.
fn run_counting(cmd: &mut Command, counts: &mut Counts) -> Result<()> {
    eprintln!("xtask: $ {}", proc::describe(cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("could not start `{}`: {e}", proc::describe(cmd))))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| Error::new(format!("reading test output: {e}")))?;
            println!("{line}");
            counts.add_line(&line);
        }
    }
    let status = child.wait().map_err(|e| Error::new(format!("waiting for tests: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("`{}` failed ({status})", proc::describe(cmd))))
    }
}
