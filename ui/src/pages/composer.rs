//! The reply composer under a thread: a quick-reply picker (the practice's
//! templates, already filled with the thread's values; a choice goes in at
//! the caret, keeping what was typed) and a plain-text box. Every change is
//! kept as the thread's draft in the encrypted cache, one call at a time
//! (`sealbox_model::draft_saves`), so a lock loses nothing typed. Ctrl+Enter
//! or "Send" seals and queues the reply; the shell answers with the thread
//! as it now stands. Esc leaves the box for the thread.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use sealbox_model::api::ThreadView;
use sealbox_model::draft_saves::{DraftSaves, Job};
use sealbox_model::reply_templates::insert_at;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::ipc::{self, IpcError};

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

/// The texts this composer asked to keep as the thread's draft, so a view
/// carrying one of them (perhaps older than what is typed now) is not taken
/// for a change made elsewhere (a reply the hub refused, back as the draft).
#[derive(Default)]
struct Ours {
    thread: String,
    saved: HashSet<u64>,
}

/// Beyond this many texts the record starts again (a stale view could then
/// bring back an older draft; never text typed in another thread).
const OURS_MAX: usize = 20_000;

fn digest(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Runs `job`, then whatever the queue holds next, one at a time.
fn run(
    queue: Rc<RefCell<DraftSaves>>,
    job: Job,
    sent: Callback<Result<ThreadView, IpcError>>,
    kept: Callback<Option<IpcError>>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let mut next = Some(job);
        while let Some(job) = next {
            match job {
                Job::Save { thread, text } => kept.emit(ipc::save_draft(thread, text).await.err()),
                Job::Send { thread, text } => sent.emit(ipc::reply(thread, text).await),
            }
            next = queue.borrow_mut().done();
        }
    });
}

#[function_component(Composer)]
pub fn composer(props: &ComposerProps) -> Html {
    let v = &props.view;
    let text = use_state(|| v.draft.clone());
    let error = use_state(|| None::<String>);
    let unkept = use_state(|| None::<String>);
    let sending = use_state(|| false);
    let queue = use_mut_ref(DraftSaves::default);
    let ours = use_mut_ref(Ours::default);
    {
        // Another thread, or its draft changed elsewhere (a refused reply
        // back as the draft): shown. A view with a draft saved from here is
        // not, as the box may already hold more.
        let (text, ours) = (text.clone(), ours.clone());
        use_effect_with((v.thread.clone(), v.draft.clone()), move |(thread, draft)| {
            let mut o = ours.borrow_mut();
            if o.thread != *thread {
                *o = Ours { thread: thread.clone(), saved: HashSet::new() };
                text.set(draft.clone());
            } else if !o.saved.contains(&digest(draft)) {
                text.set(draft.clone());
            }
        });
    }
    let sent = {
        let (text, error, sending, on_sent) =
            (text.clone(), error.clone(), sending.clone(), props.on_sent.clone());
        Callback::from(move |result: Result<ThreadView, IpcError>| {
            match result {
                Ok(view) => {
                    error.set(None);
                    text.set(String::new());
                    on_sent.emit(view);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            sending.set(false);
        })
    };
    let kept = {
        let unkept = unkept.clone();
        Callback::from(move |e: Option<IpcError>| {
            unkept.set(e.map(|e| format!("The draft was not kept: {e}")))
        })
    };
    let save = {
        let (queue, ours, sent, kept, thread) =
            (queue.clone(), ours.clone(), sent.clone(), kept.clone(), v.thread.clone());
        Callback::from(move |value: String| {
            {
                let mut o = ours.borrow_mut();
                if o.saved.len() >= OURS_MAX {
                    o.saved.clear();
                }
                o.saved.insert(digest(&value));
            }
            let job = queue.borrow_mut().typed(&thread, &value);
            if let Some(job) = job {
                run(queue.clone(), job, sent.clone(), kept.clone());
            }
        })
    };
    let send = {
        let (text, sending, queue, sent, kept, thread) =
            (text.clone(), sending.clone(), queue.clone(), sent.clone(), kept.clone(), v.thread.clone());
        Callback::from(move |()| {
            if *sending || text.trim().is_empty() {
                return;
            }
            sending.set(true);
            let job = queue.borrow_mut().send(&thread, &text);
            if let Some(job) = job {
                run(queue.clone(), job, sent.clone(), kept.clone());
            }
        })
    };
    let on_input = {
        let (text, save) = (text.clone(), save.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                let value = area.value();
                text.set(value.clone());
                save.emit(value);
            }
        })
    };
    let on_template = {
        let (text, save, templates, input) =
            (text.clone(), save.clone(), v.templates.clone(), props.input.clone());
        Callback::from(move |e: Event| {
            let Some(select) = e.target_dyn_into::<HtmlSelectElement>() else { return };
            if let Some(t) = templates.iter().find(|t| t.key == select.value()) {
                match input.cast::<HtmlTextAreaElement>() {
                    Some(area) => {
                        let typed = area.value();
                        let end = typed.encode_utf16().count() as u32;
                        let start = area.selection_start().ok().flatten().unwrap_or(end);
                        let stop = area.selection_end().ok().flatten().unwrap_or(start);
                        let (value, caret) = insert_at(&typed, start, stop, &t.text);
                        area.set_value(&value);
                        let _ = area.set_selection_range(caret, caret);
                        let _ = area.focus();
                        text.set(value.clone());
                        save.emit(value);
                    }
                    None => {
                        text.set(t.text.clone());
                        save.emit(t.text.clone());
                    }
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
            if let Some(e) = &*unkept {
                <p id="draft-unkept" class="status" data-state="error" role="alert">{ e }</p>
            }
            <button id="send-reply" type="submit" disabled={*sending || text.trim().is_empty()}>
                { "Send reply (Ctrl+Enter)" }
            </button>
        </form>
    }
}
