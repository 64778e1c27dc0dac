//! [`Sql`] on PostgreSQL: tokio-postgres connections from a deadpool pool,
//! over TLS when over TCP ([`super::postgres_tls`]).
//! The hub's store code is synchronous (it runs on tokio's blocking pool,
//! as with SQLite), so each statement is driven to completion with
//! `block_on` on the pool's own runtime from that blocking thread. Every
//! integer column is BIGINT (migrations/postgres), so a bound integer is
//! always INT8.

use std::sync::Arc;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::many::Kind;
use super::postgres_tls;
use super::sql::{numbered, Backend, Owned, Param, Sql, SqlRow, Statement, Value};
use super::DbError;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl Param<'_> {
    /// The type it is sent as when a statement's types go with it.
    fn sent_as(&self) -> Type {
        match self {
            Param::Int(_) => Type::INT8,
            Param::Text(_) | Param::Null => Type::TEXT,
            Param::Blob(_) => Type::BYTEA,
            Param::List(Kind::Int, _) => Type::INT8_ARRAY,
            Param::List(Kind::Text, _) => Type::TEXT_ARRAY,
            Param::List(Kind::Blob, _) => Type::BYTEA_ARRAY,
        }
    }
}

/// `values` as the elements of a `kind` array (`of` reads one): each of
/// that kind or NULL.
fn elements<'v, T>(
    values: &'v [Owned],
    kind: Kind,
    of: fn(&'v Value) -> Option<T>,
) -> Result<Vec<Option<T>>, BoxError> {
    values
        .iter()
        .map(|v| match v {
            Owned::One(Value::Null) => Ok(None),
            Owned::One(v) => {
                of(v).map(Some).ok_or_else(|| format!("a value of another kind in a {kind:?} list").into())
            }
            Owned::List(..) => Err("a list within a list".into()),
        })
        .collect()
}

fn int(v: &Value) -> Option<i64> {
    if let Value::Int(i) = v {
        Some(*i)
    } else {
        None
    }
}

fn text(v: &Value) -> Option<&str> {
    if let Value::Text(t) = v {
        Some(t)
    } else {
        None
    }
}

fn blob(v: &Value) -> Option<&[u8]> {
    if let Value::Blob(b) = v {
        Some(b)
    } else {
        None
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => Err(format!("an integer bound where the statement wants {ty}").into()),
            },
            Param::Text(v) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => v.to_sql(ty, out),
                _ => Err(format!("text bound where the statement wants {ty}").into()),
            },
            Param::Blob(v) => match *ty {
                Type::BYTEA => v.to_sql(ty, out),
                _ => Err(format!("bytes bound where the statement wants {ty}").into()),
            },
            Param::List(kind, values) => match kind {
                Kind::Int => elements(values, kind, int)?.to_sql(ty, out),
                Kind::Text => elements(values, kind, text)?.to_sql(ty, out),
                Kind::Blob => elements(values, kind, blob)?.to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, which knows the value's kind.
        true
    }

    to_sql_checked!();
}

