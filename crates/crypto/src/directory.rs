//! The practice's signed key directory: every public key a sender relies on
//! — each pool's key and its version, each approved device's keys bound to
//! its member of staff and role, each revocation — as a statement signed
//! with the practice key (Ed25519, held by the practice's admins, never by
//! the hub). Statements form a chain: each names the hash of the one
//! before, so a hub cannot change, drop or reorder one, and cannot show two
//! devices different histories without the fork showing when they compare
//! heads ([`Directory::check_head`]).
//!
//! Statement message = `"sealbox/directory/v1"`, then length-prefixed (8
//! bytes, big-endian): the practice id, seq (8 bytes), the previous hash,
//! and the entry (a tag byte, then its fields length-prefixed). Its hash is
//! SHA-256 of the message; its signature is Ed25519 over the message. The
//! first statement has seq 1 and the previous hash [`GENESIS`].
//!
//! Rules a device applies to every statement ([`Directory::apply`]): the
//! next seq, the head's hash, a signature by the pinned practice key; a
//! pool key's version is one more than the pool's newest (so an old
//! version cannot be replayed as new); a device is approved once; only an
//! approved device is revoked.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sealbox_model::hub_api::{
    Base64Bytes, DirectoryPage, EntryRecord, HeadRecord, HeadsPage, StatementRecord,
};
use sealbox_model::pool::Pool;
use sha2::{Digest, Sha256};

/// The "previous hash" of the first statement.
pub const GENESIS: [u8; 32] = [0u8; 32];

const DOMAIN: &[u8] = b"sealbox/directory/v1";
const FINGERPRINT_DOMAIN: &[u8] = b"sealbox/practice-key/fingerprint/v1";

/// What one statement says. Public keys and ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `pool`'s public key, version `version` (1, 2, … per pool).
    PoolKey {
        /// The pool.
        pool: Pool,
        /// Its version.
        version: u32,
        /// The X25519 public key.
        public: [u8; 32],
    },
    /// A device approved for a member of staff.
    Device {
        /// The hub's device id.
        device: String,
        /// The member of staff it belongs to.
        staff: String,
        /// Their role (`Role::key`).
        role: String,
        /// Its X25519 key (pool keys are sealed to it).
        x25519: [u8; 32],
        /// Its Ed25519 key (it signs its audit chain and actions).
        ed25519: [u8; 32],
    },
    /// A device revoked: nothing is sealed to it again.
    Revoke {
        /// The device id.
        device: String,
    },
}

impl Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Entry::PoolKey { pool, version, public } => {
                out.push(1);
                field(out, pool.key().as_bytes());
                field(out, &version.to_be_bytes());
                field(out, public);
            }
            Entry::Device { device, staff, role, x25519, ed25519 } => {
                out.push(2);
                for f in [device.as_bytes(), staff.as_bytes(), role.as_bytes(), x25519, ed25519] {
                    field(out, f);
                }
            }
            Entry::Revoke { device } => {
                out.push(3);
                field(out, device.as_bytes());
            }
        }
    }
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// One signed statement of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The previous statement's hash ([`GENESIS`] for seq 1).
    pub prev: [u8; 32],
    /// What it says.
    pub entry: Entry,
    /// The practice key's Ed25519 signature over the message.
    pub signature: [u8; 64],
}

impl Statement {
    /// Signs `entry` as the statement after `head` (`(0, GENESIS)` to
    /// start) of `practice`'s directory.
    pub fn sign(key: &SigningKey, practice: &str, head: (u64, [u8; 32]), entry: Entry) -> Statement {
        let (seq, prev) = (head.0 + 1, head.1);
        let signature = key.sign(&message(practice, seq, &prev, &entry)).to_bytes();
        Statement { seq, prev, entry, signature }
    }

    /// Its hash: what the next statement names.
    pub fn hash(&self, practice: &str) -> [u8; 32] {
        Sha256::digest(message(practice, self.seq, &self.prev, &self.entry)).into()
    }
}

