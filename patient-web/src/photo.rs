//! Photos the patient attaches (a rash, a wound): decoded by the browser,
//! resized so the longer side is at most 1600 px, and encoded again as
//! JPEG from a canvas, which keeps the pixels and nothing else: no EXIF,
//! no location, no camera, no thumbnail of the uncropped picture. The
//! result is what gets sealed (`sealbox_crypto::attachment`).

use js_sys::{Promise, Uint8Array};
use sealbox_crypto::attachment::MAX_ATTACHMENT_BYTES;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, File, HtmlCanvasElement, ImageBitmap};

/// Photos on one message.
pub const MAX_PHOTOS: usize = 3;
/// The longer side of a photo as sent.
pub const MAX_SIDE: f64 = 1600.0;
/// The largest file taken in (phones' full-size photos fit).
pub const MAX_INPUT_BYTES: f64 = 30.0 * 1024.0 * 1024.0;
/// The JPEG quality it is encoded at.
const QUALITY: f64 = 0.85;

/// A photo ready to seal.
pub struct Photo {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The size a photo of `width` × `height` is sent at.
pub fn fitted(width: f64, height: f64) -> (u32, u32) {
    let scale = (MAX_SIDE / width.max(height)).min(1.0);
    ((width * scale).round().max(1.0) as u32, (height * scale).round().max(1.0) as u32)
}

fn failed(_: JsValue) -> String {
    "That photo could not be opened. Please try another, as a JPEG or PNG.".to_owned()
}

/// Resizes and re-encodes `file` (see the module docs).
pub async fn prepare(file: &File) -> Result<Photo, String> {
    if file.size() > MAX_INPUT_BYTES {
        return Err("That photo is too large (over 30 MB). Please choose a smaller one.".to_owned());
    }
    let window = web_sys::window().ok_or_else(|| failed(JsValue::NULL))?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file).map_err(failed)?)
        .await
        .map_err(failed)?
        .unchecked_into();
    let (width, height) = fitted(f64::from(bitmap.width()), f64::from(bitmap.height()));
    let canvas: HtmlCanvasElement = window
        .document()
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into().ok())
        .ok_or_else(|| failed(JsValue::NULL))?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(failed)?
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| failed(JsValue::NULL))?;
    context
        .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(width), f64::from(height))
        .map_err(failed)?;
    bitmap.close();
    let encoded = Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        if canvas
            .to_blob_with_type_and_encoder_options(
                done.unchecked_ref(),
                "image/jpeg",
                &JsValue::from_f64(QUALITY),
            )
            .is_err()
        {
            let _ = reject.call0(&JsValue::NULL);
        }
    });
    let blob: Blob = JsFuture::from(encoded).await.map_err(failed)?.dyn_into().map_err(failed)?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(failed)?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(
            "That photo is still too large after making it smaller. Please choose another.".to_owned()
        );
    }
    Ok(Photo { bytes, width, height })
}
