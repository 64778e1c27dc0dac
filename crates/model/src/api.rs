//! Typed requests and responses between the UI (wasm) and the desktop shell.
//!
//! Both sides use these types, so a renamed field breaks the build rather than
//! the running app. Command names live here too, so the shell's registration,
//! its build-time permission manifest and the UI's calls cannot drift.

use serde::{Deserialize, Serialize};

/// Names of the shell's commands, as the UI invokes them.
pub mod command {
    /// Returns [`super::AppStatus`].
    pub const APP_STATUS: &str = "app_status";
    /// Takes [`super::UnlockRequest`] (as `request`); returns [`super::InboxView`].
    pub const UNLOCK: &str = "unlock";
    /// Takes [`super::EnrolRequest`] (as `request`): enrols this workstation
    /// with the security key, then leaves it locked; returns
    /// [`super::AppStatus`].
    pub const ENROL: &str = "enrol";
    /// Locks at once ("Lock now", Ctrl+L); the window returns to the lock page.
    pub const LOCK_NOW: &str = "lock_now";
    /// The webview's debounced activity signal (input in Sealbox's window).
    pub const HEARTBEAT: &str = "heartbeat";
    /// Returns [`super::InboxView`] (locked: an error).
    pub const INBOX: &str = "inbox";
    /// Takes [`super::OpenThreadRequest`] (as `request`); returns
    /// [`super::ThreadView`]. Records that the clinician viewed each patient
    /// message shown (audited).
    pub const OPEN_THREAD: &str = "open_thread";
    /// Takes [`super::OpenThreadRequest`] (as `request`); claims the thread
    /// for the clinician (queued, sent at once when online) and returns the
    /// [`super::ThreadView`] as it now stands.
    pub const CLAIM: &str = "claim";
    /// Takes [`super::OpenThreadRequest`] (as `request`); merges the thread
    /// into the open request it repeats ([`super::ThreadView::repeat_of`];
    /// queued, sent at once when online) and returns that request's
    /// [`super::ThreadView`].
    pub const MERGE_REPEAT: &str = "merge_repeat";

    /// Takes [`super::OpenThreadRequest`] (as `request`); the clinician
    /// confirms the patient details a newer message gave
    /// ([`super::ThreadView::identity_change`]), which then replace those
    /// held (audited); returns the [`super::ThreadView`] as it now stands.
    pub const CONFIRM_PATIENT_DETAILS: &str = "confirm_patient_details";

    /// Takes [`super::ReplyRequest`] (as `request`); seals and queues the
    /// reply (sent at once when online) and returns the [`super::ThreadView`]
    /// with it shown.
    pub const REPLY: &str = "reply";

    /// Takes [`super::ReplyRequest`] (as `request`); keeps the text as the
    /// thread's draft in the encrypted cache (blank clears it), so a lock
    /// loses nothing typed.
    pub const SAVE_DRAFT: &str = "save_draft";

    /// Takes [`super::RefillRequest`] (as `request`); decides a repeat
    /// prescription request if sealbox-model's rule allows it (queued, sent
    /// at once when online) and returns the [`super::ThreadView`].
    pub const REFILL_DECISION: &str = "refill_decision";

    /// Takes [`super::NoteRequest`] (as `request`); seals and queues an
    /// internal note for colleagues (never to the patient); returns the
    /// [`super::ThreadView`] with it shown.
    pub const ADD_NOTE: &str = "add_note";

    /// Takes [`super::HandRequest`] (as `request`); hands the thread to a
    /// queue or a named colleague, with an optional internal note, if
    /// sealbox-model's rules allow it; returns the [`super::ThreadView`].
    pub const HAND_OVER: &str = "hand_over";

    /// Takes [`super::NoteRequest`] (as `request`); shares the text as a
    /// note in the medication part, which the pharmacy may read where it
    /// may not read the patient's free text; returns the [`super::ThreadView`].
    pub const SHARE_WITH_PHARMACY: &str = "share_with_pharmacy";

    /// Takes [`super::ChangeRequest`] (as `request`); closes, reopens,
    /// awaits the patient or sets priority and category, if
    /// sealbox-model's rules allow it (queued, sent at once when online);
    /// returns the [`super::ThreadView`].
    pub const CHANGE_THREAD: &str = "change_thread";

    /// Undoes the clinician's last close or hand-over, within
    /// `sealbox_model::undo::UNDO_SECONDS` of it (reopened, held again by
    /// whoever held it; queued and sent like any action); returns the
    /// [`super::ThreadView`] of its thread.
    pub const UNDO: &str = "undo";

    /// Takes [`super::AttachmentRequest`] (as `request`); fetches the
    /// attachment's blob from the hub and opens it in memory (never on
    /// disk); answers with its bytes as an `ArrayBuffer`, only for an image
    /// whose bytes are what its message says ([`super::AttachmentLine::image`]).
    pub const OPEN_ATTACHMENT: &str = "open_attachment";

