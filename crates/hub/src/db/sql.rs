//! The hub's storage interface: one SQL text, two engines. Store code is
//! written once against [`Sql`] (statements with `?1`-style placeholders in
//! the subset SQLite and PostgreSQL share) and runs on either backend:
//! SQLite (`sqlite.rs`, the embedded default) or PostgreSQL (`postgres.rs`).
//! Values cross the interface as the four kinds the hub stores: NULL, a
//! 64-bit integer, text and bytes (and, on PostgreSQL, lists of one kind:
//! `many.rs`).

use std::cell::Cell;

use super::many::Kind;
use super::DbError;

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded file (`hub.sqlite3`).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A value bound to a statement, borrowed from the caller. Its `Debug`
/// (which tokio-postgres asks for) names no value.
#[derive(Clone, Copy)]
pub enum Param<'a> {
    /// NULL.
    Null,
    /// A 64-bit integer (every integer column is 64-bit on both engines).
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// Values of one kind (or NULL), sent to PostgreSQL as one array
    /// ([`super::many::Many`]); SQLite refuses it.
    List(Kind, &'a [Owned]),
}

impl<'a> Param<'a> {
    /// Text, or NULL for `None`.
    pub fn text_or_null(v: Option<&'a str>) -> Self {
        v.map_or(Param::Null, Param::Text)
    }
}

impl std::fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Param")
    }
}

/// A value read from a row.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer (PostgreSQL's smaller integers and booleans widen to it).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The value, to bind.
    pub fn param(&self) -> Param<'_> {
        match self {
            Value::Null => Param::Null,
            Value::Int(v) => Param::Int(*v),
            Value::Text(v) => Param::Text(v),
            Value::Blob(v) => Param::Blob(v),
        }
    }
}

/// A parameter a [`Statement`] owns: one value, or a list of them
/// ([`Param::List`]; a list within one is refused when it is bound).
#[derive(Clone)]
pub enum Owned {
    /// One value.
    One(Value),
    /// Values of one kind (or NULL), bound as one array.
    List(Kind, Vec<Owned>),
}

impl Owned {
    /// A copy of `p` to own.
    pub fn of(p: Param<'_>) -> Owned {
        Owned::One(match p {
            Param::Null => Value::Null,
            Param::Int(v) => Value::Int(v),
            Param::Text(v) => Value::Text(v.to_owned()),
            Param::Blob(v) => Value::Blob(v.to_vec()),
            Param::List(kind, v) => return Owned::List(kind, v.to_vec()),
        })
    }

    /// The parameter, to bind.
    pub fn param(&self) -> Param<'_> {
        match self {
            Owned::One(v) => v.param(),
            Owned::List(kind, v) => Param::List(*kind, v),
        }
    }
}

/// One row of a result, its values in column order.
pub struct SqlRow(pub(crate) Vec<Value>);

impl SqlRow {
    /// The value of column `index` as `T`.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, DbError> {
        let value = self.0.get(index).ok_or(DbError::Column { index })?;
        T::from_value(value).ok_or(DbError::Column { index })
    }
}

/// A type a column's value reads as.
pub trait FromValue: Sized {
    /// `None` when the value is not of this type.
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
}

impl FromValue for u64 {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(v) => Some(*v != 0),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Blob(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A Rust value that binds as a [`Param`].
pub trait ToParam {
    /// The value to bind.
    fn param(&self) -> Param<'_>;
}

impl ToParam for i64 {
    fn param(&self) -> Param<'_> {
        Param::Int(*self)
    }
}

impl ToParam for u64 {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToParam for u32 {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl ToParam for bool {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}

impl ToParam for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for [u8] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}

impl ToParam for Vec<u8> {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}

impl<const N: usize> ToParam for [u8; N] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn param(&self) -> Param<'_> {
        match self {
            Some(v) => v.param(),
            None => Param::Null,
        }
    }
}

/// `args![a, b]`: the statement's parameters, `?1` first.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::sql::ToParam::param(&$value)),*]
    };
}

/// A statement written for one call, with its parameters (its own
/// copies): one of several sent together ([`Sql::together`]).
#[must_use = "a statement does nothing until it is run"]
pub struct Statement {
    /// Its text (`?N` placeholders).
    pub sql: String,
    params: Vec<Owned>,
    /// Whether its text is always the same, so worth keeping prepared
    /// ([`Sql::query`]) rather than prepared for this call alone
    /// ([`Sql::query_once`]).
    kept: bool,
    /// Whether, sent with others to PostgreSQL, it may be run on a plan
    /// kept from an earlier call: only an INSERT of rows sent as arrays,
    /// whose plan does not depend on the tables' sizes.
    keeps_plan: bool,
}

