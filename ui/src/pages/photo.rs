//! A photo in the thread: the shell fetches and opens it in memory and
//! hands its bytes to the page, which shows them through a `blob:` URL
//! (the CSP allows `img-src 'self' blob:` and nothing else). The URL is
//! revoked when the photo leaves the page — another thread, Back, or the
//! lock, which unmounts everything — so nothing outlives what is shown.
//! Anything not a JPEG or PNG is listed by type and size, not opened.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sealbox_model::api::AttachmentLine;
use wasm_bindgen::JsValue;
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AttachmentProps {
    /// The thread shown.
    pub thread: String,
    pub attachment: AttachmentLine,
}

/// A `blob:` URL of `bytes` as `media_type` (revoke it when it leaves the page).
pub fn object_url(bytes: &js_sys::Uint8Array, media_type: &str) -> Result<String, JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(bytes), &options)?;
    web_sys::Url::create_object_url_with_blob(&blob)
}

#[function_component(Attachment)]
pub fn attachment(props: &AttachmentProps) -> Html {
    let url = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let a = &props.attachment;
    {
        let (url, error) = (url.clone(), error.clone());
        let key = (props.thread.clone(), a.id.clone(), a.media_type.clone(), a.image);
        use_effect_with(key, move |(thread, id, media_type, image)| {
            let made: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
            let shown = Rc::new(Cell::new(true));
            if *image {
                let (made, shown) = (made.clone(), shown.clone());
                let (thread, id, media_type) = (thread.clone(), id.clone(), media_type.clone());
                spawn_local(async move {
                    let opened = crate::ipc::open_attachment(thread, id).await;
                    if !shown.get() {
                        return;
                    }
                    match opened {
                        Ok(bytes) => match object_url(&bytes, &media_type) {
                            Ok(u) => {
                                *made.borrow_mut() = Some(u.clone());
                                url.set(Some(u));
                            }
                            Err(_) => error.set(Some("The photo could not be shown.".to_owned())),
                        },
                        Err(e) => error.set(Some(e.0)),
                    }
                });
            }
            move || {
                shown.set(false);
                if let Some(u) = made.borrow_mut().take() {
                    let _ = web_sys::Url::revoke_object_url(&u);
                }
            }
        });
    }
    html! {
        <figure class="attachment" data-attachment={a.id.clone()} data-image={a.image.to_string()}>
            if let Some(u) = &*url {
                <img src={u.clone()} alt={format!("{} sent by the patient", a.label)} />
            } else if let Some(e) = &*error {
                <p class="status" data-state="error" role="alert">{ e }</p>
            } else if a.image {
                <p class="meta" aria-live="polite">{ "Opening the photo…" }</p>
            }
            <figcaption class="meta">{ &a.label }</figcaption>
        </figure>
    }
}
