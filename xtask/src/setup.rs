//! Installs what a fresh machine is missing, saying what and why, and does
//! nothing when everything is already there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Error, Result};
use crate::workspace::Workspace;

/// Debian/Ubuntu packages the build and the tests need.
const DEBIAN_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finds the system libraries below"),
    ("libwebkit2gtk-4.1-dev", "the webview Tauri uses on Linux"),
    ("libssl-dev", "SQLCipher's crypto provider"),
    ("libdbus-1-dev", "the OS keyring and notifications over D-Bus"),
    ("libudev-dev", "USB security keys (HID)"),
    ("libxss-dev", "the OS idle time (X11 screen saver extension)"),
    ("xvfb", "a display for headless runs"),
    ("xauth", "used by xvfb-run"),
    ("webkit2gtk-driver", "WebKitWebDriver, for the end-to-end tests"),
    ("dbus-x11", "private D-Bus sessions for tests"),
    ("gnome-keyring", "a real Secret Service for keyring tests"),
    ("chromium", "a real browser for the patient web app's end-to-end test"),
    ("chromium-driver", "chromedriver, to drive it through WebDriver"),
    ("zbar-tools", "an independent QR decoder for the patient invite's QR code test"),
    ("python3-aiosmtpd", "a real SMTP server (STARTTLS) for the patients' blind notices test"),
    ("gcc-mingw-w64-x86-64", "a C compiler for Windows: the shell and core are checked to compile there"),
    ("rpm", "reads and installs the app's .rpm in the package test"),
    ("python3-pip", "installs the PyPI packages the tests measure with (PYTHON_PACKAGES)"),
    ("nodejs", "Node.js with npm (the machine's), which installs axe-core (NPM_PACKAGES)"),
    ("prometheus", "promtool, Prometheus' own checker of the hub's /metrics text"),
    ("postgresql", "Debian's PostgreSQL server, which `cargo xtask test` starts for the tests"),
    ("openssl", "openssl, which makes the test PostgreSQL's CA and TLS certificate"),
];

/// npm packages the tests use, pinned: axe-core checks the patient web
/// app's screens against WCAG 2.2 A and AA in the real browser.
const NPM_PACKAGES: &[&str] = &["axe-core@4.10.2"];

/// PyPI packages the tests use, pinned: textstat measures the patient web
/// app's reading age (0.7.3: syllables from pyphen's dictionaries; later
/// versions fetch NLTK's data at run time, which a closed network refuses).
const PYTHON_PACKAGES: &[&str] = &["textstat==0.7.3", "pyphen==0.18.1"];

/// The independent FHIR R4 validator: fhir.resources 6.4.0, the last
/// release whose models are R4 (4.0.1), on the pydantic 1 it was written for.
const FHIR_VALIDATOR_PACKAGES: &[&str] = &["fhir.resources==6.4.0", "pydantic[email]<2"];

/// A real FHIR R4 server for the save-to-record tests: sekmet-fhir
/// (FastAPI over SQLite; pydantic 2, so a folder of its own).
const FHIR_SERVER_PACKAGES: &[&str] = &["sekmet-fhir==0.1.1"];

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The Windows target the shell and core are compiled for on Linux
/// (`cargo xtask test`), with MinGW's C compiler for SQLCipher and OpenSSL.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// Makes this machine able to build and test Sealbox.
pub fn ensure(ws: &Workspace) -> Result<()> {
    if cfg!(target_os = "linux") {
        ensure_debian_packages()?;
    }
    ensure_target(WASM_TARGET)?;
    if cfg!(target_os = "linux") {
        ensure_target(WINDOWS_TARGET)?;
    }
    ensure_wasm_bindgen(ws)?;
    if cfg!(target_os = "linux") {
        ensure_tool("tauri-driver", &["tauri-driver", "--version", "^2", "--locked"])?;
    }
    Ok(())
}

/// [`PYTHON_PACKAGES`] installed under the target directory (not into the
/// system's Python), once; returns the directory for `PYTHONPATH`.
pub fn python_libs(ws: &Workspace) -> Result<PathBuf> {
    pip_into(ws, "python-libs", PYTHON_PACKAGES)
}

