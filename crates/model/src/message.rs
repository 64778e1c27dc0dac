//! Messages and their parts. Free text and medication text are patient data
//! and redact themselves in `Debug`/`Display`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::hub_api::Base64Bytes;
use crate::ids::{AttachmentId, MessageId, PatientId, StaffId, ThreadId};
use crate::priority::Priority;
use crate::redact::redacted_fmt;
use crate::thread_state::ThreadState;

/// Text written by a patient or clinician.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FreeText(String);

redacted_fmt!(FreeText);

impl FreeText {
    /// Wraps text.
    pub fn new(text: impl Into<String>) -> Self {
        FreeText(text.into())
    }

    /// The text, for display to someone allowed to read it.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// True when there is no visible text.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

/// A medicine as written on a request ("Ramipril 5mg capsules, 28").
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MedicationText(String);

redacted_fmt!(MedicationText);

impl MedicationText {
    /// Wraps text.
    pub fn new(text: impl Into<String>) -> Self {
        MedicationText(text.into())
    }

    /// The text, for display to someone allowed to read it.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The patient.
    Patient,
    /// A member of the practice team, writing to the patient.
    Clinician(StaffId),
    /// A member of the practice team, writing to colleagues only: an
    /// internal note, sealed to the practice's pools and never to the
    /// patient (the workstation tells it from the envelope's recipients).
    Note(StaffId),
    /// Sealbox (automatic acknowledgements, status notes).
    System,
}

/// A clinician's note copied into the medication part, so that a pharmacist
/// (who cannot read the free text) can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedNote {
    /// Who shared it.
    pub shared_by: StaffId,
    /// When.
    pub at: Timestamp,
    /// What was shared.
    pub text: FreeText,
}

/// The medication part of a message: requested items and shared notes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MedicationRequest {
    /// The medicines asked for.
    pub items: Vec<MedicationText>,
    /// Notes shared into this part by clinicians.
    pub shared_notes: Vec<SharedNote>,
    /// The patient's answers to the practice's renewal questions
    /// (`crate::renewal`), per medicine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<crate::renewal::RenewalAnswer>,
}

/// A reference to a sealed attachment. The file name is not kept (it is
/// often a patient's name); the UI labels attachments by media type.
///
/// The blob at the hub is encrypted under `key`, which travels only here,
/// inside the sealed part: only the pools that may read attachments of the
/// category can open it (`sealbox_crypto::attachment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Where the hub keeps it.
    pub id: AttachmentId,
    /// MIME type, e.g. "image/jpeg".
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The key its blob is encrypted under (32 bytes; `Debug` shows only
    /// the length).
    pub key: Base64Bytes,
}

/// The media types a workstation shows inline (after checking the bytes
/// are what they claim); any other attachment is listed by type and size.
pub const INLINE_IMAGE_TYPES: [&str; 2] = ["image/jpeg", "image/png"];

impl AttachmentRef {
    /// True when its id is one the hub accepts and its key is 32 bytes.
    pub fn is_well_formed(&self) -> bool {
        AttachmentId::is_valid(&self.id.0) && self.key.as_slice().len() == 32
    }

    /// True when the UI may show it as an image in the thread.
    pub fn is_inline_image(&self) -> bool {
        INLINE_IMAGE_TYPES.contains(&self.media_type.as_str())
    }

    /// How a thread names it: "Photo (PNG, 3 KB)", "Attachment
    /// (application/pdf, 1.2 MB)". The media type is the sender's claim,
    /// shown only after it is cut to a plain token.
    pub fn label(&self) -> String {
        let size = match self.size_bytes {
            n if n < 1024 => format!("{n} bytes"),
            n if n < 1024 * 1024 => format!("{} KB", n.div_ceil(1024)),
            n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
        };
        match self.media_type.as_str() {
            "image/jpeg" => format!("Photo (JPEG, {size})"),
            "image/png" => format!("Photo (PNG, {size})"),
            other => {
                let plain: String = other
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '+'))
                    .take(60)
                    .collect();
                format!("Attachment ({plain}, {size})")
            }
        }
    }
}

