//! Settings' "Invite a patient" (care navigators and practice managers):
//! the patient's name, date of birth and NHS number as the practice's
//! record has them make the invite's identity tag here, on this
//! workstation; the hub is sent the tag and a lookup, never the details or
//! the code. The link and code are shown once, to print or send; they are
//! not kept.

use sealbox_model::api::{PatientInviteForm, PatientInviteView};
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn value(node: &NodeRef) -> String {
    node.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default()
}

#[function_component(PatientInvitePanel)]
pub fn patient_invite_panel() -> Html {
    let (name, born, nhs) = (use_node_ref(), use_node_ref(), use_node_ref());
    let outcome = use_state(|| None::<Result<PatientInviteView, String>>);
    let busy = use_state(|| false);
    let invite = {
        let (name, born, nhs, outcome, busy) =
            (name.clone(), born.clone(), nhs.clone(), outcome.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let form = PatientInviteForm {
                name: value(&name),
                date_of_birth: value(&born),
                nhs_number: value(&nhs),
            };
            let (outcome, busy) = (outcome.clone(), busy.clone());
            wasm_bindgen_futures::spawn_local(async move {
                outcome.set(Some(crate::ipc::invite_patient(form).await.map_err(|e| e.to_string())));
                busy.set(false);
            });
        })
    };
    html! {
        <section id="patient-invite" class="settings composer" aria-labelledby="patient-invite-title">
            <h2 id="patient-invite-title">{ "Invite a patient to write online" }</h2>
            <p class="meta">{ "As on the practice's record. The patient types the same details to join; the hub never sees them." }</p>
            <label for="invite-name">{ "Name" }</label>
            <input id="invite-name" ref={name} autocomplete="off" />
            <label for="invite-born">{ "Date of birth (19/07/1984)" }</label>
            <input id="invite-born" ref={born} autocomplete="off" />
            <label for="invite-nhs">{ "NHS number" }</label>
            <input id="invite-nhs" ref={nhs} autocomplete="off" />
            <div class="actions">
                <button id="make-patient-invite" type="button" onclick={invite} disabled={*busy}>{ "Make invite" }</button>
            </div>
            <Outcome outcome={(*outcome).clone()} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct OutcomeProps {
    outcome: Option<Result<PatientInviteView, String>>,
}

/// The invite made (the link, the code and its QR code, shown once), or why not.
#[function_component(Outcome)]
fn outcome(props: &OutcomeProps) -> Html {
    match &props.outcome {
        Some(Ok(v)) => html! {
            <div id="patient-invite-made" role="status">
                <p>{ format!("Give the patient this link or code, {}. It works once.", v.expires) }</p>
                <p id="patient-invite-link" class="fingerprint">{ &v.link }</p>
                <p id="patient-invite-code" class="fingerprint">{ &v.code }</p>
                <QrCode svg={v.qr_svg.clone()} />
            </div>
        },
        Some(Err(e)) => {
            html! { <p id="patient-invite-error" class="status" data-state="error" role="alert">{ e }</p> }
        }
        None => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct ReinviteProps {
    pub thread: String,
}

/// On a thread, for care navigators and practice managers: a new invite
/// for its patient when their phone is lost (joining with it closes the
/// old channel, so whoever has the phone reads nothing more).
#[function_component(Reinvite)]
pub fn reinvite(props: &ReinviteProps) -> Html {
    let outcome = use_state(|| None::<Result<PatientInviteView, String>>);
    let busy = use_state(|| false);
    {
        let outcome = outcome.clone();
        use_effect_with(props.thread.clone(), move |_| outcome.set(None));
    }
    let make = {
        let (thread, outcome, busy) = (props.thread.clone(), outcome.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (thread, outcome, busy) = (thread.clone(), outcome.clone(), busy.clone());
            wasm_bindgen_futures::spawn_local(async move {
                outcome.set(Some(crate::ipc::reinvite_patient(thread).await.map_err(|e| e.to_string())));
                busy.set(false);
            });
        })
    };
    html! {
        <section id="reinvite" class="composer" aria-label="The patient's online messages">
            <button id="reinvite-patient" type="button" onclick={make} disabled={*busy}
                title="For a lost or new phone: the old one stops working when the patient joins with the new invite">
                { "New invite for this patient (lost phone)" }
            </button>
            <Outcome outcome={(*outcome).clone()} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct QrProps {
    svg: String,
}

/// The link's QR code, shown from a blob URL (the webview's CSP allows
/// images from `blob:` and the app only), released when it goes.
#[function_component(QrCode)]
fn qr_code(props: &QrProps) -> Html {
    let url = use_memo(props.svg.clone(), |svg| {
        crate::pages::photo::object_url(&js_sys::Uint8Array::from(svg.as_bytes()), "image/svg+xml").ok()
    });
    {
        let url = url.clone();
        use_effect_with(url, |url| {
            let url = (**url).clone();
            move || {
                if let Some(u) = url {
                    let _ = web_sys::Url::revoke_object_url(&u);
                }
            }
        });
    }
    match &*url {
        Some(src) => {
            html! { <img id="patient-invite-qr" class="qr" src={src.clone()} alt="QR code of the invite link" width="180" height="180" /> }
        }
        None => html! {},
    }
}
