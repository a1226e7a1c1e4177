//! The UI's static files, embedded in the binary and served under a content-hashed query so
//! that browsers may cache them for a year.

use std::sync::OnceLock;

use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::{Response, StatusCode};

use crate::errors::ApiError;
use crate::http::{bytes_response, Body};

/// (name, media type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("static/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("static/favicon.svg"),
    ),
    // The seed's sample files, linked from Data Ops: a first import needs no file of its own.
    (
        "sample-ip-assets.csv",
        "text/csv; charset=utf-8",
        include_bytes!("static/sample-ip-assets.csv"),
    ),
    (
        "sample-hosts.csv",
        "text/csv; charset=utf-8",
        include_bytes!("static/sample-hosts.csv"),
    ),
];

/// One hash over every file: any change gives every URL a new `?v=`.
fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        use blake2::Digest;
        let mut h = blake2::Blake2s256::new();
        for (name, _, bytes) in FILES {
            h.update(name.as_bytes());
            h.update(bytes);
        }
        super::session::hex(&h.finalize()[..6])
    })
}

/// The URL of a static file, with its version.
pub(crate) fn url(name: &str) -> String {
    format!("/ui/static/{name}?v={}", version())
}

/// `GET /ui/static/{name}`.
pub(crate) fn serve(name: &str) -> Result<Response<Body>, ApiError> {
    let (_, media_type, bytes) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::not_found(format!("no static file {name:?}")))?;
    let mut r = bytes_response(StatusCode::OK, media_type, *bytes);
    r.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    // A sample downloads under the name the import engine dispatches on.
    if let Some(file) = name.strip_prefix("sample-") {
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
            r.headers_mut()
                .insert(hyper::header::CONTENT_DISPOSITION, v);
        }
    }
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}
