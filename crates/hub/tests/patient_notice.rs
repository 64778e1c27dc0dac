//! Blind notices to patients (issue 25 point 4), through a real SMTP
//! server (aiosmtpd, Debian's python3-aiosmtpd) that requires STARTTLS: a
//! patient who joined with an e-mail address is told when the GP replies,
//! and the captured e-mail holds none of the planted markers (a word of
//! the reply, the medicine, the patient's name, ids). The hub's delivery
//! task sends it after the reply lands. A relay that is down keeps the
//! notice, tried again later, and a notice is never sent twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sealbox_core::vault::Keyring;
use sealbox_crypto::patient_invite::PatientIdentity;
use sealbox_crypto::secret::random_bytes;
use sealbox_hub::config::RatePolicy;
use sealbox_hub::notice::deliver::{send_due, Delivered};
use sealbox_hub::notice::smtp::{Mailer, SmtpConfig};
use sealbox_hub::relay::patient_join::{invite, DEFAULT_TTL};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{Base64Bytes, PatientJoinRequest, PatientJoined, PracticeFile, SimPatient};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::SignedDuration;
use sealbox_model::message::{MedicationRequest, MedicationText, MessagePart};
use sealbox_model::role::Role;
use sealbox_sim::traffic::PlannedMessage;
use sealbox_sim::{send, SendOptions};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use support::desks::enrol_approved;
use support::login::post;
use support::{start_hub, start_hub_with, Hub};

const EMAIL: &str = "olive.brennan@example.org";
const NAME: &str = "Olive Brennan-Hart";
const BORN: &str = "1958-11-03";
const MEDICINE: &str = "Amlodipine 5mg tablets NOTICE-MARKER-MED-3391";
const REPLY: &str = "Your prescription is ready NOTICE-MARKER-REPLY-5520";
const PUBLIC_URL: &str = "https://messages.test-surgery.example";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("tests/fixtures").join(name)
}

/// aiosmtpd on loopback, and the lines it prints.
struct Relay {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
    out: tempfile::TempDir,
}

impl Relay {
    async fn start(port: Option<u16>) -> Relay {
        let out = tempfile::tempdir().unwrap();
        // Debian's Python, where python3-aiosmtpd is installed.
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(fixture("smtp/server.py"))
            .arg(fixture("tls/cert.pem"))
            .arg(fixture("tls/key.pem"))
            .arg(out.path())
            .args(port.map(|p| p.to_string()))
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("python3 with aiosmtpd (cargo xtask setup installs it)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = next_line(&mut lines).await;
        let port = first.strip_prefix("listening ").expect("the SMTP server listens").parse().unwrap();
        Relay { child, lines, port, out }
    }

    /// The next message it received: (recipients, the raw e-mail, over TLS).
    async fn received(&mut self) -> (String, String, bool) {
        let line = next_line(&mut self.lines).await;
        let (n, tls) = line.strip_prefix("received ").unwrap().split_once(' ').unwrap();
        let read = |ext: &str| std::fs::read_to_string(self.out.path().join(format!("{n}.{ext}"))).unwrap();
        (read("rcpt"), read("eml"), tls == "tls=True")
    }

    async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the SMTP server said nothing in 30 s")
        .unwrap()
        .expect("the SMTP server ended")
}

fn smtp(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".to_owned(),
        port,
        from: "Test Surgery <no-reply@test-surgery.example>".to_owned(),
        credentials: None,
        ca_pem: Some(std::fs::read(fixture("tls/cert.pem")).unwrap()),
        public_url: PUBLIC_URL.to_owned(),
    }
}

/// A patient joins with an invite (giving `email`) and asks for a repeat.
async fn patient_asks(hub: &Hub, email: Option<&str>, n: u64) -> (PracticeFile, ThreadId) {
    let now = hub.state.now();
    let identity = PatientIdentity::new(NAME, BORN, None).unwrap();
    let (link, _) = hub.state.db.call_blocking(|c| invite(c, &identity, None, now, DEFAULT_TTL)).unwrap();
    let (ed, x) = (random_bytes::<32>(), random_bytes::<32>());
    let request = PatientJoinRequest {
        lookup: Base64Bytes(link.code.lookup().to_vec()),
        identity_tag: Base64Bytes(link.code.tag(&identity).to_vec()),
        identity_tag_without_nhs: None,
        ed25519_public: Base64Bytes(
            ed25519_dalek::SigningKey::from_bytes(&ed).verifying_key().to_bytes().to_vec(),
        ),
        x25519_public: Base64Bytes(
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(x)).to_bytes().to_vec(),
        ),
        notify_email: email.map(str::to_owned),
    };
    let body = serde_json::to_value(&request).unwrap();
    let (status, joined, _) = post(&hub.client, format!("{}/v1/patient/join", hub.url), None, &body).await;
    assert_eq!(status, 201, "{joined}");
    let joined: PatientJoined = serde_json::from_value(joined).unwrap();
    let file = PracticeFile {
        patients: vec![SimPatient {
            patient_id: joined.patient_id,
            channel_token: joined.channel_token,
            ed25519_secret: Base64Bytes(ed.to_vec()),
            x25519_secret: Base64Bytes(x.to_vec()),
        }],
        ..hub.patients()
    };
    let thread = ThreadId(8_100_000_000 + n);
    let message = PlannedMessage {
        patient: 0,
        thread_id: thread,
        message_id: MessageId(8_100_000_000 + n),
        category: Category::RepeatPrescription,
        parts: vec![MessagePart::MedicationRequest(MedicationRequest {
            items: vec![MedicationText::new(MEDICINE)],
            shared_notes: Vec::new(),
            answers: Vec::new(),
        })],
        red_flag: false,
        attachments: Vec::new(),
    };
    let sent = send::send(&hub.client, &hub.url, &file, &[message], SendOptions::default()).await.unwrap();
    assert_eq!(sent.accepted, 1);
    (file, thread)
}

