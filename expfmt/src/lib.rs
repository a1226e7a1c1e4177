//! A zero-copy parser and an encoder for the Prometheus text exposition format (0.0.4, with
//! Prometheus 3's quoted UTF-8 names) and OpenMetrics 1.0.
//!
//! - [`Parser`] is an iterator of [`Record`]s over a byte buffer. Names and label values borrow
//!   from the input and allocate only when they contain escapes. Every error is a
//!   [`ParseError`] with line, column and the offending line quoted; [`Mode::Lenient`] reports
//!   bad lines and goes on.
//! - [`Families`] / [`parse_families`] group samples into [`MetricFamily`]s.
//! - [`Encoder`] writes both formats with correct escaping.
//!
//! ```
//! use ipocket_expfmt::{parse_families, encode_families, Format};
//!
//! let text = "# HELP up Target is up.\n# TYPE up gauge\nup{instance=\"10.0.0.1:9100\"} 1\n";
//! let families = parse_families(text.as_bytes(), Format::Text)?;
//! assert_eq!(families[0].samples[0].labels.get("instance"), Some("10.0.0.1:9100"));
//! assert_eq!(encode_families(&families, Format::Text), text);
//! # Ok::<(), ipocket_expfmt::ParseError>(())
//! ```
//!
//! The rules, format by format, are listed in `docs/expfmt.md`.

// `unsafe` only in `simd.rs` (SSE2 class scans), which allows it for itself.
#![deny(unsafe_code)]

mod closed;
mod encode;
mod error;
mod escape;
mod family;
mod format;
mod lexer;
mod number;
mod parser;
mod record;
mod scan;
mod series_key;
mod series_table;
mod simd;
mod timestamp;
mod validate;
mod visit;

pub use encode::{encode, encode_families, Encoder};
pub use error::{ErrorKind, ParseError};
pub use escape::{escape_help, escape_quoted};
pub use family::{parse_families, Families, MetricFamily};
pub use format::{Format, UnsupportedContentType};
pub use lexer::{is_legacy_label_name, is_legacy_metric_name};
pub use number::{write_canonical_float, write_float};
pub use parser::{parse, parse_lenient, FamilyInfo, Mode, Parser};
pub use record::{Exemplar, Label, Labels, MetricType, Record, Sample};
pub use timestamp::Timestamp;
pub use visit::parse_all;

/// The user guide, `docs/expfmt.md`, whose examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/expfmt.md")]
pub struct UserGuide;
