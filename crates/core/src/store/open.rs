//! Opening the cache: key first, then prove SQLCipher is there and the key is
//! right, then the connection settings, then the schema.

use rusqlite::{Connection, OpenFlags};
use sealbox_crypto::secret::SecretKey;
use std::io::Read;
use std::path::Path;

use super::{migrations, Store, StoreError, APPLICATION_ID};

/// The first 16 bytes of a plain SQLite file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Length of the SQLCipher salt at the start of an encrypted file.
pub const SALT_LEN: usize = 16;

/// How the database is keyed.
pub enum Keying<'a> {
    /// SQLCipher with the raw 256-bit data key (`PRAGMA key = "x'…'"`, no KDF).
    Encrypted(&'a SecretKey),
    /// No key: plain SQLite through the same code path. Only for measuring
    /// SQLCipher's overhead in the benchmark.
    #[cfg(feature = "plaintext-bench")]
    Plain,
}

/// What the file at a path looks like from outside, before any key is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileShape {
    /// No file, or an empty one: a new cache will be created.
    Absent,
    /// Starts with the plain SQLite header: not an encrypted cache.
    PlainSqlite,
    /// Anything else; the first 16 bytes are SQLCipher's salt if it is ours.
    Opaque([u8; SALT_LEN]),
    /// Shorter than a salt: cannot be a SQLCipher database.
    TooShort,
}

/// Looks at the first bytes of `path` without opening it as a database.
pub fn file_shape(path: &Path) -> Result<FileShape, StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileShape::Absent),
        Err(e) => return Err(StoreError::io(path, &e)),
    };
    let mut head = Vec::with_capacity(SALT_LEN);
    (&mut file).take(SALT_LEN as u64).read_to_end(&mut head).map_err(|e| StoreError::io(path, &e))?;
    Ok(match head.len() {
        0 => FileShape::Absent,
        n if n < SALT_LEN => FileShape::TooShort,
        _ if head.as_slice() == SQLITE_MAGIC => FileShape::PlainSqlite,
        _ => {
            let mut salt = [0u8; SALT_LEN];
            salt.copy_from_slice(&head);
            FileShape::Opaque(salt)
        }
    })
}

/// Opens (creating if absent) the cache at `path` and migrates it to the
/// latest schema. Fails without writing anything when the key does not
/// decrypt the file or the file is not a Sealbox cache.
pub fn open(path: &Path, keying: Keying<'_>) -> Result<Store, StoreError> {
    open_at(path, keying, migrations::LATEST)
}

/// [`open`], migrating only up to `target` (tests build databases of every
/// earlier schema version with it).
pub(crate) fn open_at(path: &Path, keying: Keying<'_>, target: i64) -> Result<Store, StoreError> {
    let encrypted = matches!(keying, Keying::Encrypted(_));
    let shape = file_shape(path)?;
    match shape {
        FileShape::PlainSqlite if encrypted => return Err(StoreError::NotSealbox),
        FileShape::TooShort => return Err(StoreError::NotSealbox),
        _ => {}
    }
    let flags =
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;

    match keying {
        Keying::Encrypted(key) => {
            if !sqlcipher_set_up() {
                return Err(StoreError::NoCipher);
            }
            let hex = key.to_hex();
            // The key travels as SQL text; the buffer is zeroized on drop and
            // SQLCipher wipes its own copy on close.
            let sql = zeroize::Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex.as_str()));
            conn.execute_batch(&sql)?;
            // SQLCipher then locks its key material in memory and wipes
            // every buffer it frees, decrypted pages included, so a page
            // read before a lock is not left in freed memory after it.
            // Process-wide and irreversible (SQLCipher ≥ 4.5); checked below.
            if memory_security_wanted() {
                conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
                let now: String = conn.query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))?;
                if now.trim() != "1" {
                    return Err(StoreError::Api("SQLCipher memory security could not be turned on"));
                }
            }
            let version: Option<String> = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).ok();
            if version.is_none_or(|v| v.trim().is_empty()) {
                return Err(StoreError::NoCipher);
            }
        }
        #[cfg(feature = "plaintext-bench")]
        Keying::Plain => {}
    }

    // The first read of page 1: fails here, before anything is written, when
    // the key is wrong or the file is not a database.
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    let app_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let fresh = tables == 0 && app_id == 0;
    if !fresh && app_id != APPLICATION_ID {
        return Err(StoreError::NotSealbox);
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > migrations::LATEST {
        return Err(StoreError::SchemaTooNew { found: version, supported: migrations::LATEST });
    }

    if fresh {
        // Must precede the first table; lets retention give pages back.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
    }
    configure(&conn)?;
    if fresh {
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))?;
    }
    let mut store = Store { conn, path: path.to_owned() };
    migrations::migrate(&mut store.conn, target)?;
    if fresh {
        // Put page 1 (and its salt) into the main file right away.
        store.checkpoint()?;
    }
    Ok(store)
}