fn value(row: &tokio_postgres::Row, index: usize) -> Result<Value, DbError> {
    let bad = |_| DbError::Column { index };
    let ty = row.columns().get(index).map(|c| c.type_().clone()).ok_or(DbError::Column { index })?;
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index).map_err(bad)?.map(Value::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(index).map_err(bad)?.map(|v| Value::Int(v.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(index).map_err(bad)?.map(|v| Value::Int(v.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(index).map_err(bad)?.map(|v| Value::Int(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            row.try_get::<_, Option<String>>(index).map_err(bad)?.map(Value::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index).map_err(bad)?.map(Value::Blob),
        Type::VOID => None,
        _ => return Err(DbError::Column { index }),
    };
    Ok(v.unwrap_or(Value::Null))
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> DbError {
        // The server's primary message and SQLSTATE only: its DETAIL may
        // quote a row's values.
        match e.as_db_error() {
            Some(db) => {
                DbError::Postgres { code: db.code().code().to_owned(), message: db.message().to_owned() }
            }
            // Not the server's words: the client's own, and what caused
            // them (a refused certificate says why only in its cause).
            None => {
                let mut message = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    message = format!("{message}: {c}");
                    cause = c.source();
                }
                DbError::Postgres { code: String::new(), message }
            }
        }
    }
}

/// A PostgreSQL connection string (libpq's key=value form or a
/// `postgresql://` URL). It may hold a password, so its `Debug` shows none
/// of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Conninfo(pub String);

impl std::fmt::Debug for Conninfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conninfo(..)")
    }
}

/// A PostgreSQL schema's name: lower-case ASCII letters, digits and `_`,
/// starting with a letter, at most 40 long (so it needs no quoting and
/// the change channel named after it stays within PostgreSQL's 63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema(String);

impl Schema {
    /// `name` if it is a plain schema name.
    pub fn new(name: &str) -> Option<Schema> {
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (first_ok && rest_ok && name.len() <= 40).then(|| Schema(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pool of connections to one PostgreSQL database, driven by a small
/// runtime of its own: the pool works the same from the server's blocking
/// pool, from the CLI and from tests, and never from an async worker.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    config: Arc<tokio_postgres::Config>,
    tls: MakeRustlsConnect,
    rt: Arc<OwnRuntime>,
}

/// A connection of its own ([`Postgres::connect_one`]): the client, and
/// the connection to drive.
pub type OwnConnection = (
    tokio_postgres::Client,
    tokio_postgres::Connection<
        tokio_postgres::Socket,
        <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream,
    >,
);

/// The pool's runtime, shut down without blocking when the last handle
/// goes (which may be on an async worker).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Postgres")
    }
}

impl Postgres {
    /// A pool of at most `size` connections to `conninfo` (libpq's
    /// `host=... port=... user=... dbname=...` or a `postgresql://` URL,
    /// with libpq's `sslmode` and `sslrootcert`: TLS, verified, over TCP).
    pub fn connect(conninfo: &str, size: usize) -> Result<Postgres, DbError> {
        let postgres_tls::Settings { config, tls } = postgres_tls::settings(conninfo)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sealbox-postgres")
            .enable_all()
            .build()
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Self::pool(config, tls, Arc::new(OwnRuntime(Some(rt))), size)
    }

    /// A pool of at most `size` connections to the same database whose
    /// every statement runs in `schema` alone (one practice of several:
    /// the server sets `search_path` as each connection starts, so a query
    /// cannot name another practice's tables by accident). Shares this
    /// pool's runtime.
    pub fn in_schema(&self, schema: &Schema, size: usize) -> Result<Postgres, DbError> {
        let mut config = (*self.config).clone();
        let options = match config.get_options() {
            Some(given) => format!("{given} -c search_path={}", schema.0),
            None => format!("-c search_path={}", schema.0),
        };
        config.options(&options);
        Self::pool(config, self.tls.clone(), self.rt.clone(), size)
    }

    fn pool(
        config: tokio_postgres::Config,
        tls: MakeRustlsConnect,
        rt: Arc<OwnRuntime>,
        size: usize,
    ) -> Result<Postgres, DbError> {
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(30)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Postgres { pool, config: Arc::new(config), tls, rt })
    }

    /// A connection of its own, outside the pool, made as the pool's are
    /// (TLS included), as the fan-out's LISTEN needs. Async: on the
    /// caller's runtime.
    pub async fn connect_one(&self) -> Result<OwnConnection, DbError> {
        Ok(self.config.connect(self.tls.clone()).await?)
    }

    /// Runs `f` to completion on the pool's runtime (blocking the caller,
    /// which must not be an async worker).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, DbError> {
        match &self.rt.0 {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(DbError::Task),
        }
    }

    /// One connection from the pool; back in the pool when dropped.
    pub fn conn(&self) -> Result<PgConn, DbError> {
        let client = self.block_on(self.pool.get())?.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => DbError::from(e),
            e => DbError::Pool(e.to_string()),
        })?;
        Ok(PgConn { client, pg: self.clone() })
    }
}

/// Runs `f` where it may block on the pool's runtime: here, or — when this
/// thread is in a runtime already (an async task, a test, `serve`'s
/// start-up) — on a scoped thread of its own, which blocking cannot upset.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, DbError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(f());
    }
    std::thread::scope(|s| s.spawn(f).join()).map_err(|_| DbError::Task)
}

/// One pooled PostgreSQL connection, back in the pool when dropped.
pub struct PgConn {
    client: deadpool_postgres::Object,
    pg: Postgres,
}