fn message(practice: &str, seq: u64, prev: &[u8; 32], entry: &Entry) -> Vec<u8> {
    let mut m = Vec::with_capacity(160);
    m.extend_from_slice(DOMAIN);
    field(&mut m, practice.as_bytes());
    field(&mut m, &seq.to_be_bytes());
    field(&mut m, prev);
    let mut e = Vec::new();
    entry.encode(&mut e);
    field(&mut m, &e);
    m
}

/// A statement as it travels.
impl From<&Statement> for StatementRecord {
    fn from(s: &Statement) -> Self {
        let b = |bytes: &[u8]| Base64Bytes(bytes.to_vec());
        StatementRecord {
            seq: s.seq,
            prev: b(&s.prev),
            entry: match &s.entry {
                Entry::PoolKey { pool, version, public } => {
                    EntryRecord::PoolKey { pool: *pool, version: *version, public: b(public) }
                }
                Entry::Device { device, staff, role, x25519, ed25519 } => EntryRecord::Device {
                    device: device.clone(),
                    staff: staff.clone(),
                    role: role.clone(),
                    x25519: b(x25519),
                    ed25519: b(ed25519),
                },
                Entry::Revoke { device } => EntryRecord::Revoke { device: device.clone() },
            },
            signature: b(&s.signature),
        }
    }
}

/// A statement as received; the error names the field of the wrong
/// length. (Its signature and chain are checked by [`Directory::apply`].)
impl TryFrom<&StatementRecord> for Statement {
    type Error = &'static str;

    fn try_from(r: &StatementRecord) -> Result<Self, Self::Error> {
        fn fixed<const N: usize>(bytes: &Base64Bytes, what: &'static str) -> Result<[u8; N], &'static str> {
            bytes.0.as_slice().try_into().map_err(|_| what)
        }
        let entry = match &r.entry {
            EntryRecord::PoolKey { pool, version, public } => {
                Entry::PoolKey { pool: *pool, version: *version, public: fixed(public, "public")? }
            }
            EntryRecord::Device { device, staff, role, x25519, ed25519 } => Entry::Device {
                device: device.clone(),
                staff: staff.clone(),
                role: role.clone(),
                x25519: fixed(x25519, "x25519")?,
                ed25519: fixed(ed25519, "ed25519")?,
            },
            EntryRecord::Revoke { device } => Entry::Revoke { device: device.clone() },
        };
        Ok(Statement {
            seq: r.seq,
            prev: fixed(&r.prev, "prev")?,
            entry,
            signature: fixed(&r.signature, "signature")?,
        })
    }
}

/// Why a statement, or another device's head, is refused. Names what
/// failed; carries ids and numbers only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Not the next statement: a gap, a repeat, or another chain.
    #[error("key directory statement {seq} does not follow the one before (expected {expected})")]
    OutOfOrder {
        /// The statement's seq.
        seq: u64,
        /// The seq that was due.
        expected: u64,
    },
    /// It names another previous hash: an altered or forked chain.
    #[error("key directory statement {seq} does not chain to the one before")]
    Broken {
        /// The statement's seq.
        seq: u64,
    },
    /// Not signed by the practice key this device pinned.
    #[error("key directory statement {seq} is not signed by the practice key")]
    BadSignature {
        /// The statement's seq.
        seq: u64,
    },
    /// A pool key whose version is not the next one (an old key replayed).
    #[error(
        "key directory statement {seq}: {pool} key version {version} is not the next (newest is {newest})"
    )]
    StaleVersion {
        /// The statement's seq.
        seq: u64,
        /// The pool.
        pool: &'static str,
        /// The version it claims.
        version: u32,
        /// The pool's newest version before it.
        newest: u32,
    },
    /// A device approved a second time (or after its revocation).
    #[error("key directory statement {seq}: device {device} was approved before")]
    DeviceAgain {
        /// The statement's seq.
        seq: u64,
        /// The device.
        device: String,
    },
    /// A revocation of a device that is not approved.
    #[error("key directory statement {seq}: device {device} is not an approved device")]
    NotApproved {
        /// The statement's seq.
        seq: u64,
        /// The device.
        device: String,
    },
    /// The hub presents another practice key than the one pinned.
    #[error("the hub presents a different practice key from the one this side pinned")]
    OtherPracticeKey,
    /// A statement the hub served does not parse.
    #[error("a key directory statement is malformed ({field})")]
    Malformed {
        /// The field.
        field: &'static str,
    },
    /// The hub shows a shorter chain than a practice device signed it had
    /// verified: a rollback (to a pool key a revoked device still holds).
    #[error("the hub shows an older key directory (up to statement {shown}) than a practice device signed it had verified (statement {signed})")]
    RolledBack {
        /// The head the hub served.
        shown: u64,
        /// The head a device signed.
        signed: u64,
    },
    /// Another device's head differs from this chain at the same point:
    /// the hub shows two devices two histories.
    #[error("the key directory has forked at statement {seq}: devices were shown different histories")]
    Fork {
        /// Where.
        seq: u64,
    },
}

