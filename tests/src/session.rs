//! A WebDriver session on the running app, with the waits and reads that
//! scenarios need.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Instant;

use crate::{env_path, Driver, E2eError, DEFAULT_TIMEOUT};

/// Where the document stood at one moment ([`App::mark`]).
pub struct Mark(Option<(String, u64)>);

/// The Sealbox app under test, in its real window.
pub struct App {
    pub client: Client,
    driver: Driver,
    out_dir: PathBuf,
}

impl App {
    /// Launches the app named by `SEALBOX_APP`; screenshots go to `SEALBOX_E2E_OUT`.
    pub async fn launch() -> Result<Self, E2eError> {
        let app = env_path("SEALBOX_APP")?;
        let out_dir = env_path("SEALBOX_E2E_OUT")?;
        Self::launch_with(&app, out_dir).await
    }

    /// Launches the app with extra environment (e.g. `SEALBOX_DATA_DIR`).
    pub async fn launch_env(envs: &[(&str, String)]) -> Result<Self, E2eError> {
        let app = env_path("SEALBOX_APP")?;
        let out_dir = env_path("SEALBOX_E2E_OUT")?;
        Self::launch_inner(&app, out_dir, envs).await
    }

    /// Launches a given app binary with extra environment; screenshots go to `out_dir`.
    pub async fn launch_env_to(
        app: &std::path::Path,
        out_dir: PathBuf,
        envs: &[(&str, String)],
    ) -> Result<Self, E2eError> {
        Self::launch_inner(app, out_dir, envs).await
    }

