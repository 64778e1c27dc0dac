//! The shell's hold on the workstation: the lock state machine, the open
//! desk (cache, keys, hub session) and its sync task. Locking stops the
//! sync, locks the desk (audited, session ended, cache closed, keys
//! dropped) and reloads the webview onto the lock page, so nothing of the
//! previous page's DOM or state survives. While unlocked, new arrivals
//! become blind notifications when the window is not focused.

use std::time::Duration;

use sealbox_core::key::hardware::CancelHandle;
use sealbox_core::key::removal::KeyRemoval;
use sealbox_core::key::soft::SoftKey;
use sealbox_core::key::KeyError;
use sealbox_core::lock::{LockMachine, LockPolicy, LockReason, Signal};
use sealbox_core::notify::desktop::DesktopNotifications;
use sealbox_core::notify::locked::{LockedRoom, LockedWatch};
use sealbox_core::notify::{Arrivals, BlindNotifier};
use sealbox_core::sync::engine::SyncStatus;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::attachment::OpenedAttachment;
use sealbox_core::workstation::room::Room;
use sealbox_core::workstation::{Desk, WorkstationError};
use sealbox_model::api::{
    ActivityView, AppStatus, AttachmentRequest, ChangeRequest, CoverReport, CoverRequest, EnrolRequest,
    HandRequest, InboxRequest, InboxView, MyActivityView, PatientInviteForm, PatientInviteView,
    RefillHistoryView, RefillRequest, RemovalReport, RemoveClinicianRequest, Settings, SettingsView,
    ThreadView, WorkloadView,
};
use sealbox_model::ids::{AttachmentId, StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager};
use tokio::sync::{mpsc, watch, Mutex};

/// Rows sent to the UI at once at most (its virtual list asks for windows).
const INBOX_ROWS: u32 = 500;

/// Why a command failed, as the UI shows it (log-safe by construction:
/// built only from core's typed errors).
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("{0}")]
    Workstation(#[from] WorkstationError),
    #[error("Sealbox could not start: {0}")]
    Startup(String),
    #[error("Sealbox is locked")]
    Locked,
    #[error("that thread is not in this workstation's cache")]
    NoSuchThread,
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("no security key is available on this system")]
    NoKey,
    #[error("choose a PIN of 4 to 63 characters")]
    Pin,
    #[error("{0}")]
    Update(#[from] crate::updates::UpdateError),
}

impl serde::Serialize for ShellError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

struct Open {
    desk: Desk,
    stop: watch::Sender<bool>,
    /// Blind notifications on (the clinician's setting) or off.
    notify: watch::Sender<bool>,
    sync: JoinHandle<()>,
    status: watch::Receiver<SyncStatus>,
    /// Outbox sends started by actions, and activity reads; stopped before
    /// locking (a send cut short stays queued: idempotency keys make the
    /// resend harmless).
    sends: Vec<JoinHandle<()>>,
    /// Where the practice asks for it: the watch that locks when the USB
    /// key that unlocked is pulled out.
    key_watch: Option<JoinHandle<()>>,
}

impl Open {
    fn view(&self, request: &InboxRequest) -> Result<InboxView, ShellError> {
        let status = self.status.borrow().clone();
        Ok(self.desk.inbox_view_of(request, now(), INBOX_ROWS, Some(&status))?)
    }

    /// Sends the audit chain and the outbox in a task kept with the others
    /// (stopped on lock).
    /// Runs `ask` (a question to the hub, made away from the desk) in a
    /// task kept with the outbox sends, so the desk is not held while the
    /// hub answers and locking stops it: the answer comes on the receiver,
    /// or never if a lock cuts it short.
    fn ask_hub<T: Send + 'static>(
        &mut self,
        ask: impl std::future::Future<Output = T> + Send + 'static,
    ) -> tokio::sync::oneshot::Receiver<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.sends.retain(|h| !h.inner().is_finished());
        self.sends.push(tauri::async_runtime::spawn(async move {
            let _ = tx.send(ask.await);
        }));
        rx
    }

    /// Where the practice saves threads to the record on close: queues
    /// `thread` if it closed (and its match allows) and sends in the
    /// background, after the outbox (a save waits for the hub to take the
    /// thread's changes). Never fails the close: the thread's record panel
    /// tells what stands.
    fn save_on_close(&mut self, thread: ThreadId) {
        if let Some(send) = crate::record::save_on_close(&self.desk, thread) {
            drop(self.ask_hub(send));
        }
    }

    fn send_outbox(&mut self) -> Result<(), ShellError> {
        let (store, engine) = (self.desk.store(), self.desk.engine()?);
        self.sends.retain(|h| !h.inner().is_finished());
        self.sends.push(tauri::async_runtime::spawn(async move {
            // Offline it stays queued; the follow loop sends it later.
            if let Err(e) = engine.send(&store, now()).await {
                eprintln!("sealbox: outbox: {e}");
            }
        }));
        Ok(())
    }
}

