//! Settings' list of the clinicians on this workstation (a shared room):
//! who is enrolled here, and — for a practice admin — removing a colleague
//! who left or lost their key, after a confirmation, with a report of what
//! was removed. Names and roles only: nothing of anyone's patients.

use sealbox_model::api::{RemovalReport, RoomMember};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RoomProps {
    pub members: Vec<RoomMember>,
}

fn report_text(r: &RemovalReport) -> String {
    let keyring = if r.keyring_entry_removed {
        "its key entry removed from the keyring"
    } else {
        "no key entry was left in the keyring"
    };
    format!(
        "{} is removed from this workstation: {} files deleted, {keyring}. If their key is lost, revoke device {} at the practice hub.",
        r.name,
        r.files_removed,
        r.devices.join(", ")
    )
}

#[function_component(RoomList)]
pub fn room_list(props: &RoomProps) -> Html {
    let members = use_state(|| props.members.clone());
    let confirming = use_state(|| None::<RoomMember>);
    let outcome = use_state(|| None::<Result<String, String>>);
    if members.len() < 2 && outcome.is_none() {
        return html! {};
    }
    let ask = |m: &RoomMember| {
        let (confirming, outcome, m) = (confirming.clone(), outcome.clone(), m.clone());
        Callback::from(move |_: MouseEvent| {
            outcome.set(None);
            confirming.set(Some(m.clone()));
        })
    };
    let confirm = {
        let (members, confirming, outcome) = (members.clone(), confirming.clone(), outcome.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(m) = (*confirming).clone() else { return };
            let (members, confirming, outcome) = (members.clone(), confirming.clone(), outcome.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match crate::ipc::remove_clinician(m.user_id.clone()).await {
                    Ok(report) => {
                        members.set(members.iter().filter(|x| x.user_id != m.user_id).cloned().collect());
                        outcome.set(Some(Ok(report_text(&report))));
                    }
                    Err(e) => outcome.set(Some(Err(e.to_string()))),
                }
                confirming.set(None);
            });
        })
    };
    let cancel = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(None))
    };
    html! {
        <section id="room" aria-labelledby="room-title">
            <h3 id="room-title">{ "Clinicians on this workstation" }</h3>
            <ul id="room-members">
                { for members.iter().map(|m| html! {
                    <li data-user={m.user_id.clone()}>
                        <span class="name">{ &m.name }</span>
                        <span class="meta">{ format!(" · {}", m.role) }{ if m.you { " (you)" } else { "" } }</span>
                        if m.removable {
                            <button type="button" class="remove-clinician" onclick={ask(m)}>{ "Remove from this workstation" }</button>
                        }
                    </li>
                }) }
            </ul>
            if let Some(m) = &*confirming {
                <div id="confirm-removal" role="alertdialog" aria-labelledby="confirm-removal-text">
                    <p id="confirm-removal-text">{ format!(
                        "Remove {} from this workstation? Their cache here is deleted (the practice hub keeps their messages); they can enrol again with a new invite.",
                        m.name
                    ) }</p>
                    <button id="confirm-remove" type="button" onclick={confirm}>{ "Remove" }</button>
                    <button id="cancel-remove" type="button" onclick={cancel}>{ "Cancel" }</button>
                </div>
            }
            if let Some(o) = &*outcome {
                { match o {
                    Ok(m) => html! { <p id="removal-report" class="status" role="status">{ m }</p> },
                    Err(e) => html! { <p id="removal-report" class="status" data-state="error" role="alert">{ e }</p> },
                } }
            }
        </section>
    }
}
