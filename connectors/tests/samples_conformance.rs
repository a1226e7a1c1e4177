//! The samples store's conformance suite: every behaviour against both backends (a SQLite
//! file in a temporary folder, and a fresh database on the real PostgreSQL 15 the testkit
//! starts; these fail when PostgreSQL is missing). Expected values are computed here (from
//! the pushed text, or from the scrape summary of `NodeSnapshot`), never read back from one
//! backend to check the other.

use ipocket_connectors::node_series::NodeMetric;
use ipocket_connectors::node_summary::{NodeSnapshot, NodeSummary};
use ipocket_connectors::{
    ingest, IngestError, IngestOptions, IngestRequest, IngestResponse, SampleStore, StoreError,
    SAMPLES_SCHEMA, SWEEP_BATCH,
};
use ipocket_db::{AuditActor, Backend, Database, DbUrl, Row};
use ipocket_expfmt::Format;
use ipocket_testkit::data;
use ipocket_testkit::postgres::FreshDatabase;

/// A push's own clock for samples without a timestamp.
const T0: i64 = 1_795_391_682_000;

/// A fresh, empty database on one backend.
struct Db {
    url: DbUrl,
    _fresh: FreshDatabase,
}

impl Db {
    fn new(b: Backend) -> Db {
        let fresh = match b {
            Backend::Sqlite => FreshDatabase::sqlite(),
            Backend::Postgres => FreshDatabase::postgres(),
        };
        Db {
            url: DbUrl::parse(&fresh.url).unwrap(),
            _fresh: fresh,
        }
    }

    /// A store on it (call again for another handle, as another replica).
    fn store(&self) -> SampleStore {
        SampleStore::open_url(&self.url).unwrap()
    }

    /// A store with `web-01` registered.
    fn store_with_web01(&self) -> SampleStore {
        let mut s = self.store();
        s.register_server("web-01", Some("web 01")).unwrap();
        s
    }

    /// Rows of `sql`, read through a connection of its own.
    fn rows(&self, sql: &str) -> Vec<Row> {
        let db = Database::open(&self.url, &[]).unwrap();
        db.read(|c| c.query(sql, &[])).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0].get(0).unwrap()
    }

    fn has_table(&self, name: &str) -> bool {
        let db = Database::open(&self.url, &[]).unwrap();
        db.read(|c| c.has_table(name)).unwrap()
    }
}

fn push_at(
    store: &mut SampleStore,
    server_id: &str,
    body: &str,
    now_ms: i64,
) -> Result<IngestResponse, IngestError> {
    push_with(store, server_id, body, now_ms, &IngestOptions::default())
}

fn push_with(
    store: &mut SampleStore,
    server_id: &str,
    body: &str,
    now_ms: i64,
    opts: &IngestOptions,
) -> Result<IngestResponse, IngestError> {
    let req = IngestRequest {
        server_id: Some(server_id),
        content_type: Some("text/plain; version=0.0.4"),
        body: body.as_bytes(),
    };
    ingest(store, &req, opts, now_ms)
}

ipocket_testkit::on_both_backends!(
    a_push_is_stored_with_types_help_units_and_its_own_timestamps,
    a_whole_node_exporter_scrape_is_stored_in_one_push,
    a_series_is_its_metric_and_sorted_labels_and_latest_takes_its_newest_row,
    latest_filters_by_label_and_pages_by_labels,
    registering_a_server_is_audited_once_per_change,
    registration_without_the_inventory_writes_no_audit_and_bad_ids_are_refused,
    an_unknown_server_is_refused_unless_unregistered_pushes_are_allowed,
    a_refused_push_leaves_nothing_behind,
    retention_sweeps_old_samples_in_batches,
    node_series_gives_the_dashboard_window,
    node_summary_of_stored_scrapes_is_the_scrape_summary,
    pushes_from_two_handles_all_land,
    a_store_reports_its_backend_version_and_health,
);