    /// Takes [`super::RemoveClinicianRequest`] (as `request`); removes a
    /// colleague from this shared workstation (their seat: cache, wrapped
    /// key, identity, profile) if the clinician unlocked here may (a
    /// practice admin, never themselves); audited in the remover's chain;
    /// returns [`super::RemovalReport`].
    pub const REMOVE_CLINICIAN: &str = "remove_clinician";

    /// Returns [`super::SettingsView`].
    pub const SETTINGS: &str = "settings";
    /// Takes [`super::Settings`] (as `request`); saves them if the
    /// practice's policy allows; returns [`super::SettingsView`].
    pub const SAVE_SETTINGS: &str = "save_settings";

    /// The patient's earlier requests of a refill thread as the practice
    /// hub holds them ([`super::OpenThreadRequest`] → [`super::RefillHistoryView`]).
    pub const REFILL_HISTORY: &str = "refill_history";
    /// Who did what on a thread ([`super::OpenThreadRequest`] → [`super::ActivityView`]).
    pub const THREAD_ACTIVITY: &str = "thread_activity";
    /// The clinician's sign-ins and own recent events (→ [`super::MyActivityView`]).
    pub const MY_ACTIVITY: &str = "my_activity";

    /// The practice's workload as this workstation holds it: per queue and
    /// per person, open, due today and breached; the clinician's own day
    /// (→ [`super::WorkloadView`]).
    pub const WORKLOAD: &str = "workload";

    /// Takes [`super::CoverRequest`] (as `request`); hands every open thread
    /// the clinician holds to the deputy where the rules let them take it,
    /// else back to its queue (sent at once when online); returns
    /// [`super::CoverReport`].
    pub const COVER_ABSENCE: &str = "cover_absence";

    /// Takes [`super::PatientInviteForm`] (as `request`); a care navigator
    /// or practice manager makes a patient's invite to write from their
    /// browser; returns [`super::PatientInviteView`].
    pub const INVITE_PATIENT: &str = "invite_patient";

    /// Takes `thread`; a care navigator or practice manager gives the
    /// thread's patient a new invite (a lost phone: joining with it closes
    /// the old channel); returns [`super::PatientInviteView`].
    pub const REINVITE_PATIENT: &str = "reinvite_patient";

    /// Stops the security key's request in progress (the lock screen's and
    /// the enrolment's Cancel while the key flashes).
    pub const CANCEL_KEY: &str = "cancel_key";

    /// Asks the practice hub for a desktop update (→ [`super::UpdateView`]).
    pub const CHECK_UPDATE: &str = "check_update";
    /// Takes the version the clinician was offered (as `request`); downloads it
    /// from the hub, checks its signature and installs it with the
    /// system's installer, unless work waits in the outbox
    /// (→ [`super::UpdateView`]).
    pub const INSTALL_UPDATE: &str = "install_update";

    /// Takes [`super::OpenThreadRequest`] (as `request`); where the thread
    /// stands with the patient's record: the patient looked up by NHS
    /// number on the practice's FHIR endpoint (once, then kept), the save
    /// waiting or done (→ [`super::RecordPanel`]).
    pub const RECORD_PANEL: &str = "record_panel";
    /// Takes [`super::OpenThreadRequest`] (as `request`); queues the thread
    /// to be saved to the patient's record (audited), unless the patient
    /// match waits for a clinician's confirmation, and sends what waits
    /// (→ [`super::RecordPanel`]).
    pub const SAVE_TO_RECORD: &str = "save_to_record";
    /// Takes [`super::OpenThreadRequest`] (as `request`); the clinician
    /// confirms that the record's patient is the one who wrote, though
    /// their name or date of birth differ (audited) (→ [`super::RecordPanel`]).
    pub const CONFIRM_RECORD_MATCH: &str = "confirm_record_match";
    /// Takes [`super::OpenThreadRequest`] (as `request`); writes the
    /// thread's FHIR Bundle as a `.json` file to the clinician's downloads
    /// (audited), for a practice without an endpoint (→ [`super::RecordPanel`]).
    pub const EXPORT_RECORD: &str = "export_record";
    /// This workstation's record system set-up, for practice IT
    /// (→ [`super::RecordSetup`]).
    pub const RECORD_SETUP: &str = "record_setup";

    /// Every command the shell registers; build.rs declares exactly these to
    /// Tauri's permission system.
    pub const ALL: &[&str] = &[
        APP_STATUS,
        UNLOCK,
        ENROL,
        LOCK_NOW,
        HEARTBEAT,
        INBOX,
        OPEN_THREAD,
        CLAIM,
        MERGE_REPEAT,
        CONFIRM_PATIENT_DETAILS,
        REPLY,
        SAVE_DRAFT,
        REFILL_DECISION,
        CHANGE_THREAD,
        UNDO,
        ADD_NOTE,
        HAND_OVER,
        SHARE_WITH_PHARMACY,
        OPEN_ATTACHMENT,
        SETTINGS,
        SAVE_SETTINGS,
        REMOVE_CLINICIAN,
        THREAD_ACTIVITY,
        REFILL_HISTORY,
        MY_ACTIVITY,
        WORKLOAD,
        COVER_ABSENCE,
        INVITE_PATIENT,
        REINVITE_PATIENT,
        CANCEL_KEY,
        CHECK_UPDATE,
        INSTALL_UPDATE,
        RECORD_PANEL,
        SAVE_TO_RECORD,
        CONFIRM_RECORD_MATCH,
        EXPORT_RECORD,
        RECORD_SETUP,
    ];
}

