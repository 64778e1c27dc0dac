//! What a saved thread holds. Patient data throughout: none of these types
//! implements `Debug` or `Display`, so none reaches a log by accident.

use sealbox_model::category::Category;
use sealbox_model::jiff::Timestamp;
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::priority::Priority;
use sealbox_model::refill::RejectionReason;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;

/// A thread handled at the practice, to be saved to the patient's record.
pub struct HandledThread {
    /// The practice's id at its hub (namespaces our identifiers).
    pub practice: String,
    /// The thread's id.
    pub thread: u64,
    /// Whom it is about: the record is found by this number.
    pub nhs_number: NhsNumber,
    /// Its category.
    pub category: Category,
    /// The priority in force (a person's, or the rules').
    pub priority: Priority,
    /// Closed (done) or still open.
    pub closed: bool,
    /// Who holds it (none: it waits in a queue).
    pub owner: Option<Clinician>,
    /// When the patient's first message arrived.
    pub opened: Timestamp,
    /// The messages, oldest first.
    pub messages: Vec<Message>,
    /// The red flags its messages raised, and who overruled them.
    pub red_flags: Vec<RedFlag>,
    /// For a repeat request: what was decided.
    pub refill: Option<Refill>,
    /// Who saves it, where and when, and the audit chain's link for it.
    pub saved: Saved,
}

/// A member of the practice's staff.
#[derive(Clone)]
pub struct Clinician {
    /// Their staff id at the hub.
    pub staff_id: String,
    /// Their name as the practice knows it.
    pub name: String,
    /// Their role (none: not in the staff directory this workstation holds).
    pub role: Option<Role>,
    /// Their professional registration (GMC, NMC, GPhC, HCPC), if any.
    pub registration: Option<Registration>,
}

/// Who wrote a message.
pub enum Sender {
    /// The patient.
    Patient,
    /// A member of staff.
    Staff(Clinician),
}

/// One message of the thread.
pub struct Message {
    /// Its id.
    pub id: u64,
    /// Who wrote it.
    pub from: Sender,
    /// When it was sent.
    pub sent: Timestamp,
    /// Its words.
    pub text: String,
    /// Photos sent with it.
    pub photos: Vec<Photo>,
}

/// A photo, as the patient sent it.
pub struct Photo {
    /// `image/jpeg`, `image/png`.
    pub content_type: String,
    /// The image's bytes.
    pub bytes: Vec<u8>,
}

/// A red flag raised on the thread.
pub struct RedFlag {
    /// The rule that raised it ("chest pain").
    pub rule: String,
    /// Lowered by a clinician, with their reason.
    pub overruled: Option<Overrule>,
}

/// A red flag lowered by a person.
pub struct Overrule {
    /// Who.
    pub by: Clinician,
    /// Why, in their words.
    pub reason: String,
}

/// A repeat request's decision.
pub enum Refill {
    /// Issued: each medicine as the review screen showed it.
    Approved(Vec<Medicine>),
    /// Not issued, with the coded reason (and the clinician's words).
    Rejected {
        /// The coded reason.
        reason: RejectionReason,
        /// What the clinician added.
        note: Option<String>,
    },
    /// Not decided yet.
    Undecided,
}

/// A medicine as the refill review shows it (the patient's words split
/// into name, strength, form and quantity; what was not given is empty).
pub struct Medicine {
    /// "Amlodipine".
    pub name: String,
    /// "5 mg".
    pub strength: String,
    /// "tablets".
    pub form: String,
    /// How many, in the form's units (56), when the patient said.
    pub quantity: Option<u32>,
}

/// The save itself.
pub struct Saved {
    /// Who saves.
    pub by: Clinician,
    /// The workstation's device id.
    pub workstation: String,
    /// When.
    pub at: Timestamp,
    /// The hex hash of the audit chain's event for the decision (or the
    /// thread's last event).
    pub audit_link: String,
}
