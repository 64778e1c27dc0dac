//! Settings: the idle lock (only as long as the practice allows),
//! notifications blind or off (never richer), and the colour theme. Saved
//! in the workstation's encrypted cache; the lock and notification choices
//! apply at once and are audited. On a shared workstation, who is enrolled
//! here ([`crate::pages::room`]). Esc goes back.

use sealbox_model::api::{Settings, SettingsView, THEMES};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The idle lock choices offered (seconds), within the practice's bounds.
const IDLE_CHOICES: [u32; 6] = [30, 60, 120, 300, 600, 900];

fn idle_label(secs: u32) -> String {
    if secs < 60 {
        format!("{secs} seconds")
    } else if secs == 60 {
        "1 minute".to_owned()
    } else {
        format!("{} minutes", secs / 60)
    }
}

/// Applies a theme to the page ("system" follows the OS).
pub fn apply_theme(theme: &str) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme);
    }
}

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub view: SettingsView,
    pub on_back: Callback<()>,
}

#[function_component(SettingsPanel)]
pub fn settings_panel(props: &SettingsProps) -> Html {
    let draft = use_state(|| props.view.settings.clone());
    let status = use_state(|| None::<Result<String, String>>);
    let v = &props.view;
    let save = {
        let (draft, status) = (draft.clone(), status.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (settings, status) = ((*draft).clone(), status.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match crate::ipc::save_settings(settings).await {
                    Ok(saved) => {
                        apply_theme(&saved.settings.theme);
                        status.set(Some(Ok("Saved.".to_owned())));
                    }
                    Err(e) => status.set(Some(Err(e.to_string()))),
                }
            });
        })
    };
    let on_idle = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                if let Ok(secs) = s.value().parse() {
                    draft.set(Settings { idle_seconds: secs, ..(*draft).clone() });
                }
            }
        })
    };
    let on_notify = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                draft.set(Settings { notifications: i.checked(), ..(*draft).clone() });
            }
        })
    };
    let on_theme = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                draft.set(Settings { theme: s.value(), ..(*draft).clone() });
            }
        })
    };
    let on_key = {
        let back = props.on_back.clone();
        Callback::from(move |e: KeyboardEvent| {
            e.stop_propagation();
            if e.key() == "Escape" {
                e.prevent_default();
                back.emit(());
            }
        })
    };
    let choices: Vec<u32> = IDLE_CHOICES
        .into_iter()
        .chain([draft.idle_seconds])
        .filter(|s| (v.idle_min_seconds..=v.idle_max_seconds).contains(s))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // Opened by keyboard (s): focus goes to the first choice, so the keys
    // (Esc included) reach the panel, not the hidden list.
    let first = use_node_ref();
    {
        let first = first.clone();
        use_effect_with((), move |()| {
            if let Some(el) = first.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let back = props.on_back.clone();
    let can_invite = v.can_invite_patients;
    html! {
        <>
        <form id="settings" class="settings composer" aria-labelledby="settings-title" onsubmit={save} onkeydown={on_key}>
            <h2 id="settings-title">{ "Settings" }</h2>
            <label for="idle">{ "Lock after this long without input" }</label>
            <select id="idle" onchange={on_idle} ref={first}>
                { for choices.iter().map(|s| html! {
                    <option value={s.to_string()} selected={*s == draft.idle_seconds}>{ idle_label(*s) }</option>
                }) }
            </select>
            <p class="meta">{ format!("Your practice allows at most {}.", idle_label(v.idle_max_seconds)) }</p>
            <label class="check">
                <input id="notifications" type="checkbox" checked={draft.notifications} onchange={on_notify} />
                { " Notifications (counts only: never a name, a medicine or a word of a message)" }
            </label>
            <label for="theme">{ "Theme" }</label>
            <select id="theme" onchange={on_theme}>
                { for THEMES.iter().map(|t| html! {
                    <option value={*t} selected={draft.theme == *t}>{ match *t { "light" => "Light", "dark" => "Dark", _ => "As the system" } }</option>
                }) }
            </select>
            if let Some(k) = &v.practice_key {
                <h3>{ "Practice key" }</h3>
                <p id="practice-fingerprint" class="fingerprint">{ &k.fingerprint }</p>
                <p class="meta">{ format!("{} Every key this workstation seals to is signed with it.", k.pinned_by) }</p>
            }
            <crate::pages::room::RoomList members={v.room.clone()} />
            <crate::pages::record::RecordSystem />
            <crate::pages::updates::About version={v.version.clone()} />
            if let Some(s) = &*status {
                { match s {
                    Ok(m) => html! { <p id="settings-status" class="status" role="status">{ m }</p> },
                    Err(e) => html! { <p id="settings-status" class="status" data-state="error" role="alert">{ e }</p> },
                } }
            }
            <div class="actions">
                <button id="save-settings" type="submit">{ "Save" }</button>
                <button id="settings-back" type="button" onclick={Callback::from(move |_: MouseEvent| back.emit(()))}>
                    { "Back to inbox (Esc)" }
                </button>
            </div>
        </form>
        if can_invite {
            <crate::pages::patient_invite::PatientInvitePanel />
        }
        </>
    }
}
