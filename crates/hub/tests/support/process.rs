//! The real `sealbox-hub serve` binary as a child process: started on a
//! data dir, its stdout and stderr kept as log files, killed with SIGKILL
//! and restarted on the same address.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// A running hub binary.
pub struct HubProcess {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    addr: String,
    data: PathBuf,
    logs: PathBuf,
    extra: Vec<String>,
    child: Option<(Child, JoinHandle<()>)>,
    starts: usize,
}

impl HubProcess {
    /// Starts `sealbox-hub serve` on `data` (any free loopback port), logging
    /// into `logs` (hub.stdout, hub.stderr; appended on restarts).
    pub fn start(data: &Path, logs: &Path, extra: &[&str]) -> HubProcess {
        let mut hub = HubProcess {
            url: String::new(),
            addr: "127.0.0.1:0".into(),
            data: data.to_owned(),
            logs: logs.to_owned(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
            starts: 0,
        };
        hub.spawn();
        hub
    }

    fn spawn(&mut self) {
        let append = |name: &str| {
            std::fs::OpenOptions::new().create(true).append(true).open(self.logs.join(name)).unwrap()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_sealbox-hub"))
            .args(["serve", "--data-dir"])
            .arg(&self.data)
            .args(["--addr", &self.addr])
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(append("hub.stderr"))
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut log = append("hub.stdout");
        let mut line = String::new();
        let url = loop {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "the hub exited before listening");
            log.write_all(line.as_bytes()).unwrap();
            if let Some(url) = line.trim().strip_prefix("sealbox-hub listening on ") {
                break url.to_owned();
            }
        };
        let drain = std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stdout, &mut rest);
            let _ = log.write_all(&rest);
        });
        self.addr = url.trim_start_matches("http://").to_owned();
        self.url = url;
        self.child = Some((child, drain));
        self.starts += 1;
    }

    /// SIGKILL, no goodbye; waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some((mut child, drain)) = self.child.take() {
            let _ = child.kill();
            child.wait().unwrap();
            drain.join().unwrap();
        }
    }

    /// Starts it again on the same address and data dir.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// How many times it was started.
    pub fn starts(&self) -> usize {
        self.starts
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
