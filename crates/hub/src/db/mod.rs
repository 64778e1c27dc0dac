//! The hub's database: by default one SQLite file in the data directory,
//! opened WITHOUT a key (the library is SQLCipher because crates/core needs
//! it and cargo unifies features; unkeyed it is plain SQLite); or, for a
//! deployment of several hub nodes, one PostgreSQL database they share.
//! Either holds only ciphertext and routing metadata. Store code is
//! written once against [`sql::Sql`]; blocking calls run on tokio's
//! blocking pool through [`Db::call`].

pub mod backup;
pub mod many;
mod migrations;
pub mod postgres;
pub mod postgres_tls;
pub mod practice;
pub mod sql;
mod sqlite;
pub mod time;

pub use migrations::{migrate, MIGRATIONS, PG_MIGRATIONS};

use postgres::Postgres;
use rusqlite::Connection;
use sql::{Backend, Sql};
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
    #[error("database: {message}{}", sqlstate(.code))]
    Postgres {
        /// SQLSTATE.
        code: String,
        /// The primary message.
        message: String,
    },
    /// No connection could be had from the PostgreSQL pool.
    #[error("database pool: {0}")]
    Pool(String),
    /// The PostgreSQL connection string will not do (never quoted: it may
    /// hold a password).
    #[error(transparent)]
    Conninfo(#[from] postgres_tls::ConninfoError),
    /// A column's value is not of the type asked for.
    #[error("column {index} has an unexpected type")]
    Column {
        /// Which column.
        index: usize,
    },
    /// A query that must return a row returned none.
    #[error("query returned no row")]
    NoRow,
    /// Something only the SQLite backend has was asked of PostgreSQL.
    #[error("this needs the SQLite backend")]
    NotSqlite,
}

/// A SQLSTATE as it follows a message: ` (23505)`, or nothing when the
/// error is the client's own and has none.
fn sqlstate(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" ({code})")
    }
}

/// So a closure written against rusqlite (a test arranging rows) can be
/// handed to [`Db::sqlite_blocking`], whose refusal on PostgreSQL must be
/// an error of the closure's own type.
impl From<DbError> for rusqlite::Error {
    fn from(e: DbError) -> rusqlite::Error {
        rusqlite::Error::ToSqlConversionFailure(Box::new(e))
    }
}

/// A clone-able handle on the hub's database: the SQLite file in the data
/// directory (the default) or a PostgreSQL database that several hub nodes
/// share. Store code runs on tokio's blocking pool with a [`Sql`]
/// connection either way.
#[derive(Clone)]
pub struct Db {
    store: Store,
}

