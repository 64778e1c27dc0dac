//! `cargo xtask demo`'s practice: a real hub in-process, a practice admin
//! and a GP enrolled with software security keys, the simulator's patients
//! writing, and the app opened on the GP's workstation, ready to unlock
//! with the PIN printed here.
//!
//! usage: sealbox-demo --app PATH [--shots DIR]
//!
//! With `--shots` (a machine with no display, under Xvfb): drives the app
//! through WebDriver, unlocks it and saves the lock screen and the inbox
//! as PNGs in DIR, then exits. Without: runs the app until it is closed.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use sealbox_e2e::practice::{Practice, GP_PIN};
use sealbox_e2e::App;

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut app, mut shots) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--app" => app = args.next().map(PathBuf::from),
            "--shots" => shots = args.next().map(PathBuf::from),
            _ => {}
        }
    }
    let Some(app) = app else {
        eprintln!("usage: sealbox-demo --app PATH [--shots DIR]");
        return ExitCode::FAILURE;
    };
    match run(app, shots).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealbox-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(app: PathBuf, shots: Option<PathBuf>) -> Result<(), Failure> {
    let practice = Practice::start(40, 200).await?;
    let envs = [("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())];
    println!("demo: a GP's workstation is enrolled; unlock with the PIN {GP_PIN}");
    match shots {
        Some(dir) => {
            let session = App::launch_env_to(&app, dir, &envs).await?;
            println!("demo: {}", session.text("#lock-title").await?);
            session.screenshot("lock-screen").await?;
            session.type_into("#pin", GP_PIN).await?;
            session.click("#unlock").await?;
            let count = practice.threads.to_string();
            session.wait_attr("#inbox", "data-count", |n| n == count).await?;
            println!("demo: {}", session.text("#inbox-title").await?);
            let path = session.screenshot("inbox").await?;
            println!("demo: screenshots saved next to {}", path.display());
            session.close().await?;
        }
        None => {
            let status = tokio::process::Command::new(&app)
                .envs(envs)
                .env("SEALBOX_DEMO_KEY", "soft")
                .status()
                .await?;
            println!("demo: Sealbox exited ({status})");
        }
    }
    drop(practice);
    Ok(())
}
