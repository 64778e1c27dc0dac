//! Joining: the patient says who they are and chooses a passphrase; the
//! browser makes the channel's keys, registers their public halves with
//! the invite, and keeps them sealed under the passphrase.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::value;
use sealbox_crypto::patient_invite::InviteLink;

use crate::channel::{begin_join, check_new_passphrase, Channel, Typed};
use crate::{hub, vault};

#[derive(Properties, Clone)]
pub struct Props {
    pub link: Rc<InviteLink>,
    pub on_joined: Callback<Rc<Channel>>,
}

impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.link, &other.link) && self.on_joined == other.on_joined
    }
}

async fn join(
    link: &InviteLink,
    typed: &Typed<'_>,
    passphrase: &str,
    again: &str,
) -> Result<Channel, String> {
    check_new_passphrase(passphrase, again).map_err(|e| e.to_string())?;
    let joining = begin_join(link, typed).map_err(|e| e.to_string())?;
    let joined = hub::join(&joining.request).await.map_err(|e| e.to_string())?;
    let (channel, patient_id) = joining.finish(link, joined);
    let stored = channel.seal(&patient_id, passphrase).map_err(|e| e.to_string())?;
    vault::save(&stored).await.map_err(|e| e.to_string())?;
    Ok(channel)
}

#[function_component]
pub fn Join(props: &Props) -> Html {
    let name = use_node_ref();
    let born = use_node_ref();
    let nhs = use_node_ref();
    let pass = use_node_ref();
    let again = use_node_ref();
    let email = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (name, born, nhs, pass, again, email) =
            (name.clone(), born.clone(), nhs.clone(), pass.clone(), again.clone(), email.clone());
        let (error, busy, props) = (error.clone(), busy.clone(), props.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let (n, b, h, p, a, m) =
                (value(&name), value(&born), value(&nhs), value(&pass), value(&again), value(&email));
            let (error, busy, props) = (error.clone(), busy.clone(), props.clone());
            spawn_local(async move {
                let typed = Typed { name: &n, date_of_birth: &b, nhs_number: &h, email: &m };
                match join(&props.link, &typed, &p, &a).await {
                    Ok(channel) => props.on_joined.emit(Rc::new(channel)),
                    Err(message) => {
                        error.set(Some(message));
                        busy.set(false);
                    }
                }
            });
        })
    };

    html! {
        <main id="join">
            <h1>{ "Join your practice's secure messages" }</h1>
            <p>{ "Tell us who you are. We check it against the invite your practice gave you." }</p>
            <form {onsubmit}>
                <label for="name">{ "Your full name" }</label>
                <input id="name" ref={name} autocomplete="name" required=true />
                <label for="born">{ "Your date of birth" }</label>
                <span class="hint" id="born-hint">{ "For example 19/07/1984" }</span>
                <input id="born" ref={born} inputmode="numeric" autocomplete="bday" aria-describedby="born-hint" required=true />
                <label for="nhs">{ "Your NHS number (if you know it)" }</label>
                <span class="hint" id="nhs-hint">{ "10 digits. It is in the NHS App and on letters from us. You can leave it empty, unless our letter asks for it." }</span>
                <input id="nhs" ref={nhs} inputmode="numeric" aria-describedby="nhs-hint" />
                <label for="passphrase">{ "Choose a passphrase" }</label>
                <span class="hint" id="pass-hint">{ "At least 10 characters. Three random words work well. You need it each time you open your messages." }</span>
                <input id="passphrase" ref={pass} type="password" autocomplete="new-password" aria-describedby="pass-hint" required=true />
                <label for="passphrase-again">{ "Type the passphrase again" }</label>
                <input id="passphrase-again" ref={again} type="password" autocomplete="new-password" required=true />
                <label for="email">{ "Your email (optional)" }</label>
                <span class="hint" id="email-hint">{ "We email you when the practice replies. The email never says what the reply is." }</span>
                <input id="email" ref={email} type="email" autocomplete="email" aria-describedby="email-hint" />
                if let Some(message) = &*error {
                    <p id="join-error" class="error" role="alert">{ message }</p>
                }
                <button id="join-button" type="submit" disabled={*busy}>
                    { if *busy { "Joining…" } else { "Join" } }
                </button>
            </form>
        </main>
    }
}
