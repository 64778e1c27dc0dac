//! Refill review, on the thread's screen: what was asked for (name,
//! strength, form, quantity), the patient's earlier requests, the review
//! date's status, and the decision. Approve stays disabled while
//! sealbox-model's rule refuses it, and the reason is shown beside it. A
//! decision the shell refuses (a message arrived since the thread was
//! shown) reopens the thread, so the new message is shown and viewed.
//! Rejecting needs a reason picked (none is chosen in advance); every
//! decision tells the patient and closes the thread. A request listing
//! several medicines can be decided one by one (issue, or not with a
//! reason; none chosen in advance). What the decider should know (the
//! model's warnings) is listed above the decision.

use sealbox_model::api::{RefillPanel, RefillRequest, ThreadView};
use sealbox_model::hub_api::{ItemDecision, ItemOutcome, RefillChoice};
use sealbox_model::refill::{self, RejectionReason};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RefillProps {
    pub thread: String,
    pub panel: RefillPanel,
    /// The thread changed (decided, or reopened after a refusal).
    pub on_updated: Callback<ThreadView>,
}

fn reason_of(key: &str) -> Option<RejectionReason> {
    RejectionReason::ALL.into_iter().find(|r| r.to_string() == key)
}

/// A medicine's choice as its select holds it: "issue", "not:<reason>", or "" (none yet).
fn outcome_of(key: &str) -> Option<ItemOutcome> {
    match key {
        "issue" => Some(ItemOutcome::Issue),
        other => {
            other.strip_prefix("not:").and_then(reason_of).map(|reason| ItemOutcome::NotIssued { reason })
        }
    }
}

/// Every medicine's decision, once each is chosen.
fn item_decisions(chosen: &[String]) -> Option<Vec<ItemDecision>> {
    chosen
        .iter()
        .enumerate()
        .map(|(i, key)| Some(ItemDecision { item: u8::try_from(i).ok()?, outcome: outcome_of(key)? }))
        .collect()
}

