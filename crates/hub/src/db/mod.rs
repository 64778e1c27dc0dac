//! The hub's SQLite database: one file in the data directory, opened
//! WITHOUT a key (the library is SQLCipher because crates/core needs it and
//! cargo unifies features; unkeyed it is plain SQLite). It holds only
//! ciphertext and routing metadata. Blocking calls run on tokio's blocking
//! pool through [`Db::call`].

pub mod backup;
mod migrations;
pub mod postgres;
pub mod practice;
pub mod sql;
mod sqlite;
pub mod time;

pub use migrations::{migrate, MIGRATIONS, PG_MIGRATIONS};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "hub.sqlite3";

/// A storage failure. Carries no patient data (SQLite errors name tables
/// and constraints, never values).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// Which directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stored value does not decode (corrupt or from a newer hub).
    #[error("stored value in {what} does not decode")]
    Corrupt {
        /// Which column.
        what: &'static str,
    },
    /// A blocking task died (or a PostgreSQL connection was asked for
    /// outside the runtime).
    #[error("database task failed")]
    Task,
    /// PostgreSQL said no: its SQLSTATE and primary message (never its
    /// DETAIL, which may quote values).
    #[error("database: {message} ({code})")]
    Postgres {
        /// SQLSTATE.
        code: String,
        /// The primary message.
        message: String,
    },
    /// No connection could be had from the PostgreSQL pool.
    #[error("database pool: {0}")]
    Pool(String),
    /// A column's value is not of the type asked for.
    #[error("column {index} has an unexpected type")]
    Column {
        /// Which column.
        index: usize,
    },
    /// A query that must return a row returned none.
    #[error("query returned no row")]
    NoRow,
}

/// A clone-able handle on the database connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// A second, read-only connection: WAL lets sync pages and channel
    /// look-ups be read while the writer commits, so readers never hold up
    /// ingest.
    reader: Arc<Mutex<Connection>>,
    /// A third, read-only connection for the event publisher alone, so the
    /// pool counts of a push never queue behind sync pages.
    push_reader: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

impl Db {
    /// Opens (creating) `DATA_DIR/hub.sqlite3` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Db, DbError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| DbError::DataDir { path: data_dir.to_path_buf(), source })?;
        let conn = Connection::open(data_dir.join(DB_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a message the hub has answered 201 for survives a power cut,
        // not only a crash (NORMAL in WAL mode may lose the last commits).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(open_reader(data_dir)?)),
            push_reader: Arc::new(Mutex::new(open_reader(data_dir)?)),
        })
    }

    /// Runs a read-only `f` on the reader connection, on the blocking pool.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        on_blocking_pool(self.reader.clone(), f).await
    }

    /// Runs a read-only `f` on the event publisher's own connection.
    pub async fn read_for_push<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        on_blocking_pool(self.push_reader.clone(), f).await
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        on_blocking_pool(self.conn.clone(), f).await
    }

    /// Runs `f` with the connection on the current thread (CLI, start-up).
    pub fn call_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E>,
    {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

/// A read-only connection to the database in `data_dir`.
fn open_reader(data_dir: &Path) -> Result<Connection, DbError> {
    let reader = Connection::open_with_flags(
        data_dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    reader.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(reader)
}

/// Locks `conn` on tokio's blocking pool and runs `f` with it.
async fn on_blocking_pool<T, E, F>(conn: Arc<Mutex<Connection>>, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|_| E::from(DbError::Task))?
}
