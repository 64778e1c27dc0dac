//! `cargo xtask test`: set up, lint, build the release app, then — inside one
//! private test session (Xvfb display, private D-Bus session bus, unlocked
//! gnome-keyring Secret Service, throwaway XDG dirs, a throwaway PostgreSQL
//! cluster) — every workspace test and the end-to-end suite (the release
//! app in its real webview).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::proc::{self, Error, Result};
use crate::setup::WASM_TARGET;
use crate::suite::Suite;
use crate::summary::Counts;
use crate::workspace::{Workspace, NATIVE, WASM_APPS, XTASK};
use crate::{artifacts, bundle, postgres, setup};

/// The hidden subcommand that runs inside the private session.
pub const IN_SESSION: &str = "__test-in-session";

/// The variable that hands the tests the session's PostgreSQL cluster, as
/// a libpq connection string (each test makes a database of its own in it).
const POSTGRES_ENV: &str = "SEALBOX_TEST_POSTGRES";
/// The same cluster over TCP and TLS (`sslmode=verify-full`, its own CA).
const POSTGRES_TLS_ENV: &str = "SEALBOX_TEST_POSTGRES_TLS";

pub fn run(args: &[String]) -> Result<()> {
    Options::parse(args)?;
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    proc::run(ws.cargo().args(["fmt", "--all", "--check"]))?;
    let built = artifacts::build_app(&ws, artifacts::Build::Tests)?;
    let mut inner_env = vec![
        ("SEALBOX_APP", built.app),
        ("SEALBOX_PYTHONPATH", setup::python_libs(&ws)?),
        ("SEALBOX_AXE", setup::axe_core(&ws)?),
        // Save to record: an independent FHIR R4 validator and a real FHIR server.
        ("SEALBOX_FHIR_R4_PYTHONPATH", setup::fhir_validator(&ws)?),
        ("SEALBOX_FHIR_SERVER_PYTHONPATH", setup::fhir_server(&ws)?),
    ];
    if cfg!(target_os = "linux") {
        inner_env.push(("SEALBOX_LISTEN_PROBE", artifacts::listen_probe(&ws)?));
        // The packages the e2e suite installs (tests/tests/installed.rs).
        inner_env.extend(bundle::for_tests(&ws, &built.signer)?);
    }
    lint(&ws)?;
    if cfg!(target_os = "linux") {
        windows_check(&ws)?;
    }
    fuzz_targets_build(&ws)?;
    let me = std::env::current_exe().map_err(|e| Error::new(format!("locating xtask: {e}")))?;
    let mut inner = if cfg!(target_os = "linux") {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x900x24", "dbus-run-session", "--"]).arg(me);
        c
    } else {
        Command::new(me)
    };
    inner.arg(IN_SESSION).args(args).envs(inner_env).current_dir(&ws.root);
    proc::run(&mut inner)
}

/// What `cargo xtask test` was asked for.
struct Options {
    e2e: bool,
    repeat: u32,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut opts = Options { e2e: true, repeat: 1 };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--no-e2e" => opts.e2e = false,
                "--repeat" => {
                    opts.repeat = it
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| Error::new("--repeat takes a number of runs, 1 or more"))?;
                }
                other => return Err(Error::new(format!("unknown option `{other}` for `cargo xtask test`"))),
            }
        }
        Ok(opts)
    }
}

/// The suites, in order: every workspace test, xtask's own (in its dev
/// profile), then the end-to-end suite.
/// The workspace and e2e suites select the same packages ([`NATIVE`]) so
/// no dependency is compiled twice; the e2e scenarios are `test = false`
/// targets (tests/Cargo.toml), so the workspace suite leaves them out and
/// the e2e suite names each one.
fn suites(ws: &Workspace, e2e: bool) -> Result<Vec<Suite>> {
    let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut out = vec![
        Suite {
            name: "workspace",
            cargo_args: own(&NATIVE),
            // --show-output: what passing tests print (the red-flag corpus's recall
            // and precision, the hub's plaintext scan) belongs in the log too.
            harness_args: own(&["--show-output"]),
            envs: Vec::new(),
        },
        Suite { name: "xtask", cargo_args: own(&XTASK), harness_args: Vec::new(), envs: Vec::new() },
    ];
    if e2e {
        undeclared_scenarios(ws)?;
        out.push(Suite {
            name: "e2e",
            cargo_args: own(&NATIVE)
                .into_iter()
                .chain(ws.e2e_tests.iter().flat_map(|t| ["--test".to_owned(), t.clone()]))
                .collect(),
            harness_args: own(&["--nocapture", "--test-threads=1"]),
            envs: vec![("SEALBOX_E2E_OUT".to_owned(), ws.target.join("e2e").into_os_string())],
        });
    }
    Ok(out)
}

