//! Opening the channel kept in this browser with the patient's passphrase.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::value;
use crate::channel::{Channel, StoredChannel};

#[derive(Properties, Clone)]
pub struct Props {
    pub stored: Rc<StoredChannel>,
    pub on_open: Callback<Rc<Channel>>,
    /// Why the page is here (signed out after inactivity).
    pub notice: Option<&'static str>,
}

impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.stored, &other.stored)
            && self.on_open == other.on_open
            && self.notice == other.notice
    }
}

#[function_component]
pub fn Unlock(props: &Props) -> Html {
    let pass = use_node_ref();
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (pass, error, props) = (pass.clone(), error.clone(), props.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let passphrase = value(&pass);
            let (error, props) = (error.clone(), props.clone());
            // Argon2id takes a moment: let the page paint first.
            spawn_local(async move {
                match Channel::open(&props.stored, &passphrase) {
                    Ok(channel) => props.on_open.emit(Rc::new(channel)),
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        })
    };
    html! {
        <main id="unlock">
            <h1>{ "Your secure messages" }</h1>
            if let Some(notice) = props.notice {
                <p id="signed-out" class="notice" role="status">{ notice }</p>
            }
            <form {onsubmit}>
                <label for="unlock-passphrase">{ "Your passphrase" }</label>
                <input id="unlock-passphrase" ref={pass} type="password" autocomplete="current-password" required=true />
                if let Some(message) = &*error {
                    <p id="unlock-error" class="error" role="alert">{ message }</p>
                }
                <button id="unlock-button" type="submit">{ "Open" }</button>
            </form>
            <p class="hint">{ "Forgotten it, or using a new phone? Ask your practice for a new invite." }</p>
        </main>
    }
}
