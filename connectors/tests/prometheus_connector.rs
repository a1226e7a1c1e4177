//! The Prometheus connector on Prometheus 2.42's saved answers, on a canned-answer stub (auth,
//! timeout, proxy errors) and against the real Prometheus on 127.0.0.1. The tests that need
//! /usr/bin/prometheus fail (never skip) when it is missing.

use std::time::Duration;

use ipocket_connectors::prometheus::{
    extract_ips, fetch, parse_query_response, PrometheusConnectorError as E, PrometheusOptions,
};
use ipocket_core::{Actor, AssetType, ImportAction, Inventory, NewIpAsset};
use ipocket_http::{Auth, HttpError};
use ipocket_testkit::peer::{tls_basic_auth_web_config, Peer};
use ipocket_testkit::runtime;
use ipocket_testkit::stub::{Canned, Stub};

fn saved(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/data/prometheus/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn opts() -> PrometheusOptions {
    PrometheusOptions::new("http://127.0.0.1:1", "up", "instance")
}

#[test]
fn saved_vector_gives_one_ip_and_a_warning_per_skipped_sample() {
    let resp = parse_query_response(200, &saved("query-vector.json")).unwrap();
    assert_eq!(resp.samples.len(), 5);
    let x = extract_ips(&resp, &opts());
    let ips: Vec<&str> = x.ips.iter().map(|i| i.ip.as_str()).collect();
    assert_eq!(ips, ["10.1.2.3"]);
    assert_eq!(
        x.warnings,
        [
            "Sample 1 skipped: IPv6 address '2001:db8::1' is not imported (keep_ipv6 is off).",
            "Sample 2 skipped: label 'instance' value 'db-01.example.internal:9100' does not contain a valid IPv4 address.",
            "Sample 3 skipped: loopback IP '127.0.0.1' is not allowed.",
            "Sample 4 skipped: label 'instance' is missing.",
        ]
    );
    let mut keep = opts();
    keep.keep_ipv6 = true;
    let x = extract_ips(&resp, &keep);
    let ips: Vec<&str> = x.ips.iter().map(|i| i.ip.as_str()).collect();
    assert_eq!(ips, ["10.1.2.3", "2001:db8::1"]);
}

#[test]
fn duplicates_and_custom_label_and_bare_ips() {
    let body = br#"{"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"exported_instance":"10.0.0.1"},"value":[1,"NaN"]},
      {"metric":{"exported_instance":"10.0.0.1:9100"},"value":[1,"+Inf"]},
      {"metric":{"exported_instance":"10.0.0.2:9182","instance":"10.9.9.9"},"value":[1,"1"]}]}}"#;
    let resp = parse_query_response(200, body).unwrap();
    let mut o = opts();
    o.ip_label = "exported_instance".into();
    let x = extract_ips(&resp, &o);
    let ips: Vec<&str> = x.ips.iter().map(|i| i.ip.as_str()).collect();
    assert_eq!(ips, ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(x.warnings, ["Duplicate IP '10.0.0.1' skipped."]);
    assert_eq!(x.ips[0].value, "NaN");
}

#[test]
fn saved_warnings_are_surfaced_and_empty_vector_is_fine() {
    let resp = parse_query_response(200, &saved("query-warnings.json")).unwrap();
    let x = extract_ips(&resp, &opts());
    assert!(x.ips.is_empty());
    assert_eq!(x.warnings.len(), 1);
    assert!(
        x.warnings[0].starts_with("Prometheus warning: remote_read: error sending request"),
        "{:?}",
        x.warnings
    );
    let resp = parse_query_response(200, &saved("query-vector-empty.json")).unwrap();
    let x = extract_ips(&resp, &opts());
    assert_eq!((x.samples, x.ips.len(), x.warnings.len()), (0, 0, 0));
}

