//! The workload view (`w` on the inbox): per queue and per colleague, what
//! is open, due by the end of today and past its target; and the
//! clinician's own day: what they hold and what they closed today. Going
//! away: what they hold goes to a named deputy (where the rules let them
//! take it) or back to its queue; with a day back, the absence is recorded
//! at the hub (nobody hands them a thread meanwhile). Counts and staff
//! names only. Esc goes back to the inbox.

use sealbox_model::api::{CoverRequest, WorkloadRow, WorkloadView};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::ipc;

#[derive(Properties, PartialEq)]
pub struct WorkloadProps {
    /// Back to the inbox.
    pub on_back: Callback<()>,
}

fn table(id: &'static str, title: &'static str, who: &'static str, rows: &[WorkloadRow]) -> Html {
    let heading = format!("{id}-title");
    html! {
        <section {id} class="workload" aria-labelledby={heading.clone()} data-count={rows.len().to_string()}>
            <h3 id={heading}>{ title }</h3>
            if rows.is_empty() {
                <p class="meta">{ "Nobody holds an open thread." }</p>
            } else {
                <table>
                    <thead><tr>
                        <th scope="col">{ who }</th><th scope="col">{ "Open" }</th>
                        <th scope="col">{ "Due today" }</th><th scope="col">{ "Breached" }</th>
                    </tr></thead>
                    <tbody>
                        { for rows.iter().map(|r| html! {
                            <tr data-label={r.label.clone()} data-open={r.open.to_string()}
                                data-due={r.due_today.to_string()} data-breached={r.breached.to_string()}>
                                <th scope="row">{ &r.label }</th>
                                <td>{ r.open }</td><td>{ r.due_today }</td>
                                <td class={classes!((r.breached > 0).then_some("breached"))}>{ r.breached }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}

#[function_component(WorkloadPanel)]
pub fn workload_panel(props: &WorkloadProps) -> Html {
    let view = use_state(|| None::<Result<WorkloadView, String>>);
    let covered = use_state(|| None::<String>);
    let panel = use_node_ref();
    let deputy_box = use_node_ref();
    let back_box = use_node_ref();
    let reload = {
        let view = view.clone();
        Callback::from(move |()| {
            let view = view.clone();
            wasm_bindgen_futures::spawn_local(async move {
                view.set(Some(ipc::workload().await.map_err(|e| e.to_string())));
            });
        })
    };
    {
        let (reload, panel) = (reload.clone(), panel.clone());
        use_effect_with((), move |_| {
            if let Some(el) = panel.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
            reload.emit(());
        });
    }
    let on_cover = {
        let (covered, reload, deputy_box) = (covered.clone(), reload.clone(), deputy_box.clone());
        let back_box = back_box.clone();
        Callback::from(move |_: MouseEvent| {
            let deputy = deputy_box.cast::<HtmlSelectElement>().map(|s| s.value()).filter(|v| !v.is_empty());
            let back_on =
                back_box.cast::<web_sys::HtmlInputElement>().map(|i| i.value()).filter(|v| !v.is_empty());
            let (covered, reload) = (covered.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let away = back_on.is_some();
                let said = match ipc::cover_absence(CoverRequest { deputy, back_on }).await {
                    Ok(r) => format!(
                        "{}Handed on: {} to your deputy, {} back to their queues. Response targets keep running.",
                        if away { "Your absence is recorded: nobody can hand you a thread until you are back. " } else { "" },
                        r.to_deputy, r.to_queue
                    ),
                    Err(e) => format!("Nothing was handed on: {e}"),
                };
                covered.set(Some(said));
                reload.emit(());
            });
        })
    };
    let on_key = {
        let back = props.on_back.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                back.emit(());
            }
        })
    };
    let on_back = {
        let back = props.on_back.clone();
        Callback::from(move |_: MouseEvent| back.emit(()))
    };
    html! {
        <div id="workload" class="mine" tabindex="0" ref={panel} onkeydown={on_key}>
            <h2>{ "Workload" }</h2>
            { match &*view {
                None => html! { <p class="meta">{ "Counting…" }</p> },
                Some(Err(e)) => html! { <p class="status" data-state="error" role="alert">{ e }</p> },
                Some(Ok(w)) => html! { <>
                    <p id="my-day" class="meta" data-holding={w.holding.to_string()}
                        data-finished={w.finished_today.to_string()}>
                        { format!("You hold {} open thread{} and closed {} today. Counted at {}.",
                            w.holding, if w.holding == 1 { "" } else { "s" }, w.finished_today, w.as_of) }
                    </p>
                    { table("workload-queues", "Queues", "Queue", &w.queues) }
                    { table("workload-people", "People", "Who", &w.people) }
                    <section id="going-away" class="composer" aria-labelledby="going-away-title">
                        <h3 id="going-away-title">{ "Going away" }</h3>
                        <label for="deputy">{ "Hand what you hold to (where they may take it; otherwise back to its queue)" }</label>
                        <select id="deputy" ref={deputy_box.clone()} onkeydown={Callback::from(|e: KeyboardEvent| e.stop_propagation())}>
                            <option value="" selected=true>{ "Nobody: back to the queues" }</option>
                            { for w.deputies.iter().map(|d| html! {
                                <option value={d.id.clone()} data-label={d.label.clone()}>{ &d.label }</option>
                            }) }
                        </select>
                        <label for="back-on">{ "Back on (recorded at the practice hub: nobody hands you a thread until then)" }</label>
                        <input id="back-on" type="date" ref={back_box.clone()}
                            onkeydown={Callback::from(|e: KeyboardEvent| e.stop_propagation())} />
                        <button id="cover" type="button" onclick={on_cover.clone()}>
                            { "Go away: hand on what I hold" }
                        </button>
                        if let Some(said) = &*covered {
                            <p id="covered" class="status" role="status">{ said }</p>
                        }
                    </section>
                </> },
            } }
            <button id="workload-back" type="button" onclick={on_back}>{ "Back to inbox (Esc)" }</button>
        </div>
    }
}
