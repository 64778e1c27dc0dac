//! `cargo xtask bundle`: installable packages of the release build.
//!
//! - The desktop app, with Tauri's own bundler used as a library: `.deb` and
//!   `.rpm` on Linux (`.app` + `.dmg` on macOS, `.msi` + NSIS on Windows;
//!   see docs/packaging.md for what those need). [`app_settings`] is the one
//!   place `tauri.conf.json` is mapped into the bundler's settings.
//! - The hub as a service: a `.deb` with its systemd unit and settings file
//!   (packaging/hub/), laid out here and built by `dpkg-deb`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tauri_bundler::bundle::{
    AppCategory, BundleBinary, BundleSettings, DebianSettings, PackageSettings, PackageType, RpmSettings,
    SettingsBuilder,
};

use crate::proc::{self, io_error, Error, Result};
use crate::update_sign::{self, Signer};
use crate::workspace::{exe, Workspace};
use crate::{artifacts, setup};

/// The packages one run made.
pub struct Packages {
    /// Each package file, by the kind the bundler names (`deb`, `rpm`, …).
    pub app: Vec<(String, PathBuf)>,
    /// The hub's `.deb` (Linux only).
    pub hub_deb: Option<PathBuf>,
    /// The signed update manifest (`latest.json`).
    pub manifest: PathBuf,
}

impl Packages {
    /// The desktop app's package of one kind.
    pub fn app(&self, kind: &str) -> Option<&Path> {
        self.app.iter().find(|(k, _)| k == kind).map(|(_, p)| p.as_path())
    }
}

pub fn run() -> Result<()> {
    let ws = Workspace::locate()?;
    setup::ensure(&ws)?;
    let release = std::env::var_os("SEALBOX_UPDATE_KEY").is_some();
    let signer = artifacts::build_app(&ws, artifacts::Build::Demo)?.signer;
    if !release {
        eprintln!(
            "xtask: SEALBOX_UPDATE_KEY is not set: signed with the test key, which only the app \
             built here trusts (not a release)"
        );
    }
    let made = packages(&ws, &signer)?;
    for (kind, path) in &made.app {
        println!("app {kind}: {}", path.display());
    }
    if let Some(deb) = &made.hub_deb {
        println!("hub deb: {}", deb.display());
    }
    println!("update manifest: {} (publish it with sealbox-hub publish-update)", made.manifest.display());
    Ok(())
}

/// Packages the release binaries already built (`artifacts::build_app`),
/// signs the app's packages with `signer` and writes the update manifest
/// beside them.
pub fn packages(ws: &Workspace, signer: &Signer) -> Result<Packages> {
    let settings = app_settings(ws)?;
    let bundles = tauri_bundler::bundle_project(&settings)
        .map_err(|e| Error::new(format!("bundling the app: {e:#}")))?;
    let app: Vec<(String, PathBuf)> = bundles
        .into_iter()
        .flat_map(|b| {
            let kind = b.package_type.short_name().to_owned();
            b.bundle_paths.into_iter().map(move |p| (kind.clone(), p))
        })
        .collect();
    let hub_deb = if cfg!(target_os = "linux") { Some(hub_deb(ws)?) } else { None };
    let manifest = sign_app(ws, signer, &app)?;
    Ok(Packages { app, hub_deb, manifest })
}

/// Signs each app package an update can ship and writes `latest.json`.
fn sign_app(ws: &Workspace, signer: &Signer, app: &[(String, PathBuf)]) -> Result<PathBuf> {
    let version = &ws.version;
    let mut entries = Vec::new();
    for (kind, path) in app {
        let Some(platform) = update_sign::platform_key(kind) else { continue };
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        entries.push((platform, file, signer.sign(path, version)?));
    }
    let manifest = ws.target.join("release").join("bundle").join("latest.json");
    let doc = update_sign::manifest(version, &entries);
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::new(format!("latest.json: {e}")))?;
    write(&manifest, &text)?;
    Ok(manifest)
}

