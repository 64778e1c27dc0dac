//! One `cargo test` suite, run to the end: every test binary runs
//! (`--no-fail-fast`), its `test result:` lines are added up, the binaries
//! that failed and the tests that failed are named, and the count is checked
//! against what the same command lists with `-- --list`, so a binary that
//! crashed (or never ran) cannot leave its tests out of the summary unseen.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use crate::proc::{self, Error, Result};
use crate::summary::Counts;

/// A `cargo test` invocation: cargo's arguments, then the harness's.
pub struct Suite {
    pub name: &'static str,
    pub cargo_args: Vec<String>,
    pub harness_args: Vec<String>,
    pub envs: Vec<(String, std::ffi::OsString)>,
}

/// What one run of a suite showed.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub counts: Counts,
    /// Test binaries (unit, integration and doc-test targets) cargo ran.
    pub binaries: usize,
    /// Cargo's way to rerun each binary that failed, e.g. `-p sealbox-hub --test no_plaintext`.
    pub failed_binaries: Vec<String>,
    /// Each failed test's name.
    pub failed_tests: Vec<String>,
    /// How many tests `-- --list` names for the same command.
    pub listed: Option<u64>,
    /// Whether cargo exited 0.
    pub cargo_ok: bool,
}

impl Outcome {
    /// The reasons this run is not a pass (empty when it is).
    pub fn problems(&self, suite: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.failed_binaries.is_empty() {
            out.push(format!(
                "{suite}: {} test binar{} failed: {}",
                self.failed_binaries.len(),
                if self.failed_binaries.len() == 1 { "y" } else { "ies" },
                self.failed_binaries.join(", ")
            ));
        } else if !self.cargo_ok {
            out.push(format!("{suite}: cargo test failed before any test binary reported"));
        }
        match self.listed {
            Some(listed) if listed != self.counts.all() => out.push(format!(
                "{suite}: {listed} tests are listed but {} reported a result (a test binary crashed or did not run)",
                self.counts.all()
            )),
            Some(_) => {}
            None => out.push(format!("{suite}: could not list the tests to check the count")),
        }
        out
    }
}

