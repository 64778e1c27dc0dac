//! Steps more than one scenario takes. They fail the scenario with a
//! message, as a test does.
#![allow(clippy::expect_used, clippy::panic)]

use std::time::Instant;

use crate::practice::GP_PIN;
use crate::App;

/// Unlocks with the GP's PIN and checks the inbox lists `threads` threads,
/// urgent first; returns the patient names shown, when the click was sent
/// and when the inbox appeared (the unlock happened between the two).
pub async fn unlock(app: &App, threads: usize) -> (Vec<String>, Instant, Instant) {
    app.type_into("#pin", GP_PIN).await.expect("type the PIN");
    let clicked = Instant::now();
    app.click("#unlock").await.expect("unlock");
    app.text("#inbox-title").await.expect("the inbox opens");
    let shown = Instant::now();
    println!(
        "e2e: unlock click -> inbox shown: {} ms (touch, hub login, cache open, first page)",
        (shown - clicked).as_millis()
    );
    // The inbox shows the cache at once; the first sync fills it in the background.
    app.wait_attr("#inbox", "data-count", |n| n == threads.to_string()).await.expect("every thread synced");
    let title = app.text("#inbox-title").await.expect("the inbox title");
    assert!(title.starts_with(&format!("Inbox · {threads} threads")), "{title}");
    let rows = app.attrs("#inbox tr.row", "data-priority").await.expect("rows");
    assert_eq!(rows.len(), threads, "every thread the patients wrote is listed");
    let first_routine = rows.iter().position(|p| p != "urgent").unwrap_or(rows.len());
    assert!(rows[first_routine..].iter().all(|p| p != "urgent"), "urgent threads come first: {rows:?}");
    let names = app.texts("#inbox .patient").await.expect("names");
    assert!(names.iter().all(|n| !n.trim().is_empty()), "each row names its patient");
    (names, clicked, shown)
}

/// Fails if `page` holds any of `names`.
pub fn assert_no_names(page: &str, names: &[String]) {
    for name in names {
        assert!(!page.contains(name.as_str()), "the locked page still holds a patient name");
    }
}
