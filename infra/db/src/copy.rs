//! Copying one database into another, SQLite → PostgreSQL or back (`ipocket copy`): every
//! table of the components, each row with its keys, in one transaction on the target.
//!
//! The tables, their columns, primary keys and foreign keys are read from each database's
//! own catalog, so a table a migration adds is copied without being listed here; the two
//! must agree (same versions, same tables and columns) or nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use crate::database::Database;
use crate::error::{Error, Result};
use crate::registry::Component;
use crate::sql::{Cell, Row, Sql, ToArg};
use crate::url::Backend;

/// The advisory lock a copy's transaction holds on a PostgreSQL target.
const COPY_LOCK: i64 = 0x6970_636f_7079;

/// Rows read from the source at a time, unless told otherwise: memory stays flat however
/// large a table is.
pub const COPY_BATCH_ROWS: usize = 1000;

/// Arguments one `INSERT` binds at most (SQLite's historic limit, well under PostgreSQL's).
const MAX_ARGS: usize = 999;

/// One copied table and its row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    /// The table.
    pub table: String,
    /// Rows copied.
    pub rows: u64,
}

/// Copies every row of every table of `from` into `to`.
///
/// Both must hold `components` at the same versions (migrate the target first) and the
/// same tables and columns; the target must hold no rows (its migration record aside).
/// Tables go in foreign-key order, rows keep their primary keys, the source is read in
/// batches of `batch_rows` from one snapshot, and the target is written in one
/// transaction: on any error nothing is left in it. Every id sequence of the target ends
/// past the copied ids (and past the source's own high-water mark, so ids of deleted rows
/// are not handed out again). `on_table` hears of each table once it is copied.
pub fn copy_database(
    from: &Database,
    to: &Database,
    components: &[&'static Component],
    batch_rows: usize,
    on_table: &mut dyn FnMut(&CopiedTable),
) -> Result<Vec<CopiedTable>> {
    let batch_rows = batch_rows.max(1);
    for c in components {
        let (have, want) = (from.recorded_version(c.name)?, to.recorded_version(c.name)?);
        if have != want {
            return Err(Error::CopyRefused(format!(
                "{} is at schema version {have} in the source and {want} in the target; \
                 migrate both with this build (`ipocket migrate`)",
                c.name
            )));
        }
    }
    from.snapshot(|src| {
        let source = tables_of(src)?;
        to.write(COPY_LOCK, |dst| {
            let target = tables_of(dst)?;
            same_tables(&source, &target)?;
            refuse_rows(dst, &target)?;
            let mut copied = Vec::new();
            for name in foreign_key_order(&target)? {
                let (s, t) = (&source[&name], &target[&name]);
                let rows = copy_rows(src, dst, t, batch_rows).map_err(|e| in_table(&name, e))?;
                continue_sequence(src, s, dst, t).map_err(|e| in_table(&name, e))?;
                let table = CopiedTable { table: name, rows };
                on_table(&table);
                copied.push(table);
            }
            Ok(copied)
        })
    })
}

fn in_table(table: &str, e: Error) -> Error {
    Error::CopyTable {
        table: table.to_string(),
        source: Box::new(e),
    }
}

/// A table as its database's catalog describes it.
#[derive(Debug)]
struct Table {
    name: String,
    /// In the table's order.
    columns: Vec<String>,
    /// The primary key's columns, in the key's order.
    key: Vec<String>,
    /// Tables its foreign keys reference.
    parents: BTreeSet<String>,
    /// The column a sequence numbers: PostgreSQL's identity column, SQLite's
    /// `AUTOINCREMENT` key.
    sequenced: Option<String>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn texts(c: &dyn Sql, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<String>> {
    c.query(sql, args)?.iter().map(|r| r.get(0)).collect()
}

/// Every table but the migration record (each database keeps its own).
fn tables_of(c: &dyn Sql) -> Result<BTreeMap<String, Table>> {
    let mut out = BTreeMap::new();
    match c.backend() {
        Backend::Sqlite => {
            let rows = c.query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations'",
                &[],
            )?;
            for r in rows {
                let (name, sql): (String, String) = (r.get(0)?, r.get(1)?);
                let mut columns = Vec::new();
                let mut key = Vec::new();
                for col in c.query(
                    "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid",
                    &[&name],
                )? {
                    let column: String = col.get(0)?;
                    let pk: i64 = col.get(1)?;
                    if pk > 0 {
                        key.push((pk, column.clone()));
                    }
                    columns.push(column);
                }
                key.sort();
                let key: Vec<String> = key.into_iter().map(|(_, k)| k).collect();
                let parents = texts(
                    c,
                    "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)",
                    &[&name],
                )?
                .into_iter()
                .collect();
                let sequenced = (sql.to_ascii_uppercase().contains("AUTOINCREMENT")
                    && key.len() == 1)
                    .then(|| key[0].clone());
                let t = Table {
                    name: name.clone(),
                    columns,
                    key,
                    parents,
                    sequenced,
                };
                out.insert(name, t);
            }
        }
        Backend::Postgres => {
            let names = texts(
                c,
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 AND c.relname <> 'schema_migrations'",
                &[],
            )?;
            for name in names {
                let mut columns = Vec::new();
                let mut sequenced = None;
                for col in c.query(
                    "SELECT attname::text, attidentity::text FROM pg_attribute \
                     WHERE attrelid = to_regclass(?1) AND attnum > 0 AND NOT attisdropped \
                     ORDER BY attnum",
                    &[&quote(&name)],
                )? {
                    let column: String = col.get(0)?;
                    if !col.get::<String>(1)?.is_empty() {
                        sequenced = Some(column.clone());
                    }
                    columns.push(column);
                }
                let key = texts(
                    c,
                    "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
                     ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                     WHERE i.indrelid = to_regclass(?1) AND i.indisprimary \
                     ORDER BY array_position(i.indkey::int2[], a.attnum)",
                    &[&quote(&name)],
                )?;
                let parents = texts(
                    c,
                    "SELECT DISTINCT f.relname::text FROM pg_constraint k \
                     JOIN pg_class f ON f.oid = k.confrelid \
                     WHERE k.conrelid = to_regclass(?1) AND k.contype = 'f'",
                    &[&quote(&name)],
                )?
                .into_iter()
                .collect();
                let t = Table {
                    name: name.clone(),
                    columns,
                    key,
                    parents,
                    sequenced,
                };
                out.insert(name, t);
            }
        }
    }
    Ok(out)
}

/// The same tables with the same columns on both sides, or what differs.
fn same_tables(source: &BTreeMap<String, Table>, target: &BTreeMap<String, Table>) -> Result<()> {
    let mut diffs = Vec::new();
    for name in source.keys().filter(|n| !target.contains_key(*n)) {
        diffs.push(format!("table {name} is only in the source"));
    }
    for name in target.keys().filter(|n| !source.contains_key(*n)) {
        diffs.push(format!("table {name} is only in the target"));
    }
    for (name, t) in target {
        let Some(s) = source.get(name) else { continue };
        let (sc, tc): (BTreeSet<_>, BTreeSet<_>) =
            (s.columns.iter().collect(), t.columns.iter().collect());
        for col in sc.difference(&tc) {
            diffs.push(format!("column {name}.{col} is only in the source"));
        }
        for col in tc.difference(&sc) {
            diffs.push(format!("column {name}.{col} is only in the target"));
        }
        if t.key.is_empty() {
            diffs.push(format!(
                "table {name} has no primary key to copy it in batches by"
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(Error::CopyRefused(format!(
            "the two databases' tables differ: {}",
            diffs.join("; ")
        )))
    }
}

/// Refuses a target that holds rows, naming the tables.
fn refuse_rows(c: &dyn Sql, tables: &BTreeMap<String, Table>) -> Result<()> {
    let mut full = Vec::new();
    for name in tables.keys() {
        let q = quote(name);
        if c.query_opt(&format!("SELECT 1 FROM {q} LIMIT 1"), &[])?
            .is_some()
        {
            let n: i64 = c
                .query_one(&format!("SELECT count(*) FROM {q}"), &[])?
                .get(0)?;
            full.push(format!("{name} ({n} rows)"));
        }
    }
    if full.is_empty() {
        Ok(())
    } else {
        Err(Error::CopyRefused(format!(
            "the target is not empty: {}; copy into a new, empty database",
            full.join(", ")
        )))
    }
}

/// Parents before children (a table's reference to itself aside), ties by name.
fn foreign_key_order(tables: &BTreeMap<String, Table>) -> Result<Vec<String>> {
    let mut order = Vec::with_capacity(tables.len());
    let mut placed = BTreeSet::new();
    while order.len() < tables.len() {
        let ready: Vec<&String> = tables
            .values()
            .filter(|t| !placed.contains(&t.name))
            .filter(|t| {
                t.parents
                    .iter()
                    .all(|p| *p == t.name || placed.contains(p) || !tables.contains_key(p))
            })
            .map(|t| &t.name)
            .collect();
        if ready.is_empty() {
            let left: Vec<&String> = tables.keys().filter(|n| !placed.contains(*n)).collect();
            return Err(Error::CopyRefused(format!(
                "the foreign keys of {left:?} form a cycle; no table order can copy them"
            )));
        }
        for name in ready {
            placed.insert(name.clone());
            order.push(name.clone());
        }
    }
    Ok(order)
}

/// Copies `t`'s rows in primary-key order, `batch` at a time (keyset: each batch starts
/// after the last key of the one before); the number copied.
fn copy_rows(src: &dyn Sql, dst: &dyn Sql, t: &Table, batch: usize) -> Result<u64> {
    let table = quote(&t.name);
    let columns = t
        .columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let key = t
        .key
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let key_at: Vec<usize> = t
        .key
        .iter()
        .map(|k| {
            t.columns
                .iter()
                .position(|c| c == k)
                .expect("a key is a column")
        })
        .collect();
    let after = if key_at.len() == 1 {
        format!("{key} > ?1")
    } else {
        let args: Vec<String> = (1..=key_at.len()).map(|i| format!("?{i}")).collect();
        format!("({key}) > ({})", args.join(", "))
    };
    let first = format!("SELECT {columns} FROM {table} ORDER BY {key} LIMIT {batch}");
    let next = format!("SELECT {columns} FROM {table} WHERE {after} ORDER BY {key} LIMIT {batch}");
    let per_insert = (MAX_ARGS / t.columns.len().max(1)).max(1);
    let mut last: Option<Vec<Cell>> = None;
    let mut copied = 0u64;
    loop {
        let rows = match &last {
            None => src.query(&first, &[])?,
            Some(k) => src.query(
                &next,
                &k.iter().map(|c| c as &dyn ToArg).collect::<Vec<_>>(),
            )?,
        };
        for chunk in rows.chunks(per_insert) {
            insert_rows(dst, &table, &columns, t.columns.len(), chunk)?;
        }
        copied += rows.len() as u64;
        match rows.last() {
            Some(row) if rows.len() == batch => {
                last = Some(key_at.iter().map(|&i| row.0[i].clone()).collect());
            }
            _ => return Ok(copied),
        }
    }
}

/// One multi-row `INSERT` of `rows`.
fn insert_rows(
    dst: &dyn Sql,
    table: &str,
    columns: &str,
    width: usize,
    rows: &[Row],
) -> Result<()> {
    let mut n = 0;
    let values: Vec<String> = rows
        .iter()
        .map(|_| {
            let one: Vec<String> = (0..width)
                .map(|_| {
                    n += 1;
                    format!("?{n}")
                })
                .collect();
            format!("({})", one.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        values.join(", ")
    );
    let args: Vec<&dyn ToArg> = rows
        .iter()
        .flat_map(|r| r.0.iter().map(|c| c as &dyn ToArg))
        .collect();
    dst.execute(&sql, &args)?;
    Ok(())
}

/// The last id the source's sequence of `t` handed out (`None`: none, or no sequence).
fn high_water(c: &dyn Sql, t: &Table) -> Result<Option<i64>> {
    let Some(col) = &t.sequenced else {
        return Ok(None);
    };
    match c.backend() {
        Backend::Sqlite => Ok(c
            .query_opt(
                "SELECT seq FROM sqlite_sequence WHERE name = ?1",
                &[&t.name],
            )?
            .map(|r| r.get(0))
            .transpose()?),
        Backend::Postgres => c
            .query_one(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(?1, ?2)::regclass)",
                &[&quote(&t.name), col],
            )?
            .get(0),
    }
}

/// Sets the target's sequence of `t` past the copied ids and the source's high-water mark.
fn continue_sequence(src: &dyn Sql, s: &Table, dst: &dyn Sql, t: &Table) -> Result<()> {
    let Some(col) = &t.sequenced else {
        return Ok(());
    };
    let source_mark = high_water(src, s)?;
    match dst.backend() {
        Backend::Postgres => {
            let max: Option<i64> = dst
                .query_one(
                    &format!("SELECT max({}) FROM {}", quote(col), quote(&t.name)),
                    &[],
                )?
                .get(0)?;
            if let Some(last) = max.max(source_mark) {
                dst.query_one(
                    "SELECT setval(pg_get_serial_sequence(?1, ?2)::regclass, ?3)",
                    &[&quote(&t.name), col, &last],
                )?;
            }
        }
        // The copied ids moved it already; a higher mark of the source is kept too.
        Backend::Sqlite => {
            if let Some(mark) = source_mark {
                let moved = dst.execute(
                    "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1 AND seq < ?2",
                    &[&t.name, &mark],
                )?;
                if moved == 0 {
                    dst.execute(
                        "INSERT INTO sqlite_sequence (name, seq) SELECT ?1, ?2 \
                         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)",
                        &[&t.name, &mark],
                    )?;
                }
            }
        }
    }
    Ok(())
}
