//! Patients joining with the practice's invite (issue 25), over real HTTP:
//! the right details open a channel the patient writes on at once; a used,
//! unknown, expired or worn-out invite is refused with what to do; a lost
//! device's re-issued invite gives the same patient a new channel and
//! closes the old one; the hub's database holds neither who the patient is
//! nor the code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_crypto::patient_invite::{InviteCode, InviteLink, PatientIdentity};
use sealbox_crypto::secret::random_bytes;
use sealbox_hub::config::RatePolicy;
use sealbox_hub::relay::patient_join::{invite as invite_patient, DEFAULT_TTL};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    Base64Bytes, PatientJoined, PracticeFile, PracticePolicy, SimPatient, MAX_JOIN_ATTEMPTS,
};
use sealbox_model::ids::PatientId;
use sealbox_model::jiff::SignedDuration;
use sealbox_sim::{send, SendOptions};
use serde_json::{json, Value};

use support::login::{get, post};
use support::{request, start_hub, Hub};

const NAME: &str = "Harriet O'Neil-Smith";
const BORN: &str = "1984-07-19";
const NHS: &str = "943 476 5919";

/// The browser's side: fresh channel keys, and the request for `code` with
/// the details typed.
struct Browser {
    ed25519_secret: [u8; 32],
    x25519_secret: [u8; 32],
}

impl Browser {
    fn new() -> Self {
        Browser { ed25519_secret: random_bytes::<32>(), x25519_secret: random_bytes::<32>() }
    }

    fn join_request(&self, code: &InviteCode, name: &str, born: &str) -> Value {
        self.join_request_nhs(code, name, born, None)
    }

    /// As the web app sends it: with an NHS number typed, also the tag of
    /// the name and date of birth alone.
    fn join_request_nhs(&self, code: &InviteCode, name: &str, born: &str, nhs: Option<&str>) -> Value {
        let identity = PatientIdentity::new(name, born, nhs).unwrap();
        let without_nhs = nhs.map(|_| PatientIdentity::new(name, born, None).unwrap());
        let ed = ed25519_dalek::SigningKey::from_bytes(&self.ed25519_secret).verifying_key().to_bytes();
        let x =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(self.x25519_secret)).to_bytes();
        serde_json::to_value(sealbox_model::hub_api::PatientJoinRequest {
            lookup: Base64Bytes(code.lookup().to_vec()),
            identity_tag: Base64Bytes(code.tag(&identity).to_vec()),
            identity_tag_without_nhs: without_nhs.map(|i| Base64Bytes(code.tag(&i).to_vec())),
            ed25519_public: Base64Bytes(ed.to_vec()),
            x25519_public: Base64Bytes(x.to_vec()),
            notify_email: None,
        })
        .unwrap()
    }

    fn patient(&self, joined: &PatientJoined) -> SimPatient {
        SimPatient {
            patient_id: joined.patient_id.clone(),
            channel_token: joined.channel_token.clone(),
            ed25519_secret: Base64Bytes(self.ed25519_secret.to_vec()),
            x25519_secret: Base64Bytes(self.x25519_secret.to_vec()),
        }
    }
}

/// The practice invites the patient (as `sealbox-hub patient-invite` does).
fn invite(hub: &Hub, replaces: Option<&PatientId>) -> InviteCode {
    invite_with(hub, replaces, None)
}

/// The same, with the NHS number on the practice's record when `nhs` is given.
fn invite_with(hub: &Hub, replaces: Option<&PatientId>, nhs: Option<&str>) -> InviteCode {
    let record = PatientIdentity::new(NAME, BORN, nhs).unwrap();
    let now = hub.state.now();
    let (link, _) =
        hub.state.db.call_blocking(|c| invite_patient(c, &record, replaces, now, DEFAULT_TTL)).unwrap();
    // The link carries the practice and the key its pool keys are signed with.
    let fragment = link.url(&hub.url);
    let read = InviteLink::parse_fragment(fragment.split_once('#').unwrap().1).unwrap();
    let key = hub.state.db.call_blocking(|c| sealbox_hub::auth::directory::signing_key(c)).unwrap().unwrap();
    assert_eq!((read.practice_key, read.code.lookup()), (key, link.code.lookup()));
    link.code
}