#[function_component(RefillReview)]
pub fn refill_review(props: &RefillProps) -> Html {
    let p = &props.panel;
    let error = use_state(|| None::<String>);
    let done = use_state(|| None::<String>);
    let note = use_state(String::new);
    // No reason is chosen for the clinician: rejecting needs one picked.
    let reason = use_state(String::new);
    let busy = use_state(|| false);
    // The practice's record of earlier requests (the cache's until it answers).
    let practice_history = use_state(|| None::<Vec<String>>);
    {
        let (practice_history, thread) = (practice_history.clone(), props.thread.clone());
        use_effect_with(props.thread.clone(), move |_| {
            practice_history.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(h) = crate::ipc::refill_history(thread).await {
                    practice_history.set(Some(h.lines));
                }
            });
        });
    }
    // Per medicine, when the request lists several: none chosen in advance.
    let chosen = use_state(|| vec![String::new(); p.items.len()]);
    {
        let (chosen, n) = (chosen.clone(), p.items.len());
        use_effect_with((props.thread.clone(), n), move |_| chosen.set(vec![String::new(); n]));
    }
    let decide = {
        let (error, done, note, updated, thread) =
            (error.clone(), done.clone(), note.clone(), props.on_updated.clone(), props.thread.clone());
        let busy = busy.clone();
        Callback::from(move |(choice, items, what): (RefillChoice, Vec<ItemDecision>, &'static str)| {
            if *busy {
                return;
            }
            busy.set(true);
            let (error, done, note, updated, thread) =
                (error.clone(), done.clone(), note.clone(), updated.clone(), thread.clone());
            let busy = busy.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let request = RefillRequest { thread: thread.clone(), choice, note: (*note).clone(), items };
                match crate::ipc::refill_decision(request).await {
                    Ok(view) => {
                        error.set(None);
                        done.set(Some(what.to_owned()));
                        note.set(String::new());
                        updated.emit(view);
                    }
                    Err(e) => {
                        error.set(Some(e.to_string()));
                        if let Ok(view) = crate::ipc::open_thread(thread).await {
                            updated.emit(view);
                        }
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_approve = {
        let decide = decide.clone();
        Callback::from(move |_: MouseEvent| decide.emit((RefillChoice::Approve, Vec::new(), "Approved")))
    };
    let on_reject = {
        let (decide, reason, error) = (decide.clone(), reason.clone(), error.clone());
        Callback::from(move |_: MouseEvent| match reason_of(&reason) {
            Some(reason) => decide.emit((RefillChoice::Reject { reason }, Vec::new(), "Rejected")),
            None => error.set(Some("choose a reason".to_owned())),
        })
    };
    let on_query = {
        let decide = decide.clone();
        Callback::from(move |_: MouseEvent| {
            decide.emit((RefillChoice::QueryPatient, Vec::new(), "Query sent to the patient"))
        })
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                reason.set(select.value());
            }
        })
    };
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                note.set(area.value());
            }
        })
    };
    let items = item_decisions(&chosen);
    let whole = items.as_ref().and_then(|i| refill::overall(i, Some(p.items.len())).ok());
    let on_items = {
        let (decide, items) = (decide.clone(), items.clone());
        Callback::from(move |_: MouseEvent| {
            if let (Some(items), Some(choice)) = (items.clone(), whole) {
                decide.emit((choice, items, "Decided medicine by medicine"))
            }
        })
    };
    // Issuing any medicine needs approval to be allowed; not issuing one, a rejection.
    let items_blocked = match (&items, whole) {
        (Some(i), Some(_)) => {
            (i.iter().any(|d| d.outcome == ItemOutcome::Issue) && p.approve_blocked.is_some())
                || (i.iter().any(|d| d.outcome != ItemOutcome::Issue) && p.decide_blocked.is_some())
        }
        _ => true,
    };
    let stop = Callback::from(|e: KeyboardEvent| e.stop_propagation());
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
    html! {
        <section id="refill" class="refill" aria-labelledby="refill-title">
            <h3 id="refill-title">{ "Repeat prescription review" }</h3>
            <table class="items">
                <caption class="meta">{ "Requested" }</caption>
                <thead><tr>
                    <th scope="col">{ "Medicine" }</th><th scope="col">{ "Strength" }</th>
                    <th scope="col">{ "Form" }</th><th scope="col">{ "Quantity" }</th>
                    if p.items.len() > 1 { <th scope="col">{ "Decision" }</th> }
                </tr></thead>
                <tbody>
                    { for p.items.iter().enumerate().map(|(n, i)| {
                        let on_pick = {
                            let chosen = chosen.clone();
                            Callback::from(move |e: Event| {
                                if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                                    let mut all = (*chosen).clone();
                                    if let Some(slot) = all.get_mut(n) {
                                        *slot = select.value();
                                    }
                                    chosen.set(all);
                                }
                            })
                        };
                        let current = chosen.get(n).cloned().unwrap_or_default();
                        let columns = if p.items.len() > 1 { "5" } else { "4" };
                        html! { <>
                            <tr class="item" title={i.text.clone()}>
                                <td>{ &i.name }</td><td>{ dash(&i.strength) }</td>
                                <td>{ dash(&i.form) }</td><td>{ i.quantity.clone().unwrap_or_else(|| "as on repeat".to_owned()) }</td>
                                if p.items.len() > 1 {
                                    <td>
                                        <select id={format!("item-decision-{n}")} class="item-decision"
                                            aria-label={format!("Decision for {}", i.name)} onchange={on_pick} onkeydown={stop.clone()}>
                                            <option value="" selected={current.is_empty()}>{ "Choose\u{2026}" }</option>
                                            <option value="issue" selected={current == "issue"}>{ "Issue" }</option>
                                            { for p.reasons.iter().map(|r| {
                                                let key = format!("not:{}", r.key);
                                                html! { <option value={key.clone()} selected={current == key}>{ format!("Not issued: {}", r.label) }</option> }
                                            }) }
                                        </select>
                                    </td>
                                }
                            </tr>
                            // What the patient answered to the practice's
                            // renewal questions, beside the medicine.
                            if !i.answers.is_empty() {
                                <tr class="answers">
                                    <td colspan={columns}>
                                        <dl id={format!("answers-{n}")} class="answers"
                                            aria-label={format!("The patient's answers about {}", i.name)}>
                                            { for i.answers.iter().map(|a| html! {
                                                <><dt>{ &a.question }</dt><dd>{ &a.answer }</dd></>
                                            }) }
                                        </dl>
                                    </td>
                                </tr>
                            }
                        </> }
                    }) }
                </tbody>
            </table>
            if !p.warnings.is_empty() {
                <ul id="refill-warnings" class="status" data-state="warning" aria-label="Before deciding">
                    { for p.warnings.iter().map(|w| html! { <li>{ w }</li> }) }
                </ul>
            }
            <h4>{ "Earlier requests" }</h4>
            if let Some(lines) = &*practice_history {
                if lines.is_empty() {
                    <p class="meta" id="refill-history" data-source="practice">{ "None in the practice's record." }</p>
                } else {
                    <ul id="refill-history" data-source="practice">{ for lines.iter().map(|h| html! { <li>{ h }</li> }) }</ul>
                }
            } else if p.history.is_empty() {
                <p class="meta" id="refill-history" data-source="workstation">{ "None in this workstation's cache (the practice hub is not answering)." }</p>
            } else {
                <ul id="refill-history" data-source="workstation">{ for p.history.iter().map(|h| html! { <li>{ h }</li> }) }</ul>
            }
            <p class="meta" id="refill-review-date">{ &p.review }</p>
            if let Some(d) = &*done {
                <p class="status" id="refill-done" role="status">{ format!("{d}: queued for the practice hub.") }</p>
            }
            if let Some(e) = &*error {
                <p class="status" id="refill-error" data-state="error" role="alert">{ e }</p>
            }
            if p.items.len() > 1 {
                <div class="actions">
                    <button id="decide-items" type="button" onclick={on_items} disabled={items_blocked || done.is_some() || *busy}>
                        { "Send the decision for each medicine" }
                    </button>
                    <span class="meta">{ "Or decide them all at once below." }</span>
                </div>
            }
            <div class="actions">
                <button id="approve" type="button" onclick={on_approve} disabled={p.approve_blocked.is_some() || done.is_some() || *busy}
                    aria-describedby="approve-why">{ "Approve" }</button>
                <span id="approve-why" class="meta">
                    { p.approve_blocked.clone().map(|why| format!("Approve is not allowed: {why}")).unwrap_or_default() }
                </span>
            </div>
            <label for="reject-reason">{ "Reason to reject" }</label>
            <select id="reject-reason" onchange={on_reason} onkeydown={stop.clone()}>
                <option value="" selected={reason.is_empty()}>{ "Choose a reason\u{2026}" }</option>
                { for p.reasons.iter().map(|r| html! {
                    <option value={r.key.clone()} selected={*reason == r.key}>{ &r.label }</option>
                }) }
            </select>
            <label for="refill-note">{ "Note to the patient (sent as a reply; needed for Other and for a query; \
                without one, the practice's wording for the decision is sent)" }</label>
            <textarea id="refill-note" rows="3" value={(*note).clone()} oninput={on_note} onkeydown={stop} maxlength="4000" />
            <div class="actions">
                <button id="reject" type="button" onclick={on_reject} disabled={p.decide_blocked.is_some() || done.is_some() || *busy}>{ "Reject" }</button>
                <button id="query" type="button" onclick={on_query} disabled={p.decide_blocked.is_some() || done.is_some() || *busy}>{ "Query the patient" }</button>
                if let Some(why) = &p.decide_blocked {
                    <span class="meta">{ format!("Not allowed: {why}") }</span>
                }
            </div>
        </section>
    }
}
