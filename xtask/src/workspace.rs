//! Where things are: the workspace root, the target dir, the lock file.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Error, Result};

pub struct Workspace {
    pub root: PathBuf,
    pub target: PathBuf,
    /// The end-to-end scenarios: the test targets of `sealbox-e2e`.
    pub e2e_tests: Vec<String>,
    /// The workspace's one version (app, hub, packages), as the app's
    /// package has it.
    pub version: String,
}

/// The one package selection of every native build and test run. Cargo
/// unifies features over the packages an invocation selects, so building the
/// app with `-p sealbox`, the tests with `--workspace` and the e2e suite with
/// `-p sealbox-e2e` compiled most dependencies three times (a different
/// `syn`, `tokio`, `serde_json`… each time; see docs/ci.md). With one
/// selection they are compiled once; suites differ only in the targets they
/// pick.
///
/// xtask itself is left out: its bundler (tauri-bundler, with `image` and
/// `rpm`'s OpenPGP) would unify its features into the app's dependencies
/// and be compiled a second time in release. Its own tests run in the
/// profile `cargo xtask` is built in ([`XTASK`]).
pub const NATIVE: [&str; 8] = [
    "--release",
    "--workspace",
    "--exclude",
    "sealbox-ui",
    "--exclude",
    "sealbox-patient-web",
    "--exclude",
    "xtask",
];

/// xtask's own selection: the dev profile `cargo xtask` runs in.
pub const XTASK: [&str; 2] = ["--package", "xtask"];

/// The wasm32 apps, built in one selection too: the desktop UI and the
/// patient web app the hub embeds, each with the file name wasm-bindgen
/// gives its bundle and the folder it is written to.
pub const WASM_APPS: [(&str, &str, &str); 2] =
    [("sealbox-ui", "sealbox_ui", "ui"), ("sealbox-patient-web", "sealbox_patient", "patient-web")];

impl Workspace {
    /// Asks cargo, so CARGO_TARGET_DIR and .cargo/config are honoured.
    pub fn locate() -> Result<Self> {
        let out = proc::output(Command::new(cargo()).args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ]))
        .or_else(|| {
            proc::output(Command::new(cargo()).args(["metadata", "--format-version", "1", "--no-deps"]))
        })
        .ok_or_else(|| Error::new("`cargo metadata` failed; run from inside the Sealbox checkout"))?;
        let meta: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| Error::new(format!("cargo metadata: {e}")))?;
        let field = |name: &str| {
            meta.get(name)
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
                .ok_or_else(|| Error::new(format!("cargo metadata has no {name}")))
        };
        Ok(Workspace {
            root: field("workspace_root")?,
            target: field("target_directory")?,
            e2e_tests: e2e_tests_in(&meta).map_err(Error::new)?,
            version: app_version_in(&meta)
                .ok_or_else(|| Error::new("cargo metadata has no sealbox package"))?,
        })
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// The release binary of the desktop app.
    pub fn app_binary(&self) -> PathBuf {
        self.target.join("release").join(exe("sealbox"))
    }

    /// A `cargo` command run at the workspace root.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(&self.root);
        cmd
    }

    /// The exact version of a package as pinned in Cargo.lock.
    pub fn locked_version(&self, package: &str) -> Result<String> {
        let lock = std::fs::read_to_string(self.path("Cargo.lock"))
            .map_err(|e| Error::new(format!("reading Cargo.lock: {e}")))?;
        locked_version_in(&lock, package).ok_or_else(|| Error::new(format!("{package} is not in Cargo.lock")))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The test targets of the `sealbox-e2e` package in `cargo metadata`'s
/// answer. The e2e suite names them with `--test` over the whole
/// workspace, where cargo picks every package's test of that name: a name
/// another package's test also has is an error (the scenarios are named
/// `e2e_…` in tests/Cargo.toml).
fn e2e_tests_in(meta: &serde_json::Value) -> std::result::Result<Vec<String>, String> {
    let packages = meta.get("packages").and_then(|p| p.as_array()).map(Vec::as_slice).unwrap_or_default();
    let tests_of = |p: &serde_json::Value| -> Vec<String> {
        p.get("targets")
            .and_then(|t| t.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|t| {
                t.get("kind")
                    .and_then(|k| k.as_array())
                    .is_some_and(|k| k.iter().any(|k| k.as_str() == Some("test")))
            })
            .filter_map(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .collect()
    };
    let is_e2e = |p: &&serde_json::Value| p.get("name").and_then(|n| n.as_str()) == Some("sealbox-e2e");
    let e2e: Vec<String> = packages.iter().filter(is_e2e).flat_map(tests_of).collect();
    for other in packages.iter().filter(|p| !is_e2e(p)) {
        if let Some(clash) = tests_of(other).into_iter().find(|t| e2e.contains(t)) {
            let owner = other.get("name").and_then(|n| n.as_str()).unwrap_or("another package");
            return Err(format!("the e2e scenario `{clash}` has the name of a test in {owner}; rename it"));
        }
    }
    Ok(e2e)
}

/// The version of the app's package (`sealbox`) in `cargo metadata`'s answer.
fn app_version_in(meta: &serde_json::Value) -> Option<String> {
    meta.get("packages")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("sealbox"))?
        .get("version")?
        .as_str()
        .map(str::to_owned)
}

pub fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// Finds `version = "…"` of the `[[package]]` named `package` in a lock file.
fn locked_version_in(lock: &str, package: &str) -> Option<String> {
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_e2e_scenarios_are_the_e2e_packages_test_targets_with_names_of_their_own() {
        let meta = serde_json::json!({"packages": [
            {"name": "sealbox-hub", "targets": [{"name": "shared_room", "kind": ["test"]}]},
            {"name": "sealbox-e2e", "targets": [
                {"name": "sealbox_e2e", "kind": ["lib"]},
                {"name": "sealbox-demo", "kind": ["bin"]},
                {"name": "e2e_shared_room", "kind": ["test"]},
                {"name": "e2e_lock_screen", "kind": ["test"]}
            ]}
        ]});
        assert_eq!(e2e_tests_in(&meta).unwrap(), ["e2e_shared_room", "e2e_lock_screen"]);
        // `--test shared_room` over the workspace would run the hub's too.
        let clash = serde_json::json!({"packages": [
            {"name": "sealbox-hub", "targets": [{"name": "shared_room", "kind": ["test"]}]},
            {"name": "sealbox-e2e", "targets": [{"name": "shared_room", "kind": ["test"]}]}
        ]});
        assert!(e2e_tests_in(&clash).unwrap_err().contains("sealbox-hub"));
    }

    #[test]
    fn the_workspace_version_is_the_apps_package_version() {
        let meta = serde_json::json!({"packages": [
            {"name": "sealbox-hub", "version": "9.9.9"},
            {"name": "sealbox", "version": "0.1.0"}
        ]});
        assert_eq!(app_version_in(&meta).as_deref(), Some("0.1.0"));
        assert_eq!(app_version_in(&serde_json::json!({"packages": []})), None);
    }

    #[test]
    fn finds_the_exact_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"9.9.9\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version_in(lock, "wasm-bindgen").as_deref(), Some("0.2.130"));
        assert_eq!(locked_version_in(lock, "wasm-bindgen-macro").as_deref(), Some("9.9.9"));
        assert_eq!(locked_version_in(lock, "yew"), None);
    }
}
