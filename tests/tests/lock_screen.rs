//! The app starts on its lock screen, served from the bundled UI, and the
//! typed `app_status` command round trip reaches the page.

use sealbox_e2e::App;

const LOCK_HEADING: &str = "Sealbox is locked — insert and touch your security key";

#[tokio::test]
async fn the_app_opens_on_the_lock_screen_with_its_status_from_the_shell() {
    let app = App::launch().await.expect("launch the app through tauri-driver");

    let heading = app.text("#lock-title").await.expect("the lock screen heading");
    println!("e2e: lock screen heading: {heading}");
    assert_eq!(heading, LOCK_HEADING);

    // `app_status` went UI -> shell -> core and back: the page shows its reply.
    let state = app.wait_attr("#app-status", "data-state", |s| s != "loading").await.expect("status");
    let line = app.text("#app-status").await.expect("status line");
    println!("e2e: app_status reached the page: {line}");
    assert_eq!(state, "ready", "app_status failed: {line}");
    assert_eq!(line, format!("Sealbox {} · locked", env!("CARGO_PKG_VERSION")));

    assert_eq!(app.client.title().await.expect("title"), "Sealbox");
    app.screenshot("lock-screen").await.expect("screenshot");
    sealbox_e2e::flows::assert_contrast(&app, "lock screen").await;
    app.close().await.expect("close");
}

#[tokio::test]
async fn commands_not_granted_to_the_window_are_refused() {
    let app = App::launch().await.expect("launch the app through tauri-driver");
    app.text("#lock-title").await.expect("the page loaded");

    let call = |cmd: &str, args: &str| {
        format!(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('{cmd}', {args})
               .then(v => done({{ ok: true, value: v }}), e => done({{ ok: false, error: String(e) }}));"
        )
    };

    let granted = app.run_async(&call("app_status", "{}")).await.expect("script ran");
    println!("e2e: app_status from a script: {granted}");
    assert_eq!(granted["ok"], true);
    assert_eq!(granted["value"]["lock"], "locked");

    for (cmd, args) in [
        ("plugin:window|set_title", "{ value: 'leak' }"),
        ("plugin:webview|print", "{}"),
        ("read_everything", "{}"),
    ] {
        let refused = app.run_async(&call(cmd, args)).await.expect("script ran");
        println!("e2e: {cmd} -> {refused}");
        assert_eq!(refused["ok"], false, "{cmd} must be refused");
    }
    assert_eq!(app.client.title().await.expect("title"), "Sealbox");
    app.close().await.expect("close");
}
