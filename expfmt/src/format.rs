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
