//! Test support: a real hub on 127.0.0.1:0 with a temp data dir, a manual
//! clock, a practice and patient channels.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

pub mod desks;
pub mod login;
pub mod notifications;
pub mod pool_keys;
pub mod process;
pub mod site;
pub mod sse;
pub mod tripwire;

use reqwest::Client;
use sealbox_hub::clock::ManualClock;
use sealbox_hub::config::{HubConfig, RatePolicy};
use sealbox_hub::db::practice;
use sealbox_hub::relay::channels;
use sealbox_hub::server::{self, Running};
use sealbox_hub::AppState;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    Base64Bytes, PatientMessageRequest, PracticeFile, PracticePolicy, Problem, SimPatient,
};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::pool::Pool;
use std::sync::Arc;

pub struct Hub {
    pub url: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub practice: PracticeFile,
    pub client: Client,
    pub running: Running,
    pub dir: tempfile::TempDir,
}

/// Patient 0's clinical question `text` on `thread` (message `message`),
/// marked red-flagged for the simulator's tally when `red_flag`.
pub fn clinical_question(
    thread: u64,
    message: u64,
    text: &str,
    red_flag: bool,
) -> sealbox_sim::traffic::PlannedMessage {
    sealbox_sim::traffic::PlannedMessage {
        patient: 0,
        thread_id: ThreadId(thread),
        message_id: MessageId(message),
        category: Category::ClinicalQuestion,
        parts: vec![MessagePart::FreeText(FreeText::new(text))],
        red_flag,
        attachments: Vec::new(),
    }
}

/// Patient `patient`'s message `text` on a new thread `thread` (message
/// `thread + 1`) of `category`, asking for `medicines` if any.
#[allow(dead_code)] // not every test binary sends requests this way
pub fn request(
    patient: usize,
    thread: u64,
    category: Category,
    text: &str,
    medicines: &[&str],
) -> sealbox_sim::traffic::PlannedMessage {
    let mut parts = vec![MessagePart::FreeText(FreeText::new(text))];
    if !medicines.is_empty() {
        parts.push(MessagePart::MedicationRequest(sealbox_model::message::MedicationRequest {
            items: medicines.iter().map(|m| sealbox_model::message::MedicationText::new(*m)).collect(),
            shared_notes: Vec::new(),
            answers: Vec::new(),
        }));
    }
    sealbox_sim::traffic::PlannedMessage {
        patient,
        thread_id: ThreadId(thread),
        message_id: MessageId(thread + 1),
        category,
        parts,
        red_flag: false,
        attachments: Vec::new(),
    }
}

/// A reqwest client (rustls with the ring provider, installed once).
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}

pub fn t0() -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap()
}

/// The test practices' policy: the defaults, and the demo's software key
/// allowed (the workstations in these tests use it; `hardware_key.rs`
/// drives an independent authenticator instead).
pub fn demo_practice() -> PracticePolicy {
    PracticePolicy { allow_demo_keys: true, ..PracticePolicy::default() }
}

/// Starts a hub with `patients` channels and the given patient rate policy.
pub async fn start_hub(patients: u32, rate: RatePolicy) -> Hub {
    start_hub_with(patients, rate, |_| {}).await
}

/// As [`start_hub`], with `adjust` applied to the configuration first.
pub async fn start_hub_with(patients: u32, rate: RatePolicy, adjust: impl FnOnce(&mut HubConfig)) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HubConfig::new(dir.path());
    config.patient_rate = rate;
    config.push_coalesce = std::time::Duration::from_millis(1);
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new(t0()));
    let state = AppState::open(config, clock.clone()).unwrap();
    let practice = state
        .db
        .call_blocking(|conn| {
            practice::create(conn, "Test Surgery", t0()).unwrap();
            sealbox_hub::auth::policy::set(conn, demo_practice(), "test", t0()).unwrap();
            channels::issue(conn, patients, t0())
        })
        .unwrap();
    let running = server::start(state.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    let url = format!("http://{}", running.addr);
    Hub { url, state, clock, practice, client: client(), running, dir }
}

impl Hub {
    /// The patients' file as `sealbox-hub patient-channels` would write it
    /// now: naming the practice key, once the practice has one.
    pub fn patients(&self) -> PracticeFile {
        let key = self.state.db.call_blocking(|c| sealbox_hub::auth::directory::signing_key(c)).unwrap();
        PracticeFile {
            practice_key: key.map(|k| Base64Bytes(k.as_bytes().to_vec())),
            ..self.practice.clone()
        }
    }

