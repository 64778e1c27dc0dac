//! Priority in human hands: the red flags the thread raises (with the
//! patient's words that matched), whatever priority a person gave it; who
//! set the priority, when and why; and, for a clinician who may route the
//! thread, priority, category and (when lowering) a reason. p moves to the
//! priority control. The detector is a safety net: the panel says so.

use sealbox_model::api::{ThreadChange, ThreadView};
use sealbox_model::category::Category;
use sealbox_model::priority::Priority;
use sealbox_model::triage::{LowerReason, TriageDecision};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TriageProps {
    pub view: ThreadView,
    /// Sends the decision (the thread pane shows the answer or the error).
    pub on_change: Callback<ThreadChange>,
    /// The priority control, for the thread pane's p key.
    pub priority_box: NodeRef,
}

fn value_of(node: &NodeRef) -> String {
    node.cast::<web_sys::HtmlSelectElement>().map(|s| s.value()).unwrap_or_default()
}

#[function_component(TriagePanel)]
pub fn triage_panel(props: &TriageProps) -> Html {
    let v = &props.view;
    let (category_box, reason_box) = (use_node_ref(), use_node_ref());
    let on_save = {
        let (change, priority_box) = (props.on_change.clone(), props.priority_box.clone());
        let (category_box, reason_box) = (category_box.clone(), reason_box.clone());
        Callback::from(move |_: MouseEvent| {
            let priority = value_of(&priority_box);
            let category = value_of(&category_box);
            let Some(priority) = Priority::ALL.into_iter().find(|p| p.key() == priority) else { return };
            let Some(category) = Category::ALL.into_iter().find(|c| c.key() == category) else { return };
            let reason = LowerReason::from_key(&value_of(&reason_box));
            change.emit(ThreadChange::Prioritise { decision: TriageDecision { priority, category, reason } });
        })
    };
    let keep_keys = Callback::from(|e: KeyboardEvent| e.stop_propagation());
    html! {
        <section id="triage" class="triage" aria-label="Priority">
            if v.flags.is_empty() {
                <p id="no-flags" class="meta">
                    { "No red flag raised. The detector misses some urgent messages: read every message." }
                </p>
            } else {
                <div id="red-flags" class="status" data-state="warning">
                    <p>{ "Red flags: a safety net, not a decision. It misses some urgent messages and raises \
                          false alarms; you decide the priority." }</p>
                    <ul>{ for v.flags.iter().map(|f| html! { <li class="flag">{ f }</li> }) }</ul>
                </div>
            }
            if let Some(t) = &v.triage {
                <p id="triage-decision" class="meta" data-priority={t.priority.clone()}
                    data-overruled={t.overruled_flag.to_string()}>
                    { format!(
                        "Priority set to {} by {} at {}{}{}",
                        t.priority,
                        t.by,
                        t.at_shown,
                        if t.overruled_flag { ", overruling the red flag" } else { "" },
                        if t.reason.is_empty() { String::new() } else { format!(": {}", t.reason) },
                    ) }
                </p>
            }
            if v.can_triage {
                <div class="actions">
                    <label for="priority" class="meta">{ "Priority" }</label>
                    <select id="priority" ref={props.priority_box.clone()} onkeydown={keep_keys.clone()}>
                        { for Priority::ALL.iter().map(|p| html! {
                            <option value={p.key()} selected={p.key() == v.priority}>{ p.key() }</option>
                        }) }
                    </select>
                    <label for="category" class="meta">{ "Category" }</label>
                    <select id="category" ref={category_box} onkeydown={keep_keys.clone()}>
                        { for Category::ALL.iter().map(|c| html! {
                            <option value={c.key()} selected={c.key() == v.category}>{ c.key().replace('_', " ") }</option>
                        }) }
                    </select>
                    <label for="lower-reason" class="meta">{ "Reason, if lowering" }</label>
                    <select id="lower-reason" ref={reason_box} onkeydown={keep_keys}>
                        <option value="">{ "—" }</option>
                        { for LowerReason::ALL.iter().map(|r| html! {
                            <option value={r.key()}>{ r.label() }</option>
                        }) }
                    </select>
                    <button id="set-priority" type="button" onclick={on_save}>{ "Save priority (p)" }</button>
                </div>
            }
        </section>
    }
}
