//! The rows of one push, inserted into `metric_samples` several at a time: on PostgreSQL
//! every statement is a round trip, so a node_exporter push of 507 samples takes 8
//! multi-row statements rather than 507; on SQLite fewer statements cost less CPU too.
//! Full batches use the largest statement; the rest goes in power-of-two parts, so a
//! connection prepares a handful of statements at most.

use std::ops::Range;
use std::sync::OnceLock;

use ipocket_db::{Arg, Backend, Sql, ToArg};

/// Rows per statement (a power of two). PostgreSQL: as many as fit comfortably (256 rows ×
/// 8 columns = 2,048 parameters, far below its 65,535), each statement being a round trip.
/// SQLite: 32, measured with the ingest bench (CPU time per 3,000 pushes: 1 row 4.2 s,
/// 8 rows 3.6 s, 32 rows 3.1–3.4 s, 128 or 256 rows 3.2–3.5 s).
fn batch_rows(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 32,
        Backend::Postgres => MAX_BATCH,
    }
}

const MAX_BATCH: usize = 256;
const COLUMNS: usize = 8;

/// `INSERT … VALUES (?1, …, ?8), (?9, …)` of `2^k` rows, for every `k` up to `MAX_BATCH`.
fn insert_statement(rows: usize) -> &'static str {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    let all = STATEMENTS.get_or_init(|| {
        std::iter::successors(Some(1usize), |n| (*n < MAX_BATCH).then_some(n * 2))
            .map(|n| {
                let mut sql = String::from(
                    "INSERT INTO metric_samples (server_id, metric_name, metric_type, labels, \
                     value, timestamp, help_text, unit) VALUES ",
                );
                for row in 0..n {
                    if row > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for col in 0..COLUMNS {
                        if col > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("?{}", row * COLUMNS + col + 1));
                    }
                    sql.push(')');
                }
                sql
            })
            .collect()
    });
    &all[rows.trailing_zeros() as usize]
}

/// One sample of a push, as [`SampleInserter::push`] takes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewSample<'a> {
    pub name: &'a str,
    pub metric_type: &'static str,
    /// Canonical labels JSON.
    pub labels: &'a str,
    /// `None` for NaN (SQLite cannot store it; PostgreSQL stores it the same way).
    pub value: Option<f64>,
    pub timestamp_ms: i64,
    pub help: Option<&'a str>,
    pub unit: Option<&'a str>,
}

/// A row waiting for its statement: its text lives in the inserter's one buffer.
struct PendingRow {
    name: Range<usize>,
    metric_type: &'static str,
    labels: Range<usize>,
    value: Option<f64>,
    timestamp_ms: i64,
    help: Option<Range<usize>>,
    unit: Option<Range<usize>>,
}

/// Inserts the samples of one server in a transaction, a batch at a time. Call
/// [`SampleInserter::finish`]: rows still waiting are not written otherwise.
pub(crate) struct SampleInserter<'t> {
    tx: &'t dyn Sql,
    server_id: &'t str,
    batch: usize,
    /// The text of the waiting rows, back to back (no allocation per row).
    text: String,
    rows: Vec<PendingRow>,
}

impl<'t> SampleInserter<'t> {
    pub(crate) fn new(tx: &'t dyn Sql, server_id: &'t str) -> Self {
        let batch = batch_rows(tx.backend());
        SampleInserter {
            tx,
            server_id,
            batch,
            text: String::with_capacity(batch * 128),
            rows: Vec::with_capacity(batch),
        }
    }

    fn keep(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    /// Adds one sample; writes a batch when one is full.
    pub(crate) fn push(&mut self, s: NewSample<'_>) -> ipocket_db::Result<()> {
        let row = PendingRow {
            name: self.keep(s.name),
            metric_type: s.metric_type,
            labels: self.keep(s.labels),
            value: s.value,
            timestamp_ms: s.timestamp_ms,
            help: s.help.map(|h| self.keep(h)),
            unit: s.unit.map(|u| self.keep(u)),
        };
        self.rows.push(row);
        if self.rows.len() == self.batch {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows still waiting.
    pub(crate) fn finish(mut self) -> ipocket_db::Result<()> {
        self.flush()
    }

    fn flush(&mut self) -> ipocket_db::Result<()> {
        let text = self.text.as_str();
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(self.rows.len().min(self.batch) * COLUMNS);
        let mut rest = &self.rows[..];
        while !rest.is_empty() {
            // The largest power of two that fits: few distinct statements per connection.
            let n = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
            let (part, tail) = rest.split_at(n);
            args.clear();
            for r in part {
                let sample = NewSample {
                    name: &text[r.name.clone()],
                    metric_type: r.metric_type,
                    labels: &text[r.labels.clone()],
                    value: r.value,
                    timestamp_ms: r.timestamp_ms,
                    help: r.help.clone().map(|h| &text[h]),
                    unit: r.unit.clone().map(|u| &text[u]),
                };
                args.extend(row_args(self.server_id, &sample));
            }
            let refs: Vec<&dyn ToArg> = args.iter().map(|a| a as &dyn ToArg).collect();
            self.tx.execute(insert_statement(n), &refs)?;
            rest = tail;
        }
        self.rows.clear();
        self.text.clear();
        Ok(())
    }
}

/// The values of one row, in the statement's column order.
fn row_args<'a>(server_id: &'a str, s: &NewSample<'a>) -> [Arg<'a>; COLUMNS] {
    [
        Arg::Text(server_id),
        Arg::Text(s.name),
        Arg::Text(s.metric_type),
        Arg::Text(s.labels),
        s.value.map_or(Arg::Null, Arg::Real),
        Arg::Int(s.timestamp_ms),
        s.help.map_or(Arg::Null, Arg::Text),
        s.unit.map_or(Arg::Null, Arg::Text),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_placeholders_row_by_row() {
        assert!(insert_statement(1).ends_with("VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
        let two = insert_statement(2);
        assert!(
            two.ends_with("(?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"),
            "{two}"
        );
        assert!(insert_statement(MAX_BATCH).contains(&format!("?{}", MAX_BATCH * COLUMNS)));
    }

    #[test]
    fn every_row_is_written_whatever_the_batch_size() {
        let conn = ipocket_db::open_in_memory(&[&crate::SAMPLES_SCHEMA]).unwrap();
        for (count, batch) in [(0, 4), (1, 4), (7, 4), (8, 4), (3, 1), (507, MAX_BATCH)] {
            conn.execute_batch("DELETE FROM metric_samples").unwrap();
            let mut ins = SampleInserter::new(&conn, "n1");
            ins.batch = batch;
            for i in 0..count {
                let labels = format!("{{\"i\":\"{i}\"}}");
                ins.push(NewSample {
                    name: "m",
                    metric_type: "gauge",
                    labels: &labels,
                    value: (i % 3 != 0).then_some(i as f64),
                    timestamp_ms: i,
                    help: (i % 2 == 0).then_some("help"),
                    unit: None,
                })
                .unwrap();
            }
            ins.finish().unwrap();
            let (n, sum, helps): (i64, Option<i64>, i64) = conn
                .query_row(
                    "SELECT count(*), sum(timestamp), count(help_text) FROM metric_samples \
                     WHERE labels = '{\"i\":\"' || timestamp || '\"}' AND server_id = 'n1' \
                     AND (value IS NULL) = (timestamp % 3 = 0)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(n, count, "{count} rows in batches of {batch}");
            assert_eq!(sum.unwrap_or(0), count * (count - 1).max(0) / 2);
            assert_eq!(helps, (count + 1) / 2);
        }
    }
}
