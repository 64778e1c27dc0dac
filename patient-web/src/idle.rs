//! Signing out after inactivity: the page forgets what it showed and the
//! channel's keys after 15 minutes without a key press, tap or click (or
//! sooner, when the link asks: `?idle=<seconds>` can only shorten it).
//! The opened channel's screen owns the watch ([`use_idle_sign_out`]): one
//! timer, set again at every input, ends with the screen.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// The longest a page stays open untouched.
pub const LIMIT_MS: u32 = 15 * 60 * 1000;

/// The limit for a page whose query string is `query` (with its `?`).
pub fn limit_ms(query: &str) -> u32 {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("idle="))
        .and_then(|s| s.parse::<u32>().ok())
        .filter(|s| *s > 0)
        .map_or(LIMIT_MS, |s| s.saturating_mul(1000).min(LIMIT_MS))
}

/// Calls `on_idle` once the page has had no input for `limit_ms`.
#[hook]
pub fn use_idle_sign_out(limit_ms: u32, on_idle: Callback<()>) {
    use_effect_with((), move |_| {
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
