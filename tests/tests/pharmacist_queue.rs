//! A clinical pharmacist's queue, in the real app against a real hub: a
//! pharmacist (enrolled and approved through the real flows) reads what
//! the queue needs — a repeat request's medicines and its words (a change
//! of pharmacy is written there), a medication question in full — claims
//! the question, answers it and closes it; the patient reads the answer
//! with their own key. A clinical question in words only is sealed to the
//! GPs and nurses: it never reaches the pharmacist's workstation.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use sealbox_e2e::flows;
use sealbox_e2e::practice::Practice;
use sealbox_e2e::{words, App};
use sealbox_model::category::Category;
use sealbox_model::role::Role;

const PIN: &str = "8642";
const QUESTION: &str = "Can I take ibuprofen for a headache while I am on ramipril?";
const ANSWER: &str =
    "Paracetamol is the safer choice with ramipril; please avoid ibuprofen unless a GP advises it.";
const REFILL_TEXT: &str = "Please send it to the pharmacy on Hill Street from now on";
const RASH: &str = "I have had an itchy rash on my arm for a week";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pharmacist_reads_a_refill_and_answers_a_medication_question_and_never_sees_a_clinical_one() {
    let mut practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let dir = practice
        .enrol_colleague(Role::Pharmacist, "Priya Shah", Some("GPhC 2071234"), PIN)
        .await
        .expect("a pharmacist");
    let question =
        practice.patient_asks(201, Category::MedicationQuestion, QUESTION, &[]).await.expect("a question");
    let refill = practice
        .patient_asks(
            211,
            Category::RepeatPrescription,
            REFILL_TEXT,
            &["Salbutamol 100micrograms/dose inhaler x2"],
        )
        .await
        .expect("a refill request");
    let rash = practice.patient_asks(221, Category::ClinicalQuestion, RASH, &[]).await.expect("a question");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    flows::unlock_until(&app, PIN, &question).await;
    let who = app.text("#clinician").await.expect("who is signed in");
    assert!(who.contains("Priya Shah") && who.contains("pharmacist"), "{who}");

    let listed = app.attrs("#inbox tr.row", "data-thread").await.expect("rows");
    assert!(!listed.contains(&rash), "a clinical question in words only is not the pharmacy's");
    let page = app.source().await.expect("page source");
    assert!(!page.contains("itchy rash"));

    // The refill: the medicines and the change of pharmacy.
    app.click(&format!("#inbox tr[data-thread='{refill}'] .patient")).await.expect("open the refill");
    app.wait_attr("#thread", "data-thread", |s| s == refill).await.expect("the refill is open");
    let medicines = app.texts("#thread .medicines li").await.expect("medicines");
    assert_eq!(medicines, ["Salbutamol 100micrograms/dose inhaler x2"]);
    let bodies = app.texts("#thread .message .body").await.expect("bodies");
    assert_eq!(bodies.iter().map(|b| words(b)).collect::<Vec<_>>(), [words(REFILL_TEXT)]);

    // The question: read in full, answered, closed.
    app.click("#back").await.expect("back to the inbox");
    app.click(&format!("#inbox tr[data-thread='{question}'] .patient")).await.expect("open the question");
    app.wait_attr("#thread", "data-thread", |s| s == question).await.expect("the question is open");
    let bodies = app.texts("#thread .message .body").await.expect("bodies");
    assert_eq!(bodies.iter().map(|b| words(b)).collect::<Vec<_>>(), [words(QUESTION)]);
    app.click("#claim").await.expect("claim");
    app.wait_attr("#thread-state", "data-state", |s| s == "in_progress").await.expect("claimed");
    app.type_into("#reply-text", ANSWER).await.expect("type the answer");
    app.screenshot("pharmacist-question").await.expect("screenshot");
    flows::assert_contrast(&app, "a pharmacist answering a medication question").await;
    let mut changes = practice.hub_changes();
    app.click("#send-reply").await.expect("send");
    let sent = app.text("#thread .message.staff .body").await.expect("the answer is shown");
    assert!(words(&sent).starts_with(&words(ANSWER)), "{sent}");
    assert!(words(&sent).ends_with("Priya Shah, Clinical pharmacist (GPhC 2071234)"), "signed: {sent}");

    let told = practice.reply_read(&question, &mut changes).await.expect("the reply reaches the patient");
    println!("e2e: the patient reads: {told}");
    assert_eq!(told, words(&sent));
    app.click("#close-thread").await.expect("close");
    practice.wait_hub_state(&question, "closed", &mut changes).await.expect("the close reaches the hub");
    app.close().await.expect("close");
    drop(practice);
}
