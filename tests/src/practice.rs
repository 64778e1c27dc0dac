//! A practice for the scenarios: the real hub (in-process, loopback HTTP,
//! its own SQLite in a temp dir), a practice admin and a GP enrolled with
//! software security keys through the real flows (pool keys published and
//! sealed to the GP's device), and the simulator's patient traffic. The
//! GP's workstation is left locked, its soft key saved in the OS keyring,
//! ready for the app to unlock (`SEALBOX_DATA_DIR` = [`Practice::gp_dir`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use sealbox_core::cache::{self, CacheConfig};
use sealbox_core::key::soft::SoftKey;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::room::Room;
use sealbox_core::workstation::Workstation;
use sealbox_hub::clock::SystemClock;
use sealbox_hub::config::{HubConfig, RatePolicy};
use sealbox_hub::db::practice;
use sealbox_hub::relay::channels;
use sealbox_hub::server::{self, Running};
use sealbox_hub::AppState;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{PracticeFile, PracticePolicy};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::message::{FreeText, MedicationRequest, MedicationText, MessagePart};
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use sealbox_sim::traffic::{PlannedAttachment, PlannedMessage};
use sealbox_sim::{send, traffic, SendOptions};

/// The GP's security key PIN.
pub const GP_PIN: &str = "2468";
/// The practice admin's security key PIN.
const ADMIN_PIN: &str = "1111";
/// The GP's name and registration, as their invite gives them.
pub const GP_NAME: &str = "Dr Asha Rao";
/// See [`GP_NAME`].
pub const GP_REGISTRATION: &str = "GMC 7012345";
/// A patient message full of markup and script: it must show as text.
pub const HOSTILE_TEXT: &str = "Hi <img src=x onerror=\"window.__sealboxPwned=1\"> \
     <script>window.__sealboxPwned=2</script><b>bold?</b> thanks";

/// A running practice (dropped: the hub stops and the keyring entries go).
pub struct Practice {
    pub running: Running,
    /// The hub's state (its database), to check what reached it.
    pub hub: AppState,
    pub gp_dir: PathBuf,
    /// The practice key's fingerprint, as the admin's workstation shows it.
    pub practice_fingerprint: String,
    /// Distinct threads the patients wrote.
    pub threads: usize,
    /// The thread holding [`HOSTILE_TEXT`].
    pub hostile_thread: String,
    /// A repeat prescription request (not red-flagged).
    pub refill_thread: String,
    /// The hub's base URL.
    pub url: String,
    /// The simulated patients (their keys open replies).
    pub patients: PracticeFile,
    plan: Vec<PlannedMessage>,
    keyring: Keyring,
    /// The admin's, then the GP's.
    workstations: Vec<Workstation>,
    admin_key: SoftKey,
    _dir: tempfile::TempDir,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The hub's published changes (what its event stream sends), from the
/// moment of [`Practice::hub_changes`]: a scenario waits on the next one
/// instead of polling the database on a timer.
pub struct HubChanges(tokio::sync::broadcast::Receiver<Arc<sealbox_hub::relay::events::Rendered>>);

impl HubChanges {
    /// Resolves at the hub's next change; an error once `deadline` passes.
    pub async fn next(&mut self, deadline: std::time::Instant) -> Result<(), Failure> {
        use tokio::sync::broadcast::error::RecvError;
        match tokio::time::timeout_at(deadline.into(), self.0.recv()).await {
            // Missed some: there was a change all the same.
            Ok(Ok(_) | Err(RecvError::Lagged(_))) => Ok(()),
            Ok(Err(RecvError::Closed)) => Err("the hub stopped publishing".into()),
            Err(_) => Err("nothing changed at the hub in time".into()),
        }
    }
}

impl Practice {
    /// Starts the hub, enrols the admin and a GP, approves the GP's device,
    /// and has `patients` patients send `messages` messages.
    pub async fn start(patients: u32, messages: usize) -> Result<Self, Failure> {
        let dir = tempfile::Builder::new().prefix("sealbox-e2e-practice-").tempdir()?;
        let mut config = HubConfig::new(dir.path().join("hub"));
        config.patient_rate = RatePolicy { burst: 100_000, per_minute: 0 };
        std::fs::create_dir_all(dir.path().join("hub"))?;
        let state = AppState::open(config, Arc::new(SystemClock))?;
        let now = state.now();
        state.db.call_blocking(move |c| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            practice::create(c, "E2E Surgery", now)?;
            // The app is driven with the demo's software key.
            let demo = PracticePolicy { allow_demo_keys: true, ..PracticePolicy::default() };
            Ok(sealbox_hub::auth::policy::set(c, demo, "e2e", now)?)
        })?;
        // The first admin's invite comes from the hub's console before the
        // practice has a key (the admin's workstation makes it).
        let admin_code = printed_code(&sealbox_hub::auth::cli::invite(
            &state,
            Role::PracticeAdmin,
            "Practice Manager",
            None,
        )?)?;
        let running = server::start(state.clone(), "127.0.0.1:0".parse()?, None).await?;
        let url = format!("http://{}", running.addr);

