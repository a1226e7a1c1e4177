//! Limits on what the inventory accepts (issue #18): zip bombs, text lengths, paging
//! parameters, IPv4-mapped addresses, NUL in searches, formula-like CSV cells.

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

/// Peak resident memory of a process so far (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib / 1024
}

/// A zip whose entries `names` each inflate to 1 GiB of zeros (about 1 MB each): the entry
/// is deflated once and copied raw under the other names.
fn gib_bomb(names: &[&str]) -> Vec<u8> {
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let mut one = zip::ZipWriter::new(Cursor::new(Vec::new()));
    one.start_file(names[0], opts).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        one.write_all(&block).unwrap();
    }
    let one = one.finish().unwrap().into_inner();
    let mut src = zip::ZipArchive::new(Cursor::new(one)).unwrap();
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for name in names {
        z.raw_copy_file_rename(src.by_index(0).unwrap(), *name)
            .unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Rewrites the uncompressed size every header declares: a bomb that lies about its size.
fn declare_size(zip: &mut [u8], size: u32) {
    let le = size.to_le_bytes();
    for i in 0..zip.len().saturating_sub(30) {
        match &zip[i..i + 4] {
            [0x50, 0x4b, 0x03, 0x04] => zip[i + 22..i + 26].copy_from_slice(&le),
            [0x50, 0x4b, 0x01, 0x02] => zip[i + 24..i + 28].copy_from_slice(&le),
            _ => {}
        }
    }
}

fn dry_run_zip(srv: &Server, token: &str, zip: &[u8]) -> (Resp, Duration) {
    let started = Instant::now();
    let r = request(
        srv,
        "POST",
        "/api/v1/import?dry_run=1",
        Some(token),
        Some("application/zip"),
        zip,
    );
    (r, started.elapsed())
}

#[test]
fn zip_bombs_are_refused_fast_with_little_memory() {
    let srv = start();
    let (_, _, viewer) = users(&srv);
    // 3 × 1 GiB of zeros in about 3 MB: the file of the issue (5.8 GB peak before)
    let bomb = gib_bomb(&["hosts.csv", "ip-assets.csv", "tags.csv"]);
    assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
    let (r, took) = dry_run_zip(&srv, &viewer, &bomb);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.error_code(), "import_invalid");
    let issue = &r.json()["error"]["details"][0];
    assert_eq!(issue["location"], "bundle.zip/hosts.csv");
    let msg = issue["message"].as_str().unwrap();
    assert!(msg.starts_with("expands past "), "{msg}");
    let honest_peak = peak_rss_mib(srv.child.id());
    // The same bomb declaring 100 bytes per entry: it is inflated, and stopped at the limit.
    let mut lying = bomb;
    declare_size(&mut lying, 100);
    let (r, lying_took) = dry_run_zip(&srv, &viewer, &lying);
    assert_eq!(r.status, 422, "{}", r.text());
    let issue = &r.json()["error"]["details"][0];
    assert_eq!(issue["location"], "bundle.zip/hosts.csv");
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("more than 100:1"),
        "{issue}"
    );
    let lying_peak = peak_rss_mib(srv.child.id());
    eprintln!(
        "zip bomb 3 x 1 GiB ({} bytes): honest sizes {took:?}, server peak RSS {honest_peak} MiB; \
         lying sizes {lying_took:?}, peak RSS {lying_peak} MiB",
        lying.len()
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(lying_took < Duration::from_secs(20), "{lying_took:?}");
    assert!(lying_peak < 400, "peak RSS {lying_peak} MiB");
}

#[test]
fn zip_limits_follow_the_flags() {
    let srv = start_with(
        &["--max-zip-bytes", "60", "--max-zip-ratio", "1000"],
        Some(ADMIN_PASSWORD),
    );
    let admin = login(&srv, "admin", ADMIN_PASSWORD);
    let csv = b"ip_address,type,project_name,host_name,notes,archived\n10.0.0.1,VM,,,,\n";
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file("ip-assets.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(csv).unwrap();
    let zip = z.finish().unwrap().into_inner();
    let (r, _) = dry_run_zip(&srv, &admin, &zip);
    assert_eq!(r.status, 422, "{}", r.text());
    let issue = &r.json()["error"]["details"][0];
    assert_eq!(issue["location"], "bundle.zip/ip-assets.csv");
    assert!(
        issue["message"].as_str().unwrap().contains(
            "expands past 60 bytes (the limit of 60 bytes for the entries of one archive)"
        ),
        "{issue}"
    );
    let srv = start();
    let (r, _) = dry_run_zip(&srv, &login(&srv, "admin", ADMIN_PASSWORD), &zip);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["create"], 1);
}

