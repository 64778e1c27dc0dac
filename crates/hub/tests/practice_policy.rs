//! `sealbox-hub policy` sets the practice's security policy within the
//! bounds every practice keeps; the hub serves it to signed-in staff and
//! with every enrolment challenge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use sealbox_hub::config::HubConfig;
use sealbox_hub::db::practice;
use sealbox_hub::{server, AppState};
use sealbox_model::hub_api::PracticePolicy;
use sealbox_model::role::Role;
use support::login;

const BIN: &str = env!("CARGO_BIN_EXE_sealbox-hub");

fn policy_cli(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).arg("policy").arg("--data-dir").arg(dir).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn the_hub_says_the_workspace_version_the_app_shows_too() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    // The app's lock screen shows the same (e2e `lock_screen`): one
    // version, the workspace's, for both.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sealbox-hub {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn the_cli_sets_the_policy_within_bounds_and_the_hub_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, said) = policy_cli(dir.path(), &[]);
    assert!(ok, "{said}");
    assert_eq!(
        said.trim(),
        "idle lock at most 900 s; re-authentication every 43200 s; keys without hmac-secret refused; offline unlocks for 259200 s after the last online one; the demo's software key refused; a pulled USB key does not lock; the patient web app signs out after 900 s"
    );
    let (ok, said) = policy_cli(
        dir.path(),
        &["--max-idle-secs", "120", "--reauth-secs", "3600", "--allow-weaker-keys", "yes"],
    );
    assert!(ok, "{said}");
    assert!(said.contains("idle lock at most 120 s; re-authentication every 3600 s"), "{said}");
    assert!(said.contains("allowed (weaker keyring mode)"), "{said}");
    // Outside the bounds: refused with the rule, nothing changed.
    let (ok, said) = policy_cli(dir.path(), &["--max-idle-secs", "901"]);
    assert!(!ok);
    assert!(said.contains("between 30 and 900 seconds"), "{said}");
    let (ok, said) = policy_cli(dir.path(), &["--reauth-secs", "50000"]);
    assert!(!ok && said.contains("at least every 12 hours"), "{said}");
    let (ok, said) = policy_cli(dir.path(), &["--allow-weaker-keys", "maybe"]);
    assert!(!ok && said.contains("yes or no"), "{said}");
    let (ok, said) = policy_cli(dir.path(), &["--allow-demo-keys", "maybe"]);
    assert!(!ok && said.contains("yes or no"), "{said}");
    let demo = tempfile::tempdir().unwrap();
    let (ok, said) = policy_cli(demo.path(), &["--allow-demo-keys", "yes"]);
    assert!(ok && said.contains("the demo's software key allowed (demo practices only)"), "{said}");
    let (ok, said) = policy_cli(demo.path(), &["--lock-on-key-removal", "yes"]);
    assert!(ok && said.contains("a pulled USB key locks the workstation;"), "{said}");
    let (ok, said) = policy_cli(demo.path(), &["--patient-sign-out-secs", "300"]);
    assert!(ok && said.ends_with("the patient web app signs out after 300 s\n"), "{said}");
    let (ok, said) = policy_cli(demo.path(), &["--patient-sign-out-secs", "1800"]);
    assert!(!ok && said.contains("1 to 15 minutes"), "{said}");
    let (ok, said) = policy_cli(dir.path(), &["--max-offline-secs", "60"]);
    assert!(!ok && said.contains("1 hour to 14 days"), "{said}");
    // Only the change counts as a change; who made it is kept.
    let (ok, _) = policy_cli(dir.path(), &["--max-idle-secs", "120"]);
    assert!(ok);

    let state = AppState::open_system(HubConfig::new(dir.path())).unwrap();
    let rows: Vec<String> = state
        .db
        .sqlite_blocking(|c| {
            let mut stmt = c.prepare("SELECT set_by FROM practice_policy ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>();
            rows
        })
        .unwrap();
    assert_eq!(rows.len(), 1, "one change recorded: {rows:?}");
    assert!(rows[0].starts_with("cli:"), "{rows:?}");

    state.db.call_blocking(|c| practice::create(c, "Policy Surgery", state.now())).unwrap();
    let running = server::start(state.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    let url = format!("http://{}", running.addr);
    let client = support::client();
    let want = PracticePolicy {
        max_idle_secs: 120,
        reauth_secs: 3600,
        allow_weaker_keys: true,
        ..Default::default()
    };
    // With the enrolment challenge, before any key is registered...
    let challenge = login::enrol_start(&client, &url, &login::invite(&state, Role::Nurse)).await.unwrap();
    assert_eq!(challenge.policy, want);
    // ...and to signed-in staff; nobody else.
    let nurse = login::enrol_and_login(&url, &state, Role::Nurse).await;
    let (status, body) = login::get(&client, format!("{url}/v1/practice/policy"), &nurse.token).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_value::<PracticePolicy>(body).unwrap(), want);
    let (status, _) = login::get(&client, format!("{url}/v1/practice/policy"), "not-a-token").await;
    assert_eq!(status, 401);
    running.stop().await.unwrap();
}