        let keyring = Keyring::platform()?;
        let mut admin_ws = Workstation::open(dir.path().join("admin"), keyring.clone())?;
        let mut admin_key = SoftKey::new(ADMIN_PIN);
        let mut admin = admin_ws.enrol(&url, &admin_code, "Office PC", &mut admin_key, now).await?;
        admin.set_up_pools().await?;
        // Issued once the practice has its key: the patients' file carries
        // it, so they seal only to pool keys it signed.
        let practice_file = state.db.call_blocking(move |c| channels::issue(c, patients, now))?;

        // The GP's carries the practice key's fingerprint: pinned only if
        // the hub serves that key.
        let registration = Registration::parse(GP_REGISTRATION).ok();
        let gp_code =
            printed_code(&sealbox_hub::auth::cli::invite(&state, Role::Gp, GP_NAME, registration.as_ref())?)?;
        let practice_fingerprint = admin.practice_fingerprint().ok_or("the admin made no practice key")?;
        let gp_dir = dir.path().join("gp");
        let mut gp_ws = Workstation::open(gp_dir.clone(), keyring.clone())?;
        let mut gp_key = SoftKey::new(GP_PIN);
        let gp = gp_ws.enrol(&url, &gp_code, "Room 3 PC", &mut gp_key, now).await?;
        let profile = gp.profile().clone();
        let devices = admin.hub().devices().await?;
        let device =
            devices.devices.iter().find(|d| d.id == profile.device_id).ok_or("GP device not listed")?;
        admin.approve_device(device).await?;
        gp.lock("enrolled", now).await?;
        admin.lock("done", now).await?;
        gp_key.save(&keyring, &profile.user_id)?;

        let mut plan = traffic::plan(5, patients as usize, messages);
        let hostile = ThreadId(7_000_000_001);
        plan.push(PlannedMessage {
            patient: 0,
            thread_id: hostile,
            message_id: MessageId(7_000_000_001),
            category: Category::ClinicalQuestion,
            parts: vec![MessagePart::FreeText(FreeText::new(HOSTILE_TEXT))],
            red_flag: false,
            attachments: Vec::new(),
        });
        let threads = plan.iter().map(|m| m.thread_id).collect::<BTreeSet<_>>().len();
        let client = sealbox_sim::client::client()?;
        let summary = send::send(&client, &url, &practice_file, &plan, SendOptions::default()).await?;
        if summary.accepted != plan.len() {
            return Err("the hub did not accept every message".into());
        }
        println!("e2e: practice at {url}: {} messages in {threads} threads", plan.len());
        let hostile_thread = hostile.0.to_string();
        let refill_thread = plan
            .iter()
            .find(|m| m.category == Category::RepeatPrescription && !m.red_flag)
            .ok_or("the traffic holds no repeat prescription request")?
            .thread_id
            .0
            .to_string();
        Ok(Practice {
            running,
            hub: state,
            gp_dir,
            practice_fingerprint,
            threads,
            hostile_thread,
            refill_thread,
            url,
            patients: practice_file,
            plan,
            admin_key,
            keyring,
            workstations: vec![admin_ws, gp_ws],
            _dir: dir,
        })
    }
}

/// The code (with the fingerprint, once there is a practice key) at the end
/// of what `sealbox-hub invite` prints.
fn printed_code(printed: &str) -> Result<String, Failure> {
    Ok(printed.rsplit(' ').next().ok_or("`invite` printed no code")?.to_owned())
}

impl Practice {
    /// Changes the hub publishes from now on; subscribe before acting.
    pub fn hub_changes(&self) -> HubChanges {
        HubChanges(self.hub.events.subscribe())
    }

