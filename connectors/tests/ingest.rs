//! The ingest path on a real SQLite file.

use ipocket_connectors::{ingest, IngestError, IngestOptions, IngestRequest, SampleStore};
use ipocket_testkit::data;
use ipocket_testkit::peer::{self, Peer};

const T0: i64 = 1_795_391_682_000;

fn store() -> (tempfile::TempDir, SampleStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SampleStore::open(dir.path().join("samples.db")).unwrap();
    store.register_server("web-01", Some("web 01")).unwrap();
    (dir, store)
}

fn push<'a>(
    store: &mut SampleStore,
    id: &'a str,
    ct: &'a str,
    body: &'a [u8],
) -> Result<ipocket_connectors::IngestResponse, IngestError> {
    let req = IngestRequest {
        server_id: Some(id),
        content_type: Some(ct),
        body,
    };
    ingest(store, &req, &IngestOptions::default(), T0)
}

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[test]
fn a_real_node_exporter_scrape_is_stored_whole() {
    let (_dir, mut store) = store();
    let body = data::node_exporter_prom();
    let resp = push(&mut store, "web-01", TEXT, &body).unwrap();
    assert_eq!(resp.metrics_received, 507);
    assert_eq!(resp.rejected_lines, 0);
    assert!(resp.warnings.is_empty());
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(json["status"], "success");
    assert_eq!(json["metrics_received"], 507);
    assert_eq!(store.count(Some("web-01")).unwrap(), 507);

    let root = store
        .latest(
            "web-01",
            "node_filesystem_size_bytes",
            &[("mountpoint", "/")],
        )
        .unwrap();
    assert_eq!(root.len(), 1);
    assert_eq!(root[0].value, 2.70553174016e11);
    assert_eq!(root[0].metric_type, "gauge");
    assert_eq!(
        root[0].labels,
        r#"{"device":"/dev/vda","fstype":"ext4","mountpoint":"/"}"#
    );
    assert_eq!(root[0].help.as_deref(), Some("Filesystem size in bytes."));
    assert_eq!(root[0].timestamp_ms, T0);

    let idle = store
        .latest("web-01", "node_cpu_seconds_total", &[("mode", "idle")])
        .unwrap();
    assert!(!idle.is_empty());
    assert!(idle.iter().all(|s| s.metric_type == "counter"));
    // Summary rows keep their sample names.
    let gc = store
        .latest("web-01", "go_gc_duration_seconds_count", &[])
        .unwrap();
    assert_eq!(gc[0].metric_type, "summary");
    let s = store.servers().unwrap();
    assert_eq!(s, vec![("web-01".to_string(), Some(T0))]);
}