async fn join(hub: &Hub, body: &Value) -> (u16, Value) {
    let (status, body, _) = post(&hub.client, format!("{}/v1/patient/join", hub.url), None, body).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_joins_once_with_their_invite_and_writes_on_the_channel_it_opens() {
    let hub = start_hub(1, RatePolicy { burst: 1000, per_minute: 0 }).await;
    support::pool_keys::publish(&hub.state);
    let browser = Browser::new();
    let code = invite(&hub, None);

    // Wrong details count against the invite, and say how many tries are left.
    let (status, body) = join(&hub, &browser.join_request(&code, NAME, "1984-07-18")).await;
    assert_eq!(
        (status, body["type"].as_str().unwrap_or("").ends_with("details_mismatch")),
        (403, true),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains(&format!("{} tries left", MAX_JOIN_ATTEMPTS - 1)),
        "{body}"
    );

    // Typed as people type (case, punctuation, the UK date order): joined.
    let (status, body) = join(&hub, &browser.join_request(&code, "harriet o neil smith", "19/07/1984")).await;
    assert_eq!(status, 201, "{body}");
    let joined: PatientJoined = serde_json::from_value(body).unwrap();

    // The channel works: a clinical question signed with the browser's key.
    let practice = PracticeFile { patients: vec![browser.patient(&joined)], ..hub.patients() };
    let question = [request(0, 9_100, Category::ClinicalQuestion, "A rash on my arm for a week", &[])];
    let sent = send::send(&hub.client, &hub.url, &practice, &question, SendOptions::default()).await.unwrap();
    assert_eq!(sent.accepted, 1);

    // Once only.
    let (status, body) = join(&hub, &Browser::new().join_request(&code, NAME, BORN)).await;
    assert_eq!(status, 410, "{body}");
    assert!(body["type"].as_str().unwrap().ends_with("invite_used"), "{body}");

    // An invite nobody issued; keys that are not keys.
    let (status, _) = join(&hub, &browser.join_request(&InviteCode::generate(), NAME, BORN)).await;
    assert_eq!(status, 404);
    let mut bad = browser.join_request(&invite(&hub, None), NAME, BORN);
    bad["x25519_public"] = json!("AAAA");
    let (status, body) = join(&hub, &bad).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (400, Some("x25519_public")), "{body}");

    // Expired: fourteen days and a minute later.
    let late = invite(&hub, None);
    hub.clock.advance(DEFAULT_TTL + SignedDuration::from_mins(1));
    let (status, body) = join(&hub, &Browser::new().join_request(&late, NAME, BORN)).await;
    assert_eq!(status, 410);
    assert!(body["type"].as_str().unwrap().ends_with("invite_expired"), "{body}");

    // Worn out: after the last wrong try even the right details are refused.
    let guessed = invite(&hub, None);
    for _ in 0..MAX_JOIN_ATTEMPTS {
        assert_eq!(join(&hub, &Browser::new().join_request(&guessed, "Harriet Other", BORN)).await.0, 403);
    }
    let (status, body) = join(&hub, &Browser::new().join_request(&guessed, NAME, BORN)).await;
    assert_eq!(status, 410);
    assert!(body["type"].as_str().unwrap().ends_with("invite_locked"), "{body}");

    // The phone is lost: the practice re-issues for the same patient. The
    // new browser's channel is the same patient (their threads go on); the
    // old token no longer reads or writes.
    let again = invite(&hub, Some(&joined.patient_id));
    let new_browser = Browser::new();
    let (status, body) = join(&hub, &new_browser.join_request(&again, NAME, BORN)).await;
    assert_eq!(status, 201, "{body}");
    let rejoined: PatientJoined = serde_json::from_value(body).unwrap();
    assert_eq!(rejoined.patient_id, joined.patient_id);
    let replies = format!("{}/v1/patient/replies?cursor=0&limit=10", hub.url);
    assert_eq!(
        get(&hub.client, replies.clone(), &joined.channel_token.0).await.0,
        401,
        "the lost phone's token"
    );
    assert_eq!(get(&hub.client, replies, &rejoined.channel_token.0).await.0, 200);

    // The page signs itself out when the practice says (15 minutes unless
    // it wants it sooner); only a channel asks.
    let policy_url = format!("{}/v1/patient/policy", hub.url);
    let (status, body) = get(&hub.client, policy_url.clone(), &rejoined.channel_token.0).await;
    assert_eq!((status, body["sign_out_secs"].as_u64()), (200, Some(900)), "{body}");
    let sooner = PracticePolicy { patient_sign_out_secs: 300, ..PracticePolicy::default() };
    let now = hub.state.now();
    hub.state.db.call_blocking(|c| sealbox_hub::auth::policy::set(c, sooner, "test", now)).unwrap();
    let (_, body) = get(&hub.client, policy_url.clone(), &rejoined.channel_token.0).await;
    assert_eq!(body["sign_out_secs"].as_u64(), Some(300), "{body}");
    assert_eq!(get(&hub.client, policy_url, &joined.channel_token.0).await.0, 401, "the lost phone's token");
    let practice = PracticeFile { patients: vec![new_browser.patient(&rejoined)], ..hub.patients() };
    let follow_up = [request(0, 9_100, Category::ClinicalQuestion, "It is spreading now", &[])];
    let mut follow_up = follow_up;
    follow_up[0].message_id = sealbox_model::ids::MessageId(9_102);
    let sent =
        send::send(&hub.client, &hub.url, &practice, &follow_up, SendOptions::default()).await.unwrap();
    assert_eq!(sent.accepted, 1, "the same patient goes on in their thread");

    // The NHS number is the patient's to give: typed, it joins an invite
    // made without it; an invite made with it needs it, and the right one.
    let (status, body) =
        join(&hub, &Browser::new().join_request_nhs(&invite(&hub, None), NAME, BORN, Some(NHS))).await;
    assert_eq!(status, 201, "{body}");
    let with = invite_with(&hub, None, Some(NHS));
    let (status, body) = join(&hub, &Browser::new().join_request(&with, NAME, BORN)).await;
    assert_eq!(status, 403, "left out where the practice's invite has it: {body}");
    let (status, _) =
        join(&hub, &Browser::new().join_request_nhs(&with, NAME, BORN, Some("401 023 2137"))).await;
    assert_eq!(status, 403, "another patient's number");
    let (status, body) = join(&hub, &Browser::new().join_request_nhs(&with, NAME, BORN, Some(NHS))).await;
    assert_eq!(status, 201, "{body}");

    // Who the patient is, and the code, never reached the database.
    let stored = hub_files(&hub);
    let contains = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
    for needle in ["O'Neil-Smith", "o neil smith", "harriet", "Harriet", BORN, "19/07/1984"] {
        assert!(!contains(needle.as_bytes()), "the hub stored {needle}");
    }
    for code in [&code, &again] {
        assert!(!contains(code.text().as_bytes()), "the hub stored an invite code");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_navigator_invites_from_the_desktop_and_only_the_roles_that_may_can() {
    use sealbox_core::key::soft::SoftKey;
    use sealbox_core::vault::Keyring;
    use sealbox_core::workstation::patient_invite::PatientInviteError;
    use sealbox_core::workstation::WorkstationError;
    use sealbox_model::hub_api::PatientInviteRequest;
    use sealbox_model::role::Role;

    let hub = start_hub(0, RatePolicy { burst: 1000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut nav =
        support::desks::enrol_approved(&hub, &keyring, &dirs.path().join("nav"), Role::CareNavigator).await;
    let now = hub.state.now();
    let desk = nav.ws.unlock(&mut nav.key, now).await.unwrap();

    // Made on the workstation: the link names the practice key it pinned.
    let made = desk.invite_patient(NAME, "19/07/1984", "", now).await.unwrap();
    assert!(made.link.starts_with(&format!("{}/patient/#join=", hub.url)), "{}", made.link.as_str());
    let link = InviteLink::parse_fragment(made.link.split_once('#').unwrap().1).unwrap();
    let key = hub.state.db.call_blocking(|c| sealbox_hub::auth::directory::signing_key(c)).unwrap().unwrap();
    assert_eq!(link.practice_key, key);
    assert_eq!(made.code.as_str(), link.code.text().as_str());
    assert!(!format!("{made:?}").contains(made.code.as_str()), "Debug shows no code");
    let browser = Browser::new();
    let (status, body) = join(&hub, &browser.join_request(&link.code, NAME, BORN)).await;
    assert_eq!(status, 201, "{body}");
    let joined: PatientJoined = serde_json::from_value(body).unwrap();

    // The patient asks for an appointment, then loses their phone: the
    // care navigator gives them a new invite from the thread, with the
    // details they gave. Joining with it keeps the patient and closes the
    // old channel.
    let sim_patient = browser.patient(&joined);
    let practice = PracticeFile { patients: vec![sim_patient.clone()], ..hub.patients() };
    let asked = [request(0, 9_300, Category::AdminAppointment, "Can I see the nurse next week?", &[])];
    send::send(&hub.client, &hub.url, &practice, &asked, SendOptions::default()).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    let again = desk.reinvite_patient(sealbox_model::ids::ThreadId(9_300), now).await.unwrap();
    let again = InviteLink::parse_fragment(again.link.split_once('#').unwrap().1).unwrap();
    let gave = sealbox_sim::seal::patient_details(&sim_patient);
    let born = gave.date_of_birth.reveal().to_string();
    let new_phone = Browser::new();
    let nhs = gave.nhs_number.as_ref().map(|n| n.reveal().to_owned());
    let (status, body) = join(
        &hub,
        &new_phone.join_request_nhs(&again.code, gave.display_name.reveal(), &born, nhs.as_deref()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let rejoined: PatientJoined = serde_json::from_value(body).unwrap();
    assert_eq!(rejoined.patient_id, joined.patient_id, "the same patient");
    let replies = format!("{}/v1/patient/replies?cursor=0", hub.url);
    assert_eq!(get(&hub.client, replies.clone(), &joined.channel_token.0).await.0, 401, "the lost phone");
    assert_eq!(get(&hub.client, replies, &rejoined.channel_token.0).await.0, 200);
    let files = hub_files(&hub);
    for needle in [NAME.as_bytes(), b"O'Neil-Smith", b"19/07/1984", made.code.as_bytes()] {
        let held = files.windows(needle.len()).any(|w| w == needle);
        assert!(!held, "the hub holds {:?}", String::from_utf8_lossy(needle));
    }
    desk.lock("done", now).await.unwrap();

    // A GP's workstation does not make one, and the hub refuses a GP's
    // session and one without any.
    let (mut gp_ws, mut gp_key) =
        nav.another(&hub, &keyring, &dirs.path().join("gp"), Role::Gp, SoftKey::new("2468")).await;
    gp_key.enter_pin("2468");
    let gp_desk = gp_ws.unlock(&mut gp_key, now).await.unwrap();
    let refused = gp_desk.invite_patient(NAME, BORN, "", now).await.unwrap_err();
    assert!(
        matches!(refused, WorkstationError::PatientInvite(PatientInviteError::NotYourRole)),
        "{refused:?}"
    );
    let refused = gp_desk.reinvite_patient(sealbox_model::ids::ThreadId(9_300), now).await.unwrap_err();
    assert!(
        matches!(refused, WorkstationError::PatientInvite(PatientInviteError::NotYourRole)),
        "{refused:?}"
    );
    gp_desk.lock("done", now).await.unwrap();
    let request = serde_json::to_value(PatientInviteRequest {
        lookup: Base64Bytes(random_bytes::<32>().to_vec()),
        identity_tag: Base64Bytes(random_bytes::<32>().to_vec()),
        replaces: None,
        valid_days: 14,
    })
    .unwrap();
    let url = format!("{}/v1/patient/invites", hub.url);
    assert_eq!(post(&hub.client, url.clone(), None, &request).await.0, 401);
    let gp_session = support::login::enrol_and_login(&hub.url, &hub.state, Role::Gp).await;
    let (status, body, _) = post(&hub.client, url.clone(), Some(&gp_session.token), &request).await;
    assert_eq!(status, 403, "{body}");
    let nav_session = support::login::enrol_and_login(&hub.url, &hub.state, Role::CareNavigator).await;
    let (status, body, _) = post(&hub.client, url.clone(), Some(&nav_session.token), &request).await;
    assert_eq!(status, 201, "{body}");
    let (status, _, _) = post(&hub.client, url, Some(&nav_session.token), &request).await;
    assert_eq!(status, 409, "the same lookup twice");
    support::desks::wipe(&gp_ws, &keyring);
    nav.wipe(&keyring);
}

/// Every byte of the hub's database files (with its write-ahead log).
fn hub_files(hub: &Hub) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(hub.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(sealbox_hub::db::DB_FILE))
        {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_invite_and_its_qr_code_reads_back_as_the_link() {
    const BIN: &str = env!("CARGO_BIN_EXE_sealbox-hub");
    let hub = start_hub(0, RatePolicy { burst: 1000, per_minute: 0 }).await;
    support::pool_keys::publish(&hub.state);
    let out = tempfile::tempdir().unwrap();
    let cli = |qr: &std::path::Path| {
        let run = std::process::Command::new(BIN)
            .args([
                "patient-invite",
                "--name",
                NAME,
                "--date-of-birth",
                BORN,
                "--url",
                &hub.url,
                "--data-dir",
            ])
            .arg(hub.dir.path())
            .arg("--qr")
            .arg(qr)
            .output()
            .unwrap();
        (
            run.status.success(),
            String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr),
        )
    };
    let (ok, said) = cli(&out.path().join("letter.txt"));
    assert!(!ok && said.contains("--qr must name a .svg or .pbm file"), "{said}");

    // The PBM, read by an independent decoder (zbar), is the printed link.
    let pbm = out.path().join("letter.pbm");
    let (ok, said) = cli(&pbm);
    assert!(ok, "{said}");
    let link =
        said.lines().find(|l| l.starts_with(&format!("{}/patient/#join=", hub.url))).unwrap().to_owned();
    let read = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&pbm)
        .output()
        .expect("zbarimg (zbar-tools)");
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), link, "the QR code decodes to the link");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&pbm).unwrap().permissions().mode() & 0o077, 0, "the owner's only");
    }
    // And it joins.
    let invite = InviteLink::parse_fragment(link.split_once('#').unwrap().1).unwrap();
    let (status, body) = join(&hub, &Browser::new().join_request(&invite.code, NAME, BORN)).await;
    assert_eq!(status, 201, "{body}");

    // The SVG for a letter.
    let svg_path = out.path().join("letter.svg");
    let (ok, said) = cli(&svg_path);
    assert!(ok, "{said}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(svg.matches("h1v1h-1z").count() > 200, "a QR code's dark modules: {svg}");
}