/// Every scenario file in tests/tests must be a declared target, named
/// `e2e_<file>` (the e2e package has `autotests = false`), or it would
/// never run.
fn undeclared_scenarios(ws: &Workspace) -> Result<()> {
    let dir = ws.path("tests/tests");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::new(format!("reading {}: {e}", dir.display())))?;
    let mut missing = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::new(format!("reading {}: {e}", dir.display())))?.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if path.extension().is_some_and(|e| e == "rs") && !ws.e2e_tests.contains(&format!("e2e_{stem}")) {
            missing.push(stem);
        }
    }
    if ws.e2e_tests.is_empty() || !missing.is_empty() {
        return Err(Error::new(format!(
            "e2e scenarios not declared as [[test]] targets named e2e_<file> in tests/Cargo.toml: {}",
            if missing.is_empty() { "(none declared at all)".to_owned() } else { missing.join(", ") }
        )));
    }
    Ok(())
}

/// One run of every suite.
struct Run {
    counts: Counts,
    /// Why the run is not a pass (empty when it is).
    problems: Vec<String>,
    /// Each failed test, as `suite: name`.
    failed_tests: Vec<String>,
}

/// Runs every suite once and prints what each showed.
fn run_once(ws: &Workspace, suites: &[Suite]) -> Result<Run> {
    let mut run = Run { counts: Counts::default(), problems: Vec::new(), failed_tests: Vec::new() };
    let mut lines = Vec::new();
    for suite in suites {
        let outcome = suite.run(ws)?;
        lines.push(format!(
            "{}: {} test binaries, {} tests listed, {}",
            suite.name,
            outcome.binaries,
            outcome.listed.map_or("?".to_owned(), |n| n.to_string()),
            outcome.counts
        ));
        run.counts.add(outcome.counts);
        run.problems.extend(outcome.problems(suite.name));
        run.failed_tests.extend(outcome.failed_tests.iter().map(|t| format!("{}: {t}", suite.name)));
    }
    if run.counts.total() == 0 {
        run.problems.push("no test ran".to_owned());
    }
    for line in &lines {
        println!("{line}");
    }
    for p in &run.problems {
        println!("failed: {p}");
    }
    for t in &run.failed_tests {
        println!("failed test: {t}");
    }
    Ok(run)
}

/// Runs the tests (`--repeat N` times); called by [`run`] inside the private session.
pub fn run_in_session(args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    let ws = Workspace::locate()?;
    let session = ws.target.join("test-session");
    // Stopped after the last suite, or on the way out of a failure.
    let mut cluster = None;
    if cfg!(target_os = "linux") {
        private_session(&session)?;
        cluster = Some(test_postgres()?);
    }

    let suites = suites(&ws, opts.e2e)?;
    let mut runs = Vec::new();
    for round in 1..=opts.repeat {
        if opts.repeat > 1 {
            eprintln!("xtask: ---- run {round} of {} ----", opts.repeat);
        }
        let run = run_once(&ws, &suites)?;
        if opts.repeat > 1 {
            println!("run {round} of {}: {}", opts.repeat, run.counts);
        }
        runs.push(run);
    }

    let mut total = Counts::default();
    for run in &runs {
        total.add(run.counts);
    }
    let mut failures: Vec<String> = runs.iter().flat_map(|r| r.problems.clone()).collect();
    if opts.repeat > 1 {
        report_repeats(&runs, &mut failures);
    }
    if let Some(Err(e)) = cluster.map(postgres::Cluster::stop) {
        println!("failed: stopping the test PostgreSQL: {e}");
        failures.push(format!("stopping the test PostgreSQL: {e}"));
    }
    println!("summary: {total}");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::new(failures.join("; ")))
    }
}

