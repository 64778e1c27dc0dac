//! The practice's replies, opened in the browser with the channel's key:
//! newest first, each signed off with the clinician's name and role. A
//! reply that cannot be opened safely is shown as such, never hidden.

use sealbox_crypto::patient_message::OpenedReply;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::ChannelProps;
use crate::hub;

enum Loaded {
    Loading,
    Failed(String),
    Replies(Vec<Result<OpenedReply, String>>),
}

fn reply(item: &Result<OpenedReply, String>) -> Html {
    match item {
        Ok(r) => html! {
            <article class="reply" data-thread={r.thread_id.to_string()}>
                <h2>{ "From your practice" }</h2>
                <p class="reply-text">{ r.text.reveal() }</p>
                if r.from_revoked_device {
                    <p class="hint">{ "Sent from a computer your practice has since stopped using." }</p>
                }
            </article>
        },
        Err(why) => html! {
            <article class="reply unreadable">
                <p class="error">{ format!("A reply could not be opened safely: {why}. Please tell your practice.") }</p>
            </article>
        },
    }
}

#[function_component]
pub fn Replies(props: &ChannelProps) -> Html {
    let loaded = use_state(|| Loaded::Loading);
    {
        let (loaded, channel) = (loaded.clone(), props.channel.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                loaded.set(match hub::replies(&channel).await {
                    Ok(replies) => Loaded::Replies(replies),
                    Err(e) => Loaded::Failed(e.to_string()),
                });
            });
        });
    }
    html! {
        <section id="replies">
            <h1>{ "Replies from your practice" }</h1>
            {
                match &*loaded {
                    Loaded::Loading => html! { <p role="status">{ "Opening your replies…" }</p> },
                    Loaded::Failed(why) => html! { <p class="error" role="alert">{ why.clone() }</p> },
                    Loaded::Replies(list) if list.is_empty() => html! {
                        <p id="no-replies">{ "No replies yet. We reply within 2 working days." }</p>
                    },
                    Loaded::Replies(list) => list.iter().rev().map(reply).collect::<Html>(),
                }
            }
        </section>
    }
}
