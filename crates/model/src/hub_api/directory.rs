//! The practice's signed key directory on the wire (`GET /v1/directory`,
//! `POST /v1/directory`, `PUT /v1/practice/signing-key`). What the fields
//! mean, and the rules a device checks them by, are in
//! `sealbox_crypto::directory`.

use serde::{Deserialize, Serialize};

use super::Base64Bytes;
use crate::pool::Pool;

/// Most statements in one `POST /v1/directory`.
pub const MAX_STATEMENTS_PER_POST: usize = 100;

/// What one statement says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EntryRecord {
    /// A pool's public key at a version.
    PoolKey {
        /// The pool.
        pool: Pool,
        /// Its version (1, 2, …).
        version: u32,
        /// X25519 public key, 32 bytes.
        public: Base64Bytes,
    },
    /// A device approved for a member of staff.
    Device {
        /// The hub's device id.
        device: String,
        /// Its member of staff.
        staff: String,
        /// Their role key.
        role: String,
        /// X25519 public key, 32 bytes.
        x25519: Base64Bytes,
        /// Ed25519 public key, 32 bytes.
        ed25519: Base64Bytes,
    },
    /// A device revoked.
    Revoke {
        /// The device id.
        device: String,
    },
}

/// One signed statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The previous statement's hash, 32 bytes.
    pub prev: Base64Bytes,
    /// What it says.
    pub entry: EntryRecord,
    /// The practice key's Ed25519 signature, 64 bytes.
    pub signature: Base64Bytes,
}

/// `POST /v1/directory`: statements to append, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPost {
    /// The next statements of the chain.
    pub statements: Vec<StatementRecord>,
}

/// `GET /v1/directory?after=N`: the statements after `N`, and the practice
/// key the hub holds (a device trusts only the key it pinned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryPage {
    /// The practice's Ed25519 public key, once an admin has set it.
    pub practice_key: Option<Base64Bytes>,
    /// Statements with seq above `after`, in order.
    pub statements: Vec<StatementRecord>,
}

/// `PUT /v1/practice/signing-key`: the practice key's public half, set
/// once by the first admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeSigningKey {
    /// Ed25519 public key, 32 bytes.
    pub ed25519_public: Base64Bytes,
}

/// A device's signed claim that it verified the directory up to a head
/// (`sealbox_crypto::directory::HeadClaim`). `POST /v1/directory/heads`
/// takes the caller's; `GET /v1/directory/heads` lists every device's
/// newest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadRecord {
    /// The device.
    pub device: String,
    /// The head's seq.
    pub seq: u64,
    /// The head's hash, 32 bytes.
    pub hash: Base64Bytes,
    /// The device's Ed25519 signature, 64 bytes.
    pub signature: Base64Bytes,
}

/// `GET /v1/directory/heads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadsPage {
    /// Each device's newest claim.
    pub heads: Vec<HeadRecord>,
}

/// `PUT /v1/devices/{id}/practice-key` and `GET /v1/devices/me/practice-key`:
/// the practice key sealed to an admin's device (the hub cannot open it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedPracticeKey {
    /// `sealbox_crypto::seal` blob.
    pub sealed: Base64Bytes,
}

/// The practice's renewal questions (`crate::renewal::RenewalQuestions`)
/// as JSON, signed with the practice key
/// (`sealbox_crypto::renewal_questions`). `PUT
/// /v1/practice/renewal-questions` (an admin) and `GET
/// /v1/patient/renewal-questions` (a patient's channel) carry it; the hub
/// checks the signature and keeps the highest version, and the patient's
/// browser checks it again under the practice key its invite pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRenewalQuestions {
    /// The questions, as JSON bytes.
    pub body: Base64Bytes,
    /// Ed25519 signature of the practice key, 64 bytes.
    pub signature: Base64Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one internally tagged type on the wire, with a number inside:
    /// serde buffers its fields, which serde_json's `arbitrary_precision`
    /// (on for every crate built with sealbox-record's FHIR models) once
    /// broke for numbers. It must read back either way.
    #[test]
    fn a_pool_key_statement_reads_back_from_json_whatever_serde_jsons_number_features() {
        let entry = EntryRecord::PoolKey { pool: Pool::Gp, version: 3, public: Base64Bytes(vec![7; 32]) };
        let text = serde_json::to_string(&entry).unwrap();
        assert!(text.contains(r#""version":3"#), "{text}");
        let back: EntryRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, entry);
        let value: EntryRecord = serde_json::from_value(serde_json::to_value(&entry).unwrap()).unwrap();
        assert_eq!(value, entry);
        for bad in [r#"-1"#, r#"4294967296"#, r#"1.5"#, r#""3""#] {
            let text = text.replace(r#""version":3"#, &format!(r#""version":{bad}"#));
            assert!(serde_json::from_str::<EntryRecord>(&text).is_err(), "{text}");
        }
    }
}