/// Finishes SQLCipher's process-wide set-up before this thread keys a
/// connection, and says whether it succeeded.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's set-up
/// (`SQLITE_EXTRA_INIT`), so while one thread's first connection is inside
/// that set-up, a second thread's open returns at once and its `PRAGMA key`
/// fails with SQLITE_ERROR ("sqlcipher not initialized"): about one process
/// in fifty whose first two connections open together
/// (`tests/first_open.rs`). The set-up function is idempotent and runs under
/// SQLite's main mutex, so calling it here either waits for the set-up in
/// progress, does it, or returns at once when it is done. Must run after
/// this thread has opened a connection (SQLite itself is then initialised;
/// calling it earlier would re-enter SQLite's initialisation).
#[allow(unsafe_code)]
fn sqlcipher_set_up() -> bool {
    extern "C" {
        /// SQLCipher's `SQLITE_EXTRA_INIT` hook, compiled into the bundled
        /// library (`-DSQLITE_EXTRA_INIT=sqlcipher_extra_init`); takes an
        /// unused argument, returns an SQLite result code.
        fn sqlcipher_extra_init(arg: *const std::ffi::c_char) -> std::ffi::c_int;
    }
    // SAFETY: the symbol is SQLCipher's own (bundled-sqlcipher); it ignores
    // its argument (NULL is what SQLite itself passes), touches only
    // SQLCipher's globals under SQLITE_MUTEX_STATIC_MAIN, and SQLite is
    // initialised because the caller has just opened a connection.
    let rc = unsafe { sqlcipher_extra_init(std::ptr::null()) };
    rc == rusqlite::ffi::SQLITE_OK
}

/// Always, in the app. The cache benchmark alone (feature
/// `plaintext-bench`) may measure without it, in a process of its own
/// (`cargo xtask bench cache --without-memory-security`): the setting is
/// process-wide and cannot be turned off once on.
#[cfg(not(feature = "plaintext-bench"))]
fn memory_security_wanted() -> bool {
    true
}

#[cfg(feature = "plaintext-bench")]
fn memory_security_wanted() -> bool {
    std::env::var_os("SEALBOX_BENCH_MEMORY_SECURITY").is_none_or(|v| v != "off")
}

/// The connection settings every cache connection runs with. The 64 MiB page
/// cache keeps decrypted pages in memory between queries (SQLCipher decrypts
/// on every miss; plain SQLite would be served by the OS cache); it is freed
/// when the connection closes at lock.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Api("could not switch to WAL mode"));
    }
    conn.execute_batch(
        "PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 5000;
         PRAGMA cache_size = -65536;",
    )?;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    let sd: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
    if fk != 1 || sd != 1 {
        return Err(StoreError::Api("connection settings did not apply"));
    }
    Ok(())
}

/// The salt at the start of an encrypted cache file (identifies this
/// database; not secret).
pub fn file_salt(path: &Path) -> Result<Option<[u8; SALT_LEN]>, StoreError> {
    Ok(match file_shape(path)? {
        FileShape::Opaque(salt) => Some(salt),
        _ => None,
    })
}

impl Store {
    /// Re-encrypts the whole database under `new_key` (checkpoints first;
    /// SQLCipher's rekey runs in rollback-journal mode, then WAL is restored).
    pub fn rekey(&mut self, new_key: &SecretKey) -> Result<(), StoreError> {
        self.checkpoint()?;
        let mode: String = self.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(StoreError::Api("could not leave WAL mode for rekey"));
        }
        let hex = new_key.to_hex();
        let sql = zeroize::Zeroizing::new(format!("PRAGMA rekey = \"x'{}'\";", hex.as_str()));
        let result = self.conn.execute_batch(&sql);
        let back: Result<String, _> = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
        result?;
        back?;
        Ok(())
    }
}