#[test]
fn latest_returns_the_newest_sample_per_series_and_uses_the_index() {
    let (dir, mut store) = store();
    push(
        &mut store,
        "web-01",
        TEXT,
        b"m{a=\"1\"} 1 1000\nm{a=\"2\"} 2 1000\n",
    )
    .unwrap();
    push(
        &mut store,
        "web-01",
        TEXT,
        b"m{a=\"1\"} 10 2000\nm{a=\"2\"} 20 500\n",
    )
    .unwrap();
    let latest = store.latest("web-01", "m", &[]).unwrap();
    let got: Vec<_> = latest
        .iter()
        .map(|s| (s.labels.as_str(), s.value, s.timestamp_ms))
        .collect();
    assert_eq!(
        got,
        vec![(r#"{"a":"1"}"#, 10.0, 2000), (r#"{"a":"2"}"#, 2.0, 1000)]
    );
    let plan: String = rusqlite::Connection::open(dir.path().join("samples.db"))
        .unwrap()
        .prepare("EXPLAIN QUERY PLAN SELECT labels, value, max(timestamp) FROM metric_samples WHERE server_id = 'web-01' AND metric_name = 'm' GROUP BY labels")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("; ");
    assert!(plan.contains("metric_samples_series"), "{plan}");
}

#[test]
fn bad_lines_are_reported_and_the_rest_is_stored() {
    let (_dir, mut store) = store();
    let body = b"# TYPE a gauge\na 1\na{x=\"1\" 2\nb 3\nc notanumber\n";
    let resp = push(&mut store, "web-01", TEXT, body).unwrap();
    assert_eq!(resp.metrics_received, 2);
    assert_eq!(resp.rejected_lines, 2);
    assert_eq!(resp.warnings.len(), 2);
    assert!(resp.warnings[0].contains("line 3"), "{:?}", resp.warnings);
    assert!(resp.warnings[1].contains("line 5"), "{:?}", resp.warnings);
}

#[test]
fn every_refusal_is_a_typed_4xx_and_stores_nothing() {
    let (_dir, mut store) = store();
    type Case<'a> = (Option<&'a str>, &'a str, &'a [u8], u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            None,
            TEXT,
            b"a 1\n",
            400,
            "server_id query parameter is required",
        ),
        (
            Some(""),
            TEXT,
            b"a 1\n",
            400,
            "server_id query parameter is required",
        ),
        (
            Some("web 01"),
            TEXT,
            b"a 1\n",
            400,
            "invalid server_id format",
        ),
        (Some("-x"), TEXT, b"a 1\n", 400, "invalid server_id format"),
        (Some("db-02"), TEXT, b"a 1\n", 403, "unknown server_id"),
        (Some("web-01"), TEXT, b"", 400, "empty request body"),
        (Some("web-01"), TEXT, b" \n\n", 400, "empty request body"),
        (
            Some("web-01"),
            TEXT,
            b"this is not prometheus\n{}\n",
            400,
            "failed to parse",
        ),
        (
            Some("web-01"),
            TEXT,
            b"# only a comment\n",
            400,
            "no valid sample",
        ),
        (
            Some("web-01"),
            "application/json",
            b"{\"a\":1}",
            415,
            "unsupported Content-Type",
        ),
    ];
    for (id, ct, body, status, msg) in cases {
        let req = IngestRequest {
            server_id: id,
            content_type: Some(ct),
            body,
        };
        let err = ingest(&mut store, &req, &IngestOptions::default(), T0).unwrap_err();
        assert_eq!(err.status(), status, "{id:?} {body:?}: {err}");
        assert!(err.to_string().contains(msg), "{err}");
        assert!(err.to_json()["error"].as_str().unwrap().contains(msg));
        assert!(err.is_permanent());
    }
    let req = IngestRequest {
        server_id: Some("web-01"),
        content_type: Some(TEXT),
        body: &[b'a'; 2048],
    };
    let opts = IngestOptions {
        max_body_bytes: 1024,
        ..IngestOptions::default()
    };
    let err = ingest(&mut store, &req, &opts, T0).unwrap_err();
    assert_eq!(err.status(), 413);
    assert!(matches!(
        err,
        IngestError::BodyTooLarge {
            size: 2048,
            limit: 1024
        }
    ));
    let err = push(&mut store, "web-01", TEXT, b"x{\n").unwrap_err();
    assert_eq!(err.to_json()["details"].as_array().unwrap().len(), 1);
    assert_eq!(store.count(None).unwrap(), 0);
}

#[test]
fn unregistered_servers_are_accepted_when_the_policy_says_so() {
    let (_dir, mut store) = store();
    let req = IngestRequest {
        server_id: Some("db-02"),
        content_type: None,
        body: b"a 1\n",
    };
    let opts = IngestOptions {
        require_registered: false,
        ..IngestOptions::default()
    };
    assert_eq!(
        ingest(&mut store, &req, &opts, T0)
            .unwrap()
            .metrics_received,
        1
    );
}

#[test]
fn openmetrics_units_timestamps_nan_and_escapes_survive() {
    let (_dir, mut store) = store();
    let body = "# TYPE temp_celsius gauge\n# UNIT temp_celsius celsius\n# HELP temp_celsius Room \\\"temp\\\".\ntemp_celsius{room=\"a\\\"b\\\\c\\nd\",z=\"é\"} NaN 1700000000.5\n# EOF\n";
    let resp = push(
        &mut store,
        "web-01",
        "application/openmetrics-text; version=1.0.0",
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(resp.format, "openmetrics");
    assert!(resp.warnings.is_empty(), "{:?}", resp.warnings);
    let s = &store
        .latest("web-01", "temp_celsius", &[("room", "a\"b\\c\nd")])
        .unwrap()[0];
    assert!(s.value.is_nan());
    assert_eq!(s.timestamp_ms, 1_700_000_000_500);
    assert_eq!(s.unit.as_deref(), Some("celsius"));
    assert_eq!(s.help.as_deref(), Some("Room \"temp\"."));
    let labels: serde_json::Value = serde_json::from_str(&s.labels).unwrap();
    assert_eq!(labels["room"], "a\"b\\c\nd");
    assert_eq!(labels["z"], "é");
}

#[test]
fn retention_sweep_deletes_old_rows_only_and_the_file_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.db");
    {
        let mut store = SampleStore::open(&path).unwrap();
        store.register_server("web-01", None).unwrap();
        let mut old = String::new();
        for i in 0..25_000 {
            old.push_str(&format!("old{{i=\"{i}\"}} 1 1000\n"));
        }
        push(&mut store, "web-01", TEXT, old.as_bytes()).unwrap();
        push(&mut store, "web-01", TEXT, b"new 1 5000\n").unwrap();
        assert_eq!(store.sweep_older_than(2000).unwrap(), 25_000);
        assert_eq!(store.sweep_older_than(2000).unwrap(), 0);
    }
    let store = SampleStore::open(&path).unwrap();
    assert_eq!(store.count(None).unwrap(), 1);
    assert!(store.is_registered("web-01").unwrap());
}