/// Whether the clinical workspace is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// No data key in memory; only the lock screen can be shown.
    Locked,
    /// The cache is open for the signed-in clinician.
    Unlocked,
}

impl LockState {
    /// The word shown to the user.
    pub fn label(self) -> &'static str {
        match self {
            LockState::Locked => "locked",
            LockState::Unlocked => "unlocked",
        }
    }
}

/// Reply to [`command::APP_STATUS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppStatus {
    /// The shell's version (Cargo package version).
    pub version: String,
    /// The current lock state.
    pub lock: LockState,
    /// Whether this workstation has been enrolled (else: the enrolment wizard).
    pub enrolled: bool,
    /// Why it last locked ("idle", "lock_now", "screen_locked", ...), if it did.
    pub last_lock: Option<String>,
    /// Enrolled with a key without hmac-secret: the weaker keyring mode,
    /// which the lock screen names.
    pub weaker_key: bool,
    /// Enrolled with the demo's software key (a demo or test practice
    /// only), which the lock screen names.
    #[serde(default)]
    pub demo_key: bool,
    /// Seconds before the next unlock attempt is allowed, after repeated
    /// failures (0: now); the lock screen counts down.
    pub unlock_wait_secs: u32,
    /// How many clinicians are enrolled here (a shared workstation has
    /// more than one; the lock screen names none of them).
    #[serde(default)]
    pub clinicians: u32,
}

/// Arguments of [`command::UNLOCK`]. `Debug` hides the PIN.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// The security key's PIN (user verification).
    pub pin: String,
}

impl std::fmt::Debug for UnlockRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockRequest { pin: <hidden> }")
    }
}

/// Arguments of [`command::ENROL`]. `Debug` hides the invite code and PIN.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The practice hub's address, e.g. "https://hub.riverside.example".
    pub hub: String,
    /// The one-time invite code from the practice admin.
    pub invite_code: String,
    /// What this workstation is called, e.g. "Room 3 PC".
    pub device_name: String,
    /// The security key's PIN (the demo's software key takes it as new).
    pub pin: String,
}

impl std::fmt::Debug for InboxRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxRequest")
            .field("queue", &self.queue)
            .field("urgent_only", &self.urgent_only)
            .field("search", &self.search.as_ref().map(|_| "<hidden>"))
            .field("offset", &self.offset)
            .field("limit", &self.limit)
            .field("category", &self.category)
            .field("unassigned", &self.unassigned)
            .field("state", &self.state)
            .finish()
    }
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest").field("hub", &self.hub).finish_non_exhaustive()
    }
}

/// Arguments of [`command::INBOX`] (optional: without them, every queue).
/// `Debug` hides the search text (it may be a patient's name).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxRequest {
    /// A pool key ("gp", "nurse", "pharmacy", "admin"), "mine" (held by the
    /// clinician), or none for every queue.
    pub queue: Option<String>,
    /// Only urgent threads.
    pub urgent_only: bool,
    /// Only threads whose messages contain these words (as word prefixes,
    /// in the cache's full-text index) or whose patient's name contains
    /// this text.
    #[serde(default)]
    pub search: Option<String>,
    /// The first row wanted (a virtual list's scroll position).
    #[serde(default)]
    pub offset: u32,
    /// How many rows (0: the shell's default; it caps the number).
    #[serde(default)]
    pub limit: u32,
    /// Only this category (a category key, e.g. "repeat_prescription").
    #[serde(default)]
    pub category: Option<String>,
    /// Only threads nobody holds yet.
    #[serde(default)]
    pub unassigned: bool,
    /// Only threads in this state (a state key, e.g. "awaiting_patient";
    /// "closed" lists closed threads, which are otherwise left out).
    #[serde(default)]
    pub state: Option<String>,
}

/// The inbox as the UI shows it, in triage order. Carries patient names:
/// for the webview only, never logged (`Debug` shows counts).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxView {
    /// Who is signed in, e.g. "gp · Room 3 PC".
    pub clinician: String,
    /// Online (verified by the hub) or offline.
    pub online: bool,
    /// The footer: "Online · last sync 10:51 · 0 queued" or "Offline since
    /// 10:40 · 2 queued".
    pub sync: String,
    /// Rows, urgent and breached first, from position `offset`.
    pub rows: Vec<InboxLine>,
    /// Where `rows` start in the whole list.
    pub offset: u32,
    /// How many threads match in all (the virtual list's length).
    pub total: u32,
    /// Of which urgent (counted by the cache, not from the rows loaded).
    #[serde(default)]
    pub urgent: u32,
    /// Of which past their response target.
    #[serde(default)]
    pub breached: u32,
    /// Open threads per queue, for the queue list.
    pub queues: Vec<QueueCount>,
    /// Something the clinician must know about this session (a damaged
    /// cache set aside and rebuilt: what was kept, what to check).
    #[serde(default)]
    pub notice: Option<String>,
}