/// The packages for the e2e suite's `installed` scenario, signed with the
/// test key (the release key never enters CI), and an update to install
/// over them ([`next_update`]), as the environment it reads them from.
pub fn for_tests(ws: &Workspace, signer: &Signer) -> Result<Vec<(&'static str, PathBuf)>> {
    let made = packages(ws, signer)?;
    let public = ws.target.join("release").join("bundle").join("update-key.pub");
    write(&public, &signer.public_key_base64()?)?;
    let mut env =
        vec![("SEALBOX_UPDATE_PUBKEY_FILE", public), ("SEALBOX_UPDATE_MANIFEST", made.manifest.clone())];
    for (var, kind) in [("SEALBOX_APP_DEB", "deb"), ("SEALBOX_APP_RPM", "rpm")] {
        let path = made.app(kind).ok_or_else(|| Error::new(format!("the bundler made no {kind}")))?;
        env.push((var, path.to_path_buf()));
    }
    let deb = made.app("deb").ok_or_else(|| Error::new("the bundler made no deb"))?;
    env.push(("SEALBOX_UPDATE_NEXT", next_update(ws, signer, deb)?));
    env.extend(made.hub_deb.map(|d| ("SEALBOX_HUB_DEB", d)));
    Ok(env)
}

/// An update for the installed app to find: its `.deb` repacked by
/// `dpkg-deb` as the next patch version, in a folder of its own with two
/// manifests: `latest.json` (signed by `signer`, as a release would be)
/// and `impostor.json` (the same package signed by a key the app does not
/// trust). Returns the folder.
fn next_update(ws: &Workspace, signer: &Signer, deb: &Path) -> Result<PathBuf> {
    let next = next_patch(&ws.version)?;
    let dir = ws.target.join("release").join("bundle").join("update-next");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| io_error("clearing", &dir, &e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, &e))?;
    let unpacked = dir.join("unpacked");
    proc::run(Command::new("dpkg-deb").arg("--raw-extract").arg(deb).arg(&unpacked))?;
    let control = unpacked.join("DEBIAN").join("control");
    let text = read(&control)?;
    let old = format!("\nVersion: {}\n", ws.version);
    if !text.contains(&old) {
        return Err(Error::new(format!("{} has no `Version: {}`", control.display(), ws.version)));
    }
    write(&control, &text.replace(&old, &format!("\nVersion: {next}\n")))?;
    let name = deb.file_name().and_then(|n| n.to_str()).unwrap_or_default().replace(&ws.version, &next);
    let package = dir.join(&name);
    proc::run(Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&unpacked).arg(&package))?;
    std::fs::remove_dir_all(&unpacked).map_err(|e| io_error("clearing", &unpacked, &e))?;
    let platform =
        update_sign::platform_key("deb").ok_or_else(|| Error::new("no update platform for deb"))?;
    for (file, by) in [("latest.json", signer), ("impostor.json", &Signer::throwaway()?)] {
        let entry = (platform.clone(), name.clone(), by.signature(&package, &next)?);
        let doc = update_sign::manifest(&next, &[entry]);
        let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::new(format!("{file}: {e}")))?;
        write(&dir.join(file), &text)?;
    }
    Ok(dir)
}

/// `1.2.3` → `1.2.4`.
fn next_patch(version: &str) -> Result<String> {
    let parts: Vec<u64> =
        version.split('.').map(|p| p.parse().ok()).collect::<Option<_>>().unwrap_or_default();
    match parts.as_slice() {
        [major, minor, patch] => Ok(format!("{major}.{minor}.{}", patch + 1)),
        _ => Err(Error::new(format!("the version {version} is not major.minor.patch"))),
    }
}

