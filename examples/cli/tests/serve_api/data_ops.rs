//! Import (dry run, apply), export, and an apply interrupted by SIGKILL or SIGTERM.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use ipocket_testkit::serve_addr::read_listen_addr;

use crate::common::*;

const BUNDLE: &str = r#"{"schema_version":"1","data":{
  "projects":[{"name":"core"}],
  "ip_assets":[{"ip_address":"10.2.0.1","type":"VM","project_name":"core","tags":["prod"]},
               {"ip_address":"10.2.0.2","type":"OS"}]}}"#;

#[test]
fn import_dry_run_apply_and_export() {
    let srv = start();
    let (_, editor, viewer) = users(&srv);
    let post = |token: &str, query: &str, ct: Option<&str>, body: &[u8]| {
        request(
            &srv,
            "POST",
            &format!("/api/v1/import{query}"),
            Some(token),
            ct,
            body,
        )
    };

    // A dry run (any user) shows the plan with per-item diffs and writes nothing.
    let r = post(
        &viewer,
        "?dry_run=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["mode"], "dry_run");
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 2);
    assert!(v["plan"]["items"].as_array().unwrap().len() >= 3);
    assert!(v["applied"].is_null());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        0
    );

    // Applying is the Editor's (and the Admin's): not a Viewer's.
    let r = post(
        &viewer,
        "?apply=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 403);
    let r = post(
        &editor,
        "?apply=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["applied"]["import_run_audit_id"].is_number());
    assert_eq!(
        get(&srv, "/api/v1/ip-assets", Some(&viewer)).json()["total"],
        2
    );

    // Again: every item is a skip.
    let v = post(
        &editor,
        "?dry_run=1",
        Some("application/json"),
        BUNDLE.as_bytes(),
    )
    .json();
    assert_eq!(v["plan"]["summary"]["ip_assets"]["skip"], 2);

    // CSV by file name, with an update diff.
    let csv = b"ip_address,type,project_name,host_name,notes,archived\n10.2.0.2,OS,,,changed,\n";
    let r = post(&editor, "?file=ip-assets.csv&dry_run=1", None, csv);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["plan"]["summary"]["ip_assets"]["update"], 1);

    // Bad input: located errors, nothing written.
    let bad =
        br#"{"schema_version":"1","data":{"ip_assets":[{"ip_address":"10.2.0.300","type":"VM"}]}}"#;
    let r = post(&editor, "?apply=1", Some("application/json"), bad);
    assert_eq!(r.status, 422);
    assert_eq!(r.error_code(), "import_invalid");
    let details = r.json()["error"]["details"].clone();
    assert!(
        details[0]["location"]
            .as_str()
            .unwrap()
            .contains("ip_assets[0]"),
        "{details}"
    );
    let r = post(&editor, "?dry_run=1", Some("text/plain"), b"x");
    assert_eq!(r.status, 415);
    assert_eq!(r.error_code(), "unsupported_media_type");
    assert_eq!(
        post(
            &editor,
            "?dry_run=1&apply=1",
            Some("application/json"),
            BUNDLE.as_bytes()
        )
        .status,
        400
    );

    // Exports.
    let r = get(&srv, "/api/v1/export/ip-assets.csv", Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.text().contains("10.2.0.1"));
    let r = get(
        &srv,
        "/api/v1/export/bundle.json?project=core",
        Some(&viewer),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["data"]["ip_assets"].as_array().unwrap().len(), 1);
    let r = get(&srv, "/api/v1/export/bundle.zip", Some(&viewer));
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(b"PK"));
    let r = get(&srv, "/api/v1/export/nope.txt", Some(&viewer));
    assert_eq!(r.status, 404);
    assert_eq!(get(&srv, "/api/v1/export/bundle.json", None).status, 401);
}

const HOSTS_CSV: &str =
    "name,notes,vendor_name,project_name,os_ip,bmc_ip\nnode-01,rack 1,,,10.3.0.11,10.3.0.12\n";
const ASSETS_CSV: &str =
    "ip_address,type,project_name,host_name,notes,archived\n10.3.0.20,VM,,node-01,,\n";

