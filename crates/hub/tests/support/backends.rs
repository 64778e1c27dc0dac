//! The two storage backends a store test runs on: a SQLite file in a temp
//! dir, and a fresh database in the real PostgreSQL cluster that `cargo
//! xtask test` starts (its conninfo in `SEALBOX_TEST_POSTGRES`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use std::sync::atomic::{AtomicU32, Ordering};

use sealbox_hub::db::postgres::Postgres;
use sealbox_hub::db::sql::Sql;

/// The environment variable `cargo xtask test` sets.
pub const POSTGRES_ENV: &str = "SEALBOX_TEST_POSTGRES";

/// The cluster's conninfo (the `postgres` maintenance database).
pub fn cluster() -> String {
    std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
        panic!("{POSTGRES_ENV} is not set: run the hub's tests through `cargo xtask test`, which starts PostgreSQL")
    })
}

/// Creates an empty database in the cluster; its conninfo.
pub fn fresh_postgres_database(rt: &tokio::runtime::Runtime) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("sealbox_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin = cluster();
    let create = format!("CREATE DATABASE {name}");
    let admin_pool = Postgres::connect(&admin, 1).unwrap();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || admin_pool.conn().unwrap().batch(&create).unwrap()).await.unwrap()
    });
    let base: String =
        admin.split_whitespace().filter(|kv| !kv.starts_with("dbname=")).collect::<Vec<_>>().join(" ");
    format!("{base} dbname={name}")
}

/// Runs `test` on a migrated SQLite file, then on a migrated PostgreSQL
/// database, naming the backend in any failure. `test` runs on a blocking
/// thread inside a tokio runtime (as the hub's store code does).
pub fn each_backend(test: impl Fn(&dyn Sql) + Send + Sync + Clone + 'static) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rusqlite::Connection::open(dir.path().join("hub.sqlite3")).unwrap();
    sqlite.pragma_update(None, "foreign_keys", "ON").unwrap();
    sealbox_hub::db::migrate(&sqlite).unwrap();
    eprintln!("backend: sqlite");
    test(&sqlite);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let conninfo = fresh_postgres_database(&rt);
    let pool = Postgres::connect(&conninfo, 4).unwrap();
    eprintln!("backend: postgres");
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let conn = pool.conn().unwrap();
            sealbox_hub::db::migrate(&conn).unwrap();
            test(&conn);
        })
        .await
        .unwrap()
    });
}
