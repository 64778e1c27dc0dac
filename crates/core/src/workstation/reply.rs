//! Replying to the patient. The text, signed off with the clinician's name,
//! role and professional registration (`Profile::sign_off`), is sealed on this device: to the patient's own key (from the
//! hub's thread record) and to every pool allowed to read free text on the
//! thread's category, then signed with this device's key. It is queued in
//! the outbox together with the message shown in the thread and its audit
//! event; the draft it came from is cleared in the same transaction. A
//! reply the hub refuses returns to the draft (see `sync::outbox`). The
//! draft itself is saved as it is typed (`Desk::save_draft`), so it
//! survives a lock.

use std::collections::BTreeMap;

use rand::rngs::OsRng;
use sealbox_crypto::envelope::{seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId};
use sealbox_crypto::x25519_dalek::PublicKey;
use sealbox_model::hub_api::{ActionOp, Base64Bytes, IdempotencyKey, PracticeKeys};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, FreeText, Message, MessagePart};
use sealbox_model::permissions::{can, pools_that_can_read_part, Action};
use sealbox_model::pool::Pool;

use super::{Desk, WorkstationError};
use crate::store::{Store, StoreError};
use crate::sync::outbox;

/// The setting holding the practice's published pool keys (JSON of
/// [`PracticeKeys`]), refreshed at every unlock verified by the hub.
pub const PRACTICE_KEYS_SETTING: &str = "practice.pool_keys";

/// The longest reply accepted, in characters.
pub const MAX_REPLY_CHARS: usize = 4_000;

/// Why a reply was not queued. Nothing here carries its text.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// Nothing to send.
    #[error("the reply is empty")]
    Empty,
    /// Over [`MAX_REPLY_CHARS`].
    #[error("the reply is too long: at most {MAX_REPLY_CHARS} characters")]
    TooLong,
    /// The thread is not cached.
    #[error("that thread is not in this workstation's cache")]
    NoSuchThread,
    /// The role may not reply on this category.
    #[error("your role may not reply on this kind of request")]
    Forbidden,
    /// Closed threads take no replies.
    #[error("the thread is closed; reopen it to reply")]
    Closed,
    /// The hub has not yet named the patient's key for this thread.
    #[error("the patient's key is not known yet; sync with the hub, then reply")]
    NoPatientKey,
    /// A pool that may read the reply has no key this workstation knows.
    #[error("the practice's keys are not known here yet; unlock once while online, then reply")]
    NoPoolKey,
    /// Sealing failed.
    #[error("the reply could not be sealed")]
    Seal,
}