/// One part of a message; each kind is sealed to different pools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum MessagePart {
    /// Free text.
    FreeText(FreeText),
    /// A medication request (and notes shared into it).
    MedicationRequest(MedicationRequest),
    /// An attachment.
    Attachment(AttachmentRef),
}

/// A message in a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Who wrote it.
    pub author: Author,
    /// When the hub received it.
    pub received_at: Timestamp,
    /// Its parts.
    pub parts: Vec<MessagePart>,
}

impl MessagePart {
    /// The bytes sealed into an envelope part: this part as JSON (tagged with
    /// its kind). One encoding for every sender and reader.
    pub fn to_sealed_plaintext(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Reads a part opened from an envelope. The error says where the JSON
    /// broke, never what it held.
    pub fn from_sealed_plaintext(bytes: &[u8]) -> Result<Self, PartDecodeError> {
        serde_json::from_slice(bytes).map_err(|e| PartDecodeError::from_json(&e))
    }
}

/// An opened envelope part that is not a valid message part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an opened message part is not valid ({class} error at line {line} column {column})")]
pub struct PartDecodeError {
    pub line: usize,
    pub column: usize,
    pub class: String,
}

impl PartDecodeError {
    /// Where and what class of error, without the error's own message
    /// (serde's messages quote the offending value).
    pub fn from_json(e: &serde_json::Error) -> Self {
        PartDecodeError { line: e.line(), column: e.column(), class: format!("{:?}", e.classify()) }
    }
}

impl Message {
    /// True if the patient wrote it.
    pub fn is_from_patient(&self) -> bool {
        self.author == Author::Patient
    }

    /// The free text parts joined by blank lines (what red flags read).
    pub fn free_text(&self) -> FreeText {
        let joined: Vec<&str> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                MessagePart::FreeText(t) => Some(t.reveal()),
                _ => None,
            })
            .collect();
        FreeText::new(joined.join("\n\n"))
    }
}

/// The most characters of a message an inbox row shows.
pub const PREVIEW_CHARS: usize = 120;

impl Message {
    /// One line for the inbox row: the first line of its text with
    /// whitespace collapsed (cut at [`PREVIEW_CHARS`] with "…"), else the
    /// medicines it asks for, else how many attachments it carries; empty
    /// when this device can read none of it. Patient data: for the webview
    /// only.
    pub fn preview(&self) -> String {
        let text = self.free_text();
        let line = text
            .reveal()
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "));
        let medicines = || {
            let items: Vec<&str> = self
                .parts
                .iter()
                .filter_map(|p| match p {
                    MessagePart::MedicationRequest(m) => Some(m.items.iter().map(MedicationText::reveal)),
                    _ => None,
                })
                .flatten()
                .collect();
            (!items.is_empty()).then(|| items.join("; "))
        };
        let attachments = || {
            let n = self.parts.iter().filter(|p| matches!(p, MessagePart::Attachment(_))).count();
            match n {
                0 => None,
                1 => Some("1 attachment".to_owned()),
                n => Some(format!("{n} attachments")),
            }
        };
        let whole = line.or_else(medicines).or_else(attachments).unwrap_or_default();
        if whole.chars().count() <= PREVIEW_CHARS {
            return whole;
        }
        let cut: String = whole.chars().take(PREVIEW_CHARS - 1).collect();
        format!("{}\u{2026}", cut.trim_end())
    }
}

