//! The clinician's first minute, in the real app against a real hub: a
//! wrong PIN is refused with a clear message; the right one unlocks and the
//! inbox lists the simulator's threads urgent first; Ctrl+L locks and the
//! page then holds none of the patient names it showed; the OS screen lock
//! locks it at once; left alone, it locks itself at the practice's idle
//! limit.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::time::{Duration, Instant};

use sealbox_e2e::flows::{self, assert_no_names, unlock};
use sealbox_e2e::practice::{Practice, HOSTILE_TEXT};
use sealbox_e2e::App;
use sealbox_model::hub_api::PracticePolicy;

const LOCK_HEADING: &str = "Sealbox is locked — insert and touch your security key";
/// The shortest idle limit a practice's policy allows.
const IDLE_SECS: u64 = 30;
/// The shortest re-authentication interval a practice's policy allows.
const REAUTH_SECS: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_shows_the_inbox_and_every_lock_leaves_no_patient_data_in_the_page() {
    let practice = Practice::start(20, 60).await.expect("a practice with patients' messages");
    // The practice's policy, served by the hub, shortens the idle lock.
    let idle_policy = PracticePolicy { max_idle_secs: IDLE_SECS as u32, ..PracticePolicy::default() };
    practice.set_policy(idle_policy).expect("policy");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    assert_eq!(app.text("#lock-title").await.expect("lock screen"), LOCK_HEADING);
    // Enrolled with the demo's software key: the lock screen says so.
    let demo = app.text("#demo-key").await.expect("the demo key is named");
    assert!(demo.starts_with("Demo key:") && demo.contains("never for patients"), "{demo}");

    // A wrong PIN: refused, said plainly, still locked.
    app.type_into("#pin", "0000").await.expect("type");
    app.click("#unlock").await.expect("click");
    let error = app.text("#unlock-error").await.expect("an error is shown");
    println!("e2e: wrong PIN -> {error}");
    assert_eq!(error, "the security key's PIN was not accepted");

    let (names, _, _) = unlock(&app, practice.threads).await;
    assert_eq!(app.client.title().await.expect("title"), "Sealbox");
    app.screenshot("inbox").await.expect("screenshot");
    flows::assert_contrast(&app, "inbox").await;

    // By keyboard: j moves to the second row, Enter opens it, Esc returns.
    let threads = app.attrs("#inbox tr.row", "data-thread").await.expect("thread ids");
    app.type_into_focused("j").await.expect("j");
    app.type_into_focused("\u{e007}").await.expect("Enter");
    let opened = app.wait_attr("#thread", "data-thread", |_| true).await.expect("a thread opens");
    assert_eq!(opened, threads[1], "j then Enter opens the second thread");
    app.text("#thread .message .meta").await.expect("a message");
    app.type_into_focused("\u{e00c}").await.expect("Esc");
    app.wait_gone("#thread").await.expect("Esc closes the thread");

    // A message of markup and script shows as text; nothing runs.
    app.click(&format!("#inbox tr[data-thread='{}'] .patient", practice.hostile_thread))
        .await
        .expect("open it");
    let body = app.text("#thread .message .body").await.expect("the message body");
    assert_eq!(body, HOSTILE_TEXT.split_whitespace().collect::<Vec<_>>().join(" "));
    let ran = app
        .run_async("const done = arguments[arguments.length - 1]; done({ pwned: window.__sealboxPwned === undefined ? null : window.__sealboxPwned, imgs: document.querySelectorAll('#thread img, #thread script, #thread b').length });")
        .await
        .expect("probe");
    println!("e2e: hostile message -> {ran}");
    assert_eq!(ran["pwned"], serde_json::Value::Null, "no script ran");
    assert_eq!(ran["imgs"], 0, "no element was made from the message");
    app.screenshot("thread").await.expect("screenshot");
    flows::assert_contrast(&app, "thread").await;

    // c claims it: in progress here at once, and at the hub once sent.
    let before = practice.hub_thread_state(&practice.hostile_thread).expect("hub state");
    assert_eq!(before.0, "new");
    let mut changes = practice.hub_changes();
    app.type_into_focused("c").await.expect("c");
    app.wait_attr("#thread-state", "data-state", |s| s == "in_progress").await.expect("claimed here");
    let deadline = Instant::now() + Duration::from_secs(20);
    let at_hub = loop {
        let now = practice.hub_thread_state(&practice.hostile_thread).expect("hub state");
        if now.0 != "new" {
            break now;
        }
        changes.next(deadline).await.expect("the claim reaches the hub");
    };
    println!("e2e: claim at the hub: {at_hub:?}");
    assert_eq!(at_hub.0, "in_progress", "the claim reached the hub");
    assert!(at_hub.1.is_some_and(|who| who.starts_with("staff-")), "changed by the GP");
    app.wait_attr("#thread-holder", "data-holder", |h| h == "You")
        .await
        .expect("the thread says who holds it");

    // Who did what: the thread lists the practice's audit trail, with this
    // clinician's views and claim (pushed from this workstation first).
    app.wait_attr("#thread-activity", "data-source", |s| s == "practice")
        .await
        .expect("the thread's activity");
    let deadline = Instant::now() + Duration::from_secs(20);
    let lines = loop {
        let mark = app.mark().await;
        let lines = app.texts("#thread-activity li").await.expect("activity lines");
        let done = lines.iter().any(|l| l.contains("You viewed the message of "))
            && lines.iter().any(|l| l.contains("You claimed the thread"));
        if done || Instant::now() > deadline {
            break lines;
        }
        app.changed_since(&mark, deadline).await.expect("the page");
    };
    println!("e2e: thread activity: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("You viewed the message of ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("You claimed the thread")), "{lines:?}");

    // My activity (a on the inbox): this clinician's own events, newest first.
    app.type_into_focused("\u{e00c}").await.expect("Esc");
    app.wait_gone("#thread").await.expect("back to the inbox");
    app.type_into_focused("a").await.expect("a");
    app.wait_attr("#my-activity", "data-count", |n| n != "0").await.expect("my activity");
    let mine = app.texts("#my-activity li").await.expect("my activity lines");
    println!("e2e: my activity: {} lines, newest {:?}", mine.len(), mine.first());
    assert!(mine.iter().any(|l| l.contains("You unlocked Sealbox")), "{mine:?}");
    assert!(mine.iter().any(|l| l.contains("You claimed the thread")), "{mine:?}");
    // ...and the hub's record of their sign-ins on every device.
    app.wait_attr("#sign-ins", "data-count", |n| n != "0").await.expect("sign-ins");
    app.wait_attr("#sign-ins", "data-source", |s| s == "practice hub").await.expect("from the hub");
    let sign_ins = app.texts("#sign-ins li").await.expect("sign-in lines");
    println!("e2e: sign-ins: {sign_ins:?}");
    assert!(sign_ins[0].contains("You signed in on this workstation"), "newest first: {sign_ins:?}");
    assert!(sign_ins.iter().any(|l| l.contains("You enrolled a security key")), "{sign_ins:?}");
    app.screenshot("my-activity").await.expect("screenshot");
    flows::assert_contrast(&app, "my activity").await;
    app.type_into_focused("\u{e00c}").await.expect("Esc");
    app.wait_gone("#my-activity").await.expect("back to the inbox");

    // The workload (w): per queue and per person, due today and breached;
    // the GP holds the thread they claimed, shown as "You", first.
    app.type_into_focused("w").await.expect("w");
    app.wait_attr("#workload-queues", "data-count", |n| n != "0").await.expect("the workload");
    let queues = app.attrs("#workload-queues tbody tr", "data-label").await.expect("queue rows");
    assert!(queues.iter().any(|q| q == "GPs' queue"), "{queues:?}");
    let people = app.attrs("#workload-people tbody tr", "data-label").await.expect("people rows");
    assert_eq!(people.first().map(String::as_str), Some("You"), "{people:?}");
    let holding = app.attrs("#my-day", "data-holding").await.expect("my day");
    assert_eq!(holding, vec!["1".to_owned()], "the thread claimed above");
    println!(
        "e2e: workload: queues {queues:?}, people {people:?}, {}",
        app.text("#my-day").await.expect("my day")
    );
    app.screenshot("workload").await.expect("screenshot");
    flows::assert_contrast(&app, "workload").await;
    app.type_into_focused("\u{e00c}").await.expect("Esc");
    app.wait_gone("#workload").await.expect("back to the inbox");

    // Settings (s) and the list of keys (?), measured as every screen is.
    app.type_into_focused("s").await.expect("s");
    app.text("#settings-title").await.expect("settings open");
    // The practice key the GP's workstation pinned from its invite, for two
    // people to compare by eye: the admin's.
    let fingerprint = app.text("#practice-fingerprint").await.expect("the practice key's fingerprint");
    assert_eq!(fingerprint, practice.practice_fingerprint, "the admin's practice key");
    // About: the workspace's one version, the hub's `--version` too.
    let about = app.text("#about-version").await.expect("About names the version");
    assert_eq!(about, format!("Sealbox {}", env!("CARGO_PKG_VERSION")));
    app.screenshot("settings").await.expect("screenshot");
    flows::assert_contrast(&app, "settings").await;
    app.type_into_focused("\u{e00c}").await.expect("Esc");
    app.wait_gone("#settings").await.expect("back to the inbox");
    app.type_into_focused("?").await.expect("?");
    app.text("#help-title").await.expect("the keys are listed");
    flows::assert_contrast(&app, "keys").await;
    app.type_into_focused("?").await.expect("? again");
    app.wait_gone("#help").await.expect("the list of keys closes");

    // The queue chips: urgent only, then what this clinician holds, then all.
    let all_rows = app.attrs("#inbox tr.row", "data-thread").await.expect("rows").len();
    app.click("#urgent-only").await.expect("urgent only");
    app.wait_attr("#urgent-only", "aria-pressed", |p| p == "true").await.expect("pressed");
    let urgent =
        app.wait_attr("#inbox", "data-count", |n| n != all_rows.to_string()).await.expect("filtered");
    let priorities = app.attrs("#inbox tr.row", "data-priority").await.expect("priorities");
    println!("e2e: urgent only -> {urgent} of {all_rows} threads");
    assert!(!priorities.is_empty() && priorities.iter().all(|p| p == "urgent"), "{priorities:?}");
    // The heading's count is the cache's, whatever rows are loaded.
    assert_eq!(app.text("#urgent-count").await.expect("the urgent count"), format!("{urgent} urgent"));
    // The selected (first, urgent) row's red flags are written out in full
    // under the list, as its row shows them cut to one line.
    let flags = app.text("#selected-flags li").await.expect("the selected row's flags in full");
    let row_flags = app.text("#inbox tr.row.selected .flags").await.expect("the row's flags");
    assert!(!flags.trim().is_empty() && row_flags.contains(flags.trim()), "{flags} / {row_flags}");
    app.click("#urgent-only").await.expect("urgent only off");
    app.click("#queue-mine").await.expect("mine");
    app.wait_attr("#inbox", "data-count", |n| n == "1").await.expect("the one claimed thread");
    let mine = app.attrs("#inbox tr.row", "data-thread").await.expect("mine");
    assert_eq!(mine, vec![practice.hostile_thread.clone()], "Mine: the thread this clinician claimed");
    app.click("#queue-all").await.expect("all queues");
    app.wait_attr("#inbox", "data-count", |n| n == all_rows.to_string()).await.expect("every thread again");
    // The state filter: the one thread in progress (claimed above); then
    // every open state again.
    app.click("#state option[value='in_progress']").await.expect("in progress");
    app.wait_attr("#inbox", "data-count", |n| n == "1").await.expect("only the claimed thread");
    let shown = app.attrs("#inbox tr.row", "data-thread").await.expect("rows");
    assert_eq!(shown, vec![practice.hostile_thread.clone()]);
    app.click("#state option[value='']").await.expect("every open state");
    app.wait_attr("#inbox", "data-count", |n| n == all_rows.to_string()).await.expect("every thread again");

    // Ctrl+L: the shell locks and reloads the page onto the lock screen.
    app.press_ctrl('l').await.expect("Ctrl+L");
    let reason = app.text("#lock-reason").await.expect("the lock page says why");
    assert_eq!(reason, "Locked by you.");
    assert_eq!(app.text("#lock-title").await.expect("lock screen"), LOCK_HEADING);
    assert_no_names(&app.source().await.expect("page source"), &names);
    assert_eq!(app.client.title().await.expect("title"), "Sealbox");
    app.screenshot("locked-by-user").await.expect("screenshot");

    // The OS screen locks (a screen saver's signal on the session bus): Sealbox locks at once.
    let (names, _, _) = unlock(&app, practice.threads).await;
    let sent = std::process::Command::new("dbus-send")
        .args(["--session", "--type=signal", "/org/freedesktop/ScreenSaver"])
        .args(["org.freedesktop.ScreenSaver.ActiveChanged", "boolean:true"])
        .status()
        .expect("dbus-send");
    assert!(sent.success());
    let reason = app.text("#lock-reason").await.expect("the lock page says why");
    assert_eq!(reason, "Locked because the screen was locked.");
    assert_no_names(&app.source().await.expect("page source"), &names);

    // Typing a reply is work: keys a text box keeps from the thread's
    // shortcuts still hold the idle lock off, past its limit, and Ctrl+L
    // typed there still locks.
    let (names, _, _) = unlock(&app, practice.threads).await;
    let first = app.attrs("#inbox tr.row", "data-thread").await.expect("rows").remove(0);
    app.click(&format!("#inbox tr[data-thread='{first}'] .patient")).await.expect("open a thread");
    app.click("#reply-text").await.expect("the reply box");
    let typing = Instant::now();
    let mut typed = 0;
    while typing.elapsed() < Duration::from_secs(IDLE_SECS + 10) {
        app.type_into_focused("x").await.expect("a key in the reply box");
        typed += 1;
        let locked = app
            .wait_for_js(
                "document.querySelector('#lock-reason') !== null",
                Instant::now() + Duration::from_secs(2),
            )
            .await
            .expect("watch for the lock page");
        assert!(!locked, "locked while typing a reply, {:?} and {typed} keys in", typing.elapsed());
    }
    println!("e2e: typing a reply for {:?} ({typed} keys): not locked", typing.elapsed());
    app.press_ctrl('l').await.expect("Ctrl+L in the reply box");
    assert_eq!(app.text("#lock-reason").await.expect("locked"), "Locked by you.");
    assert_no_names(&app.source().await.expect("page source"), &names);

    // The half-typed reply was kept, sealed in the cache: after the unlock
    // it is back in the box. A quick reply chosen then goes in after it
    // instead of replacing it.
    let (names, _, _) = unlock(&app, practice.threads).await;
    app.click(&format!("#inbox tr[data-thread='{first}'] .patient")).await.expect("open the thread again");
    let typed_text = "x".repeat(typed);
    let kept = app
        .wait_for_js(
            &format!("document.querySelector('#reply-text').value === '{typed_text}'"),
            Instant::now() + Duration::from_secs(10),
        )
        .await
        .expect("read the reply box");
    assert!(kept, "the draft of {typed} keys survives the lock");
    app.click("#template option[value='book_appointment']").await.expect("choose a quick reply");
    let value =
        app.run_async("arguments[0](document.querySelector('#reply-text').value)").await.expect("value");
    let value = value.as_str().unwrap_or_default().to_owned();
    println!("e2e: the draft kept across the lock, then a quick reply chosen: {} characters", value.len());
    assert!(value.starts_with(&format!("{typed_text} Dear ")), "the template goes in after what was typed");
    assert!(value.contains("We would like to see you about this."), "the template's text");
    app.press_ctrl('l').await.expect("Ctrl+L");
    assert_eq!(app.text("#lock-reason").await.expect("locked"), "Locked by you.");
    assert_no_names(&app.source().await.expect("page source"), &names);

    // Unlock again, then leave it: it locks itself at the idle limit.
    let (names, clicked, shown) = unlock(&app, practice.threads).await;
    let reason = app
        .text_within("#lock-reason", Duration::from_secs(IDLE_SECS + 20))
        .await
        .expect("the app locks itself when left");
    let after = clicked.elapsed();
    let limit = Duration::from_secs(IDLE_SECS);
    // The deadline lies between click + limit and shown + limit.
    let latest = after.saturating_sub(limit);
    let earliest = shown.elapsed().saturating_sub(limit);
    println!(
        "e2e: idle lock seen {after:?} after the unlock click; idle deadline -> locked page: \
         between {} ms and {} ms (each bound includes the 50 ms poll)",
        earliest.as_millis(),
        latest.as_millis()
    );
    assert_eq!(reason, "Locked after a period without activity.");
    // The unlock came after the click, so an idle lock before the limit
    // would show here as less than the limit.
    assert!(after >= Duration::from_secs(IDLE_SECS), "locked before the limit: {after:?}");
    assert_no_names(&app.source().await.expect("page source"), &names);
    app.screenshot("locked-idle").await.expect("screenshot");

    // The practice asks for the key again every 30 s (12 hours at most): a
    // clinician busy all along is still locked out at that limit.
    let reauth_policy = PracticePolicy { reauth_secs: REAUTH_SECS as u32, ..PracticePolicy::default() };
    practice.set_policy(reauth_policy).expect("policy");
    let (names, clicked, _) = unlock(&app, practice.threads).await;
    let deadline = Instant::now() + Duration::from_secs(REAUTH_SECS + 20);
    let mut presses = 0;
    let reason = loop {
        if let Some(reason) = app.texts("#lock-reason").await.expect("lock reason").pop() {
            break reason;
        }
        assert!(Instant::now() < deadline, "no re-authentication lock");
        // A clinician at work: a key, then up to two seconds watching for
        // the lock page before the next one.
        app.type_into_focused(if presses % 2 == 0 { "j" } else { "k" }).await.expect("j/k");
        presses += 1;
        let _locked = app
            .wait_for_js(
                "document.querySelector('#lock-reason') !== null",
                Instant::now() + Duration::from_secs(2),
            )
            .await;
    };
    let after = clicked.elapsed();
    println!(
        "e2e: re-authentication lock {after:?} after the unlock click, {presses} keys pressed meanwhile"
    );
    assert_eq!(reason, "Locked: your practice asks for your key again after a set time (12 hours at most).");
    assert!(after >= Duration::from_secs(REAUTH_SECS), "locked before the limit: {after:?}");
    assert!(presses >= 10, "input all along: {presses} keys");
    assert_no_names(&app.source().await.expect("page source"), &names);

    // Five wrong PINs in a row: the next attempt must wait (30 s), and the
    // lock screen counts down to it with Unlock disabled.
    for attempt in 1..=5 {
        app.type_into("#pin", "0000").await.expect("type");
        app.click("#unlock").await.expect("click");
        app.wait_attr("#unlock-form", "data-failed", |n| n == attempt.to_string()).await.expect("refused");
    }
    let first: u32 = app
        .wait_attr("#unlock-wait", "data-seconds", |_| true)
        .await
        .expect("a countdown")
        .parse()
        .expect("seconds");
    println!(
        "e2e: after five wrong PINs: wait {first} s, {:?}",
        app.texts("#unlock-wait").await.expect("text")
    );
    assert!((1..=30).contains(&first), "{first}");
    assert_eq!(app.texts("#unlock:disabled").await.expect("button").len(), 1, "Unlock is disabled meanwhile");
    app.wait_attr("#unlock-wait", "data-seconds", |s| s.parse::<u32>().is_ok_and(|s| s < first))
        .await
        .expect("counting down");
    app.close().await.expect("close");
    drop(practice);
}
