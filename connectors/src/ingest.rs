//! `POST /metrics/prometheus?server_id=…` as a function.

use std::fmt::Write as _;

use ipocket_expfmt::{Format, Label, MetricType, Mode, Parser, Record, Sample, Timestamp};
use serde::Serialize;

use crate::error::IngestError;
use crate::sample_insert::{NewSample, SampleInserter};
use crate::store::{now_ms, SampleStore};

/// At most this many parse errors are returned as warnings (the count is always exact).
pub const MAX_WARNINGS: usize = 100;

/// Limits and policy of the ingest path.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest body accepted, in bytes (default 16 MiB; a node_exporter scrape is ~60–150 KB).
    pub max_body_bytes: usize,
    /// Refuse server ids that are not in the registry (default `true`, as the original did).
    pub require_registered: bool,
    /// Most labels one sample may carry (default 64; node_exporter's samples have at most 8).
    /// A push with a sample over it is refused whole, as Prometheus' `label_limit` fails a
    /// scrape.
    pub max_labels: usize,
    /// Longest label name, in bytes (default 256).
    pub max_label_name_bytes: usize,
    /// Longest label value, and metric name, in bytes (default 2048).
    pub max_label_value_bytes: usize,
    /// How far ahead of the server's clock a sample's own timestamp may be, in ms (default
    /// 10 minutes). A later one would outlive retention and win "latest" for ever, so the
    /// push is refused whole, as Prometheus' remote-write receiver refuses out-of-bounds
    /// samples.
    pub max_future_skew_ms: i64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_body_bytes: 16 << 20,
            require_registered: true,
            max_labels: 64,
            max_label_name_bytes: 256,
            max_label_value_bytes: 2048,
            max_future_skew_ms: 600_000,
        }
    }
}

impl IngestOptions {
    /// Checks one sample (read from `line`) against the label limits and the future skew.
    fn check_sample(&self, s: &Sample<'_>, line: u32, now_ms: i64) -> Result<(), IngestError> {
        let refuse = |label: Option<&str>, reason: String| IngestError::SampleLimit {
            line,
            metric: shortened(&s.name),
            label: label.map(shortened),
            reason,
        };
        if s.labels.len() > self.max_labels {
            return Err(refuse(
                None,
                format!(
                    "{} labels, more than the limit of {}",
                    s.labels.len(),
                    self.max_labels
                ),
            ));
        }
        if s.name.len() > self.max_label_value_bytes {
            return Err(refuse(
                Some("__name__"),
                format!(
                    "a metric name of {} bytes, longer than the limit of {}",
                    s.name.len(),
                    self.max_label_value_bytes
                ),
            ));
        }
        for l in s.labels.iter() {
            if l.name.len() > self.max_label_name_bytes {
                return Err(refuse(
                    Some(&l.name),
                    format!(
                        "a label name of {} bytes, longer than the limit of {}",
                        l.name.len(),
                        self.max_label_name_bytes
                    ),
                ));
            }
            if l.value.len() > self.max_label_value_bytes {
                return Err(refuse(
                    Some(&l.name),
                    format!(
                        "a label value of {} bytes, longer than the limit of {}",
                        l.value.len(),
                        self.max_label_value_bytes
                    ),
                ));
            }
        }
        match s.timestamp.map(Timestamp::as_millis_clamped) {
            Some(ts) if ts > now_ms.saturating_add(self.max_future_skew_ms) => {
                Err(IngestError::FutureTimestamp {
                    line,
                    metric: shortened(&s.name),
                    timestamp_ms: ts,
                    now_ms,
                    max_skew_ms: self.max_future_skew_ms,
                })
            }
            _ => Ok(()),
        }
    }
}