/// Open threads in one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueCount {
    /// The pool key.
    pub pool: String,
    /// Open threads.
    pub open: u32,
    /// Of which urgent.
    pub urgent: u32,
    /// Of which past their response target.
    pub breached: u32,
}

impl std::fmt::Debug for InboxView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxView").field("rows", &self.rows.len()).finish_non_exhaustive()
    }
}

/// One inbox row.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxLine {
    /// Thread id, as a string: ids use all 63 bits, beyond what a
    /// JavaScript number holds exactly.
    pub thread: String,
    /// "urgent", "soon" or "routine".
    pub priority: String,
    /// Past its response target.
    pub breached: bool,
    /// Category key, e.g. "repeat_prescription".
    pub category: String,
    /// The queue it sits in.
    pub pool: String,
    /// State key, e.g. "new".
    pub state: String,
    /// The patient's name as shown.
    pub patient: String,
    /// When the latest patient message arrived (RFC 3339, UTC).
    pub received: String,
    /// The same in UK time as shown, e.g. "23 Nov 10:12".
    pub received_shown: String,
    /// The patient's age in years today (UK time).
    pub age: u16,
    /// Who holds it: "You", a colleague by name and role ("Asha Rao · GP"),
    /// or "" when it waits in its queue.
    pub owner: String,
    /// Against its response target: "on_track", "due_soon", "breached", or
    /// "" when the practice sets no target (closed, or none for it).
    pub breach: String,
    /// When the response is due, UK time as shown ("" without a target).
    pub due_shown: String,
    /// Why it is urgent: each red flag raised, with the patient's words
    /// that matched ('chest pain: "crushing pain in my chest"').
    pub flags: Vec<String>,
    /// One line of the patient's newest message (its first line of text,
    /// else the medicines asked for), "" when this device reads none of it.
    #[serde(default)]
    pub preview: String,
    /// It repeats an open request of the same patient (linked at intake).
    #[serde(default)]
    pub repeat: bool,
    /// How many other open threads the patient has.
    #[serde(default)]
    pub others_open: u32,
}

/// Arguments of [`command::OPEN_THREAD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenThreadRequest {
    /// The thread id, as in [`InboxLine::thread`].
    pub thread: String,
}

/// A thread as the reading pane shows it: plain text only. Carries patient
/// data: for the webview only (`Debug` shows counts).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadView {
    /// Thread id.
    pub thread: String,
    /// Category key.
    pub category: String,
    /// "urgent", "soon" or "routine".
    pub priority: String,
    /// State key.
    pub state: String,
    /// The patient's name as shown.
    pub patient: String,
    /// Age in years today (UK time).
    pub age: u16,
    /// NHS number, spaced 3-3-4.
    pub nhs_number: String,
    /// Messages, oldest first.
    pub messages: Vec<MessageLine>,
    /// When the latest patient message shown arrived (RFC 3339, UTC, as
    /// [`InboxLine::received`]): a newer one in the inbox means the patient
    /// wrote again since the thread was opened.
    pub latest_received: String,
    /// Whether the clinician may reply here (role and state allow it).
    pub can_reply: bool,
    /// Quick replies offered here, already filled with the thread's values.
    pub templates: Vec<TemplateLine>,
    /// The reply being drafted (a reply the hub refused comes back here).
    pub draft: String,
    /// For a repeat prescription request: the refill review.
    pub refill: Option<RefillPanel>,
    /// A newer message from this patient names them differently from the
    /// details shown (name, date of birth or NHS number): what it says, for
    /// a person to check and confirm. Never applied on its own.
    #[serde(default)]
    pub identity_change: Option<IdentityChange>,
    /// The red flags its patient messages raise, with the words that
    /// matched ('chest pain: "crushing pain in my chest"'): shown whatever
    /// priority a person gave it.
    #[serde(default)]
    pub flags: Vec<String>,
    /// The latest priority a person gave it (none: nobody has yet).
    #[serde(default)]
    pub triage: Option<TriageLine>,
    /// Whether this clinician may set its priority and category.
    #[serde(default)]
    pub can_triage: bool,
    /// Who holds it: "" when it waits in a queue, "You", or a colleague by
    /// name and role. Claiming a thread a colleague holds asks first.
    #[serde(default)]
    pub holder: String,
    /// Where this clinician may hand it: the queues and the colleagues
    /// (working here now) allowed to handle its category; empty when they
    /// may not hand it on.
    #[serde(default)]
    pub hand_to: Vec<HandOption>,
    /// Whether this clinician may add an internal note.
    #[serde(default)]
    pub can_note: bool,
    /// Whether the clinician may share a note into the medication part
    /// for the pharmacy: their role may, and only a shared note reaches the
    /// pharmacy on this thread (`sharing::reaches_pharmacy_only_shared`).
    #[serde(default)]
    pub can_share: bool,
    /// Whether the clinician may give this patient a new invite to write
    /// online (a lost phone: their old channel closes).
    #[serde(default)]
    pub can_reinvite: bool,
    /// The open request of the same patient this one repeats, linked at
    /// intake (merge with one key).
    #[serde(default)]
    pub repeat_of: Option<RepeatLine>,
    /// The patient's other open threads, newest first.
    #[serde(default)]
    pub patient_open: Vec<OtherThreadLine>,
}