impl Suite {
    fn command(&self, ws: &crate::workspace::Workspace, list: bool) -> Command {
        let mut cmd = ws.cargo();
        cmd.arg("test").args(&self.cargo_args);
        if !list {
            cmd.arg("--no-fail-fast");
        }
        cmd.arg("--");
        if list {
            cmd.args(["--list", "--format", "terse"]);
        } else {
            cmd.args(&self.harness_args);
        }
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs every test binary of the suite, echoing its output, then lists
    /// the same tests to check that each one reported.
    pub fn run(&self, ws: &crate::workspace::Workspace) -> Result<Outcome> {
        let mut cmd = self.command(ws, false);
        eprintln!("xtask: $ {}", proc::describe(&cmd));
        // cargo's output goes to files, not pipes: a process a test left
        // running (a browser driver) would hold a pipe open for ever, and
        // reading it to its end would never finish. Both are echoed live.
        let file = |stream: &str| {
            let path = ws.target.join(format!("test-{}-{stream}.log", self.name));
            std::fs::File::create(&path)
                .map(|f| (path.clone(), f))
                .map_err(|e| Error::new(format!("creating {}: {e}", path.display())))
        };
        let ((out_path, out_file), (err_path, err_file)) = (file("stdout")?, file("stderr")?);
        let mut child = cmd
            .stdout(Stdio::from(out_file))
            .stderr(Stdio::from(err_file))
            .spawn()
            .map_err(|e| Error::new(format!("could not start `{}`: {e}", proc::describe(&cmd))))?;
        let done = Arc::new(AtomicBool::new(false));
        let echoes = [(out_path.clone(), true), (err_path.clone(), false)].map(|(path, to_stdout)| {
            let done = Arc::clone(&done);
            thread::spawn(move || follow(&path, &done, to_stdout))
        });
        let status = child.wait().map_err(|e| Error::new(format!("waiting for tests: {e}")))?;
        done.store(true, Ordering::Relaxed);
        for echo in echoes {
            let _ = echo.join();
        }
        let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
        let mut parser = StdoutParser::default();
        for line in read(&out_path).lines() {
            parser.add_line(line);
        }
        let mut seen = StderrSeen::default();
        for line in read(&err_path).lines() {
            seen.add_line(line);
        }
        Ok(Outcome {
            counts: parser.counts,
            binaries: seen.binary_names.len(),
            failed_binaries: seen.failed_binaries,
            failed_tests: parser.failed,
            listed: self.list(ws),
            cargo_ok: status.success(),
        })
    }

    /// How many tests (ignored ones too) the suite's binaries list.
    fn list(&self, ws: &crate::workspace::Workspace) -> Option<u64> {
        let mut cmd = self.command(ws, true);
        cmd.stderr(Stdio::null());
        let out = proc::output(&mut cmd)?;
        Some(count_listed(&out))
    }
}

/// Echoes what is appended to `path` (to stdout, or stderr) until `done`
/// is set and nothing more is there.
fn follow(path: &std::path::Path, done: &AtomicBool, to_stdout: bool) {
    use std::io::{Read, Write};
    let Ok(mut file) = std::fs::File::open(path) else { return };
    let mut buf = Vec::new();
    loop {
        let finished = done.load(Ordering::Relaxed);
        buf.clear();
        if file.read_to_end(&mut buf).is_ok() && !buf.is_empty() {
            let _ =
                if to_stdout { std::io::stdout().write_all(&buf) } else { std::io::stderr().write_all(&buf) };
        } else if finished {
            return;
        } else {
            thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// Counts `name: test` lines of `--list --format terse` output.
pub fn count_listed(out: &str) -> u64 {
    out.lines().filter(|l| l.trim_end().ends_with(": test")).count() as u64
}

/// What cargo's stderr says: which binaries ran and which failed.
#[derive(Default)]
struct StderrSeen {
    binary_names: Vec<String>,
    failed_binaries: Vec<String>,
}

impl StderrSeen {
    fn add_line(&mut self, line: &str) {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running ") {
            self.binary_names.push(rest.split(" (").next().unwrap_or(rest).to_owned());
        } else if let Some(rest) = t.strip_prefix("Doc-tests ") {
            self.binary_names.push(format!("doc-tests {rest}"));
        }
        // `error: test failed, to rerun pass `-p x --test y`` (one per failed
        // binary) and, after all of them, cargo's list of the failed targets.
        let rerun = t
            .split_once("to rerun pass `")
            .map(|(_, r)| r)
            .or_else(|| t.strip_prefix('`').filter(|r| r.starts_with("-p ") || r.starts_with("--")));
        if let Some(r) = rerun {
            let target = r.split('`').next().unwrap_or(r).to_owned();
            if !self.failed_binaries.contains(&target) {
                self.failed_binaries.push(target);
            }
        }
    }
}

/// Adds up `test result:` lines and picks out the failed tests' names (the
/// list libtest prints under its last `failures:` heading).
#[derive(Default)]
pub struct StdoutParser {
    pub counts: Counts,
    pub failed: Vec<String>,
    in_failures: Vec<String>,
}

impl StdoutParser {
    pub fn add_line(&mut self, line: &str) {
        if line == "failures:" {
            self.in_failures.clear();
        } else if let Some(name) = line.strip_prefix("    ") {
            if !name.starts_with(' ') && !name.is_empty() {
                self.in_failures.push(name.to_owned());
            }
        } else if line.starts_with("running ") && (line.ends_with(" tests") || line.ends_with(" test")) {
            self.in_failures.clear();
        }
        if self.counts.add_line(line) {
            if line.contains("FAILED") {
                self.failed.append(&mut self.in_failures);
            }
            self.in_failures.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_failed_tests_under_the_last_failures_heading() {
        let out = "running 3 tests
test a::one ... ok
test a::two ... FAILED
test a::three ... FAILED

failures:

---- a::two stdout ----
    indented output of the test

failures:
    a::three
    a::two

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

running 1 test
test b::x ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";
        let mut p = StdoutParser::default();
        for line in out.lines() {
            p.add_line(line);
        }
        assert_eq!(p.failed, vec!["a::three", "a::two"]);
        assert_eq!(p.counts, Counts { passed: 2, failed: 2, ignored: 0 });
    }

    #[test]
    fn reads_failed_binaries_from_cargos_stderr() {
        let err = "     Running unittests src/lib.rs (target/release/deps/sealbox_core-1)
     Running tests/no_plaintext.rs (target/release/deps/no_plaintext-2)
error: test failed, to rerun pass `-p sealbox-hub --test no_plaintext`
   Doc-tests sealbox_model
error: 2 targets failed:
    `-p sealbox-hub --test no_plaintext`
    `-p sealbox-hub --lib`
";
        let mut s = StderrSeen::default();
        for line in err.lines() {
            s.add_line(line);
        }
        assert_eq!(
            s.binary_names,
            vec!["unittests src/lib.rs", "tests/no_plaintext.rs", "doc-tests sealbox_model"]
        );
        assert_eq!(s.failed_binaries, vec!["-p sealbox-hub --test no_plaintext", "-p sealbox-hub --lib"]);
    }

    #[test]
    fn counts_listed_tests_but_not_benches_or_totals() {
        let out = "a::one: test\nb::two: test\nc::bench: benchmark\n\n2 tests, 1 benchmark\n";
        assert_eq!(count_listed(out), 2);
    }

    #[test]
    fn a_crashed_binary_shows_as_a_count_mismatch() {
        let o = Outcome {
            counts: Counts { passed: 3, failed: 0, ignored: 1 },
            binaries: 2,
            failed_binaries: vec![],
            failed_tests: vec![],
            listed: Some(6),
            cargo_ok: false,
        };
        let p = o.problems("workspace");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[1].contains("6 tests are listed but 4"), "{p:?}");
    }
}