/// A `multipart/form-data` body of (field, file name, bytes) file parts.
fn multipart(parts: &[(&str, &str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----ipocket-test-7f3a";
    let mut body = Vec::new();
    for (field, file, data) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n{data}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn csv_uploads_as_text_csv_and_multipart_with_the_originals_fields() {
    let srv = start();
    let (_, editor, _) = users(&srv);
    let post = |query: &str, ct: &str, body: &[u8]| {
        request(
            &srv,
            "POST",
            &format!("/api/v1/import{query}"),
            Some(&editor),
            Some(ct),
            body,
        )
    };

    // text/csv: which CSV it is comes from the header row.
    let lone = "ip_address,type,project_name,host_name,notes,archived\n10.3.0.5,VM,,,,\n";
    let r = post("?dry_run=1", "text/csv", lone.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["plan"]["source"], "ip-assets.csv");
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["create"], 1);
    let r = post(
        "?dry_run=1",
        "text/csv; charset=utf-8",
        HOSTS_CSV.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["plan"]["summary"]["hosts"]["create"], 1);
    let r = post(
        "?dry_run=1&create_missing=1",
        "text/csv",
        b"name,description\ncore,the core\n",
    );
    assert_eq!(r.json()["plan"]["summary"]["projects"]["create"], 1);
    // A header that fits several kinds asks for ?file=, which still decides.
    let r = post("?dry_run=1", "text/csv", b"name\nacme\n");
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "bad_request");
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        m.contains("fits projects.csv, vendors.csv and tags.csv") && m.contains("?file=hosts.csv|"),
        "{m}"
    );
    let r = post("?dry_run=1&file=vendors.csv", "text/csv", b"name\nacme\n");
    assert_eq!(r.json()["plan"]["summary"]["vendors"]["create"], 1);

    // multipart: hosts + ip_assets in one request are one plan, applied in one transaction.
    let (ct, body) = multipart(&[
        ("hosts", "hosts.csv", HOSTS_CSV),
        ("ip_assets", "ip-assets.csv", ASSETS_CSV),
    ]);
    let r = post("?dry_run=1", &ct, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["plan"]["source"], "hosts.csv+ip-assets.csv");
    assert_eq!(v["plan"]["summary"]["hosts"]["create"], 1);
    assert_eq!(v["plan"]["summary"]["ip_assets"]["create"], 3, "{v}");
    let r = post("?apply=1", &ct, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = r.json()["applied"]["import_run_audit_id"].clone();
    assert!(audit.is_number());
    let assets = get(&srv, "/api/v1/ip-assets", Some(&editor)).json();
    assert_eq!(assets["total"], 3, "{assets}");

    // multipart `file`: any format by its name, a CSV of another name by its header.
    let (ct, body) = multipart(&[(
        "file",
        "export-2024.csv",
        "ip_address,type,project_name,host_name,notes,archived\n10.3.0.30,OS,,,,\n",
    )]);
    let r = post("?dry_run=1", &ct, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["plan"]["summary"]["ip_assets"]["create"], 1);

    // Clear refusals: no file, both kinds of field, ?file= with multipart.
    let (ct, body) = multipart(&[("other", "x.csv", ASSETS_CSV)]);
    let r = post("?dry_run=1", &ct, &body);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("the upload has no file"), "{}", r.text());
    let (ct, body) = multipart(&[
        ("file", "bundle.json", BUNDLE),
        ("hosts", "hosts.csv", HOSTS_CSV),
    ]);
    let r = post("?dry_run=1", &ct, &body);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not both"), "{}", r.text());
    let (ct, body) = multipart(&[("file", "ip-assets.csv", ASSETS_CSV)]);
    assert_eq!(
        post("?dry_run=1&file=ip-assets.csv", &ct, &body).status,
        400
    );
}

/// Starts a server on an existing database file (no bootstrap password needed).
fn start_on(db: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet", "--db"])
        .arg(db)
        .env_remove("IPOCKET_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (addr, _) = read_listen_addr(&mut stdout);
    (child, addr)
}

fn post_import(addr: &str, token: &str, bundle: &[u8]) -> Resp {
    let head = format!(
        "POST /api/v1/import?apply=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        bundle.len()
    );
    raw_request(addr, &head, bundle)
}

#[test]
fn kill_9_during_apply_is_all_or_nothing() {
    let mut srv = start();
    let (_, editor, _) = users(&srv);
    let n = 20_000;
    // First apply: creates every asset; its duration tells when the second is mid-way.
    let started = Instant::now();
    let r = post_import(
        &srv.addr,
        &editor,
        &ipocket_core::import::synthetic_bundle_json(n, "first"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let took = started.elapsed();

    // Second apply changes every note; kill -9 the server half-way through it.
    let second = ipocket_core::import::synthetic_bundle_json(n, "second");
    let (addr, token) = (srv.addr.clone(), editor.clone());
    let sender = std::thread::spawn(move || {
        let head = format!(
            "POST /api/v1/import?apply=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            second.len()
        );
        let mut s = TcpStream::connect(&addr).unwrap();
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&second);
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
    });
    std::thread::sleep(took / 2);
    srv.child.kill().unwrap(); // SIGKILL
    srv.child.wait().unwrap();
    sender.join().unwrap();

    let (mut child, addr) = start_on(&srv.db);
    let count = |q: &str| {
        let head = format!(
            "GET /api/v1/ip-assets?per_page=1&{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {editor}\r\n\r\n"
        );
        let r = raw_request(&addr, &head, b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["total"].as_u64().unwrap()
    };
    assert_eq!(count(""), n as u64);
    let changed = count("q=second");
    eprintln!(
        "first apply {took:?}; after kill -9 mid-way through the second: {changed} of {n} changed"
    );
    assert!(
        changed == 0 || changed == n as u64,
        "half an import: {changed}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigterm_during_apply_finishes_the_write() {
    let mut srv = start();
    let (_, editor, _) = users(&srv);
    let n = 20_000;
    let started = Instant::now();
    let r = post_import(
        &srv.addr,
        &editor,
        &ipocket_core::import::synthetic_bundle_json(n, "first"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let took = started.elapsed();

    let second = ipocket_core::import::synthetic_bundle_json(n, "second");
    let (addr, token) = (srv.addr.clone(), editor.clone());
    let sender = std::thread::spawn(move || post_import(&addr, &token, &second));
    std::thread::sleep(took / 2);
    let pid = srv.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // The accepted apply is answered, then the server exits cleanly.
    let r = sender.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(srv.child.wait().unwrap().success());

    let (mut child, addr) = start_on(&srv.db);
    let head = format!(
        "GET /api/v1/ip-assets?per_page=1&q=second HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {editor}\r\n\r\n"
    );
    let r = raw_request(&addr, &head, b"");
    assert_eq!(r.json()["total"], n);
    let _ = child.kill();
    let _ = child.wait();
}
