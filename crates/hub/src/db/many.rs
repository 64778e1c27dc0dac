//! Statements over many values, written for the engine: a list a column
//! is matched against (`IN`) and the rows a multi-row INSERT takes.
//! SQLite takes one placeholder per value, so the text grows with the
//! count and is prepared for that call alone (kept for one value, the
//! common shape). PostgreSQL takes one array per list or column, so the
//! text is short and the same for any count: an INSERT's is kept
//! prepared on each connection and parsed once, not once a batch (parsing
//! and planning a batch's texts of hundreds of placeholders were over a
//! quarter of the server's work); a look-up's is sent for each call, to
//! be planned for its values.

use super::sql::{Backend, Owned, Param, Statement};

/// What one list or column holds (what it is sent as on PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit integers (`int8[]`).
    Int,
    /// Text (`text[]`).
    Text,
    /// Bytes (`bytea[]`).
    Blob,
}

impl Kind {
    fn array(self) -> &'static str {
        match self {
            Kind::Int => "int8[]",
            Kind::Text => "text[]",
            Kind::Blob => "bytea[]",
        }
    }

    fn scalar(self) -> &'static str {
        match self {
            Kind::Int => "int8",
            Kind::Text => "text",
            Kind::Blob => "bytea",
        }
    }
}

/// A statement being written for `backend`: its parameters, numbered
/// `?1` on in the order its parts are added, and whether its text is the
/// same whatever the counts.
pub struct Many {
    backend: Backend,
    params: Vec<Owned>,
    fixed: bool,
}

impl Many {
    /// A statement for `backend`, with no parameter yet.
    pub fn new(backend: Backend) -> Many {
        Many { backend, params: Vec::new(), fixed: true }
    }

    /// The engine it is written for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// One parameter: its placeholder.
    pub fn one(&mut self, value: Param<'_>) -> String {
        self.params.push(Owned::of(value));
        format!("?{}", self.params.len())
    }

