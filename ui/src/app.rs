//! The root component: asks the shell for its status and shows the page that
//! fits the lock state.

use sealbox_model::api::AppStatus;
use yew::prelude::*;

use crate::ipc::{self, IpcError};
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
    {
        let status = status.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                status.set(match ipc::app_status().await {
                    Ok(s) => Status::Ready(s),
                    Err(e) => Status::Failed(e),
                });
            });
        });
    }
    html! { <LockPage status={(*status).clone()} /> }
}
