//! A photo in the thread, in the real app against a real hub: a patient
//! sends a clinical question with a photo (sealed on the patient's side
//! under a key of its own); the GP opens the thread and sees the photo in
//! the message, shown through a `blob:` URL; the lock takes it out of the
//! page and revokes the URL, and the workstation's data directory never
//! holds the picture.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use sealbox_e2e::flows;
use sealbox_e2e::practice::{Practice, GP_PIN};
use sealbox_e2e::App;
use sealbox_sim::content::PHOTO_PNG;

const NOTE: &str = "Photo attached of the dry patch on my elbow, it has been there a month.";

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_sees_the_patients_photo_in_the_thread_and_the_lock_takes_it_away() {
    let practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let thread = practice.patient_sends_photo(401, NOTE).await.expect("a question with a photo");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    flows::unlock_until(&app, GP_PIN, &thread).await;
    app.click(&format!("#inbox tr[data-thread='{thread}'] .patient")).await.expect("open the question");
    app.wait_attr("#thread", "data-thread", |s| s == thread).await.expect("the question is open");
    let caption = app.text("#thread figure.attachment figcaption").await.expect("the photo is listed");
    assert_eq!(caption, "Photo (PNG, 3 KB)");
    let src = app
        .wait_attr("#thread figure.attachment img", "src", |s| s.starts_with("blob:"))
        .await
        .expect("the photo is shown from a blob: URL");
    // The picture decodes in the webview at the size the patient sent.
    let decoded = app
        .run_async(
            "const done = arguments[arguments.length - 1];
             const img = document.querySelector('#thread figure.attachment img');
             img.decode().then(() => done([img.naturalWidth, img.naturalHeight]), e => done(String(e)));",
        )
        .await
        .expect("decode");
    println!("e2e: photo shown from {src}: {decoded}");
    assert_eq!(decoded, serde_json::json!([160, 120]), "the photo did not decode");
    let alt = app.attrs("#thread figure.attachment img", "alt").await.expect("alt");
    assert_eq!(alt, ["Photo (PNG, 3 KB) sent by the patient"]);
    app.screenshot("photo-in-thread").await.expect("screenshot");
    flows::assert_contrast(&app, "thread with a photo").await;

    // The lock takes it out of the page and revokes its URL.
    app.press_ctrl('l').await.expect("lock");
    app.text("#pin").await.expect("the lock screen");
    let page = app.source().await.expect("page source");
    assert!(!page.contains(&src), "the photo's URL outlived the lock");
    let left = app
        .run_async(
            "const done = arguments[arguments.length - 1];
             done(document.querySelectorAll('img, figure').length);",
        )
        .await
        .expect("count pictures");
    assert_eq!(left, serde_json::json!(0), "a picture outlived the lock");
    let fetched = app
        .run_async(&format!(
            "const done = arguments[arguments.length - 1];
             fetch('{src}').then(r => r.blob()).then(b => done('alive ' + b.size), () => done('revoked'));"
        ))
        .await
        .expect("fetch the old URL");
    assert_eq!(fetched, serde_json::json!("revoked"), "the blob: URL still serves the photo");
    app.close().await.expect("close");

    // Never on disk: no file under the workstation's data directory holds it.
    for file in files_under(&practice.gp_dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(!bytes.windows(16).any(|w| w == &PHOTO_PNG[..16]), "a picture on disk: {}", file.display());
    }
    drop(practice);
}
