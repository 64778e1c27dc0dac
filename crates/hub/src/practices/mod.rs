//! One deployment serving several practices (a primary care network or a
//! federation): each practice has a database of its own — on PostgreSQL a
//! schema, `practice_<hex>`, in the deployment's one database; on SQLite a
//! file, `DATA_DIR/practices/<id>/hub.sqlite3` — with the same tables a
//! hub of one practice has. Every row is scoped by practice because it
//! lives in its practice's schema or file: a practice's connections work
//! in its schema alone (`search_path`, set by the server as each starts),
//! so no query, however it is written, can read, count or change another
//! practice's rows. Its API is served under `/p/<id>/` (see [`route`]).
//!
//! A practice is served once its practice row exists (written with its
//! first admin's invite, in one transaction, after its migrations), so a
//! half-made one is never served. Nodes open a practice at its first
//! request: one added while they run needs no restart.

pub mod route;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::task::JoinHandle;

use crate::args;
use crate::clock::Clock;
use crate::config::HubConfig;
use crate::db::postgres::{Postgres, Schema};
use crate::db::{practice, Db, DbError, DB_FILE};
use crate::ops::Metrics;
use crate::server::ServeError;
use crate::state::AppState;

/// Where a deployment's practices' SQLite files are, inside its data dir.
pub const SQLITE_DIR: &str = "practices";

/// Connections a node keeps to the deployment's database itself (to find
/// practices), beside each practice's own pool.
const HOME_POOL: usize = 2;

