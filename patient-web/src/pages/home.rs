//! An opened channel: writing, or reading the practice's replies. It
//! signs itself out when left alone (`idle`).

use std::rc::Rc;

use yew::prelude::*;

use super::replies::Replies;
use super::write::Write;
use crate::channel::Channel;
use crate::idle::use_idle_sign_out;

#[derive(Properties, Clone)]
pub struct Props {
    pub channel: Rc<Channel>,
    /// Called once the page has been left alone for `idle_ms`.
    pub on_idle: Callback<()>,
    pub idle_ms: u32,
}

impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.channel, &other.channel)
            && self.on_idle == other.on_idle
            && self.idle_ms == other.idle_ms
    }
}

#[function_component]
pub fn Home(props: &Props) -> Html {
    use_idle_sign_out(props.idle_ms, props.on_idle.clone());
    let reading = use_state(|| false);
    let show = |to: bool| {
        let reading = reading.clone();
        Callback::from(move |_: MouseEvent| reading.set(to))
    };
    html! {
        <>
            <nav class="tabs" aria-label="Your messages">
                <button id="show-write" class="tab" aria-current={(!*reading).then_some("page")} onclick={show(false)}>
                    { "Write" }
                </button>
                <button id="show-replies" class="tab" aria-current={(*reading).then_some("page")} onclick={show(true)}>
                    { "Replies" }
                </button>
            </nav>
            <main>
                if *reading {
                    <Replies channel={props.channel.clone()} />
                } else {
                    <Write channel={props.channel.clone()} />
                }
            </main>
        </>
    }
}
