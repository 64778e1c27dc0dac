//! Writing to the practice: what it is about, the message, medicines for a
//! repeat prescription. The emergency notice is always shown, and again,
//! louder, when the patient's own words trip the red-flag detector, which
//! runs here on their text: nothing is sent to decide it.

use std::rc::Rc;

use sealbox_crypto::attachment::seal_for_message;
use sealbox_model::category::Category;
use sealbox_model::hub_api::PatientMessageRequest;
use sealbox_model::message::{FreeText, MedicationRequest, MedicationText, MessagePart};
use sealbox_model::red_flags::RedFlagDetector;
use sealbox_model::renewal::{RenewalAnswer, RenewalQuestions};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::renewal::{self, medicine_lines, RenewalForm};
use super::ChannelProps;
use super::{value, EMERGENCY};
use crate::channel::{new_thread, Channel};
use crate::hub;
use crate::photo::{self, Photo, MAX_PHOTOS};

/// The categories in the patient's words.
fn label(category: Category) -> &'static str {
    match category {
        Category::RepeatPrescription => "A repeat prescription",
        Category::MedicationQuestion => "A question about a medicine",
        Category::TestResults => "Test results",
        Category::ClinicalQuestion => "A health problem or question",
        Category::AdminFitNote => "A fit note (sick note)",
        Category::AdminAppointment => "An appointment",
        Category::AdminLetters => "A letter or form",
        Category::Other => "Something else",
    }
}

fn category(key: &str) -> Category {
    Category::ALL.into_iter().find(|c| c.key() == key).unwrap_or(Category::Other)
}

/// The parts of the message, or what is missing. `answers`: to the
/// practice's renewal questions, about `medicines` by their place.
fn parts(
    category: Category,
    text: &str,
    medicines: &[String],
    answers: Vec<RenewalAnswer>,
) -> Result<Vec<MessagePart>, &'static str> {
    let mut parts = Vec::new();
    if category == Category::RepeatPrescription {
        let items: Vec<MedicationText> = medicines.iter().map(MedicationText::new).collect();
        if items.is_empty() {
            return Err("Please type the medicines you need, one on each line.");
        }
        parts.push(MessagePart::MedicationRequest(MedicationRequest {
            items,
            shared_notes: Vec::new(),
            answers,
        }));
    }
    if !text.trim().is_empty() {
        parts.push(MessagePart::FreeText(FreeText::new(text.trim())));
    } else if parts.is_empty() {
        return Err("Please write your message.");
    }
    Ok(parts)
}

/// A message sealed and not yet known to have reached the practice: its
/// photos' sealed blobs and the sealed message, with what the form held
/// when it was sealed. Sent again as it is (same ids: the hub takes a
/// repeat as the same message, never a second one) while the form is
/// unchanged.
struct Sealed {
    category: Category,
    form: Vec<MessagePart>,
    photos: Vec<Rc<Photo>>,
    thread: u64,
    blobs: Vec<(String, Vec<u8>)>,
    message: PatientMessageRequest,
}

async fn seal(
    channel: &Channel,
    category: Category,
    parts: Vec<MessagePart>,
    photos: &[Rc<Photo>],
) -> Result<Sealed, String> {
    let pools = hub::pool_keys(channel).await.map_err(|e| e.to_string())?;
    let thread = new_thread();
    let mut sealed_parts = parts.clone();
    // Each photo sealed under a key of its own and put first; the message
    // carries the keys.
    let mut blobs = Vec::new();
    for photo in photos {
        let (reference, blob) = seal_for_message(&photo.bytes, "image/jpeg", &channel.practice, thread.0)
            .map_err(|e| e.to_string())?;
        blobs.push((reference.id.0.clone(), blob));
        sealed_parts.push(MessagePart::Attachment(reference));
    }
    let message = channel.seal_message(&pools, thread, category, &sealed_parts).map_err(|e| e.to_string())?;
    Ok(Sealed { category, form: parts, photos: photos.to_vec(), thread: thread.0, blobs, message })
}