    /// What follows a column to match it against `values` (each of `kind`
    /// or NULL): `IN (?2, ?3)` on SQLite (`IN (NULL)` for none, which
    /// matches nothing), `= ANY(?2::int8[])` on PostgreSQL.
    pub fn among(&mut self, kind: Kind, values: &[Param<'_>]) -> String {
        match self.backend {
            Backend::Sqlite => {
                self.fixed &= values.len() == 1;
                if values.is_empty() {
                    return "IN (NULL)".into();
                }
                let marks: Vec<String> = values.iter().map(|v| self.one(*v)).collect();
                format!("IN ({})", marks.join(", "))
            }
            Backend::Postgres => {
                // A look-up is planned for each call's values: the plan
                // that suits it depends on the table's size, and a plan
                // kept from when a table was small scanned it whole once
                // it had grown (docs/benchmarks.md). Its text is short
                // whatever the count, so parsing it each time costs little.
                self.fixed = false;
                format!("= ANY({})", self.array(kind, values.iter().copied()))
            }
        }
    }

    /// The rows an INSERT takes: `values` holds them one after another,
    /// `kinds.len()` values each, the columns' kinds in order (a value
    /// may be NULL). `VALUES (?1, ?2), (?3, ?4)` on SQLite; `SELECT * FROM
    /// unnest(?1::int8[], ?2::text[])` on PostgreSQL, one array per column
    /// (unnest yields them in order, so a sequence numbers them in order).
    pub fn rows(&mut self, kinds: &[Kind], values: &[Param<'_>]) -> String {
        self.rows_sharing(kinds, values, &[])
    }

    /// [`Many::rows`] whose every row ends with the same `shared` values,
    /// each bound once: `VALUES (?2, ?1), (?3, ?1)` on SQLite, `SELECT *,
    /// ?1::text FROM unnest(?2::int8[])` on PostgreSQL.
    pub fn rows_sharing(
        &mut self,
        kinds: &[Kind],
        values: &[Param<'_>],
        shared: &[(Kind, Param<'_>)],
    ) -> String {
        let width = kinds.len().max(1);
        let shared: Vec<String> = shared
            .iter()
            .map(|(kind, v)| match self.backend {
                Backend::Sqlite => self.one(*v),
                Backend::Postgres => format!("{}::{}", self.one(*v), kind.scalar()),
            })
            .collect();
        match self.backend {
            Backend::Sqlite => {
                self.fixed &= values.len() == width;
                let rows: Vec<String> = values
                    .chunks(width)
                    .map(|row| {
                        let marks: Vec<String> =
                            row.iter().map(|v| self.one(*v)).chain(shared.iter().cloned()).collect();
                        format!("({})", marks.join(", "))
                    })
                    .collect();
                format!("VALUES {}", rows.join(", "))
            }
            Backend::Postgres => {
                let columns: Vec<String> = kinds
                    .iter()
                    .enumerate()
                    .map(|(c, kind)| self.array(*kind, values.iter().skip(c).step_by(width).copied()))
                    .collect();
                let selected: Vec<String> = std::iter::once("*".to_owned()).chain(shared).collect();
                format!("SELECT {} FROM unnest({})", selected.join(", "), columns.join(", "))
            }
        }
    }

    /// One array parameter of `kind` holding `values`: its placeholder,
    /// cast so the statement's text says its type.
    fn array<'a>(&mut self, kind: Kind, values: impl Iterator<Item = Param<'a>>) -> String {
        self.params.push(Owned::List(kind, values.map(Owned::of).collect()));
        format!("?{}::{}", self.params.len(), kind.array())
    }

    /// The statement whose text is `sql`, made of the parts above. On
    /// PostgreSQL one with no look-up list (rows to insert) keeps its plan
    /// too: it does not depend on the tables' sizes.
    pub fn statement(self, sql: String) -> Statement {
        let keeps_plan = self.fixed && self.backend == Backend::Postgres;
        Statement::with_params(sql, self.params, self.fixed, keeps_plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::numbered;

    /// A statement for `backend` matching a column against `n` ids.
    fn among(backend: Backend, n: i64) -> Statement {
        let mut m = Many::new(backend);
        let ids: Vec<Param<'_>> = (0..n).map(Param::Int).collect();
        let among = m.among(Kind::Int, &ids);
        m.statement(among)
    }

    #[test]
    fn sqlite_takes_a_placeholder_per_value_numbered_in_order() {
        let mut m = Many::new(Backend::Sqlite);
        let first = m.one(Param::Text("k"));
        let among = m.among(Kind::Int, &[Param::Int(1), Param::Int(2)]);
        let rows =
            m.rows(&[Kind::Int, Kind::Text], &[Param::Int(3), Param::Null, Param::Int(4), Param::Text("b")]);
        assert_eq!((first.as_str(), among.as_str()), ("?1", "IN (?2, ?3)"));
        assert_eq!(rows, "VALUES (?4, ?5), (?6, ?7)");
        assert_eq!(Many::new(Backend::Sqlite).among(Kind::Int, &[]), "IN (NULL)");
        assert_eq!(numbered(&rows), "VALUES ($4, $5), ($6, $7)");
    }

    #[test]
    fn postgres_takes_an_array_per_list_or_column_whatever_the_count() {
        let text = |n: i64| {
            let mut m = Many::new(Backend::Postgres);
            let ids: Vec<Param<'_>> = (0..n).map(Param::Int).collect();
            let among = m.among(Kind::Int, &ids);
            let rows: Vec<Param<'_>> = (0..n).flat_map(|i| [Param::Int(i), Param::Null]).collect();
            let rows = m.rows(&[Kind::Int, Kind::Blob], &rows);
            m.statement(format!("{among} {rows}")).sql
        };
        assert_eq!(text(1), "= ANY(?1::int8[]) SELECT * FROM unnest(?2::int8[], ?3::bytea[])");
        assert_eq!(text(0), text(31));
        for n in [0, 1, 31] {
            let lookup = among(Backend::Postgres, n);
            assert!(!lookup.is_kept() && !lookup.keeps_plan(), "a look-up is planned for its values");
        }
        let insert = |n: i64| {
            let mut m = Many::new(Backend::Postgres);
            let rows: Vec<Param<'_>> = (0..n).map(Param::Int).collect();
            let rows = m.rows(&[Kind::Int], &rows);
            m.statement(rows)
        };
        assert!(insert(31).keeps_plan() && insert(1).keeps_plan());
        assert_eq!(insert(1).sql, insert(31).sql);
    }

    #[test]
    fn values_every_row_shares_are_bound_once() {
        let rows = |backend: Backend, n: i64| {
            let mut m = Many::new(backend);
            let ids: Vec<Param<'_>> = (0..n).map(Param::Int).collect();
            let rows = m.rows_sharing(
                &[Kind::Int],
                &ids,
                &[(Kind::Text, Param::Text("k")), (Kind::Int, Param::Int(7))],
            );
            let statement = m.statement(rows);
            (statement.sql.clone(), statement.params().len())
        };
        assert_eq!(rows(Backend::Sqlite, 2), ("VALUES (?3, ?1, ?2), (?4, ?1, ?2)".to_owned(), 4));
        assert_eq!(
            rows(Backend::Postgres, 2),
            ("SELECT *, ?1::text, ?2::int8 FROM unnest(?3::int8[])".to_owned(), 3)
        );
        assert_eq!(rows(Backend::Postgres, 2).0, rows(Backend::Postgres, 40).0);
    }

    #[test]
    fn sqlite_keeps_only_the_one_value_shape_prepared() {
        for n in [0, 1, 2] {
            let statement = among(Backend::Sqlite, n);
            assert!(!statement.keeps_plan(), "only PostgreSQL keeps plans");
            assert_eq!(statement.is_kept(), n == 1, "{n} values");
        }
    }
}
