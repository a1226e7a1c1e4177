//! Error types of the ingest path and the samples store.

/// A failure of the samples store or the connector jobs store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Opening or migrating the file failed (a newer ipocket wrote it, or a step failed).
    #[error("{0}")]
    Schema(ipocket_db::Error),
    /// The database failed otherwise (PostgreSQL, its pool, a value of an unexpected type).
    #[error("{0}")]
    Database(ipocket_db::Error),
    /// A server id that does not match `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$` (1–64 chars).
    #[error("invalid server_id {0:?}: expected 1-64 letters, digits and inner hyphens")]
    InvalidServerId(String),
}

impl From<ipocket_db::Error> for StoreError {
    fn from(e: ipocket_db::Error) -> Self {
        match e {
            ipocket_db::Error::Sqlite(e) => StoreError::Sqlite(e),
            e @ (ipocket_db::Error::TooNew { .. }
            | ipocket_db::Error::Behind { .. }
            | ipocket_db::Error::Step { .. }
            | ipocket_db::Error::PgStep { .. }) => StoreError::Schema(e),
            other => StoreError::Database(other),
        }
    }
}

impl ipocket_errors::Classify for StoreError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        match self {
            StoreError::Sqlite(_) | StoreError::Schema(_) | StoreError::Database(_) => {
                ipocket_errors::ErrorKind::Internal
            }
            StoreError::InvalidServerId(_) => ipocket_errors::ErrorKind::Invalid,
        }
    }
}

/// Why a push was refused. [`IngestError::status`] gives the HTTP status the server answers
/// with and [`IngestError::to_json`] the body; nothing is stored when an error is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// No `server_id` query parameter (400).
    #[error("server_id query parameter is required")]
    MissingServerId,
    /// A `server_id` that is not 1–64 letters, digits and inner hyphens (400).
    #[error("invalid server_id format: {0:?} (expected 1-64 letters, digits and inner hyphens, e.g. a UUID)")]
    InvalidServerId(String),
    /// A well-formed id that is not in the servers registry (403).
    #[error("unknown server_id {0:?}: register the server first")]
    UnknownServer(String),
    /// The body is empty (400).
    #[error("empty request body: expected Prometheus text or OpenMetrics")]
    EmptyBody,
    /// The body is larger than [`IngestOptions::max_body_bytes`](crate::IngestOptions) (413).
    #[error("request body of {size} bytes is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// Bytes received (or announced).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A Content-Type that is neither `text/plain` nor `application/openmetrics-text` (415).
    #[error(transparent)]
    UnsupportedContentType(#[from] ipocket_expfmt::UnsupportedContentType),
    /// Not one sample could be read (400). `errors` are the first parse errors, located.
    #[error("failed to parse Prometheus metrics: no valid sample{}", first_error(.errors))]
    Unparsable {
        /// The parse errors (at most [`MAX_WARNINGS`](crate::ingest::MAX_WARNINGS)).
        errors: Vec<String>,
    },
    /// A sample over a label limit of [`IngestOptions`](crate::IngestOptions) (422): too
    /// many labels, a name or value too long. Nothing is stored.
    #[error("line {line}: sample {metric:?} has {reason}{}", label_note(.label))]
    SampleLimit {
        /// 1-based line of the sample.
        line: u32,
        /// The sample's name (shortened past 100 characters).
        metric: String,
        /// The label at fault (`__name__` for the metric name), if one is.
        label: Option<String>,
        /// What is over which limit.
        reason: String,
    },
    /// A sample whose timestamp is further ahead of the server's clock than
    /// [`IngestOptions::max_future_skew_ms`](crate::IngestOptions) (422). Nothing is stored.
    #[error("line {line}: sample {metric:?} has timestamp {timestamp_ms} ms, more than {} s ahead of the server's clock ({now_ms} ms)", max_skew_ms / 1000)]
    FutureTimestamp {
        /// 1-based line of the sample.
        line: u32,
        /// The sample's name (shortened past 100 characters).
        metric: String,
        /// The sample's timestamp (ms since the epoch).
        timestamp_ms: i64,
        /// The server's clock when the push arrived.
        now_ms: i64,
        /// The allowed skew.
        max_skew_ms: i64,
    },
    /// The store failed (500).
    #[error("storage failed: {0}")]
    Storage(#[from] StoreError),
}

impl From<ipocket_db::Error> for IngestError {
    fn from(e: ipocket_db::Error) -> Self {
        IngestError::Storage(e.into())
    }
}

fn label_note(label: &Option<String>) -> String {
    match label {
        Some(l) => format!(" (label {l:?})"),
        None => String::new(),
    }
}

fn first_error(errors: &[String]) -> String {
    match errors.first() {
        Some(e) => format!(" ({e})"),
        None => " (the body holds no sample lines)".to_string(),
    }
}

impl ipocket_errors::Classify for IngestError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        use ipocket_errors::ErrorKind as K;
        match self {
            IngestError::MissingServerId
            | IngestError::InvalidServerId(_)
            | IngestError::EmptyBody
            | IngestError::UnsupportedContentType(_)
            | IngestError::Unparsable { .. }
            | IngestError::SampleLimit { .. }
            | IngestError::FutureTimestamp { .. } => K::Invalid,
            IngestError::UnknownServer(_) => K::Forbidden,
            IngestError::BodyTooLarge { .. } => K::TooLarge,
            IngestError::Storage(e) => e.kind(),
        }
    }
}