/// A conversation with one patient about one matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// Its id.
    pub id: ThreadId,
    /// The patient (pseudonymous).
    pub patient: PatientId,
    /// What it is about.
    pub category: Category,
    /// How urgent.
    pub priority: Priority,
    /// Where it is in its life cycle.
    pub state: ThreadState,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_plaintext_round_trips_and_bad_bytes_do_not_echo() {
        let part = MessagePart::MedicationRequest(MedicationRequest {
            items: vec![MedicationText::new("Ramipril 5mg capsules")],
            shared_notes: Vec::new(),
            answers: Vec::new(),
        });
        let bytes = part.to_sealed_plaintext().unwrap();
        assert_eq!(MessagePart::from_sealed_plaintext(&bytes).unwrap(), part);
        let err =
            MessagePart::from_sealed_plaintext(b"{\"kind\":\"free_text\",\"value\":7,\"x\":\"Ramipril\"}")
                .unwrap_err();
        assert!(!err.to_string().contains("Ramipril"));
    }

    #[test]
    fn an_attachment_is_labelled_by_kind_and_size_and_well_formed_only_with_a_valid_id_and_key() {
        let mut a = AttachmentRef {
            id: AttachmentId("att-0123456789ab".to_owned()),
            media_type: "image/png".to_owned(),
            size_bytes: 2_411,
            key: Base64Bytes(vec![7; 32]),
        };
        assert_eq!(a.label(), "Photo (PNG, 3 KB)");
        assert!(a.is_inline_image() && a.is_well_formed());
        assert!(!format!("{a:?}").contains("7, 7"), "Debug shows the key");
        a.media_type = "application/pdf\u{202e}<b>".to_owned();
        a.size_bytes = 3 * 1024 * 1024 / 2;
        assert_eq!(a.label(), "Attachment (application/pdfb, 1.5 MB)");
        assert!(!a.is_inline_image());
        a.key = Base64Bytes(vec![7; 31]);
        assert!(!a.is_well_formed());
        a.key = Base64Bytes(vec![7; 32]);
        a.id = AttachmentId("../../etc".to_owned());
        assert!(!a.is_well_formed());
    }

    #[test]
    fn a_preview_is_the_first_line_of_text_else_the_medicines_else_the_attachments() {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let msg = |parts| Message { id: MessageId(1), author: Author::Patient, received_at: at, parts };
        let text = |t: &str| MessagePart::FreeText(FreeText::new(t));
        let meds = MessagePart::MedicationRequest(MedicationRequest {
            items: vec![MedicationText::new("Ramipril 5mg"), MedicationText::new("Amlodipine 10mg")],
            shared_notes: Vec::new(),
            answers: Vec::new(),
        });
        assert_eq!(msg(vec![text("\n  My   chest\thurts \nsince Monday")]).preview(), "My chest hurts");
        assert_eq!(msg(vec![text("  "), meds.clone()]).preview(), "Ramipril 5mg; Amlodipine 10mg");
        assert_eq!(msg(vec![]).preview(), "");
        let long = "word ".repeat(60);
        let cut = msg(vec![text(&long)]).preview();
        assert_eq!(cut.chars().count(), PREVIEW_CHARS);
        assert!(cut.ends_with("word\u{2026}"), "{cut}");
        let wide = "é".repeat(PREVIEW_CHARS);
        assert_eq!(msg(vec![text(&wide)]).preview(), wide, "counted in characters, not bytes");
    }

    #[test]
    fn message_parts_redact_patient_text() {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let msg = Message {
            id: MessageId(1),
            author: Author::Patient,
            received_at: at,
            parts: vec![
                MessagePart::FreeText(FreeText::new("I feel low since my divorce")),
                MessagePart::MedicationRequest(MedicationRequest {
                    items: vec![MedicationText::new("Sertraline 50mg tablets")],
                    shared_notes: vec![SharedNote {
                        shared_by: StaffId("gp-1".into()),
                        at,
                        text: FreeText::new("mood discussed"),
                    }],
                    answers: Vec::new(),
                }),
            ],
        };
        let out = format!("{msg:?} {msg:#?}");
        for secret in ["divorce", "Sertraline", "mood"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("FreeText(<redacted>)"));
        assert!(out.contains("MedicationText(<redacted>)"));
        assert_eq!(format!("{}", FreeText::new("x y")), "<redacted>");
        assert_eq!(format!("{}", MedicationText::new("x y")), "<redacted>");
        assert_eq!(msg.free_text().reveal(), "I feel low since my divorce");
    }
}
