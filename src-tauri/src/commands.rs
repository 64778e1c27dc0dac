//! Tauri commands. Each one is named in `sealbox_model::api::command` (and so
//! declared to the permission system by build.rs) and answers with a
//! sealbox-model type. They adapt onto [`crate::desk::Shell`]; no rule here.

use sealbox_core::lock::Signal;
use sealbox_model::api::{
    ActivityView, AppStatus, AttachmentRequest, ChangeRequest, CoverReport, CoverRequest, EnrolRequest,
    HandRequest, InboxRequest, InboxView, MyActivityView, NoteRequest, OpenThreadRequest, PatientInviteForm,
    PatientInviteView, RecordPanel, RecordSetup, RefillHistoryView, RefillRequest, RemovalReport,
    RemoveClinicianRequest, ReplyRequest, Settings, SettingsView, ThreadView, UnlockRequest, UpdateView,
    WorkloadView,
};
use tauri::{AppHandle, State};

use crate::desk::{Shell, ShellError};

/// `app_status`: the version, lock state and enrolment.
#[tauri::command]
pub async fn app_status(app: AppHandle, shell: State<'_, Shell>) -> Result<AppStatus, ShellError> {
    shell.status(&app.package_info().version.to_string()).await
}

/// `unlock`: the security key's touch and PIN open the workstation.
#[tauri::command]
pub async fn unlock(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: UnlockRequest,
) -> Result<InboxView, ShellError> {
    shell.unlock(&app, &request.pin).await
}

/// `enrol`: invite code + the security key → this workstation enrolled
/// (left locked).
#[tauri::command]
pub async fn enrol(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: EnrolRequest,
) -> Result<AppStatus, ShellError> {
    shell.enrol(&app.package_info().version.to_string(), &request).await
}

/// `lock_now`: Ctrl+L or the button.
#[tauri::command]
pub async fn lock_now(app: AppHandle, shell: State<'_, Shell>) -> Result<(), ShellError> {
    shell.signal(&app, Signal::LockNow).await;
    Ok(())
}

/// `heartbeat`: input in the window (debounced by the UI).
#[tauri::command]
pub async fn heartbeat(app: AppHandle, shell: State<'_, Shell>) -> Result<(), ShellError> {
    shell.signal(&app, Signal::Input).await;
    Ok(())
}

/// `inbox`: the inbox in triage order; one queue or urgent threads only
/// when asked.
#[tauri::command]
pub async fn inbox(shell: State<'_, Shell>, request: Option<InboxRequest>) -> Result<InboxView, ShellError> {
    shell.inbox(&request.unwrap_or_default()).await
}