impl Desk {
    /// Queues `text` as a reply on `thread` (see the module docs); the
    /// caller sends the outbox. Returns the new message's id.
    pub fn reply(&self, thread: ThreadId, text: &str, now: Timestamp) -> Result<MessageId, WorkstationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReplyError::Empty.into());
        }
        if text.chars().count() > MAX_REPLY_CHARS {
            return Err(ReplyError::TooLong.into());
        }
        let profile = self.profile();
        let me = self.me();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let part = MessagePart::FreeText(FreeText::new(format!("{text}\n\n{}", profile.sign_off())));
        let to = self.reply_recipients(&store, thread)?;
        let (id, envelope) = self.seal_part(thread, &part, &to)?;
        let key = IdempotencyKey::new(format!("reply-{}", id.0)).map_err(|_| ReplyError::Seal)?;
        let shown =
            Message { id, author: Author::Clinician(me.id.clone()), received_at: now, parts: vec![part] };
        let op = ActionOp::Reply { message_id: id, envelope: Base64Bytes(envelope) };
        outbox::queue_with(&mut store, &me, thread, op, key, now, |w| {
            w.insert_message(thread, &shown)?;
            w.delete_draft(thread)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Keeps `text` as the reply being drafted on `thread`, in the encrypted
    /// cache with the rest, so a lock (which reloads the page) loses none of
    /// it; blank text clears the draft. Only where this clinician may reply.
    pub fn save_draft(&self, thread: ThreadId, text: &str, now: Timestamp) -> Result<(), WorkstationError> {
        if text.chars().count() > MAX_REPLY_CHARS {
            return Err(ReplyError::TooLong.into());
        }
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let category = store.thread(thread)?.ok_or(ReplyError::NoSuchThread)?.thread.category;
        if !can(self.profile().role, Action::Reply, category) {
            return Err(ReplyError::Forbidden.into());
        }
        store.write(|w| {
            if text.trim().is_empty() {
                w.delete_draft(thread).map(drop)
            } else {
                w.save_draft(thread, &FreeText::new(text.to_owned()), now)
            }
        })?;
        Ok(())
    }

    /// Seals `part` (free text, or a medication part carrying a shared
    /// note) on `thread` to `to` under a new message id, signed with this
    /// device's key.
    pub(super) fn seal_part(
        &self,
        thread: ThreadId,
        part: &MessagePart,
        to: &[Recipient],
    ) -> Result<(MessageId, Vec<u8>), ReplyError> {
        let plaintext = zeroize::Zeroizing::new(part.to_sealed_plaintext().map_err(|_| ReplyError::Seal)?);
        let id = MessageId(new_message_id());
        let fields =
            EnvelopeFields { practice: &self.profile().practice_id, thread_id: thread.0, message_id: id.0 };
        let kind = match part {
            MessagePart::FreeText(_) => PartKind::FreeText,
            MessagePart::MedicationRequest(_) => PartKind::MedicationRequest,
            MessagePart::Attachment(_) => return Err(ReplyError::Seal),
        };
        let input = PartInput { kind, plaintext: &plaintext, recipients: to };
        let envelope = seal_envelope(&mut OsRng, &self.device.ed25519, &fields, &[input])
            .map_err(|_| ReplyError::Seal)?;
        Ok((id, envelope))
    }

    /// Every pool allowed to read free text on `category`, with the key
    /// this desk knows for it: who a reply (besides the patient) and an
    /// internal note are sealed to.
    pub(super) fn free_text_pools(
        &self,
        store: &Store,
        category: sealbox_model::category::Category,
    ) -> Result<Vec<Recipient>, WorkstationError> {
        self.part_pools(store, &MessagePart::FreeText(FreeText::new("")), category)
    }

    /// Every pool allowed to read `part` on `category`, with the key this
    /// desk knows for it.
    pub(super) fn part_pools(
        &self,
        store: &Store,
        part: &MessagePart,
        category: sealbox_model::category::Category,
    ) -> Result<Vec<Recipient>, WorkstationError> {
        let keys = self.pool_public_keys(store)?;
        let mut to = Vec::new();
        for pool in pools_that_can_read_part(part, category) {
            // A colleague's pool left out could never read it.
            let key = keys.get(&pool).ok_or(ReplyError::NoPoolKey)?;
            to.push(Recipient { id: RecipientId::Pool(pool), public_key: *key });
        }
        Ok(to)
    }

    /// Who a reply on `thread` is sealed to — the patient and every pool
    /// allowed to read free text on its category — or why no reply may be
    /// queued now (a refill decision with a note asks this before queuing).
    pub(super) fn reply_recipients(
        &self,
        store: &Store,
        thread: ThreadId,
    ) -> Result<Vec<Recipient>, WorkstationError> {
        let detail = store.thread(thread)?.ok_or(ReplyError::NoSuchThread)?;
        let category = detail.thread.category;
        if !can(self.profile().role, Action::Reply, category) {
            return Err(ReplyError::Forbidden.into());
        }
        if !detail.thread.state.is_open() {
            return Err(ReplyError::Closed.into());
        }
        let patient = PublicKey::from(store.patient_key(thread)?.ok_or(ReplyError::NoPatientKey)?);
        let mut to = vec![Recipient { id: RecipientId::Patient, public_key: patient }];
        to.extend(self.free_text_pools(store, category)?);
        Ok(to)
    }

    /// Every pool's public key this desk knows: those the hub published
    /// (as last fetched), and those of the pools it holds.
    fn pool_public_keys(&self, store: &Store) -> Result<BTreeMap<Pool, PublicKey>, StoreError> {
        let mut keys: BTreeMap<Pool, (u32, PublicKey)> = BTreeMap::new();
        if let Some(json) = store.setting(PRACTICE_KEYS_SETTING)? {
            let published: PracticeKeys =
                serde_json::from_str(&json).map_err(|_| StoreError::Decode("practice keys"))?;
            for k in published.pools.iter().filter(|_| published.practice_id == self.profile().practice_id) {
                if let Ok(bytes) = <[u8; 32]>::try_from(k.x25519_public.as_slice()) {
                    if keys.get(&k.pool).is_none_or(|(v, _)| *v < k.key_version) {
                        keys.insert(k.pool, (k.key_version, PublicKey::from(bytes)));
                    }
                }
            }
        }
        for (pool, version, public) in self.pool_keys.public_keys() {
            if keys.get(&pool).is_none_or(|(v, _)| *v <= version) {
                keys.insert(pool, (version, public));
            }
        }
        Ok(keys.into_iter().map(|(pool, (_, key))| (pool, key)).collect())
    }
}

/// A random message id in the hub's range (1..2^63-1).
fn new_message_id() -> u64 {
    let bytes = sealbox_crypto::secret::random_bytes::<8>();
    (u64::from_le_bytes(bytes) >> 1).max(1)
}
