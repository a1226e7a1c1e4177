//! `bundle.zip`: its `bundle.json` when present, else every known CSV in it.
//!
//! An archive is untrusted (any reader may send one to a dry run), so its entries are read
//! against [`InputLimits`]: a total uncompressed size and a compression ratio per entry.
//! The sizes the archive declares are checked before anything is inflated, and the bytes
//! actually inflated are counted again while reading, since declared sizes can lie. No
//! buffer grows past what is still allowed, so a bomb costs at most the limit in memory.

use std::io::{Cursor, Read};

use super::{parse_bundle_json, parse_csv, Bundle, CsvFile, CsvKind};
use crate::error::{Error, ImportErrors, ImportIssue, Result};
use crate::limits::{InputLimits, ZIP_RATIO_FLOOR};

/// Reads a `bundle.zip` with the default [`InputLimits`].
pub fn parse_bundle_zip(input: &[u8]) -> Result<Bundle> {
    parse_bundle_zip_with(input, &InputLimits::default())
}

/// Reads a `bundle.zip`: its `bundle.json` when present (the CSVs beside it are not read),
/// else every known CSV in it. An entry that expands past `limits` is a located import
/// error and nothing more is inflated.
///
/// ```
/// use ipocket_core::{import::parse_bundle_zip_with, InputLimits};
/// use std::io::Write;
/// let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
/// z.start_file("ip-assets.csv", zip::write::SimpleFileOptions::default()).unwrap();
/// z.write_all(b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n").unwrap();
/// let zip = z.finish().unwrap().into_inner();
/// assert_eq!(parse_bundle_zip_with(&zip, &InputLimits::default()).unwrap().ip_assets.len(), 1);
/// let tight = InputLimits { max_zip_bytes: 10, ..InputLimits::default() };
/// let e = parse_bundle_zip_with(&zip, &tight).unwrap_err().to_string();
/// assert!(e.contains("bundle.zip/ip-assets.csv: expands past 10 bytes"), "{e}");
/// ```
pub fn parse_bundle_zip_with(input: &[u8], limits: &InputLimits) -> Result<Bundle> {
    let mut ar = zip::ZipArchive::new(Cursor::new(input))
        .map_err(|e| zip_error("bundle.zip", format!("invalid zip: {e}")))?;
    let wanted: Vec<usize> = match ar.index_for_name("bundle.json") {
        Some(i) => vec![i],
        None => (0..ar.len())
            .filter(|i| {
                ar.name_for_index(*i)
                    .is_some_and(|n| CsvKind::from_file_name(n).is_some())
            })
            .collect(),
    };
    // The declared sizes first: a plain bomb is refused before one byte is inflated.
    let mut declared_total = 0u64;
    for &i in &wanted {
        let f = ar
            .by_index_raw(i)
            .map_err(|e| zip_error("bundle.zip", format!("invalid zip entry {i}: {e}")))?;
        let name = f.name();
        let cap = entry_cap(f.compressed_size(), limits);
        if f.size() > cap.bytes {
            return Err(too_large(name, cap, limits));
        }
        declared_total = declared_total.saturating_add(f.size());
        if declared_total > limits.max_zip_bytes {
            return Err(too_large(name, total_cap(limits.max_zip_bytes), limits));
        }
    }
    // Then the bytes themselves, against what is left of the total.
    let mut left = limits.max_zip_bytes;
    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(wanted.len());
    for i in wanted {
        let mut f = ar
            .by_index(i)
            .map_err(|e| zip_error("bundle.zip", format!("invalid zip entry {i}: {e}")))?;
        let name = f.name().to_string();
        let mut cap = entry_cap(f.compressed_size(), limits);
        if left < cap.bytes {
            cap = total_cap(limits.max_zip_bytes);
            cap.bytes = left;
        }
        let declared = f.size();
        let buf = match read_at_most(&mut f, cap.bytes, declared) {
            Ok(Some(buf)) => buf,
            Ok(None) => return Err(too_large(&name, cap, limits)),
            Err(e) => return Err(zip_error(&format!("bundle.zip/{name}"), e.to_string())),
        };
        left -= buf.len() as u64;
        files.push((name, buf));
    }
    if let Some((_, json)) = files.iter().find(|(n, _)| n == "bundle.json") {
        let mut b = parse_bundle_json(json)?;
        b.source = "bundle.zip".into();
        return Ok(b);
    }
    let inputs: Vec<CsvFile<'_>> = files
        .iter()
        .filter_map(|(n, d)| {
            CsvKind::from_file_name(n).map(|kind| CsvFile {
                kind,
                name: n,
                data: d,
            })
        })
        .collect();
    if inputs.is_empty() {
        return Err(zip_error(
            "bundle.zip",
            "no bundle.json or known CSV file in the archive".into(),
        ));
    }
    parse_csv(&inputs)
}

/// How far one entry may expand, and which limit says so.
#[derive(Clone, Copy)]
struct EntryCap {
    bytes: u64,
    by_ratio: bool,
}

fn entry_cap(compressed: u64, limits: &InputLimits) -> EntryCap {
    let by_ratio = compressed
        .saturating_mul(limits.max_zip_ratio)
        .max(ZIP_RATIO_FLOOR);
    if by_ratio < limits.max_zip_bytes {
        EntryCap {
            bytes: by_ratio,
            by_ratio: true,
        }
    } else {
        total_cap(limits.max_zip_bytes)
    }
}

fn total_cap(bytes: u64) -> EntryCap {
    EntryCap {
        bytes,
        by_ratio: false,
    }
}

