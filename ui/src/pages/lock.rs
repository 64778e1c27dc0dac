//! The lock screen: the only page shown while no data key is in memory. It
//! holds no patient data, so it is what the window shows after every lock.

use yew::prelude::*;

use crate::app::Status;

/// The heading the lock screen always shows.
pub const LOCK_HEADING: &str = "Sealbox is locked — insert and touch your security key";

#[derive(Properties, PartialEq)]
pub struct LockProps {
    pub status: Status,
}

#[function_component(LockPage)]
pub fn lock_page(props: &LockProps) -> Html {
    let (state, line) = match &props.status {
        Status::Loading => ("loading", "Connecting to Sealbox…".to_owned()),
        Status::Ready(s) => ("ready", format!("Sealbox {} · {}", s.version, s.lock.label())),
        Status::Failed(e) => ("error", format!("Sealbox could not start: {e}")),
    };
    html! {
        <main class="lock" aria-labelledby="lock-title">
            <svg class="lock-mark" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
                <path d="M32 4 8 13v17c0 15 10 26 24 30 14-4 24-15 24-30V13L32 4z" />
                <rect x="22" y="28" width="20" height="16" rx="2" class="lock-body" />
                <path d="M26 28v-5a6 6 0 0 1 12 0v5" class="lock-shackle" />
            </svg>
            <h1 id="lock-title">{ LOCK_HEADING }</h1>
            <p class="lock-hint">{ "Your key unlocks this workstation for you alone. Sealbox locks itself when left." }</p>
            <p id="app-status" class="status" data-state={state} role="status" aria-live="polite">{ line }</p>
        </main>
    }
}