/// After `--repeat N`: whether every run counted the same tests, and each
/// test that failed in any run, with how often.
fn report_repeats(runs: &[Run], failures: &mut Vec<String>) {
    let counts: Vec<u64> = runs.iter().map(|r| r.counts.all()).collect();
    let passed = runs.iter().filter(|r| r.problems.is_empty()).count();
    println!(
        "repeat: {passed} of {} runs passed; tests per run: {}",
        runs.len(),
        counts.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    if counts.windows(2).any(|w| w[0] != w[1]) {
        failures.push("the runs did not count the same tests".to_owned());
    }
    let mut flaky: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for test in runs.iter().flat_map(|r| &r.failed_tests) {
        *flaky.entry(test).or_default() += 1;
    }
    for (test, k) in flaky {
        println!("repeat: {test} failed in {k} of {} runs", runs.len());
    }
}

/// Points XDG dirs at a fresh folder and starts an unlocked gnome-keyring
/// Secret Service on this (private) session bus.
pub fn private_session(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::new(format!("clearing {}: {e}", dir.display())))?;
    }
    for (var, sub) in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ] {
        let path: PathBuf = dir.join(sub);
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::new(format!("creating {}: {e}", path.display())))?;
        restrict(&path)?;
        // Safe: xtask is single-threaded here, before any child starts.
        std::env::set_var(var, &path);
    }
    if !proc::on_path("gnome-keyring-daemon") {
        return Err(Error::new("gnome-keyring-daemon is missing; run `cargo xtask setup`"));
    }
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("starting gnome-keyring-daemon: {e}")))?;
    if let Some(mut stdin) = daemon.stdin.take() {
        use std::io::Write;
        // The test keyring's password: the keyring lives in this run's temp dir.
        stdin
            .write_all(b"sealbox-test-keyring")
            .map_err(|e| Error::new(format!("unlocking gnome-keyring-daemon: {e}")))?;
    }
    let out = daemon.wait_with_output().map_err(|e| Error::new(format!("gnome-keyring-daemon: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!("gnome-keyring-daemon failed ({})", out.status)));
    }
    eprintln!(
        "xtask: test session: Xvfb display, private D-Bus, unlocked gnome-keyring in {}",
        dir.display()
    );
    Ok(())
}

/// Starts the session's PostgreSQL cluster and names it to the tests in
/// [`POSTGRES_ENV`] (its socket) and [`POSTGRES_TLS_ENV`] (TCP, TLS
/// only). It lives under the system's temp directory, not the
/// target dir: as root the server runs as `postgres`, which cannot enter a
/// target dir under /root, and a socket's path must stay short.
fn test_postgres() -> Result<postgres::Cluster> {
    let options = postgres::Options { tls: true, ..postgres::Options::default() };
    let cluster = postgres::Cluster::start(&postgres::scratch_dir("test-postgres"), options)?;
    // Safe: xtask is single-threaded here, before any child starts.
    std::env::set_var(POSTGRES_ENV, cluster.conninfo());
    if let Some(tls) = cluster.tls_conninfo() {
        std::env::set_var(POSTGRES_TLS_ENV, tls);
    }
    eprintln!("xtask: test session: {} on {}", cluster.version(), cluster.socket_dir().display());
    Ok(cluster)
}

#[cfg(unix)]
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::new(format!("chmod {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> Result<()> {
    Ok(())
}

/// The cargo-fuzz crate (outside the workspace) must keep building: on
/// stable as a plain binary; `cargo +nightly fuzz run envelope_decode` runs it.
fn fuzz_targets_build(ws: &Workspace) -> Result<()> {
    let manifest = ws.root.join("fuzz").join("Cargo.toml");
    proc::run(ws.cargo().args(["build", "--release", "--locked", "--manifest-path"]).arg(manifest))
}

/// The shell and core compile for Windows (idle time, session lock, the
/// WebAuthn API and the keyring there), with the workspace lints as errors.
/// What macOS needs is in docs/ci.md.
fn windows_check(ws: &Workspace) -> Result<()> {
    proc::run(ws.cargo().args(["clippy", "--release", "--target", setup::WINDOWS_TARGET]).args([
        "-p",
        "sealbox",
        "-p",
        "sealbox-core",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Clippy with the workspace lints (no unwrap/expect/panic outside tests) as errors.
fn lint(ws: &Workspace) -> Result<()> {
    proc::run(ws.cargo().arg("clippy").args(NATIVE).args(["--all-targets", "--", "-D", "warnings"]))?;
    proc::run(ws.cargo().arg("clippy").args(XTASK).args(["--all-targets", "--", "-D", "warnings"]))?;
    let mut wasm = ws.cargo();
    wasm.args(["clippy", "--release", "--target", WASM_TARGET]);
    for (package, _, _) in WASM_APPS {
        wasm.args(["--package", package]);
    }
    proc::run(wasm.args(["--", "-D", "warnings"]))
}
