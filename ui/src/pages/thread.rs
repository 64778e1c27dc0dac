//! The reading pane: one thread, every message as plain text. Text is put
//! into the DOM as text nodes (Yew escapes it), so markup or script in a
//! message shows literally and never runs. The header says who holds the
//! thread. c claims (a thread a colleague holds asks first, naming them); r goes to the reply
//! composer; e closes (a closed thread can be reopened); h hands it to a
//! queue or a named colleague; i writes an internal note (shown apart from
//! replies, never sent to the patient); p sets priority and category (the
//! red flags stay shown);
//! n shows what the patient wrote since the thread was opened (a banner
//! says so); m merges a request linked as a repeat of the patient's open
//! request into it (the pane moves to that request, where the repeat's
//! messages are read); the patient's other open threads are listed to
//! open; a message someone wrote for the patient says who; a photo the
//! patient sent is shown in its message (`photo`); s saves the thread to
//! the patient's record (`record`: the patient is looked up and matched
//! first); Esc or "Back" returns.
//! The actions (claim, close, back) sit above the reply box. Closing or
//! handing over moves on to the next thread (the inbox offers an undo).
//! Below: who viewed, claimed, replied and decided what, and
//! when (the practice's audit trail, or this workstation's when offline).

use sealbox_model::api::{ActivityView, ThreadView};
use yew::prelude::*;

use sealbox_model::api::{ChangeRequest, ThreadChange};
use sealbox_model::hub_api::StateOp;

use crate::pages::audit::AuditList;
use crate::pages::colleagues::Colleagues;
use crate::pages::composer::Composer;
use crate::pages::patient_invite::Reinvite;
use crate::pages::photo::Attachment;
use crate::pages::record::RecordPane;
use crate::pages::refill::RefillReview;
use crate::pages::triage_panel::TriagePanel;

