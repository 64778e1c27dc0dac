//! The app's screens.

pub mod home;
pub mod join;
pub mod renewal;
pub mod replies;
pub mod unlock;
pub mod write;

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::{NodeRef, Properties};

use crate::channel::Channel;

/// The properties of a page of an opened channel.
#[derive(Properties, Clone)]
pub struct ChannelProps {
    pub channel: Rc<Channel>,
}

impl PartialEq for ChannelProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.channel, &other.channel)
    }
}

/// The current value of an input, text area or select.
pub fn value(node: &NodeRef) -> String {
    if let Some(input) = node.cast::<HtmlInputElement>() {
        input.value()
    } else if let Some(area) = node.cast::<HtmlTextAreaElement>() {
        area.value()
    } else if let Some(select) = node.cast::<HtmlSelectElement>() {
        select.value()
    } else {
        String::new()
    }
}

/// The notice shown before every message.
pub const EMERGENCY: &str =
    "This is not for emergencies. If you need help now, call 999. For urgent advice, call 111.";