/// `tauri.conf.json` (product, identifier, description, icons, category)
/// mapped into the bundler's settings, with what the file does not say:
/// the package dependencies, the security keys' udev rule, the licence.
fn app_settings(ws: &Workspace) -> Result<tauri_bundler::Settings> {
    let conf_path = ws.path("tauri.conf.json");
    let conf: serde_json::Value = serde_json::from_str(&read(&conf_path)?)
        .map_err(|e| Error::new(format!("{}: {e}", conf_path.display())))?;
    let text = |pointer: &str| {
        conf.pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::new(format!("tauri.conf.json has no {pointer}")))
    };
    // The shell's tauri.conf.json paths are relative to src-tauri/.
    let shell = ws.path("src-tauri");
    let icons = conf
        .pointer("/bundle/icon")
        .and_then(|v| v.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str())
        .map(|p| shell.join(p).display().to_string())
        .collect();
    let binary = text("/mainBinaryName")?;
    let category = text("/bundle/category")?;
    let udev_rule = ws.path("packaging/70-sealbox-security-keys.rules");
    let copyright = ws.path("packaging/copyright");
    let changelog = ws.path("CHANGELOG.md");
    let files = |doc: &str| {
        HashMap::from([
            (PathBuf::from("/usr/lib/udev/rules.d/70-sealbox-security-keys.rules"), udev_rule.clone()),
            (PathBuf::from(format!("/usr/share/doc/{doc}/copyright")), copyright.clone()),
            (PathBuf::from(format!("/usr/share/doc/{doc}/changelog.md")), changelog.clone()),
        ])
    };
    let product = text("/productName")?;
    let deb_name = product.to_lowercase();
    let bundle = BundleSettings {
        identifier: Some(text("/identifier")?),
        publisher: Some("Sealbox".to_owned()),
        icon: Some(icons),
        copyright: Some("Sealbox contributors".to_owned()),
        license: Some("AGPL-3.0-only".to_owned()),
        license_file: Some(copyright.clone()),
        category: Some(category.parse::<AppCategory>().map_err(|hint| {
            Error::new(format!("bundle.category {category}: unknown (closest: {})", hint.unwrap_or("none")))
        })?),
        short_description: Some(text("/bundle/shortDescription")?),
        long_description: Some(text("/bundle/longDescription")?),
        deb: DebianSettings {
            depends: Some(
                [
                    "libwebkit2gtk-4.1-0",
                    "libgtk-3-0 | libgtk-3-0t64",
                    "libssl3 | libssl3t64",
                    "libdbus-1-3",
                    "libudev1",
                    "libxss1",
                ]
                .map(str::to_owned)
                .to_vec(),
            ),
            // The OS keyring (Secret Service) the app keeps its key in.
            recommends: Some(vec!["gnome-keyring".to_owned()]),
            section: Some("misc".to_owned()),
            files: files(&deb_name),
            ..DebianSettings::default()
        },
        rpm: RpmSettings {
            depends: Some(
                ["webkit2gtk4.1", "gtk3", "openssl-libs", "dbus-libs", "systemd-libs", "libXScrnSaver"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
            recommends: Some(vec!["gnome-keyring".to_owned()]),
            release: "1".to_owned(),
            files: files(&deb_name),
            ..RpmSettings::default()
        },
        ..BundleSettings::default()
    };
    SettingsBuilder::new()
        .project_out_directory(ws.target.join("release"))
        .package_settings(PackageSettings {
            product_name: product,
            version: ws.version.clone(),
            description: text("/bundle/shortDescription")?,
            homepage: None,
            authors: Some(vec!["Sealbox contributors".to_owned()]),
            default_run: Some(binary.clone()),
        })
        .bundle_settings(bundle)
        .binaries(vec![BundleBinary::new(binary, true)])
        .package_types(package_types())
        .build()
        .map_err(|e| Error::new(format!("bundler settings: {e:#}")))
}

/// What the same command makes on each desktop OS. AppImage is left out:
/// its tools are downloaded on first use (see docs/packaging.md).
fn package_types() -> Vec<PackageType> {
    if cfg!(target_os = "macos") {
        vec![PackageType::MacOsBundle, PackageType::Dmg]
    } else if cfg!(windows) {
        vec![PackageType::WindowsMsi, PackageType::Nsis]
    } else {
        vec![PackageType::Deb, PackageType::Rpm]
    }
}

/// The hub's `.deb`: the binary, its systemd unit, its settings file (a
/// conffile: an upgrade keeps the practice's changes), an empty root-only
/// folder for TLS files, the licence and changelog. No maintainer scripts:
/// the unit's `DynamicUser=` makes the hub's user, so installing runs
/// nothing as root.
fn hub_deb(ws: &Workspace) -> Result<PathBuf> {
    let version = &ws.version;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => return Err(Error::new(format!("no Debian architecture name for {other}"))),
    };
    let out = ws.target.join("release").join("bundle").join("hub");
    let stage = out.join(format!("sealbox-hub_{version}_{arch}"));
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| io_error("clearing", &stage, &e))?;
    }
    let place = |rel: &str, from: &Path, mode: u32| -> Result<()> {
        let to = stage.join(rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, &e))?;
        }
        std::fs::copy(from, &to).map_err(|e| io_error("copying", from, &e))?;
        set_mode(&to, mode)
    };
    let bin = ws.target.join("release").join(exe("sealbox-hub"));
    place("usr/bin/sealbox-hub", &bin, 0o755)?;
    place(
        "usr/lib/systemd/system/sealbox-hub.service",
        &ws.path("packaging/hub/sealbox-hub.service"),
        0o644,
    )?;
    place("etc/sealbox-hub/hub.toml", &ws.path("packaging/hub/hub.toml"), 0o644)?;
    place("usr/share/doc/sealbox-hub/copyright", &ws.path("packaging/copyright"), 0o644)?;
    place("usr/share/doc/sealbox-hub/changelog.md", &ws.path("CHANGELOG.md"), 0o644)?;
    let tls = stage.join("etc/sealbox-hub/tls");
    std::fs::create_dir_all(&tls).map_err(|e| io_error("creating", &tls, &e))?;
    set_mode(&tls, 0o700)?;
    let control = stage.join("DEBIAN");
    std::fs::create_dir_all(&control).map_err(|e| io_error("creating", &control, &e))?;
    let size_kib = dir_size(&stage)? / 1024;
    write(
        &control.join("control"),
        &format!(
            "Package: sealbox-hub\nVersion: {version}\nArchitecture: {arch}\nMaintainer: Sealbox contributors\n\
             Installed-Size: {size_kib}\nDepends: libssl3 | libssl3t64, systemd\nSection: net\nPriority: optional\n\
             Description: Sealbox practice hub\n \
             The practice's relay for end-to-end encrypted patient messages, its\n \
             clinicians' sign-in (WebAuthn) and audit trail, run as a systemd service.\n"
        ),
    )?;
    write(&control.join("conffiles"), "/etc/sealbox-hub/hub.toml\n")?;
    let deb = out.join(format!("sealbox-hub_{version}_{arch}.deb"));
    proc::run(
        Command::new("dpkg-deb").args(["--root-owner-group", "-Zxz", "--build"]).arg(&stage).arg(&deb),
    )?;
    Ok(deb)
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| io_error("reading", dir, &e))? {
        let entry = entry.map_err(|e| io_error("reading", dir, &e))?;
        let meta = entry.metadata().map_err(|e| io_error("reading", &entry.path(), &e))?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| io_error("reading", path, &e))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| io_error("writing", path, &e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error("chmod", path, &e))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_update_is_the_next_patch_version() {
        assert_eq!(next_patch("0.1.0").unwrap(), "0.1.1");
        assert_eq!(next_patch("1.9.9").unwrap(), "1.9.10");
        assert!(next_patch("1.0.0-rc.1").is_err());
        assert!(next_patch("1.0").is_err());
    }
}
