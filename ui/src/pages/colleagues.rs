//! Working with colleagues on a thread: an internal note (sealed to the
//! practice's pools, never sent to the patient) and handing the thread to a
//! queue or a named colleague, with an optional note for them. Only the
//! queues and colleagues allowed to handle the thread's category are
//! offered; a colleague who could not read a note is marked so. Where the
//! pharmacy may not read the patient's free text, the note can instead be
//! shared into the medication part, which it may. `i` focuses the note, `h`
//! the hand-over list (from the thread).

use sealbox_model::api::{HandRequest, NoteRequest, ThreadView};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ColleaguesProps {
    pub view: ThreadView,
    /// The thread changed: its new view.
    pub on_updated: Callback<ThreadView>,
    /// The note box, so the thread's `i` key can focus it.
    pub note_box: NodeRef,
    /// The hand-over list, so the thread's `h` key can focus it.
    pub hand_box: NodeRef,
    /// The thread was handed over: its new view.
    pub on_handed: Callback<ThreadView>,
}

fn text_of(e: &InputEvent) -> Option<String> {
    e.target_dyn_into::<HtmlTextAreaElement>().map(|a| a.value())
}

#[function_component(Colleagues)]
pub fn colleagues(props: &ColleaguesProps) -> Html {
    let v = &props.view;
    let note = use_state(String::new);
    let hand_note = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    {
        let (note, hand_note) = (note.clone(), hand_note.clone());
        use_effect_with(v.thread.clone(), move |_| {
            note.set(String::new());
            hand_note.set(String::new());
        });
    }
    // Runs a call that answers with the thread; clears `written` on
    // success and gives the view to `updated`.
    let run = {
        let (error, busy) = (error.clone(), busy.clone());
        move |written: UseStateHandle<String>,
              updated: Callback<ThreadView>,
              call: crate::ipc::IpcFuture<ThreadView>| {
            if *busy {
                return;
            }
            busy.set(true);
            let (error, busy, updated) = (error.clone(), busy.clone(), updated.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call.await {
                    Ok(view) => {
                        error.set(None);
                        written.set(String::new());
                        updated.emit(view);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
                busy.set(false);
            });
        }
    };
    // A note written in the box, as a plain note or shared with the pharmacy.
    let post_note = |call: fn(NoteRequest) -> crate::ipc::IpcFuture<ThreadView>| {
        let (run, note, thread) = (run.clone(), note.clone(), v.thread.clone());
        let updated = props.on_updated.clone();
        Callback::from(move |_: MouseEvent| {
            if note.trim().is_empty() {
                return;
            }
            let request = NoteRequest { thread: thread.clone(), text: (*note).clone() };
            run(note.clone(), updated.clone(), call(request));
        })
    };
    let add_note = post_note(|r| Box::pin(crate::ipc::add_note(r)));
    let share = post_note(|r| Box::pin(crate::ipc::share_with_pharmacy(r)));
    let hand = {
        let (run, hand_note, thread) = (run.clone(), hand_note.clone(), v.thread.clone());
        let (hand_box, options, handed) =
            (props.hand_box.clone(), v.hand_to.clone(), props.on_handed.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(select) = hand_box.cast::<HtmlSelectElement>() else { return };
            let Some(option) = select.value().parse::<usize>().ok().and_then(|i| options.get(i)) else {
                return;
            };
            let request =
                HandRequest { thread: thread.clone(), to: option.to.clone(), note: (*hand_note).clone() };
            run(hand_note.clone(), handed.clone(), Box::pin(crate::ipc::hand_over(request)));
        })
    };
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| note.set(text_of(&e).unwrap_or_default()))
    };
    let on_hand_note = {
        let hand_note = hand_note.clone();
        Callback::from(move |e: InputEvent| hand_note.set(text_of(&e).unwrap_or_default()))
    };
    // Typing in these boxes must not reach the thread's keys.
    let keep_keys = Callback::from(|e: KeyboardEvent| e.stop_propagation());
    html! {
        <section id="colleagues" class="composer" aria-label="Working with colleagues">
            if let Some(e) = &*error {
                <p class="status" data-state="error" role="alert">{ e }</p>
            }
            if v.can_note {
                <label for="note-text">{ "Internal note for colleagues (i): never sent to the patient" }</label>
                <textarea id="note-text" rows="2" ref={props.note_box.clone()} value={(*note).clone()}
                    oninput={on_note} onkeydown={keep_keys.clone()} />
                <div class="actions">
                    <button id="add-note" type="button" onclick={add_note} disabled={*busy}>{ "Add note" }</button>
                    if v.can_share {
                        <button id="share-pharmacy" type="button" onclick={share} disabled={*busy}
                            title="The pharmacy cannot read the patient's message here; this note goes in the medication part, which it can">
                            { "Share with the pharmacy" }
                        </button>
                    }
                </div>
            }
            if !v.hand_to.is_empty() {
                <label for="hand-to">{ "Hand to (h)" }</label>
                <select id="hand-to" ref={props.hand_box.clone()} onkeydown={keep_keys.clone()}>
                    { for v.hand_to.iter().enumerate().map(|(i, o)| html! {
                        <option value={i.to_string()} data-label={o.label.clone()}>
                            { if o.reads_notes { o.label.clone() } else { format!("{} (cannot read notes)", o.label) } }
                        </option>
                    }) }
                </select>
                <label for="hand-note">{ "Note for them (optional, never sent to the patient)" }</label>
                <textarea id="hand-note" rows="2" value={(*hand_note).clone()}
                    oninput={on_hand_note} onkeydown={keep_keys} />
                <button id="hand-over" type="button" onclick={hand} disabled={*busy}>{ "Hand over" }</button>
            }
        </section>
    }
}