/// A device's keys as the directory binds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKeys {
    /// Its member of staff.
    pub staff: String,
    /// Their role.
    pub role: String,
    /// Its X25519 key.
    pub x25519: [u8; 32],
    /// Its Ed25519 key.
    pub ed25519: [u8; 32],
    /// Revoked: nothing is sealed to it.
    pub revoked: bool,
}

/// The directory as a device holds it: every statement checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    practice: String,
    key: VerifyingKey,
    /// Hash of each statement, by seq − 1.
    hashes: Vec<[u8; 32]>,
    /// Every version of every pool's key.
    pool_keys: BTreeMap<Pool, BTreeMap<u32, [u8; 32]>>,
    devices: BTreeMap<String, DeviceKeys>,
}

impl Directory {
    /// An empty directory of `practice`, trusting only `key` (pinned at
    /// enrolment).
    pub fn new(practice: &str, key: VerifyingKey) -> Self {
        Directory {
            practice: practice.to_owned(),
            key,
            hashes: Vec::new(),
            pool_keys: BTreeMap::new(),
            devices: BTreeMap::new(),
        }
    }

    /// Checks and applies every statement in order.
    pub fn replay<'a>(
        practice: &str,
        key: VerifyingKey,
        statements: impl IntoIterator<Item = &'a Statement>,
    ) -> Result<Self, DirectoryError> {
        let mut dir = Directory::new(practice, key);
        for s in statements {
            dir.apply(s)?;
        }
        Ok(dir)
    }

    /// The head: `(seq, hash)` of the newest statement (`(0, GENESIS)`
    /// when empty).
    pub fn head(&self) -> (u64, [u8; 32]) {
        (self.hashes.len() as u64, self.hashes.last().copied().unwrap_or(GENESIS))
    }

    /// Checks `s` against the rules (see the module docs) and applies it;
    /// nothing changes if it is refused.
    pub fn apply(&mut self, s: &Statement) -> Result<(), DirectoryError> {
        let (seq, hash) = self.head();
        if s.seq != seq + 1 {
            return Err(DirectoryError::OutOfOrder { seq: s.seq, expected: seq + 1 });
        }
        if s.prev != hash {
            return Err(DirectoryError::Broken { seq: s.seq });
        }
        let msg = message(&self.practice, s.seq, &s.prev, &s.entry);
        if self.key.verify(&msg, &Signature::from_bytes(&s.signature)).is_err() {
            return Err(DirectoryError::BadSignature { seq: s.seq });
        }
        match &s.entry {
            Entry::PoolKey { pool, version, public } => {
                let newest = self.pool_key(*pool).map_or(0, |(v, _)| v);
                if *version != newest + 1 {
                    return Err(DirectoryError::StaleVersion {
                        seq: s.seq,
                        pool: pool.key(),
                        version: *version,
                        newest,
                    });
                }
                self.pool_keys.entry(*pool).or_default().insert(*version, *public);
            }
            Entry::Device { device, staff, role, x25519, ed25519 } => {
                if self.devices.contains_key(device) {
                    return Err(DirectoryError::DeviceAgain { seq: s.seq, device: device.clone() });
                }
                self.devices.insert(
                    device.clone(),
                    DeviceKeys {
                        staff: staff.clone(),
                        role: role.clone(),
                        x25519: *x25519,
                        ed25519: *ed25519,
                        revoked: false,
                    },
                );
            }
            Entry::Revoke { device } => match self.devices.get_mut(device) {
                Some(d) if !d.revoked => d.revoked = true,
                _ => return Err(DirectoryError::NotApproved { seq: s.seq, device: device.clone() }),
            },
        }
        self.hashes.push(Sha256::digest(&msg).into());
        Ok(())
    }

    /// `pool`'s newest key and its version: what a sender seals to.
    pub fn pool_key(&self, pool: Pool) -> Option<(u32, [u8; 32])> {
        self.pool_keys.get(&pool)?.iter().next_back().map(|(v, k)| (*v, *k))
    }

    /// `pool`'s key at `version` (to open what was sealed to it).
    pub fn pool_key_version(&self, pool: Pool, version: u32) -> Option<[u8; 32]> {
        self.pool_keys.get(&pool)?.get(&version).copied()
    }

    /// A device's keys, if it was ever approved (see `revoked`).
    pub fn device(&self, id: &str) -> Option<&DeviceKeys> {
        self.devices.get(id)
    }

    /// The device whose Ed25519 key is `key`, if the directory ever
    /// approved one (see `revoked`).
    pub fn device_by_signing_key(&self, key: &[u8; 32]) -> Option<(&str, &DeviceKeys)> {
        self.devices.iter().find(|(_, d)| &d.ed25519 == key).map(|(id, d)| (id.as_str(), d))
    }

    /// The devices approved and not revoked.
    pub fn approved_devices(&self) -> impl Iterator<Item = (&str, &DeviceKeys)> {
        self.devices.iter().filter(|(_, d)| !d.revoked).map(|(id, d)| (id.as_str(), d))
    }

    /// Compares another device's head with this chain: equal where both
    /// reach, or it is a fork. A head beyond this one is not a fork (this
    /// device has not synced that far yet): `Ok(false)`; `Ok(true)` when
    /// this chain covers it.
    pub fn check_head(&self, seq: u64, hash: [u8; 32]) -> Result<bool, DirectoryError> {
        if seq == 0 {
            return Ok(true);
        }
        let Some(ours) = usize::try_from(seq - 1).ok().and_then(|i| self.hashes.get(i)) else {
            return Ok(false);
        };
        if *ours == hash {
            Ok(true)
        } else {
            Err(DirectoryError::Fork { seq })
        }
    }
}