async fn deliver(channel: &Channel, sealed: &Sealed) -> Result<(), String> {
    for (id, blob) in &sealed.blobs {
        hub::put_attachment(channel, sealed.thread, id, blob).await.map_err(|e| e.to_string())?;
    }
    hub::send(channel, &sealed.message).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// What was sealed still says what the form says now (the same photos too).
fn unchanged(sealed: &Sealed, category: Category, parts: &[MessagePart], photos: &[Rc<Photo>]) -> bool {
    sealed.category == category
        && sealed.form == parts
        && sealed.photos.len() == photos.len()
        && sealed.photos.iter().zip(photos).all(|(a, b)| Rc::ptr_eq(a, b))
}

/// "Photo 1: 1200 × 900, 240 KB".
fn photo_line(n: usize, photo: &Photo) -> String {
    format!("Photo {}: {} × {}, {} KB", n + 1, photo.width, photo.height, photo.bytes.len().div_ceil(1024))
}

#[function_component]
pub fn Write(props: &ChannelProps) -> Html {
    let kind = use_node_ref();
    let text = use_node_ref();
    let medicines = use_node_ref();
    let chosen = use_state(|| Category::RepeatPrescription);
    let urgent = use_state(|| false);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let sent = use_state(|| false);
    let photos = use_state(Vec::<Rc<Photo>>::new);
    let picker = use_node_ref();
    // The message sealed for the last Send that did not reach the practice.
    let pending = use_mut_ref(|| None::<Rc<Sealed>>);
    let detector = use_memo((), |_| RedFlagDetector::new().ok());
    // The practice's questions about each medicine, once checked.
    let questions = use_state(|| None::<Rc<RenewalQuestions>>);
    let questions_error = use_state(|| None::<String>);
    let typed = use_state(Vec::<String>::new);
    // The medicines asked for before (kept in this browser), to pick from.
    let earlier = use_state(Vec::<String>::new);
    {
        let (earlier, channel) = (earlier.clone(), props.channel.clone());
        use_effect_with((), move |_| {
            spawn_local(async move { earlier.set(crate::earlier::load(&channel).await) });
        });
    }
    let pick = |medicine: String| {
        let (medicines, typed) = (medicines.clone(), typed.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(area) = medicines.cast::<web_sys::HtmlTextAreaElement>() else { return };
            let mut lines = medicine_lines(&area.value());
            if !lines.iter().any(|l| l.eq_ignore_ascii_case(&medicine)) {
                lines.push(medicine.clone());
            }
            area.set_value(&lines.join("\n"));
            typed.set(lines);
        })
    };
    {
        let (questions, questions_error, channel) =
            (questions.clone(), questions_error.clone(), props.channel.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                match hub::renewal_questions(&channel).await {
                    Ok(set) => questions.set(set.map(Rc::new)),
                    Err(hub::HubError::Untrusted(_)) => questions_error.set(Some(
                        "Your practice's questions about medicines could not be checked, so they are not shown. You can still send your request."
                            .to_owned(),
                    )),
                    Err(_) => questions_error.set(Some(
                        "We could not get your practice's questions about medicines. You can still send your request."
                            .to_owned(),
                    )),
                }
            });
        });
    }
    let on_medicines = {
        let (medicines, typed) = (medicines.clone(), typed.clone());
        Callback::from(move |_: InputEvent| typed.set(medicine_lines(&value(&medicines))))
    };

    let onchange = {
        let (kind, chosen) = (kind.clone(), chosen.clone());
        Callback::from(move |_: Event| chosen.set(category(&value(&kind))))
    };
    let oninput = {
        let (text, urgent, detector) = (text.clone(), urgent.clone(), detector.clone());
        Callback::from(move |_: InputEvent| {
            let flagged =
                detector.as_ref().as_ref().is_some_and(|d| d.assess(&value(&text)).suggests_urgent());
            urgent.set(flagged);
        })
    };
    let on_pick = {
        let (photos, error, picker) = (photos.clone(), error.clone(), picker.clone());
        Callback::from(move |_: Event| {
            let Some(input) = picker.cast::<web_sys::HtmlInputElement>() else { return };
            let files: Vec<web_sys::File> = input
                .files()
                .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
                .unwrap_or_default();
            input.set_value("");
            error.set(None);
            let (photos, error) = (photos.clone(), error.clone());
            spawn_local(async move {
                let mut kept: Vec<Rc<Photo>> = (*photos).clone();
                for file in files {
                    if kept.len() >= MAX_PHOTOS {
                        error.set(Some(format!("You can add up to {MAX_PHOTOS} photos.")));
                        break;
                    }
                    match photo::prepare(&file).await {
                        Ok(p) => kept.push(Rc::new(p)),
                        Err(message) => error.set(Some(message)),
                    }
                }
                photos.set(kept);
            });
        })
    };
    let remove = |n: usize| {
        let photos = photos.clone();
        Callback::from(move |_: MouseEvent| {
            photos.set(photos.iter().enumerate().filter(|(i, _)| *i != n).map(|(_, p)| p.clone()).collect());
        })
    };
    let onsubmit = {
        let (text, medicines, chosen) = (text.clone(), medicines.clone(), chosen.clone());
        let (error, busy, sent, channel) = (error.clone(), busy.clone(), sent.clone(), props.channel.clone());
        let (photos, questions, pending) = (photos.clone(), questions.clone(), pending.clone());
        let earlier = earlier.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let listed = medicine_lines(&value(&medicines));
            let answers = match &*questions {
                Some(set) if *chosen == Category::RepeatPrescription => renewal::answers(set, &listed),
                _ => Vec::new(),
            };
            let parts = match parts(*chosen, &value(&text), &listed, answers) {
                Ok(parts) => parts,
                Err(message) => return error.set(Some(message.to_owned())),
            };
            busy.set(true);
            let (error, busy, sent, channel, chosen) =
                (error.clone(), busy.clone(), sent.clone(), channel.clone(), *chosen);
            let (photos, attached, pending) = (photos.clone(), (*photos).clone(), pending.clone());
            // Sent again after a failure: the message sealed then, if the
            // form still says the same; else sealed anew.
            let kept = pending.borrow().as_ref().filter(|p| unchanged(p, chosen, &parts, &attached)).cloned();
            let asked = if chosen == Category::RepeatPrescription { listed.clone() } else { Vec::new() };
            let earlier = earlier.clone();
            spawn_local(async move {
                let sealed = match kept {
                    Some(sealed) => Ok(sealed),
                    None => seal(&channel, chosen, parts, &attached).await.map(Rc::new),
                };
                let outcome = match sealed {
                    Ok(sealed) => {
                        *pending.borrow_mut() = Some(sealed.clone());
                        deliver(&channel, &sealed).await
                    }
                    Err(message) => Err(message),
                };
                match outcome {
                    Ok(()) => {
                        pending.borrow_mut().take();
                        if !asked.is_empty() {
                            let remembered = crate::earlier::merged(&earlier, &asked);
                            crate::earlier::remember(&channel, &remembered).await;
                            earlier.set(remembered);
                        }
                        error.set(None);
                        photos.set(Vec::new());
                        sent.set(true);
                    }
                    Err(message) => error
                        .set(Some(format!("{message} Your message is kept here: press Send to try again."))),
                }
                busy.set(false);
            });
        })
    };
    let again = {
        let (sent, urgent, typed) = (sent.clone(), urgent.clone(), typed.clone());
        Callback::from(move |_: MouseEvent| {
            // A fresh form: no questions about the medicines just sent.
            typed.set(Vec::new());
            urgent.set(false);
            sent.set(false);
        })
    };

    if *sent {
        return html! {
            <section id="sent">
                <h1>{ "Message sent" }</h1>
                <p role="status">{ "Your practice has your message. We will reply here within 2 working days." }</p>
                <p class="notice">{ EMERGENCY }</p>
                <button id="write-another" onclick={again}>{ "Write another message" }</button>
            </section>
        };
    }
    html! {
        <section id="write">
            <h1>{ "Write to your practice" }</h1>
            <p id="emergency" class="notice">{ EMERGENCY }</p>
            <form {onsubmit}>
                <label for="category">{ "What is it about?" }</label>
                <select id="category" ref={kind} {onchange}>
                    { for Category::ALL.into_iter().map(|c| html! {
                        <option value={c.key()} selected={c == *chosen}>{ label(c) }</option>
                    }) }
                </select>
                if *chosen == Category::RepeatPrescription {
                    <label for="medicines">{ "Medicines you need" }</label>
                    <span class="hint" id="medicines-hint">{ "One on each line, as on the box. For example: Ramipril 5mg capsules" }</span>
                    if !earlier.is_empty() {
                        <span class="hint" id="earlier-hint">{ "You asked for these before. Tap one to add it." }</span>
                        <ul id="earlier" class="earlier" aria-describedby="earlier-hint">
                            { for earlier.iter().map(|m| html! {
                                <li><button type="button" class="pick" onclick={pick(m.clone())}>{ format!("Add {m}") }</button></li>
                            }) }
                        </ul>
                    }
                    <textarea id="medicines" ref={medicines} rows="3" aria-describedby="medicines-hint" oninput={on_medicines} />
                    if let Some(set) = &*questions {
                        <RenewalForm questions={set.clone()} medicines={(*typed).clone()} />
                    }
                    if let Some(e) = &*questions_error {
                        <p id="questions-error" class="hint" role="status">{ e }</p>
                    }
                }
                <label for="message">{ "Your message" }</label>
                <textarea id="message" ref={text} rows="6" {oninput} />
                if *urgent {
                    <div id="urgent-notice" class="urgent" role="alert">
                        <strong>{ "What you wrote may need help today." }</strong>
                        <p>{ "Do not wait for a reply. Call 999 now if it is an emergency. Or call 111 for help now." }</p>
                    </div>
                }
                <label for="photos">{ "Photos (optional)" }</label>
                <span class="hint" id="photos-hint">{ "Up to 3, for example of a rash. We make them smaller and remove hidden details, like where they were taken." }</span>
                <input id="photos" ref={picker} type="file" accept="image/*" multiple=true aria-describedby="photos-hint" onchange={on_pick} />
                <ul id="photo-list">
                    { for photos.iter().enumerate().map(|(n, p)| html! {
                        <li class="photo">
                            { photo_line(n, p) }
                            <button type="button" class="remove-photo" onclick={remove(n)}
                                aria-label={format!("Remove photo {}", n + 1)}>{ "Remove" }</button>
                        </li>
                    }) }
                </ul>
                if let Some(message) = &*error {
                    <p id="send-error" class="error" role="alert">{ message }</p>
                }
                <button id="send" type="submit" disabled={*busy}>
                    { if *busy { "Sending…" } else { "Send" } }
                </button>
            </form>
        </section>
    }
}
