//! A submitted HTML form: `application/x-www-form-urlencoded` or `multipart/form-data`
//! (file uploads), read from the already-limited request body.

use hyper::body::Bytes;

use crate::errors::ApiError;
use crate::http::{parse_query, ApiRequest};

/// One uploaded file.
pub(crate) struct Upload {
    /// The name the browser sent (`ip-assets.csv`); empty when no file was chosen.
    pub(crate) file_name: String,
    pub(crate) bytes: Bytes,
}

/// The fields of a form, in the order sent.
#[derive(Default)]
pub(crate) struct Form {
    fields: Vec<(String, String)>,
    files: Vec<(String, Upload)>,
}

impl Form {
    pub(crate) async fn read(req: &ApiRequest) -> Result<Form, ApiError> {
        let content_type = req.header("content-type").unwrap_or("");
        if let Ok(boundary) = multer::parse_boundary(content_type) {
            return Self::multipart(req.body.clone(), boundary).await;
        }
        let text = std::str::from_utf8(&req.body)
            .map_err(|_| ApiError::bad_request("the form is not UTF-8"))?;
        Ok(Form {
            fields: parse_query(text),
            files: Vec::new(),
        })
    }

    async fn multipart(body: Bytes, boundary: String) -> Result<Form, ApiError> {
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut parts = multer::Multipart::new(stream, boundary);
        let mut form = Form::default();
        let bad = |e: multer::Error| ApiError::bad_request(format!("the upload is malformed: {e}"));
        while let Some(field) = parts.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_string();
            match field.file_name().map(str::to_string) {
                Some(file_name) => {
                    let bytes = field.bytes().await.map_err(bad)?;
                    form.files.push((name, Upload { file_name, bytes }));
                }
                None => {
                    let text = field.text().await.map_err(bad)?;
                    form.fields.push((name, text));
                }
            }
        }
        Ok(form)
    }

    /// The first value of a field.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value, trimmed, `None` when absent or blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// Every value of a repeated field (checkboxes, multi-selects).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A checkbox: present and not `0`/`false`/`off`.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !matches!(v, "0" | "false" | "off" | "no"))
    }

    /// Every uploaded file that has content, with its field name.
    pub(crate) fn files(&self) -> impl Iterator<Item = (&str, &Upload)> {
        self.files
            .iter()
            .filter(|(_, f)| !(f.file_name.is_empty() && f.bytes.is_empty()))
            .map(|(k, f)| (k.as_str(), f))
    }
}
