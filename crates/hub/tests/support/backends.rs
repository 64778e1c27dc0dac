//! The two storage backends a store test runs on: a SQLite file in a temp
//! dir, and a fresh database in the real PostgreSQL cluster that `cargo
//! xtask test` starts (its conninfo in `SEALBOX_TEST_POSTGRES`). Store
//! code runs on the test's own thread: the PostgreSQL pool drives its
//! connections on a runtime of its own.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use std::sync::atomic::{AtomicU32, Ordering};

use sealbox_hub::db::postgres::Postgres;
use sealbox_hub::db::sql::Sql;

/// The environment variable `cargo xtask test` sets.
pub const POSTGRES_ENV: &str = "SEALBOX_TEST_POSTGRES";

/// The environment variable naming the same cluster over TCP and TLS.
pub const POSTGRES_TLS_ENV: &str = "SEALBOX_TEST_POSTGRES_TLS";

/// The database `conninfo` names, reached over TCP and TLS
/// (`sslmode=verify-full`, the cluster's own CA as the root).
pub fn over_tls(conninfo: &str) -> String {
    let dbname = conninfo.split_whitespace().find_map(|kv| kv.strip_prefix("dbname=")).unwrap();
    in_database(&set_by_xtask(POSTGRES_TLS_ENV), dbname)
}

/// The cluster's conninfo (the `postgres` maintenance database).
pub fn cluster() -> String {
    set_by_xtask(POSTGRES_ENV)
}

/// A conninfo `cargo xtask test` hands the tests in `var`.
fn set_by_xtask(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the hub's tests through `cargo xtask test`, which starts PostgreSQL")
    })
}

/// `conninfo` naming the database `name` instead of its own.
fn in_database(conninfo: &str, name: &str) -> String {
    let base: Vec<&str> = conninfo.split_whitespace().filter(|kv| !kv.starts_with("dbname=")).collect();
    format!("{} dbname={name}", base.join(" "))
}

/// Creates an empty database in the cluster; its conninfo.
pub fn fresh_postgres_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("sealbox_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin = cluster();
    let create = format!("CREATE DATABASE {name}");
    // Also from an async test: blocking on the pool happens off its runtime.
    sealbox_hub::db::postgres::off_runtime(|| {
        Postgres::connect(&admin, 1).unwrap().conn().unwrap().batch(&create)
    })
    .unwrap()
    .unwrap();
    in_database(&admin, &name)
}

/// Runs `test` on a migrated SQLite file, then on a migrated PostgreSQL
/// database (`cargo test -- --nocapture` shows which is running).
pub fn each_backend(test: impl Fn(&dyn Sql)) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rusqlite::Connection::open(dir.path().join("hub.sqlite3")).unwrap();
    sqlite.pragma_update(None, "foreign_keys", "ON").unwrap();
    sealbox_hub::db::migrate(&sqlite).unwrap();
    eprintln!("backend: sqlite");
    test(&sqlite);

    let pool = Postgres::connect(&fresh_postgres_database(), 2).unwrap();
    let conn = pool.conn().unwrap();
    sealbox_hub::db::migrate(&conn).unwrap();
    eprintln!("backend: postgres");
    test(&conn);
}