/// The request a thread repeats. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatLine {
    /// Its thread id.
    pub thread: String,
    /// "asks for the same medicine" or "asks the same question".
    pub reason: String,
    /// Whether this clinician may merge (close this one into it).
    pub can_merge: bool,
}

/// Another open thread of the same patient. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherThreadLine {
    /// Its thread id.
    pub thread: String,
    /// Category key.
    pub category: String,
    /// State key.
    pub state: String,
    /// When its latest patient message arrived, UK time as shown.
    pub received_shown: String,
}

/// A queue or a colleague a thread can be handed to. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandOption {
    /// Where.
    pub to: crate::hub_api::AssignTarget,
    /// "GPs' queue" or "Asha Rao · GP".
    pub label: String,
    /// Whether they can read an internal note on this thread (a note
    /// handed to someone who cannot is refused).
    pub reads_notes: bool,
}

/// A person's triage decision as a thread shows it. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageLine {
    /// "urgent", "soon" or "routine".
    pub priority: String,
    /// Why it was lowered (the reason's words; "" when it was not).
    pub reason: String,
    /// Who ("Asha Rao · GP"; the staff id when the directory lacks them).
    pub by: String,
    /// When, UK time as shown.
    pub at_shown: String,
    /// It lowered a thread the red-flag detector raised.
    pub overruled_flag: bool,
}

/// Details a newer patient message gives, differing from those held.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityChange {
    /// The name it gives.
    pub patient: String,
    /// The date of birth it gives (e.g. "4 Mar 1961").
    pub date_of_birth: String,
    /// The NHS number it gives, spaced 3-3-4.
    pub nhs_number: String,
}

impl std::fmt::Debug for IdentityChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityChange(..)")
    }
}

/// The refill review of a repeat prescription request (patient data:
/// `Debug` shows counts).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefillPanel {
    /// The medicines of the latest request.
    pub items: Vec<RequestedItem>,
    /// This patient's earlier repeat requests in the cache, newest first
    /// ("12 Oct 2026 · Ramipril 5mg capsules · closed").
    pub history: Vec<String>,
    /// The medication review date's status, in words.
    pub review: String,
    /// Why Approve is not allowed now (sealbox-model's rule); none: allowed.
    pub approve_blocked: Option<String>,
    /// Why Reject / Query the patient are not allowed now; none: allowed.
    pub decide_blocked: Option<String>,
    /// The coded rejection reasons, in order.
    pub reasons: Vec<ReasonLine>,
    /// What the decider should know, in words: a medicine that needs
    /// blood monitoring, one listed twice or asked for days ago, a review
    /// overdue.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for RefillPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefillPanel")
            .field("items", &self.items.len())
            .field("approve_blocked", &self.approve_blocked.is_some())
            .finish_non_exhaustive()
    }
}

/// The patient's earlier requests as the practice hub holds them, newest
/// first ("12 Oct 2026 · Ramipril 5mg capsules · approved by Dr Asha Rao ·
/// closed"); medicines named where this workstation still holds the
/// thread. Patient data: `Debug` shows counts.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefillHistoryView {
    /// One line per earlier request.
    pub lines: Vec<String>,
}

impl std::fmt::Debug for RefillHistoryView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefillHistoryView").field("lines", &self.lines.len()).finish()
    }
}

/// One requested medicine, split for review; `text` is as written.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedItem {
    /// As the patient wrote it.
    pub text: String,
    /// The medicine's name.
    pub name: String,
    /// Strength, if written.
    pub strength: Option<String>,
    /// Form, if written.
    pub form: Option<String>,
    /// Quantity, if written.
    pub quantity: Option<String>,
    /// The patient's answers to the practice's renewal questions about it.
    #[serde(default)]
    pub answers: Vec<AnswerLine>,
}

/// A renewal question as the patient read it, and their answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerLine {
    /// The question.
    pub question: String,
    /// What the patient answered.
    pub answer: String,
}

/// A coded rejection reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonLine {
    /// The wire key, e.g. "review_needed".
    pub key: String,
    /// What the clinician reads.
    pub label: String,
}

/// The colour themes.
pub const THEMES: [&str; 3] = ["system", "light", "dark"];

/// The clinician's choices on this workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Lock after this long without input (only shorter than the practice
    /// allows).
    pub idle_seconds: u32,
    /// Blind notifications (true) or none.
    pub notifications: bool,
    /// One of [`THEMES`].
    pub theme: String,
}

