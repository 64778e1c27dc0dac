//! Window-wide keyboard and pointer handling: Ctrl+L locks at once, and any
//! input sends the shell a heartbeat (at most one per 15 s), which keeps
//! the idle lock from firing while the clinician works.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::ipc;

const HEARTBEAT_EVERY_MS: f64 = 15_000.0;

/// Installs the listeners on the document for the life of the page.
pub fn install() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let last = Rc::new(Cell::new(0.0_f64));
    let beat = move || {
        let now = js_sys::Date::now();
        if now - last.get() >= HEARTBEAT_EVERY_MS {
            last.set(now);
            wasm_bindgen_futures::spawn_local(async {
                let _ = ipc::heartbeat().await;
            });
        }
    };
    let on_key = {
        let beat = beat.clone();
        Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if e.ctrl_key() && e.key().eq_ignore_ascii_case("l") {
                e.prevent_default();
                wasm_bindgen_futures::spawn_local(async {
                    let _ = ipc::lock_now().await;
                });
                return;
            }
            beat();
        })
    };
    let on_pointer = Closure::<dyn Fn()>::new(beat);
    let _ = document.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    for kind in ["pointerdown", "wheel"] {
        let _ = document.add_event_listener_with_callback(kind, on_pointer.as_ref().unchecked_ref());
    }
    // The page lives until the shell reloads it; so do the listeners.
    on_key.forget();
    on_pointer.forget();
}
