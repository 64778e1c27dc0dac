//! [`Sql`] on SQLite: rusqlite's connection, transaction and savepoint,
//! with cached prepared statements (but for statements made for one call).

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::sql::{Backend, Param, Sql, SqlRow, Value};
use super::DbError;

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(v) => ValueRef::Integer(v),
            Param::Text(v) => ValueRef::Text(v.as_bytes()),
            Param::Blob(v) => ValueRef::Blob(v),
            // `Many` writes a placeholder per value for SQLite.
            Param::List(..) => {
                return Err(rusqlite::Error::ToSqlConversionFailure("a list bound on SQLite".into()))
            }
        }))
    }
}

fn value(index: usize, v: ValueRef<'_>) -> Result<Value, DbError> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => {
            Value::Text(String::from_utf8(t.to_vec()).map_err(|_| DbError::Column { index })?)
        }
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Real(_) => return Err(DbError::Column { index }),
    })
}

fn execute(conn: &rusqlite::Connection, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = stmt.execute(rusqlite::params_from_iter(params.iter()))?;
    Ok(n as u64)
}

fn query(conn: &rusqlite::Connection, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    rows(&mut stmt, params)
}

fn rows(stmt: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for index in 0..width {
            values.push(value(index, row.get_ref(index)?)?);
        }
        out.push(SqlRow(values));
    }
    Ok(out)
}

macro_rules! sqlite_sql {
    ($ty:ty) => {
        impl Sql for $ty {
            fn backend(&self) -> Backend {
                Backend::Sqlite
            }
            fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
                execute(self, sql, params)
            }
            fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
                query(self, sql, params)
            }
            fn batch(&self, sql: &str) -> Result<(), DbError> {
                Ok(self.execute_batch(sql)?)
            }
            fn query_once(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
                rows(&mut self.prepare(sql)?, params)
            }
        }
    };
}

sqlite_sql!(rusqlite::Connection);
sqlite_sql!(rusqlite::Transaction<'_>);
sqlite_sql!(rusqlite::Savepoint<'_>);