/// The settings and the bounds the practice sets on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsView {
    /// What is in force.
    pub settings: Settings,
    /// The shortest idle lock allowed.
    pub idle_min_seconds: u32,
    /// The longest idle lock the practice allows.
    pub idle_max_seconds: u32,
    /// The practice key this workstation trusts, for two people to compare
    /// by eye (`None`: the practice has none yet).
    #[serde(default)]
    pub practice_key: Option<PracticeKeyView>,
    /// The clinicians enrolled on this workstation (a shared room), the
    /// one unlocked first. Filled by the shell, which holds the room.
    #[serde(default)]
    pub room: Vec<RoomMember>,
    /// Whether the clinician unlocked may invite patients (care navigator,
    /// practice manager).
    #[serde(default)]
    pub can_invite_patients: bool,
    /// The app's version (the workspace's, as the hub's `--version`), for
    /// Settings' About.
    #[serde(default)]
    pub version: String,
}

/// A desktop update, as Settings' About shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateView {
    /// The version running.
    pub running: String,
    /// A newer version the practice hub offers, ready to install.
    pub offered: Option<String>,
    /// Installed: the system's installer put this version in place; it
    /// runs from the next start.
    pub installed: Option<String>,
    /// What happened, in words for the clinician.
    pub message: String,
}

/// A thread and the patient's record, as the thread shows it. No patient
/// data: warnings and states in words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPanel {
    /// The practice has set up a record system on this workstation.
    pub endpoint: bool,
    /// Why the patient's record is in doubt, if it is.
    pub warning: Option<String>,
    /// The warning can be confirmed by a clinician (a name or date of
    /// birth that differs; an unknown patient or two patients with one
    /// number need the record fixed first).
    pub confirmable: bool,
    /// Who confirmed the match, and when ("Asha Rao · GP at 10:32").
    pub confirmed: Option<String>,
    /// "Save to record" may be pressed now.
    pub can_save: bool,
    /// Where the save stands: saved, waiting (and why), or nothing yet.
    pub status: String,
    /// The last thing done here, in words (an export's file, a refusal).
    pub message: String,
}

/// This workstation's record system set-up, as Settings shows it to
/// practice IT (who register the key with the record system).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSetup {
    /// Where the set-up file is read from.
    pub file: String,
    /// The FHIR base URL (empty: none set up).
    pub endpoint: String,
    /// The client id this workstation signs in with.
    pub client_id: String,
    /// The workstation's public key as a JWK, to register.
    pub jwk: String,
    /// Threads are saved when closed.
    pub save_on_close: bool,
    /// What is wrong with the set-up file, if anything.
    pub problem: Option<String>,
}

/// A clinician enrolled on this workstation, as Settings lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomMember {
    /// Their staff id (what [`RemoveClinicianRequest`] names).
    pub user_id: String,
    /// Their name as enrolled.
    pub name: String,
    /// Their role's title.
    pub role: String,
    /// The clinician unlocked now.
    pub you: bool,
    /// Whether the clinician unlocked now may remove them from here.
    pub removable: bool,
}

/// Removes a colleague from this workstation ([`command::REMOVE_CLINICIAN`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveClinicianRequest {
    /// Their staff id.
    pub user_id: String,
}

/// What removing a clinician from this workstation removed: names and
/// counts, no patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalReport {
    /// Their name as enrolled.
    pub name: String,
    /// The devices the hub knows for them here (one per key enrolled), for
    /// the practice admin to revoke at the hub when a key is lost.
    pub devices: Vec<String>,
    /// Files deleted (cache and journals, identity, profile, throttle).
    pub files_removed: u32,
    /// Whether their wrapped data key's keyring entry was deleted.
    pub keyring_entry_removed: bool,
}

/// The practice key as Settings shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeKeyView {
    /// `7QXM-2KD9-H4TR-B1NZ`.
    pub fingerprint: String,
    /// How this workstation came to trust it, in plain words.
    pub pinned_by: String,
}

/// A change to a thread's life cycle or priority (handing it on is
/// [`HandRequest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ThreadChange {
    /// Close, reopen, await the patient, start, triage.
    State {
        /// Which.
        change: crate::hub_api::StateOp,
    },
    /// Set priority and category (a reason when lowering an urgent or
    /// red-flagged thread).
    Prioritise {
        /// The decision.
        decision: crate::triage::TriageDecision,
    },
}

/// Arguments of [`command::CHANGE_THREAD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// The thread id.
    pub thread: String,
    /// The change.
    pub change: ThreadChange,
}

/// Arguments of [`command::REFILL_DECISION`]. `Debug` hides the note.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefillRequest {
    /// The thread id.
    pub thread: String,
    /// Approve, reject (with a coded reason) or query the patient.
    pub choice: crate::hub_api::RefillChoice,
    /// To the patient, sent as a sealed reply with the decision (required
    /// for the reason "other"; may be empty otherwise).
    pub note: String,
    /// Per medicine, when the request lists several and they are decided
    /// apart (`choice` must be what they make as a whole); empty: `choice`
    /// for every one.
    #[serde(default)]
    pub items: Vec<crate::hub_api::ItemDecision>,
}

impl std::fmt::Debug for RefillRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefillRequest").field("choice", &self.choice).finish_non_exhaustive()
    }
}

