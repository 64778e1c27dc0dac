//! Parsing and signature checking, without any secret key (the hub uses
//! [`EnvelopeHeader::parse`] to validate what it relays).

use ed25519_dalek::{Signature, VerifyingKey};

use super::error::EnvelopeError;
use super::types::{PartKind, RecipientId};
use super::{
    mask_parts, sealed_keys_len, FORMAT_VERSION, MAGIC, MAX_ENVELOPE, MAX_ID, MAX_PARTS, MAX_PART_PLAINTEXT,
    MAX_PRACTICE_LEN, MAX_RECIPIENTS, NONCE_LEN, SIGNATURE_LEN, TAG_LEN,
};

/// Everything about an envelope that can be read without a key. Holds
/// identifiers and sizes only, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Format version.
    pub version: u8,
    /// The practice the envelope belongs to.
    pub practice: String,
    /// Sender-chosen thread id, in `1..=MAX_ID`.
    pub thread_id: u64,
    /// Sender-chosen message id, in `1..=MAX_ID`.
    pub message_id: u64,
    /// The sender's Ed25519 key; the signature has been verified against it.
    pub sender: VerifyingKey,
    /// The parts, in order.
    pub parts: Vec<PartHeader>,
}

/// One part as seen without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHeader {
    /// What the part holds.
    pub kind: PartKind,
    /// Who may read it (whose slot holds its content key), in envelope order.
    pub recipients: Vec<RecipientId>,
    /// Ciphertext length including the 16-byte tag (plaintext length + 16).
    pub ciphertext_len: usize,
}

impl EnvelopeHeader {
    /// Parses `bytes`, enforces every limit and verifies the signature
    /// against the embedded sender key.
    pub fn parse(bytes: &[u8]) -> Result<EnvelopeHeader, EnvelopeError> {
        Ok(parse(bytes)?.header)
    }

    /// The parts sealed to `recipient`, as kinds.
    pub fn kinds_for(&self, recipient: RecipientId) -> Vec<PartKind> {
        self.parts.iter().filter(|p| p.recipients.contains(&recipient)).map(|p| p.kind).collect()
    }
}

/// A recipient's slot: the content keys of the parts in `mask`, sealed.
pub(super) struct RawSlot<'a> {
    pub id: RecipientId,
    pub mask: u8,
    pub sealed: &'a [u8],
}

/// A part's raw slices, for opening.
pub(super) struct RawPart<'a> {
    pub kind: PartKind,
    pub nonce: &'a [u8],
    pub ciphertext: &'a [u8],
}

/// A parsed envelope: every structural check passed; the signature is
/// checked by [`parse`] or, for many envelopes at once, by the caller.
pub(super) struct Parsed<'a> {
    pub header: EnvelopeHeader,
    pub slots: Vec<RawSlot<'a>>,
    pub parts: Vec<RawPart<'a>>,
    /// Every byte before the signature.
    pub signed: &'a [u8],
    pub signature: Signature,
}

