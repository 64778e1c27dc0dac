//! Installed, it works (issue 26 point 4): the packages `cargo xtask
//! bundle` made, installed by the platform's own tools into a clean root,
//! hold what they should; the installed app opens on its lock screen and
//! unlocks against a real hub; the installed hub's unit command line
//! serves its health endpoint and stops cleanly on systemd's SIGTERM.
//!
//! The installed app also takes a signed update from the practice hub and
//! refuses what it must (issue 26 point 3).
//!
//! `SEALBOX_APP_DEB`, `SEALBOX_APP_RPM` and `SEALBOX_HUB_DEB` name the
//! packages, `SEALBOX_UPDATE_MANIFEST` and `SEALBOX_UPDATE_PUBKEY_FILE` the
//! update manifest and the test key that signed it, `SEALBOX_UPDATE_NEXT`
//! the folder of an update to install over them (set by `cargo xtask test`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sealbox_e2e::flows::unlock;
use sealbox_e2e::practice::Practice;
use sealbox_e2e::{env_path, App};

const LOCK_HEADING: &str = "Sealbox is locked — insert and touch your security key";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{text}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A clean root with an empty dpkg database, and `deb` installed in it by
/// dpkg. Dependencies are the host's (the root has no libraries of its
/// own), so they are not checked here; the control file's list is.
fn dpkg_install(deb: &Path) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let admin = root.path().join("var/lib/dpkg");
    for dir in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(dir)).unwrap();
    }
    std::fs::write(admin.join("status"), "").unwrap();
    std::fs::write(admin.join("available"), "").unwrap();
    run(Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["--force-depends", "--force-not-root", "--log=/dev/null", "--install"])
        .arg(deb));
    let package = run(Command::new("dpkg-deb").args(["--field"]).arg(deb).arg("Package"));
    let status = run(Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["-s", package.trim()]));
    assert!(status.contains("Status: install ok installed"), "{status}");
    root
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode()
        & 0o7777
}

