//! The root component: asks the shell for its status and shows the lock
//! screen, or the inbox once unlocked. Locking reloads the whole page (the
//! shell does it), so no clinical state outlives a lock.

use sealbox_model::api::{AppStatus, InboxView, LockState};
use yew::prelude::*;

use crate::ipc::{self, IpcError};
use crate::pages::inbox::InboxPage;
use crate::pages::lock::LockPage;

/// What the UI knows about the shell.
#[derive(Clone, PartialEq)]
pub enum Status {
    Loading,
    Ready(AppStatus),
    Failed(IpcError),
}

#[function_component(App)]
pub fn app() -> Html {
    let status = use_state(|| Status::Loading);
    let inbox = use_state(|| None::<InboxView>);
    {
        let (status, inbox) = (status.clone(), inbox.clone());
        use_effect_with((), move |_| {
            crate::activity::install();
            wasm_bindgen_futures::spawn_local(async move {
                let s = ipc::app_status().await;
                // Still unlocked after a reload (not a lock): back to the inbox.
                if let Ok(AppStatus { lock: LockState::Unlocked, .. }) = &s {
                    if let Ok(view) = ipc::inbox().await {
                        inbox.set(Some(view));
                    }
                }
                status.set(match s {
                    Ok(s) => Status::Ready(s),
                    Err(e) => Status::Failed(e),
                });
            });
        });
    }
    let on_unlocked = {
        let inbox = inbox.clone();
        Callback::from(move |view: InboxView| inbox.set(Some(view)))
    };
    let on_enrolled = {
        let status = status.clone();
        Callback::from(move |s: AppStatus| status.set(Status::Ready(s)))
    };
    match &*inbox {
        Some(view) => html! { <InboxPage view={view.clone()} /> },
        None => html! { <LockPage status={(*status).clone()} {on_unlocked} {on_enrolled} /> },
    }
}
