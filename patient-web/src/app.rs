//! Which screen shows: joining (an invite link), opening the channel kept
//! in this browser, or writing. An open channel is forgotten after
//! inactivity (`idle`).

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::channel::{Channel, StoredChannel};
use crate::pages::home::Home;
use crate::pages::join::Join;
use crate::pages::unlock::Unlock;
use crate::{idle, vault};
use sealbox_crypto::patient_invite::InviteLink;

#[derive(Clone)]
enum Screen {
    Loading,
    /// Neither an invite nor a channel kept here.
    NoInvite,
    /// Something kept here could not be read.
    Broken(String),
    Join(Rc<InviteLink>),
    Unlock(Rc<StoredChannel>, Option<&'static str>),
    Open(Rc<Channel>),
}

fn location() -> (String, String) {
    let location = web_sys::window().map(|w| w.location());
    let hash = location.as_ref().and_then(|l| l.hash().ok()).unwrap_or_default();
    let query = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    (hash.trim_start_matches('#').to_owned(), query)
}

/// Takes the invite out of the address bar once it is used (the query,
/// which holds no secret, stays).
fn forget_invite() {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let kept = format!("{}/patient/{}", crate::hub::base(), location().1);
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&kept));
    }
}

async fn kept(notice: Option<&'static str>) -> Screen {
    match vault::load().await {
        Ok(Some(stored)) => Screen::Unlock(Rc::new(stored), notice),
        Ok(None) => Screen::NoInvite,
        Err(e) => Screen::Broken(e.to_string()),
    }
}

#[function_component]
pub fn App() -> Html {
    let screen = use_state(|| Screen::Loading);
    {
        let screen = screen.clone();
        use_effect_with((), move |_| {
            let (hash, _) = location();
            match InviteLink::parse_fragment(&hash) {
                Some(link) => screen.set(Screen::Join(Rc::new(link))),
                None => spawn_local(async move { screen.set(kept(None).await) }),
            }
        });
    }
    let on_open = {
        let screen = screen.clone();
        Callback::from(move |channel: Rc<Channel>| {
            forget_invite();
            screen.set(Screen::Open(channel));
        })
    };
    let on_idle = {
        let screen = screen.clone();
        Callback::from(move |()| {
            let screen = screen.clone();
            screen.set(Screen::Loading);
            spawn_local(async move {
                screen.set(kept(Some("You were signed out because the page was not used for a while.")).await)
            });
        })
    };
    // Read once, as the page was opened.
    let asked_secs = *use_memo((), |_| idle::asked_secs(&location().1));
    html! {
        <>
            <header class="banner">{ "Secure messages to your GP practice" }</header>
            {
                match &*screen {
                    Screen::Loading => html! { <main><p role="status">{ "Loading…" }</p></main> },
                    Screen::NoInvite => html! {
                        <main id="no-invite">
                            <h1>{ "Secure messages to your GP practice" }</h1>
                            <p>{ "To start, open the invite link your practice gave you." }</p>
                        </main>
                    },
                    Screen::Broken(why) => html! {
                        <main><p class="error" role="alert">{ why.clone() }</p></main>
                    },
                    Screen::Join(link) => html! { <Join link={link.clone()} on_joined={on_open.clone()} /> },
                    Screen::Unlock(stored, notice) => html! {
                        <Unlock stored={stored.clone()} on_open={on_open.clone()} notice={*notice} />
                    },
                    Screen::Open(channel) => html! {
                        <Home channel={channel.clone()} {on_idle} {asked_secs} />
                    },
                }
            }
        </>
    }
}
