//! Which database a console command works on: the data directory's SQLite
//! file, a PostgreSQL database (`--postgres-file`), or one practice of a
//! deployment serving several (`--practice`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::CliError;
use crate::clock::SystemClock;
use crate::config::HubConfig;
use crate::db::postgres::Conninfo;
use crate::practices::Deployment;
use crate::state::AppState;

/// `--data-dir` or `--postgres-file`: a hub's database, or a deployment's.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// Directory holding the database (SQLite; for a deployment serving
    /// several practices, their files).
    #[arg(long, required_unless_present = "postgres_file")]
    pub data_dir: Option<PathBuf>,
    /// A file holding the PostgreSQL connection string of the database
    /// (instead of the data directory's SQLite files).
    #[arg(long)]
    pub postgres_file: Option<PathBuf>,
}

impl DatabaseArgs {
    /// The deployment serving several practices these name.
    pub fn deployment(&self) -> Result<Deployment, CliError> {
        let config = config(self.data_dir.clone(), self.postgres_file.as_deref())?;
        Ok(Deployment::open(config, Arc::new(SystemClock))?)
    }
}

/// [`DatabaseArgs`] and `--practice`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Where.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// In a deployment serving several practices, which one (`prac-…`).
    #[arg(long)]
    pub practice: Option<String>,
}

impl StoreArgs {
    /// The hub (or the deployment's practice) these name, opened and
    /// migrated, with the system clock.
    pub fn open(&self) -> Result<AppState, CliError> {
        match &self.practice {
            Some(id) => Ok(self.database.deployment()?.console(id)?),
            None => {
                let db = &self.database;
                Ok(AppState::open_system(config(db.data_dir.clone(), db.postgres_file.as_deref())?)?)
            }
        }
    }
}

/// Settings for a hub on `data_dir`, or on the database `postgres_file`'s
/// connection string names.
pub fn config(data_dir: Option<PathBuf>, postgres_file: Option<&Path>) -> Result<HubConfig, CliError> {
    let mut config = HubConfig::new(data_dir.unwrap_or_default());
    if let Some(path) = postgres_file {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CliError::Write { path: path.to_path_buf(), source })?;
        config.postgres = Some(Conninfo(text.trim().to_owned()));
    }
    Ok(config)
}