/// The directory a patient's side seals to (the browser and the
/// simulator): `page`'s statements replayed under the practice key the
/// patient was given by the practice (`pinned`, in the invite link or
/// practice file), never under one the hub serves, and reaching every head
/// an approved device signed (`heads`: fetch them before `page`, since the
/// chain only grows). A hub that swapped a pool key, showed another
/// practice key, broke the chain or rolled it back gets nothing sealed.
pub fn verify_for_patient(
    practice: &str,
    pinned: VerifyingKey,
    page: &DirectoryPage,
    heads: &HeadsPage,
) -> Result<Directory, DirectoryError> {
    if page.practice_key.as_ref().map(Base64Bytes::as_slice) != Some(pinned.as_bytes().as_slice()) {
        return Err(DirectoryError::OtherPracticeKey);
    }
    let mut dir = Directory::new(practice, pinned);
    for record in &page.statements {
        let statement = Statement::try_from(record).map_err(|field| DirectoryError::Malformed { field })?;
        dir.apply(&statement)?;
    }
    for claim in heads.heads.iter().filter_map(|h| HeadClaim::try_from(h).ok()) {
        let Some(device) = dir.device(&claim.device) else { continue };
        if !claim.verify(practice, &device.ed25519) {
            continue;
        }
        if !dir.check_head(claim.seq, claim.hash)? {
            return Err(DirectoryError::RolledBack { shown: dir.head().0, signed: claim.seq });
        }
    }
    Ok(dir)
}

