//! The app's screens.

pub mod home;
pub mod join;
pub mod replies;
pub mod unlock;
pub mod write;

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::NodeRef;

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
