//! `cargo xtask demo`: build and open Sealbox. With no display, run it under
//! Xvfb, save a screenshot of what it shows and exit.

use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::workspace::Workspace;
use crate::{artifacts, setup};

pub fn run() -> Result<()> {
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    let app = artifacts::build_app(&ws)?;
    if has_display() {
        eprintln!("xtask: opening {}", app.display());
        return proc::run(&mut Command::new(&app));
    }
    let shot = ws.target.join("demo").join("screenshot.png");
    eprintln!("xtask: no display; running Sealbox under Xvfb to take {}", shot.display());
    proc::run(ws.cargo().args(["build", "--release", "--package", "sealbox-e2e", "--bin", "sealbox-shot"]))?;
    let shooter = ws.target.join("release").join(crate::workspace::exe("sealbox-shot"));
    proc::run(
        Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1280x900x24", "dbus-run-session", "--"])
            .arg(&shooter)
            .arg("--app")
            .arg(&app)
            .arg("--out")
            .arg(&shot),
    )?;
    if !shot.is_file() {
        return Err(Error::new(format!("no screenshot at {}", shot.display())));
    }
    eprintln!("xtask: demo screenshot saved to {}", shot.display());
    Ok(())
}

fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