#[test]
fn saved_non_vector_results_are_hard_errors() {
    for (file, t) in [
        ("query-range-matrix.json", "matrix"),
        ("query-instant-range-selector-matrix.json", "matrix"),
        ("query-scalar.json", "scalar"),
        ("query-string.json", "string"),
    ] {
        match parse_query_response(200, &saved(file)) {
            Err(E::UnsupportedResultType(got)) => assert_eq!(got, t, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
    let e = parse_query_response(200, &saved("query-scalar.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Unsupported Prometheus resultType 'scalar'. Expected 'vector'."
    );
}

#[test]
fn saved_error_answers_carry_error_type_and_text() {
    for (file, status, error_type) in [
        ("query-error-400.json", 400, "bad_data"),
        ("query-error-422-execution.json", 422, "execution"),
        ("query-error-503-timeout.json", 503, "timeout"),
    ] {
        let e = parse_query_response(status, &saved(file)).unwrap_err();
        match &e {
            E::Api {
                status: s,
                http_status,
                error_type: t,
                error,
            } => {
                assert_eq!(
                    (s.as_str(), *http_status, t.as_str()),
                    ("error", status, error_type)
                );
                assert!(!error.is_empty());
            }
            other => panic!("{file}: {other:?}"),
        }
        assert!(e.to_string().contains(error_type), "{e}");
    }
    let e = parse_query_response(400, &saved("query-error-400.json")).unwrap_err();
    assert!(e.to_string().contains("parse error"), "{e}");
    match parse_query_response(404, &saved("query-404-unknown-endpoint.txt")) {
        // The body is not quoted (a server must not relay another service's answer).
        Err(e @ E::HttpStatus { status: 404 }) => {
            assert_eq!(e.to_string(), "Prometheus query failed with HTTP 404")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_query_response(200, b"<html>proxy</html>"),
        Err(E::InvalidJson { status: 200, .. })
    ));
    assert!(matches!(
        parse_query_response(200, br#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}"#),
        Err(E::InvalidJson { reason, .. }) if reason.contains("data.result[0].metric")
    ));
}

#[test]
fn bundle_follows_the_seed_mapping_and_the_engine_preserves_notes_and_type() {
    let resp = parse_query_response(200, &saved("query-vector.json")).unwrap();
    let mut o = opts();
    o.query = "up{job=\"node\"}".into();
    o.asset_type = AssetType::Vm;
    o.project_name = Some("core".into());
    o.tags = vec!["monitoring".into()];
    let x = extract_ips(&resp, &o);
    let b = x.bundle_json(&o);
    assert_eq!(b["schema_version"], "1");
    assert_eq!(
        b["data"]["ip_assets"][0],
        serde_json::json!({
            "ip_address": "10.1.2.3",
            "type": "VM",
            "project_name": "core",
            "tags": ["monitoring"],
            "notes": "Imported from Prometheus query 'up{job=\"node\"}' using label 'instance' (metric=unknown, value=1).",
            "preserve_existing_notes": true,
            "preserve_existing_type": true,
            "archived": false
        })
    );
    // without project and tags the keys are absent
    let bare = x.bundle_json(&opts());
    assert!(bare["data"]["ip_assets"][0].get("project_name").is_none());
    assert!(bare["data"]["ip_assets"][0].get("tags").is_none());

    let mut inv = Inventory::open_in_memory().unwrap();
    // the project must exist: the bundle does not create it
    assert!(matches!(x.plan(&inv, &o), Err(E::Import(_))));
    inv.create_project(&Actor::system(), "core", None, None)
        .unwrap();
    inv.create_ip_asset(
        &Actor::system(),
        &NewIpAsset {
            ip_address: "10.1.2.3".into(),
            asset_type: AssetType::Os,
            project_id: None,
            host_id: None,
            notes: Some("hand-written".into()),
            tags: vec![],
            auto_host_for_bmc: false,
        },
    )
    .unwrap();
    let plan = x.plan(&inv, &o).unwrap();
    assert_eq!(plan.source, "connector:prometheus");
    let item = plan.items().find(|i| i.key == "10.1.2.3").unwrap();
    assert_eq!(item.action, ImportAction::Update);
    inv.apply(&Actor::system(), &plan).unwrap();
    let a = inv.ip_asset("10.1.2.3").unwrap();
    assert_eq!(a.asset_type, AssetType::Os, "type preserved");
    assert_eq!(a.notes.as_deref(), Some("hand-written"), "notes preserved");
    assert_eq!(a.project_name.as_deref(), Some("core"));
    assert_eq!(a.tags, ["monitoring"]);
    // a second run changes nothing
    let plan = x.plan(&inv, &o).unwrap();
    assert_eq!(plan.summary.ip_assets.skip, 1);
}

fn vector_body() -> String {
    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"10.7.0.1:9100"},"value":[1,"1"]}]}}"#.into()
}