/// Managed state of the app.
pub struct Shell {
    keyring: Option<Keyring>,
    /// The clinicians enrolled on this machine (a shared room, or one).
    workstation: Mutex<Result<Room, String>>,
    open: Mutex<Option<Open>>,
    machine: std::sync::Mutex<LockMachine>,
    /// While locked: the task counting new messages with the counts-only
    /// tokens (blind notifications), and its stop switch.
    locked_watch: std::sync::Mutex<Option<(watch::Sender<bool>, JoinHandle<()>)>>,
    /// What each clinician's lock left to count with: on a shared
    /// workstation the notifications count everyone's pools together.
    locked_room: std::sync::Mutex<LockedRoom>,
    /// A lock the timer made (idle or re-authentication): its reason and
    /// deadline, until the lock page asks for the status, so the time from
    /// deadline to lock page is measured (printed, no content).
    timed_lock: std::sync::Mutex<Option<(LockReason, Timestamp)>>,
    /// Cancels the USB key's request in progress (enrolment or unlock);
    /// outside the workstation's lock, which that request holds.
    key_request: std::sync::Mutex<Option<CancelHandle>>,
}

fn now() -> Timestamp {
    Timestamp::now()
}

impl Shell {
    /// Opens the workstation in the data directory (`SEALBOX_DATA_DIR` or
    /// the platform's). A missing keyring is reported on the lock screen.
    pub fn new() -> Self {
        let keyring = Keyring::platform();
        let workstation = match (&keyring, sealbox_core::data_dir::resolve()) {
            (Ok(k), Ok(dir)) => Room::open(dir, k.clone()).map_err(|e| e.to_string()),
            (Err(e), _) => Err(e.to_string()),
            (_, Err(e)) => Err(e.to_string()),
        };
        Shell {
            keyring: keyring.ok(),
            workstation: Mutex::new(workstation),
            open: Mutex::new(None),
            machine: std::sync::Mutex::new(LockMachine::new(LockPolicy::default())),
            locked_watch: std::sync::Mutex::new(None),
            locked_room: std::sync::Mutex::new(LockedRoom::default()),
            timed_lock: std::sync::Mutex::new(None),
            key_request: std::sync::Mutex::new(None),
        }
    }

    /// Cancels the security key's request in progress, if any (the key is
    /// told to stop; the request ends as "cancelled").
    pub fn cancel_key(&self) {
        if let Some(cancel) =
            self.key_request.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
        {
            cancel.cancel();
        }
    }