/// The FHIR R4 validator ([`FHIR_VALIDATOR_PACKAGES`]) for `PYTHONPATH`.
pub fn fhir_validator(ws: &Workspace) -> Result<PathBuf> {
    pip_into(ws, "python-fhir-r4", FHIR_VALIDATOR_PACKAGES)
}

/// The FHIR server ([`FHIR_SERVER_PACKAGES`]) for `PYTHONPATH`.
pub fn fhir_server(ws: &Workspace) -> Result<PathBuf> {
    pip_into(ws, "python-fhir-server", FHIR_SERVER_PACKAGES)
}

fn pip_into(ws: &Workspace, folder: &str, packages: &[&str]) -> Result<PathBuf> {
    let dir = ws.target.join(folder);
    // Debian's Python (python3-pip), which the tests run too.
    let mut pip = Command::new("/usr/bin/python3");
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--upgrade"])
        .arg("--target")
        .arg(&dir)
        .args(packages);
    install_once(&dir, packages, &mut pip)?;
    Ok(dir)
}

/// [`NPM_PACKAGES`] installed under the target directory, once; returns
/// axe-core's script.
pub fn axe_core(ws: &Workspace) -> Result<PathBuf> {
    let dir = ws.target.join("node-libs");
    let mut npm = Command::new("npm");
    npm.args(["install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix"])
        .arg(&dir)
        .args(NPM_PACKAGES);
    install_once(&dir, NPM_PACKAGES, &mut npm)?;
    Ok(dir.join("node_modules").join("axe-core").join("axe.min.js"))
}

/// Runs `install` into `dir` unless a marker naming exactly `packages`
/// says it was done.
fn install_once(dir: &Path, packages: &[&str], install: &mut Command) -> Result<()> {
    let marker = dir.join(format!(".installed-{}", packages.join("-")));
    if marker.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::new(format!("creating {}: {e}", dir.display())))?;
    proc::run(install)?;
    std::fs::write(&marker, b"").map_err(|e| Error::new(format!("writing {}: {e}", marker.display())))
}

fn ensure_debian_packages() -> Result<()> {
    if !proc::on_path("dpkg-query") {
        eprintln!(
            "xtask: not a Debian/Ubuntu system; make sure these are installed: {}",
            DEBIAN_PACKAGES.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&(&str, &str)> = DEBIAN_PACKAGES
        .iter()
        .filter(|(pkg, _)| {
            proc::output(Command::new("dpkg-query").args(["-W", "-f=${Status}", pkg]))
                .is_none_or(|s| !s.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing missing system packages:");
    for (pkg, why) in &missing {
        eprintln!("  {pkg:<24} {why}");
    }
    let names: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
    let root = proc::is_root();
    let apt = |args: &[&str]| -> Command {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    if !root && !proc::on_path("sudo") {
        return Err(Error::new(format!(
            "missing packages and no root or sudo to install them: apt-get install {}",
            names.join(" ")
        )));
    }
    proc::run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&names);
    proc::run(&mut install)
}

fn ensure_target(target: &str) -> Result<()> {
    if !proc::on_path("rustup") {
        eprintln!("xtask: no rustup; make sure the {target} standard library is installed");
        return Ok(());
    }
    let installed =
        proc::output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    proc::run(Command::new("rustup").args(["target", "add", target]))
}

/// wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
fn ensure_wasm_bindgen(ws: &Workspace) -> Result<()> {
    let wanted = ws.locked_version("wasm-bindgen")?;
    let have = proc::output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-bindgen-cli {wanted} (to match Cargo.lock)");
    // No --locked: the registry mirror lacks one of its pinned dependencies.
    proc::run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &format!("={wanted}")]))
}

fn ensure_tool(binary: &str, install_args: &[&str]) -> Result<()> {
    if proc::on_path(binary) {
        return Ok(());
    }
    eprintln!("xtask: installing {binary}");
    proc::run(Command::new("cargo").arg("install").args(install_args))
}