/// A name as an error message quotes it: at most 100 characters (the limits are about names
/// that may be far longer).
fn shortened(s: &str) -> String {
    match s.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// One push, as the HTTP layer hands it over.
#[derive(Debug, Clone, Copy)]
pub struct IngestRequest<'a> {
    /// The `server_id` query parameter, if any (see [`server_id_from_query`]).
    pub server_id: Option<&'a str>,
    /// The `Content-Type` header, if any (none means the text format).
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// The success answer: `{"status":"success","metrics_received":N,...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestResponse {
    /// Always `"success"`.
    pub status: &'static str,
    /// Samples stored.
    pub metrics_received: usize,
    /// The server the samples were stored for.
    pub server_id: String,
    /// `text` or `openmetrics`.
    pub format: String,
    /// Lines that did not parse and were skipped.
    pub rejected_lines: usize,
    /// The first [`MAX_WARNINGS`] parse errors, located (`line 12, column 5: ...`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Parses the body leniently and stores every good sample of one push in one transaction.
///
/// Each sample line is one row: the name as exposed (so `_bucket`/`_sum`/`_count` rows of a
/// histogram keep their names), the family's type, HELP and UNIT, the labels as canonical JSON
/// (keys sorted), the value (NaN as NULL) and the sample's own timestamp, or `now_ms` when the
/// line has none. Bad lines are skipped and reported in `warnings`; if no sample at all is
/// good, nothing is stored and the answer is [`IngestError::Unparsable`]. A sample over a
/// limit of `opts` (labels, name and value lengths, timestamp too far ahead) refuses the
/// whole push: nothing is stored.
///
/// ```
/// use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
/// let dir = tempfile::tempdir()?;
/// let mut store = SampleStore::open(dir.path().join("s.db"))?;
/// store.register_server("web-01", None)?;
/// let body = b"# TYPE up gauge\nup 1\nbad line\n";
/// let req = IngestRequest { server_id: Some("web-01"), content_type: Some("text/plain; version=0.0.4"), body };
/// let resp = ingest(&mut store, &req, &IngestOptions::default(), 1_700_000_000_000)?;
/// assert_eq!(resp.metrics_received, 1);
/// assert_eq!(resp.rejected_lines, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn ingest(
    store: &mut SampleStore,
    req: &IngestRequest<'_>,
    opts: &IngestOptions,
    now_ms: i64,
) -> Result<IngestResponse, IngestError> {
    let server_id = req.server_id.ok_or(IngestError::MissingServerId)?;
    if server_id.is_empty() {
        return Err(IngestError::MissingServerId);
    }
    if !SampleStore::valid_server_id(server_id) {
        return Err(IngestError::InvalidServerId(server_id.to_string()));
    }
    if req.body.len() > opts.max_body_bytes {
        return Err(IngestError::BodyTooLarge {
            size: req.body.len(),
            limit: opts.max_body_bytes,
        });
    }
    if req.body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::EmptyBody);
    }
    let format = Format::from_content_type(req.content_type.unwrap_or(""))?;
    if opts.require_registered && !store.is_registered(server_id)? {
        return Err(IngestError::UnknownServer(server_id.to_string()));
    }

    // One transaction per push; an error below (a refused sample, no good sample at all)
    // rolls it back, so nothing of the push is stored.
    let (stored, rejected, warnings) = store.db.write(
        SampleStore::push_lock(server_id),
        |tx| -> Result<_, IngestError> {
            let counts = insert_samples(tx, server_id, req.body, format, opts, now_ms)?;
            if counts.0 == 0 {
                return Err(IngestError::Unparsable { errors: counts.2 });
            }
            tx.execute(
                "UPDATE servers SET last_seen_at = ?2 WHERE server_id = ?1",
                &[&server_id, &now_ms],
            )?;
            Ok(counts)
        },
    )?;
    Ok(IngestResponse {
        status: "success",
        metrics_received: stored,
        server_id: server_id.to_string(),
        format: format.to_string(),
        rejected_lines: rejected,
        warnings,
    })
}