fn a_push_is_stored_with_types_help_units_and_its_own_timestamps(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    let body = "# HELP temp_celsius The temperature.\n# TYPE temp_celsius gauge\n\
                temp_celsius{room=\"it's \\\"here\\\"\"} 21.5\n\
                # TYPE jobs_total counter\njobs_total 7 1795391600000\n\
                nan_gauge NaN\nbad line\n";
    let resp = push_at(&mut s, "web-01", body, T0).unwrap();
    assert_eq!(
        (
            resp.metrics_received,
            resp.rejected_lines,
            resp.warnings.len()
        ),
        (3, 1, 1)
    );
    assert_eq!(s.count(Some("web-01")).unwrap(), 3);
    assert_eq!(s.count(None).unwrap(), 3);
    assert_eq!(s.count(Some("web-02")).unwrap(), 0);

    let temp = s.latest("web-01", "temp_celsius", &[]).unwrap();
    assert_eq!(temp.len(), 1);
    assert_eq!(temp[0].metric_type, "gauge");
    assert_eq!(temp[0].labels, r#"{"room":"it's \"here\""}"#);
    assert_eq!(
        (temp[0].value, temp[0].timestamp_ms),
        (21.5, T0),
        "no timestamp: the push's clock"
    );
    assert_eq!(temp[0].help.as_deref(), Some("The temperature."));
    let jobs = &s.latest("web-01", "jobs_total", &[]).unwrap()[0];
    assert_eq!(
        (jobs.metric_type.as_str(), jobs.value, jobs.timestamp_ms),
        ("counter", 7.0, 1_795_391_600_000)
    );
    assert_eq!((jobs.labels.as_str(), jobs.help.as_deref()), ("{}", None));
    let nan = &s.latest("web-01", "nan_gauge", &[]).unwrap()[0];
    assert!(
        nan.value.is_nan(),
        "NaN is stored as NULL and read back as NaN"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM metric_samples WHERE value IS NULL"),
        1
    );
    let servers = s.registered_servers().unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(
        (servers[0].name.as_deref(), servers[0].last_seen_at_ms),
        (Some("web 01"), Some(T0))
    );
    assert!(servers[0].created_at_ms > 0);
    assert_eq!(s.servers().unwrap(), vec![("web-01".to_string(), Some(T0))]);

    // An OpenMetrics unit is kept.
    let om = "# TYPE disk_bytes gauge\n# UNIT disk_bytes bytes\ndisk_bytes 10\n# EOF\n";
    let req = IngestRequest {
        server_id: Some("web-01"),
        content_type: Some("application/openmetrics-text; version=1.0.0"),
        body: om.as_bytes(),
    };
    assert_eq!(
        ingest(&mut s, &req, &IngestOptions::default(), T0)
            .unwrap()
            .format,
        "openmetrics"
    );
    let disk = &s.latest("web-01", "disk_bytes", &[]).unwrap()[0];
    assert_eq!(disk.unit.as_deref(), Some("bytes"));
}

fn a_whole_node_exporter_scrape_is_stored_in_one_push(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    let body = String::from_utf8(data::node_exporter_prom()).unwrap();
    // More samples than one multi-row statement holds, and a count that is no power of two.
    let resp = push_at(&mut s, "web-01", &body, T0).unwrap();
    assert_eq!((resp.metrics_received, resp.rejected_lines), (507, 0));
    assert_eq!(s.count(Some("web-01")).unwrap(), 507);
    // Every sample line is one row, with its own value.
    let expected_sum: f64 = body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .filter(|v| v.is_finite())
        .sum();
    let stored: f64 = db.rows(
        "SELECT CAST(SUM(value) AS DOUBLE PRECISION) FROM metric_samples \
         WHERE value < 1e300 AND value > -1e300",
    )[0]
    .get(0)
    .unwrap();
    assert!(
        (stored - expected_sum).abs() <= 1e-9 * expected_sum.abs(),
        "{stored} != {expected_sum}"
    );
    let cpus = s
        .latest("web-01", "node_cpu_seconds_total", &[("mode", "idle")])
        .unwrap();
    assert_eq!(cpus.len(), 2);
    assert_eq!(cpus[0].labels, r#"{"cpu":"0","mode":"idle"}"#);
    assert_eq!(cpus[0].value, 6035.89);
    assert_eq!(cpus[0].metric_type, "counter");
}

fn a_series_is_its_metric_and_sorted_labels_and_latest_takes_its_newest_row(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    push_at(
        &mut s,
        "web-01",
        "m{b=\"2\",a=\"1\"} 1 1000\nm{a=\"2\"} 2 1000\n",
        T0,
    )
    .unwrap();
    // Labels in another order are the same series; a late sample does not win "latest".
    push_at(
        &mut s,
        "web-01",
        "m{a=\"1\",b=\"2\"} 10 2000\nm{a=\"2\"} 20 500\n",
        T0,
    )
    .unwrap();
    // Two rows at the same newest time: the first stored is the latest.
    push_at(
        &mut s,
        "web-01",
        "m{a=\"3\"} 30 3000\nm{a=\"3\"} 31 3000\n",
        T0,
    )
    .unwrap();
    push_at(&mut s, "web-01", "other{a=\"1\"} 5 9000\n", T0).unwrap();
    let got: Vec<_> = s
        .latest("web-01", "m", &[])
        .unwrap()
        .into_iter()
        .map(|x| (x.labels, x.value, x.timestamp_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            (r#"{"a":"1","b":"2"}"#.to_string(), 10.0, 2000),
            (r#"{"a":"2"}"#.to_string(), 2.0, 1000),
            (r#"{"a":"3"}"#.to_string(), 30.0, 3000),
        ]
    );
    assert_eq!(
        db.count("SELECT count(DISTINCT labels) FROM metric_samples WHERE metric_name = 'm'"),
        3
    );
    // Another server's series are its own.
    s.register_server("web-02", None).unwrap();
    push_at(&mut s, "web-02", "m{a=\"1\",b=\"2\"} 99 9000\n", T0).unwrap();
    assert_eq!(s.latest("web-01", "m", &[]).unwrap()[0].value, 10.0);
    assert_eq!(s.latest("web-02", "m", &[]).unwrap().len(), 1);
    assert!(s.latest("web-03", "m", &[]).unwrap().is_empty());
}

fn latest_filters_by_label_and_pages_by_labels(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    let body: String = (0..7)
        .map(|i| format!("x{{i=\"{i}\",even=\"{}\"}} {i}\n", i % 2 == 0))
        .collect();
    push_at(&mut s, "web-01", &body, T0).unwrap();
    let even = s.latest("web-01", "x", &[("even", "true")]).unwrap();
    assert_eq!(
        even.iter().map(|x| x.value).collect::<Vec<_>>(),
        vec![0.0, 2.0, 4.0, 6.0]
    );
    let one = s
        .latest("web-01", "x", &[("even", "false"), ("i", "3")])
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].value, 3.0);
    assert!(s
        .latest("web-01", "x", &[("missing", "1")])
        .unwrap()
        .is_empty());

    // Pages of 3 in label order, each after the last labels of the one before.
    let mut after: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let (page, more) = s
            .latest_page("web-01", "x", &[], after.as_deref(), 3)
            .unwrap();
        pages.push(page.iter().map(|x| x.value).collect::<Vec<_>>());
        if !more {
            break;
        }
        after = page.last().map(|x| x.labels.clone());
    }
    // Labels sort as text: {"even":"false",…} before {"even":"true",…}.
    assert_eq!(
        pages,
        vec![vec![1.0, 3.0, 5.0], vec![0.0, 2.0, 4.0], vec![6.0]]
    );
    let (page, more) = s
        .latest_page("web-01", "x", &[("even", "false")], None, 2)
        .unwrap();
    assert_eq!((page.len(), more), (2, true));
}

fn registering_a_server_is_audited_once_per_change(b: Backend) {
    let db = Db::new(b);
    let inv = ipocket_core::Inventory::open_url(&db.url).unwrap();
    let mut s = db.store();
    // An actor whose user does not exist is refused by the audit row's foreign key: the
    // whole registration is rolled back.
    let ghost = AuditActor {
        user_id: Some(7),
        username: Some("ghost".into()),
    };
    let e = s
        .register_server_as("web-01", Some("web"), &ghost)
        .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("foreign key"), "{e}");
    assert!(!s.is_registered("web-01").unwrap());
    assert_eq!(db.count("SELECT count(*) FROM audit_logs"), 0);

    let ed = AuditActor {
        user_id: None,
        username: Some("ed".into()),
    };
    s.register_server_as("web-01", Some("web"), &ed).unwrap();
    s.register_server_as("web-01", Some("web"), &ed).unwrap();
    s.register_server_as("web-01", Some("web one"), &ed)
        .unwrap();
    s.register_server("web-02", None).unwrap();
    let rows = db.rows(
        "SELECT user_id, username, target_type, target_id, target_label, action, changes \
         FROM audit_logs ORDER BY id",
    );
    type Audit = (
        Option<i64>,
        Option<String>,
        String,
        i64,
        String,
        String,
        serde_json::Value,
    );
    let got: Vec<Audit> = rows
        .iter()
        .map(|r| {
            (
                r.get(0).unwrap(),
                r.get(1).unwrap(),
                r.get(2).unwrap(),
                r.get(3).unwrap(),
                r.get(4).unwrap(),
                r.get(5).unwrap(),
                serde_json::from_str(&r.get::<String>(6).unwrap()).unwrap(),
            )
        })
        .collect();
    let change = |before: Option<&str>, after: Option<&str>| serde_json::json!([{"field": "name", "before": before, "after": after}]);
    assert_eq!(
        got,
        vec![
            (
                None,
                Some("ed".into()),
                "INGEST_SERVER".into(),
                0,
                "web-01".into(),
                "CREATE".into(),
                change(None, Some("web"))
            ),
            (
                None,
                Some("ed".into()),
                "INGEST_SERVER".into(),
                0,
                "web-01".into(),
                "UPDATE".into(),
                change(Some("web"), Some("web one"))
            ),
            (
                None,
                None,
                "INGEST_SERVER".into(),
                0,
                "web-02".into(),
                "CREATE".into(),
                change(None, None)
            ),
        ]
    );
    // The inventory reads them as its own.
    let log = inv
        .audit_log(&Default::default(), ipocket_core::Page::all())
        .unwrap();
    assert_eq!(log.total, 3);
    let servers = s.registered_servers().unwrap();
    assert_eq!(
        servers
            .iter()
            .map(|x| (x.server_id.as_str(), x.name.as_deref()))
            .collect::<Vec<_>>(),
        vec![("web-01", Some("web one")), ("web-02", None)]
    );
}

fn registration_without_the_inventory_writes_no_audit_and_bad_ids_are_refused(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store();
    s.register_server("3f2504e0-4f89-11d3-9a0c-0305e82c3301", None)
        .unwrap();
    assert!(s
        .is_registered("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        .unwrap());
    assert!(!db.has_table("audit_logs"));
    for bad in ["", "-web", "web-", "web 01", &"a".repeat(65)] {
        let e = s.register_server(bad, None).unwrap_err();
        assert!(
            matches!(&e, StoreError::InvalidServerId(id) if id == bad),
            "{bad:?}: {e}"
        );
    }
    assert_eq!(s.registered_servers().unwrap().len(), 1);
}

fn an_unknown_server_is_refused_unless_unregistered_pushes_are_allowed(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    let e = push_at(&mut s, "web-09", "up 1\n", T0).unwrap_err();
    assert!(matches!(&e, IngestError::UnknownServer(id) if id == "web-09"));
    assert_eq!(e.status(), 403);
    let e = push_at(&mut s, "web 09", "up 1\n", T0).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(s.count(None).unwrap(), 0);
    let open = IngestOptions {
        require_registered: false,
        ..IngestOptions::default()
    };
    push_with(&mut s, "web-09", "up 1\n", T0, &open).unwrap();
    assert_eq!(s.count(Some("web-09")).unwrap(), 1);
    assert!(
        !s.is_registered("web-09").unwrap(),
        "a push does not register"
    );
}

fn a_refused_push_leaves_nothing_behind(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    push_at(&mut s, "web-01", "up 1\n", T0).unwrap();
    // 300 good samples (more than one multi-row statement) before the refused one.
    let mut body: String = (0..300).map(|i| format!("g{{i=\"{i}\"}} 1\n")).collect();
    body.push_str("up{a=\"1\",b=\"2\"} 1\n");
    let opts = IngestOptions {
        max_labels: 1,
        ..IngestOptions::default()
    };
    let e = push_with(&mut s, "web-01", &body, T0 + 5000, &opts).unwrap_err();
    assert!(
        matches!(e, IngestError::SampleLimit { line: 301, .. }),
        "{e}"
    );
    // A sample too far in the future refuses the push too.
    let future = format!("g 1\nh 1 {}\n", T0 + 3_600_000);
    let e = push_at(&mut s, "web-01", &future, T0 + 5000).unwrap_err();
    assert!(
        matches!(e, IngestError::FutureTimestamp { line: 2, .. }),
        "{e}"
    );
    // Not one good sample: nothing stored, the errors located.
    let e = push_at(&mut s, "web-01", "bad line\n", T0 + 5000).unwrap_err();
    assert!(
        matches!(&e, IngestError::Unparsable { errors } if errors[0].starts_with("line 1")),
        "{e}"
    );
    assert_eq!(s.count(None).unwrap(), 1);
    assert_eq!(s.servers().unwrap()[0].1, Some(T0), "last push unchanged");
}

fn retention_sweeps_old_samples_in_batches(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    let old: String = (0..SWEEP_BATCH + 5)
        .map(|i| format!("old{{i=\"{i}\"}} {i} 1000\n"))
        .collect();
    push_at(&mut s, "web-01", &old, T0).unwrap();
    push_at(&mut s, "web-01", "new 1 5000\nedge 1 2000\n", T0).unwrap();
    assert_eq!(s.count(None).unwrap(), SWEEP_BATCH + 7);
    // One batch at most per call: the rest waits for the next.
    assert_eq!(s.sweep_batch_older_than(2000).unwrap(), SWEEP_BATCH);
    assert_eq!(s.sweep_older_than(2000).unwrap(), 5);
    assert_eq!(s.sweep_older_than(2000).unwrap(), 0);
    let left: Vec<String> = db
        .rows("SELECT metric_name FROM metric_samples ORDER BY metric_name")
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(left, ["edge", "new"], "a sample at the cutoff is kept");
    assert_eq!(s.sweep_older_than(i64::MAX).unwrap(), 2);
    assert_eq!(s.count(None).unwrap(), 0);
}

/// One node_exporter scrape of 2 CPUs, memory, the root filesystem and two devices.
fn scrape(idle0: f64, idle1: f64, rx: f64, avail: f64) -> String {
    format!(
        "node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {idle0}\n\
         node_cpu_seconds_total{{cpu=\"1\",mode=\"idle\"}} {idle1}\n\
         node_cpu_seconds_total{{cpu=\"0\",mode=\"user\"}} 5\n\
         node_memory_MemTotal_bytes 1000\n\
         node_memory_MemAvailable_bytes {avail}\n\
         node_network_receive_bytes_total{{device=\"eth0\"}} {rx}\n\
         node_network_receive_bytes_total{{device=\"lo\"}} 999999\n\
         node_network_transmit_bytes_total{{device=\"eth0\"}} {rx}\n\
         node_filesystem_size_bytes{{mountpoint=\"/\",fstype=\"ext4\"}} 100\n\
         node_filesystem_avail_bytes{{mountpoint=\"/\",fstype=\"ext4\"}} 30\n\
         node_filesystem_avail_bytes{{mountpoint=\"/run\",fstype=\"tmpfs\"}} 1\n"
    )
}

fn node_series_gives_the_dashboard_window(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    push_at(&mut s, "web-01", &scrape(100.0, 100.0, 1000.0, 600.0), 0).unwrap();
    push_at(
        &mut s,
        "web-01",
        &scrape(109.0, 106.0, 6000.0, 500.0),
        10_000,
    )
    .unwrap();
    push_at(&mut s, "web-01", &scrape(1.0, 1.0, 10.0, 400.0), 20_000).unwrap(); // reboot
    let series = |m, from, to, max| s.node_series("web-01", m, from, to, max).unwrap();
    assert_eq!(
        series(NodeMetric::CpuPercent, 0, 30_000, 300),
        vec![(10_000, 25.0)]
    );
    assert_eq!(
        series(NodeMetric::NetworkReceiveBytesPerSec, 0, 30_000, 300),
        vec![(10_000, 500.0)]
    );
    assert_eq!(
        series(NodeMetric::NetworkTransmitBytesPerSec, 0, 30_000, 300),
        vec![(10_000, 500.0)]
    );
    assert_eq!(
        series(NodeMetric::DiskUsedBytes, 0, 30_000, 300),
        vec![(0, 70.0), (10_000, 70.0), (20_000, 70.0)]
    );
    assert_eq!(
        series(NodeMetric::MemoryUsedBytes, 0, 30_000, 300),
        vec![(0, 400.0), (10_000, 500.0), (20_000, 600.0)]
    );
    // The window bounds the rows (both ends inclusive); more scrapes than points averages.
    assert_eq!(
        series(NodeMetric::MemoryUsedBytes, 10_000, 20_000, 300),
        vec![(10_000, 500.0), (20_000, 600.0)]
    );
    assert_eq!(
        series(NodeMetric::MemoryUsedBytes, 0, 29_999, 1),
        vec![(10_000, 500.0)]
    );
    assert!(s
        .node_series("web-02", NodeMetric::DiskUsedBytes, 0, 30_000, 300)
        .unwrap()
        .is_empty());
}

fn node_summary_of_stored_scrapes_is_the_scrape_summary(b: Backend) {
    let db = Db::new(b);
    let mut s = db.store_with_web01();
    assert!(s.node_summary("web-01").unwrap().is_none());
    let (first, second) = (
        scrape(100.0, 100.0, 1000.0, 600.0),
        scrape(109.0, 106.0, 6000.0, 500.0),
    );
    // The later scrape first, as a replayed buffer may send it; then another exporter.
    push_at(&mut s, "web-01", &second, 10_000).unwrap();
    push_at(&mut s, "web-01", &first, 0).unwrap();
    push_at(&mut s, "web-01", "pg_up 1\n", 12_000).unwrap();
    let expected = NodeSummary::new(
        Some(&NodeSnapshot::from_exposition(
            first.as_bytes(),
            Format::Text,
            0,
        )),
        &NodeSnapshot::from_exposition(second.as_bytes(), Format::Text, 10_000),
    );
    assert_eq!(expected.cpu_usage_percent, Some(25.0));
    let (taken_at_ms, got) = s.node_summary("web-01").unwrap().unwrap();
    assert_eq!(taken_at_ms, 10_000);
    assert_eq!(got, expected);
    // A second handle (another replica, a restart) reads the same.
    assert_eq!(
        db.store().node_summary("web-01").unwrap(),
        Some((10_000, expected))
    );
    assert!(s.node_summary("web-02").unwrap().is_none());
}

fn pushes_from_two_handles_all_land(b: Backend) {
    let db = Db::new(b);
    let mut first = db.store_with_web01();
    first.register_server("web-02", None).unwrap();
    let threads: Vec<_> = (0..2)
        .map(|k| {
            let mut store = db.store();
            std::thread::spawn(move || {
                for i in 0..20 {
                    // Both handles push for web-01 (one lock key), and each for a server
                    // of its own.
                    let body: String = (0..40)
                        .map(|j| format!("m{{k=\"{k}\",j=\"{j}\"}} {i} {}\n", 1000 + i))
                        .collect();
                    push_at(&mut store, "web-01", &body, T0).unwrap();
                    let own = if k == 0 { "web-01" } else { "web-02" };
                    push_at(&mut store, own, "up 1\n", T0 + i).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(first.count(Some("web-01")).unwrap(), 2 * 20 * 40 + 20);
    assert_eq!(first.count(Some("web-02")).unwrap(), 20);
    let latest = first.latest("web-01", "m", &[("k", "1")]).unwrap();
    assert_eq!(latest.len(), 40);
    assert!(latest
        .iter()
        .all(|x| x.value == 19.0 && x.timestamp_ms == 1019));
}

fn a_store_reports_its_backend_version_and_health(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    assert_eq!(s.backend(), b);
    assert_eq!(s.schema_version().unwrap(), SAMPLES_SCHEMA.latest());
    s.ping().unwrap();
    // Opening again migrates nothing and keeps the rows.
    let mut again = db.store_with_web01();
    push_at(&mut again, "web-01", "up 1\n", T0).unwrap();
    drop(again);
    assert_eq!(db.store().count(None).unwrap(), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM schema_migrations WHERE component = 'samples'"),
        i64::from(SAMPLES_SCHEMA.latest())
    );
}
