//! One way for a store to run SQL on either backend: the [`Sql`] trait, implemented by a
//! SQLite connection (or transaction) and by a PostgreSQL client (or transaction).
//!
//! A store writes its statements once, in the dialect both backends share (placeholders
//! `?1`, `?2`, … as rusqlite's; `INSERT … RETURNING id`, `ON CONFLICT … DO …`), binds
//! [`Arg`]s and reads [`Row`]s of [`Cell`]s. On PostgreSQL `?N` becomes `$N` (outside
//! quotes) and statements are prepared once per connection. Where the dialects really
//! differ, the store branches on [`Sql::backend`].
//!
//! ```
//! use ipocket_db::Sql;
//! let conn = rusqlite::Connection::open_in_memory()?;
//! let db: &dyn Sql = &conn;
//! db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)", &[])?;
//! let id: i64 = db.query_one("INSERT INTO t (name) VALUES (?1) RETURNING id", &[&"a"])?.get(0)?;
//! let name: Option<String> = db.query_opt("SELECT name FROM t WHERE id = ?1", &[&id])?.map(|r| r.get(0)).transpose()?;
//! assert_eq!(name.as_deref(), Some("a"));
//! let e = db.execute("INSERT INTO t (name) VALUES (?1)", &[&"a"]).unwrap_err();
//! assert!(e.is_unique_violation());
//! # Ok::<(), ipocket_db::Error>(())
//! ```

use std::ops::ControlFlow;

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::{Error, Result};
use crate::url::Backend;

/// A value bound to a placeholder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// SQL NULL.
    Null,
    /// An integer (booleans are 0 and 1, as both schemas store them).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// A Rust value that binds as an [`Arg`].
pub trait ToArg {
    /// The value to bind.
    fn to_arg(&self) -> Arg<'_>;
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg<'_> {
                Arg::Int(i64::from(*self))
            }
        }
    )*};
}
int_arg!(i64, i32, u32, u16, u8, bool);

impl ToArg for f64 {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Real(*self)
    }
}
impl ToArg for str {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl ToArg for String {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl ToArg for [u8] {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}
impl ToArg for Vec<u8> {
    fn to_arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}
impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg<'_> {
        (**self).to_arg()
    }
}
impl<T: ToArg> ToArg for Option<T> {
    fn to_arg(&self) -> Arg<'_> {
        self.as_ref().map_or(Arg::Null, ToArg::to_arg)
    }
}
/// An owned value, for statements whose arguments are built at run time.
impl ToArg for rusqlite::types::Value {
    fn to_arg(&self) -> Arg<'_> {
        use rusqlite::types::Value;
        match self {
            Value::Null => Arg::Null,
            Value::Integer(i) => Arg::Int(*i),
            Value::Real(f) => Arg::Real(*f),
            Value::Text(t) => Arg::Text(t),
            Value::Blob(b) => Arg::Blob(b),
        }
    }
}
impl ToArg for Arg<'_> {
    fn to_arg(&self) -> Arg<'_> {
        *self
    }
}

/// A value read from one database, bound as it is into another (a copy between backends).
impl ToArg for Cell {
    fn to_arg(&self) -> Arg<'_> {
        match self {
            Cell::Null => Arg::Null,
            Cell::Int(i) => Arg::Int(*i),
            Cell::Real(f) => Arg::Real(*f),
            Cell::Text(t) => Arg::Text(t),
            Cell::Blob(b) => Arg::Blob(b),
        }
    }
}

/// One value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (or a PostgreSQL boolean, as 0 / 1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Cell {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "NULL",
            Cell::Int(_) => "an integer",
            Cell::Real(_) => "a real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "bytes",
        }
    }
}

/// A Rust value read from a [`Cell`].
pub trait FromCell: Sized {
    /// The value, or `None` when the cell holds another type.
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell>;
    /// What the type expects, for the error.
    const EXPECTED: &'static str;
}

impl FromCell for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Int(i) => Ok(i),
            other => Err(other),
        }
    }
}
impl FromCell for u32 {
    const EXPECTED: &'static str = "an integer from 0 to 4294967295";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Int(i) => u32::try_from(i).map_err(|_| Cell::Int(i)),
            other => Err(other),
        }
    }
}
impl FromCell for bool {
    const EXPECTED: &'static str = "a boolean (0 or 1)";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Int(i) => Ok(i != 0),
            other => Err(other),
        }
    }
}
impl FromCell for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Real(f) => Ok(f),
            Cell::Int(i) => Ok(i as f64),
            other => Err(other),
        }
    }
}
impl FromCell for String {
    const EXPECTED: &'static str = "text";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Text(s) => Ok(s),
            other => Err(other),
        }
    }
}
impl FromCell for Vec<u8> {
    const EXPECTED: &'static str = "bytes";
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Blob(b) => Ok(b),
            other => Err(other),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_cell(cell: Cell) -> std::result::Result<Self, Cell> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

impl Row {
    /// Column `index` (from 0) as `T`; [`Error::Decode`] when it holds another type.
    pub fn get<T: FromCell>(&self, index: usize) -> Result<T> {
        let cell = self.0.get(index).cloned().ok_or_else(|| {
            Error::Decode(format!(
                "column {index} asked of a row of {} columns",
                self.0.len()
            ))
        })?;
        T::from_cell(cell).map_err(|found| {
            Error::Decode(format!(
                "column {index}: expected {}, found {}",
                T::EXPECTED,
                found.kind()
            ))
        })
    }
}

/// A connection or transaction on either backend. Every method runs one statement.
pub trait Sql {
    /// Which backend this runs on (for the few statements whose dialects differ).
    fn backend(&self) -> Backend;

