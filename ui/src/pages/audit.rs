//! A list of audit events — who did what, when — as the thread pane and
//! "My activity" show them. Names, kinds and times only.

use sealbox_model::api::ActivityView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AuditListProps {
    /// The element id (for tests and labels).
    pub id: AttrValue,
    /// The heading.
    pub title: AttrValue,
    pub view: ActivityView,
}

#[function_component(AuditList)]
pub fn audit_list(props: &AuditListProps) -> Html {
    let heading = format!("{}-title", props.id);
    html! {
        <section id={props.id.clone()} class="audit" aria-labelledby={heading.clone()}
            data-source={props.view.source.clone()} data-count={props.view.lines.len().to_string()}>
            <h3 id={heading}>{ format!("{} ({})", props.title, props.view.source) }</h3>
            if props.view.lines.is_empty() {
                <p class="meta">{ "Nothing recorded yet." }</p>
            } else {
                <ol>
                    { for props.view.lines.iter().map(|l| html! {
                        <li><span class="meta">{ &l.when_shown }</span>{ " · " }
                            <span class="who">{ &l.who }</span>{ " " }{ &l.what }</li>
                    }) }
                </ol>
            }
        </section>
    }
}
