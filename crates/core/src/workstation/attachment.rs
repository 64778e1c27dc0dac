//! Attachments shown in the thread (issue 23 point 12). The message's
//! sealed attachment part names the blob at the hub and the key it is
//! encrypted under; the workstation fetches the blob, opens it for the
//! thread it was sent on (`sealbox_crypto::attachment`: a blob swapped at
//! the hub for another thread's or another patient's fails to open), checks
//! that the bytes are the picture the part says, and hands them on in
//! memory that is wiped when dropped. Nothing is written to disk: not the
//! blob, not the picture.

use std::sync::Arc;

use sealbox_crypto::attachment::{open_attachment, AttachmentPlace};
use sealbox_crypto::secret::SecretKey;
use sealbox_model::ids::{AttachmentId, ThreadId};
use sealbox_model::message::{AttachmentRef, MessagePart};
use zeroize::Zeroizing;

use super::{Desk, WorkstationError};
use crate::sync::client::HubClient;
use crate::sync::SharedStore;

/// Why an attachment is not shown. No content, no ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    /// The thread (or a repeat merged into it) names no such attachment on
    /// this workstation: nothing is fetched for an id the page made up.
    #[error("this thread has no such attachment on this workstation")]
    NotInThread,
    /// Listed, not shown: only JPEG and PNG pictures open in Sealbox.
    #[error("only photos (JPEG or PNG) open in Sealbox; this attachment is listed, not shown")]
    NotShown,
    /// The blob did not open with the message's key for its thread:
    /// altered at the hub, or another attachment's.
    #[error("the attachment did not match its message (altered, or another's); it is not shown")]
    Rejected,
    /// It opened, but the bytes are not the picture the message says.
    #[error("the attachment is not the photo its message says; it is not shown")]
    NotThePicture,
}

/// An opened picture. `Debug` shows its type and size only.
pub struct OpenedAttachment {
    /// "image/jpeg" or "image/png", checked against the bytes.
    pub media_type: String,
    /// The picture, wiped from memory when dropped.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenedAttachment({}, {} bytes)", self.media_type, self.bytes.len())
    }
}

/// Fetches and opens attachments away from the desk (a task the shell keeps
/// with its sends, so a lock stops it).
pub struct AttachmentReader {
    store: Arc<SharedStore>,
    hub: HubClient,
    practice: String,
}

impl std::fmt::Debug for AttachmentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentReader").finish_non_exhaustive()
    }
}

impl Desk {
    /// A reader of attachments for this desk's session.
    pub fn attachment_reader(&self) -> AttachmentReader {
        AttachmentReader {
            store: self.store(),
            hub: self.hub.clone(),
            practice: self.profile.practice_id.clone(),
        }
    }
}

/// The media type `bytes` start like, of those shown inline.
pub fn sniff_picture(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

impl AttachmentReader {
    /// The attachment `id` of `thread` (or of a repeat merged into it):
    /// fetched, opened and checked.
    pub async fn open(
        &self,
        thread: ThreadId,
        id: &AttachmentId,
    ) -> Result<OpenedAttachment, WorkstationError> {
        let (sent_on, reference) = self.find(thread, id)?;
        if !reference.is_inline_image() {
            return Err(AttachmentError::NotShown.into());
        }
        let blob = self.hub.attachment(&reference.id).await?;
        let key = SecretKey::from_slice(reference.key.as_slice()).ok_or(AttachmentError::Rejected)?;
        let place = AttachmentPlace { practice: &self.practice, thread: sent_on.0, id: &reference.id.0 };
        let bytes = open_attachment(&key, &blob, &place).map_err(|_| AttachmentError::Rejected)?;
        if sniff_picture(&bytes) != Some(reference.media_type.as_str()) {
            return Err(AttachmentError::NotThePicture.into());
        }
        Ok(OpenedAttachment { media_type: reference.media_type, bytes })
    }

    /// The thread the attachment was sent on and its reference.
    fn find(
        &self,
        thread: ThreadId,
        id: &AttachmentId,
    ) -> Result<(ThreadId, AttachmentRef), WorkstationError> {
        let store = crate::sync::lock(&self.store);
        let mut threads = vec![thread];
        threads.extend(store.merged_in(thread)?);
        for t in threads {
            let Some(detail) = store.thread(t)? else { continue };
            for m in &detail.thread.messages {
                for part in &m.parts {
                    if let MessagePart::Attachment(a) = part {
                        if &a.id == id {
                            return Ok((t, a.clone()));
                        }
                    }
                }
            }
        }
        Err(AttachmentError::NotInThread.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_known_by_their_first_bytes() {
        assert_eq!(sniff_picture(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_picture(&[0xff, 0xd8, 0xff, 0xe0, 0]), Some("image/jpeg"));
        assert_eq!(sniff_picture(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff_picture(b"%PDF-1.7"), None);
        assert_eq!(sniff_picture(b""), None);
    }
}