impl Parsed<'_> {
    /// Checks the signature on its own (`verify_strict`).
    pub(super) fn verify(&self) -> Result<(), EnvelopeError> {
        self.header
            .sender
            .verify_strict(self.signed, &self.signature)
            .map_err(|_| EnvelopeError::BadSignature)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EnvelopeError> {
        let end = self.pos.checked_add(n).ok_or(EnvelopeError::Truncated)?;
        let out = self.bytes.get(self.pos..end).ok_or(EnvelopeError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, EnvelopeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EnvelopeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn id(&mut self, what: &'static str) -> Result<u64, EnvelopeError> {
        let id = u64::from_be_bytes(self.array()?);
        if id == 0 || id > MAX_ID {
            return Err(EnvelopeError::Malformed { what });
        }
        Ok(id)
    }
}

/// Parses and verifies; the slices borrow from `bytes`.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed<'_>, EnvelopeError> {
    let parsed = parse_unverified(bytes)?;
    parsed.verify()?;
    Ok(parsed)
}

/// Parses without checking the signature (see [`Parsed`]).
pub(super) fn parse_unverified(bytes: &[u8]) -> Result<Parsed<'_>, EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE {
        return Err(EnvelopeError::TooLarge { what: "envelope bytes", max: MAX_ENVELOPE });
    }
    let mut r = Reader { bytes, pos: 0 };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(EnvelopeError::BadMagic);
    }
    let version = r.u8()?;
    if version != FORMAT_VERSION {
        return Err(EnvelopeError::UnknownVersion(version));
    }
    let practice_len = usize::from(r.u8()?);
    if practice_len == 0 {
        return Err(EnvelopeError::Malformed { what: "empty practice id" });
    }
    if practice_len > MAX_PRACTICE_LEN {
        return Err(EnvelopeError::TooLarge { what: "practice id bytes", max: MAX_PRACTICE_LEN });
    }
    let practice = std::str::from_utf8(r.take(practice_len)?)
        .map_err(|_| EnvelopeError::Malformed { what: "practice id is not UTF-8" })?
        .to_owned();
    let thread_id = r.id("thread id out of range")?;
    let message_id = r.id("message id out of range")?;
    let sender =
        VerifyingKey::from_bytes(&r.array()?).map_err(|_| EnvelopeError::Malformed { what: "sender key" })?;
    let part_count = usize::from(r.u8()?);
    if part_count == 0 {
        return Err(EnvelopeError::Malformed { what: "no parts" });
    }
    if part_count > MAX_PARTS {
        return Err(EnvelopeError::TooLarge { what: "part count", max: MAX_PARTS });
    }
    let recipient_count = usize::from(r.u8()?);
    if recipient_count == 0 {
        return Err(EnvelopeError::Malformed { what: "no recipients" });
    }
    if recipient_count > MAX_RECIPIENTS {
        return Err(EnvelopeError::TooLarge { what: "recipients", max: MAX_RECIPIENTS });
    }
    let mut slots: Vec<RawSlot<'_>> = Vec::with_capacity(recipient_count);
    for _ in 0..recipient_count {
        let id = RecipientId::from_tag(r.u8()?).ok_or(EnvelopeError::Malformed { what: "recipient tag" })?;
        if slots.iter().any(|seen| seen.id == id) {
            return Err(EnvelopeError::Malformed { what: "duplicate recipient" });
        }
        let mask = r.u8()?;
        if mask == 0 {
            return Err(EnvelopeError::Malformed { what: "recipient without parts" });
        }
        if u32::from(mask) >> part_count != 0 {
            return Err(EnvelopeError::Malformed { what: "part mask names a missing part" });
        }
        let sealed = r.take(sealed_keys_len(mask.count_ones() as usize))?;
        slots.push(RawSlot { id, mask, sealed });
    }
    let mut parts = Vec::with_capacity(part_count);
    let mut headers = Vec::with_capacity(part_count);
    for index in 0..part_count {
        let kind = PartKind::from_tag(r.u8()?).ok_or(EnvelopeError::Malformed { what: "part kind" })?;
        let recipients: Vec<RecipientId> =
            slots.iter().filter(|s| mask_parts(s.mask).any(|i| i == index)).map(|s| s.id).collect();
        if recipients.is_empty() {
            return Err(EnvelopeError::Malformed { what: "part without recipients" });
        }
        let nonce = r.take(NONCE_LEN)?;
        let ct_len = u32::from_be_bytes(r.array()?) as usize;
        if ct_len < TAG_LEN {
            return Err(EnvelopeError::Malformed { what: "ciphertext shorter than its tag" });
        }
        if ct_len > MAX_PART_PLAINTEXT + TAG_LEN {
            return Err(EnvelopeError::TooLarge {
                what: "part ciphertext bytes",
                max: MAX_PART_PLAINTEXT + TAG_LEN,
            });
        }
        let ciphertext = r.take(ct_len)?;
        headers.push(PartHeader { kind, recipients, ciphertext_len: ct_len });
        parts.push(RawPart { kind, nonce, ciphertext });
    }
    let signed = &bytes[..r.pos];
    let signature = Signature::from_bytes(&r.array::<SIGNATURE_LEN>()?);
    if r.pos != bytes.len() {
        return Err(EnvelopeError::Malformed { what: "trailing bytes after the signature" });
    }
    Ok(Parsed {
        header: EnvelopeHeader { version, practice, thread_id, message_id, sender, parts: headers },
        slots,
        parts,
        signed,
        signature,
    })
}