/// A quick reply, filled in for the thread (so it may name the patient and
/// medicines: `Debug` shows the key only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateLine {
    /// Stable key.
    pub key: String,
    /// What the picker shows.
    pub label: String,
    /// The text put into the composer.
    pub text: String,
}

impl std::fmt::Debug for TemplateLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateLine").field("key", &self.key).finish_non_exhaustive()
    }
}

/// Arguments of [`command::REPLY`]. `Debug` hides the text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The thread id.
    pub thread: String,
    /// The reply as written.
    pub text: String,
}

/// Arguments of [`command::ADD_NOTE`]. `Debug` hides the text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The thread id.
    pub thread: String,
    /// The note as written.
    pub text: String,
}

impl std::fmt::Debug for NoteRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteRequest").field("thread", &self.thread).finish_non_exhaustive()
    }
}

/// Arguments of [`command::HAND_OVER`]. `Debug` hides the note.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandRequest {
    /// The thread id.
    pub thread: String,
    /// The queue or colleague, one of [`ThreadView::hand_to`].
    pub to: crate::hub_api::AssignTarget,
    /// An internal note for them ("" for none).
    pub note: String,
}

impl std::fmt::Debug for HandRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandRequest")
            .field("thread", &self.thread)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReplyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyRequest").field("thread", &self.thread).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ThreadView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadView").field("messages", &self.messages.len()).finish_non_exhaustive()
    }
}

/// One message in a thread.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageLine {
    /// Message id.
    pub id: String,
    /// "Patient", "Sealbox" or the member of staff by name and role.
    pub from: String,
    /// When the hub received it, UK time as shown.
    pub received_shown: String,
    /// The free text, exactly as written (shown as text, never markup).
    pub text: String,
    /// Medicines asked for, as written.
    pub medicines: Vec<String>,
    /// Attachments (labelled by type, never by file name).
    pub attachments: Vec<AttachmentLine>,
    /// Who has viewed it, with when (UK time).
    pub viewed_by: Vec<String>,
    /// An internal note for colleagues (never sent to the patient), shown
    /// apart from replies.
    #[serde(default)]
    pub note: bool,
    /// "Written by Jo Patel (parent or guardian) on the patient's behalf",
    /// when someone wrote it for the patient.
    #[serde(default)]
    pub written_by: String,
    /// The repeat request it came from, when that was merged into this
    /// thread ("From the repeat request received 3 Dec 09:12, merged").
    #[serde(default)]
    pub merged_from: String,
}

/// An attachment as a thread lists it: by kind and size, never by the
/// file name the patient's device had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentLine {
    /// Its id at the hub (for [`command::OPEN_ATTACHMENT`]).
    pub id: String,
    /// Its media type, e.g. "image/png".
    pub media_type: String,
    /// "Photo (PNG, 24 KB)", "Attachment (application/pdf, 1.2 MB)".
    pub label: String,
    /// Shown inline as an image (a JPEG or PNG; the shell checks the bytes).
    pub image: bool,
}

/// Which attachment to open: the thread shown and the attachment's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    /// The thread shown (an attachment of a repeat merged into it opens too).
    pub thread: String,
    /// The attachment's id ([`AttachmentLine::id`]).
    pub attachment: String,
}

/// Audit events as the UI lists them: ids, names of staff, kinds and times
/// only — never clinical content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityView {
    /// Where the events come from: "practice" (every device's chain, from
    /// the hub) or "this workstation" (offline, or the user's own list).
    pub source: String,
    /// Oldest first for a thread; newest first for "My activity".
    pub lines: Vec<ActivityLine>,
}

/// "My activity": the clinician's sign-ins on every device (the hub's
/// record of attempts) and their events on this workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyActivityView {
    /// Sign-ins and enrolments, newest first; source "practice hub", or
    /// no lines and a source saying why (hub out of reach, unlocked offline).
    pub sign_ins: ActivityView,
    /// Unlocks, locks and actions here, newest first.
    pub workstation: ActivityView,
}

/// The workload view: who has what, and what falls due today, from the
/// threads this workstation may read. Counts and staff names only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadView {
    /// Each queue this workstation reads: its open threads (held or not).
    pub queues: Vec<WorkloadRow>,
    /// Each colleague holding open threads ("You" first when it is you).
    pub people: Vec<WorkloadRow>,
    /// Open threads the clinician holds.
    pub holding: u32,
    /// Threads the clinician closed today (UK day), on this workstation.
    pub finished_today: u32,
    /// When the counts were taken, UK time as shown.
    pub as_of: String,
    /// Colleagues working here now who could cover an absence.
    #[serde(default)]
    pub deputies: Vec<Deputy>,
}

/// A colleague who could cover. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deputy {
    /// Their staff id.
    pub id: String,
    /// "Asha Rao · GP".
    pub label: String,
}

/// Arguments of [`command::INVITE_PATIENT`]: the patient as the practice's
/// record names them. Patient data: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientInviteForm {
    /// Their name.
    pub name: String,
    /// Their date of birth (19/07/1984 or 1984-07-19).
    pub date_of_birth: String,
    /// Their NHS number.
    pub nhs_number: String,
}