    /// Every row `sql` returns.
    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>>;

    /// Runs `sql`; the number of rows it changed.
    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64>;

    /// Runs `insert` (an `INSERT` of one row, written without `RETURNING`); the new row's
    /// id: `RETURNING id` on PostgreSQL, `last_insert_rowid()` on SQLite, where
    /// `RETURNING` makes every insert keep a statement journal (an import of 100,000 rows
    /// takes twice as long).
    fn insert_id(&self, insert: &str, args: &[&dyn ToArg]) -> Result<i64> {
        self.query_one(&format!("{insert} RETURNING id"), args)?
            .get(0)
    }

    /// Calls `f` with each row `sql` returns, until it breaks. SQLite steps through the
    /// rows one at a time (memory stays flat however many there are); PostgreSQL reads
    /// them all first, except in a snapshot ([`crate::Database::snapshot`]), which
    /// fetches them a few hundred at a time.
    fn for_each_row(
        &self,
        sql: &str,
        args: &[&dyn ToArg],
        f: &mut dyn FnMut(Row) -> ControlFlow<()>,
    ) -> Result<()> {
        for row in self.query(sql, args)? {
            if f(row).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Loads `rows` with `copy_sql` (`COPY t (a, b) FROM STDIN`); the number of rows
    /// loaded. PostgreSQL's bulk load: a caller branches on [`Sql::backend`], as SQLite has
    /// no `COPY` (there it is an error).
    fn copy_in(&self, copy_sql: &str, rows: CopyRows) -> Result<u64> {
        let _ = rows;
        Err(Error::Decode(format!(
            "{copy_sql}: COPY is PostgreSQL's; SQLite inserts row by row"
        )))
    }

    /// Whether table `name` exists.
    fn has_table(&self, name: &str) -> Result<bool> {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            Backend::Postgres => "SELECT 1 WHERE to_regclass(?1) IS NOT NULL",
        };
        Ok(self.query_opt(sql, &[&name])?.is_some())
    }

    /// The first row, if any.
    fn query_opt(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row; [`Error::Decode`] when there is none.
    fn query_one(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Row> {
        self.query_opt(sql, args)?
            .ok_or_else(|| Error::Decode(format!("no row returned by {sql}")))
    }
}

/// Rows for [`Sql::copy_in`], in `COPY`'s text format: one line a row, values separated by
/// tabs, NULL as `\N`, bytes as `\x` hex.
///
/// ```
/// let mut rows = ipocket_db::CopyRows::default();
/// rows.push(&[&1i64, &"a\tb", &None::<String>, &vec![0u8, 255]]);
/// assert_eq!(rows.len(), 1);
/// assert_eq!(rows.as_bytes(), b"1\ta\\tb\t\\N\t\\\\x00ff\n");
/// ```
#[derive(Debug, Default, Clone)]
pub struct CopyRows {
    data: Vec<u8>,
    rows: usize,
}

impl CopyRows {
    /// Appends one row.
    pub fn push(&mut self, values: &[&dyn ToArg]) {
        use std::io::Write;
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.data.push(b'\t');
            }
            match v.to_arg() {
                Arg::Null => self.data.extend_from_slice(b"\\N"),
                Arg::Int(n) => write!(self.data, "{n}").expect("writing to a Vec"),
                Arg::Real(f) => write!(self.data, "{f:?}").expect("writing to a Vec"),
                Arg::Text(t) => {
                    for b in t.bytes() {
                        match b {
                            b'\\' => self.data.extend_from_slice(b"\\\\"),
                            b'\t' => self.data.extend_from_slice(b"\\t"),
                            b'\n' => self.data.extend_from_slice(b"\\n"),
                            b'\r' => self.data.extend_from_slice(b"\\r"),
                            b => self.data.push(b),
                        }
                    }
                }
                Arg::Blob(b) => {
                    self.data.extend_from_slice(b"\\\\x");
                    for byte in b {
                        write!(self.data, "{byte:02x}").expect("writing to a Vec");
                    }
                }
            }
        }
        self.data.push(b'\n');
        self.rows += 1;
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The encoded rows.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.data
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Null => ValueRef::Null,
            Arg::Int(i) => ValueRef::Integer(i),
            Arg::Real(f) => ValueRef::Real(f),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn sqlite_cell(v: ValueRef<'_>) -> Result<Cell> {
    Ok(match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) => Cell::Text(
            std::str::from_utf8(t)
                .map_err(|e| Error::Decode(format!("text is not UTF-8: {e}")))?
                .to_owned(),
        ),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    })
}

/// Prepares (cached) and binds `args` by position.
fn sqlite_bind<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[&dyn ToArg],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    if stmt.parameter_count() != args.len() {
        return Err(
            rusqlite::Error::InvalidParameterCount(args.len(), stmt.parameter_count()).into(),
        );
    }
    for (i, a) in args.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, a.to_arg())?;
    }
    Ok(stmt)
}

