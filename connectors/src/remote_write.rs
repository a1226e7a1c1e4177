//! Prometheus remote-write 1.0: a `prometheus.WriteRequest` encoded by hand (protobuf wire
//! format, field numbers of the spec), compressed with the snappy **block** format, sent with
//! the required headers; retried on 5xx, 429 and connection errors, never on other 4xx.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use hyper::body::Bytes;
use hyper::{Method, Uri};

use ipocket_expfmt::{Format, Mode, Parser, Record, Timestamp};
use ipocket_http::{HttpClient, HttpError};

/// The NaN Prometheus uses for an ordinary NaN value (never the stale marker `0x7ff0000000000002`).
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// What can go wrong building or sending a write request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteWriteError {
    /// The receiver URL is not `http(s)://host[:port]/path`.
    #[error("invalid remote_write URL {0:?}")]
    InvalidUrl(String),
    /// A series repeats a label name.
    #[error("label name {0:?} is not unique in a series")]
    DuplicateLabel(String),
    /// A label with an empty name.
    #[error("empty label name in a series")]
    EmptyLabelName,
    /// The TLS set-up (CA file, system roots) failed.
    #[error("remote_write TLS setup: {0}")]
    Tls(String),
    /// Snappy compression failed.
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
    /// The receiver refused the data for good (a 4xx other than 429): do not send it again.
    #[error("receiver rejected the write with HTTP {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// A 5xx or 429 answer, still failing after the retries.
    #[error("receiver answered HTTP {status} (retryable) after all retries: {body}")]
    Retryable {
        /// HTTP status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// No answer (connection refused, reset, timeout).
    #[error("remote_write transport error: {0}")]
    Transport(String),
}

impl RemoteWriteError {
    fn retryable(&self) -> bool {
        matches!(
            self,
            RemoteWriteError::Retryable { .. } | RemoteWriteError::Transport(_)
        )
    }
}

/// One series: its complete label set (with `__name__`) and samples in timestamp order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    /// Labels sorted by name, unique, no empty name or value.
    pub labels: Vec<(String, String)>,
    /// `(value, timestamp in ms)`.
    pub samples: Vec<(f64, i64)>,
}

