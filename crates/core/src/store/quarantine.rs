//! Moving an unusable cache file aside. Never deletes: the file and its
//! `-wal`/`-shm` are renamed to `<name>.quarantined-<UTC time>` in the same
//! directory, so support can look at them and the user can be told the cache
//! will be rebuilt from the hub.

use sealbox_model::jiff::Timestamp;
use std::path::{Path, PathBuf};

use super::{database_files, StoreError};

/// Why a file was moved aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineReason {
    /// Not a Sealbox cache (plain SQLite, another app's file, too short).
    NotSealbox,
    /// Could not be decrypted and is not the database the key was made for.
    Unrecognised,
    /// SQLite or SQLCipher reported corruption.
    Corrupt,
}

/// What was moved where, for the message to the user and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// Why.
    pub reason: QuarantineReason,
    /// (from, to) for every file moved.
    pub moved: Vec<(PathBuf, PathBuf)>,
}

impl Quarantined {
    /// What the clinician is told: what was kept, what is rebuilt, and
    /// what may need doing again. Names the set-aside file, never content.
    pub fn user_message(&self) -> String {
        let kept = self
            .moved
            .first()
            .and_then(|(_, to)| to.file_name())
            .map_or_else(String::new, |n| format!(" (kept as {})", n.to_string_lossy()));
        format!(
            "This computer's copy of the inbox could not be used, so it was set aside{kept} and a new \
             one was started. Your enrolment and security key still work. Messages are fetched \
             again from the practice hub when you are online; nothing held at the hub is lost. \
             Anything you did here that had not reached the hub yet (a claim, a reply, a refill \
             decision) may be only in the set-aside copy: check the threads you worked on since \
             the last sync, and tell practice IT so they can keep the copy."
        )
    }
}

/// Renames `db` and its companion files to quarantine names stamped with
/// `now` (UTC, to the second; a counter is added if that name is taken).
pub fn quarantine(db: &Path, reason: QuarantineReason, now: Timestamp) -> Result<Quarantined, StoreError> {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut moved = Vec::new();
    let mut attempt = 0u32;
    let suffix = loop {
        let s = if attempt == 0 {
            format!(".quarantined-{stamp}")
        } else {
            format!(".quarantined-{stamp}-{attempt}")
        };
        if !database_files(db).iter().any(|f| with_suffix(f, &s).exists()) {
            break s;
        }
        attempt += 1;
    };
    for file in database_files(db) {
        if !file.exists() {
            continue;
        }
        let to = with_suffix(&file, &suffix);
        std::fs::rename(&file, &to).map_err(|e| StoreError::io(&file, &e))?;
        moved.push((file, to));
    }
    Ok(Quarantined { reason, moved })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
