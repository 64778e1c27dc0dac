//! Proof that no plaintext reaches the hub: the real `sealbox-hub serve`
//! binary takes simulated traffic with planted marker strings in every free
//! text and medication item (plus hostile bodies that carry markers in the
//! clear); afterwards no byte of any marker — nor any medicine name the
//! simulator uses — is in any file under the hub's data dir or in its logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] fns

mod support;

use std::path::Path;
use std::sync::Arc;

use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::HubConfig;
use sealbox_hub::db::practice;
use sealbox_hub::relay::channels;
use sealbox_hub::AppState;
use sealbox_model::message::{FreeText, MedicationText, MessagePart};
use sealbox_sim::{content, send, traffic, SendOptions};

/// The prefix of every planted marker, itself searched for on its own so a
/// fragment of a marker (a truncated log line, a partial echo) is caught too.
///
/// Why a chance match cannot fail this test: the hub's files are mostly
/// ciphertext (random bytes) plus fixed-shape text (ids, column names, log
/// lines). A given needle of `L` bytes matches one position of random bytes
/// with probability 256^-L, so over `S` scanned bytes and `n` needles the
/// chance of any match is at most n * S * 256^-L_min. The test asserts
/// S < 2^26 (64 MiB), n < 2^11 and L_min >= 8, and keeps the short needles
/// apart: the 17-byte prefix and the >= 13-byte markers and medicine names
/// give 2^11 * 2^26 * 2^-104 = 2^-67; the patients' names (8 bytes or more,
/// each with a space, so only random bytes can match them, never base64 or
/// hex text) are at most 2^7 needles: 2^7 * 2^26 * 2^-64 = 2^-31 (4.7e-10).
/// NHS numbers are ten digits, which hex ids could hold by chance, so they
/// count only as a whole token (no letter or digit on either side): the hub
/// writes hex only in fixed-length ids of 16 or more digits, never as a
/// ten-character token, and a ten-digit token in random bytes has chance
/// about 2^26 * 2^7 * 256^-10 * (246/256)^2 < 2^-46. In all, below one run
/// in 10^9, where the bare three-byte `QZX` this replaces matched a
/// megabyte-sized database by chance in about one run in six.
const MARK: &str = "SBX7PLAINTEXTMARK";

