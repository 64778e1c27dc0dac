//! The lock screen: the only page shown while no data key is in memory. It
//! holds no patient data, so it is what the window shows after every lock.

use sealbox_model::api::{AppStatus, InboxView};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::app::Status;
use crate::ipc;
use crate::pages::enrol::EnrolForm;

/// The heading the lock screen always shows.
pub const LOCK_HEADING: &str = "Sealbox is locked — insert and touch your security key";

#[derive(Properties, PartialEq)]
pub struct LockProps {
    pub status: Status,
    pub on_unlocked: Callback<InboxView>,
    /// Enrolled here: the shell's new status.
    pub on_enrolled: Callback<AppStatus>,
}

fn lock_reason(key: &str) -> &'static str {
    match key {
        "idle" => "Locked after a period without activity.",
        "lock_now" => "Locked by you.",
        "screen_locked" => "Locked because the screen was locked.",
        "suspend" => "Locked because the computer went to sleep.",
        "key_removed" => "Locked because the security key was taken out.",
        "reauth_due" => "Locked: your practice asks for your key again after a set time (12 hours at most).",
        _ => "Locked.",
    }
}

#[function_component(LockPage)]
pub fn lock_page(props: &LockProps) -> Html {
    let pin = use_state(String::new);
    let just_enrolled = use_state(|| false);
    // A shared workstation: another clinician enrols with their own invite.
    let adding = use_state(|| false);
    let on_enrolled = {
        let (just, adding, done) = (just_enrolled.clone(), adding.clone(), props.on_enrolled.clone());
        Callback::from(move |s: AppStatus| {
            just.set(true);
            adding.set(false);
            done.emit(s);
        })
    };
    let on_add = {
        let adding = adding.clone();
        Callback::from(move |_: MouseEvent| adding.set(!*adding))
    };
    let shared = match &props.status {
        Status::Ready(s) if s.clinicians > 1 => Some(s.clinicians),
        _ => None,
    };
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    // Failed attempts on this screen (the form's data-failed).
    let failed = use_state(|| 0u32);
    // After repeated failures the shell makes the next attempt wait: the
    // screen counts down to it (ms since the epoch when it is allowed).
    let wait_until = use_state(|| None::<f64>);
    let now_ms = use_state(js_sys::Date::now);
    {
        let wait_until = wait_until.clone();
        let secs = match &props.status {
            Status::Ready(s) => s.unlock_wait_secs,
            _ => 0,
        };
        let now_ms = now_ms.clone();
        use_effect_with(secs, move |secs| {
            if *secs > 0 {
                // One reading of the clock for both: two could straddle a
                // millisecond and show one second more than the shell said.
                let now = js_sys::Date::now();
                now_ms.set(now);
                wait_until.set(Some(now + f64::from(*secs) * 1000.0));
            }
        });
    }
    let waiting = wait_until.map(|until| ((until - *now_ms) / 1000.0).ceil()).filter(|s| *s > 0.0);
    {
        let now_ms = now_ms.clone();
        use_effect_with(waiting.is_some(), move |counting| {
            let tick = Closure::<dyn Fn()>::new(move || now_ms.set(js_sys::Date::now()));
            let window = web_sys::window();
            let id = if *counting {
                window.as_ref().and_then(|w| {
                    w.set_interval_with_callback_and_timeout_and_arguments_0(
                        tick.as_ref().unchecked_ref(),
                        250,
                    )
                    .ok()
                })
            } else {
                None
            };
            move || {
                if let (Some(w), Some(id)) = (window, id) {
                    w.clear_interval_with_handle(id);
                }
                drop(tick);
            }
        });
    }
    let (state, line) = match &props.status {
        Status::Loading => ("loading", "Connecting to Sealbox…".to_owned()),
        Status::Ready(s) => ("ready", format!("Sealbox {} · {}", s.version, s.lock.label())),
        Status::Failed(e) => ("error", format!("Sealbox could not start: {e}")),
    };
    let enrolled = matches!(&props.status, Status::Ready(s) if s.enrolled);
    let reason = match &props.status {
        Status::Ready(s) => s.last_lock.as_deref().map(lock_reason),
        _ => None,
    };
    let on_input = {
        let pin = pin.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                pin.set(input.value());
            }
        })
    };
    let on_submit = {
        let (pin, busy, error, done) = (pin.clone(), busy.clone(), error.clone(), props.on_unlocked.clone());
        let (wait_until, now_ms, blocked) = (wait_until.clone(), now_ms.clone(), waiting.is_some());
        let failed = failed.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy || blocked {
                return;
            }
            busy.set(true);
            error.set(None);
            let (pin, busy, error, done) = ((*pin).clone(), busy.clone(), error.clone(), done.clone());
            let (wait_until, now_ms, failed) = (wait_until.clone(), now_ms.clone(), failed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match ipc::unlock(pin).await {
                    Ok(view) => done.emit(view),
                    Err(e) => {
                        error.set(Some(e.to_string()));
                        // A failure may have started a wait: count it down.
                        if let Ok(s) = ipc::app_status().await {
                            if s.unlock_wait_secs > 0 {
                                now_ms.set(js_sys::Date::now());
                                wait_until
                                    .set(Some(js_sys::Date::now() + f64::from(s.unlock_wait_secs) * 1000.0));
                            }
                        }
                        failed.set(*failed + 1);
                        busy.set(false);
                    }
                }
            });
        })
    };
    html! {
        <main class="lock" aria-labelledby="lock-title">
            <svg class="lock-mark" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
                <path d="M32 4 8 13v17c0 15 10 26 24 30 14-4 24-15 24-30V13L32 4z" />
                <rect x="22" y="28" width="20" height="16" rx="2" class="lock-body" />
                <path d="M26 28v-5a6 6 0 0 1 12 0v5" class="lock-shackle" />
            </svg>
            <h1 id="lock-title">{ LOCK_HEADING }</h1>
            <p class="lock-hint">{ "Your key unlocks this workstation for you alone. Sealbox locks itself when left." }</p>
            if let Some(reason) = reason {
                <p id="lock-reason" class="lock-hint">{ reason }</p>
            }
            if matches!(&props.status, Status::Ready(s) if s.weaker_key) {
                <p id="weaker-key" class="status" data-state="warning" role="note">
                    { "Weaker keyring mode: your security key has no hmac-secret, so this workstation's cache key is \
                       kept in the operating system's keyring. Your practice allows it; a key with hmac-secret is safer." }
                </p>
            }
            if matches!(&props.status, Status::Ready(s) if s.demo_key) {
                <p id="demo-key" class="status" data-state="warning" role="note">
                    { "Demo key: this workstation was enrolled with Sealbox's software key, kept in the operating \
                       system's keyring and guarded only by its PIN. For demonstrations and testing, never for patients." }
                </p>
            }
            if enrolled && *just_enrolled {
                <p id="enrolled-note" class="lock-hint" role="status">
                    { "Enrolled. Your practice admin approves this workstation; then unlock with your key." }
                </p>
            }
            if enrolled {
                <form id="unlock-form" class="unlock" onsubmit={on_submit} data-failed={failed.to_string()}>
                    <label for="pin">{ "Security key PIN" }</label>
                    <input id="pin" type="password" autocomplete="off" inputmode="numeric"
                        value={(*pin).clone()} oninput={on_input} disabled={*busy} />
                    <button id="unlock" type="submit" disabled={*busy || waiting.is_some()}>
                        { if *busy { "Touch your key…" } else { "Unlock" } }
                    </button>
                    if *busy {
                        { ipc::cancel_key_button("unlock-cancel") }
                    }
                </form>
                if let Some(secs) = waiting {
                    <p id="unlock-wait" class="status" data-state="warning" role="status" data-seconds={secs.to_string()}>
                        { format!("Too many failed attempts. You can try again in {secs} s.") }
                    </p>
                }
                if let Some(n) = shared {
                    <p id="shared-room" class="lock-hint" data-clinicians={n.to_string()}>
                        { format!("Shared by {n} clinicians: your own key opens your own inbox.") }
                    </p>
                }
                <button id="add-clinician" type="button" class="link" onclick={on_add} aria-expanded={adding.to_string()}>
                    { "Add a clinician to this workstation" }
                </button>
                if *adding {
                    <EnrolForm on_enrolled={on_enrolled.clone()} />
                }
            } else if matches!(&props.status, Status::Ready(_)) {
                <p id="not-enrolled" class="lock-hint">
                    { "This workstation is not enrolled yet. Ask your practice admin for an invite code." }
                </p>
                <EnrolForm {on_enrolled} />
            }
            if let Some(e) = &*error {
                <p id="unlock-error" class="status" data-state="error" role="alert">{ e }</p>
            }
            <p id="app-status" class="status" data-state={state} role="status" aria-live="polite">{ line }</p>
        </main>
    }
}