impl std::fmt::Debug for PatientInviteForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientInviteForm(<redacted>)")
    }
}

/// A patient's invite to hand over: the link and its code. `Debug` redacts
/// both (whoever holds them may join as the patient, with their details).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientInviteView {
    /// The link to print or send.
    pub link: String,
    /// The code alone.
    pub code: String,
    /// The link as a QR code (SVG), for the patient's letter.
    pub qr_svg: String,
    /// Until when it stands, in words ("until Sat 19 Dec").
    pub expires: String,
}

impl std::fmt::Debug for PatientInviteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientInviteView").field("expires", &self.expires).finish_non_exhaustive()
    }
}

/// Arguments of [`command::COVER_ABSENCE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverRequest {
    /// The deputy's staff id; none: everything back to its queue.
    pub deputy: Option<String>,
    /// The day they are back ("2026-12-14"): recorded at the hub, so
    /// nobody hands them a thread until then. None: no absence recorded.
    #[serde(default)]
    pub back_on: Option<String>,
}

/// What an absence's cover moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverReport {
    /// Threads handed to the deputy.
    pub to_deputy: u32,
    /// Threads returned to their queue.
    pub to_queue: u32,
}

/// One queue's or one person's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRow {
    /// The queue's title, or the person's name and role.
    pub label: String,
    /// Open threads.
    pub open: u32,
    /// Of which due by the end of today and not yet past their target.
    pub due_today: u32,
    /// Of which past their response target.
    pub breached: u32,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityLine {
    /// When, UK time as shown.
    pub when_shown: String,
    /// "You", or the member of staff's name.
    pub who: String,
    /// What, in words ("viewed message 123", "claimed the thread").
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_status_round_trips_as_json_with_snake_case_state() {
        let status = AppStatus {
            version: "1.2.3".into(),
            lock: LockState::Locked,
            enrolled: true,
            last_lock: None,
            weaker_key: false,
            demo_key: true,
            unlock_wait_secs: 0,
            clinicians: 2,
        };
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(
            json,
            r#"{"version":"1.2.3","lock":"locked","enrolled":true,"last_lock":null,"weaker_key":false,"demo_key":true,"unlock_wait_secs":0,"clinicians":2}"#
        );
        let back: AppStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn app_status_rejects_unknown_fields_and_states() {
        let ok = r#"{"version":"1","lock":"locked","enrolled":false,"last_lock":"idle","weaker_key":false,"unlock_wait_secs":0}"#;
        assert!(serde_json::from_str::<AppStatus>(ok).is_ok());
        let extra = r#"{"version":"1","lock":"locked","enrolled":false,"last_lock":null,"weaker_key":false,"unlock_wait_secs":0,"x":1}"#;
        assert!(serde_json::from_str::<AppStatus>(extra).is_err());
        assert!(serde_json::from_str::<AppStatus>(
            r#"{"version":"1","lock":"open","enrolled":false,"last_lock":null,"weaker_key":false,"unlock_wait_secs":0}"#
        )
        .is_err());
    }

    #[test]
    fn debug_of_the_unlock_request_and_the_inbox_shows_no_pin_or_name() {
        let req = UnlockRequest { pin: "2468".into() };
        assert!(!format!("{req:?}").contains("2468"));
        let line = InboxLine {
            thread: "1".into(),
            priority: "urgent".into(),
            breached: false,
            category: "other".into(),
            pool: "gp".into(),
            state: "new".into(),
            patient: "Ada Lovelace".into(),
            received: "2026-01-01T00:00:00Z".into(),
            received_shown: "1 Jan 00:00".into(),
            age: 77,
            owner: String::new(),
            breach: "on_track".into(),
            due_shown: "2 Jan 18:30".into(),
            flags: vec![],
            preview: "Ada's chest".into(),
            repeat: false,
            others_open: 0,
        };
        let view = InboxView {
            clinician: "gp".into(),
            online: true,
            sync: "Online".into(),
            rows: vec![line],
            offset: 0,
            total: 1,
            urgent: 0,
            breached: 0,
            queues: vec![],
            notice: None,
        };
        assert!(!format!("{view:?}").contains("Ada"));
        let reply = ReplyRequest { thread: "1".into(), text: "Dear Ada".into() };
        assert!(!format!("{reply:?}").contains("Ada"));
        let refill = RefillRequest {
            thread: "1".into(),
            choice: crate::hub_api::RefillChoice::QueryPatient,
            note: "Ada, are you".into(),
            items: Vec::new(),
        };
        assert!(!format!("{refill:?}").contains("Ada"));
        let template = TemplateLine { key: "k".into(), label: "l".into(), text: "Dear Ada".into() };
        let search = InboxRequest { search: Some("Lovelace".into()), ..Default::default() };
        assert!(!format!("{search:?}").contains("Lovelace"));
        assert!(!format!("{template:?}").contains("Ada"));
    }
}