/// Whether `needle` occurs in `bytes`; with `whole_token`, only where no
/// ASCII letter or digit touches it on either side.
fn occurs(bytes: &[u8], needle: &[u8], whole_token: bool) -> bool {
    bytes.windows(needle.len()).enumerate().any(|(at, w)| {
        w == needle
            && (!whole_token || {
                let before = at.checked_sub(1).and_then(|i| bytes.get(i));
                let after = bytes.get(at + needle.len());
                !before.is_some_and(u8::is_ascii_alphanumeric)
                    && !after.is_some_and(u8::is_ascii_alphanumeric)
            })
    })
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markers_never_reach_the_hubs_files_or_logs() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();

    // The practice, its patients' channels and the pool keys, as the CLI and
    // the admin's device would leave them.
    let practice_file = {
        let state = AppState::open(HubConfig::new(data.path()), Arc::new(SystemClock)).unwrap();
        let now = state.now();
        state.db.call_blocking(move |conn| practice::create(conn, "Marker Surgery", now)).unwrap();
        support::pool_keys::publish(&state);
        state.db.call_blocking(move |conn| channels::issue(conn, 25, now)).unwrap()
    };

    let mut hub = support::process::HubProcess::start(
        data.path(),
        logs.path(),
        &["--patient-burst", "100000", "--patient-per-minute", "1000000"],
    );
    let url = hub.url.clone();

    // Every message carries a unique marker in its text and medication items.
    let mut plan = traffic::plan(5, 25, 400);
    let mut markers = Vec::new();
    for (i, planned) in plan.iter_mut().enumerate() {
        for part in &mut planned.parts {
            match part {
                MessagePart::FreeText(text) => {
                    let marker = format!("{MARK}-TEXT-{i:05}");
                    *text = FreeText::new(format!("{} {marker}", text.reveal()));
                    markers.push(marker);
                }
                MessagePart::MedicationRequest(req) => {
                    let marker = format!("{MARK}-MED-{i:05}");
                    req.items.push(MedicationText::new(marker.clone()));
                    markers.push(marker);
                }
                MessagePart::Attachment(_) => {}
            }
        }
    }
    let client = sealbox_sim::client::client().unwrap();
    let summary = send::send(&client, &url, &practice_file, &plan, SendOptions::default()).await.unwrap();
    assert_eq!(summary.accepted, plan.len(), "{summary}");

    // Hostile posts that carry a marker in the clear must not echo or log it.
    let token = &practice_file.patients[0].channel_token.0;
    for body in [
        format!(r#"{{"thread_id": 1, "message_id": 2, "category": "{MARK}-HOSTILE-1", "envelope": "AA"}}"#),
        format!(r#"{{"thread_id": "{MARK}-HOSTILE-2"}}"#),
        format!(
            r#"{{"thread_id": 1, "message_id": 3, "category": "other", "envelope": "{MARK}-HOSTILE-3"}}"#
        ),
        format!(r#"{MARK}-HOSTILE-4 not json"#),
    ] {
        let resp = client
            .post(format!("{url}/v1/patient/messages"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error());
        let text = resp.text().await.unwrap();
        assert!(!text.contains(MARK), "the hub echoed a hostile value: {text}");
    }
    markers.extend((1..=4).map(|i| format!("{MARK}-HOSTILE-{i}")));

    hub.kill();

    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    files_under(logs.path(), &mut files);
    let mut scanned = 0usize;
    // Every patient's name and NHS number travel sealed in each message.
    let nhs_numbers: Vec<String> = practice_file
        .patients
        .iter()
        .map(|p| {
            sealbox_sim::seal::patient_details(p)
                .nhs_number
                .map(|n| n.reveal().to_owned())
                .unwrap_or_default()
        })
        .collect();
    // Names, and each NHS number as people write it ("999 123 4567").
    let names: Vec<String> = practice_file
        .patients
        .iter()
        .map(|p| sealbox_sim::seal::patient_details(p).display_name.reveal().to_owned())
        .chain(
            nhs_numbers
                .iter()
                .filter_map(|n| Some(format!("{} {} {}", n.get(..3)?, n.get(3..6)?, n.get(6..)?))),
        )
        .collect();
    let long_needles: Vec<&[u8]> = markers
        .iter()
        .map(|m| m.as_bytes())
        .chain(content::REPEAT_MEDICINES.iter().map(|m| m.as_bytes()))
        .chain([MARK.as_bytes()])
        .collect();
    // The arithmetic in MARK's comment holds only within these bounds.
    assert!(long_needles.len() + names.len() + nhs_numbers.len() < 1 << 11, "too many needles for the bound");
    assert!(names.len() < 1 << 7);
    assert!(long_needles.iter().all(|n| n.len() >= 13), "a marker or medicine name is shorter than 13 bytes");
    assert!(names.iter().all(|n| n.len() >= 8 && n.contains(' ')), "a name is shorter than the bound allows");
    assert!(nhs_numbers.iter().all(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit())));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        scanned += bytes.len();
        let needles = long_needles
            .iter()
            .map(|n| (*n, false))
            .chain(names.iter().map(|n| (n.as_bytes(), false)))
            .chain(nhs_numbers.iter().map(|n| (n.as_bytes(), true)));
        for (needle, whole_token) in needles {
            assert!(
                !occurs(&bytes, needle, whole_token),
                "{} holds plaintext ({})",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(scanned < 1 << 26, "the scan outgrew the bound in MARK's comment: {scanned} bytes");
    let identities = names.len() + nhs_numbers.len();
    println!(
        "no-plaintext scan: {} markers + {} medicine names + {} patient names and NHS numbers absent from {} files ({} bytes) of the hub's data dir and logs",
        markers.len(),
        content::REPEAT_MEDICINES.len(),
        identities,
        files.len(),
        scanned
    );
    assert!(files.iter().any(|f| f.to_string_lossy().contains("hub.stderr")));
    assert!(scanned > 100_000, "the scan saw too little data to mean anything");
}

#[test]
fn a_ten_digit_token_is_found_alone_but_not_inside_a_hex_id() {
    assert!(occurs(b"x \"9990001234\" y", b"9990001234", true));
    assert!(occurs(b"9990001234", b"9990001234", true));
    assert!(!occurs(b"pt-a9990001234b", b"9990001234", true));
    assert!(!occurs(b"pt-a99900012345", b"9990001234", true));
    assert!(occurs(b"pt-a9990001234b", b"9990001234", false));
}