fn canned(status: u16, body: String) -> Canned {
    Canned {
        status,
        content_type: "application/json",
        body,
        delay: Duration::ZERO,
        require_auth: None,
    }
}

#[test]
fn bearer_and_basic_auth_and_secrets_never_in_errors() {
    let rt = runtime();
    let stub = Stub::start(Canned {
        require_auth: Some("Bearer s3cret-token".into()),
        ..canned(200, vector_body())
    });
    let mut o = PrometheusOptions::new(&stub.url(), "up{job=\"node\"}", "instance");
    o.auth = Some(Auth::from_token("s3cret-token"));
    let x = rt.block_on(fetch(&o)).unwrap();
    assert_eq!(x.ips[0].ip, "10.7.0.1");
    assert_eq!(x.ips[0].metric, "up");
    let seen = stub.seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, "/api/v1/query?query=up%7Bjob%3D%22node%22%7D");
    assert_eq!(seen[0].1.as_deref(), Some("Bearer s3cret-token"));

    o.auth = Some(Auth::from_token("prom_user:hunter2"));
    let e = rt.block_on(fetch(&o)).unwrap_err();
    assert!(matches!(e, E::Auth { status: 401, .. }), "{e:?}");
    let text = format!("{e} {e:?} {o:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
    assert_eq!(
        stub.seen.lock().unwrap().last().unwrap().1.as_deref(),
        Some("Basic cHJvbV91c2VyOmh1bnRlcjI=")
    );
}

#[test]
fn timeout_connection_refused_and_proxy_errors_are_hard_errors() {
    let rt = runtime();
    let slow = Stub::start(Canned {
        delay: Duration::from_secs(5),
        ..canned(200, vector_body())
    });
    let mut o = PrometheusOptions::new(&slow.url(), "up", "instance");
    o.timeout = Duration::from_millis(200);
    o.retries = 0;
    let e = rt.block_on(fetch(&o)).unwrap_err();
    assert!(matches!(e, E::Http(HttpError::Timeout { .. })), "{e:?}");

    // a port nobody listens on (bound, then closed)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = PrometheusOptions::new(&format!("http://127.0.0.1:{port}"), "up", "instance");
    o.retries = 1;
    let e = rt.block_on(fetch(&o)).unwrap_err();
    assert!(matches!(e, E::Http(HttpError::Transport { .. })), "{e:?}");

    let proxy = Stub::start(Canned {
        content_type: "text/html",
        ..canned(502, "<html>Bad Gateway</html>".into())
    });
    let mut o = PrometheusOptions::new(&proxy.url(), "up", "instance");
    o.retries = 2;
    let e = rt.block_on(fetch(&o)).unwrap_err();
    assert!(matches!(e, E::HttpStatus { status: 502, .. }), "{e:?}");
    assert_eq!(proxy.seen.lock().unwrap().len(), 3, "502 retried twice");
}