const HEAD_DOMAIN: &[u8] = b"sealbox/directory-head/v1";

/// A device's signed word that it verified `practice`'s directory up to
/// `(seq, hash)`. Devices post theirs and check everyone else's against
/// their own chain ([`Directory::check_head`]): the hub relays the claims
/// but cannot forge one (each is signed with a device key the directory
/// names), so showing two devices two histories shows as a fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadClaim {
    /// The device that verified it.
    pub device: String,
    /// The head's seq.
    pub seq: u64,
    /// The head's hash.
    pub hash: [u8; 32],
    /// The device's Ed25519 signature.
    pub signature: [u8; 64],
}

impl HeadClaim {
    /// `device` signs the head it verified.
    pub fn sign(key: &SigningKey, practice: &str, device: &str, head: (u64, [u8; 32])) -> Self {
        let signature = key.sign(&head_message(practice, device, head.0, &head.1)).to_bytes();
        HeadClaim { device: device.to_owned(), seq: head.0, hash: head.1, signature }
    }

    /// Whether `device_key` (the claiming device's Ed25519 key) signed it.
    pub fn verify(&self, practice: &str, device_key: &[u8; 32]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(device_key) else { return false };
        key.verify(
            &head_message(practice, &self.device, self.seq, &self.hash),
            &Signature::from_bytes(&self.signature),
        )
        .is_ok()
    }
}

fn head_message(practice: &str, device: &str, seq: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(HEAD_DOMAIN);
    field(&mut m, practice.as_bytes());
    field(&mut m, device.as_bytes());
    field(&mut m, &seq.to_be_bytes());
    field(&mut m, hash);
    m
}

impl From<&HeadClaim> for HeadRecord {
    fn from(h: &HeadClaim) -> Self {
        HeadRecord {
            device: h.device.clone(),
            seq: h.seq,
            hash: Base64Bytes(h.hash.to_vec()),
            signature: Base64Bytes(h.signature.to_vec()),
        }
    }
}

impl TryFrom<&HeadRecord> for HeadClaim {
    type Error = &'static str;

    fn try_from(r: &HeadRecord) -> Result<Self, Self::Error> {
        Ok(HeadClaim {
            device: r.device.clone(),
            seq: r.seq,
            hash: r.hash.0.as_slice().try_into().map_err(|_| "hash")?,
            signature: r.signature.0.as_slice().try_into().map_err(|_| "signature")?,
        })
    }
}

