//! The workload view (`w` on the inbox): per queue and per colleague, what
//! is open, due by the end of today and past its target; and the
//! clinician's own day: what they hold and what they closed today. Counts
//! and staff names only. Esc goes back to the inbox.

use sealbox_model::api::{WorkloadRow, WorkloadView};
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
    let panel = use_node_ref();
    {
        let (view, panel) = (view.clone(), panel.clone());
        use_effect_with((), move |_| {
            if let Some(el) = panel.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
            wasm_bindgen_futures::spawn_local(async move {
                view.set(Some(ipc::workload().await.map_err(|e| e.to_string())));
            });
        });
    }
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
                </> },
            } }
            <button id="workload-back" type="button" onclick={on_back}>{ "Back to inbox (Esc)" }</button>
        </div>
    }
}