impl Statement {
    /// `sql`, a text that is always the same, with a copy of `params`.
    pub fn kept(sql: String, params: &[Param<'_>]) -> Statement {
        Statement {
            sql,
            params: params.iter().map(|p| Owned::of(*p)).collect(),
            kept: true,
            keeps_plan: false,
        }
    }

    /// `sql` with `params` ([`super::many::Many`]): `kept` when its text
    /// is the same whatever the counts it was written for, `keeps_plan`
    /// when its plan may be too.
    pub(crate) fn with_params(sql: String, params: Vec<Owned>, kept: bool, keeps_plan: bool) -> Statement {
        Statement { sql, params, kept, keeps_plan }
    }

    /// Whether it is kept prepared on the connection.
    pub fn is_kept(&self) -> bool {
        self.kept
    }

    /// Whether, sent with others to PostgreSQL, it goes by a prepared
    /// name and may run on a plan kept from an earlier call.
    pub fn keeps_plan(&self) -> bool {
        self.keeps_plan
    }

    /// Runs it on `conn`, kept prepared or prepared for this call only.
    fn run_on<S: Sql + ?Sized>(&self, conn: &S) -> Result<Vec<SqlRow>, DbError> {
        if self.kept {
            conn.query(&self.sql, &self.params())
        } else {
            conn.query_once(&self.sql, &self.params())
        }
    }

    /// Its parameters, `?1` first.
    pub fn params(&self) -> Vec<Param<'_>> {
        self.params.iter().map(Owned::param).collect()
    }
}

/// A connection (or a transaction on one) that runs the hub's SQL.
pub trait Sql {
    /// The engine behind it.
    fn backend(&self) -> Backend;
    /// Runs one statement; the number of rows it changed.
    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError>;
    /// Runs one query; every row.
    fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError>;
    /// Runs statements without parameters (schema, BEGIN/COMMIT).
    fn batch(&self, sql: &str) -> Result<(), DbError>;
    /// Runs one query whose text was made for this call (a statement of
    /// many rows): unlike [`Sql::query`] it is not kept among the
    /// connection's prepared statements, which one text per batch size
    /// would fill.
    fn query_once(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError>;
    /// Runs `statements`, none of which needs another's result, in order,
    /// each as it was written (kept prepared or not: [`Statement::is_kept`]): every statement's rows,
    /// in order. On
    /// PostgreSQL they are sent at once and answered in one round trip
    /// (pipelined) where one at a time costs one each; should one fail,
    /// the error is the first failure's (in a transaction, those after it
    /// fail too, and the transaction is rolled back).
    fn together(&self, statements: &[Statement]) -> Result<Vec<Vec<SqlRow>>, DbError> {
        statements.iter().map(|s| s.run_on(self)).collect()
    }
    /// Whether this is a transaction (or inside one) that holds the
    /// relay's write lock already (`relay::store::lock_writes`).
    fn write_locked(&self) -> bool {
        false
    }
    /// Records that this transaction took the relay's write lock; nothing
    /// outside a transaction.
    fn note_write_locked(&self) {}
}

impl dyn Sql + '_ {
    /// The first row, if any.
    pub fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<SqlRow>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first column of the one row the query must return.
    pub fn query_value<T: FromValue>(&self, sql: &str, params: &[Param<'_>]) -> Result<T, DbError> {
        match self.query_opt(sql, params)? {
            Some(row) => row.get(0),
            None => Err(DbError::NoRow),
        }
    }

    /// Runs `statement` alone, prepared and kept or for this call only
    /// as it was written ([`Statement::is_kept`]): its rows.
    pub fn run(&self, statement: &Statement) -> Result<Vec<SqlRow>, DbError> {
        statement.run_on(self)
    }

    /// Every row mapped by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        f: impl FnMut(SqlRow) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        self.query(sql, params)?.into_iter().map(f).collect()
    }
}

/// A transaction: rolled back when dropped without [`Tx::commit`]. The
/// statements are the ones both engines share (`BEGIN`, `SAVEPOINT`, ...).
pub struct Tx<'c> {
    conn: &'c dyn Sql,
    open: bool,
    write_locked: Cell<bool>,
}

/// Begins a transaction on `conn`.
pub fn begin(conn: &dyn Sql) -> Result<Tx<'_>, DbError> {
    conn.batch("BEGIN")?;
    Ok(Tx { conn, open: true, write_locked: Cell::new(false) })
}

/// Begins a transaction on `conn` and runs `statements` in it, all sent
/// together ([`Sql::together`]; one round trip on PostgreSQL): the
/// transaction and each statement's rows.
pub fn begin_with<'c>(
    conn: &'c dyn Sql,
    statements: Vec<Statement>,
) -> Result<(Tx<'c>, Vec<Vec<SqlRow>>), DbError> {
    begun_with(conn, "BEGIN", statements)
}

/// Begins a read-only transaction that sees one snapshot throughout
/// (SQLite's read transaction; PostgreSQL's REPEATABLE READ, where its
/// default would let each statement see newer commits) and runs
/// `statements` in it, all sent together: the transaction and each
/// statement's rows.
pub fn begin_read_with<'c>(
    conn: &'c dyn Sql,
    statements: Vec<Statement>,
) -> Result<(Tx<'c>, Vec<Vec<SqlRow>>), DbError> {
    begun_with(conn, read_begin(conn.backend()), statements)
}

