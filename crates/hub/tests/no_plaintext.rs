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
        support::pool_keys::publish(&state);
        let now = state.now();
        state
            .db
            .call_blocking(move |conn| {
                practice::create(conn, "Marker Surgery", now).unwrap();
                channels::issue(conn, 25, now)
            })
            .unwrap()
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
                    let marker = format!("QZX-TEXT-{i:05}");
                    *text = FreeText::new(format!("{} {marker}", text.reveal()));
                    markers.push(marker);
                }
                MessagePart::MedicationRequest(req) => {
                    let marker = format!("QZX-MED-{i:05}");
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
        r#"{"thread_id": 1, "message_id": 2, "category": "QZX-HOSTILE-1", "envelope": "AA"}"#,
        r#"{"thread_id": "QZX-HOSTILE-2"}"#,
        r#"{"thread_id": 1, "message_id": 3, "category": "other", "envelope": "QZX-HOSTILE-3"}"#,
        r#"QZX-HOSTILE-4 not json"#,
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
        assert!(!text.contains("QZX"), "the hub echoed a hostile value: {text}");
    }
    markers.extend((1..=4).map(|i| format!("QZX-HOSTILE-{i}")));

    hub.kill();

    let mut files = Vec::new();
    files_under(data.path(), &mut files);
    files_under(logs.path(), &mut files);
    let mut scanned = 0usize;
    // Every patient's name and NHS number travel sealed in each message.
    let identities: Vec<String> = practice_file
        .patients
        .iter()
        .flat_map(|p| {
            let d = sealbox_sim::seal::patient_details(p);
            [d.display_name.reveal().to_owned(), d.nhs_number.reveal().to_owned()]
        })
        .collect();
    let needles: Vec<&[u8]> = markers
        .iter()
        .map(|m| m.as_bytes())
        .chain(content::REPEAT_MEDICINES.iter().map(|m| m.as_bytes()))
        .chain(identities.iter().map(|m| m.as_bytes()))
        .chain([b"QZX".as_slice()])
        .collect();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        scanned += bytes.len();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == *needle),
                "{} holds plaintext ({})",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    println!(
        "no-plaintext scan: {} markers + {} medicine names + {} patient names and NHS numbers absent from {} files ({} bytes) of the hub's data dir and logs",
        markers.len(),
        content::REPEAT_MEDICINES.len(),
        identities.len(),
        files.len(),
        scanned
    );
    assert!(files.iter().any(|f| f.to_string_lossy().contains("hub.stderr")));
    assert!(scanned > 100_000, "the scan saw too little data to mean anything");
}
