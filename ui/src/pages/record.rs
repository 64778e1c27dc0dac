//! The thread and the patient's record (issue 27): on opening, the shell
//! looks the patient up in the practice's record by NHS number; a record
//! whose name or date of birth differ from what the patient wrote is a
//! warning that holds "Save to record" (S) until a clinician confirms the
//! match; an unknown patient, or two with one number, hold it until the
//! record is put right. Where the save stands (saved, or waiting and why)
//! and the export of the thread as a `.json` file for a practice without a
//! record system. `data-answer` counts the shell's answers so a test
//! waits for the next one.

use sealbox_model::api::RecordPanel;
use yew::prelude::*;

use crate::ipc::IpcError;

#[derive(Properties, PartialEq)]
pub struct RecordProps {
    pub thread: String,
    /// Changes when the thread does (claimed, closed): looked at again.
    pub state: String,
    /// The Save button, which the thread's key S presses.
    pub save_button: NodeRef,
}

#[derive(Clone, Default, PartialEq)]
struct Shown {
    panel: Option<RecordPanel>,
    error: Option<String>,
    answers: u32,
}

fn ask(
    shown: &UseStateHandle<Shown>,
    busy: &UseStateHandle<bool>,
    call: impl std::future::Future<Output = Result<RecordPanel, IpcError>> + 'static,
) {
    let (shown, busy) = (shown.clone(), busy.clone());
    busy.set(true);
    wasm_bindgen_futures::spawn_local(async move {
        let answers = shown.answers + 1;
        let answer = call.await;
        // Free again before the answer is counted: a test that waits for
        // the count finds the buttons as the answer leaves them.
        busy.set(false);
        shown.set(match answer {
            Ok(panel) => Shown { panel: Some(panel), error: None, answers },
            Err(e) => Shown { panel: shown.panel.clone(), error: Some(e.to_string()), answers },
        });
    });
}

#[function_component(RecordPane)]
pub fn record_pane(props: &RecordProps) -> Html {
    let shown = use_state(Shown::default);
    let busy = use_state(|| false);
    {
        let (shown, busy, thread) = (shown.clone(), busy.clone(), props.thread.clone());
        use_effect_with((props.thread.clone(), props.state.clone()), move |_| {
            ask(&shown, &busy, crate::ipc::record_panel(thread));
        });
    }
    let on = |call: fn(String) -> crate::ipc::IpcFuture<RecordPanel>| {
        let (shown, busy, thread) = (shown.clone(), busy.clone(), props.thread.clone());
        Callback::from(move |_: MouseEvent| ask(&shown, &busy, call(thread.clone())))
    };
    let save = on(|t| Box::pin(crate::ipc::save_to_record(t)));
    let confirm = on(|t| Box::pin(crate::ipc::confirm_record_match(t)));
    let export = on(|t| Box::pin(crate::ipc::export_record(t)));
    let p = shown.panel.clone().unwrap_or_default();
    html! {
        <section id="record" class="record" aria-label="The patient's record"
            data-answer={shown.answers.to_string()} data-endpoint={p.endpoint.to_string()}>
            <h3>{ "Patient's record" }</h3>
            if shown.panel.is_some() && !p.endpoint {
                <p class="meta">{ "No record system is set up on this workstation: export the thread as a file for the record." }</p>
            }
            if let Some(w) = &p.warning {
                <div id="record-warning" class="status" data-state="warning" role="alert">
                    <p>{ w }</p>
                    if p.confirmable {
                        <button id="record-confirm" type="button" disabled={*busy} onclick={confirm}>
                            { "I have checked: this is the patient's record" }
                        </button>
                    }
                </div>
            }
            if let Some(c) = &p.confirmed {
                <p id="record-confirmed" class="meta">{ format!("Match confirmed by {c}") }</p>
            }
            <div class="actions">
                if p.endpoint {
                    <button id="record-save" type="button" ref={props.save_button.clone()}
                        disabled={*busy || !p.can_save} onclick={save}>{ "Save to record (S)" }</button>
                }
                <button id="record-export" type="button" disabled={*busy} onclick={export}>{ "Export as a file" }</button>
            </div>
            if !p.status.is_empty() {
                <p id="record-status" class="status" role="status">{ &p.status }</p>
            }
            if !p.message.is_empty() {
                <p id="record-message" class="status" role="alert">{ &p.message }</p>
            }
            if let Some(e) = &shown.error {
                <p id="record-error" class="status" data-state="error" role="alert">{ e }</p>
            }
        </section>
    }
}

/// Settings' record system, for practice IT: where this workstation saves
/// to record (set in a file only they can write, never here), the client
/// id and the public key to register with the record system.
#[function_component(RecordSystem)]
pub fn record_system() -> Html {
    let setup = use_state(|| None::<Result<sealbox_model::api::RecordSetup, String>>);
    {
        let setup = setup.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                setup.set(Some(crate::ipc::record_setup().await.map_err(|e| e.to_string())));
            });
        });
    }
    html! {
        <>
            <h3>{ "Record system" }</h3>
            { match &*setup {
                None => html! {},
                Some(Err(e)) => html! { <p class="status" data-state="error" role="alert">{ e }</p> },
                Some(Ok(s)) => html! {
                    <div id="record-setup" data-endpoint={s.endpoint.clone()}>
                        <p class="meta">{ if s.endpoint.is_empty() {
                            format!("None set up. Practice IT set one up in {}.", s.file)
                        } else {
                            format!("Threads are saved to {}{} (set up in {}).", s.endpoint,
                                if s.save_on_close { ", and when closed" } else { "" }, s.file)
                        } }</p>
                        if let Some(problem) = &s.problem {
                            <p class="status" data-state="error" role="alert">{ problem }</p>
                        }
                        <p class="meta">{ "This workstation signs in as " }
                            <code id="record-client-id">{ &s.client_id }</code>
                            { " with this public key (register it with the record system):" }</p>
                        <pre id="record-jwk" class="fingerprint">{ &s.jwk }</pre>
                    </div>
                },
            } }
        </>
    }
}
