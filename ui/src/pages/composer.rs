//! The reply composer under a thread: a quick-reply picker (the practice's
//! templates, already filled with the thread's values) and a plain-text
//! box. Ctrl+Enter or "Send" seals and queues the reply; the shell answers
//! with the thread as it now stands. Esc leaves the box for the thread.

use sealbox_model::api::ThreadView;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub view: ThreadView,
    /// The reply was queued: the thread's new view.
    pub on_sent: Callback<ThreadView>,
    /// Focus goes back to the thread (Esc).
    pub on_leave: Callback<()>,
    /// The text box, so the thread's `r` key can focus it.
    pub input: NodeRef,
}

#[function_component(Composer)]
pub fn composer(props: &ComposerProps) -> Html {
    let v = &props.view;
    let text = use_state(|| v.draft.clone());
    let error = use_state(|| None::<String>);
    let sending = use_state(|| false);
    {
        // A different thread, or a refused reply back as its draft.
        let text = text.clone();
        use_effect_with((v.thread.clone(), v.draft.clone()), move |(_, draft)| {
            text.set(draft.clone());
        });
    }
    let send = {
        let (text, error, sending, sent, thread) =
            (text.clone(), error.clone(), sending.clone(), props.on_sent.clone(), v.thread.clone());
        Callback::from(move |()| {
            if *sending || text.trim().is_empty() {
                return;
            }
            sending.set(true);
            let (text, error, sending, sent, thread) =
                (text.clone(), error.clone(), sending.clone(), sent.clone(), thread.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match crate::ipc::reply(thread, (*text).clone()).await {
                    Ok(view) => {
                        error.set(None);
                        text.set(String::new());
                        sent.emit(view);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
                sending.set(false);
            });
        })
    };
    let on_input = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                text.set(area.value());
            }
        })
    };
    let on_template = {
        let (text, templates, input) = (text.clone(), v.templates.clone(), props.input.clone());
        Callback::from(move |e: Event| {
            let Some(select) = e.target_dyn_into::<HtmlSelectElement>() else { return };
            if let Some(t) = templates.iter().find(|t| t.key == select.value()) {
                text.set(t.text.clone());
                if let Some(area) = input.cast::<HtmlTextAreaElement>() {
                    let _ = area.focus();
                }
            }
            select.set_value("");
        })
    };
    let on_key = {
        let (send, leave) = (send.clone(), props.on_leave.clone());
        Callback::from(move |e: KeyboardEvent| {
            // Keys typed here are text, not the thread's shortcuts.
            e.stop_propagation();
            match e.key().as_str() {
                "Enter" if e.ctrl_key() => {
                    e.prevent_default();
                    send.emit(());
                }
                "Escape" => {
                    e.prevent_default();
                    leave.emit(());
                }
                _ => {}
            }
        })
    };
    let on_submit = {
        let send = send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(());
        })
    };
    if !v.can_reply {
        return html! {
            <p id="reply-closed" class="meta">{ "Replies are closed on this thread for your role or its state." }</p>
        };
    }
    html! {
        <form id="reply" class="composer" aria-label="Reply to the patient" onsubmit={on_submit}>
            <label for="template">{ "Quick reply" }</label>
            <select id="template" onchange={on_template} onkeydown={Callback::from(|e: KeyboardEvent| e.stop_propagation())}>
                <option value="" selected=true>{ "Choose a template…" }</option>
                { for v.templates.iter().map(|t| html! {
                    <option value={t.key.clone()}>{ &t.label }</option>
                }) }
            </select>
            <label for="reply-text">{ "Reply (sent to the patient, signed with your name and role)" }</label>
            <textarea id="reply-text" ref={props.input.clone()} rows="5" value={(*text).clone()}
                oninput={on_input} onkeydown={on_key} maxlength="4000" />
            if let Some(e) = &*error {
                <p class="status" data-state="error" role="alert">{ e }</p>
            }
            <button id="send-reply" type="submit" disabled={*sending || text.trim().is_empty()}>
                { "Send reply (Ctrl+Enter)" }
            </button>
        </form>
    }
}
