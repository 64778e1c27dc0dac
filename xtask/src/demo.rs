//! `cargo xtask demo`: build Sealbox, start a demo practice (a real hub
//! in-process, an admin and a GP enrolled with software keys, simulated
//! patients writing) and open the app on the GP's workstation, ready to
//! unlock with the printed PIN. With no display: under Xvfb with a private
//! D-Bus session and keyring, unlock it and save screenshots of the lock
//! screen and the inbox into target/demo/, then exit.

use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::workspace::Workspace;
use crate::{artifacts, setup};

pub fn run() -> Result<()> {
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    let app = artifacts::build_app(&ws, artifacts::Build::Demo)?.app;
    let demo = ws.target.join("release").join(crate::workspace::exe("sealbox-demo"));
    if has_display() {
        eprintln!("xtask: opening {} on a demo practice", app.display());
        return proc::run(Command::new(&demo).arg("--app").arg(&app));
    }
    let shots = ws.target.join("demo");
    eprintln!("xtask: no display; running the demo under Xvfb, screenshots into {}", shots.display());
    let me = std::env::current_exe().map_err(|e| Error::new(format!("locating xtask: {e}")))?;
    proc::run(
        Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1280x900x24", "dbus-run-session", "--"])
            .arg(me)
            .arg(IN_SESSION)
            .arg(&demo)
            .arg(&app)
            .arg(&shots),
    )?;
    for name in ["lock-screen.png", "inbox.png"] {
        if !shots.join(name).is_file() {
            return Err(Error::new(format!("no screenshot {name} in {}", shots.display())));
        }
    }
    eprintln!("xtask: demo screenshots saved in {}", shots.display());
    Ok(())
}

/// The hidden subcommand run inside the private session.
pub const IN_SESSION: &str = "__demo-in-session";

/// Inside Xvfb and a private D-Bus session: a private keyring, then the
/// demo with screenshots. Args: DEMO APP SHOTS.
pub fn run_in_session(args: &[String]) -> Result<()> {
    let [demo, app, shots] = args else {
        return Err(Error::new("usage: __demo-in-session DEMO APP SHOTS"));
    };
    let ws = Workspace::locate()?;
    crate::test::private_session(&ws.target.join("demo-session"))?;
    proc::run(Command::new(demo).arg("--app").arg(app).arg("--shots").arg(shots))
}

fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