#[derive(Properties, PartialEq)]
pub struct ThreadProps {
    pub view: ThreadView,
    pub on_close: Callback<()>,
    /// The thread changed here (claimed, replied to): its new view.
    pub on_updated: Callback<ThreadView>,
    /// The thread left the clinician's hands (closed, handed over): the
    /// inbox moves on to the next thread and offers an undo.
    pub on_done: Callback<(ThreadView, &'static str)>,
    /// The inbox has a newer patient message on this thread than is shown.
    pub newer: bool,
}

/// Runs a call to the shell that answers with the thread as it now stands:
/// the new view is shown, or the error is said.
fn show_answer(
    updated: &Callback<ThreadView>,
    error: &UseStateHandle<Option<String>>,
    call: impl std::future::Future<Output = Result<ThreadView, crate::ipc::IpcError>> + 'static,
) {
    let (updated, error) = (updated.clone(), error.clone());
    wasm_bindgen_futures::spawn_local(async move {
        match call.await {
            Ok(view) => {
                error.set(None);
                updated.emit(view);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    });
}

#[function_component(ThreadPane)]
pub fn thread_pane(props: &ThreadProps) -> Html {
    let v = &props.view;
    let pane = use_node_ref();
    {
        let pane = pane.clone();
        use_effect_with(v.thread.clone(), move |_| {
            if let Some(el) = pane.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    {
        // A decision or a close disables the button that had the keyboard:
        // the keyboard comes back to the thread (never taken from a box
        // someone is typing in).
        let pane = pane.clone();
        use_effect_with(v.state.clone(), move |_| {
            let document = web_sys::window().and_then(|w| w.document());
            let lost = document.as_ref().is_none_or(|d| {
                d.active_element()
                    .is_none_or(|e| e.tag_name().eq_ignore_ascii_case("body") || e.has_attribute("disabled"))
            });
            if lost {
                if let Some(el) = pane.cast::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        });
    }
    let error = use_state(|| None::<String>);
    let activity = use_state(|| None::<ActivityView>);
    {
        // Again after a claim: the state is part of the key.
        let (activity, thread) = (activity.clone(), v.thread.clone());
        use_effect_with((v.thread.clone(), v.state.clone()), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(a) = crate::ipc::thread_activity(thread).await {
                    activity.set(Some(a));
                }
            });
        });
    }
    // Taking a thread a colleague holds asks first, naming them.
    let confirm_take = use_state(|| false);
    let take = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        let confirm_take = confirm_take.clone();
        Callback::from(move |()| {
            confirm_take.set(false);
            show_answer(&updated, &error, crate::ipc::claim(thread.clone()))
        })
    };
    let claim = {
        let (take, confirm_take) = (take.clone(), confirm_take.clone());
        let held_by_colleague = !v.holder.is_empty() && v.holder != "You";
        Callback::from(move |()| if held_by_colleague { confirm_take.set(true) } else { take.emit(()) })
    };
    let confirm_details = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        Callback::from(move |_: MouseEvent| {
            show_answer(&updated, &error, crate::ipc::confirm_patient_details(thread.clone()))
        })
    };
    let reload = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        Callback::from(move |()| show_answer(&updated, &error, crate::ipc::open_thread(thread.clone())))
    };
    let change = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        Callback::from(move |change: ThreadChange| {
            let request = ChangeRequest { thread: thread.clone(), change };
            show_answer(&updated, &error, crate::ipc::change_thread(request));
        })
    };
    let close_or_reopen = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        let (done, closed) = (props.on_done.clone(), v.state == "closed");
        Callback::from(move |()| {
            let op = if closed { StateOp::Reopen } else { StateOp::Close };
            let request =
                ChangeRequest { thread: thread.clone(), change: ThreadChange::State { change: op } };
            // A close moves on to the next thread; a reopen stays.
            let shown = if closed { updated.clone() } else { done.reform(|v| (v, "Thread closed.")) };
            show_answer(&shown, &error, crate::ipc::change_thread(request));
        })
    };
    let merge = {
        let (updated, error, thread) = (props.on_updated.clone(), error.clone(), v.thread.clone());
        let can_merge = v.repeat_of.as_ref().is_some_and(|r| r.can_merge);
        Callback::from(move |()| {
            if can_merge {
                show_answer(&updated, &error, crate::ipc::merge_repeat(thread.clone()));
            }
        })
    };
    let open_other = {
        let (updated, error) = (props.on_updated.clone(), error.clone());
        Callback::from(move |thread: String| show_answer(&updated, &error, crate::ipc::open_thread(thread)))
    };
    let hand_box = use_node_ref();
    let note_box = use_node_ref();
    let reply_box = use_node_ref();
    let priority_box = use_node_ref();
    let record_save = use_node_ref();
    let on_key = {
        let (close, claim, reply_box, reload) =
            (props.on_close.clone(), claim.clone(), reply_box.clone(), reload.clone());
        let (close_or_reopen, hand_box, note_box) =
            (close_or_reopen.clone(), hand_box.clone(), note_box.clone());
        let (priority_box, merge, record_save) = (priority_box.clone(), merge.clone(), record_save.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                close.emit(());
            }
            "c" => {
                e.prevent_default();
                claim.emit(());
            }
            "n" => {
                e.prevent_default();
                reload.emit(());
            }
            "e" => {
                e.prevent_default();
                close_or_reopen.emit(());
            }
            "m" => {
                e.prevent_default();
                merge.emit(());
            }
            "p" => {
                if let Some(select) = priority_box.cast::<web_sys::HtmlElement>() {
                    e.prevent_default();
                    let _ = select.focus();
                }
            }
            // Where a record system is set up, the thread's S saves (and the
            // inbox's s around it, Settings, does not also run).
            "s" | "S" => {
                if let Some(button) = record_save.cast::<web_sys::HtmlElement>() {
                    e.stop_propagation();
                    e.prevent_default();
                    button.click();
                }
            }
            "h" => {
                if let Some(select) = hand_box.cast::<web_sys::HtmlElement>() {
                    e.prevent_default();
                    let _ = select.focus();
                }
            }
            "i" => {
                if let Some(area) = note_box.cast::<web_sys::HtmlElement>() {
                    e.prevent_default();
                    let _ = area.focus();
                }
            }
            "r" => {
                if let Some(area) = reply_box.cast::<web_sys::HtmlElement>() {
                    e.prevent_default();
                    let _ = area.focus();
                }
            }
            _ => {}
        })
    };
    let on_claim = Callback::from(move |_: MouseEvent| claim.emit(()));
    let on_leave = {
        let pane = pane.clone();
        Callback::from(move |()| {
            if let Some(el) = pane.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        })
    };
    let on_back = {
        let close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| close.emit(()))
    };
    html! {
        <section id="thread" class="thread" tabindex="0" ref={pane} onkeydown={on_key}
            aria-labelledby="thread-title" data-thread={v.thread.clone()}>
            <h2 id="thread-title">{ format!("{} · {} years · NHS {}", v.patient, v.age, v.nhs_number) }</h2>
            <p id="thread-state" class="meta" data-state={v.state.clone()}>
                { format!("{} · {} · {}", v.category.replace('_', " "), v.priority, v.state.replace('_', " ")) }
                if !v.holder.is_empty() {
                    <span id="thread-holder" data-holder={v.holder.clone()}>{ format!(" · held by {}", v.holder) }</span>
                }
            </p>
            if *confirm_take {
                <div id="confirm-take" class="status" data-state="warning" role="alert">
                    <p>{ format!("{} holds this thread. Take it over? They will see that you did.", v.holder) }</p>
                    <button id="take-over" type="button"
                        onclick={let take = take.clone(); Callback::from(move |_: MouseEvent| take.emit(()))}>
                        { "Take it over" }
                    </button>
                    <button id="keep-holder" type="button"
                        onclick={let c = confirm_take.clone(); Callback::from(move |_: MouseEvent| c.set(false))}>
                        { "Leave it with them" }
                    </button>
                </div>
            }
            if props.newer {
                <p id="thread-new" class="status" data-state="warning" role="alert">
                    { "The patient has written again since this thread was opened. " }
                    <button type="button" onclick={Callback::from(move |_: MouseEvent| reload.emit(()))}>
                        { "Show the new message (n)" }
                    </button>
                </p>
            }
            if let Some(c) = &v.identity_change {
                <div id="identity-change" class="status" data-state="warning" role="alert">
                    <p>{ format!(
                        "A newer message from this patient gives different details: {}, born {}, NHS {}. \
                         Check them against the patient's record before acting; until you confirm, \
                         the details above stay.",
                        c.patient, c.date_of_birth, c.nhs_number
                    ) }</p>
                    <button id="confirm-identity" type="button" onclick={confirm_details}>
                        { "The new details are right: use them" }
                    </button>
                </div>
            }
            if let Some(r) = &v.repeat_of {
                <div id="repeat-of" class="status" data-state="warning" data-of={r.thread.clone()}>
                    <p>{ format!(
                        "This request repeats one the patient already has open (received earlier): it {}.",
                        r.reason
                    ) }</p>
                    <button type="button" onclick={let o = open_other.clone(); let t = r.thread.clone();
                        Callback::from(move |_: MouseEvent| o.emit(t.clone()))}>{ "Open that request" }</button>
                    if r.can_merge {
                        <button id="merge-repeat" type="button"
                            onclick={Callback::from(move |_: MouseEvent| merge.emit(()))}>
                            { "Merge into it (m)" }
                        </button>
                    }
                </div>
            }
            if !v.patient_open.is_empty() {
                <nav id="patient-open" class="meta" aria-label="This patient's other open threads">
                    { "Also open for this patient: " }
                    { for v.patient_open.iter().map(|o| {
                        let (open, id) = (open_other.clone(), o.thread.clone());
                        html! {
                            <button type="button" class="link" data-thread={o.thread.clone()}
                                onclick={Callback::from(move |_: MouseEvent| open.emit(id.clone()))}>
                                { format!("{} · {} · {}", o.category.replace('_', " "), o.state.replace('_', " "), o.received_shown) }
                            </button>
                        }
                    }) }
                </nav>
            }
            if let Some(e) = &*error {
                <p class="status" data-state="error" role="alert">{ e }</p>
            }
            <TriagePanel view={v.clone()} on_change={change.clone()} priority_box={priority_box} />
            { for v.messages.iter().map(|m| html! {
                <article class={classes!("message", (m.from != "Patient").then_some("staff"), m.note.then_some("note"))}
                    data-id={m.id.clone()} data-note={m.note.to_string()}
                    aria-label={if m.note { "Internal note, not sent to the patient" } else { "Message" }}>
                    if m.note {
                        <p class="note-badge">{ "Internal note · not sent to the patient" }</p>
                    }
                    if !m.merged_from.is_empty() {
                        <p class="merged-from meta">{ &m.merged_from }</p>
                    }
                    <header class="meta">{ format!("{} · {}", m.from, m.received_shown) }</header>
                    if !m.written_by.is_empty() {
                        <p class="on-behalf" role="note">{ &m.written_by }</p>
                    }
                    if !m.text.is_empty() { <p class="body">{ &m.text }</p> }
                    if !m.medicines.is_empty() {
                        <ul class="medicines" aria-label="Medicines requested">
                            { for m.medicines.iter().map(|x| html! { <li>{ x }</li> }) }
                        </ul>
                    }
                    { for m.attachments.iter().map(|a| html! {
                        <Attachment thread={v.thread.clone()} attachment={a.clone()} />
                    }) }
                    if !m.viewed_by.is_empty() {
                        <p class="viewed meta">{ format!("Viewed by {}", m.viewed_by.join(", ")) }</p>
                    }
                </article>
            }) }
            <div class="actions">
                <button id="claim" type="button" onclick={on_claim}>{ "Claim (c)" }</button>
                <button id="close-thread" type="button"
                    onclick={Callback::from(move |_: MouseEvent| close_or_reopen.emit(()))}>
                    { if v.state == "closed" { "Reopen (e)" } else { "Close (e)" } }
                </button>
                <button id="back" type="button" onclick={on_back}>{ "Back to inbox (Esc)" }</button>
            </div>
            if let Some(panel) = &v.refill {
                <RefillReview thread={v.thread.clone()} panel={panel.clone()} on_updated={props.on_updated.clone()} />
            }
            <RecordPane thread={v.thread.clone()} state={v.state.clone()} save_button={record_save} />
            <Composer view={v.clone()} on_sent={props.on_updated.clone()} on_leave={on_leave} input={reply_box} />
            <Colleagues view={v.clone()} on_updated={props.on_updated.clone()} note_box={note_box} hand_box={hand_box}
                on_handed={props.on_done.reform(|v| (v, "Thread handed over."))} />
            if v.can_reinvite {
                <Reinvite thread={v.thread.clone()} />
            }
            if let Some(a) = &*activity {
                <AuditList id="thread-activity" title="Activity" view={a.clone()} />
            }
        </section>
    }
}
