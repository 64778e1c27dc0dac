//! Typed calls into the desktop shell over Tauri's IPC.
//!
//! Every call names a command from `sealbox_model::api::command` and decodes
//! the reply into that command's sealbox-model type.

use sealbox_model::api::{
    command, ActivityView, AppStatus, AttachmentRequest, ChangeRequest, CoverReport, CoverRequest,
    EnrolRequest, HandRequest, InboxRequest, InboxView, MyActivityView, NoteRequest, OpenThreadRequest,
    PatientInviteForm, PatientInviteView, RecordPanel, RecordSetup, RefillHistoryView, RefillRequest,
    RemovalReport, RemoveClinicianRequest, ReplyRequest, Settings, SettingsView, ThreadView, UnlockRequest,
    UpdateView, WorkloadView,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // Tauri's global API (`app.withGlobalTauri`); the promise rejects with
    // the command's error.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// A call into the shell, boxed (for handlers that pick one of several).
pub type IpcFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, IpcError>>>>;

/// Why a call into the shell failed. Carries no patient data: the shell's
/// errors are log-safe by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct IpcError(pub String);

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn describe(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".to_owned())
}

async fn call_raw(cmd: &str, args: JsValue) -> Result<JsValue, IpcError> {
    let has_tauri = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__TAURI__"))
        .map(|v| !v.is_undefined())
        .unwrap_or(false);
    if !has_tauri {
        return Err(IpcError("the Sealbox shell is not available".to_owned()));
    }
    tauri_invoke(cmd, args).await.map_err(|e| IpcError(describe(&e)))
}

async fn call<T: DeserializeOwned>(cmd: &str, args: JsValue) -> Result<T, IpcError> {
    let reply = call_raw(cmd, args).await?;
    serde_wasm_bindgen::from_value(reply)
        .map_err(|e| IpcError(format!("{cmd} returned an unexpected reply: {e}")))
}

/// The shell's version, lock state and enrolment.
pub async fn app_status() -> Result<AppStatus, IpcError> {
    call(command::APP_STATUS, JsValue::UNDEFINED).await
}

fn request_args<R: serde::Serialize>(request: R) -> Result<JsValue, IpcError> {
    #[derive(serde::Serialize)]
    struct Args<R> {
        request: R,
    }
    serde_wasm_bindgen::to_value(&Args { request })
        .map_err(|_| IpcError("the request could not be encoded".to_owned()))
}

/// A command whose argument is named `request` (as the shell declares it).
async fn call_with<R: serde::Serialize, T: DeserializeOwned>(cmd: &str, request: R) -> Result<T, IpcError> {
    call(cmd, request_args(request)?).await
}

/// A photo of the thread, opened by the shell: its bytes (an `ArrayBuffer`
/// from the shell, viewed as bytes; never a file or a URL of the shell's).
pub async fn open_attachment(thread: String, attachment: String) -> Result<js_sys::Uint8Array, IpcError> {
    let reply =
        call_raw(command::OPEN_ATTACHMENT, request_args(AttachmentRequest { thread, attachment })?).await?;
    if reply.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::Array::is_array(&reply) {
        Ok(js_sys::Uint8Array::new(&reply))
    } else {
        Err(IpcError("open_attachment returned an unexpected reply".to_owned()))
    }
}

/// Unlocks with the security key and its PIN.
pub async fn unlock(pin: String) -> Result<InboxView, IpcError> {
    call_with(command::UNLOCK, UnlockRequest { pin }).await
}

/// Enrols this workstation (left locked).
pub async fn enrol(request: EnrolRequest) -> Result<AppStatus, IpcError> {
    call_with(command::ENROL, request).await
}

/// The inbox in triage order.
pub async fn inbox() -> Result<InboxView, IpcError> {
    call(command::INBOX, JsValue::UNDEFINED).await
}

/// Locks now; the shell reloads the window onto the lock page.
pub async fn lock_now() -> Result<(), IpcError> {
    call(command::LOCK_NOW, JsValue::UNDEFINED).await
}

/// Stops the security key's request in progress (it flashes no more).
pub async fn cancel_key() -> Result<(), IpcError> {
    call(command::CANCEL_KEY, JsValue::UNDEFINED).await
}

/// A Cancel button for while the key flashes.
pub fn cancel_key_button(id: &'static str) -> yew::Html {
    let onclick = yew::Callback::from(|_: yew::MouseEvent| {
        wasm_bindgen_futures::spawn_local(async {
            // Nothing to say if it fails: the request ends by itself.
            let _ = cancel_key().await;
        });
    });
    yew::html! {
        <button id={id} type="button" {onclick}>{ "Cancel" }</button>
    }
}

/// Input was seen in the window.
pub async fn heartbeat() -> Result<(), IpcError> {
    call(command::HEARTBEAT, JsValue::UNDEFINED).await
}

/// Opens a thread (the shell records the views).
pub async fn open_thread(thread: String) -> Result<ThreadView, IpcError> {
    call_with(command::OPEN_THREAD, OpenThreadRequest { thread }).await
}

/// Claims a thread for the clinician.
pub async fn claim(thread: String) -> Result<ThreadView, IpcError> {
    call_with(command::CLAIM, OpenThreadRequest { thread }).await
}

/// Merges a repeat request into the open request it repeats; answers with
/// that request.
pub async fn merge_repeat(thread: String) -> Result<ThreadView, IpcError> {
    call_with(command::MERGE_REPEAT, OpenThreadRequest { thread }).await
}

/// Confirms the patient details a newer message gave (replacing those held).
pub async fn confirm_patient_details(thread: String) -> Result<ThreadView, IpcError> {
    call_with(command::CONFIRM_PATIENT_DETAILS, OpenThreadRequest { thread }).await
}

/// Seals and queues a reply to the patient.
pub async fn reply(thread: String, text: String) -> Result<ThreadView, IpcError> {
    call_with(command::REPLY, ReplyRequest { thread, text }).await
}

/// Keeps the reply being typed as the thread's draft.
pub async fn save_draft(thread: String, text: String) -> Result<(), IpcError> {
    call_with(command::SAVE_DRAFT, ReplyRequest { thread, text }).await
}

/// Seals and queues an internal note for colleagues.
pub async fn add_note(request: NoteRequest) -> Result<ThreadView, IpcError> {
    call_with(command::ADD_NOTE, request).await
}

/// Shares a note into the medication part, for the pharmacy.
pub async fn share_with_pharmacy(request: NoteRequest) -> Result<ThreadView, IpcError> {
    call_with(command::SHARE_WITH_PHARMACY, request).await
}

/// Hands a thread to a queue or a colleague, with an optional note.
pub async fn hand_over(request: HandRequest) -> Result<ThreadView, IpcError> {
    call_with(command::HAND_OVER, request).await
}

/// Closes, reopens, awaits the patient or sets priority.
pub async fn change_thread(request: ChangeRequest) -> Result<ThreadView, IpcError> {
    call_with(command::CHANGE_THREAD, request).await
}

/// Undoes the last close or hand-over (within a few seconds of it).
pub async fn undo() -> Result<ThreadView, IpcError> {
    call(command::UNDO, JsValue::UNDEFINED).await
}

/// The clinician's settings.
pub async fn settings() -> Result<SettingsView, IpcError> {
    call(command::SETTINGS, JsValue::UNDEFINED).await
}

/// Saves settings.
pub async fn save_settings(settings: Settings) -> Result<SettingsView, IpcError> {
    call_with(command::SAVE_SETTINGS, settings).await
}

/// Removes a colleague from this shared workstation.
pub async fn remove_clinician(user_id: String) -> Result<RemovalReport, IpcError> {
    call_with(command::REMOVE_CLINICIAN, RemoveClinicianRequest { user_id }).await
}

/// Decides a repeat prescription request.
pub async fn refill_decision(request: RefillRequest) -> Result<ThreadView, IpcError> {
    call_with(command::REFILL_DECISION, request).await
}

/// The patient's earlier requests as the practice hub holds them.
pub async fn refill_history(thread: String) -> Result<RefillHistoryView, IpcError> {
    call_with(command::REFILL_HISTORY, OpenThreadRequest { thread }).await
}

/// Who did what on a thread.
pub async fn thread_activity(thread: String) -> Result<ActivityView, IpcError> {
    call_with(command::THREAD_ACTIVITY, OpenThreadRequest { thread }).await
}

/// The workload per queue and per colleague, and the clinician's day.
pub async fn workload() -> Result<WorkloadView, IpcError> {
    call(command::WORKLOAD, JsValue::UNDEFINED).await
}

/// Hands what the clinician holds to a deputy, or back to its queues.
pub async fn cover_absence(request: CoverRequest) -> Result<CoverReport, IpcError> {
    call_with(command::COVER_ABSENCE, request).await
}

/// A patient's invite to write from their browser.
pub async fn invite_patient(request: PatientInviteForm) -> Result<PatientInviteView, IpcError> {
    call_with(command::INVITE_PATIENT, request).await
}

/// A new invite for a thread's patient (a lost phone).
pub async fn reinvite_patient(thread: String) -> Result<PatientInviteView, IpcError> {
    call_with(command::REINVITE_PATIENT, OpenThreadRequest { thread }).await
}

/// What the practice hub offers as a desktop update.
pub async fn check_update() -> Result<UpdateView, IpcError> {
    call(command::CHECK_UPDATE, JsValue::UNDEFINED).await
}

/// Installs the offered `version` (the shell checks its signature).
pub async fn install_update(version: String) -> Result<UpdateView, IpcError> {
    call_with(command::INSTALL_UPDATE, version).await
}

/// The thread and the patient's record (the patient looked up).
pub async fn record_panel(thread: String) -> Result<RecordPanel, IpcError> {
    call_with(command::RECORD_PANEL, OpenThreadRequest { thread }).await
}

/// Saves the thread to the patient's record.
pub async fn save_to_record(thread: String) -> Result<RecordPanel, IpcError> {
    call_with(command::SAVE_TO_RECORD, OpenThreadRequest { thread }).await
}

/// Confirms the record's patient despite a differing name or birth date.
pub async fn confirm_record_match(thread: String) -> Result<RecordPanel, IpcError> {
    call_with(command::CONFIRM_RECORD_MATCH, OpenThreadRequest { thread }).await
}

/// Exports the thread's record Bundle as a file.
pub async fn export_record(thread: String) -> Result<RecordPanel, IpcError> {
    call_with(command::EXPORT_RECORD, OpenThreadRequest { thread }).await
}

/// This workstation's record system set-up.
pub async fn record_setup() -> Result<RecordSetup, IpcError> {
    call(command::RECORD_SETUP, JsValue::UNDEFINED).await
}

/// The clinician's own recent events.
pub async fn my_activity() -> Result<MyActivityView, IpcError> {
    call(command::MY_ACTIVITY, JsValue::UNDEFINED).await
}

/// The inbox of one queue, or urgent threads only.
pub async fn inbox_of(request: InboxRequest) -> Result<InboxView, IpcError> {
    call_with(command::INBOX, request).await
}