fn too_large(name: &str, cap: EntryCap, limits: &InputLimits) -> Error {
    let why = if cap.by_ratio {
        format!(
            "more than {}:1 over its compressed size, the limit per entry",
            limits.max_zip_ratio
        )
    } else {
        format!(
            "the limit of {} bytes for the entries of one archive",
            limits.max_zip_bytes
        )
    };
    zip_error(
        &format!("bundle.zip/{name}"),
        format!(
            "expands past {} bytes ({why}); nothing was imported",
            cap.bytes
        ),
    )
}

fn zip_error(location: &str, message: String) -> Error {
    Error::Import(ImportErrors(vec![ImportIssue::new(location, message)]))
}

/// Reads `r` to its end into a buffer of at most `cap` bytes; `None` when there is more.
/// The buffer starts at the declared size and never grows past `cap`.
fn read_at_most(r: &mut impl Read, cap: u64, declared: u64) -> std::io::Result<Option<Vec<u8>>> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut buf: Vec<u8> =
        Vec::with_capacity(usize::try_from(declared).unwrap_or(usize::MAX).min(cap));
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => return Ok(Some(buf)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n > cap - buf.len() {
            return Ok(None);
        }
        if buf.capacity() - buf.len() < n {
            // doubling, as a Vec does, but never past the cap
            let want = buf.capacity().saturating_mul(2).max(buf.len() + n).min(cap);
            buf.reserve_exact(want - buf.len());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// A zip of `entries` (name, bytes of zeros), deflated at the best level.
    fn zeros_zip(entries: &[(&str, u64)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .large_file(entries.iter().any(|(_, n)| *n >= u32::MAX as u64));
        let block = vec![0u8; 1 << 20];
        for (name, size) in entries {
            z.start_file(*name, opts).unwrap();
            let mut left = *size;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                z.write_all(&block[..n]).unwrap();
                left -= n as u64;
            }
        }
        z.finish().unwrap().into_inner()
    }

    /// Rewrites the uncompressed size every header of the archive declares (a lying bomb).
    fn declare_size(zip: &mut [u8], size: u32) {
        let le = size.to_le_bytes();
        let mut i = 0;
        while i + 4 <= zip.len() {
            match &zip[i..i + 4] {
                [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&le),
                [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&le),
                _ => {}
            }
            i += 1;
        }
    }

    fn issue(r: Result<Bundle>) -> ImportIssue {
        match r {
            Err(Error::Import(ImportErrors(mut v))) if v.len() == 1 => v.remove(0),
            other => panic!("expected one import issue, got {other:?}"),
        }
    }

    #[test]
    fn a_bomb_is_refused_on_its_declared_sizes_before_inflating() {
        // three entries of 64 MiB of zeros in about 200 kB (the server test sends 3 × 1 GiB)
        let big = 64u64 << 20;
        let zip = zeros_zip(&[
            ("hosts.csv", big),
            ("ip-assets.csv", big),
            ("tags.csv", big),
        ]);
        assert!(zip.len() < 300 << 10, "{} bytes", zip.len());
        let started = Instant::now();
        let e = issue(parse_bundle_zip(&zip));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(e.location, "bundle.zip/hosts.csv");
        assert!(e.message.starts_with("expands past "), "{}", e.message);
        assert!(e.message.contains("more than 100:1"), "{}", e.message);
    }

    #[test]
    fn a_bomb_that_lies_about_its_size_stops_at_the_limit_while_inflating() {
        let mut zip = zeros_zip(&[("ip-assets.csv", 64 << 20)]);
        declare_size(&mut zip, 100);
        let limits = InputLimits {
            max_zip_ratio: 1_000_000,
            max_zip_bytes: 8 << 20,
            ..InputLimits::default()
        };
        let e = issue(parse_bundle_zip_with(&zip, &limits));
        assert_eq!(e.location, "bundle.zip/ip-assets.csv");
        assert!(
            e.message
                .contains(&format!("expands past {} bytes", 8 << 20)),
            "{}",
            e.message
        );
        // the ratio limit catches it too, at a few MiB
        let e = issue(parse_bundle_zip(&zip));
        assert!(e.message.contains("more than 100:1"), "{}", e.message);
    }

    #[test]
    fn the_total_counts_every_entry_read() {
        let zip = zeros_zip(&[("hosts.csv", 600 << 10), ("ip-assets.csv", 600 << 10)]);
        let limits = InputLimits {
            max_zip_bytes: 1 << 20,
            ..InputLimits::default()
        };
        let e = issue(parse_bundle_zip_with(&zip, &limits));
        assert_eq!(e.location, "bundle.zip/ip-assets.csv");
        assert!(
            e.message
                .contains("the limit of 1048576 bytes for the entries of one archive"),
            "{}",
            e.message
        );
        // lying sizes: the second entry is stopped at what is left
        let mut lying = zip.clone();
        declare_size(&mut lying, 10);
        let e = issue(parse_bundle_zip_with(&lying, &limits));
        assert_eq!(e.location, "bundle.zip/ip-assets.csv");
        assert!(
            e.message.contains("expands past 434176 bytes"),
            "{}",
            e.message
        );
    }

    #[test]
    fn read_at_most_never_grows_past_the_cap() {
        let data = vec![7u8; 300_000];
        let buf = read_at_most(&mut &data[..], 300_000, 0).unwrap().unwrap();
        assert_eq!(buf.len(), 300_000);
        assert!(buf.capacity() <= 300_000);
        assert!(read_at_most(&mut &data[..], 299_999, 1 << 40)
            .unwrap()
            .is_none());
    }
}