/// Parses `body` and inserts every good sample for `server_id` through `tx`: (samples
/// stored, lines rejected, the first [`MAX_WARNINGS`] parse errors). A sample over a limit
/// of `opts` is an error (the caller rolls the push back).
fn insert_samples(
    tx: &dyn ipocket_db::Sql,
    server_id: &str,
    body: &[u8],
    format: Format,
    opts: &IngestOptions,
    now_ms: i64,
) -> Result<(usize, usize, Vec<String>), IngestError> {
    let mut stored = 0usize;
    let mut rejected = 0usize;
    let mut warnings = Vec::new();
    let mut insert = SampleInserter::new(tx, server_id);
    let mut parser = Parser::new(body, format).with_mode(Mode::Lenient);
    let mut help: Option<(String, String)> = None;
    let mut labels_json = String::with_capacity(256);
    let mut order: Vec<usize> = Vec::with_capacity(16);
    while let Some(item) = parser.next() {
        let sample = match item {
            Ok(Record::Sample(s)) => {
                opts.check_sample(&s, parser.line(), now_ms)?;
                s
            }
            Ok(Record::Help { name, text }) => {
                help = Some((name.into_owned(), text.into_owned()));
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                rejected += 1;
                if warnings.len() < MAX_WARNINGS {
                    warnings.push(e.to_string());
                }
                continue;
            }
        };
        let (type_name, unit, help_text) = match parser.current_family() {
            Some(f) => (
                type_name(f.metric_type),
                f.unit.map(|u| u.as_ref()).filter(|u| !u.is_empty()),
                help.as_ref()
                    .filter(|(n, _)| n.as_str() == f.name.as_ref())
                    .map(|(_, t)| t.as_str()),
            ),
            None => ("untyped", None, None),
        };
        let labels = &sample.labels;
        order.clear();
        order.extend(0..labels.len());
        order.sort_unstable_by(|&a, &b| labels[a].name.cmp(&labels[b].name));
        write_labels_json(order.iter().map(|&i| &labels[i]), &mut labels_json);
        insert.push(NewSample {
            name: sample.name.as_ref(),
            metric_type: type_name,
            labels: &labels_json,
            value: (!sample.value.is_nan()).then_some(sample.value),
            timestamp_ms: sample
                .timestamp
                .map_or(now_ms, Timestamp::as_millis_clamped),
            help: help_text,
            unit,
        })?;
        stored += 1;
    }
    insert.finish()?;
    Ok((stored, rejected, warnings))
}

/// [`ingest`] with the current wall-clock time for samples without a timestamp.
pub fn ingest_now(
    store: &mut SampleStore,
    req: &IngestRequest<'_>,
    opts: &IngestOptions,
) -> Result<IngestResponse, IngestError> {
    ingest(store, req, opts, now_ms())
}

/// One push answered as a plain HTTP adapter answers it: the `server_id` from the query
/// string, the body (or `Err(limit)` when it was longer than `limit` bytes) stored with
/// [`ingest_now`]. Returns the status and the JSON body (the response, or
/// [`IngestError::to_json`]).
pub fn answer_push(
    store: &mut SampleStore,
    query: Option<&str>,
    content_type: Option<&str>,
    body: Result<&[u8], usize>,
    opts: &IngestOptions,
) -> (u16, String) {
    let server_id = query.and_then(server_id_from_query);
    let result = body
        .map_err(|limit| IngestError::BodyTooLarge {
            size: limit + 1,
            limit,
        })
        .and_then(|body| {
            let r = IngestRequest {
                server_id: server_id.as_deref(),
                content_type,
                body,
            };
            ingest_now(store, &r, opts)
        });
    match result {
        Ok(resp) => (200, serde_json::to_string(&resp).unwrap_or_default()),
        Err(e) => (e.status(), e.to_json().to_string()),
    }
}

fn type_name(t: MetricType) -> &'static str {
    match t {
        MetricType::Unknown => "untyped",
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Histogram => "histogram",
        MetricType::GaugeHistogram => "gaugehistogram",
        MetricType::Summary => "summary",
        MetricType::Info => "info",
        MetricType::StateSet => "stateset",
    }
}

/// Writes `{"name":"value",...}` for labels already sorted by name, JSON-escaped, into `out`.
///
/// ```
/// use ipocket_expfmt::Label;
/// let (a, b) = (Label::new("cpu", "0"), Label::new("mode", "id\"le"));
/// let mut out = String::new();
/// ipocket_connectors::ingest::canonical_labels_json(&[&a, &b], &mut out);
/// assert_eq!(out, r#"{"cpu":"0","mode":"id\"le"}"#);
/// ```
pub fn canonical_labels_json(sorted: &[&Label<'_>], out: &mut String) {
    write_labels_json(sorted.iter().copied(), out);
}

fn write_labels_json<'l, 'a: 'l>(sorted: impl Iterator<Item = &'l Label<'a>>, out: &mut String) {
    out.clear();
    out.push('{');
    for (i, l) in sorted.enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(&l.name, out);
        out.push(':');
        json_string(&l.value, out);
    }
    out.push('}');
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// The `server_id` parameter of a URL query string (`a=1&server_id=web-01`), percent-decoded.
///
/// ```
/// use ipocket_connectors::ingest::server_id_from_query;
/// assert_eq!(server_id_from_query("x=1&server_id=web-01").as_deref(), Some("web-01"));
/// assert_eq!(server_id_from_query("server_id=a%2Db").as_deref(), Some("a-b"));
/// assert_eq!(server_id_from_query("x=1"), None);
/// ```
pub fn server_id_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == "server_id").then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 3) {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