#[derive(Clone)]
enum Store {
    Sqlite {
        conn: Arc<Mutex<Connection>>,
        /// Read-only connections, a few: WAL lets sync pages and channel
        /// look-ups be read while the writer commits, so readers never hold
        /// up ingest, and several at once, so one device's page does not
        /// wait for another's.
        readers: Arc<Readers>,
        /// A third, read-only connection for the event publisher alone, so
        /// the pool counts of a push never queue behind sync pages.
        push_reader: Arc<Mutex<Connection>>,
    },
    Postgres(Postgres),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

/// Connections a hub node keeps to PostgreSQL.
const PG_POOL: usize = 16;

/// Connections a hub node keeps to PostgreSQL for each practice of a
/// deployment serving several.
const PG_PRACTICE_POOL: usize = 6;

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
            store: Store::Sqlite {
                conn: Arc::new(Mutex::new(conn)),
                readers: Arc::new(Readers::open(data_dir)?),
                push_reader: Arc::new(Mutex::new(open_reader(data_dir)?)),
            },
        })
    }

    /// Connects to the PostgreSQL database `conninfo` names and applies
    /// pending migrations (nodes starting together take turns).
    pub fn open_postgres(conninfo: &str) -> Result<Db, DbError> {
        let pg = Postgres::connect(conninfo, PG_POOL)?;
        postgres::off_runtime(|| migrate(&pg.conn()?))??;
        Ok(Db { store: Store::Postgres(pg) })
    }

    /// A handle on `pg` as it is (no migrations: a deployment's own
    /// database, where its practices' schemas are found).
    pub fn on_postgres(pg: Postgres) -> Db {
        Db { store: Store::Postgres(pg) }
    }

    /// One practice of a deployment serving several: its own pool, on the
    /// deployment's database, working in `schema` alone (which must exist);
    /// applies pending migrations there.
    pub fn open_postgres_schema(deployment: &Postgres, schema: &postgres::Schema) -> Result<Db, DbError> {
        let pg = deployment.in_schema(schema, PG_PRACTICE_POOL)?;
        postgres::off_runtime(|| migrate(&pg.conn()?))??;
        Ok(Db { store: Store::Postgres(pg) })
    }

    /// Which engine holds the data.
    pub fn backend(&self) -> Backend {
        match self.store {
            Store::Sqlite { .. } => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// The PostgreSQL pool, when the hub runs on one.
    pub fn postgres(&self) -> Option<&Postgres> {
        match &self.store {
            Store::Postgres(pg) => Some(pg),
            Store::Sqlite { .. } => None,
        }
    }

    /// Runs a read-only `f` on the blocking pool (SQLite: the reader
    /// connection, beside the writer).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        match &self.store {
            Store::Sqlite { readers, .. } => {
                let readers = readers.clone();
                blocking(move || f(&*readers.take())).await
            }
            Store::Postgres(pg) => on_pooled(pg.clone(), f).await,
        }
    }

    /// Runs a read-only `f` for the event publisher (SQLite: its own
    /// connection).
    pub async fn read_for_push<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        match &self.store {
            Store::Sqlite { push_reader, .. } => on_blocking_pool(push_reader.clone(), f).await,
            Store::Postgres(pg) => on_pooled(pg.clone(), f).await,
        }
    }

    /// Runs `f` (which may write) on the blocking pool.
    pub async fn call<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        match &self.store {
            Store::Sqlite { conn, .. } => on_blocking_pool(conn.clone(), f).await,
            Store::Postgres(pg) => on_pooled(pg.clone(), f).await,
        }
    }

    /// Runs `f` now, blocking the caller (CLI, start-up, tests); on
    /// PostgreSQL from inside a runtime, on a thread of its own.
    pub fn call_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send,
        E: From<DbError> + Send,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send,
    {
        match &self.store {
            Store::Sqlite { conn, .. } => {
                let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&*guard)
            }
            Store::Postgres(pg) => postgres::off_runtime(|| f(&pg.conn()?))?,
        }
    }

    /// Runs `f` with the SQLite connection itself, for what only SQLite
    /// has (tests arranging rows with rusqlite); refused on PostgreSQL.
    pub fn sqlite_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut Connection) -> Result<T, E>,
    {
        match &self.store {
            Store::Sqlite { conn, .. } => {
                let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut guard)
            }
            Store::Postgres(_) => Err(E::from(DbError::NotSqlite)),
        }
    }
}

/// How many read-only connections a SQLite hub keeps for [`Db::read`].
const SQLITE_READERS: usize = 2;
const _: () = assert!(SQLITE_READERS > 0, "a SQLite hub reads on at least one connection");

/// The read-only connections [`Db::read`] takes from: whichever is free.
struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Readers {
    fn open(data_dir: &Path) -> Result<Readers, DbError> {
        let conns =
            (0..SQLITE_READERS).map(|_| open_reader(data_dir).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(Readers { conns, next: std::sync::atomic::AtomicUsize::new(0) })
    }

    /// A free connection, or when none is, the next in turn once it is.
    fn take(&self) -> std::sync::MutexGuard<'_, Connection> {
        for conn in &self.conns {
            match conn.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SQLITE_READERS;
        self.conns[turn].lock().unwrap_or_else(|p| p.into_inner())
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
    F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
{
    blocking(move || {
        let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&*guard)
    })
    .await
}

/// Takes a pooled PostgreSQL connection on tokio's blocking pool and runs
/// `f` with it.
async fn on_pooled<T, E, F>(pg: Postgres, f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
{
    blocking(move || f(&pg.conn()?)).await
}

/// Runs `job` on tokio's blocking pool; a job that died is
/// [`DbError::Task`].
async fn blocking<T, E>(job: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    tokio::task::spawn_blocking(job).await.map_err(|_| E::from(DbError::Task))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A sync page being read does not hold up another reader: the first
    /// read waits, holding its connection, until the second has finished
    /// (with one connection it would wait for the first, and the first
    /// would give up).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_reads_do_not_queue_behind_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (holding_tx, holding_rx) = tokio::sync::oneshot::channel::<()>();
        let reader = db.clone();
        let first = tokio::spawn(async move {
            reader
                .read(move |conn| {
                    let one: i64 = conn.query_value("SELECT 1", crate::args![])?;
                    let _ = holding_tx.send(());
                    let second_finished = done_rx.recv_timeout(Duration::from_secs(20)).is_ok();
                    Ok::<_, DbError>((one, second_finished))
                })
                .await
        });
        holding_rx.await.unwrap();
        let second: i64 = db.read(|conn| conn.query_value("SELECT 2", crate::args![])).await.unwrap();
        let _ = done_tx.send(());
        assert_eq!(second, 2);
        assert_eq!(first.await.unwrap().unwrap(), (1, true), "the second read waited for the first");
    }
}
