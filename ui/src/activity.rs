//! Window-wide keyboard and pointer handling: Ctrl+L locks at once, and any
//! input (keys, pointer, wheel, a control's value changed by the user),
//! wherever it lands, sends the shell a heartbeat (throttled by
//! `sealbox_model::heartbeat`: input inside the window is sent at its end,
//! never dropped), which keeps the idle lock from firing while the
//! clinician works.

use std::cell::RefCell;
use std::rc::Rc;

use sealbox_model::heartbeat::{Beat, Throttle};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::ipc;

fn send_heartbeat() {
    wasm_bindgen_futures::spawn_local(async {
        let _ = ipc::heartbeat().await;
    });
}

/// Installs the listeners on the document for the life of the page.
pub fn install() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let throttle = Rc::new(RefCell::new(Throttle::default()));
    let beat = move || {
        let now = js_sys::Date::now();
        let decided = throttle.borrow_mut().input(now);
        match decided {
            Beat::Now => send_heartbeat(),
            Beat::Covered => {}
            Beat::After(ms) => {
                let when_fired = throttle.clone();
                let fire = Closure::once_into_js(move || {
                    when_fired.borrow_mut().fired(js_sys::Date::now());
                    send_heartbeat();
                });
                let armed = web_sys::window().and_then(|w| {
                    w.set_timeout_with_callback_and_timeout_and_arguments_0(
                        fire.unchecked_ref(),
                        ms.ceil() as i32,
                    )
                    .ok()
                });
                if armed.is_none() {
                    // No timer: send now rather than lose the input.
                    throttle.borrow_mut().fired(now);
                    send_heartbeat();
                }
            }
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
    let on_other = Closure::<dyn Fn()>::new(beat);
    // Capture phase: every input counts, whatever a control does with the
    // event afterwards. A text box or select stops its keys from reaching the
    // thread's shortcuts (`stop_propagation`); in the bubble phase that also
    // hid a clinician typing a reply from the idle lock, and Ctrl+L. `input`
    // and `change` count too: picking from a select's popup list need not
    // send pointer events to the page; `mousedown` and `click` cover input
    // delivered as mouse events only (some automation and assistive tools).
    let _ =
        document.add_event_listener_with_callback_and_bool("keydown", on_key.as_ref().unchecked_ref(), true);
    for kind in ["pointerdown", "mousedown", "click", "wheel", "input", "change"] {
        let _ =
            document.add_event_listener_with_callback_and_bool(kind, on_other.as_ref().unchecked_ref(), true);
    }
    // The page lives until the shell reloads it; so do the listeners.
    on_key.forget();
    on_other.forget();
}