/// A practice could not be created or served.
#[derive(Debug, thiserror::Error)]
pub enum PracticesError {
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A practice's folder could not be made or moved into place.
    #[error("{path}: {source}")]
    Folder {
        /// Which folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The practice and its first invite could not be written.
    #[error(transparent)]
    Init(#[from] crate::auth::cli::CliError),
    /// Its background tasks could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The id is not a practice id.
    #[error("not a practice id (prac- and 16 hex digits)")]
    BadId,
    /// The deployment has no practice of that id.
    #[error("this deployment has no practice {0}")]
    Unknown(String),
}

/// Where the practices' databases are.
#[derive(Clone)]
enum Home {
    /// `DATA_DIR/practices`.
    Sqlite(PathBuf),
    /// The deployment's database: a small pool working in its default
    /// schema, where the practices' schemas are looked up, and whose
    /// settings and runtime each practice's own pool shares.
    Postgres { db: Db, pg: Postgres },
}

/// The practices one deployment serves, each opened at its first request.
pub struct Deployment {
    config: HubConfig,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    home: Home,
    served: Mutex<HashMap<String, Served>>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A practice being served: its state, its router, its background tasks.
struct Served {
    state: AppState,
    router: Router,
    tasks: Vec<JoinHandle<()>>,
}

/// The schema of practice `id` (`prac-0a…` → `practice_0a…`).
pub fn schema_of(id: &str) -> Result<Schema, PracticesError> {
    let hex = id.strip_prefix("prac-").filter(|_| practice::is_id(id)).ok_or(PracticesError::BadId)?;
    Schema::new(&format!("practice_{hex}")).ok_or(PracticesError::BadId)
}

impl Deployment {
    /// The deployment `config` describes: its PostgreSQL database when it
    /// names one, else `DATA_DIR/practices`.
    pub fn open(config: HubConfig, clock: Arc<dyn Clock>) -> Result<Deployment, DbError> {
        let home = match &config.postgres {
            Some(conninfo) => {
                let pg = Postgres::connect(&conninfo.0, HOME_POOL)?;
                Home::Postgres { db: Db::on_postgres(pg.clone()), pg }
            }
            None => Home::Sqlite(config.data_dir.join(SQLITE_DIR)),
        };
        Ok(Deployment {
            config,
            clock,
            metrics: Metrics::default(),
            home,
            served: Mutex::new(HashMap::new()),
        })
    }

    /// Counts for `/metrics`, shared by every practice (counts only).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the deployment's storage answers (`/readyz`).
    pub async fn ready(&self) -> bool {
        match &self.home {
            Home::Sqlite(dir) => dir.is_dir(),
            Home::Postgres { db, .. } => {
                db.read(|c| c.query_value::<i64>("SELECT 1", args![])).await.is_ok_and(|one| one == 1)
            }
        }
    }

    /// Creates a practice named `name` with its first admin's invite;
    /// returns its id and what `init-practice` prints.
    pub fn create(&self, name: &str) -> Result<(String, String), PracticesError> {
        let id = practice::new_id();
        match &self.home {
            Home::Sqlite(dir) => {
                // Made aside and moved into place whole: a practice's folder
                // exists only with its practice row.
                let aside = dir.join(format!(".new-{id}"));
                let made = Db::open(&aside).map_err(PracticesError::from).and_then(|db| {
                    let said = crate::auth::cli::init_practice_as(&self.console_state(db, &id), &id, name)?;
                    std::fs::rename(&aside, dir.join(&id))
                        .map_err(|source| PracticesError::Folder { path: aside.clone(), source })?;
                    Ok(said)
                });
                if made.is_err() {
                    let _ = std::fs::remove_dir_all(&aside);
                }
                Ok((id, made?))
            }
            Home::Postgres { db, pg } => {
                let schema = schema_of(&id)?;
                db.call_blocking(|c| c.batch(&format!("CREATE SCHEMA {}", schema.as_str())))?;
                let made = Db::open_postgres_schema(pg, &schema).map_err(PracticesError::from).and_then(
                    |practice_db| {
                        Ok(crate::auth::cli::init_practice_as(
                            &self.console_state(practice_db, &id),
                            &id,
                            name,
                        )?)
                    },
                );
                if made.is_err() {
                    // Never served (it has no practice row); not left behind either.
                    let _ =
                        db.call_blocking(|c| c.batch(&format!("DROP SCHEMA {} CASCADE", schema.as_str())));
                }
                Ok((id, made?))
            }
        }
    }

    /// The ids of every practice served here.
    pub fn list(&self) -> Result<Vec<String>, PracticesError> {
        let mut ids = match &self.home {
            Home::Sqlite(dir) => match std::fs::read_dir(dir) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|name| practice::is_id(name) && self.sqlite_exists(name))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(source) => return Err(PracticesError::Folder { path: dir.clone(), source }),
            },
            Home::Postgres { db, .. } => {
                let schemas: Vec<String> = db.call_blocking(|c| {
                    c.query_map(
                        "SELECT table_schema FROM information_schema.tables
                         WHERE table_name = 'practice' AND table_schema LIKE 'practice\\_%'",
                        args![],
                        |r| r.get(0),
                    )
                })?;
                let mut ids = Vec::new();
                for schema in schemas {
                    let id = format!("prac-{}", schema.trim_start_matches("practice_"));
                    if practice::is_id(&id) && self.postgres_exists(db, &id)? {
                        ids.push(id);
                    }
                }
                ids
            }
        };
        ids.sort();
        Ok(ids)
    }

    /// Practice `id` for a console command (no background tasks).
    pub fn console(&self, id: &str) -> Result<AppState, PracticesError> {
        let db = self.open_db(id)?.ok_or_else(|| PracticesError::Unknown(id.to_owned()))?;
        Ok(self.console_state(db, id))
    }

    /// Practice `id` served: opened, with its background tasks (push
    /// publisher, fan-out, notices) started, at its first request; `None`
    /// when the deployment has no such practice.
    pub async fn serve(self: &Arc<Self>, id: &str) -> Result<Option<(AppState, Router)>, PracticesError> {
        if !practice::is_id(id) {
            return Ok(None);
        }
        if let Some(found) = self.served(id) {
            return Ok(Some(found));
        }
        // Opened without holding the map: a practice slow to open holds up
        // no other's requests.
        let this = self.clone();
        let owned = id.to_owned();
        let db =
            tokio::task::spawn_blocking(move || this.open_db(&owned)).await.map_err(|_| DbError::Task)??;
        let Some(db) = db else { return Ok(None) };
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = served.get(id) {
            // Opened meanwhile by another request: that one serves.
            return Ok(Some((s.state.clone(), s.router.clone())));
        }
        let state = self.console_state(db, id);
        let tasks = crate::server::background(&state)?;
        let router = crate::http::router(state.clone());
        served.insert(id.to_owned(), Served { state: state.clone(), router: router.clone(), tasks });
        Ok(Some((state, router)))
    }

    fn served(&self, id: &str) -> Option<(AppState, Router)> {
        let served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.get(id).map(|s| (s.state.clone(), s.router.clone()))
    }

    /// Stops every practice's background tasks.
    pub fn stop(&self) {
        for served in self.served.lock().unwrap_or_else(|p| p.into_inner()).values() {
            for task in &served.tasks {
                task.abort();
            }
        }
    }

    /// Practice `id`'s database, if the deployment has that practice.
    fn open_db(&self, id: &str) -> Result<Option<Db>, PracticesError> {
        if !practice::is_id(id) {
            return Err(PracticesError::BadId);
        }
        match &self.home {
            Home::Sqlite(dir) => {
                Ok(if self.sqlite_exists(id) { Some(Db::open(&dir.join(id))?) } else { None })
            }
            Home::Postgres { db, pg } => {
                if !self.postgres_exists(db, id)? {
                    return Ok(None);
                }
                Ok(Some(Db::open_postgres_schema(pg, &schema_of(id)?)?))
            }
        }
    }

    fn sqlite_exists(&self, id: &str) -> bool {
        matches!(&self.home, Home::Sqlite(dir) if dir.join(id).join(DB_FILE).is_file())
    }

    /// Whether practice `id`'s schema holds its practice row.
    fn postgres_exists(&self, db: &Db, id: &str) -> Result<bool, PracticesError> {
        let schema = schema_of(id)?;
        let table: i64 = db.call_blocking(|c| {
            c.query_value(
                "SELECT count(*) FROM information_schema.tables
                 WHERE table_schema = ?1 AND table_name = 'practice'",
                args![schema.as_str()],
            )
        })?;
        if table == 0 {
            return Ok(false);
        }
        let sql = format!("SELECT count(*) FROM {}.practice WHERE id = ?1", schema.as_str());
        let rows: i64 = db.call_blocking(|c| c.query_value(&sql, args![id]))?;
        Ok(rows == 1)
    }

    /// Practice `id`'s state on `db`: the deployment's settings, its own
    /// address for notices' links, the shared clock and metrics.
    fn console_state(&self, db: Db, id: &str) -> AppState {
        let mut config = self.config.clone();
        if let Some(smtp) = &mut config.smtp {
            smtp.public_url = format!("{}{}{id}", smtp.public_url.trim_end_matches('/'), route::PREFIX);
        }
        AppState::on(db, config, self.clock.clone(), self.metrics.clone())
    }
}