    /// Opens `url` in headless Chromium at a phone's width (360 px), through
    /// chromedriver: the patient web app. Screenshots go to `SEALBOX_E2E_OUT`.
    pub async fn browser(url: &str) -> Result<Self, E2eError> {
        let out_dir = env_path("SEALBOX_E2E_OUT")?;
        let driver = Driver::chromedriver().await?;
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                // The machine's network is closed: no background calls.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--disable-quic"],
                // A desktop window is at least 500 px wide: a phone's
                // screen is emulated (its width, touch and user agent).
                "mobileEmulation": { "deviceMetrics": { "width": 360, "height": 780, "pixelRatio": 2.0, "touch": true } },
            }),
        );
        let client =
            ClientBuilder::new(HttpConnector::new()).capabilities(caps).connect(&driver.url()).await?;
        client.goto(url).await?;
        println!("e2e: Chromium session open at a phone's width");
        Ok(App { client, driver, out_dir })
    }

    /// Launches a given app binary.
    pub async fn launch_with(app: &std::path::Path, out_dir: PathBuf) -> Result<Self, E2eError> {
        Self::launch_inner(app, out_dir, &[]).await
    }

    async fn launch_inner(
        app: &std::path::Path,
        out_dir: PathBuf,
        envs: &[(&str, String)],
    ) -> Result<Self, E2eError> {
        if !app.is_file() {
            return Err(E2eError::MissingApp(app.to_path_buf()));
        }
        let driver = Driver::start_with_env(envs).await?;
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert("tauri:options".into(), serde_json::json!({ "application": app.to_string_lossy() }));
        // `Driver::start_with_env` returned once both tauri-driver and
        // WebKitWebDriver listen, so the first session request is the one.
        let client =
            ClientBuilder::new(HttpConnector::new()).capabilities(caps).connect(&driver.url()).await?;
        let session = client.session_id().await?.unwrap_or_default();
        println!("e2e: WebDriver session {session} open on {} via tauri-driver", app.display());
        Ok(App { client, driver, out_dir })
    }

    /// Waits for an element and returns its text.
    pub async fn text(&self, css: &str) -> Result<String, E2eError> {
        self.text_within(css, DEFAULT_TIMEOUT).await
    }

    /// Waits up to `timeout` for an element and returns its text.
    pub async fn text_within(&self, css: &str, timeout: Duration) -> Result<String, E2eError> {
        let deadline = Instant::now() + timeout;
        loop {
            let el = self.element(css, deadline, timeout).await?;
            match el.text().await {
                Ok(text) => return Ok(text),
                // The page was replaced between finding and reading: find it again.
                Err(e) if e.is_stale_element_reference() || e.is_no_such_frame() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits until `deadline` for an element matching `css`, looking again
    /// at every change to the document. A lookup the page's replacement cut
    /// short (a lock reloads it: WebKitWebDriver's "no such frame", or a
    /// stale element) is a change, not a failure: the next look is in the
    /// new page. `timeout` is what the error reports.
    async fn element(
        &self,
        css: &str,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<fantoccini::elements::Element, E2eError> {
        loop {
            let mark = self.mark().await;
            match self.client.find(Locator::Css(css)).await {
                Ok(el) => return Ok(el),
                Err(e)
                    if e.is_no_such_element() || e.is_no_such_frame() || e.is_stale_element_reference() => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() >= deadline {
                self.keep_evidence(css).await;
                return Err(E2eError::Timeout { what: css.to_owned(), timeout });
            }
            self.changed_since(&mark, deadline.into_std()).await?;
        }
    }

    /// Waits until an element's attribute satisfies `ok`, and returns it.
    pub async fn wait_attr(
        &self,
        css: &str,
        attr: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, E2eError> {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let mut last = None;
        loop {
            let mark = self.mark().await;
            match self.client.find(Locator::Css(css)).await {
                Ok(el) => match el.attr(attr).await {
                    Ok(value) => {
                        last = value;
                        if let Some(v) = last.as_deref().filter(|v| ok(v)) {
                            return Ok(v.to_owned());
                        }
                    }
                    // Replaced between finding and reading (the UI rendered
                    // it anew, or a lock reloaded the page): the document
                    // changed, so look again at once, in the new one.
                    Err(e)
                        if (e.is_stale_element_reference() || e.is_no_such_frame())
                            && Instant::now() < deadline =>
                    {
                        continue
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e)
                    if e.is_no_such_element() || e.is_no_such_frame() || e.is_stale_element_reference() => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() >= deadline {
                self.keep_evidence(css).await;
                return Err(E2eError::Timeout {
                    what: format!("{css}[{attr}] (last value {last:?})"),
                    timeout: DEFAULT_TIMEOUT,
                });
            }
            self.changed_since(&mark, deadline.into_std()).await?;
        }
    }

    /// Waits in the page until the JavaScript expression `condition` is
    /// true (checked again at every change to the document, through a
    /// MutationObserver: no polling) or `deadline` passes; returns whether
    /// it held.
    pub async fn wait_for_js(&self, condition: &str, deadline: std::time::Instant) -> Result<bool, E2eError> {
        self.observe(condition, deadline).await
    }

    /// Where the document stands now, to wait for a change after it with
    /// [`App::changed_since`]. Take it *before* reading what you wait on: a
    /// change between the reading and the wait is then still seen (a wait
    /// that began watching only after the reading would miss it, and sleep
    /// through an offer shown and withdrawn in the gap).
    pub async fn mark(&self) -> Mark {
        const SCRIPT: &str = "let c = window.__sealboxChanges;
             if (!c) {
               c = { page: String(Math.random()) + String(Date.now()), n: 0 };
               window.__sealboxChanges = c;
               new MutationObserver(() => { c.n += 1; }).observe(document.documentElement,
                 { subtree: true, childList: true, attributes: true, characterData: true });
             }
             return [c.page, c.n];";
        let read = self.client.execute(SCRIPT, vec![]).await.ok();
        Mark(read.and_then(|v| serde_json::from_value::<(String, u64)>(v).ok()))
    }

    /// Waits until the document has changed since `mark` (at once if it
    /// already has, or the page was replaced), or `deadline` passes.
    pub async fn changed_since(&self, mark: &Mark, deadline: std::time::Instant) -> Result<(), E2eError> {
        const SCRIPT: &str = "const [page, n, ms, done] = arguments;
             const c = window.__sealboxChanges;
             if (!c || c.page !== page || c.n !== n) { done(true); return; }
             let timer;
             const obs = new MutationObserver(() => { obs.disconnect(); clearTimeout(timer); done(true); });
             obs.observe(document.documentElement,
               { subtree: true, childList: true, attributes: true, characterData: true });
             timer = setTimeout(() => { obs.disconnect(); done(c.n !== n); }, ms);";
        let Some((page, n)) = &mark.0 else { return Ok(()) };
        let deadline = Instant::from_std(deadline);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Within WebDriver's own 30 s script timeout; longer waits go round again.
            let ms = left.min(Duration::from_secs(20)).as_millis() as u64;
            match self.client.execute_async(SCRIPT, vec![page.as_str().into(), (*n).into(), ms.into()]).await
            {
                Ok(v) if v.as_bool() == Some(true) => return Ok(()),
                Ok(_) if Instant::now() >= deadline => return Ok(()),
                Ok(_) => {}
                // The script's page was replaced (a lock reloads it): a change.
                Err(_) => return Ok(()),
            }
        }
    }

    async fn observe(&self, condition: &str, deadline: std::time::Instant) -> Result<bool, E2eError> {
        let deadline = Instant::from_std(deadline);
        // The condition is checked and the observer installed in one turn of
        // the page's event loop: no change can fall between them.
        let script = format!(
            "const [ms, done] = arguments;
             const check = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
             if (check()) {{ done(true); return; }}
             let timer;
             const obs = new MutationObserver(() => {{
               if (check()) {{ obs.disconnect(); clearTimeout(timer); done(true); }}
             }});
             obs.observe(document.documentElement, {{ subtree: true, childList: true, attributes: true, characterData: true }});
             timer = setTimeout(() => {{ obs.disconnect(); done(check()); }}, ms);"
        );
        let mut failed = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Within WebDriver's own 30 s script timeout; longer waits go round again.
            let ms = left.min(Duration::from_secs(20)).as_millis() as u64;
            match self.client.execute_async(&script, vec![ms.into()]).await {
                Ok(v) if v.as_bool() == Some(true) => return Ok(true),
                Ok(_) if Instant::now() >= deadline => return Ok(false),
                Ok(_) => failed = 0,
                // The page was replaced (a lock reloads it): the next round
                // checks the new page.
                Err(e) if Instant::now() >= deadline || failed >= 20 => return Err(e.into()),
                Err(_) => failed += 1,
            }
        }
    }

    /// Runs an async script in the page; `done(value)` is the last argument.
    pub async fn run_async(&self, script: &str) -> Result<serde_json::Value, E2eError> {
        Ok(self.client.execute_async(script, vec![]).await?)
    }

    /// Saves a PNG of the window's content as `<out>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, E2eError> {
        // Let the compositor paint what the DOM already holds: two animation
        // frames, so the capture is not of the page before its first paint.
        self.run_async("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));")
            .await?;
        let png = self.client.screenshot().await?;
        std::fs::create_dir_all(&self.out_dir)
            .map_err(|source| E2eError::Write { path: self.out_dir.clone(), source })?;
        let path = self.out_dir.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|source| E2eError::Write { path: path.clone(), source })?;
        println!("e2e: screenshot {}", path.display());
        Ok(path)
    }

    /// After a failed wait: saves what the window showed and its DOM under
    /// `<out>/failed-<what>.{png,html}`, best effort, so a red CI run says why.
    async fn keep_evidence(&self, what: &str) {
        let name: String = what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let _ = self.screenshot(&format!("failed-{name}")).await;
        if let Ok(html) = self.client.source().await {
            let path = self.out_dir.join(format!("failed-{name}.html"));
            if std::fs::write(&path, html).is_ok() {
                println!("e2e: page source {}", path.display());
            }
        }
    }

    /// Types `text` into the element (real key events through WebDriver).
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), E2eError> {
        let el = self.element(css, Instant::now() + DEFAULT_TIMEOUT, DEFAULT_TIMEOUT).await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Sends keys to whatever has focus (real key events, W3C actions).
    pub async fn type_into_focused(&self, text: &str) -> Result<(), E2eError> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".to_owned());
        for c in text.chars() {
            keys = keys.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) -> Result<(), E2eError> {
        let selector = serde_json::to_string(css).unwrap_or_default();
        let condition = format!("document.querySelector({selector}) === null");
        if self.wait_for_js(&condition, std::time::Instant::now() + DEFAULT_TIMEOUT).await? {
            Ok(())
        } else {
            Err(E2eError::Timeout { what: format!("{css} to go"), timeout: DEFAULT_TIMEOUT })
        }
    }

    /// Scrolls the element into view and clicks it. An `<option>` has no
    /// box of its own to scroll to: its `<select>` is brought into view (else
    /// WebKit leaves it where it is, perhaps under the sticky footer, and
    /// the click lands on the footer).
    pub async fn click(&self, css: &str) -> Result<(), E2eError> {
        let el = self.element(css, Instant::now() + DEFAULT_TIMEOUT, DEFAULT_TIMEOUT).await?;
        let arg = serde_json::to_value(&el)
            .map_err(|e| E2eError::Timeout { what: e.to_string(), timeout: Duration::ZERO })?;
        self.client
            .execute(
                "(arguments[0].closest('select') ?? arguments[0]).scrollIntoView({ block: 'center' });",
                vec![arg],
            )
            .await?;
        el.click().await?;
        Ok(())
    }

    /// Texts of every element matching `css` (no wait), as one reading of
    /// the document: an element the UI renders anew between the lookup and
    /// the reading (stale) means the document changed, and it is read again.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>, E2eError> {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        'read: loop {
            let mut out = Vec::new();
            for el in self.client.find_all(Locator::Css(css)).await? {
                match el.text().await {
                    Ok(t) => out.push(t),
                    Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => continue 'read,
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(out);
        }
    }

    /// An attribute of every element matching `css` (no wait), read in the
    /// page in one script: one snapshot of the document, never stale.
    pub async fn attrs(&self, css: &str, attr: &str) -> Result<Vec<String>, E2eError> {
        let values = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute(arguments[1]) ?? '');",
                vec![css.into(), attr.into()],
            )
            .await?;
        let values = values.as_array().ok_or(E2eError::Script("a list of attribute values"))?;
        values.iter().map(|v| v.as_str().map(str::to_owned).ok_or(E2eError::Script("a string"))).collect()
    }

    /// Presses Ctrl + `key` as real key events (W3C actions).
    pub async fn press_ctrl(&self, key: char) -> Result<(), E2eError> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        const CONTROL: char = '\u{e009}';
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: CONTROL })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: CONTROL });
        self.client.perform_actions(keys).await?;
        Ok(())
    }

    /// The page's HTML as it is now.
    pub async fn source(&self) -> Result<String, E2eError> {
        Ok(self.client.source().await?)
    }

    /// Ends the session and the driver (which closes the app).
    pub async fn close(self) -> Result<(), E2eError> {
        let closed = self.client.close().await;
        self.driver.stop().await?;
        closed?;
        Ok(())
    }
}
