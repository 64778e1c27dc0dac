//! Working together, in the real app against a real hub fed by sealbox-sim:
//! a GP writes an internal note (shown framed apart and marked as never
//! sent to the patient), then hands the thread to the nurses' queue with a
//! note for them; the hub logs both notes and the hand-over, and the
//! patients' replies (`sealbox-sim read-replies`, with their own keys) hold
//! neither note.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::time::{Duration, Instant};

use sealbox_e2e::flows::{self, unlock};
use sealbox_e2e::practice::Practice;
use sealbox_e2e::App;

const NOTE: &str = "Spoke to her pharmacist: readings taken after coffee.";
const HAND_NOTE: &str = "Please book a BP check this week.";

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_writes_a_note_and_hands_the_thread_to_the_nurses_with_one_the_patient_never_sees() {
    let practice = Practice::start(20, 60).await.expect("a practice with patients' messages");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    unlock(&app, practice.threads).await;
    let routine = app.attrs("#inbox tr[data-priority='routine']", "data-thread").await.expect("rows");
    let thread = routine.first().expect("sealbox-sim sends routine messages").clone();
    app.click(&format!("#inbox tr[data-thread='{thread}'] .patient")).await.expect("open it");

    // An internal note: framed apart, marked, never a reply.
    app.type_into("#note-text", NOTE).await.expect("write the note");
    app.click("#add-note").await.expect("add it");
    let shown = app.text("#thread article.note .body").await.expect("the note is shown");
    assert_eq!(words(&shown), words(NOTE));
    let badge = app.text("#thread article.note .note-badge").await.expect("marked");
    assert!(badge.contains("not sent to the patient"), "{badge}");
    app.screenshot("internal-note").await.expect("screenshot");
    flows::assert_contrast(&app, "thread with an internal note").await;

    // Handed to the nurses' queue with a note for them.
    let mut changes = practice.hub_changes();
    app.click("#hand-to option[data-label=\"Nurses' queue\"]").await.expect("pick the nurses' queue");
    app.type_into("#hand-note", HAND_NOTE).await.expect("a note for them");
    app.click("#hand-over").await.expect("hand it over");
    app.wait_attr("#thread-state", "data-state", |s| s == "assigned").await.expect("handed over");
    let notes = app.texts("#thread article.note .body").await.expect("notes");
    assert_eq!(notes.iter().map(|n| words(n)).collect::<Vec<_>>(), vec![words(NOTE), words(HAND_NOTE)]);

    let deadline = Instant::now() + Duration::from_secs(20);
    let (logged_notes, handed) = loop {
        let n = practice.hub_actions(&thread, "note").expect("hub actions");
        let a = practice.hub_actions(&thread, "assign").expect("hub actions");
        if n.len() == 2 && !a.is_empty() {
            break (n, a);
        }
        changes.next(deadline).await.expect("the notes and the hand-over reach the hub");
    };
    println!("e2e: at the hub: {} notes, hand-over {handed:?}", logged_notes.len());
    assert!(handed.iter().any(|a| a.contains("\"pool\":\"nurse\"")), "{handed:?}");
    let (state, _) = practice.hub_thread_state(&thread).expect("hub state");
    assert_eq!(state, "assigned");

    // The patients read nothing of either note.
    let replies = practice.replies().await.expect("read-replies");
    assert!(
        replies.iter().all(|(_, text)| !text.contains("coffee") && !text.contains("BP check")),
        "a note reached a patient"
    );
    app.close().await.expect("close");
    drop(practice);
}
