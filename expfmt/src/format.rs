//! Which of the two exposition formats an input is in.

use std::fmt;

/// An exposition format this crate reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text exposition format 0.0.4 (and its 1.0.0 variant with quoted UTF-8 names).
    #[default]
    Text,
    /// OpenMetrics 1.0 text format (quoted UTF-8 names accepted as in Prometheus 3).
    OpenMetrics,
}

/// A Content-Type that names neither exposition format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported Content-Type {0:?}: expected text/plain or application/openmetrics-text")]
pub struct UnsupportedContentType(pub String);

impl ipocket_errors::Classify for UnsupportedContentType {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        ipocket_errors::ErrorKind::Invalid
    }
}

impl Format {
    /// Chooses the format from an HTTP `Content-Type` header value.
    ///
    /// `application/openmetrics-text` is OpenMetrics; `text/plain` (any version) is the text
    /// format. A blank header also means the text format, as Prometheus 2.x treats it; anything
    /// else (JSON, protobuf) is an error.
    ///
    /// ```
    /// use ipocket_expfmt::Format;
    /// let f = Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8");
    /// assert_eq!(f, Ok(Format::OpenMetrics));
    /// assert_eq!(Format::from_content_type("text/plain; version=0.0.4"), Ok(Format::Text));
    /// assert!(Format::from_content_type("application/json").is_err());
    /// ```
    pub fn from_content_type(content_type: &str) -> Result<Format, UnsupportedContentType> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.is_empty() || media.eq_ignore_ascii_case("text/plain") {
            Ok(Format::Text)
        } else if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Ok(Format::OpenMetrics)
        } else {
            Err(UnsupportedContentType(content_type.to_owned()))
        }
    }

    /// Chooses the format to answer a scrape with from its HTTP `Accept` header: OpenMetrics
    /// when `application/openmetrics-text` is preferred (a higher `q` than `text/plain` and
    /// the wildcards, or the same `q` and listed first), the text format otherwise — as for
    /// a missing or blank header.
    ///
    /// ```
    /// use ipocket_expfmt::Format;
    /// // What Prometheus 2.x sends.
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(Format::from_accept(prometheus), Format::OpenMetrics);
    /// assert_eq!(Format::from_accept("text/plain;q=0.9, application/openmetrics-text;q=0.5"), Format::Text);
    /// assert_eq!(Format::from_accept("application/openmetrics-text;q=0"), Format::Text);
    /// assert_eq!(Format::from_accept("*/*"), Format::Text);
    /// assert_eq!(Format::from_accept(""), Format::Text);
    /// ```
    pub fn from_accept(accept: &str) -> Format {
        // (q, position) of the best entry naming each format.
        let mut open_metrics: Option<(f32, usize)> = None;
        let mut text: Option<(f32, usize)> = None;
        for (i, range) in accept.split(',').enumerate() {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| v.trim().parse::<f32>().unwrap_or(0.0));
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut open_metrics,
                "text/plain" | "text/*" | "*/*" => &mut text,
                _ => continue,
            };
            if slot.is_none_or(|(best, _)| q > best) {
                *slot = Some((q, i));
            }
        }
        match (open_metrics, text) {
            (Some((q, _)), _) if q <= 0.0 => Format::Text,
            (Some(_), None) => Format::OpenMetrics,
            (Some((om_q, om_i)), Some((t_q, t_i))) if om_q > t_q || (om_q == t_q && om_i < t_i) => {
                Format::OpenMetrics
            }
            _ => Format::Text,
        }
    }

    /// The Content-Type to send with output in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Text => "text",
            Format::OpenMetrics => "openmetrics",
        })
    }
}