    /// What the patient of `thread` reads of the practice's reply, opened
    /// with their own key once it reaches the hub (in [`crate::words`]).
    pub async fn reply_read(&self, thread: &str, changes: &mut HubChanges) -> Result<String, Failure> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some((_, text)) = self.replies().await?.into_iter().find(|(t, _)| t == thread) {
                return Ok(crate::words(&text));
            }
            changes.next(deadline).await?;
        }
    }

    /// Waits until the hub holds `thread` in the state `kind` ("closed").
    pub async fn wait_hub_state(
        &self,
        thread: &str,
        kind: &str,
        changes: &mut HubChanges,
    ) -> Result<(), Failure> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.hub_thread_state(thread)?.0 != kind {
            changes.next(deadline).await?;
        }
        Ok(())
    }

    /// Until when the hub has the colleague named `name` away (µs), if at all.
    pub fn staff_away_until(&self, name: &str) -> Result<Option<i64>, Failure> {
        let name = name.to_owned();
        Ok(self.hub.db.sqlite_blocking(move |c| {
            c.query_row("SELECT away_until_us FROM staff WHERE name = ?1", [name], |r| r.get(0))
        })?)
    }

    /// The hub's state kind of `thread` and who last changed it.
    pub fn hub_thread_state(&self, thread: &str) -> Result<(String, Option<String>), Failure> {
        let id: i64 = thread.parse()?;
        Ok(self.hub.db.sqlite_blocking(move |c| {
            c.query_row("SELECT state_kind, updated_by_id FROM threads WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })?)
    }
}

impl Practice {
    /// The link a patient joins with (as `sealbox-hub patient-invite`
    /// prints it), for the patient the practice knows by these details.
    pub fn invite_patient(&self, name: &str, born: &str, nhs: &str) -> Result<String, Failure> {
        use sealbox_crypto::patient_invite::PatientIdentity;
        use sealbox_hub::relay::patient_join::{invite, DEFAULT_TTL};
        let identity = PatientIdentity::new(name, born, Some(nhs))?;
        let now = self.hub.now();
        let (link, _) = self.hub.db.call_blocking(move |c| invite(c, &identity, None, now, DEFAULT_TTL))?;
        Ok(link.url(&self.url).to_string())
    }

    /// Whether any file of the hub's (its database, its write-ahead log)
    /// holds `needle`.
    pub fn hub_files_hold(&self, needle: &[u8]) -> Result<bool, Failure> {
        let mut dirs = vec![self._dir.path().join("hub")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if std::fs::read(&path)?.windows(needle.len()).any(|w| w == needle) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The photos of `thread`, opened in memory by the GP's workstation
    /// with the GP's key from the keyring: the bytes the patient's side
    /// sealed, exactly. Call it with the app closed.
    pub async fn gp_opens_photos(&self, thread: &str) -> Result<Vec<Vec<u8>>, Failure> {
        let now = self.hub.now();
        let id = ThreadId(thread.parse()?);
        // Opened afresh: the app has used this data directory since.
        let mut gp = Workstation::open(self.gp_dir.clone(), self.keyring.clone())?;
        let user = gp.profile().ok_or("the GP is not enrolled")?.user_id.clone();
        let mut key = SoftKey::load(&self.keyring, &user)?.ok_or("no GP key in the keyring")?;
        key.enter_pin(GP_PIN);
        let desk = gp.unlock(&mut key, now).await?;
        desk.engine()?.pull(&desk.store(), now).await?;
        let view = desk.open_thread(id, now)?.ok_or("the thread is not cached")?;
        let mut photos = Vec::new();
        {
            // The reader holds the cache: let it go before the lock.
            let reader = desk.attachment_reader();
            for line in view.messages.iter().flat_map(|m| &m.attachments) {
                let opened = reader.open(id, &sealbox_model::ids::AttachmentId(line.id.clone())).await?;
                photos.push(opened.bytes.to_vec());
            }
        }
        desk.lock("done", now).await?;
        Ok(photos)
    }

    /// How many messages the patient sent on `thread` that the hub holds.
    pub fn hub_patient_messages(&self, thread: &str) -> Result<i64, Failure> {
        let id: i64 = thread.parse()?;
        Ok(self.hub.db.sqlite_blocking(move |c| {
            c.query_row(
                "SELECT count(*) FROM envelopes WHERE thread_id = ?1 AND sender_kind = 'patient'",
                [id],
                |r| r.get(0),
            )
        })?)
    }

    /// The thread the hub opened last.
    pub fn newest_thread(&self) -> Result<String, Failure> {
        let id: i64 = self.hub.db.sqlite_blocking(|c| {
            c.query_row("SELECT id FROM threads ORDER BY created_at_us DESC, rowid DESC LIMIT 1", [], |r| {
                r.get(0)
            })
        })?;
        Ok(id.to_string())
    }
}

impl Practice {
    /// Puts a practice policy in force, as `sealbox-hub policy` does; the
    /// app fetches it at its next unlock.
    /// (The demo's software key stays allowed: the app is driven with it.)
    pub fn set_policy(&self, policy: PracticePolicy) -> Result<(), Failure> {
        let policy =
            PracticePolicy { allow_demo_keys: true, ..policy }.validate().map_err(|e| e.to_string())?;
        let now = self.hub.now();
        Ok(self.hub.db.call_blocking(move |c| sealbox_hub::auth::policy::set(c, policy, "e2e", now))?)
    }

    /// A one-time invite, as `sealbox-hub invite` prints it: the code and
    /// the practice key's fingerprint, which the new workstation pins.
    pub fn invite(&self, role: Role, name: &str, registration: Option<&str>) -> Result<String, Failure> {
        let registration = registration.map(Registration::parse).transpose().map_err(|e| e.to_string())?;
        let name = name.to_owned();
        printed_code(&sealbox_hub::auth::cli::invite(&self.hub, role, &name, registration.as_ref())?)
    }

    /// A colleague's workstation, enrolled with a software key through the
    /// real flow and approved by the admin, left locked with its key in
    /// the OS keyring for the app to unlock with `pin`; returns its data
    /// directory (the app's `SEALBOX_DATA_DIR`).
    pub async fn enrol_colleague(
        &mut self,
        role: Role,
        name: &str,
        registration: Option<&str>,
        pin: &str,
    ) -> Result<PathBuf, Failure> {
        let code = self.invite(role, name, registration)?;
        let now = self.hub.now();
        let dir = self._dir.path().join(role.key());
        let mut ws = Workstation::open(dir.clone(), self.keyring.clone())?;
        let mut key = SoftKey::new(pin);
        let desk = ws.enrol(&self.url, &code, &format!("{} PC", role.title()), &mut key, now).await?;
        let user = desk.profile().user_id.clone();
        desk.lock("enrolled", now).await?;
        key.save(&self.keyring, &user)?;
        self.workstations.push(ws);
        self.approve_new_devices().await?;
        Ok(dir)
    }

    /// A colleague enrolled on the GP's workstation (a shared room: a seat
    /// of their own under [`Practice::gp_dir`]), through the real flow with
    /// a software key kept in the OS keyring for the app to unlock with
    /// `pin`, approved by the admin, left locked. Returns their staff id.
    pub async fn enrol_in_gp_room(
        &mut self,
        role: Role,
        name: &str,
        registration: Option<&str>,
        pin: &str,
    ) -> Result<String, Failure> {
        let code = self.invite(role, name, registration)?;
        let now = self.hub.now();
        let mut room = Room::open(self.gp_dir.clone(), self.keyring.clone())?;
        let mut key = SoftKey::new(pin);
        let desk = room.enrol(&self.url, &code, "Room 3 PC", &mut key, now).await?;
        let user = desk.profile().user_id.clone();
        desk.lock("enrolled", now).await?;
        key.save(&self.keyring, &user)?;
        self.approve_new_devices().await?;
        Ok(user)
    }

    /// The first patient's name, date of birth and NHS number, as their
    /// messages give them (the one [`Self::patient_asks`] writes as).
    pub fn first_patient(&self) -> Result<sealbox_model::patient::PatientDetails, Failure> {
        let patient = self.patients.patients.first().ok_or("the practice has no patients")?;
        Ok(sealbox_sim::seal::patient_details(patient))
    }

    /// The first patient of the practice file asks, on a new thread
    /// (7_000_000_000 + `n`), for `items` on repeat; returns the thread.
    pub async fn request_repeat(&self, n: u64, items: &[&str]) -> Result<String, Failure> {
        self.patient_asks(n, Category::RepeatPrescription, "Could I have my usual ones please?", items).await
    }

    /// The first patient of the practice file writes `text` (and asks for
    /// `items`, if any) on a new thread (7_000_000_000 + `n`) of
    /// `category`; returns the thread.
    pub async fn patient_asks(
        &self,
        n: u64,
        category: Category,
        text: &str,
        items: &[&str],
    ) -> Result<String, Failure> {
        self.patient_sends(n, category, text, items, Vec::new()).await
    }

    /// As [`Self::patient_asks`], with a photo attached (sealed by the
    /// patient's side under a key of its own, put at the hub first).
    pub async fn patient_sends_photo(&self, n: u64, text: &str) -> Result<String, Failure> {
        self.patient_sends(n, Category::ClinicalQuestion, text, &[], vec![PlannedAttachment::photo()]).await
    }

    async fn patient_sends(
        &self,
        n: u64,
        category: Category,
        text: &str,
        items: &[&str],
        attachments: Vec<PlannedAttachment>,
    ) -> Result<String, Failure> {
        let thread = ThreadId(7_000_000_000 + n);
        let mut parts = vec![MessagePart::FreeText(FreeText::new(text))];
        if !items.is_empty() {
            parts.push(MessagePart::MedicationRequest(MedicationRequest {
                items: items.iter().map(|i| MedicationText::new(*i)).collect(),
                shared_notes: Vec::new(),
                answers: Vec::new(),
            }));
        }
        let request = PlannedMessage {
            patient: 0,
            thread_id: thread,
            message_id: MessageId(thread.0 + 1),
            category,
            parts,
            red_flag: false,
            attachments,
        };
        let client = sealbox_sim::client::client()?;
        let summary =
            send::send(&client, &self.url, &self.patients, &[request], SendOptions::default()).await?;
        if summary.accepted != 1 {
            return Err("the hub did not accept the request".into());
        }
        Ok(thread.0.to_string())
    }

    /// The practice admin unlocks and approves every device enrolled since
    /// (its owner's pool key sealed to it); returns how many.
    pub async fn approve_new_devices(&mut self) -> Result<usize, Failure> {
        let now = self.hub.now();
        self.admin_key.enter_pin(ADMIN_PIN);
        let admin = self.workstations.first_mut().ok_or("no admin workstation")?;
        let desk = admin.unlock(&mut self.admin_key, now).await?;
        let devices = desk.hub().devices().await?;
        let mut approved = 0;
        let own = desk.profile().device_id.clone();
        let waiting =
            devices.devices.iter().filter(|d| d.id != own && !d.approved && !d.revoked && d.keys.is_some());
        for device in waiting {
            desk.approve_device(device).await?;
            approved += 1;
        }
        desk.lock("done", now).await?;
        Ok(approved)
    }

    /// The patient of `thread` writes `text` on it again.
    pub async fn patient_writes(&self, thread: &str, text: &str) -> Result<(), Failure> {
        let id = ThreadId(thread.parse()?);
        let first = self.plan.iter().find(|m| m.thread_id == id).ok_or("no such thread in the traffic")?;
        let again = PlannedMessage {
            patient: first.patient,
            thread_id: id,
            message_id: MessageId(self.plan.iter().map(|m| m.message_id.0).max().unwrap_or(0) + 1),
            category: first.category,
            parts: vec![MessagePart::FreeText(FreeText::new(text))],
            red_flag: false,
            attachments: Vec::new(),
        };
        let client = sealbox_sim::client::client()?;
        let summary =
            send::send(&client, &self.url, &self.patients, &[again], SendOptions::default()).await?;
        if summary.accepted != 1 {
            return Err("the hub did not accept the message".into());
        }
        Ok(())
    }

    /// What the practice wrote back, as `sealbox-sim read-replies` opens it
    /// with each patient's own key: (thread, text).
    pub async fn replies(&self) -> Result<Vec<(String, String)>, Failure> {
        let client = sealbox_sim::client::client()?;
        let replies = sealbox_sim::read_replies::read_replies(&client, &self.url, &self.patients).await?;
        Ok(replies.into_iter().map(|r| (r.thread_id.to_string(), r.text)).collect())
    }

    /// The actions of `kind` ("refill_decision", "prioritise") the hub
    /// applied on `thread`, as logged.
    pub fn hub_actions(&self, thread: &str, kind: &str) -> Result<Vec<String>, Failure> {
        let id: i64 = thread.parse()?;
        let pattern = format!("%\"kind\":\"{kind}\"%");
        let ops: Option<String> = self.hub.db.sqlite_blocking(move |c| {
            c.query_row(
                "SELECT group_concat(op, char(10)) FROM actions WHERE thread_id = ?1 AND op LIKE ?2",
                (id, &pattern),
                |r| r.get(0),
            )
        })?;
        Ok(ops.map(|o| o.lines().map(str::to_owned).collect()).unwrap_or_default())
    }
}

impl Drop for Practice {
    fn drop(&mut self) {
        for ws in &self.workstations {
            if let Some(p) = ws.profile() {
                let cfg = CacheConfig { data_dir: ws.dir().to_path_buf(), context: p.context() };
                let _ = cache::wipe_device(&cfg, &self.keyring, None);
            }
        }
    }
}