impl TimeSeries {
    /// A series from a metric name and labels: adds `__name__`, drops empty values, sorts by
    /// name and refuses empty or repeated names.
    ///
    /// ```
    /// use ipocket_connectors::remote_write::TimeSeries;
    /// let s = TimeSeries::new("up", [("job", "node"), ("a", ""), ("instance", "10.0.0.1:9100")], vec![(1.0, 1000)])?;
    /// let names: Vec<_> = s.labels.iter().map(|l| l.0.as_str()).collect();
    /// assert_eq!(names, ["__name__", "instance", "job"]);
    /// assert!(TimeSeries::new("up", [("a", "1"), ("a", "2")], vec![]).is_err());
    /// # Ok::<(), ipocket_connectors::remote_write::RemoteWriteError>(())
    /// ```
    pub fn new<'a>(
        name: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        samples: Vec<(f64, i64)>,
    ) -> Result<TimeSeries, RemoteWriteError> {
        let mut out = vec![("__name__".to_string(), name.to_string())];
        for (n, v) in labels {
            if n.is_empty() {
                return Err(RemoteWriteError::EmptyLabelName);
            }
            if !v.is_empty() {
                out.push((n.to_string(), v.to_string()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(RemoteWriteError::DuplicateLabel(w[0].0.clone()));
        }
        Ok(TimeSeries {
            labels: out,
            samples,
        })
    }
}

/// A remote-write 1.0 `prometheus.WriteRequest` (samples only).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteRequest {
    /// The series.
    pub timeseries: Vec<TimeSeries>,
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn len_field(field: u32, payload: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

impl WriteRequest {
    /// Every sample line of an exposition as a series of its own, stamped `default_ts_ms`
    /// when the line has no timestamp, with `extra_labels` added (they win over the payload's).
    /// Bad lines are skipped and returned as messages.
    ///
    /// ```
    /// use ipocket_connectors::remote_write::WriteRequest;
    /// use ipocket_expfmt::Format;
    /// let (req, errors) = WriteRequest::from_exposition(b"up{job=\"node\"} 1\nbad\n", Format::Text, 5, &[("server_id", "web-01")]);
    /// assert_eq!(req.timeseries[0].labels[2], ("server_id".to_string(), "web-01".to_string()));
    /// assert_eq!(req.timeseries[0].samples, vec![(1.0, 5)]);
    /// assert_eq!(errors.len(), 1);
    /// ```
    pub fn from_exposition(
        body: &[u8],
        format: Format,
        default_ts_ms: i64,
        extra_labels: &[(&str, &str)],
    ) -> (WriteRequest, Vec<String>) {
        let mut req = WriteRequest::default();
        let mut errors = Vec::new();
        let mut parser = Parser::new(body, format).with_mode(Mode::Lenient);
        while let Some(item) = parser.next_ref() {
            let s = match item {
                Ok(Record::Sample(s)) => s,
                Ok(_) => continue,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            };
            let labels = s
                .labels
                .iter()
                .filter(|l| !extra_labels.iter().any(|(n, _)| *n == l.name))
                .map(|l| (l.name.as_ref(), l.value.as_ref()))
                .chain(extra_labels.iter().copied());
            let value = if s.value.is_nan() {
                f64::from_bits(NORMAL_NAN_BITS)
            } else {
                s.value
            };
            let ts = s
                .timestamp
                .map_or(default_ts_ms, Timestamp::as_millis_clamped);
            match TimeSeries::new(&s.name, labels, vec![(value, ts)]) {
                Ok(series) => req.timeseries.push(series),
                Err(e) => errors.push(format!("{}: {e}", s.name)),
            }
        }
        (req, errors)
    }

    /// Splits into requests of at most `max_samples` samples each (Prometheus' own
    /// `max_samples_per_send` defaults to 2,000), series kept whole and in order.
    ///
    /// ```
    /// use ipocket_connectors::remote_write::WriteRequest;
    /// use ipocket_expfmt::Format;
    /// let text: String = (0..5).map(|i| format!("m{{i=\"{i}\"}} 1\n")).collect();
    /// let (req, _) = WriteRequest::from_exposition(text.as_bytes(), Format::Text, 1, &[]);
    /// let parts = req.into_batches(2);
    /// assert_eq!(parts.iter().map(|p| p.sample_count()).collect::<Vec<_>>(), [2, 2, 1]);
    /// ```
    pub fn into_batches(self, max_samples: usize) -> Vec<WriteRequest> {
        let max = max_samples.max(1);
        let mut out = Vec::new();
        let mut cur = WriteRequest::default();
        let mut n = 0;
        for ts in self.timeseries {
            if n > 0 && n + ts.samples.len() > max {
                out.push(std::mem::take(&mut cur));
                n = 0;
            }
            n += ts.samples.len();
            cur.timeseries.push(ts);
        }
        if !cur.timeseries.is_empty() {
            out.push(cur);
        }
        out
    }

    /// Number of samples in all series.
    pub fn sample_count(&self) -> usize {
        self.timeseries.iter().map(|t| t.samples.len()).sum()
    }

    /// The protobuf bytes: `WriteRequest{timeseries=1{labels=1{name=1,value=2}, samples=2{value=1 double, timestamp=2 int64}}}`.
    pub fn to_protobuf(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut series = Vec::new();
        let mut item = Vec::new();
        for ts in &self.timeseries {
            series.clear();
            for (n, v) in &ts.labels {
                item.clear();
                len_field(1, n.as_bytes(), &mut item);
                len_field(2, v.as_bytes(), &mut item);
                len_field(1, &item, &mut series);
            }
            for &(value, t) in &ts.samples {
                item.clear();
                item.push(1 << 3 | 1);
                item.extend_from_slice(&value.to_bits().to_le_bytes());
                if t != 0 {
                    item.push(2 << 3);
                    varint(t as u64, &mut item);
                }
                len_field(2, &item, &mut series);
            }
            len_field(1, &series, &mut out);
        }
        out
    }

    /// The HTTP body: the protobuf in snappy block format (not the framed format).
    pub fn to_body(&self) -> Result<Vec<u8>, RemoteWriteError> {
        Ok(snap::raw::Encoder::new().compress_vec(&self.to_protobuf())?)
    }
}

/// The headers remote-write 1.0 requires; callers cannot override them.
pub const HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// Sends write requests to one receiver (`http(s)://host:port/api/v1/write`).
#[derive(Debug, Clone)]
pub struct RemoteWriteClient {
    url: Uri,
    client: HttpClient,
    timeout: Duration,
    max_retries: usize,
    min_delay: Duration,
}

impl RemoteWriteClient {
    /// A client for `url` (`http://` or `https://`, checked against the webpki roots), 30 s
    /// timeout, 5 retries from 100 ms, with jitter.
    ///
    /// ```
    /// use ipocket_connectors::remote_write::RemoteWriteClient;
    /// assert!(RemoteWriteClient::new("http://127.0.0.1:9090/api/v1/write").is_ok());
    /// assert!(RemoteWriteClient::new("https://mimir.example.internal/api/v1/push").is_ok());
    /// assert!(RemoteWriteClient::new("not a url").is_err());
    /// assert!(RemoteWriteClient::new("http://u:p@127.0.0.1/api/v1/write").is_err());
    /// ```
    pub fn new(url: &str) -> Result<RemoteWriteClient, RemoteWriteError> {
        let uri = HttpClient::parse_url(url).map_err(|e| match e {
            HttpError::InvalidUrl(u) => RemoteWriteError::InvalidUrl(u),
            other => RemoteWriteError::InvalidUrl(other.to_string()),
        })?;
        Ok(RemoteWriteClient {
            url: uri,
            client: HttpClient::new().with_timeout(Duration::from_secs(30)),
            timeout: Duration::from_secs(30),
            max_retries: 5,
            min_delay: Duration::from_millis(100),
        })
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.client = self.client.with_timeout(timeout);
        self
    }

    /// Credentials (Bearer or Basic, see [`ipocket_http::Auth::from_token`]), a CA file and
    /// the insecure switch, as the other `--token`/`--ca-file` flags set them; with
    /// `system_roots` the system's CA bundle is trusted too.
    pub fn with_connect_options(
        mut self,
        options: &ipocket_http::ConnectOptions,
        system_roots: bool,
    ) -> Result<Self, RemoteWriteError> {
        let tls = |e: HttpError| RemoteWriteError::Tls(e.to_string());
        let mut client = self.client.clone();
        if system_roots {
            client = client.with_system_roots().map_err(tls)?;
        }
        self.client = client.with_connect_options(options).map_err(tls)?;
        Ok(self)
    }

    /// The receiver's URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// Sets the number of retries and the first delay (doubling, with jitter, at most 30 s).
    pub fn with_retries(mut self, max_retries: usize, min_delay: Duration) -> Self {
        self.max_retries = max_retries;
        self.min_delay = min_delay;
        self
    }

    /// Sends `req`; returns the number of attempts made. 2xx is success; 4xx other than 429
    /// fails at once with [`RemoteWriteError::Rejected`]; 5xx, 429 and transport errors are
    /// retried with exponential backoff and jitter.
    pub async fn send(&self, req: &WriteRequest) -> Result<usize, RemoteWriteError> {
        let body = Bytes::from(req.to_body()?);
        let attempts = std::sync::atomic::AtomicUsize::new(0);
        let attempt = || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.send_once(body.clone()).await
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(self.min_delay)
                    .with_max_delay(Duration::from_secs(30))
                    .with_max_times(self.max_retries)
                    .with_jitter(),
            )
            .when(RemoteWriteError::retryable)
            .await?;
        Ok(attempts.into_inner())
    }

    /// Sends `req` in batches of at most 2,000 samples, one after the other; stops at the
    /// first batch that fails. Returns the number of requests sent.
    pub async fn send_batched(&self, req: WriteRequest) -> Result<usize, RemoteWriteError> {
        let batches = req.into_batches(2000);
        let n = batches.len();
        for b in &batches {
            self.send(b).await?;
        }
        Ok(n)
    }

    async fn send_once(&self, body: Bytes) -> Result<(), RemoteWriteError> {
        let r = self
            .client
            .send_body_once(Method::POST, &self.url, &HEADERS, body)
            .await
            .map_err(|e| match e {
                HttpError::Timeout { .. } => {
                    RemoteWriteError::Transport(format!("timeout after {:?}", self.timeout))
                }
                other => RemoteWriteError::Transport(other.to_string()),
            })?;
        let status = r.status;
        let text: String = String::from_utf8_lossy(&r.body).chars().take(300).collect();
        let body = text.trim().to_string();
        match status {
            200..=299 => Ok(()),
            429 | 500..=599 => Err(RemoteWriteError::Retryable { status, body }),
            _ => Err(RemoteWriteError::Rejected { status, body }),
        }
    }
}

impl ipocket_errors::Classify for RemoteWriteError {
    fn kind(&self) -> ipocket_errors::ErrorKind {
        use RemoteWriteError as E;
        match self {
            E::InvalidUrl(_) | E::DuplicateLabel(_) | E::EmptyLabelName | E::Tls(_) => {
                ipocket_errors::ErrorKind::Invalid
            }
            E::Snappy(_) => ipocket_errors::ErrorKind::Internal,
            E::Rejected { .. } | E::Retryable { .. } | E::Transport(_) => {
                ipocket_errors::ErrorKind::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_matches_the_reference_encoder() {
        let s = TimeSeries::new("up", [("job", "node")], vec![(1.0, 1_700_000_000_000)]).unwrap();
        let req = WriteRequest {
            timeseries: vec![s],
        };
        let hex: String = req
            .to_protobuf()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, reference_hex());
    }

    /// Bytes written by `/work/shared/peers/fixtures/remote_write.py`'s encoder (the one
    /// Prometheus 2.42 accepted) for `{__name__="up", job="node"} 1 @ 1700000000000`.
    fn reference_hex() -> String {
        include_str!("../tests/data/remote_write_up.hex")
            .trim()
            .to_string()
    }

    #[test]
    fn body_is_snappy_block_format() {
        let s = TimeSeries::new("up", [("job", "node")], vec![(1.0, 5)]).unwrap();
        let req = WriteRequest {
            timeseries: vec![s; 50],
        };
        let body = req.to_body().unwrap();
        assert!(body.len() < req.to_protobuf().len());
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(raw, req.to_protobuf());
        // The framed format starts with the stream identifier chunk 0xff 06 00 00 "sNaPpY".
        assert_ne!(body[0], 0xff);
    }

    #[test]
    fn nan_is_the_normal_nan_never_the_stale_marker() {
        let (req, _) = WriteRequest::from_exposition(b"x NaN\n", Format::Text, 1, &[]);
        assert_eq!(req.timeseries[0].samples[0].0.to_bits(), NORMAL_NAN_BITS);
    }
}
