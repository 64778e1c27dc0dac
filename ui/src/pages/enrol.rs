//! Enrolment, on the lock screen of a workstation not yet enrolled: the
//! practice hub's address, the invite code from the practice admin, the
//! workstation's name and the security key's PIN (twice). The shell
//! registers the key with the hub, makes this workstation's keys and its
//! encrypted cache, and leaves it locked: the practice admin approves it,
//! then the clinician unlocks.

use sealbox_model::api::{AppStatus, EnrolRequest};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EnrolProps {
    /// Enrolled: the shell's new status.
    pub on_enrolled: Callback<AppStatus>,
}

fn field(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
            state.set(input.value());
        }
    })
}

#[function_component(EnrolForm)]
pub fn enrol_form(props: &EnrolProps) -> Html {
    let hub = use_state(String::new);
    let code = use_state(String::new);
    let device = use_state(|| "This workstation".to_owned());
    let pin = use_state(String::new);
    let again = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let on_submit = {
        let (hub, code, device, pin, again) =
            (hub.clone(), code.clone(), device.clone(), pin.clone(), again.clone());
        let (busy, error, done) = (busy.clone(), error.clone(), props.on_enrolled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if *pin != *again {
                error.set(Some("the two PINs differ".to_owned()));
                return;
            }
            busy.set(true);
            error.set(None);
            let request = EnrolRequest {
                hub: (*hub).clone(),
                invite_code: (*code).clone(),
                device_name: (*device).clone(),
                pin: (*pin).clone(),
            };
            let (busy, error, done) = (busy.clone(), error.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match crate::ipc::enrol(request).await {
                    Ok(status) => done.emit(status),
                    Err(e) => error.set(Some(e.to_string())),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <form id="enrol-form" class="enrol" onsubmit={on_submit} aria-labelledby="enrol-title">
            <h2 id="enrol-title">{ "Enrol this workstation" }</h2>
            <p class="lock-hint">{ "Your practice admin gives you an invite code. Insert your security key." }</p>
            <label for="enrol-hub">{ "Practice hub address" }</label>
            <input id="enrol-hub" type="url" placeholder="https://hub.your-practice.nhs.uk" required=true
                value={(*hub).clone()} oninput={field(&hub)} disabled={*busy} />
            <label for="enrol-code">{ "Invite code" }</label>
            <input id="enrol-code" type="text" autocomplete="off" required=true
                value={(*code).clone()} oninput={field(&code)} disabled={*busy} />
            <label for="enrol-device">{ "Name of this workstation" }</label>
            <input id="enrol-device" type="text" required=true
                value={(*device).clone()} oninput={field(&device)} disabled={*busy} />
            <label for="enrol-pin">{ "Security key PIN (4 to 63 characters)" }</label>
            <input id="enrol-pin" type="password" autocomplete="new-password" required=true
                value={(*pin).clone()} oninput={field(&pin)} disabled={*busy} />
            <label for="enrol-pin-again">{ "The PIN again" }</label>
            <input id="enrol-pin-again" type="password" autocomplete="new-password" required=true
                value={(*again).clone()} oninput={field(&again)} disabled={*busy} />
            <button id="enrol" type="submit" disabled={*busy}>
                { if *busy { "Touch the key that is flashing…" } else { "Enrol" } }
            </button>
            if *busy {
                { crate::ipc::cancel_key_button("enrol-cancel") }
            }
            if let Some(e) = &*error {
                <p id="enrol-error" class="status" data-state="error" role="alert">{ e }</p>
            }
        </form>
    }
}
