//! An opened channel: writing, or reading the practice's replies.

use yew::prelude::*;

use super::replies::Replies;
use super::write::Write;
use super::ChannelProps;

#[function_component]
pub fn Home(props: &ChannelProps) -> Html {
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
