//! Writing both formats, with the escaping each one defines.

use std::fmt::Write as _;

use crate::escape::{escape_help, escape_quoted};
use crate::family::MetricFamily;
use crate::lexer::{is_legacy_label_name, is_legacy_metric_name};
use crate::number::write_float;
use crate::record::{Label, MetricType, Record, Sample};
use crate::{Format, Timestamp};

/// Writes records as text (0.0.4) or OpenMetrics into a `String`.
///
/// Names that are not `[a-zA-Z_:][a-zA-Z0-9_:]*` (label names: no `:`) are written quoted, in
/// the Prometheus 3 syntax. What a format cannot carry is left out: UNIT lines and exemplars
/// in the text format, free comments in OpenMetrics.
///
/// ```
/// use ipocket_expfmt::{Encoder, Format, Labels, MetricType, Sample};
///
/// let mut enc = Encoder::new(Format::Text);
/// enc.help("ipam_ip_total", "IP assets in the inventory.");
/// enc.metric_type("ipam_ip_total", MetricType::Gauge);
/// let labels: Labels = [("project", "core \"dc1\"")].into_iter().collect();
/// enc.sample(&Sample::new("ipam_ip_total", labels, 42.0));
/// let expected = [
///     "# HELP ipam_ip_total IP assets in the inventory.",
///     "# TYPE ipam_ip_total gauge",
///     r#"ipam_ip_total{project="core \"dc1\""} 42"#,
/// ];
/// assert_eq!(enc.finish(), expected.join("\n") + "\n");
/// ```
#[derive(Debug, Clone)]
pub struct Encoder {
    out: String,
    format: Format,
    eof_written: bool,
}

impl Encoder {
    /// An encoder for `format`.
    pub fn new(format: Format) -> Encoder {
        Encoder {
            out: String::new(),
            format,
            eof_written: false,
        }
    }

    /// The output so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The output, with `# EOF` added for OpenMetrics.
    pub fn finish(mut self) -> String {
        if self.format == Format::OpenMetrics && !self.eof_written {
            self.out.push_str("# EOF\n");
        }
        self.out
    }

    /// `# HELP name text`.
    pub fn help(&mut self, name: &str, text: &str) {
        self.out.push_str("# HELP ");
        self.metadata_name(name);
        if self.format == Format::OpenMetrics || !text.is_empty() {
            self.out.push(' ');
            escape_help(&mut self.out, text, self.format);
        }
        self.out.push('\n');
    }

    /// `# TYPE name type`.
    pub fn metric_type(&mut self, name: &str, metric_type: MetricType) {
        self.out.push_str("# TYPE ");
        self.metadata_name(name);
        self.out.push(' ');
        self.out.push_str(metric_type.as_str(self.format));
        self.out.push('\n');
    }

    /// `# UNIT name unit` (OpenMetrics only; the text format has no units).
    pub fn unit(&mut self, name: &str, unit: &str) {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# UNIT ");
            self.metadata_name(name);
            self.out.push(' ');
            self.out.push_str(unit);
            self.out.push('\n');
        }
    }

    /// A `#` comment line per line of `text` (text format only).
    pub fn comment(&mut self, text: &str) {
        if self.format == Format::Text {
            for line in text.split('\n') {
                self.out.push('#');
                self.out.push_str(line);
                self.out.push('\n');
            }
        }
    }

    /// One sample line.
    pub fn sample(&mut self, s: &Sample<'_>) {
        self.series(&s.name, &s.labels);
        self.out.push(' ');
        write_float(&mut self.out, s.value);
        if let Some(ts) = s.timestamp {
            self.timestamp(ts);
        }
        if let (Some(e), Format::OpenMetrics) = (&s.exemplar, self.format) {
            self.out.push_str(" # {");
            self.labels(&e.labels);
            self.out.push_str("} ");
            write_float(&mut self.out, e.value);
            if let Some(ts) = e.timestamp {
                self.timestamp(ts);
            }
        }
        self.out.push('\n');
    }

    /// Any record.
    pub fn record(&mut self, r: &Record<'_>) {
        match r {
            Record::Help { name, text } => self.help(name, text),
            Record::Type { name, metric_type } => self.metric_type(name, *metric_type),
            Record::Unit { name, unit } => self.unit(name, unit),
            Record::Comment(c) => self.comment(c),
            Record::Sample(s) => self.sample(s),
            Record::Eof => {
                if self.format == Format::OpenMetrics && !self.eof_written {
                    self.out.push_str("# EOF\n");
                    self.eof_written = true;
                }
            }
        }
    }

    /// A whole family: HELP, TYPE, UNIT (those it has) and its samples.
    pub fn family(&mut self, f: &MetricFamily<'_>) {
        if let Some(help) = &f.help {
            self.help(&f.name, help);
        }
        if f.metric_type != MetricType::Unknown {
            self.metric_type(&f.name, f.metric_type);
        }
        if let Some(unit) = &f.unit {
            self.unit(&f.name, unit);
        }
        for s in &f.samples {
            self.sample(s);
        }
    }

    fn metadata_name(&mut self, name: &str) {
        if is_legacy_metric_name(name) {
            self.out.push_str(name);
        } else {
            self.quoted(name);
        }
    }

    fn quoted(&mut self, s: &str) {
        self.out.push('"');
        escape_quoted(&mut self.out, s);
        self.out.push('"');
    }

    fn series(&mut self, name: &str, labels: &[Label<'_>]) {
        if is_legacy_metric_name(name) {
            self.out.push_str(name);
            if !labels.is_empty() {
                self.out.push('{');
                self.labels(labels);
                self.out.push('}');
            }
        } else {
            self.out.push('{');
            self.quoted(name);
            if !labels.is_empty() {
                self.out.push(',');
                self.labels(labels);
            }
            self.out.push('}');
        }
    }

    fn labels(&mut self, labels: &[Label<'_>]) {
        for (i, l) in labels.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            if is_legacy_label_name(&l.name) {
                self.out.push_str(&l.name);
            } else {
                self.quoted(&l.name);
            }
            self.out.push('=');
            self.quoted(&l.value);
        }
    }

    /// Text: integer milliseconds. OpenMetrics: exact decimal seconds.
    /// ` timestamp`: exact decimal seconds in OpenMetrics; in the text format milliseconds
    /// rounded down, and nothing when they are beyond int64 (the format cannot carry them).
    fn timestamp(&mut self, ts: Timestamp) {
        match self.format {
            Format::Text => {
                if let Some(ms) = ts.as_millis() {
                    let _ = write!(self.out, " {ms}");
                }
            }
            Format::OpenMetrics => {
                let _ = write!(self.out, " {ts}");
            }
        }
    }
}

/// Encodes records in `format` (adding `# EOF` for OpenMetrics when missing).
pub fn encode<'r, 'a: 'r>(
    records: impl IntoIterator<Item = &'r Record<'a>>,
    format: Format,
) -> String {
    let mut enc = Encoder::new(format);
    for r in records {
        enc.record(r);
    }
    enc.finish()
}

/// Encodes metric families in `format`.
pub fn encode_families(families: &[MetricFamily<'_>], format: Format) -> String {
    let mut enc = Encoder::new(format);
    for f in families {
        enc.family(f);
    }
    enc.finish()
}
