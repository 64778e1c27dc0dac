//! An opened channel: writing, or reading the practice's replies. It
//! signs itself out when left alone (`idle`).

use std::rc::Rc;

use sealbox_model::hub_api::PatientPolicy;
use yew::prelude::*;

use super::replies::Replies;
use super::write::Write;
use crate::channel::Channel;
use crate::hub;
use crate::idle::use_idle_sign_out;

#[derive(Properties, Clone)]
pub struct Props {
    pub channel: Rc<Channel>,
    /// Called once the page has been left alone for as long as the
    /// practice allows (or `asked_secs`, if sooner).
    pub on_idle: Callback<()>,
    pub asked_secs: Option<u32>,
}

impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.channel, &other.channel)
            && self.on_idle == other.on_idle
            && self.asked_secs == other.asked_secs
    }
}

#[function_component]
pub fn Home(props: &Props) -> Html {
    // 15 minutes until the practice's policy is read; then its limit.
    let policy = use_state(|| None::<PatientPolicy>);
    {
        let (policy, channel) = (policy.clone(), props.channel.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(read) = hub::patient_policy(&channel).await {
                    policy.set(Some(read));
                }
            });
        });
    }
    use_idle_sign_out(PatientPolicy::sign_out_ms(*policy, props.asked_secs), props.on_idle.clone());
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
