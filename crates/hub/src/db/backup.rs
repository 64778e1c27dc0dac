//! A consistent copy of the hub's database taken while it serves
//! (`sealbox-hub backup`), and putting one back (`sealbox-hub restore`).
//!
//! The copy is SQLite's `VACUUM INTO` on a read-only connection: one read
//! transaction, so it holds every commit made before it began and none
//! after, whatever the serving process writes meanwhile (WAL readers do not
//! block the writer). The file is created for its owner only (it holds the
//! hub's secrets and the patients' sealed messages) and checked before it
//! is reported done; a restore checks it again and never writes over a
//! database that is there.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{Db, DbError, DB_FILE};

/// Why a backup or restore did not happen. Names files, never contents.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// There is no hub database in the data directory.
    #[error("no hub database in {0}")]
    NoDatabase(PathBuf),
    /// The backup would overwrite a file, or the restore a database.
    #[error("{0} exists already: choose another name, or move it away first")]
    Exists(PathBuf),
    /// The file is not a Sealbox hub database.
    #[error("{0} is not a Sealbox hub database")]
    NotAHubDatabase(PathBuf),
    /// SQLite's integrity check failed.
    #[error("{path} is damaged: {detail}")]
    Damaged {
        /// Which file.
        path: PathBuf,
        /// SQLite's first complaint.
        detail: String,
    },
    /// A path that is not text.
    #[error("{0} is not a path SQLite can take (not UTF-8)")]
    Path(PathBuf),
    /// A file could not be made, read or moved.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for BackupError {
    fn from(e: rusqlite::Error) -> Self {
        BackupError::Db(DbError::Sqlite(e))
    }
}

/// What a checked copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// Sealed messages.
    pub envelopes: i64,
    /// Migrations applied.
    pub migrations: i64,
}

impl std::fmt::Display for Checked {
    /// "12 messages, 9 migrations; checked".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} messages, {} migrations; checked", self.envelopes, self.migrations)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// A new empty file at `path`, for its owner only.
fn create_private(path: &Path) -> Result<File, BackupError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(path.to_path_buf()))
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// Copies the database in `data_dir` to `to` (a new file), consistent as of
/// one moment, while the hub may be serving; checks the copy.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Checked, BackupError> {
    let db = data_dir.join(DB_FILE);
    if !db.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    let target = to.to_str().ok_or_else(|| BackupError::Path(to.to_path_buf()))?;
    drop(create_private(to)?);
    let copied = (|| {
        let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute("VACUUM INTO ?1", [target])?;
        check(to)
    })();
    if copied.is_err() {
        // Nothing half-made is left to be mistaken for a backup.
        let _ = std::fs::remove_file(to);
    }
    copied
}

/// Checks that `path` is a whole Sealbox hub database.
pub fn check(path: &Path) -> Result<Checked, BackupError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| BackupError::NotAHubDatabase(path.to_path_buf()))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|_| BackupError::NotAHubDatabase(path.to_path_buf()))?;
    if integrity != "ok" {
        return Err(BackupError::Damaged { path: path.to_path_buf(), detail: integrity });
    }
    let counts = conn.query_row(
        "SELECT (SELECT count(*) FROM schema_migrations), (SELECT count(*) FROM envelopes)",
        [],
        |r| Ok(Checked { migrations: r.get(0)?, envelopes: r.get(1)? }),
    );
    counts.map_err(|_| BackupError::NotAHubDatabase(path.to_path_buf()))
}

/// Puts the backup `from` in place as `data_dir`'s database (which must not
/// exist), after checking it; then opens it, applying newer migrations.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Checked, BackupError> {
    check(from)?;
    let db = data_dir.join(DB_FILE);
    if db.exists() {
        return Err(BackupError::Exists(db));
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let partial = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&partial);
    // Copied into a file made owner-only here (`fs::copy` would give it
    // the backup's permission bits, whatever they are by now).
    let mut file = create_private(&partial)?;
    let mut source = File::open(from).map_err(io(from))?;
    std::io::copy(&mut source, &mut file).and_then(|_| file.sync_all()).map_err(io(&partial))?;
    std::fs::rename(&partial, &db).map_err(io(&db))?;
    drop(Db::open(data_dir)?);
    check(&db)
}
