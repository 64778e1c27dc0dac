//! The encrypted local cache: one SQLCipher database per clinician and device.
//!
//! - [`open`]: opening with the raw data key and checking that it is real
//!   SQLCipher, the key is right and the file is a Sealbox cache.
//! - [`migrations`]: the numbered schema migrations under `core/migrations/`.
//! - [`write`]: writes, always inside one transaction ([`Store::write`]).
//! - [`queries`]: the inbox page, a thread, search, counts.
//! - [`record`]: saves to the patient's record waiting, matches, decisions.
//! - [`retention`]: purging closed threads and reclaiming the space.
//! - [`quarantine`]: moving an unusable file aside.

pub mod migrations;
pub mod open;
pub mod quarantine;
pub mod queries;
pub mod record;
pub mod repeats;
pub mod retention;
pub mod triage;
pub mod workload;
pub mod write;

use rusqlite::{Connection, ErrorCode};
use std::path::{Path, PathBuf};

pub use open::Keying;
pub use write::Writer;

/// The value of `PRAGMA application_id` in every Sealbox cache ("SbX1").
pub const APPLICATION_ID: i32 = 0x5362_5831;

/// Why a cache operation failed. Messages are log-safe: they never contain
/// patient data, SQL parameters or key bytes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The linked SQLite has no SQLCipher: a key would be silently ignored.
    #[error(
        "this build's SQLite has no SQLCipher (empty cipher_version); refusing to use an unencrypted cache"
    )]
    NoCipher,
    /// The file could not be decrypted with this key (wrong key, or not a
    /// SQLCipher database at all — the two look the same from outside).
    #[error("the cache could not be decrypted with this key")]
    CannotDecrypt,
    /// The file is readable but is not a Sealbox cache (e.g. plain SQLite or
    /// another application's database).
    #[error("the file is not a Sealbox cache")]
    NotSealbox,
    /// SQLite reported corruption.
    #[error("the cache file is corrupt")]
    Corrupt,
    /// The cache was written by a newer Sealbox.
    #[error("the cache has schema version {found}; this Sealbox supports up to {supported}")]
    SchemaTooNew {
        /// Found in the file.
        found: i64,
        /// Known to this build.
        supported: i64,
    },
    /// The disk (or the page limit) is full; the transaction was rolled back.
    #[error("the disk is full: the change was not saved (nothing was half-written)")]
    DiskFull,
    /// A stored value could not be turned back into its type.
    #[error("a stored {0} could not be decoded")]
    Decode(&'static str),
    /// A file operation failed.
    #[error("cache file operation failed ({kind:?}) on {path}")]
    Io {
        /// What went wrong.
        kind: std::io::ErrorKind,
        /// The file (a path under the data dir; no patient data).
        path: PathBuf,
    },
    /// Any other SQLite failure, by code only.
    #[error("database error {code:?} (extended code {extended})")]
    Sqlite {
        /// The primary result code.
        code: ErrorCode,
        /// The extended result code.
        extended: i32,
    },
    /// A rusqlite failure that is not an SQLite result code (type mismatch,
    /// wrong number of rows); described without values.
    #[error("database API error: {0}")]
    Api(&'static str),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::NotADatabase => StoreError::CannotDecrypt,
                ErrorCode::DatabaseCorrupt => StoreError::Corrupt,
                ErrorCode::DiskFull => StoreError::DiskFull,
                code => StoreError::Sqlite { code, extended: f.extended_code },
            },
            rusqlite::Error::QueryReturnedNoRows => StoreError::Api("query returned no rows"),
            rusqlite::Error::InvalidColumnType(..) => StoreError::Api("unexpected column type"),
            rusqlite::Error::FromSqlConversionFailure(..) => StoreError::Api("column conversion failed"),
            rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Api("integer out of range"),
            rusqlite::Error::InvalidParameterCount(..) => StoreError::Api("wrong parameter count"),
            rusqlite::Error::ExecuteReturnedResults => StoreError::Api("execute returned rows"),
            _ => StoreError::Api("other rusqlite error"),
        }
    }
}

impl StoreError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        StoreError::Io { kind: e.kind(), path: path.to_owned() }
    }
}

/// An open, unlocked cache. Dropping it (or [`Store::close`]) closes the
/// connection; SQLCipher wipes its copy of the key on close.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connection, reporting any error.
    pub fn close(self) -> Result<(), StoreError> {
        self.conn.close().map_err(|(_, e)| StoreError::from(e))
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Moves the WAL's contents into the main file and truncates the WAL.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// SQLCipher's page HMAC check plus SQLite's structural check; `Corrupt`
    /// if either finds a problem. Reads every page: run it off the UI path.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let cipher_problems = stmt.query_map([], |_| Ok(()))?.count();
        if cipher_problems > 0 {
            return Err(StoreError::Corrupt);
        }
        let quick: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if quick == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt)
        }
    }

    /// Limits the database to `pages` pages on this connection, so tests can
    /// produce a real SQLITE_FULL.
    #[cfg(test)]
    pub(crate) fn limit_pages(&self, pages: i64) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0))?)
    }

    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Files SQLite keeps next to a database: the file itself, `-wal`, `-shm`
/// and `-journal`.
pub fn database_files(db: &Path) -> [PathBuf; 4] {
    let with = |suffix: &str| {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [db.to_owned(), with("-wal"), with("-shm"), with("-journal")]
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