impl IngestError {
    /// The HTTP status code for this error.
    ///
    /// ```
    /// use ipocket_connectors::IngestError;
    /// assert_eq!(IngestError::EmptyBody.status(), 400);
    /// assert_eq!(IngestError::UnknownServer("a1".into()).status(), 403);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            IngestError::MissingServerId
            | IngestError::InvalidServerId(_)
            | IngestError::EmptyBody
            | IngestError::Unparsable { .. } => 400,
            IngestError::UnknownServer(_) => 403,
            IngestError::BodyTooLarge { .. } => 413,
            IngestError::UnsupportedContentType(_) => 415,
            IngestError::SampleLimit { .. } | IngestError::FutureTimestamp { .. } => 422,
            IngestError::Storage(_) => 500,
        }
    }

    /// The JSON body: `{"error": "..."}`, plus `"details"`: the parse errors, or where a
    /// refused sample is.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "error": self.to_string() });
        let details = self.details();
        if !details.is_null() {
            v["details"] = details;
        }
        v
    }

    /// The located details: the parse errors (a list), or `{"line", "metric", "label"}` of a
    /// refused sample; `null` for the others.
    ///
    /// ```
    /// use ipocket_connectors::{ingest, IngestOptions, IngestRequest, SampleStore};
    /// let dir = tempfile::tempdir()?;
    /// let mut store = SampleStore::open(dir.path().join("s.db"))?;
    /// store.register_server("web-01", None)?;
    /// let body = b"up 1\nup{a=\"1\",b=\"2\"} 1\n";
    /// let req = IngestRequest { server_id: Some("web-01"), content_type: None, body };
    /// let opts = IngestOptions { max_labels: 1, ..IngestOptions::default() };
    /// let e = ingest(&mut store, &req, &opts, 0).unwrap_err();
    /// assert_eq!(e.status(), 422);
    /// assert_eq!(e.details()["line"], 2);
    /// assert_eq!(store.count(None)?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            IngestError::Unparsable { errors } => json!(errors),
            IngestError::SampleLimit {
                line,
                metric,
                label,
                ..
            } => json!({"line": line, "metric": metric, "label": label}),
            IngestError::FutureTimestamp {
                line,
                metric,
                timestamp_ms,
                now_ms,
                max_skew_ms,
            } => json!({"line": line, "metric": metric, "timestamp_ms": timestamp_ms,
                        "now_ms": now_ms, "max_future_skew_ms": max_skew_ms}),
            _ => serde_json::Value::Null,
        }
    }

    /// Whether a sender should give this payload up instead of retrying it (every 4xx).
    pub fn is_permanent(&self) -> bool {
        (400..500).contains(&self.status())
    }
}
