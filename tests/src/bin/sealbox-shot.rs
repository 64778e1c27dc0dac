//! Opens the app in its real webview, waits for the lock screen and saves a
//! screenshot: what `cargo xtask demo` does on a machine with no display.
//!
//! usage: sealbox-shot --app PATH --out FILE.png

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use sealbox_e2e::App;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut app, mut out) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--app" => app = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            _ => {}
        }
    }
    let (Some(app), Some(out)) = (app, out) else {
        eprintln!("usage: sealbox-shot --app PATH --out FILE.png");
        return ExitCode::FAILURE;
    };
    match shoot(app, out).await {
        Ok(path) => {
            println!("saved {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sealbox-shot: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shoot(app: PathBuf, out: PathBuf) -> Result<PathBuf, sealbox_e2e::E2eError> {
    let dir = out.parent().map(PathBuf::from).unwrap_or_default();
    let name =
        out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "screenshot".into());
    let session = App::launch_with(&app, dir).await?;
    let state = session.wait_attr("#app-status", "data-state", |s| s != "loading").await?;
    println!("lock screen: {} ({state})", session.text("#lock-title").await?);
    let path = session.screenshot(&name).await?;
    session.close().await?;
    Ok(path)
}
