//! The reading pane: one thread, every message as plain text. Text is put
//! into the DOM as text nodes (Yew escapes it), so markup or script in a
//! message shows literally and never runs. Esc or "Back" returns.

use sealbox_model::api::ThreadView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ThreadProps {
    pub view: ThreadView,
    pub on_close: Callback<()>,
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
    let on_key = {
        let close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                close.emit(());
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
            <p class="meta">{ format!("{} · {} · {}", v.category.replace('_', " "), v.priority, v.state) }</p>
            { for v.messages.iter().map(|m| html! {
                <article class="message" data-id={m.id.clone()}>
                    <header class="meta">{ format!("{} · {}", m.from, m.received_shown) }</header>
                    if !m.text.is_empty() { <p class="body">{ &m.text }</p> }
                    if !m.medicines.is_empty() {
                        <ul class="medicines" aria-label="Medicines requested">
                            { for m.medicines.iter().map(|x| html! { <li>{ x }</li> }) }
                        </ul>
                    }
                    { for m.attachments.iter().map(|a| html! { <p class="meta">{ format!("Attachment ({a})") }</p> }) }
                    if !m.viewed_by.is_empty() {
                        <p class="viewed meta">{ format!("Viewed by {}", m.viewed_by.join(", ")) }</p>
                    }
                </article>
            }) }
            <button id="back" type="button" onclick={on_back}>{ "Back to inbox (Esc)" }</button>
        </section>
    }
}
