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

/// Unlocks with `pin` and waits until the inbox lists `thread` (synced).
pub async fn unlock_until(app: &App, pin: &str, thread: &str) {
    app.type_into("#pin", pin).await.expect("type the PIN");
    app.click("#unlock").await.expect("unlock");
    app.text("#inbox-title").await.expect("the inbox opens");
    let row = format!("#inbox tr[data-thread='{thread}']");
    app.wait_attr(&row, "data-thread", |t| t == thread).await.expect("the thread is synced");
}

/// Fails if `page` holds any of `names`.
pub fn assert_no_names(page: &str, names: &[String]) {
    for name in names {
        assert!(!page.contains(name.as_str()), "the locked page still holds a patient name");
    }
}

/// Measures the contrast of every visible piece of text on the current
/// screen (`contrast.js`, in the real webview) in the light and the dark
/// theme, and fails naming each element below WCAG's 4.5:1 (3:1 for large
/// text). The page's own theme is put back afterwards.
pub async fn assert_contrast(app: &App, screen: &str) {
    const MEASURE: &str = include_str!("contrast.js");
    let before = app
        .run_async("arguments[0](document.documentElement.getAttribute('data-theme'))")
        .await
        .expect("the page's theme");
    // The measurement can fail: a probe of grey on grey must be caught.
    let probe = app
        .run_async(&format!(
            "const p = document.createElement('span'); p.id = 'contrast-probe'; p.textContent = 'probe'; \
             p.style.color = '#777'; p.style.background = 'rgba(136, 136, 136, 0.9)'; \
             document.body.appendChild(p); \
             const done = arguments[0]; \
             const measured = (function() {{ {MEASURE} }}).call(null, (r) => {{ p.remove(); done(r); }});"
        ))
        .await
        .expect("measure the probe");
    let caught = probe["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .any(|f| f.as_str().is_some_and(|f| f.starts_with("span#contrast-probe")));
    assert!(caught, "the contrast measurement missed a grey-on-grey probe: {probe}");
    let mut failures = Vec::new();
    for theme in ["light", "dark"] {
        app.run_async(&format!(
            "document.documentElement.setAttribute('data-theme', '{theme}'); \
             requestAnimationFrame(() => arguments[0](true));"
        ))
        .await
        .expect("set the theme");
        let measured = app.run_async(MEASURE).await.expect("measure contrast");
        let checked = measured["checked"].as_u64().expect("a count of checked elements");
        assert!(checked > 0, "{screen} ({theme}): no text found to measure");
        println!("e2e: contrast of {screen} ({theme}): {checked} text elements measured");
        for f in measured["failures"].as_array().expect("a list of failures") {
            failures.push(format!("{screen} ({theme}): {}", f.as_str().unwrap_or_default()));
        }
    }
    let restore = match before.as_str() {
        Some(t) => format!("document.documentElement.setAttribute('data-theme', '{t}'); arguments[0](true);"),
        None => "document.documentElement.removeAttribute('data-theme'); arguments[0](true);".to_owned(),
    };
    app.run_async(&restore).await.expect("restore the theme");
    assert!(failures.is_empty(), "text below WCAG contrast:\n{}", failures.join("\n"));
}

/// Runs axe-core (Deque's accessibility engine, installed by xtask:
/// `SEALBOX_AXE`) on the current screen against WCAG 2.0, 2.1 and 2.2 A
/// and AA, and fails naming each rule broken and where: names and labels
/// for screen readers, ARIA use, landmarks, contrast (a second, independent
/// measure beside [`assert_contrast`]).
pub async fn assert_accessible(app: &App, screen: &str) {
    let path = std::env::var("SEALBOX_AXE").expect("SEALBOX_AXE (cargo xtask test sets it)");
    let axe = std::fs::read_to_string(&path).expect("axe-core's script");
    let loaded = app
        .run_async(&format!("{axe}\n;arguments[arguments.length - 1](typeof window.axe)"))
        .await
        .expect("load axe-core");
    assert_eq!(loaded, serde_json::json!("object"), "axe-core did not load");
    const RUN: &str = "const done = arguments[arguments.length - 1]; \
         window.axe.run(document, { runOnly: { type: 'tag', \
           values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }) \
         .then(r => { document.getElementById('axe-probe')?.remove(); \
           done({ passes: r.passes.length, violations: r.violations.map(v => \
           v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')) }); }) \
         .catch(e => done({ error: String(e) }));";
    // The check can fail: a field nobody labelled must be caught.
    let probe = app
        .run_async(&format!(
            "const p = document.createElement('input'); p.id = 'axe-probe'; \
             (document.querySelector('main') ?? document.body).appendChild(p); {RUN}"
        ))
        .await
        .expect("run axe-core on the probe");
    let caught = probe["violations"].as_array().is_some_and(|v| {
        v.iter().any(|v| v.as_str().is_some_and(|v| v.starts_with("label ") && v.contains("#axe-probe")))
    });
    assert!(caught, "axe-core missed an unlabelled field on {screen}: {probe}");
    let report = app.run_async(RUN).await.expect("run axe-core");
    assert!(report.get("error").is_none(), "axe-core failed on {screen}: {report}");
    let passes = report["passes"].as_u64().expect("a count of rules passed");
    let violations: Vec<String> = report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    println!("e2e: axe-core on {screen}: {passes} rules passed, {} broken", violations.len());
    assert!(passes > 0, "axe-core checked nothing on {screen}");
    assert!(violations.is_empty(), "WCAG rules broken on {screen}:\n{}", violations.join("\n"));
}
