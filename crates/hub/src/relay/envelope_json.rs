//! Envelopes as sync pages carry them, serialised once. A stored envelope
//! never changes, and every desktop of a practice pulls the same recent
//! ones: the hub keeps their JSON (ciphertext and ids only) by seq, up to a
//! byte budget, newest kept, and builds pages by copying.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sealbox_model::hub_api::EnvelopeRecord;

/// The default budget: about 50,000 typical envelopes.
pub const DEFAULT_BUDGET_BYTES: usize = 32 * 1024 * 1024;

/// Seq → the JSON of that envelope's [`EnvelopeRecord`].
#[derive(Debug)]
pub struct EnvelopeJsonCache {
    inner: Mutex<Inner>,
    budget: usize,
}

#[derive(Debug, Default)]
struct Inner {
    by_seq: BTreeMap<u64, Arc<[u8]>>,
    bytes: usize,
}

impl EnvelopeJsonCache {
    /// An empty cache holding at most `budget` bytes of JSON.
    pub fn new(budget: usize) -> Self {
        EnvelopeJsonCache { inner: Mutex::new(Inner::default()), budget }
    }

    /// The JSON of the envelope at `seq`, if held.
    pub fn get(&self, seq: u64) -> Option<Arc<[u8]>> {
        self.lock().by_seq.get(&seq).cloned()
    }

    /// Serialises `record` and keeps it (dropping the oldest seqs past the
    /// budget); returns the JSON.
    pub fn insert(&self, record: &EnvelopeRecord) -> Result<Arc<[u8]>, serde_json::Error> {
        let json: Arc<[u8]> = serde_json::to_vec(record)?.into();
        let mut inner = self.lock();
        if let Some(old) = inner.by_seq.insert(record.seq, json.clone()) {
            inner.bytes -= old.len();
        }
        inner.bytes += json.len();
        while inner.bytes > self.budget {
            let Some((_, dropped)) = inner.by_seq.pop_first() else { break };
            inner.bytes -= dropped.len();
        }
        Ok(json)
    }

    /// How many envelopes and bytes are held.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.by_seq.len(), inner.bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for EnvelopeJsonCache {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealbox_model::hub_api::{Base64Bytes, Sender};
    use sealbox_model::ids::{MessageId, ThreadId};
    use sealbox_model::jiff::Timestamp;

    fn record(seq: u64, body: usize) -> EnvelopeRecord {
        EnvelopeRecord {
            seq,
            thread_id: ThreadId(1),
            message_id: MessageId(seq),
            sender: Sender::Patient,
            received_at: Timestamp::UNIX_EPOCH,
            envelope: Base64Bytes(vec![7; body]),
        }
    }

    #[test]
    fn holds_the_serialised_record() {
        let cache = EnvelopeJsonCache::new(1 << 20);
        let r = record(5, 40);
        let json = cache.insert(&r).unwrap();
        assert_eq!(&*json, serde_json::to_vec(&r).unwrap().as_slice());
        assert_eq!(cache.get(5).as_deref(), Some(&*json));
        assert!(cache.get(6).is_none());
    }

    #[test]
    fn drops_the_oldest_past_its_budget() {
        let one = serde_json::to_vec(&record(1, 100)).unwrap().len();
        let cache = EnvelopeJsonCache::new(one * 3);
        for seq in 1..=5 {
            cache.insert(&record(seq, 100)).unwrap();
        }
        let (count, bytes) = cache.usage();
        assert_eq!(count, 3);
        assert!(bytes <= one * 3);
        assert!(cache.get(2).is_none());
        assert!(cache.get(3).is_some() && cache.get(5).is_some());
    }
}