fn waiting(hub: &Hub) -> Vec<(u32, Option<String>)> {
    hub.state
        .db
        .sqlite_blocking(|c| {
            let mut q = c.prepare("SELECT attempts, last_error FROM patient_notices")?;
            let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>();
            rows
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_is_told_a_reply_is_waiting_and_the_email_says_nothing_else() {
    let mut relay = Relay::start(None).await;
    let port = relay.port;
    let hub =
        start_hub_with(1, RatePolicy { burst: 1000, per_minute: 0 }, |c| c.smtp = Some(smtp(port))).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (file, thread) = patient_asks(&hub, Some(EMAIL), 1).await;

    // The GP replies; the hub's delivery task tells the patient.
    let now = hub.state.now();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    desk.reply(thread, REPLY, now).unwrap();
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "{sent:?}");
    let (to, mail, tls) = relay.received().await;
    assert_eq!(to, EMAIL);
    assert!(tls, "sent only after STARTTLS");
    assert!(mail.contains("Subject: New message from Test Surgery"), "{mail}");
    let text = mail.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(
        text.contains("You have a new message from Test Surgery. Open your secure messages to read it."),
        "{mail}"
    );
    assert!(text.contains(&format!("{PUBLIC_URL}/patient/")), "{mail}");
    let patient = &file.patients[0].patient_id.0;
    for marker in
        [REPLY, "NOTICE-MARKER", "Amlodipine", NAME, "Brennan", patient, &thread.0.to_string(), "Dr ", "GMC"]
    {
        assert!(!mail.contains(marker), "the notice holds {marker:?}:\n{mail}");
    }
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_is_down_keeps_the_notice_until_it_is_back_and_it_goes_once() {
    // No delivery task here: the test sends what is due itself.
    let hub = start_hub(1, RatePolicy { burst: 1000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (_, thread) = patient_asks(&hub, Some(EMAIL), 1).await;
    // Another patient gave no address: never told by e-mail.
    let (_, quiet) = patient_asks(&hub, None, 2).await;
    let relay = Relay::start(None).await;
    let port = relay.port;
    relay.stop().await;
    let mailer = Mailer::new(&smtp(port)).unwrap();

    let now = hub.state.now();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    desk.engine().unwrap().pull(&desk.store(), now).await.unwrap();
    desk.reply(thread, REPLY, now).unwrap();
    desk.reply(thread, "And a second reply before the notice went", now).unwrap();
    desk.reply(quiet, REPLY, now).unwrap();
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!(sent.applied, 3, "{sent:?}");
    assert_eq!(waiting(&hub).len(), 1, "one notice for two replies, none for the patient without an address");

    // The relay is down: kept, with the kind of failure and no address.
    assert_eq!(send_due(&hub.state, &mailer).await.unwrap(), Delivered { sent: 0, failed: 1 });
    let kept = waiting(&hub);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].0, 1);
    let why = kept[0].1.clone().unwrap();
    assert!(why.contains("could not be reached") && !why.contains('@'), "{why}");
    // Not due again until a minute has passed.
    assert_eq!(send_due(&hub.state, &mailer).await.unwrap(), Delivered::default());

    // Back (on the same port): sent once, then nothing is left to send.
    let mut relay = Relay::start(Some(port)).await;
    hub.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(send_due(&hub.state, &mailer).await.unwrap(), Delivered { sent: 1, failed: 0 });
    let (to, mail, tls) = relay.received().await;
    assert_eq!((to.as_str(), tls), (EMAIL, true));
    assert!(!mail.contains("NOTICE-MARKER"), "{mail}");
    assert!(waiting(&hub).is_empty());
    assert_eq!(send_due(&hub.state, &mailer).await.unwrap(), Delivered::default());
    relay.stop().await;
}