#[test]
fn text_fields_have_a_limit_on_every_entry_path() {
    let srv = start_with(&["--max-text-chars", "100"], Some(ADMIN_PASSWORD));
    let (_, editor, viewer) = users(&srv);
    let asset = |notes: &str| json!({"ip_address": "10.0.0.1", "type": "VM", "notes": notes});
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        asset(&"n".repeat(101)),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.error_code(), "invalid_value");
    assert_eq!(r.json()["error"]["details"]["field"], "notes");
    assert_eq!(
        r.json()["error"]["message"],
        "notes: notes is longer than 100 characters (101)"
    );
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        asset(&"é".repeat(100)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send_json(
        &srv,
        "PATCH",
        "/api/v1/ip-assets/10.0.0.1",
        Some(&editor),
        json!({"notes": "n".repeat(101)}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    // names: 255 characters whatever the flag
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/projects",
        Some(&editor),
        json!({"name": "p".repeat(256)}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "project name");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/hosts",
        Some(&editor),
        json!({"name": "h", "notes": "n".repeat(101)}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    // an import names each item over the limit (a dry run, by a Viewer)
    let bundle = json!({"schema_version": "1", "data": {"ip_assets": [
        {"ip_address": "10.0.0.2", "type": "VM", "notes": "ok"},
        {"ip_address": "10.0.0.3", "type": "VM", "notes": "n".repeat(101)},
    ]}});
    let r = request(
        &srv,
        "POST",
        "/api/v1/import?dry_run=1",
        Some(&viewer),
        Some("application/json"),
        bundle.to_string().as_bytes(),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.error_code(), "import_invalid");
    let details = r.json()["error"]["details"].clone();
    assert_eq!(details.as_array().unwrap().len(), 1, "{details}");
    assert_eq!(details[0]["location"], "data.ip_assets[1].notes");
}

#[test]
fn paging_parameters_are_validated() {
    let srv = start_with(&["--max-page-size", "5"], Some(ADMIN_PASSWORD));
    let (_, editor, viewer) = users(&srv);
    for i in 1..=7 {
        let r = send_json(
            &srv,
            "POST",
            "/api/v1/ip-assets",
            Some(&editor),
            json!({"ip_address": format!("10.0.0.{i}"), "type": "VM"}),
        );
        assert_eq!(r.status, 201);
    }
    // the audit log filtered to the seven creations (logins are in it too)
    for (list, filter) in [
        ("/api/v1/ip-assets", ""),
        ("/api/v1/audit-log", "target_type=IP_ASSET&"),
    ] {
        // 2^63 + 1 wrapped to the first page
        for (query, field) in [
            ("page=9223372036854775809", "page"),
            ("page=18446744073709551615&per_page=5", "page"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("per_page=0", "per_page"),
            ("per_page=6", "per_page"),
            ("per_page=x", "per_page"),
        ] {
            let r = get(&srv, &format!("{list}?{query}"), Some(&viewer));
            assert_eq!(r.status, 400, "{list}?{query}: {}", r.text());
            assert_eq!(r.error_code(), "bad_request");
            assert_eq!(
                r.json()["error"]["details"]["field"],
                field,
                "{list}?{query}"
            );
        }
        let v = get(
            &srv,
            &format!("{list}?{filter}page=2&per_page=5"),
            Some(&viewer),
        )
        .json();
        assert_eq!(v["items"].as_array().unwrap().len(), 2, "{list}: {v}");
        assert_eq!(v["total"], 7);
        // the default page size is the largest allowed when that is smaller
        let v = get(&srv, &format!("{list}?{filter}"), Some(&viewer)).json();
        assert_eq!(
            (v["per_page"].as_u64(), v["items"].as_array().unwrap().len()),
            (Some(5), 5)
        );
    }
    let r = get(&srv, "/api/v1/ranges/1/addresses?limit=0", Some(&viewer));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "limit");
}

#[test]
fn ipv4_mapped_addresses_nul_searches_and_csv_formulas() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "::ffff:10.0.0.1", "type": "VM", "notes": "=1+2"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["ip_address"], "10.0.0.1");
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.1", "type": "VM"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/ip-assets",
        Some(&editor),
        json!({"ip_address": "10.0.0.2", "type": "VM"}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        get(&srv, "/api/v1/ip-assets/::ffff:10.0.0.1", Some(&viewer)).status,
        200
    );
    let v = get(
        &srv,
        "/api/v1/ip-assets?q=%3A%3Affff%3A10.0.0.1",
        Some(&viewer),
    )
    .json();
    assert_eq!(v["total"], 1, "{v}");
    // a NUL cut SQLite's LIKE pattern short: `%00zz` matched every asset
    let r = get(&srv, "/api/v1/ip-assets?q=%00zz", Some(&viewer));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "q");
    // CSV export: the note starts a formula, so it is quoted
    let r = get(&srv, "/api/v1/export/ip-assets.csv", Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("\n10.0.0.1,VM,,,,'=1+2,false,"),
        "{}",
        r.text()
    );
}