/// A connection (and, through `Deref`, a `rusqlite::Transaction`).
impl Sql for rusqlite::Connection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.for_each_row(sql, args, &mut |r| {
            out.push(r);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    fn for_each_row(
        &self,
        sql: &str,
        args: &[&dyn ToArg],
        f: &mut dyn FnMut(Row) -> ControlFlow<()>,
    ) -> Result<()> {
        let mut stmt = sqlite_bind(self, sql, args)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let cells = (0..n)
                .map(|i| sqlite_cell(r.get_ref(i)?))
                .collect::<Result<Vec<_>>>()?;
            if f(Row(cells)).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64> {
        let mut stmt = sqlite_bind(self, sql, args)?;
        // raw_execute refuses a statement that returns rows (INSERT … RETURNING): step it.
        if stmt.column_count() > 0 {
            let mut rows = stmt.raw_query();
            while rows.next()?.is_some() {}
            drop(rows);
            return Ok(self.changes());
        }
        Ok(stmt.raw_execute()? as u64)
    }

    fn insert_id(&self, insert: &str, args: &[&dyn ToArg]) -> Result<i64> {
        Sql::execute(self, insert, args)?;
        Ok(self.last_insert_rowid())
    }
}

/// A SQLite transaction runs statements on its connection.
impl Sql for rusqlite::Transaction<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>> {
        (**self).query(sql, args)
    }

    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64> {
        Sql::execute(&**self, sql, args)
    }

    fn insert_id(&self, insert: &str, args: &[&dyn ToArg]) -> Result<i64> {
        (**self).insert_id(insert, args)
    }

    fn for_each_row(
        &self,
        sql: &str,
        args: &[&dyn ToArg],
        f: &mut dyn FnMut(Row) -> ControlFlow<()>,
    ) -> Result<()> {
        (**self).for_each_row(sql, args, f)
    }
}

/// `?N` (and bare `?`) placeholders as PostgreSQL's `$N`, leaving string literals, quoted
/// identifiers and comments alone.
///
/// ```
/// assert_eq!(ipocket_db::to_pg_placeholders("a = ?1 AND b = '?2' AND c = ?"), "a = $1 AND b = '?2' AND c = $2");
/// ```
pub fn to_pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => next + 1,
                };
                next = next.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_convert_or_say_what_they_hold() {
        let row = Row(vec![Cell::Int(1), Cell::Null, Cell::Text("x".into())]);
        assert!(row.get::<bool>(0).unwrap());
        assert_eq!(row.get::<Option<i64>>(1).unwrap(), None);
        let e = row.get::<i64>(2).unwrap_err().to_string();
        assert!(
            e.contains("column 2: expected an integer, found text"),
            "{e}"
        );
        assert!(row.get::<i64>(3).is_err());
    }

    #[test]
    fn placeholders() {
        assert_eq!(
            to_pg_placeholders("x = ?2 -- ?9\n AND y = \"a?\" AND z = ?1"),
            "x = $2 -- ?9\n AND y = \"a?\" AND z = $1"
        );
    }

    #[test]
    fn sqlite_insert_id_is_the_new_rowid() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Deferred)
                .unwrap();
        let db: &dyn Sql = &tx;
        assert_eq!(
            db.insert_id("INSERT INTO t (v) VALUES (?1)", &[&"a"])
                .unwrap(),
            1
        );
        assert_eq!(
            db.insert_id("INSERT INTO t (id, v) VALUES (7, ?1)", &[&"b"])
                .unwrap(),
            7
        );
        assert!(db
            .insert_id("INSERT INTO t (id) VALUES (7)", &[])
            .unwrap_err()
            .is_unique_violation());
    }

    #[test]
    fn sqlite_counts_changes_of_returning_statements() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &dyn Sql = &conn;
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", &[])
            .unwrap();
        assert_eq!(
            db.execute("INSERT INTO t (id) VALUES (1), (2) RETURNING id", &[])
                .unwrap(),
            2
        );
        let e = db.execute("DELETE FROM t WHERE id = ?1", &[]).unwrap_err();
        assert!(e.to_string().contains("parameter"), "{e}");
    }
}
