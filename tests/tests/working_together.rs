//! Working together, in the real app against a real hub fed by sealbox-sim:
//! a GP writes an internal note (shown framed apart and marked as never
//! sent to the patient), then hands the thread to the nurses' queue with a
//! note for them; the next thread opens with an offer to undo, which brings
//! the thread back; the hub logs both notes, the hand-over and the undo,
//! and the patients' replies (`sealbox-sim read-replies`, with their own
//! keys) hold neither note.

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
    // Each row previews the patient's newest words; the selected row is
    // the list's active descendant (what a screen reader announces).
    app.screenshot("inbox-previews").await.expect("screenshot");
    let previews = app.texts("#inbox tr.row .preview").await.expect("previews");
    if !previews.iter().any(|p| !p.trim().is_empty()) {
        let row = app
            .run_async("arguments[0](document.querySelector('#inbox tr.row')?.outerHTML ?? 'no row')")
            .await
            .expect("the first row's HTML");
        panic!(
            "rows preview the patient's words: {} previews read {previews:?}; first row {row}",
            previews.len()
        );
    }
    let active =
        app.wait_attr("#inbox", "aria-activedescendant", |a| a.starts_with("row-")).await.expect("active");
    assert_eq!(app.attrs(&format!("#{active}"), "aria-selected").await.expect("row"), vec!["true"]);
    // A routine thread in the GPs' queue (so an undone hand-over is seen to go back there).
    let routine =
        app.attrs("#inbox tr[data-priority='routine'][data-pool='gp']", "data-thread").await.expect("rows");
    let thread = routine.first().expect("sealbox-sim sends routine messages to the GPs").clone();
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

    // Handed to the nurses' queue with a note for them: the next thread
    // opens at once, with an offer to undo — taken, the thread comes back.
    let mut changes = practice.hub_changes();
    app.click("#hand-to option[data-label=\"Nurses' queue\"]").await.expect("pick the nurses' queue");
    app.type_into("#hand-note", HAND_NOTE).await.expect("a note for them");
    app.click("#hand-over").await.expect("hand it over");
    app.wait_attr("#undo", "data-thread", |t| t == thread).await.expect("an undo is offered");
    let next = app.wait_attr("#thread", "data-thread", |t| t != thread).await.expect("the next thread opens");
    println!("e2e: handed over; thread {next} opened next");
    app.click("#undo-button").await.expect("undo");
    app.wait_attr("#thread", "data-thread", |t| t == thread).await.expect("the handed thread is back");
    app.wait_gone("#undo").await.expect("the offer is spent");
    let notes = app.texts("#thread article.note .body").await.expect("notes");
    assert_eq!(notes.iter().map(|n| words(n)).collect::<Vec<_>>(), vec![words(NOTE), words(HAND_NOTE)]);

    // At the hub: both notes, the hand-over, and the undo as a second
    // assignment back to the queue the thread came from (nothing erased).
    let deadline = Instant::now() + Duration::from_secs(20);
    let (logged_notes, handed) = loop {
        let n = practice.hub_actions(&thread, "note").expect("hub actions");
        let a = practice.hub_actions(&thread, "assign").expect("hub actions");
        if n.len() == 2 && a.len() == 2 {
            break (n, a);
        }
        changes.next(deadline).await.expect("the notes, the hand-over and the undo reach the hub");
    };
    println!("e2e: at the hub: {} notes, assignments {handed:?}", logged_notes.len());
    assert!(handed[0].contains("\"pool\":\"nurse\""), "{handed:?}");
    assert!(handed[1].contains("\"pool\":\"gp\""), "undone: back to the GPs' queue {handed:?}");
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
