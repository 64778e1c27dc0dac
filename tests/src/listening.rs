//! When tauri-driver and WebKitWebDriver listen: the event the e2e harness
//! waits for before it asks for a session.
//!
//! Neither program says when it listens, and neither takes a socket from us
//! (docs/ci.md, "The WebDriver start"). The listen probe
//! (`tests/listen-probe`, preloaded into both with `LD_PRELOAD`, which only
//! Linux has) reports each port they listen on to a socket made here.

#[cfg(target_os = "linux")]
pub use linux::{listen_reports, wait_listening};

#[cfg(target_os = "linux")]
mod linux {
    use std::net::{IpAddr, SocketAddr};
    use std::path::Path;

    use tokio::net::UnixDatagram;
    use tokio::process::{Child, Command};
    use tokio::time::Instant;

    use crate::{env_path, E2eError, DEFAULT_TIMEOUT};

    /// Preloads the probe into `cmd` and returns the socket it reports to.
    pub fn listen_reports(cmd: &mut Command, dir: &Path) -> Result<UnixDatagram, E2eError> {
        let probe = env_path("SEALBOX_LISTEN_PROBE")?;
        if !probe.is_file() {
            return Err(E2eError::MissingFile(probe));
        }
        let path = dir.join("listening.sock");
        let reports = UnixDatagram::bind(&path)?;
        cmd.env("LD_PRELOAD", probe).env("SEALBOX_LISTEN_REPORT", path);
        Ok(reports)
    }

    /// Waits until every port in `ports` is reported listening; fails at once
    /// if tauri-driver exits, and after the e2e timeout otherwise.
    pub async fn wait_listening<const N: usize>(
        reports: &UnixDatagram,
        child: &mut Child,
        ports: [u16; N],
    ) -> Result<(), E2eError> {
        let mut waiting = ports.to_vec();
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let mut buf = [0u8; 128];
        while !waiting.is_empty() {
            tokio::select! {
                got = tokio::time::timeout_at(deadline, reports.recv(&mut buf)) => {
                    let Ok(got) = got else {
                        return Err(E2eError::Timeout {
                            what: format!("tauri-driver and WebKitWebDriver to listen on ports {waiting:?}"),
                            timeout: DEFAULT_TIMEOUT,
                        });
                    };
                    let len = got?;
                    let addr = std::str::from_utf8(&buf[..len]).ok().and_then(|a| a.parse::<SocketAddr>().ok());
                    // The harness and tauri-driver connect to 127.0.0.1:
                    // WebKitWebDriver's listening on ::1 alone is not enough.
                    if let Some(addr) = addr.filter(|a| matches!(a.ip(), IpAddr::V4(ip) if ip.is_loopback() || ip.is_unspecified())) {
                        waiting.retain(|p| *p != addr.port());
                    }
                }
                status = child.wait() => return Err(E2eError::DriverExited(status?)),
            }
        }
        Ok(())
    }
}

/// Elsewhere there is no `LD_PRELOAD`, so no readiness event: the harness
/// says so rather than poll.
#[cfg(not(target_os = "linux"))]
pub fn listen_reports(
    _cmd: &mut tokio::process::Command,
    _dir: &std::path::Path,
) -> Result<(), crate::E2eError> {
    Err(crate::E2eError::Unsupported("waiting for tauri-driver needs the Linux listen probe"))
}

#[cfg(not(target_os = "linux"))]
pub async fn wait_listening<const N: usize>(
    _reports: &(),
    _child: &mut tokio::process::Child,
    _ports: [u16; N],
) -> Result<(), crate::E2eError> {
    Err(crate::E2eError::Unsupported("waiting for tauri-driver needs the Linux listen probe"))
}