#[test]
fn a_live_node_exporter_scrape_is_stored_without_rejections() {
    let exporter = Peer::node_exporter();
    let (status, body) = peer::get(&exporter.addr, "/metrics").expect("scrape");
    assert_eq!(status, 200);
    let samples = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    let (_dir, mut store) = store();
    let resp = push(&mut store, "web-01", TEXT, body.as_bytes()).unwrap();
    assert_eq!(resp.rejected_lines, 0, "{:?}", resp.warnings);
    assert_eq!(resp.metrics_received, samples);
    assert!(samples > 300);
}

#[test]
fn a_sample_over_a_label_limit_refuses_the_push_at_its_line() {
    let (_dir, mut store) = store();
    let opts = IngestOptions::default();
    let refuse = |store: &mut SampleStore, body: &[u8]| {
        let req = IngestRequest {
            server_id: Some("web-01"),
            content_type: Some(TEXT),
            body,
        };
        ingest(store, &req, &opts, T0).unwrap_err()
    };
    // 40,000 labels (430 kB): parsed and refused in well under a second.
    let mut many = String::from("up 1\nwide{");
    for i in 0..40_000 {
        many.push_str(&format!("l{i}=\"v\","));
    }
    many.push_str("} 1\n");
    let started = std::time::Instant::now();
    let err = refuse(&mut store, many.as_bytes());
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.status(), 422);
    assert!(err.is_permanent());
    assert_eq!(
        err.to_string(),
        "line 2: sample \"wide\" has 40000 labels, more than the limit of 64"
    );
    assert_eq!(err.details()["line"], 2);
    assert_eq!(err.details()["metric"], "wide");

    let long = format!("up 1\nup 2\nx{{path=\"{}\"}} 1\n", "a".repeat(2049));
    let err = refuse(&mut store, long.as_bytes());
    assert!(
        matches!(&err, IngestError::SampleLimit { line: 3, label: Some(l), .. } if l == "path"),
        "{err}"
    );
    assert!(
        err.to_string().contains("label value of 2049 bytes"),
        "{err}"
    );
    let name = format!("x{{{}=\"v\"}} 1\n", "n".repeat(257));
    let err = refuse(&mut store, name.as_bytes());
    assert!(err.to_string().contains("label name of 257 bytes"), "{err}");
    let metric = format!("{} 1\n", "m".repeat(2049));
    let err = refuse(&mut store, metric.as_bytes());
    assert_eq!(err.details()["label"], "__name__");
    // The good lines before the refused sample were not kept.
    assert_eq!(store.count(None).unwrap(), 0);

    // At the limits, everything is stored.
    let mut edge = String::from("edge{");
    for i in 0..64 {
        edge.push_str(&format!("l{i}=\"{}\",", "v".repeat(2048)));
    }
    edge.push_str("} 1\n");
    assert_eq!(
        push(&mut store, "web-01", TEXT, edge.as_bytes())
            .unwrap()
            .metrics_received,
        1
    );
}

#[test]
fn a_sample_stamped_too_far_ahead_refuses_the_push() {
    let (_dir, mut store) = store();
    let year_3000 = 32_503_680_000_000i64;
    let body = format!("up 1\nup{{job=\"a\"}} 1 {year_3000}\n");
    let err = push(&mut store, "web-01", TEXT, body.as_bytes()).unwrap_err();
    assert_eq!(err.status(), 422);
    assert!(
        err.to_string().starts_with(&format!(
            "line 2: sample \"up\" has timestamp {year_3000} ms, more than 600 s ahead"
        )),
        "{err}"
    );
    assert_eq!(err.details()["max_future_skew_ms"], 600_000);
    assert_eq!(store.count(None).unwrap(), 0);
    // Within the skew (and in the past) it is stored; the skew is an option.
    let ok = format!(
        "up 1 {}\nup{{job=\"a\"}} 1 {}\n",
        T0 + 600_000,
        T0 - 86_400_000
    );
    assert_eq!(
        push(&mut store, "web-01", TEXT, ok.as_bytes())
            .unwrap()
            .metrics_received,
        2
    );
    let opts = IngestOptions {
        max_future_skew_ms: 0,
        ..IngestOptions::default()
    };
    let ahead = format!("up 1 {}\n", T0 + 1);
    let req = IngestRequest {
        server_id: Some("web-01"),
        content_type: Some(TEXT),
        body: ahead.as_bytes(),
    };
    assert!(matches!(
        ingest(&mut store, &req, &opts, T0),
        Err(IngestError::FutureTimestamp { line: 1, .. })
    ));
}
