//! Signing out after inactivity: the page forgets what it showed and the
//! channel's keys after 15 minutes without a key press, tap or click, or
//! sooner when the practice's policy says (`GET /v1/patient/policy`) or the
//! link asks (`?idle=<seconds>` can only shorten it:
//! `PatientPolicy::sign_out_ms`).
//! The opened channel's screen owns the watch ([`use_idle_sign_out`]): one
//! timer, set again at every input, ends with the screen.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// The sign-out the page's query string (with its `?`) asks for, in seconds.
pub fn asked_secs(query: &str) -> Option<u32> {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("idle="))
        .and_then(|s| s.parse::<u32>().ok())
}

/// Calls `on_idle` once the page has had no input for `limit_ms` (set
/// again, from then, when the limit changes).
#[hook]
pub fn use_idle_sign_out(limit_ms: u32, on_idle: Callback<()>) {
    use_effect_with(limit_ms, move |&limit_ms| {
        let timer: Rc<RefCell<Option<Timeout>>> = Rc::new(RefCell::new(None));
        let arm = {
            let timer = timer.clone();
            Rc::new(move || {
                let on_idle = on_idle.clone();
                // Emitted from a task of its own: the screen (and this
                // timer) goes with it, never inside the timer's callback.
                let fire = move || wasm_bindgen_futures::spawn_local(async move { on_idle.emit(()) });
                *timer.borrow_mut() = Some(Timeout::new(limit_ms, fire));
            })
        };
        arm();
        let listeners: Vec<EventListener> = web_sys::window()
            .map(|window| {
                ["keydown", "pointerdown", "input", "scroll"]
                    .into_iter()
                    .map(|kind| {
                        let arm = arm.clone();
                        EventListener::new(&window, kind, move |_| arm())
                    })
                    .collect()
            })
            .unwrap_or_default();
        move || {
            drop(listeners);
            timer.borrow_mut().take();
        }
    });
}
