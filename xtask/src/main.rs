//! `cargo xtask <command>`: the project's own developer commands.
//!
//! - `demo`: set up this machine, build the UI and the app in release, open
//!   the window (or, with no display, run it under Xvfb and save a screenshot).
//! - `test`: the same set-up, then lints, every workspace test and the
//!   end-to-end suite; ends with one summary line.
//! - `bundle`: the same build, packaged for installing (see `bundle`).
//! - `update-key`: a new release key for signed updates.
//! - `setup`: only the set-up.

// A command-line tool: stdout (the summary line, bench tables) is its interface.
#![allow(clippy::print_stdout)]

mod artifacts;
mod bench;
mod bench_ratio;
mod bundle;
mod demo;
mod postgres;
mod proc;
mod setup;
mod suite;
mod summary;
mod test;
mod update_sign;
mod workspace;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("bundle") => bundle::run(),
        Some("update-key") => update_key(&args[1..]),
        Some(test::IN_SESSION) => test::run_in_session(&args[1..]),
        Some(demo::IN_SESSION) => demo::run_in_session(&args[1..]),
        Some("setup") => workspace::Workspace::locate().and_then(|ws| setup::ensure(&ws)),
        Some("help") | Some("--help") | Some("-h") | None => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(proc::Error::new(format!("unknown command `{other}`\n\n{USAGE}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask update-key FILE`: a new release key for signed updates.
fn update_key(args: &[String]) -> proc::Result<()> {
    let [path] = args else {
        return Err(proc::Error::new("usage: cargo xtask update-key FILE (the secret key file to create)"));
    };
    let public = update_sign::Signer::new_release_key(std::path::Path::new(path))?;
    println!("secret key: {path} (keep it out of the repository; bundle reads it from SEALBOX_UPDATE_KEY)");
    println!("public key, for tauri.conf.json's plugins.updater.pubkey:\n{public}");
    Ok(())
}

const USAGE: &str = "usage: cargo xtask <command>

  demo    set up, build in release and open Sealbox (headless: Xvfb + target/demo/screenshot.png)
  test    set up, lint, run every test and the end-to-end suite; ends with a summary line
          (`cargo xtask test --no-e2e` skips the end-to-end suite while iterating;
          `cargo xtask test --repeat N` runs every suite N times in a row and names
          each test that failed in any run: the flake hunt)
  bench   `cargo xtask bench cache`: cache benchmarks, SQLCipher vs plain SQLite, one table
          `cargo xtask bench sync`: sync ingest of 10,000 envelopes vs storing the plaintexts
          `cargo xtask bench hub`: hub load (1,000 clients on the event stream; then 50 syncing)
          `cargo xtask bench hub-ratio [--rounds N]`: ingest on PostgreSQL ÷ SQLite, in turn
  bundle  build in release and package: the app as .deb and .rpm, the hub as a .deb with its
          systemd unit (into target/release/bundle/)
  update-key FILE
          make a release key for signed updates (encrypted with SEALBOX_UPDATE_KEY_PASSWORD);
          prints the public key for tauri.conf.json
  setup   install what this machine is missing (Debian/Ubuntu packages, wasm target, tools)";
