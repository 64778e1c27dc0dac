//! tauri-driver (the desktop app) or chromedriver (the patient web app) as
//! a child process on free loopback ports, with HOME and the XDG folders
//! pointed at a throwaway directory.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

use tokio::process::{Child, Command};

use crate::listening::{listen_reports, wait_listening};
use crate::E2eError;

/// A running tauri-driver. Killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
    _home: tempfile::TempDir,
}

impl Driver {
    /// Starts tauri-driver and waits until it and WebKitWebDriver listen.
    pub async fn start() -> Result<Self, E2eError> {
        Self::start_with_env(&[]).await
    }

    /// Starts tauri-driver with extra environment for the app it launches,
    /// and returns once it and its WebKitWebDriver both listen.
    pub async fn start_with_env(envs: &[(&str, String)]) -> Result<Self, E2eError> {
        let port = free_port()?;
        let native_port = free_port()?;
        let home = tempfile::Builder::new().prefix("sealbox-e2e-home-").tempdir()?;
        let mut cmd = Command::new("tauri-driver");
        cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()]).kill_on_drop(true);
        // Its own process group: tauri-driver starts WebKitWebDriver (which
        // starts the app); killing tauri-driver alone left those running,
        // holding ports and the test runner's output pipes.
        #[cfg(unix)]
        cmd.process_group(0);
        isolate_home(&mut cmd, home.path())?;
        // The e2e suite and the demo drive the app with the software key;
        // without this setting the app looks for a USB security key.
        cmd.env("SEALBOX_DEMO_KEY", "soft");
        cmd.envs(envs.iter().map(|(k, v)| (*k, v.as_str())));
        let reports = listen_reports(&mut cmd, home.path())?;
        let mut child = cmd.spawn().map_err(E2eError::DriverStart)?;
        wait_listening(&reports, &mut child, [port, native_port]).await?;
        Ok(Driver { child, port, _home: home })
    }

    /// Starts Debian's chromedriver (it starts a Chromium for each
    /// session) and returns once it listens: the patient web app's browser.
    pub async fn chromedriver() -> Result<Self, E2eError> {
        let port = free_port()?;
        let home = tempfile::Builder::new().prefix("sealbox-e2e-chromium-").tempdir()?;
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}")).kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        isolate_home(&mut cmd, home.path())?;
        let reports = listen_reports(&mut cmd, home.path())?;
        let mut child = cmd.spawn().map_err(E2eError::DriverStart)?;
        wait_listening(&reports, &mut child, [port]).await?;
        Ok(Driver { child, port, _home: home })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn stop(mut self) -> Result<(), E2eError> {
        self.kill_group();
        self.child.kill().await?;
        Ok(())
    }

    /// Kills tauri-driver's whole process group (WebKitWebDriver and the app too).
    fn kill_group(&self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill_group();
    }
}

fn free_port() -> Result<u16, E2eError> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// GTK, WebKit and D-Bus write caches under HOME: keep the user's untouched.
fn isolate_home(cmd: &mut Command, home: &Path) -> Result<(), E2eError> {
    for (var, sub) in [
        ("HOME", ""),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ] {
        let dir = home.join(sub);
        std::fs::create_dir_all(&dir)?;
        cmd.env(var, dir);
    }
    Ok(())
}
