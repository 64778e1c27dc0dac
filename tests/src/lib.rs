//! The end-to-end harness: starts the release Sealbox app through tauri-driver
//! (which drives WebKitWebDriver) and gives a scenario a WebDriver session on
//! the app's real webview.
//!
//! A scenario is a few lines:
//!
//! ```no_run
//! # async fn scenario() -> Result<(), sealbox_e2e::E2eError> {
//! let app = sealbox_e2e::App::launch().await?;
//! let heading = app.text("#lock-title").await?;
//! app.screenshot("lock-screen").await?;
//! app.close().await?;
//! # Ok(()) }
//! ```
//!
//! Environment: `SEALBOX_APP` names the app binary (set by `cargo xtask test`),
//! `SEALBOX_E2E_OUT` the folder for screenshots. Both are required: a run
//! without them fails rather than skips.

// The harness reports what it did (sessions, screenshots) to the test log.
#![allow(clippy::print_stdout)]

mod driver;
pub mod flows;
mod listening;
pub mod practice;
mod session;

pub use driver::Driver;
pub use session::{App, Mark};

/// `text` with every run of white space made one space (how text reads
/// once the webview has laid it out).
pub fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

use std::path::PathBuf;
use std::time::Duration;

/// How long a scenario waits for the app to reach a state before failing.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    #[error("{0} is not set; run the end-to-end suite through `cargo xtask test`")]
    MissingEnv(&'static str),
    #[error("the app binary {0} does not exist; build it with `cargo xtask test`")]
    MissingApp(PathBuf),
    #[error("could not start the WebDriver server (tauri-driver or chromedriver): {0} (is it installed? `cargo xtask setup`)")]
    DriverStart(std::io::Error),
    #[error("{0} does not exist; build it with `cargo xtask test`")]
    MissingFile(PathBuf),
    #[error("the WebDriver server exited before it was ready: {0}")]
    DriverExited(std::process::ExitStatus),
    #[error("the end-to-end harness cannot run here: {0}")]
    Unsupported(&'static str),
    #[error("could not open a WebDriver session: {0}")]
    Session(#[from] fantoccini::error::NewSessionError),
    #[error("WebDriver command failed: {0}")]
    Command(#[from] fantoccini::error::CmdError),
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout { what: String, timeout: Duration },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the page answered a script with something else than {0}")]
    Script(&'static str),
}

/// Reads a required environment variable.
pub fn env_path(name: &'static str) -> Result<PathBuf, E2eError> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from).ok_or(E2eError::MissingEnv(name))
}