impl PgConn {
    fn bind<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
    }

    /// `params` with the types they are sent as ([`Param::sent_as`]).
    fn typed<'p>(params: &'p [Param<'_>]) -> Vec<(&'p (dyn ToSql + Sync), Type)> {
        params.iter().map(|p| (p as &(dyn ToSql + Sync), p.sent_as())).collect()
    }

    fn rows(rows: &[tokio_postgres::Row]) -> Result<Vec<SqlRow>, DbError> {
        rows.iter()
            .map(|row| (0..row.len()).map(|i| value(row, i)).collect::<Result<Vec<_>, _>>().map(SqlRow))
            .collect()
    }
}

impl Sql for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let sql = numbered(sql);
        self.pg.block_on(async {
            let stmt = self.client.prepare_cached(&sql).await?;
            Ok(self.client.execute(&stmt, &Self::bind(params)).await?)
        })?
    }

    fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
        let sql = numbered(sql);
        let rows = self.pg.block_on(async {
            let stmt = self.client.prepare_cached(&sql).await?;
            self.client.query(&stmt, &Self::bind(params)).await
        })??;
        Self::rows(&rows)
    }

    /// One round trip where a prepared statement costs two: the statement
    /// is sent unnamed with its parameters' types (INT8, TEXT, BYTEA; a NULL
    /// travels as TEXT, so such a statement binds NULL only where text is
    /// stored).
    fn query_once(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
        let sql = numbered(sql);
        let rows = self.pg.block_on(self.client.query_typed(&sql, &Self::typed(params)))??;
        Self::rows(&rows)
    }

    /// Each statement is sent when its query is first polled, and
    /// tokio-postgres writes what is queued before it reads: joined, they
    /// go out together and their answers come back together. A statement
    /// whose plan may be kept ([`Statement::keeps_plan`]) goes by its
    /// prepared name (prepared on first use, which costs that call one
    /// more round trip); any other goes unnamed, with its parameters'
    /// types, to be planned for its values.
    fn together(&self, statements: &[Statement]) -> Result<Vec<Vec<SqlRow>>, DbError> {
        let texts: Vec<String> = statements.iter().map(|s| numbered(&s.sql)).collect();
        let params: Vec<Vec<Param<'_>>> = statements.iter().map(Statement::params).collect();
        let queries =
            statements.iter().zip(texts.iter().zip(&params)).map(|(statement, (sql, params))| async move {
                if statement.keeps_plan() {
                    let prepared = self.client.prepare_cached(sql).await?;
                    self.client.query(&prepared, &Self::bind(params)).await
                } else {
                    self.client.query_typed(sql, &Self::typed(params)).await
                }
            });
        let answers = self.pg.block_on(futures_util::future::try_join_all(queries))??;
        answers.iter().map(|rows| Self::rows(rows)).collect()
    }

    fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.pg.block_on(self.client.batch_execute(sql))??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_binds_its_kind_and_null_and_refuses_anything_else() {
        let bind =
            |values: &[Owned]| Param::List(Kind::Int, values).to_sql(&Type::INT8_ARRAY, &mut BytesMut::new());
        assert!(bind(&[Owned::One(Value::Int(7)), Owned::One(Value::Null)]).is_ok());
        assert!(bind(&[Owned::One(Value::Text("7".into()))]).is_err());
        assert!(bind(&[Owned::List(Kind::Int, vec![Owned::One(Value::Int(7))])]).is_err());
    }

    #[test]
    fn a_schema_name_is_plain_or_refused() {
        assert_eq!(Schema::new("practice_0a1b").map(|s| s.as_str().to_owned()), Some("practice_0a1b".into()));
        for bad in ["", "Practice", "1abc", "a-b", "a;drop", "a b", "a\"b", &"a".repeat(41)] {
            assert_eq!(Schema::new(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_connection_string_is_never_shown() {
        let c = Conninfo("host=db user=hub password=QZXSECRET dbname=sealbox".into());
        assert_eq!(format!("{c:?}"), "Conninfo(..)");
        let config = crate::config::HubConfig { postgres: Some(c), ..crate::config::HubConfig::new("/x") };
        assert!(!format!("{config:?}").contains("QZXSECRET"));
    }
}