fn file(root: &Path, rel: &str) -> PathBuf {
    let path = root.join(rel);
    assert!(path.is_file(), "the package has no /{rel}");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_has_its_desktop_entry_key_rule_and_licence_and_unlocks() {
    let deb = env_path("SEALBOX_APP_DEB").expect("the app's .deb");
    let root = dpkg_install(&deb);
    let r = root.path();
    let status = run(Command::new("dpkg").arg(format!("--root={}", r.display())).args(["-s", "sealbox"]));
    println!("e2e: installed:\n{status}");
    assert!(status.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))), "{status}");
    assert!(status.contains("libwebkit2gtk-4.1-0"), "the webview is a dependency: {status}");

    let app = file(r, "usr/bin/sealbox");
    assert_eq!(mode(&app) & 0o111, 0o111, "the binary is executable");
    let desktop = std::fs::read_to_string(file(r, "usr/share/applications/Sealbox.desktop")).unwrap();
    assert!(desktop.contains("Exec=sealbox") && desktop.contains("Name=Sealbox"), "{desktop}");
    assert!(desktop.contains("MedicalSoftware"), "{desktop}");
    assert!(r.join("usr/share/icons/hicolor/128x128/apps/sealbox.png").is_file(), "the icon");
    let rule = std::fs::read(file(r, "usr/lib/udev/rules.d/70-sealbox-security-keys.rules")).unwrap();
    // Read at run time (docs/architecture.md, Builds: a reused target dir).
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let ours = std::fs::read(manifest.join("../packaging/70-sealbox-security-keys.rules")).unwrap();
    assert_eq!(rule, ours, "the security keys' udev rule");
    let copyright = std::fs::read_to_string(file(r, "usr/share/doc/sealbox/copyright")).unwrap();
    assert!(copyright.contains("License: AGPL-3.0-only"), "{copyright}");
    let changelog = std::fs::read_to_string(file(r, "usr/share/doc/sealbox/changelog.md")).unwrap();
    assert!(changelog.contains(&format!("## {}", env!("CARGO_PKG_VERSION"))), "this version's changes");

    // The installed binary, in its real webview: the lock screen, then one unlock.
    let practice = Practice::start(4, 8).await.expect("a practice");
    let out = env_path("SEALBOX_E2E_OUT").expect("out dir");
    let app = App::launch_env_to(&app, out, &[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the installed app");
    assert_eq!(app.text("#lock-title").await.expect("lock screen"), LOCK_HEADING);
    unlock(&app, practice.threads).await;
    app.screenshot("installed-inbox").await.expect("screenshot");
    app.close().await.expect("close");
}

#[test]
fn the_rpm_read_and_installed_by_rpm_itself_holds_the_same_files() {
    let rpm = env_path("SEALBOX_APP_RPM").expect("the app's .rpm");
    let info =
        run(Command::new("rpm").args(["-qp", "--queryformat", "%{NAME} %{VERSION} %{LICENSE}\\n"]).arg(&rpm));
    assert_eq!(info.trim(), format!("sealbox {} AGPL-3.0-only", env!("CARGO_PKG_VERSION")));
    let requires = run(Command::new("rpm").args(["-qp", "--requires"]).arg(&rpm));
    assert!(requires.contains("webkit2gtk4.1"), "{requires}");

    let root = tempfile::tempdir().unwrap();
    run(Command::new("rpm").arg("--root").arg(root.path()).arg("--initdb"));
    run(Command::new("rpm").arg("--root").arg(root.path()).args(["--nodeps", "--noscripts", "-i"]).arg(&rpm));
    let r = root.path();
    assert_eq!(mode(&file(r, "usr/bin/sealbox")) & 0o111, 0o111);
    file(r, "usr/share/applications/Sealbox.desktop");
    file(r, "usr/lib/udev/rules.d/70-sealbox-security-keys.rules");
    file(r, "usr/share/doc/sealbox/copyright");
    let verify = run(Command::new("rpm").arg("--root").arg(r).args(["-V", "--nodeps", "sealbox"]));
    assert!(verify.trim().is_empty(), "rpm -V found changed files: {verify}");
}

#[test]
fn the_hub_package_installs_a_hardened_unit_whose_command_line_serves_and_stops_on_sigterm() {
    let deb = env_path("SEALBOX_HUB_DEB").expect("the hub's .deb");
    let root = dpkg_install(&deb);
    let r = root.path();
    let conffiles = run(Command::new("dpkg-query")
        .arg(format!("--admindir={}", r.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${Conffiles}", "sealbox-hub"]));
    assert!(conffiles.contains("/etc/sealbox-hub/hub.toml"), "an upgrade keeps the settings: {conffiles}");
    assert_eq!(mode(&r.join("etc/sealbox-hub/tls")), 0o700, "TLS files: root only");
    assert!(!r.join("var/lib/dpkg/info/sealbox-hub.postinst").exists(), "nothing runs as root at install");

    let unit = std::fs::read_to_string(file(r, "usr/lib/systemd/system/sealbox-hub.service")).unwrap();
    for line in [
        "DynamicUser=yes",
        "StateDirectory=sealbox-hub",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "CapabilityBoundingSet=",
        "LoadCredential=tls:/etc/sealbox-hub/tls",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit has no `{line}`:\n{unit}");
    }
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let argv: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(argv[..3], ["/usr/bin/sealbox-hub", "serve", "--config"], "{exec}");

    // The packaged settings, as the practice would change them: a data
    // folder of the test's and a free port.
    let installed = std::fs::read_to_string(file(r, argv[3].trim_start_matches('/'))).unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = installed
        .replace("\"/var/lib/sealbox-hub\"", &format!("{:?}", data.path().display().to_string()))
        .replace("\"127.0.0.1:8443\"", "\"127.0.0.1:0\"");
    assert_ne!(settings, installed, "the packaged settings name the state folder and port");
    let conf = data.path().join("hub.toml");
    std::fs::write(&conf, settings).unwrap();

    // The unit's command line, from the installed root.
    let mut hub = Command::new(r.join(argv[0].trim_start_matches('/')))
        .args(&argv[1..3])
        .arg(&conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(hub.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("sealbox-hub listening on ").unwrap_or_else(|| {
        let _ = hub.kill();
        let err = std::io::read_to_string(hub.stderr.take().unwrap()).unwrap_or_default();
        panic!("the installed hub did not start: {line}{err}")
    });
    let health =
        Command::new("curl").args(["-fsS", "--max-time", "10"]).arg(format!("{url}/v1/health")).output();
    let update = publish_and_fetch_update(r, &data.path().join("published"), url);
    // systemd stops a unit with SIGTERM: the hub finishes and exits 0.
    run(Command::new("kill").args(["-TERM", &hub.id().to_string()]));
    let status = hub.wait().unwrap();
    let health = health.unwrap();
    let body = String::from_utf8_lossy(&health.stdout);
    println!("e2e: installed hub at {url}: /v1/health -> {body}");
    assert!(health.status.success(), "curl: {}", String::from_utf8_lossy(&health.stderr));
    assert_eq!(body, "ok");
    assert!(status.success(), "SIGTERM is a clean stop, not a failure: {status}");
    assert!(data.path().join(sealbox_hub::db::DB_FILE).is_file(), "the database is in the configured folder");
    update.unwrap_or_else(|e| panic!("{e}"));
}

/// What the installed app's About says after `button` is clicked: waits
/// for the answer after the one shown before the click.
async fn about_says(app: &App, button: &str) -> String {
    let before = app.attrs("#update-status", "data-answer").await.expect("answers so far");
    let before: u32 = before.first().and_then(|n| n.parse().ok()).unwrap_or(0);
    app.click(button).await.expect("click");
    app.wait_attr("#update-status", "data-answer", |n| n.parse::<u32>().is_ok_and(|n| n > before))
        .await
        .expect("an answer");
    app.text("#update-status").await.expect("the answer")
}

/// The installed app's package version in `root`'s dpkg database.
fn installed_version(root: &Path) -> String {
    let status = run(Command::new("dpkg").arg(format!("--root={}", root.display())).args(["-s", "sealbox"]));
    status.lines().find_map(|l| l.strip_prefix("Version: ")).unwrap_or_default().to_owned()
}

/// Publishes `manifest` (a JSON document) and `packages` at the practice's hub.
fn publish(practice: &Practice, dir: &Path, manifest: &serde_json::Value, packages: &[PathBuf]) {
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec(manifest).unwrap()).unwrap();
    sealbox_hub::updates::publish(&practice.hub.config.data_dir, &path, packages, &practice.url)
        .unwrap_or_else(|e| panic!("publish: {e}"));
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Signed updates in the installed app, from the practice hub's manifest,
/// through Settings' About: nothing published; a manifest for another
/// platform; a downgrade; an older package passed off as newer; a package
/// signed by another key; a package changed at the hub after signing:
/// each refused with its reason, and the system's installer never called.
/// Then the signed update is offered and installed (dpkg records the new
/// version). Last, with the hub gone and a reply waiting in the outbox,
/// Install is refused until it has gone.
///
/// The system's installer is `pkexec dpkg -i` (the package kind the app
/// was installed from is patched into its binary by the bundler). pkexec
/// asks an administrator through polkit, which nothing here can answer: a
/// `pkexec` on the app's PATH stands in for it, logs each call and runs
/// the command given, unprivileged, into the test's root. dpkg is real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_installs_a_signed_update_from_its_hub_and_refuses_the_rest() {
    let deb = env_path("SEALBOX_APP_DEB").expect("the app's .deb");
    let next_dir = env_path("SEALBOX_UPDATE_NEXT").expect("the update to install");
    let root = dpkg_install(&deb);
    let r = root.path();
    let running = env!("CARGO_PKG_VERSION");
    assert_eq!(installed_version(r), running);

    let shim = tempfile::tempdir().unwrap();
    let calls = shim.path().join("calls.log");
    let pkexec = shim.path().join("pkexec");
    std::fs::write(
        &pkexec,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n[ \"$1\" = dpkg ] || exit 126\nshift\n\
             exec dpkg --root='{}' --force-depends --force-not-root --log=/dev/null \"$@\"\n",
            calls.display(),
            r.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pkexec, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", shim.path().display(), std::env::var("PATH").unwrap_or_default());
    let installer_calls = || std::fs::read_to_string(&calls).unwrap_or_default().lines().count();

    let practice = Practice::start(4, 8).await.expect("a practice");
    let out = env_path("SEALBOX_E2E_OUT").expect("out dir");
    let app = App::launch_env_to(
        &r.join("usr/bin/sealbox"),
        out,
        &[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string()), ("PATH", path)],
    )
    .await
    .expect("launch the installed app");
    unlock(&app, practice.threads).await;
    app.click("#settings-button").await.expect("settings");

    let said = about_says(&app, "#update-check").await;
    println!("e2e: update: nothing published -> {said}");
    assert!(said.contains("no update"), "{said}");

    // The next version as the release would be, and its pieces.
    let good = read_json(&next_dir.join("latest.json"));
    let next = good["version"].as_str().unwrap().to_owned();
    let platform = format!("linux-{}-deb", std::env::consts::ARCH);
    let next_file = good["platforms"][platform.as_str()]["url"].as_str().unwrap().to_owned();
    let next_deb = next_dir.join(&next_file);
    let current = read_json(&env_path("SEALBOX_UPDATE_MANIFEST").expect("the current manifest"));
    let current_entry = current["platforms"][platform.as_str()].clone();
    let scratch = tempfile::tempdir().unwrap();

    let mut elsewhere = good.clone();
    elsewhere["platforms"] =
        serde_json::json!({ "windows-x86_64-msi": good["platforms"][platform.as_str()] });
    publish(&practice, scratch.path(), &elsewhere, &[next_deb.clone()]);
    let said = about_says(&app, "#update-check").await;
    println!("e2e: update: a manifest for another platform -> {said}");
    assert!(said.contains("no package for this computer") && said.contains(&platform), "{said}");

    let mut older = current.clone();
    older["version"] = serde_json::json!("0.0.1");
    older["platforms"] = serde_json::json!({ platform.clone(): current_entry.clone() });
    publish(&practice, scratch.path(), &older, &[deb.clone()]);
    let said = about_says(&app, "#update-check").await;
    println!("e2e: update: an older version -> {said}");
    assert!(said.contains("downgrade is refused") && said.contains("0.0.1"), "{said}");

    // This version's package (signed as this version), announced as the next.
    let mut passed_off = current.clone();
    passed_off["version"] = serde_json::json!(next);
    passed_off["platforms"] = serde_json::json!({ platform.clone(): current_entry });
    publish(&practice, scratch.path(), &passed_off, &[deb.clone()]);
    let said = about_says(&app, "#update-check").await;
    assert!(said.contains(&format!("Sealbox {next} is ready")), "offered as announced: {said}");
    let said = about_says(&app, "#update-install").await;
    println!("e2e: update: an older package announced as {next} -> {said}");
    assert!(said.contains(&format!("signed as Sealbox {running} but offered as {next}")), "{said}");

    publish(&practice, scratch.path(), &read_json(&next_dir.join("impostor.json")), &[next_deb.clone()]);
    let said = about_says(&app, "#update-install").await;
    println!("e2e: update: signed by another key -> {said}");
    assert!(said.contains("a key this Sealbox does not trust"), "{said}");

    // A compromised hub changes the package after signing.
    publish(&practice, scratch.path(), &good, &[next_deb.clone()]);
    let at_hub = practice.hub.config.data_dir.join(sealbox_hub::updates::DIR).join(&next_file);
    let mut bytes = std::fs::read(&at_hub).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&at_hub, bytes).unwrap();
    let said = about_says(&app, "#update-install").await;
    println!("e2e: update: changed at the hub -> {said}");
    assert!(said.contains("does not match its signature"), "{said}");
    assert_eq!(installer_calls(), 0, "nothing refused reached the installer");
    assert_eq!(installed_version(r), running);

    // The signed update: offered, installed by dpkg.
    publish(&practice, scratch.path(), &good, &[next_deb.clone()]);
    let said = about_says(&app, "#update-check").await;
    assert!(said.contains(&format!("Sealbox {next} is ready")), "{said}");
    app.screenshot("update-offered").await.expect("screenshot");
    let said = about_says(&app, "#update-install").await;
    println!(
        "e2e: update: signed {next} -> {said}; installer: {}",
        std::fs::read_to_string(&calls).unwrap_or_default().trim()
    );
    assert!(said.contains(&format!("Sealbox {next} is installed")), "{said}");
    assert_eq!(installer_calls(), 1);
    assert_eq!(installed_version(r), next, "dpkg installed the update");
    assert!(r.join("usr/bin/sealbox").is_file());

    // Offered again (this process still runs the old version), then the
    // hub goes and a reply waits in the outbox: Install is refused.
    let said = about_says(&app, "#update-check").await;
    assert!(said.contains("is ready"), "{said}");
    practice.running.handle.shutdown();
    app.click("#settings-back").await.expect("back to the inbox");
    let thread = practice.hostile_thread.clone();
    app.click(&format!("#inbox tr[data-thread='{thread}'] .patient")).await.expect("open a thread");
    app.wait_attr("#thread", "data-thread", |s| s == thread).await.expect("the thread is open");
    app.click("#claim").await.expect("claim");
    app.wait_attr("#thread-state", "data-state", |s| s == "in_progress").await.expect("claimed");
    app.type_into("#reply-text", "Thank you, we will call you today.").await.expect("type");
    app.click("#send-reply").await.expect("send");
    app.text("#thread .message.staff .body").await.expect("the reply, queued");
    app.click("#settings-button").await.expect("settings");
    let said = about_says(&app, "#update-install").await;
    println!("e2e: update: with work in the outbox -> {said}");
    assert!(said.contains("still waiting to reach the practice hub"), "{said}");
    assert_eq!(installer_calls(), 1, "held: the installer was not called again");
    app.screenshot("update-held").await.expect("screenshot");
    app.close().await.expect("close");
}

fn curl(url: &str, out: &Path) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "30", "-o"])
        .arg(out)
        .args(["-w", "%{http_code}", url])
        .output()
        .unwrap()
}

/// The signed update `cargo xtask test` made (the test key), published
/// through the installed hub's command and fetched back over HTTP: the
/// package verifies under the public key with minisign-verify (what
/// Tauri's updater checks with), a changed byte does not, and the hub
/// serves nothing the manifest does not name. Errors are returned, so the
/// hub is stopped before the test fails.
fn publish_and_fetch_update(root: &Path, dir: &Path, url: &str) -> Result<(), String> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let text = |e: &dyn std::fmt::Display| e.to_string();
    std::fs::create_dir_all(dir).map_err(|e| text(&e))?;
    let manifest = env_path("SEALBOX_UPDATE_MANIFEST").map_err(|e| text(&e))?;
    let deb = env_path("SEALBOX_APP_DEB").map_err(|e| text(&e))?;
    let rpm = env_path("SEALBOX_APP_RPM").map_err(|e| text(&e))?;
    let data = dir.parent().ok_or("no data folder")?;
    let out = Command::new(root.join("usr/bin/sealbox-hub"))
        .arg("publish-update")
        .arg("--data-dir")
        .arg(data)
        .arg("--manifest")
        .arg(&manifest)
        .arg("--package")
        .arg(&deb)
        .arg("--package")
        .arg(&rpm)
        .args(["--url", url])
        .output()
        .map_err(|e| text(&e))?;
    if !out.status.success() {
        return Err(format!("publish-update: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let got = dir.join("latest.json");
    let code = curl(&format!("{url}/v1/updates/latest.json"), &got);
    if code.stdout != b"200" {
        return Err(format!("latest.json: HTTP {}", String::from_utf8_lossy(&code.stdout)));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&got).map_err(|e| text(&e))?).map_err(|e| text(&e))?;
    println!("e2e: the hub serves the update manifest for {}", doc["version"]);
    if doc["version"] != env!("CARGO_PKG_VERSION") {
        return Err(format!("the manifest's version: {}", doc["version"]));
    }
    let entry = &doc["platforms"][format!("linux-{}-deb", std::env::consts::ARCH).as_str()];
    let package_url = entry["url"].as_str().ok_or("no deb url")?;
    let deb_name = deb.file_name().and_then(|n| n.to_str()).ok_or("deb name")?;
    if package_url != format!("{url}/v1/updates/files/{deb_name}") {
        return Err(format!("the package's URL is not under the hub: {package_url}"));
    }
    let fetched = dir.join(deb_name);
    if curl(package_url, &fetched).stdout != b"200" {
        return Err("the package was not served".to_owned());
    }
    let bytes = std::fs::read(&fetched).map_err(|e| text(&e))?;
    if bytes != std::fs::read(&deb).map_err(|e| text(&e))? {
        return Err("the package served is not the one published".to_owned());
    }
    let decode = |b64: &str| STANDARD.decode(b64.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    let public_file = env_path("SEALBOX_UPDATE_PUBKEY_FILE").map_err(|e| text(&e))?;
    let public = std::fs::read_to_string(public_file).map_err(|e| text(&e))?;
    let pk = minisign_verify::PublicKey::decode(&decode(&public).ok_or("the public key is not base64")?)
        .map_err(|e| text(&e))?;
    let signature =
        decode(entry["signature"].as_str().unwrap_or_default()).ok_or("the signature is not base64")?;
    let sig = minisign_verify::Signature::decode(&signature).map_err(|e| text(&e))?;
    pk.verify(&bytes, &sig, false).map_err(|e| format!("the served package does not verify: {e}"))?;
    // The signed comment binds the version the manifest announces.
    let signed_version = format!("version:{}", env!("CARGO_PKG_VERSION"));
    if !sig.trusted_comment().split('\t').any(|field| field == signed_version) {
        return Err(format!("the signature does not bind the version: {}", sig.trusted_comment()));
    }
    let mut tampered = bytes;
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    if pk.verify(&tampered, &sig, false).is_ok() {
        return Err("a changed byte still verified".to_owned());
    }
    for unnamed in ["hub.sqlite3", "latest.json", "..%2Fhub.sqlite3"] {
        let code = curl(&format!("{url}/v1/updates/files/{unnamed}"), &dir.join("unnamed"));
        if code.stdout != b"404" {
            let status = String::from_utf8_lossy(&code.stdout).into_owned();
            return Err(format!("{unnamed}: HTTP {status} (only published packages are served)"));
        }
    }
    Ok(())
}