    /// The version the hub holds for `thread` (what an action expects).
    pub fn thread_version(&self, thread: sealbox_model::ids::ThreadId) -> u64 {
        let id = i64::try_from(thread.0).unwrap();
        let v: i64 = self
            .state
            .db
            .sqlite_blocking(move |c| {
                c.query_row("SELECT version FROM threads WHERE id = ?1", [id], |r| r.get(0))
            })
            .unwrap();
        u64::try_from(v).unwrap()
    }
}

pub fn token(hub: &Hub, patient: usize) -> String {
    hub.practice.patients[patient].channel_token.0.clone()
}

pub fn message(thread: u64, msg: u64, body: &[u8]) -> PatientMessageRequest {
    PatientMessageRequest {
        thread_id: ThreadId(thread),
        message_id: MessageId(msg),
        category: Category::RepeatPrescription,
        envelope: Base64Bytes(body.to_vec()),
    }
}

/// A real sealed envelope from `patient` whose free text is `text`,
/// deterministic for the same inputs (so an identical re-post is a
/// duplicate), sealed to fixed test pool keys (the hub never opens it).
pub fn sealed(practice_id: &str, patient: &SimPatient, thread: u64, msg: u64, text: &[u8]) -> Vec<u8> {
    use rand::SeedableRng;
    use sealbox_crypto::envelope::{
        seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId,
    };
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::new()
        .chain_update(patient.patient_id.0.as_bytes())
        .chain_update(thread.to_be_bytes())
        .chain_update(msg.to_be_bytes())
        .chain_update(text)
        .finalize()
        .into();
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(seed);
    let signing: [u8; 32] = patient.ed25519_secret.as_slice().try_into().unwrap();
    let pool_key = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([7u8; 32]));
    let plaintext =
        MessagePart::FreeText(FreeText::new(String::from_utf8_lossy(text))).to_sealed_plaintext().unwrap();
    let to = [Recipient { id: RecipientId::Pool(Pool::Gp), public_key: pool_key }];
    seal_envelope(
        &mut rng,
        &ed25519_dalek::SigningKey::from_bytes(&signing),
        &EnvelopeFields { practice: practice_id, thread_id: thread, message_id: msg },
        &[PartInput { kind: PartKind::FreeText, plaintext: &plaintext, recipients: &to }],
    )
    .unwrap()
}

/// A request carrying a real envelope from `patient` (see [`sealed`]).
pub fn sealed_message(
    practice: &PracticeFile,
    patient: usize,
    thread: u64,
    msg: u64,
    text: &[u8],
) -> PatientMessageRequest {
    let envelope = sealed(&practice.practice_id, &practice.patients[patient], thread, msg, text);
    PatientMessageRequest { envelope: Base64Bytes(envelope), ..message(thread, msg, text) }
}

/// Posts a patient message; `req.envelope` holds the free text, sealed here
/// for that patient before sending. Returns (status, body).
pub async fn post_patient(
    hub: &Hub,
    patient: usize,
    req: &PatientMessageRequest,
) -> (u16, serde_json::Value) {
    let mut sealed_req =
        sealed_message(&hub.practice, patient, req.thread_id.0, req.message_id.0, req.envelope.as_slice());
    sealed_req.category = req.category;
    let req = &sealed_req;
    let res = hub
        .client
        .post(format!("{}/v1/patient/messages", hub.url))
        .bearer_auth(token(hub, patient))
        .json(req)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Posts raw bytes with a content type; returns (status, content type, body).
pub async fn post_raw(
    hub: &Hub,
    path: &str,
    bearer: Option<&str>,
    ctype: &str,
    body: Vec<u8>,
) -> (u16, String, String) {
    let mut req = hub.client.post(format!("{}{path}", hub.url)).header("content-type", ctype).body(body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, ctype, res.text().await.unwrap())
}

/// How many envelopes the hub has stored.
pub fn envelope_count(hub: &Hub) -> i64 {
    hub.state.db.sqlite_blocking(|c| c.query_row("SELECT COUNT(*) FROM envelopes", [], |r| r.get(0))).unwrap()
}

/// Parses a problem body and checks its content type.
pub fn problem(ctype: &str, body: &str) -> Problem {
    assert_eq!(ctype, "application/problem+json", "body: {body}");
    serde_json::from_str(body).unwrap()
}