/// `open_thread`: a thread in plain text; its patient messages are recorded
/// as viewed by the clinician (audited).
#[tauri::command]
pub async fn open_thread(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<ThreadView, ShellError> {
    shell.open_thread(&request.thread).await
}

/// `claim`: the clinician takes the thread (queued, then sent).
#[tauri::command]
pub async fn claim(shell: State<'_, Shell>, request: OpenThreadRequest) -> Result<ThreadView, ShellError> {
    shell.claim(&request.thread).await
}

/// `merge_repeat`: the thread is merged into the open request it repeats
/// (queued, then sent); answers with that request.
#[tauri::command]
pub async fn merge_repeat(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<ThreadView, ShellError> {
    shell.merge_repeat(&request.thread).await
}

/// `confirm_patient_details`: the clinician confirms the details a newer
/// message gave for the thread's patient (audited).
#[tauri::command]
pub async fn confirm_patient_details(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<ThreadView, ShellError> {
    shell.confirm_patient_details(&request.thread).await
}

/// `reply`: a reply to the patient, sealed here and queued (then sent).
#[tauri::command]
pub async fn reply(shell: State<'_, Shell>, request: ReplyRequest) -> Result<ThreadView, ShellError> {
    shell.reply(&request.thread, &request.text).await
}

/// `open_attachment`: a photo in the thread, fetched, opened and checked in
/// memory; the webview receives its bytes as an `ArrayBuffer` (never a
/// file, never a URL another page could load).
#[tauri::command]
pub async fn open_attachment(
    shell: State<'_, Shell>,
    request: AttachmentRequest,
) -> Result<tauri::ipc::Response, ShellError> {
    let mut opened = shell.open_attachment(&request).await?;
    Ok(tauri::ipc::Response::new(std::mem::take(&mut *opened.bytes)))
}

/// `save_draft`: the reply being typed, kept in the encrypted cache.
#[tauri::command]
pub async fn save_draft(shell: State<'_, Shell>, request: ReplyRequest) -> Result<(), ShellError> {
    shell.save_draft(&request.thread, &request.text).await
}

/// `add_note`: an internal note for colleagues, sealed here and queued.
#[tauri::command]
pub async fn add_note(shell: State<'_, Shell>, request: NoteRequest) -> Result<ThreadView, ShellError> {
    shell.add_note(&request.thread, &request.text).await
}

/// `share_with_pharmacy`: a note shared into the medication part.
#[tauri::command]
pub async fn share_with_pharmacy(
    shell: State<'_, Shell>,
    request: NoteRequest,
) -> Result<ThreadView, ShellError> {
    shell.share_with_pharmacy(&request.thread, &request.text).await
}

/// `hand_over`: to a queue or a named colleague, with an optional note.
#[tauri::command]
pub async fn hand_over(shell: State<'_, Shell>, request: HandRequest) -> Result<ThreadView, ShellError> {
    shell.hand_over(&request).await
}

/// `change_thread`: close, reopen, await the patient, or set priority.
#[tauri::command]
pub async fn change_thread(
    shell: State<'_, Shell>,
    request: ChangeRequest,
) -> Result<ThreadView, ShellError> {
    shell.change_thread(&request).await
}

/// `undo`: the last close or hand-over, within a few seconds of it.
#[tauri::command]
pub async fn undo(shell: State<'_, Shell>) -> Result<ThreadView, ShellError> {
    shell.undo().await
}

/// `settings`: the clinician's settings and the practice's bounds.
#[tauri::command]
pub async fn settings(shell: State<'_, Shell>) -> Result<SettingsView, ShellError> {
    shell.settings().await
}

/// `save_settings`: saved if the practice allows; applied at once.
#[tauri::command]
pub async fn save_settings(shell: State<'_, Shell>, request: Settings) -> Result<SettingsView, ShellError> {
    shell.save_settings(&request).await
}

/// `remove_clinician`: a colleague removed from this shared workstation
/// (a practice admin's; audited).
#[tauri::command]
pub async fn remove_clinician(
    shell: State<'_, Shell>,
    request: RemoveClinicianRequest,
) -> Result<RemovalReport, ShellError> {
    shell.remove_clinician(&request).await
}

/// `refill_decision`: approve, reject or query a repeat prescription
/// request, if sealbox-model's rule allows it now.
#[tauri::command]
pub async fn refill_decision(
    shell: State<'_, Shell>,
    request: RefillRequest,
) -> Result<ThreadView, ShellError> {
    shell.refill_decision(&request).await
}

/// `thread_activity`: who viewed, claimed, replied and decided what on a
/// thread, and when (the practice's audit trail, or this workstation's).
#[tauri::command]
pub async fn thread_activity(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<ActivityView, ShellError> {
    shell.thread_activity(&request.thread).await
}

/// `refill_history`: the patient's earlier requests as the practice hub holds them.
#[tauri::command]
pub async fn refill_history(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<RefillHistoryView, ShellError> {
    shell.refill_history(&request.thread).await
}

/// `workload`: per queue and per colleague, and the clinician's day.
#[tauri::command]
pub async fn workload(shell: State<'_, Shell>) -> Result<WorkloadView, ShellError> {
    shell.workload().await
}

/// `cover_absence`: what the clinician holds, to a deputy or back to its queue.
#[tauri::command]
pub async fn cover_absence(
    shell: State<'_, Shell>,
    request: CoverRequest,
) -> Result<CoverReport, ShellError> {
    shell.cover_absence(&request).await
}

/// `invite_patient`: a patient's invite to write from their browser.
#[tauri::command]
pub async fn invite_patient(
    shell: State<'_, Shell>,
    request: PatientInviteForm,
) -> Result<PatientInviteView, ShellError> {
    shell.invite_patient(&request).await
}

/// `reinvite_patient`: a new invite for a thread's patient (a lost phone).
#[tauri::command]
pub async fn reinvite_patient(
    shell: State<'_, Shell>,
    thread: String,
) -> Result<PatientInviteView, ShellError> {
    shell.reinvite_patient(&thread).await
}

/// `my_activity`: the clinician's sign-ins and own recent events.
#[tauri::command]
pub async fn my_activity(shell: State<'_, Shell>) -> Result<MyActivityView, ShellError> {
    shell.my_activity().await
}

/// `cancel_key`: the Cancel button while the security key flashes.
#[tauri::command]
pub fn cancel_key(shell: State<'_, Shell>) {
    shell.cancel_key();
}

/// `check_update`: what the practice hub offers (Settings' About).
#[tauri::command]
pub async fn check_update(app: AppHandle, shell: State<'_, Shell>) -> Result<UpdateView, ShellError> {
    crate::updates::check(&app, &shell).await
}

/// `install_update`: the offered version, checked and installed.
#[tauri::command]
pub async fn install_update(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: String,
) -> Result<UpdateView, ShellError> {
    crate::updates::install(&app, &shell, &request).await
}

/// `record_panel`: the thread and the patient's record (the patient looked
/// up, waiting saves sent).
#[tauri::command]
pub async fn record_panel(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<RecordPanel, ShellError> {
    crate::record::panel(&shell, &request.thread).await
}

/// `save_to_record`: "Save to record" (key S).
#[tauri::command]
pub async fn save_to_record(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<RecordPanel, ShellError> {
    crate::record::save(&shell, &request.thread).await
}

/// `confirm_record_match`: a clinician confirms the record's patient.
#[tauri::command]
pub async fn confirm_record_match(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<RecordPanel, ShellError> {
    crate::record::confirm(&shell, &request.thread).await
}

/// `export_record`: the thread's Bundle as a file.
#[tauri::command]
pub async fn export_record(
    shell: State<'_, Shell>,
    request: OpenThreadRequest,
) -> Result<RecordPanel, ShellError> {
    crate::record::export(&shell, &request.thread).await
}

/// `record_setup`: the record system set-up, for practice IT.
#[tauri::command]
pub async fn record_setup(shell: State<'_, Shell>) -> Result<RecordSetup, ShellError> {
    crate::record::setup(&shell).await
}
