//! An import upload as `multipart/form-data`, the same for `POST /api/v1/import` and the web
//! UI's `/ui/import`: the original's field names (`file`: one file of any format; `hosts`
//! and/or `ip_assets`: the CSV pair) and the one bundle they make (one plan, one
//! transaction).

use hyper::body::Bytes;
use ipocket_core::import::{parse_csv, parse_file_with, CsvFile, CsvKind};
use ipocket_core::{Bundle, InputLimits};

use crate::pending_uploads::PendingFile;
use crate::ui::form::Form;

/// The upload's file fields: one file of any format, or the CSV pair.
pub(crate) const FILE_FIELDS: [&str; 3] = ["file", "hosts", "ip_assets"];

/// Why an upload's files cannot be read as one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadProblem {
    /// No file in any of [`FILE_FIELDS`] (empty files are ignored, as the original does).
    NoFile,
    /// `file` together with `hosts` or `ip_assets`.
    FileAndPair,
}

impl UploadProblem {
    /// The message for an API client, naming the fields.
    pub(crate) fn api_message(self) -> &'static str {
        match self {
            UploadProblem::NoFile => {
                "the upload has no file: send one file in the field \"file\", or CSVs in \
                 \"hosts\" and/or \"ip_assets\""
            }
            UploadProblem::FileAndPair => {
                "send either one file in \"file\" or the CSV pair in \"hosts\" / \"ip_assets\", not both"
            }
        }
    }
}

/// The files of the upload fields of `form`, in the order sent (a field sent twice counts
/// once; empty files are left out).
pub(crate) fn files_of(form: &Form) -> Result<Vec<PendingFile>, UploadProblem> {
    let mut files: Vec<PendingFile> = form
        .files()
        .filter(|(field, u)| FILE_FIELDS.contains(field) && !u.bytes.is_empty())
        .map(|(field, u)| PendingFile {
            field: field.to_string(),
            name: u.file_name.clone(),
            bytes: u.bytes.clone(),
        })
        .collect();
    let mut seen = Vec::new();
    files.retain(|f| {
        let first = !seen.contains(&f.field);
        seen.push(f.field.clone());
        first
    });
    if files.is_empty() {
        Err(UploadProblem::NoFile)
    } else if files.len() > 1 && files.iter().any(|x| x.field == "file") {
        Err(UploadProblem::FileAndPair)
    } else {
        Ok(files)
    }
}

/// Reads the files as one bundle: one `file` by its name (a CSV of another name by its
/// header row), or the CSV pair together, `hosts.csv` first (its rows may name assets that
/// `ip-assets.csv` refines).
pub(crate) fn parse_upload(
    files: &[PendingFile],
    now: &str,
    limits: &InputLimits,
) -> ipocket_core::Result<Bundle> {
    if let [one] = files {
        if one.field == "file" {
            return parse_file_with(&one.name, &one.bytes, now, limits);
        }
    }
    let name = |f: &PendingFile, default: &'static str| -> String {
        if f.name.is_empty() {
            default.to_string()
        } else {
            f.name.clone()
        }
    };
    let named: Vec<(CsvKind, String, &Bytes)> = files
        .iter()
        .map(|f| match f.field.as_str() {
            "hosts" => (CsvKind::Hosts, name(f, "hosts.csv"), &f.bytes),
            _ => (CsvKind::IpAssets, name(f, "ip-assets.csv"), &f.bytes),
        })
        .collect();
    let mut inputs: Vec<CsvFile<'_>> = named
        .iter()
        .map(|(kind, name, data)| CsvFile {
            kind: *kind,
            name,
            data,
        })
        .collect();
    inputs.sort_by_key(|c| c.kind != CsvKind::Hosts);
    parse_csv(&inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(field: &str, name: &str, data: &str) -> PendingFile {
        PendingFile {
            field: field.into(),
            name: name.into(),
            bytes: Bytes::from(data.to_string()),
        }
    }

    #[test]
    fn the_csv_pair_is_read_together_and_one_file_by_its_name() {
        let hosts = file(
            "hosts",
            "my-hosts.csv",
            "name,notes,vendor_name,project_name,os_ip,bmc_ip\nnode-01,,,,10.0.0.11,\n",
        );
        let assets = file(
            "ip_assets",
            "",
            "ip_address,type,project_name,host_name,notes,archived\n10.0.0.10,VM,,node-01,,\n",
        );
        let b = parse_upload(&[assets.clone(), hosts], "t", &InputLimits::default()).unwrap();
        assert_eq!(b.hosts.len(), 1);
        assert_eq!(b.ip_assets.len(), 2, "the host's OS address and the asset");
        let one = file(
            "file",
            "ip-assets.csv",
            &String::from_utf8_lossy(&assets.bytes),
        );
        assert_eq!(
            parse_upload(&[one], "t", &InputLimits::default())
                .unwrap()
                .ip_assets
                .len(),
            1
        );
    }
}
