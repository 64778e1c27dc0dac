//! `init-practice` and `invite` (the functions behind the commands): the
//! printed code enrols once over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_hub::auth::cli::{init_practice, invite, CliError};
use sealbox_hub::clock::ManualClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::server;
use sealbox_hub::AppState;
use sealbox_model::role::Role;
use std::sync::Arc;
use support::login::{self, new_key, origin};

fn code_in(text: &str) -> String {
    text.rsplit(": ").next().unwrap().trim().to_owned()
}

#[tokio::test]
async fn init_practice_prints_an_admin_invite_that_enrols_once() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        AppState::open(HubConfig::new(dir.path()), Arc::new(ManualClock::new(support::t0()))).unwrap();
    let reg = sealbox_model::registration::Registration::parse("NMC 12A3456E").unwrap();
    assert!(matches!(invite(&state, Role::Nurse, "Nurse Jo", None), Err(CliError::NoPractice)));
    let printed = init_practice(&state, "Riverside Surgery").unwrap();
    assert!(printed.contains("practice prac-"), "{printed}");
    assert!(matches!(init_practice(&state, "Again"), Err(CliError::PracticeExists)));
    assert!(matches!(invite(&state, Role::Nurse, "  ", None), Err(CliError::BadName)));
    let nurse_code = code_in(&invite(&state, Role::Nurse, "Nurse Jo", Some(&reg)).unwrap());
    assert_eq!(nurse_code.len(), 35);

    let running = server::start(state.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    let url = format!("http://{}", running.addr);
    let client = support::client();
    let origin = origin(&state);
    let admin = login::enrol(&client, &url, &origin, &code_in(&printed), &mut new_key()).await.unwrap();
    assert_eq!(admin.role, Role::PracticeAdmin);
    let nurse = login::enrol(&client, &url, &origin, &nurse_code, &mut new_key()).await.unwrap();
    assert_eq!(nurse.role, Role::Nurse);
    // The invite's name and registration come back at enrolment (the
    // device signs replies with them) and are kept with the staff record.
    assert_eq!((nurse.name.as_str(), nurse.registration.as_ref()), ("Nurse Jo", Some(&reg)));
    assert_eq!(admin.registration, None);
    let (status, _) = login::enrol(&client, &url, &origin, &nurse_code, &mut new_key()).await.unwrap_err();
    assert_eq!(status, 410);
    // Only hashes are stored.
    let plain: i64 = state
        .db
        .sqlite_blocking(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM invites WHERE hex(code_sha256) LIKE '%' || ?1 || '%'",
                [nurse_code.replace('-', "")],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(plain, 0);
    running.stop().await.unwrap();
}
