//! Settings' About: the version, and updates from the practice hub. Check
//! asks the hub; Install names the version offered, and the shell checks
//! its signature and refuses it while changes wait to send. What was last
//! said stays until the app locks (which reloads the page): a clinician
//! who leaves Settings to finish a reply comes back to the same offer.

use std::cell::RefCell;

use yew::prelude::*;

/// The version offered (Install shows while there is one) and the last
/// word on it: the shell's message, or its refusal.
#[derive(Clone, Default, PartialEq)]
struct Said {
    offered: Option<String>,
    status: Option<Result<String, String>>,
    /// Answers so far (`data-answer`: a new answer is told from the last).
    answers: u32,
}

thread_local! {
    static LAST: RefCell<Said> = RefCell::default();
}

/// Shows `said` and keeps it for the next time About opens.
fn remember(state: &UseStateHandle<Said>, mut said: Said) {
    said.answers = LAST.with(|last| last.borrow().answers) + 1;
    LAST.with(|last| *last.borrow_mut() = said.clone());
    state.set(said);
}

#[derive(Properties, PartialEq)]
pub struct AboutProps {
    pub version: String,
}

#[function_component(About)]
pub fn about(props: &AboutProps) -> Html {
    let said = use_state(|| LAST.with(|last| last.borrow().clone()));
    let busy = use_state(|| false);
    let check = {
        let (said, busy) = (said.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let (said, busy) = (said.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                remember(
                    &said,
                    match crate::ipc::check_update().await {
                        Ok(v) => Said { offered: v.offered, status: Some(Ok(v.message)), answers: 0 },
                        Err(e) => Said { offered: None, status: Some(Err(e.to_string())), answers: 0 },
                    },
                );
                busy.set(false);
            });
        })
    };
    let install = said.offered.clone().map(|version| {
        let (said, busy) = (said.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let (said, busy, version) = (said.clone(), busy.clone(), version.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                remember(
                    &said,
                    match crate::ipc::install_update(version.clone()).await {
                        Ok(v) => Said { offered: v.offered, status: Some(Ok(v.message)), answers: 0 },
                        // Refused: the offer stands, to install once the reason is gone.
                        Err(e) => {
                            Said { offered: Some(version), status: Some(Err(e.to_string())), answers: 0 }
                        }
                    },
                );
                busy.set(false);
            });
        })
    });
    let n = said.answers.to_string();
    html! {
        <>
            <h3>{ "About" }</h3>
            <p id="about-version">{ format!("Sealbox {}", props.version) }</p>
            <p class="meta">{ "Free software under the GNU Affero General Public License, version 3. What changed in each version: the changelog installed with it." }</p>
            <div class="actions">
                <button id="update-check" type="button" disabled={*busy} onclick={check}>{ "Check for updates" }</button>
                if let (Some(version), Some(install)) = (said.offered.clone(), install) {
                    <button id="update-install" type="button" disabled={*busy} onclick={install}>
                        { format!("Install Sealbox {version}") }
                    </button>
                }
            </div>
            { match &said.status {
                Some(Ok(m)) => html! { <p id="update-status" class="status" role="status" data-answer={n}>{ m }</p> },
                Some(Err(e)) => html! { <p id="update-status" class="status" data-state="error" role="alert" data-answer={n}>{ e }</p> },
                None => html! {},
            } }
        </>
    }
}
