//! Small HTTP helpers: the request as handlers see it, responses, query strings.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use ipocket_core::Page;
use ipocket_core::User;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::OnceLock;

use super::errors::ApiError;

/// The body type of every response.
pub(crate) type Body = Full<Bytes>;

/// A request after the body was read (with its limit and timeout).
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// Path segments, percent-decoded, without empty ones.
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The client's address (the TCP peer; a proxy in front is the client).
    pub(crate) peer: Option<IpAddr>,
    /// The logged-in user once a handler resolved it, for auditing refusals.
    pub(crate) user: OnceLock<User>,
}

impl ApiRequest {
    pub(crate) fn new(
        method: Method,
        path: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
        peer: Option<IpAddr>,
    ) -> Self {
        ApiRequest {
            peer,
            user: OnceLock::new(),
            method,
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(percent_decode)
                .collect(),
            query: query.map(parse_query).unwrap_or_default(),
            headers,
            body,
        }
    }

    /// The first value of a query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query parameter (`1`, `true`, `yes`, `on` / `0`, `false`, `no`, `off`).
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.param(name) {
            None => Ok(false),
            Some("") => Ok(true),
            Some(v) => ipocket_core::import::parse_bool(v).ok_or_else(|| {
                ApiError::bad_request(format!("{name}: expected a boolean, found {v:?}"))
            }),
        }
    }

    /// A whole-number query parameter, `default` when absent or empty.
    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, ApiError> {
        match self.param(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(format!("{name}: expected a whole number, found {v:?}"))
                    .with_details(serde_json::json!({ "field": name }))
            }),
        }
    }

    /// `page` (default 1) and `per_page` (default `per_page`, at most `max_per_page`), checked
    /// by the core: a bad one is a 400 naming it (`details.field`), never a wrapped offset.
    pub(crate) fn page(
        &self,
        per_page: u64,
        max_per_page: u64,
    ) -> Result<(u64, u64, Page), ApiError> {
        let number = self.number("page", 1)?;
        let per_page = self.number("per_page", per_page.min(max_per_page))?;
        match Page::checked(number, per_page, max_per_page) {
            Ok(page) => Ok((number, per_page, page)),
            Err(ipocket_core::Error::Invalid { field, message }) => {
                Err(ApiError::bad_request(format!("{field}: {message}"))
                    .with_details(serde_json::json!({ "field": field })))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(format!("request body is not the expected JSON: {e}"))
        })
    }
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space).
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => bytes_response(status, "application/json", body),
        Err(_) => error_response(&ApiError::internal()),
    }
}

pub(crate) fn no_content() -> Response<Body> {
    bytes_response(StatusCode::NO_CONTENT, "application/json", Vec::new())
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    let body = serde_json::to_vec(&e.body()).unwrap_or_default();
    let mut r = bytes_response(e.status, "application/json", body);
    if let Some(secs) = e.retry_after {
        r.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query("a=1&b=x%20y+z&c&d=%zz&e=%41");
        assert_eq!(q[0], ("a".into(), "1".into()));
        assert_eq!(q[1], ("b".into(), "x y z".into()));
        assert_eq!(q[2], ("c".into(), "".into()));
        assert_eq!(q[3], ("d".into(), "%zz".into()));
        assert_eq!(q[4], ("e".into(), "A".into()));
        assert_eq!(percent_decode("2001%3Adb8%3A%3A1"), "2001:db8::1");
        assert_eq!(percent_decode("50%"), "50%");
    }
}