fn begun_with<'c>(
    conn: &'c dyn Sql,
    begin: &str,
    statements: Vec<Statement>,
) -> Result<(Tx<'c>, Vec<Vec<SqlRow>>), DbError> {
    // Made first: should a statement fail, dropping it rolls back.
    let tx = Tx { conn, open: true, write_locked: Cell::new(false) };
    let mut all = Vec::with_capacity(statements.len() + 1);
    all.push(Statement::kept(begin.into(), &[]));
    all.extend(statements);
    let mut rows = conn.together(&all)?;
    rows.remove(0);
    Ok((tx, rows))
}

/// What begins a read-only transaction that sees one snapshot throughout
/// on `backend`.
fn read_begin(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    }
}

impl<'c> Tx<'c> {
    /// Commits. On failure the transaction is rolled back when dropped.
    pub fn commit(mut self) -> Result<(), DbError> {
        self.conn.batch("COMMIT")?;
        self.open = false;
        Ok(())
    }

    /// Runs `statements` and commits, all sent together
    /// ([`Sql::together`]): their rows. On failure nothing is committed:
    /// the transaction is rolled back (by the server, should an earlier
    /// statement have failed, else when dropped).
    pub fn commit_with(mut self, statements: Vec<Statement>) -> Result<Vec<Vec<SqlRow>>, DbError> {
        let mut statements = statements;
        statements.push(Statement::kept("COMMIT".into(), &[]));
        let mut rows = self.conn.together(&statements)?;
        self.open = false;
        rows.pop();
        Ok(rows)
    }

    /// Opens a savepoint inside the transaction.
    pub fn savepoint(&self) -> Result<Savepoint<'_>, DbError> {
        self.conn.batch("SAVEPOINT sp")?;
        Ok(Savepoint { conn: self, open: true })
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to do about a failed rollback: the connection's next
            // BEGIN reports it.
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// A savepoint: undone when dropped without [`Savepoint::commit`], leaving
/// the rest of the transaction as it was.
pub struct Savepoint<'c> {
    conn: &'c dyn Sql,
    open: bool,
}

impl Savepoint<'_> {
    /// Keeps the savepoint's writes in the transaction.
    pub fn commit(mut self) -> Result<(), DbError> {
        self.conn.batch("RELEASE sp")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.batch("ROLLBACK TO sp; RELEASE sp");
        }
    }
}

macro_rules! delegate_sql {
    ($ty:ty, $locked:expr, $note:expr) => {
        impl Sql for $ty {
            fn backend(&self) -> Backend {
                self.conn.backend()
            }
            fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
                self.conn.execute(sql, params)
            }
            fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
                self.conn.query(sql, params)
            }
            fn batch(&self, sql: &str) -> Result<(), DbError> {
                self.conn.batch(sql)
            }
            fn query_once(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<SqlRow>, DbError> {
                self.conn.query_once(sql, params)
            }
            fn together(&self, statements: &[Statement]) -> Result<Vec<Vec<SqlRow>>, DbError> {
                self.conn.together(statements)
            }
            fn write_locked(&self) -> bool {
                $locked(self)
            }
            fn note_write_locked(&self) {
                $note(self)
            }
        }
    };
}

// A transaction remembers the lock. A savepoint asks its transaction, but
// does not tell it: a lock first taken inside a savepoint is released if
// the savepoint is rolled back.
delegate_sql!(Tx<'_>, |t: &Tx<'_>| t.write_locked.get(), |t: &Tx<'_>| t.write_locked.set(true));
delegate_sql!(Savepoint<'_>, |s: &Savepoint<'_>| s.conn.write_locked(), |_: &Savepoint<'_>| ());

/// `sql` with SQLite's `?N` (and bare `?`) placeholders written as
/// PostgreSQL's `$N`; quoted text and identifiers are left alone.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut next = 1u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                }
                next = digits.parse::<u32>().map_or(next, |n| n.saturating_add(1));
                out.push('$');
                out.push_str(&digits);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes_only() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d LIKE '%?3%' AND \"e?\" = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d LIKE '%?3%' AND \"e?\" = $13"
        );
        assert_eq!(numbered("VALUES (?, ?)"), "VALUES ($1, $2)");
        assert_eq!(numbered("'it''s ?1'"), "'it''s ?1'");
    }

    #[test]
    fn values_read_only_as_their_own_type() {
        let row = SqlRow(vec![Value::Int(7), Value::Null, Value::Text("a".into()), Value::Blob(vec![1])]);
        assert_eq!(row.get::<i64>(0).ok(), Some(7));
        assert_eq!(row.get::<Option<i64>>(1).ok(), Some(None));
        assert!(row.get::<i64>(1).is_err());
        assert!(row.get::<Vec<u8>>(2).is_err());
        assert_eq!(row.get::<Vec<u8>>(3).ok(), Some(vec![1]));
        assert!(row.get::<i64>(4).is_err());
    }
}