#[test]
fn real_prometheus_label_replace_vector_error_and_empty() {
    let prom = Peer::prometheus();
    let rt = runtime();
    let query = String::from_utf8(saved("query-vector.promql")).unwrap();
    let o = PrometheusOptions::new(&prom.url(""), query.trim(), "instance");
    let x = rt.block_on(fetch(&o)).unwrap();
    assert_eq!(x.samples, 5);
    let ips: Vec<&str> = x.ips.iter().map(|i| i.ip.as_str()).collect();
    assert_eq!(ips, ["10.1.2.3"]);
    assert_eq!(x.warnings.len(), 4, "{:?}", x.warnings);

    // the same through the engine: one CREATE with type OTHER
    let inv = Inventory::open_in_memory().unwrap();
    let plan = x.plan(&inv, &o).unwrap();
    assert_eq!(plan.summary.ip_assets.create, 1);

    let bad = PrometheusOptions::new(&prom.url("/"), "up{instance=\"10.1.2.3:9100\"", "instance");
    match rt.block_on(fetch(&bad)) {
        Err(E::Api {
            http_status,
            error_type,
            error,
            ..
        }) => {
            assert_eq!((http_status, error_type.as_str()), (400, "bad_data"));
            assert!(error.contains("parse error"), "{error}");
        }
        other => panic!("{other:?}"),
    }

    let empty = PrometheusOptions::new(&prom.url(""), "vector(1) == 2", "instance");
    let x = rt.block_on(fetch(&empty)).unwrap();
    assert_eq!((x.samples, x.ips.len(), x.warnings.len()), (0, 0, 0));

    let scalar = PrometheusOptions::new(&prom.url(""), "scalar(vector(42))", "instance");
    assert!(matches!(
        rt.block_on(fetch(&scalar)),
        Err(E::UnsupportedResultType(t)) if t == "scalar"
    ));
}

#[test]
fn real_prometheus_behind_tls_and_basic_auth() {
    let prom = Peer::prometheus_tls(tls_basic_auth_web_config);
    let rt = runtime();
    let url = format!("https://{}", prom.addr);
    let query = r#"label_replace(vector(1), "instance", "10.1.2.3:9100", "", "")"#;
    let mut o = PrometheusOptions::new(&url, query, "instance");
    o.retries = 0;
    o.auth = Some(Auth::from_token("prom_user:prom_pass"));

    // the self-signed certificate is refused by default
    let e = rt.block_on(fetch(&o)).unwrap_err();
    assert!(matches!(e, E::Http(HttpError::Transport { .. })), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");

    // trusted through --ca-file, or skipped with --insecure
    o.ca_file = Some(prom.work.path().join("cert.pem"));
    let x = rt.block_on(fetch(&o)).unwrap();
    assert_eq!(x.ips[0].ip, "10.1.2.3");
    o.ca_file = None;
    o.insecure = true;
    let x = rt.block_on(fetch(&o)).unwrap();
    assert_eq!(x.ips[0].ip, "10.1.2.3");

    // wrong password, Bearer (Prometheus only knows Basic) and no auth: 401, nothing echoed
    for auth in [Some("prom_user:wrong-pass"), Some("bearer-secret"), None] {
        o.auth = auth.map(Auth::from_token);
        let e = rt.block_on(fetch(&o)).unwrap_err();
        assert!(matches!(e, E::Auth { status: 401, .. }), "{e:?}");
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains("wrong-pass") && !text.contains("bearer-secret"),
            "{text}"
        );
    }
}

#[test]
fn errors_never_quote_a_foreign_answer() {
    let secret = "internal-secret-7f3a";
    let answers: [(u16, String); 5] = [
        (401, format!("<html>{secret}</html>")),
        (500, format!("{secret} stack trace")),
        (500, format!(r#"{{"message":"{secret}"}}"#)),
        (
            200,
            format!(r#"{{"status":"{secret}","errorType":"{secret}","error":"{secret}"}}"#),
        ),
        (
            200,
            format!(r#"{{"status":"success","data":{{"resultType":"{secret}","result":[]}}}}"#),
        ),
    ];
    for (status, body) in answers {
        let e = parse_query_response(status, body.as_bytes()).unwrap_err();
        assert!(!format!("{e} {e:?}").contains(secret), "{status}: {e}");
    }
}