/// The practice key's fingerprint as people read and type it: 80 bits of
/// SHA-256, in base 32 without the letters that look like digits
/// (`I`, `L`, `O`, `U`), in four groups of four: `7QXM-2KD9-…`.
pub fn fingerprint(key: &VerifyingKey) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest: [u8; 32] =
        Sha256::new().chain_update(FINGERPRINT_DOMAIN).chain_update(key.as_bytes()).finalize().into();
    let mut bits: u128 = 0;
    for b in &digest[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 75 - 5 * i;
        let index = ((bits >> shift) & 0x1f) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const PRACTICE: &str = "P81001";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn device(id: &str) -> Entry {
        Entry::Device {
            device: id.into(),
            staff: format!("staff-{id}"),
            role: "gp".into(),
            x25519: [id.len() as u8; 32],
            ed25519: [9; 32],
        }
    }

    fn pool_key(pool: Pool, version: u32, byte: u8) -> Entry {
        Entry::PoolKey { pool, version, public: [byte; 32] }
    }

    /// Signs `entries` in order as a chain.
    fn chain(signer: &SigningKey, entries: Vec<Entry>) -> Vec<Statement> {
        let mut out: Vec<Statement> = Vec::new();
        let mut head = (0, GENESIS);
        for e in entries {
            let s = Statement::sign(signer, PRACTICE, head, e);
            head = (s.seq, s.hash(PRACTICE));
            out.push(s);
        }
        out
    }

    #[test]
    fn a_signed_chain_gives_the_newest_pool_keys_and_the_approved_devices() {
        let k = key(1);
        let statements = chain(
            &k,
            vec![
                pool_key(Pool::Gp, 1, 0xA1),
                device("dev-1"),
                device("dev-22"),
                pool_key(Pool::Gp, 2, 0xA2),
                Entry::Revoke { device: "dev-1".into() },
            ],
        );
        let dir = Directory::replay(PRACTICE, k.verifying_key(), &statements).unwrap();
        assert_eq!(dir.pool_key(Pool::Gp), Some((2, [0xA2; 32])), "senders seal to the newest");
        assert_eq!(dir.pool_key_version(Pool::Gp, 1), Some([0xA1; 32]), "old messages still open");
        assert_eq!(dir.pool_key(Pool::Nurse), None);
        assert!(dir.device("dev-1").unwrap().revoked);
        let approved: Vec<&str> = dir.approved_devices().map(|(id, _)| id).collect();
        assert_eq!(approved, vec!["dev-22"]);
        assert_eq!(dir.head(), (5, statements[4].hash(PRACTICE)));
    }

    #[test]
    fn a_statement_the_practice_key_did_not_sign_is_refused() {
        let k = key(1);
        let mut statements = chain(&k, vec![pool_key(Pool::Gp, 1, 0xA1)]);
        // The hub (or whoever writes its database) signs its own.
        let forged =
            Statement::sign(&key(2), PRACTICE, (1, statements[0].hash(PRACTICE)), device("dev-evil"));
        statements.push(forged);
        let err = Directory::replay(PRACTICE, k.verifying_key(), &statements).unwrap_err();
        assert_eq!(err, DirectoryError::BadSignature { seq: 2 });
        assert!(err.to_string().contains("not signed by the practice key"));
        // A genuine statement whose key was swapped afterwards.
        let mut swapped = chain(&k, vec![pool_key(Pool::Gp, 1, 0xA1)]);
        swapped[0].entry = pool_key(Pool::Gp, 1, 0xEE);
        let err = Directory::replay(PRACTICE, k.verifying_key(), &swapped).unwrap_err();
        assert_eq!(err, DirectoryError::BadSignature { seq: 1 });
        // Signed for another practice.
        let other = chain(&k, vec![pool_key(Pool::Gp, 1, 0xA1)]);
        assert!(Directory::replay("P99999", k.verifying_key(), &other).is_err());
    }

    #[test]
    fn an_old_pool_key_replayed_as_new_is_refused() {
        let k = key(1);
        let statements = chain(&k, vec![pool_key(Pool::Gp, 1, 0xA1), pool_key(Pool::Gp, 2, 0xA2)]);
        let mut dir = Directory::replay(PRACTICE, k.verifying_key(), &statements).unwrap();
        // Even signed by the practice key (an old statement's entry signed
        // again, say), version 1 cannot come back as the newest.
        let replay = Statement::sign(&k, PRACTICE, dir.head(), pool_key(Pool::Gp, 1, 0xA1));
        let err = dir.apply(&replay).unwrap_err();
        assert_eq!(err, DirectoryError::StaleVersion { seq: 3, pool: "gp", version: 1, newest: 2 });
        assert_eq!(dir.pool_key(Pool::Gp), Some((2, [0xA2; 32])), "nothing changed");
        let skip = Statement::sign(&k, PRACTICE, dir.head(), pool_key(Pool::Gp, 4, 0xA4));
        assert!(matches!(dir.apply(&skip), Err(DirectoryError::StaleVersion { version: 4, .. })));
    }

    #[test]
    fn dropped_reordered_or_rechained_statements_are_refused() {
        let k = key(1);
        let statements = chain(&k, vec![pool_key(Pool::Gp, 1, 1), device("dev-1"), device("dev-2")]);
        let dropped = [statements[0].clone(), statements[2].clone()];
        assert_eq!(
            Directory::replay(PRACTICE, k.verifying_key(), &dropped).unwrap_err(),
            DirectoryError::OutOfOrder { seq: 3, expected: 2 }
        );
        let mut rechained = statements.clone();
        rechained[2].prev = [7; 32];
        assert_eq!(
            Directory::replay(PRACTICE, k.verifying_key(), &rechained).unwrap_err(),
            DirectoryError::Broken { seq: 3 }
        );
        let mut dir = Directory::replay(PRACTICE, k.verifying_key(), &statements).unwrap();
        let again = Statement::sign(&k, PRACTICE, dir.head(), device("dev-1"));
        assert!(matches!(dir.apply(&again), Err(DirectoryError::DeviceAgain { .. })));
        let unknown = Statement::sign(&k, PRACTICE, dir.head(), Entry::Revoke { device: "dev-9".into() });
        assert!(matches!(dir.apply(&unknown), Err(DirectoryError::NotApproved { .. })));
    }

    #[test]
    fn two_devices_shown_different_histories_see_the_fork_when_they_compare_heads() {
        let k = key(1);
        let common = chain(&k, vec![pool_key(Pool::Gp, 1, 1)]);
        let head = (1, common[0].hash(PRACTICE));
        // The practice key signed both (a stolen admin key, or two admins
        // publishing at once): the hub shows one branch to each device.
        let a = Statement::sign(&k, PRACTICE, head, device("dev-a"));
        let b = Statement::sign(&k, PRACTICE, head, device("dev-b"));
        let dir_a = Directory::replay(PRACTICE, k.verifying_key(), [&common[0], &a]).unwrap();
        let dir_b = Directory::replay(PRACTICE, k.verifying_key(), [&common[0], &b]).unwrap();
        let (seq_b, hash_b) = dir_b.head();
        assert_eq!(dir_a.check_head(seq_b, hash_b), Err(DirectoryError::Fork { seq: 2 }));
        assert!(dir_a.check_head(1, head.1).unwrap(), "a common prefix is no fork");
        // A device further along is not a fork: this one has to catch up.
        let c = Statement::sign(&k, PRACTICE, dir_a.head(), device("dev-c"));
        let ahead = Directory::replay(PRACTICE, k.verifying_key(), [&common[0], &a, &c]).unwrap();
        let (seq, hash) = ahead.head();
        assert_eq!(dir_a.check_head(seq, hash), Ok(false));
        assert_eq!(ahead.check_head(dir_a.head().0, dir_a.head().1), Ok(true));
    }

    #[test]
    fn a_statement_travels_and_comes_back_the_same() {
        let k = key(1);
        let statements = chain(
            &k,
            vec![pool_key(Pool::Nurse, 1, 3), device("dev-1"), Entry::Revoke { device: "dev-1".into() }],
        );
        for s in &statements {
            let record = StatementRecord::from(s);
            let json = serde_json::to_string(&record).unwrap();
            let back: StatementRecord = serde_json::from_str(&json).unwrap();
            assert_eq!(Statement::try_from(&back).unwrap(), *s);
        }
        let mut short = StatementRecord::from(&statements[0]);
        short.signature.0.pop();
        assert_eq!(Statement::try_from(&short), Err("signature"));
    }

    #[test]
    fn a_fingerprint_is_short_readable_and_tells_keys_apart() {
        let fp = fingerprint(&key(1).verifying_key());
        assert_eq!(fp.len(), 19);
        assert_eq!(fp.matches('-').count(), 3);
        assert!(fp.chars().all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()), "{fp}");
        assert!(!fp.contains(['I', 'L', 'O', 'U']), "{fp}");
        assert_eq!(fp, fingerprint(&key(1).verifying_key()), "stable");
        assert_ne!(fp, fingerprint(&key(2).verifying_key()));
    }
}
