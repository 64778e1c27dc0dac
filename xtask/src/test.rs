//! `cargo xtask test`: set up, lint, every workspace test, then the
//! end-to-end suite (the release app in its real webview under Xvfb).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::summary::Counts;
use crate::workspace::Workspace;
use crate::{artifacts, setup};

pub fn run(args: &[String]) -> Result<()> {
    let e2e = !args.iter().any(|a| a == "--no-e2e");
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    proc::run(ws.cargo().args(["fmt", "--all", "--check"]))?;
    let app = artifacts::build_app(&ws)?;
    lint(&ws)?;

    let mut counts = Counts::default();
    let mut failures = Vec::new();
    let mut unit = ws.cargo();
    unit.args([
        "test", "--release", "--workspace", "--exclude", "sealbox-ui", "--exclude", "sealbox-e2e",
    ]);
    if let Err(e) = run_counting(&mut unit, &mut counts) {
        failures.push(e.to_string());
    }

    if e2e {
        let out = ws.target.join("e2e");
        let mut cmd = Command::new("xvfb-run");
        cmd.current_dir(&ws.root)
            .args(["-a", "-s", "-screen 0 1280x900x24", "dbus-run-session", "--", "cargo"])
            .args(["test", "--release", "--package", "sealbox-e2e", "--", "--nocapture", "--test-threads=1"])
            .env("SEALBOX_APP", &app)
            .env("SEALBOX_E2E_OUT", &out);
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

/// Clippy with the workspace lints (no unwrap/expect/panic outside tests) as errors.
fn lint(ws: &Workspace) -> Result<()> {
    proc::run(ws.cargo().args([
        "clippy", "--release", "--workspace", "--exclude", "sealbox-ui", "--all-targets", "--", "-D", "warnings",
    ]))?;
    proc::run(ws.cargo().args([
        "clippy", "--release", "--package", "sealbox-ui", "--target", WASM_TARGET, "--", "-D", "warnings",
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
