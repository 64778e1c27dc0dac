//! The inbox: the clinician's queues in triage order (urgent and breached
//! first). Refreshed from the shell every few seconds while open; "Lock
//! now" (or Ctrl+L) returns the window to the lock page.

use sealbox_model::api::InboxView;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::ipc;

const REFRESH_MS: i32 = 5_000;

#[derive(Properties, PartialEq)]
pub struct InboxProps {
    pub view: InboxView,
}

async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn category_label(key: &str) -> String {
    key.replace('_', " ")
}

#[function_component(InboxPage)]
pub fn inbox_page(props: &InboxProps) -> Html {
    let view = use_state(|| props.view.clone());
    {
        let view = view.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                loop {
                    pause(REFRESH_MS).await;
                    match ipc::inbox().await {
                        Ok(v) => view.set(v),
                        Err(_) => break,
                    }
                }
            });
        });
    }
    let on_lock = Callback::from(|_: MouseEvent| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = ipc::lock_now().await;
        });
    });
    let urgent = view.rows.iter().filter(|r| r.priority == "urgent").count();
    html! {
        <div class="inbox-page">
            <header class="bar">
                <span class="brand">{ "Sealbox" }</span>
                <span id="clinician" class="who">{ &view.clinician }</span>
                <span id="sync-state" class="sync" data-online={view.online.to_string()}>
                    { if view.online { "Online" } else { "Offline — verified on this device" } }
                </span>
                <button id="lock-now" type="button" onclick={on_lock} title="Lock now (Ctrl+L)">{ "Lock now" }</button>
            </header>
            <main aria-labelledby="inbox-title">
                <h1 id="inbox-title">
                    { format!("Inbox · {} threads", view.rows.len()) }
                    if urgent > 0 { <span class="badge urgent">{ format!("{urgent} urgent") }</span> }
                </h1>
                <table id="inbox" class="inbox">
                    <thead>
                        <tr><th scope="col">{ "Priority" }</th><th scope="col">{ "Patient" }</th>
                            <th scope="col">{ "Category" }</th><th scope="col">{ "Queue" }</th>
                            <th scope="col">{ "State" }</th><th scope="col">{ "Received" }</th></tr>
                    </thead>
                    <tbody>
                        { for view.rows.iter().map(|r| html! {
                            <tr class="row" data-thread={r.thread.to_string()} data-priority={r.priority.clone()}>
                                <td><span class={classes!("badge", r.priority.clone())}>{ &r.priority }</span>
                                    if r.breached { <span class="badge breached">{ "breached" }</span> }</td>
                                <td class="patient">{ &r.patient }</td>
                                <td>{ category_label(&r.category) }</td>
                                <td>{ &r.pool }</td>
                                <td>{ &r.state }</td>
                                <td><time datetime={r.received.clone()}>{ r.received.get(..16).unwrap_or(&r.received).replace('T', " ") }</time></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </main>
        </div>
    }
}