    /// Makes a key request cancellable by [`Shell::cancel_key`] through
    /// `cancel` until the guard is dropped.
    fn cancellable(&self, cancel: Option<CancelHandle>) -> KeyRequest<'_> {
        *self.key_request.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = cancel;
        KeyRequest(&self.key_request)
    }

    fn machine(&self) -> std::sync::MutexGuard<'_, LockMachine> {
        self.machine.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the lock screen needs to know.
    pub async fn status(&self, version: &str) -> Result<AppStatus, ShellError> {
        let unlocked = self.open.lock().await.is_some();
        if !unlocked {
            self.report_timed_lock();
        }
        let last = self.machine().last_reason();
        match &*self.workstation.lock().await {
            Ok(room) => Ok(sealbox_core::status::room_status(version, unlocked, room, last, now())),
            Err(e) => Err(ShellError::Startup(e.clone())),
        }
    }

    /// Enrols a clinician on this workstation with the practice hub, with
    /// their security key (the one plugged in) and its PIN: the first, or
    /// another on a shared workstation (a seat of their own); the
    /// workstation is left locked (the admin approves the device, then the
    /// clinician unlocks).
    /// With the demo's software key (`SEALBOX_DEMO_KEY=soft`), the key is
    /// made here and kept in the OS keyring.
    pub async fn enrol(&self, version: &str, request: &EnrolRequest) -> Result<AppStatus, ShellError> {
        if request.pin.chars().count() < 4 || request.pin.chars().count() > 63 {
            return Err(ShellError::Pin);
        }
        {
            let mut room = self.workstation.lock().await;
            let room = room.as_mut().map_err(|e| ShellError::Startup(e.clone()))?;
            let (hub, code, name) =
                (request.hub.trim(), request.invite_code.trim(), request.device_name.trim());
            let desk = if demo_soft_key() {
                let keyring = self.keyring.as_ref().ok_or(ShellError::NoKey)?;
                let mut key = SoftKey::new(&request.pin);
                let desk = room.enrol(hub, code, name, &mut key, now()).await?;
                // The key first: without it an enrolled workstation never opens.
                key.save(keyring, &desk.profile().user_id).map_err(|e| ShellError::Startup(e.to_string()))?;
                desk
            } else {
                // Cancellable from the start: with several keys plugged in,
                // they all flash until one is touched.
                let cancel = CancelHandle::default();
                let _request = self.cancellable(Some(cancel.clone()));
                let mut key = usb_key_to_enrol(&cancel)?;
                key.enter_pin(&request.pin);
                room.enrol(hub, code, name, &mut key, now()).await?
            };
            if let Err(e) = desk.lock("enrolled", now()).await {
                eprintln!("sealbox: lock after enrolment: {e}");
            }
        }
        self.status(version).await
    }

    /// Unlocks with the security key and its PIN; starts syncing.
    pub async fn unlock(&self, app: &AppHandle, pin: &str) -> Result<InboxView, ShellError> {
        let mut open = self.open.lock().await;
        if let Some(o) = open.as_ref() {
            return o.view(&InboxRequest::default());
        }
        let mut room = self.workstation.lock().await;
        let room = room.as_mut().map_err(|e| ShellError::Startup(e.clone()))?;
        if !room.is_enrolled() {
            return Err(WorkstationError::NotEnrolled.into());
        }
        let mut key_node = None;
        let desk = if demo_soft_key() {
            // The demo's keys live in the keyring, one per clinician: the
            // one the typed PIN opens, holding a seat's credential, answers.
            let keyring = self.keyring.as_ref().ok_or(ShellError::NoKey)?;
            // While any seat waits after failures, no PIN is tried against
            // the keys (a guess must not get past a seat's throttle): the
            // waiting seat answers, with its wait.
            let waiting = room.waiting_clinician(now());
            let users: Vec<String> = match waiting {
                Some(_) => Vec::new(),
                None => room.clinicians().iter().map(|p| p.user_id.clone()).collect(),
            };
            let mut found = None;
            for user in users {
                let Some(mut key) =
                    SoftKey::load(keyring, &user).map_err(|e| ShellError::Startup(e.to_string()))?
                else {
                    continue;
                };
                key.enter_pin(pin);
                if room.seat_of(&mut key).is_some() {
                    found = Some((user, key));
                    break;
                }
            }
            let (user, mut key) = match found {
                Some(found) => found,
                // No key opens with that PIN: the waiting seat's key, else
                // the first clinician's, is asked, so the failure is
                // counted (or the wait said) as always.
                None => {
                    let first = room.clinicians().first().map(|p| p.user_id.clone());
                    let user = waiting.or(first).ok_or(ShellError::NoKey)?;
                    let mut key = SoftKey::load(keyring, &user)
                        .map_err(|e| ShellError::Startup(e.to_string()))?
                        .ok_or(ShellError::NoKey)?;
                    key.enter_pin(pin);
                    (user, key)
                }
            };
            let result = room.unlock_seat_of_user(&user, &mut key, now()).await;
            // The key's signature counter moved (even on a wrong PIN it may
            // not have; saving is harmless): keep it.
            key.save(keyring, &user).map_err(|e| ShellError::Startup(e.to_string()))?;
            result?
        } else {
            // The plugged-in key holding one of this room's credentials
            // (found without a touch, so a colleague's key beside it loses
            // no PIN tries): its seat opens.
            let (mut key, node) = usb_key_holding(&room.credentials())?;
            key_node = node;
            key.enter_pin(pin);
            let _request = self.cancellable(cancel_handle(&key));
            room.unlock(&mut key, now()).await?.1
        };
        self.stop_locked_watch();
        // The practice's policy came from the hub with this unlock (or is
        // the one kept from the last online unlock).
        let settings = desk.settings()?.settings;
        let lock_policy = desk.lock_policy()?;
        let (notify, notify_rx) = watch::channel(settings.notifications);
        let (stop, sync, status) = start_sync(app, &desk, notify_rx)?;
        let key_watch = match key_node {
            Some(node) if desk.practice_policy()?.lock_on_key_removal => Some(lock_when_pulled(app, node)),
            _ => None,
        };
        let record_stop = stop.subscribe();
        let o = Open { desk, stop, notify, sync, status, sends: Vec::new(), key_watch };
        let view = o.view(&InboxRequest::default())?;
        *open = Some(o);
        self.machine().set_policy(lock_policy);
        self.machine().unlocked(now());
        drop(open);
        arm_idle_timer(app.clone());
        crate::record::retry_while_unlocked(app.clone(), record_stop);
        Ok(view)
    }

    /// Runs `f` on the open desk (locked: an error).
    pub(crate) async fn with_desk<T>(
        &self,
        f: impl FnOnce(&Desk) -> Result<T, ShellError>,
    ) -> Result<T, ShellError> {
        let open = self.open.lock().await;
        f(&open.as_ref().ok_or(ShellError::Locked)?.desk)
    }

    /// Makes a question with the open desk and asks it in a task kept with
    /// the outbox sends (the desk is not held while it runs; a lock stops
    /// it and the answer never comes: [`ShellError::Locked`]).
    pub(crate) async fn ask_with_desk<T: Send + 'static, F>(
        &self,
        make: impl FnOnce(&Desk) -> Result<F, ShellError>,
    ) -> Result<T, ShellError>
    where
        F: std::future::Future<Output = T> + Send + 'static,
    {
        let answer = {
            let mut open = self.open.lock().await;
            let o = open.as_mut().ok_or(ShellError::Locked)?;
            let ask = make(&o.desk)?;
            o.ask_hub(ask)
        };
        answer.await.map_err(|_| ShellError::Locked)
    }

    /// The inbox (locked: an error).
    pub async fn inbox(&self, request: &InboxRequest) -> Result<InboxView, ShellError> {
        let open = self.open.lock().await;
        open.as_ref().ok_or(ShellError::Locked)?.view(request)
    }

    /// Opens a thread (its patient messages recorded as viewed).
    pub async fn open_thread(&self, thread: &str) -> Result<ThreadView, ShellError> {
        let id = thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?;
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        o.desk.open_thread(ThreadId(id), now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Claims a thread; the outbox is sent at once in the background.
    pub async fn claim(&self, thread: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.claim(id, now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Merges a repeat request into the one it repeats; the outbox is sent
    /// at once in the background. Answers with the original request.
    pub async fn merge_repeat(&self, thread: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        let into = o.desk.merge_repeat(id, now())?;
        o.send_outbox()?;
        o.desk.open_thread(into, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// The clinician confirms the patient details a newer message gave.
    pub async fn confirm_patient_details(&self, thread: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.confirm_patient_details(id, now())?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Seals and queues a reply; the outbox is sent at once in the background.
    pub async fn reply(&self, thread: &str, text: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.reply(id, text, now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Keeps the reply being typed as the thread's draft.
    pub async fn save_draft(&self, thread: &str, text: &str) -> Result<(), ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        Ok(o.desk.save_draft(id, text, now())?)
    }

    /// Adds an internal note for colleagues; sent at once in the background.
    pub async fn add_note(&self, thread: &str, text: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.note(id, text, now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Shares a note into the medication part for the pharmacy; sent at once in the background.
    pub async fn share_with_pharmacy(&self, thread: &str, text: &str) -> Result<ThreadView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.share_with_pharmacy(id, text, now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Hands a thread to a queue or a colleague, with an optional note.
    pub async fn hand_over(&self, request: &HandRequest) -> Result<ThreadView, ShellError> {
        let id = ThreadId(request.thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.hand_over(id, &request.to, &request.note, now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Closes, reopens, awaits the patient or sets priority; the
    /// outbox is sent at once in the background.
    pub async fn change_thread(&self, request: &ChangeRequest) -> Result<ThreadView, ShellError> {
        let id = ThreadId(request.thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        o.desk.change(id, request.change, now())?;
        o.send_outbox()?;
        o.save_on_close(id);
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Undoes the last close or hand-over while it may be; the outbox is
    /// sent at once in the background.
    pub async fn undo(&self) -> Result<ThreadView, ShellError> {
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        let id = o.desk.undo(now())?;
        o.send_outbox()?;
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// The hub this desk syncs with, and how many outbox items it has not
    /// yet acknowledged: where updates come from and what holds them.
    pub async fn update_source(&self) -> Result<(String, usize), ShellError> {
        let open = self.open.lock().await;
        let desk = &open.as_ref().ok_or(ShellError::Locked)?.desk;
        Ok((desk.hub().base().to_owned(), desk.unsent()?))
    }

    /// The clinician's settings and the practice's bounds, and the
    /// clinicians enrolled on this workstation.
    pub async fn settings(&self) -> Result<SettingsView, ShellError> {
        let open = self.open.lock().await;
        let desk = &open.as_ref().ok_or(ShellError::Locked)?.desk;
        self.with_room(desk, desk.settings()?).await
    }

    async fn with_room(&self, desk: &Desk, mut view: SettingsView) -> Result<SettingsView, ShellError> {
        let room = self.workstation.lock().await;
        view.room = room.as_ref().map_err(|e| ShellError::Startup(e.clone()))?.members(desk.profile());
        Ok(view)
    }

    /// Removes a colleague from this workstation (a practice admin's, not
    /// their own): their seat is wiped with a report, the removal is
    /// audited in the remover's chain, their pools leave the locked
    /// screen's count and (demo) their software key leaves the keyring.
    pub async fn remove_clinician(
        &self,
        request: &RemoveClinicianRequest,
    ) -> Result<RemovalReport, ShellError> {
        let open = self.open.lock().await;
        let desk = &open.as_ref().ok_or(ShellError::Locked)?.desk;
        let mut room = self.workstation.lock().await;
        let room = room.as_mut().map_err(|e| ShellError::Startup(e.clone()))?;
        let removed = room.remove_by(desk, &request.user_id, now())?;
        self.locked_room().forget(&request.user_id);
        if demo_soft_key() {
            if let Some(keyring) = &self.keyring {
                SoftKey::forget(keyring, &request.user_id).map_err(|e| ShellError::Startup(e.to_string()))?;
            }
        }
        Ok(RemovalReport {
            name: removed.first().map(|r| r.name.clone()).unwrap_or_default(),
            devices: removed.iter().map(|r| r.device_id.clone()).collect(),
            files_removed: u32::try_from(removed.iter().map(|r| r.files_removed.len()).sum::<usize>())
                .unwrap_or(u32::MAX),
            keyring_entry_removed: removed.iter().all(|r| r.keyring_entry_removed),
        })
    }

    /// Saves settings; a shorter lock and the notification choice apply at once.
    pub async fn save_settings(&self, new: &Settings) -> Result<SettingsView, ShellError> {
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        let view = o.desk.save_settings(new, now())?;
        let _ = o.notify.send(view.settings.notifications);
        self.machine().set_policy(o.desk.lock_policy()?);
        self.with_room(&o.desk, view).await
    }

    /// Decides a repeat prescription request (and sends any note as a
    /// reply); the outbox is sent at once in the background.
    pub async fn refill_decision(&self, request: &RefillRequest) -> Result<ThreadView, ShellError> {
        let id = ThreadId(request.thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        if request.items.is_empty() {
            o.desk.decide_refill(id, request.choice, &request.note, now())?;
        } else {
            o.desk.decide_refill_items(id, request.choice, &request.items, &request.note, now())?;
        }
        o.send_outbox()?;
        o.save_on_close(id);
        o.desk.open_thread(id, now())?.ok_or(ShellError::NoSuchThread)
    }

    /// Who did what on a thread. The hub is asked in a task kept with the
    /// outbox sends, so the desk is not held meanwhile and locking stops it.
    pub async fn thread_activity(&self, thread: &str) -> Result<ActivityView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let ask = |desk: &Desk| {
            let reader = desk.activity_reader();
            Ok(async move { reader.thread(id).await })
        };
        // Cut short by a lock: the answer never comes.
        Ok(self.ask_with_desk(ask).await??)
    }

    /// The patient's earlier requests as the practice hub holds them, asked
    /// in a task kept with the outbox sends (like thread activity).
    pub async fn refill_history(&self, thread: &str) -> Result<RefillHistoryView, ShellError> {
        let id = ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let ask = |desk: &Desk| {
            let reader = desk.refill_history_reader();
            Ok(async move { reader.lines(id).await })
        };
        Ok(self.ask_with_desk(ask).await??)
    }

    /// A photo of the thread (or of a repeat merged into it), fetched from
    /// the hub and opened in memory.
    pub async fn open_attachment(&self, request: &AttachmentRequest) -> Result<OpenedAttachment, ShellError> {
        let id = ThreadId(request.thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?);
        let attachment = AttachmentId(request.attachment.clone());
        let ask = |desk: &Desk| {
            let reader = desk.attachment_reader();
            Ok(async move { reader.open(id, &attachment).await })
        };
        Ok(self.ask_with_desk(ask).await??)
    }

    /// Hands what the clinician holds to a deputy or back to its queues
    /// (an absence); sent at once in the background.
    pub async fn cover_absence(&self, request: &CoverRequest) -> Result<CoverReport, ShellError> {
        let mut open = self.open.lock().await;
        let o = open.as_mut().ok_or(ShellError::Locked)?;
        let deputy = request.deputy.clone().map(StaffId);
        if let Some(day) = request.back_on.as_deref().filter(|d| !d.trim().is_empty()) {
            let until = sealbox_core::workstation::cover::back_on(day)?;
            o.desk.record_absence(Some(until)).await?;
        }
        let cover = o.desk.cover_absence(deputy.as_ref(), now())?;
        o.send_outbox()?;
        Ok(CoverReport { to_deputy: cover.to_deputy, to_queue: cover.to_queue })
    }

    /// A patient's invite, made here (the code and who it is for never
    /// reach the hub).
    pub async fn invite_patient(&self, form: &PatientInviteForm) -> Result<PatientInviteView, ShellError> {
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        let made = o.desk.invite_patient(&form.name, &form.date_of_birth, &form.nhs_number, now()).await?;
        Ok(invite_view(&made))
    }

    /// A new invite for the patient of `thread` (a lost phone), with the
    /// details they gave; joining with it closes their old channel.
    pub async fn reinvite_patient(&self, thread: &str) -> Result<PatientInviteView, ShellError> {
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        let made = o
            .desk
            .reinvite_patient(ThreadId(thread.parse::<u64>().map_err(|_| ShellError::NoSuchThread)?), now())
            .await?;
        Ok(invite_view(&made))
    }

    /// The workload per queue and per colleague, and the clinician's day.
    pub async fn workload(&self) -> Result<WorkloadView, ShellError> {
        let open = self.open.lock().await;
        let o = open.as_ref().ok_or(ShellError::Locked)?;
        Ok(o.desk.workload(now())?)
    }

    /// The clinician's sign-ins (asked of the hub in a task kept with the
    /// outbox sends, like thread activity) and own events here.
    pub async fn my_activity(&self) -> Result<MyActivityView, ShellError> {
        let (answer, workstation) = {
            let mut open = self.open.lock().await;
            let o = open.as_mut().ok_or(ShellError::Locked)?;
            let reader = o.desk.activity_reader();
            (o.ask_hub(async move { reader.sign_ins().await }), o.desk.my_activity()?)
        };
        let sign_ins = answer.await.map_err(|_| ShellError::Locked)??;
        Ok(MyActivityView { sign_ins, workstation })
    }

    /// Activity, "Lock now", an OS signal or the timer: locks if the lock
    /// machine says so.
    pub async fn signal(&self, app: &AppHandle, signal: Signal) {
        let deadline = self.machine().deadline();
        let reason = self.machine().signal(signal, now());
        if let Some(reason) = reason {
            if let (Some(deadline), LockReason::Idle | LockReason::ReauthDue) = (deadline, reason) {
                *self.timed_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((reason, deadline));
            }
            self.lock(app, reason).await;
        }
    }

    /// The lock page has loaded after a timed lock: how long after the
    /// deadline (docs/benchmarks.md, "idle deadline → locked UI").
    fn report_timed_lock(&self) {
        let timed = self.timed_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((reason, deadline)) = timed {
            let ms = now().duration_since(deadline).as_millis();
            eprintln!("sealbox: timing: {} deadline -> lock page loaded: {ms} ms", reason.key());
        }
    }

    /// The lock machine has locked for `reason`: sync stopped, desk locked,
    /// webview reloaded onto the lock page.
    async fn lock(&self, app: &AppHandle, reason: LockReason) {
        let mut open = self.open.lock().await;
        if let Some(Open { desk, stop, sync, sends, notify, key_watch, .. }) = open.take() {
            // The watch only ever spawns the lock (never awaits it), so
            // stopping it here cannot cut a lock short.
            if let Some(watch) = key_watch {
                watch.abort();
            }
            let _ = stop.send(true);
            for task in sends.into_iter().chain([sync]) {
                task.abort();
                let _ = task.await;
            }
            // The desk closes its cache and drops its keys whatever the hub
            // says; an error here (e.g. the audit write on a full disk) is
            // reported on stderr without content.
            let user = desk.profile().user_id.clone();
            match desk.lock(reason.key(), now()).await {
                Ok(Some(counts)) => self.locked_room().keep(&user, counts),
                Ok(None) => {}
                Err(e) => eprintln!("sealbox: lock: {e}"),
            }
            // The choice of whoever locked governs (they are at the screen).
            if *notify.borrow() {
                self.watch_while_locked();
            }
        }
        drop(open);
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.reload();
        }
    }

    fn locked_room(&self) -> std::sync::MutexGuard<'_, LockedRoom> {
        self.locked_room.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts new messages for every clinician who locked here from the
    /// hub's event streams (counts only: nothing to decrypt; each thread
    /// once) and shows blind notifications, until the next unlock.
    fn watch_while_locked(&self) {
        let streams = self.locked_room().streams();
        if streams.is_empty() {
            return;
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tauri::async_runtime::spawn(async move {
            let stall = Duration::from_secs(60);
            let watch = match LockedWatch::connect(&streams, stall).await {
                Ok(w) => w,
                Err(e) => return eprintln!("sealbox: counting while locked: {e}"),
            };
            let mut notifier = BlindNotifier::new(true);
            let clock = || Timestamp::now();
            if let Err(e) = watch.run(&mut notifier, &DesktopNotifications, &clock, stop_rx, stall).await {
                eprintln!("sealbox: counting while locked: {e}");
            }
        });
        self.stop_locked_watch();
        *self.locked_watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((stop_tx, task));
    }

    fn stop_locked_watch(&self) {
        let held = self.locked_watch.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((stop, task)) = held {
            let _ = stop.send(true);
            task.abort();
        }
    }

    fn deadline(&self) -> Option<Timestamp> {
        self.machine().deadline()
    }
}

/// Follows the hub (sync on every event) and turns each sync's arrivals
/// into blind notifications while the window is not focused; both end when
/// `stop` turns true.
type Started = (watch::Sender<bool>, JoinHandle<()>, watch::Receiver<SyncStatus>);

fn start_sync(app: &AppHandle, desk: &Desk, enabled: watch::Receiver<bool>) -> Result<Started, ShellError> {
    let (arrivals_tx, arrivals_rx) = mpsc::unbounded_channel();
    let engine = desk.engine()?.with_arrivals(arrivals_tx);
    let store = desk.store();
    let (stop_tx, stop_rx) = watch::channel(false);
    let notify = tauri::async_runtime::spawn(notify_loop(app.clone(), arrivals_rx, stop_rx.clone(), enabled));
    let (status, status_rx) = watch::channel(SyncStatus::default());
    let sync = tauri::async_runtime::spawn(async move {
        let clock = || Timestamp::now();
        if let Err(e) = engine.follow(&store, &clock, &status, stop_rx, Duration::from_secs(60)).await {
            eprintln!("sealbox: sync stopped: {e}");
        }
        notify.abort();
    });
    Ok((stop_tx, sync, status_rx))
}

/// Blind notifications (counts and queues only) for arrivals while the
/// window is unfocused, coalesced by [`BlindNotifier`].
async fn notify_loop(
    app: AppHandle,
    mut arrivals: mpsc::UnboundedReceiver<Arrivals>,
    mut stop: watch::Receiver<bool>,
    enabled: watch::Receiver<bool>,
) {
    let mut notifier = BlindNotifier::new(true);
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let focused =
        |app: &AppHandle| app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    loop {
        let shown = tokio::select! {
            a = arrivals.recv() => match a {
                Some(a) => notifier.arrived(a, focused(&app), now()),
                None => return,
            },
            _ = tick.tick() => notifier.tick(focused(&app), now()),
            _ = stop.changed() => return,
        };
        // Off by the clinician's setting: counted and coalesced as ever,
        // never shown.
        if let Some(n) = shown.filter(|_| *enabled.borrow()) {
            // A click brings Sealbox to the front (locked or not: it shows
            // what the window shows, never more).
            let front = app.clone();
            let open = move || {
                if let Some(w) = front.get_webview_window("main") {
                    let _ = w.unminimize();
                    let _ = w.show();
                    let _ = w.set_focus();
                }
            };
            if DesktopNotifications.show_then(&n, open).is_err() {
                eprintln!("sealbox: the desktop notification service is unavailable");
            }
        }
    }
}

/// Sleeps until the lock machine's deadline, then ticks it; ends once locked.
/// Locks when the USB key at `node` is pulled out (the OS's removal event,
/// [`KeyRemoval`]); a system that cannot say is reported on stderr (the
/// idle lock still holds).
fn lock_when_pulled(app: &AppHandle, node: std::path::PathBuf) -> JoinHandle<()> {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match KeyRemoval::watch(&node) {
            Ok(watch) => watch.removed().await,
            Err(e) => return eprintln!("sealbox: lock on key removal: {e}"),
        }
        // A task of its own: the lock aborts this watch.
        tauri::async_runtime::spawn(async move {
            app.state::<Shell>().signal(&app, Signal::KeyRemoved).await;
        });
    })
}

fn arm_idle_timer(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            let Some(deadline) = app.state::<Shell>().deadline() else { return };
            let wait = deadline.duration_since(now());
            if wait.is_positive() {
                tokio::time::sleep(wait.unsigned_abs().min(Duration::from_secs(5))).await;
            }
            let shell = app.state::<Shell>();
            shell.signal(&app, Signal::Tick).await;
        }
    });
}

/// The demo's software key is used only when the demo or the e2e suite
/// asks for it; every other run uses a USB security key.
fn demo_soft_key() -> bool {
    key_source(std::env::var_os(DEMO_KEY_SETTING).as_deref()) == KeySource::DemoSoft
}

/// The setting that selects the demo's software key (`soft`).
const DEMO_KEY_SETTING: &str = "SEALBOX_DEMO_KEY";

/// Which security key the shell talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySource {
    /// A USB FIDO2 key (the product).
    Usb,
    /// The demo's software key, kept in the OS keyring.
    DemoSoft,
}

/// The key for the value of [`DEMO_KEY_SETTING`]: the software key only
/// for exactly `soft`; anything else, or nothing, is a USB key.
fn key_source(setting: Option<&std::ffi::OsStr>) -> KeySource {
    match setting {
        Some(v) if v == "soft" => KeySource::DemoSoft,
        _ => KeySource::Usb,
    }
}

/// While a key request runs: cancellable; forgotten when it ends.
struct KeyRequest<'a>(&'a std::sync::Mutex<Option<CancelHandle>>);

impl Drop for KeyRequest<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

#[cfg(not(target_os = "windows"))]
type UsbKey = sealbox_core::key::usb::UsbKey;

#[cfg(not(target_os = "windows"))]
fn cancel_handle(key: &UsbKey) -> Option<CancelHandle> {
    Some(key.cancel_handle())
}

#[cfg(not(target_os = "windows"))]
fn usb_key_to_enrol(cancel: &CancelHandle) -> Result<UsbKey, ShellError> {
    Ok(sealbox_core::key::usb::key_to_enrol(cancel)?)
}

/// The plugged-in key holding one of `credentials` (relying party, ids),
/// and its device node (watched for its removal).
#[cfg(not(target_os = "windows"))]
fn usb_key_holding(
    credentials: &[(String, Vec<Vec<u8>>)],
) -> Result<(sealbox_core::key::usb::UsbKey, Option<std::path::PathBuf>), ShellError> {
    let mut last = sealbox_core::key::KeyError::NoKey;
    for (rp_id, ids) in credentials {
        match sealbox_core::key::usb::key_holding(rp_id, ids) {
            Ok((key, node)) => return Ok((key, Some(node))),
            Err(e) => last = e,
        }
    }
    Err(last.into())
}

/// Windows: the system WebAuthn API is the transport there (not yet built).
#[cfg(target_os = "windows")]
type UsbKey = sealbox_core::key::soft::SoftKey;

#[cfg(target_os = "windows")]
fn cancel_handle(_: &UsbKey) -> Option<CancelHandle> {
    None
}

#[cfg(target_os = "windows")]
fn usb_key_to_enrol(_: &CancelHandle) -> Result<UsbKey, ShellError> {
    Err(ShellError::NoKey)
}

#[cfg(target_os = "windows")]
fn usb_key_holding(
    _: &[(String, Vec<Vec<u8>>)],
) -> Result<(sealbox_core::key::soft::SoftKey, Option<std::path::PathBuf>), ShellError> {
    Err(ShellError::NoKey)
}

/// An invite made on the desk, as the page shows it.
fn invite_view(made: &sealbox_core::workstation::patient_invite::PatientInvitation) -> PatientInviteView {
    let expires = match sealbox_model::calendar::uk_time_zone() {
        Ok(tz) => made.expires_at.to_zoned(tz).strftime("until %a %-d %b %Y").to_string(),
        Err(_) => format!("until {}", made.expires_at),
    };
    PatientInviteView {
        link: made.link.to_string(),
        code: made.code.to_string(),
        qr_svg: made.qr_svg.to_string(),
        expires,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn only_the_explicit_demo_setting_reaches_the_software_key() {
        assert_eq!(key_source(None), KeySource::Usb, "the default build uses a USB key");
        for other in ["", "1", "true", "yes", "SOFT", "soft ", "usb", "hardware"] {
            assert_eq!(key_source(Some(OsStr::new(other))), KeySource::Usb, "{other:?}");
        }
        assert_eq!(key_source(Some(OsStr::new("soft"))), KeySource::DemoSoft);
    }
}
