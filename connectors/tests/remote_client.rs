//! `remote::RemoteInventory` against a canned loopback server: the requests it sends (path,
//! query, bearer token), what it retries (GETs only), timeouts, and answers that are not the
//! API's. The real `ipocket serve` end to end is in `examples/cli/tests/connector_remote.rs`.

use std::time::Duration;

use ipocket_connectors::prometheus::PrometheusOptions;
use ipocket_connectors::prometheus::{dry_run_report, extract_ips, parse_query_response};
use ipocket_connectors::remote::{RemoteError, RemoteInventory, RemoteOptions};
use ipocket_core::SdOptions;
use ipocket_testkit::runtime;
use ipocket_testkit::stub::{Canned, Stub};

const TOKEN: &str = "tok-123-secret";

fn canned(status: u16, content_type: &'static str, body: &str) -> Canned {
    Canned {
        status,
        content_type,
        body: body.to_string(),
        delay: Duration::ZERO,
        require_auth: Some(format!("Bearer {TOKEN}")),
    }
}

fn remote(stub: &Stub, timeout: Duration) -> RemoteInventory {
    let options = RemoteOptions {
        timeout,
        retries: 2,
        ..RemoteOptions::default()
    };
    RemoteInventory::new(&stub.url(), Some(TOKEN), &options).unwrap()
}

/// What `ipocket serve` answers to a dry run of one new IP asset.
const PLAN_ANSWER: &str = r#"{"mode":"dry_run","applied":null,"plan":{"source":"bundle.json",
 "summary":{"vendors":{"create":0,"update":0,"skip":0},"projects":{"create":0,"update":0,"skip":0},
  "tags":{"create":0,"update":0,"skip":0},"ip_ranges":{"create":0,"update":0,"skip":0},
  "hosts":{"create":0,"update":0,"skip":0},"ip_assets":{"create":1,"update":0,"skip":0},
  "total":{"create":1,"update":0,"skip":0}},
 "items":[{"entity":"ip_asset","key":"10.0.0.1","location":"data.ip_assets[0]","action":"create",
  "changes":[{"field":"type","before":null,"after":"OTHER"}],"warnings":[]}],
 "warnings":[{"location":"data","message":"a plan-wide note"}]}}"#;

#[test]
fn plan_posts_the_bundle_with_the_token_and_reads_the_servers_plan() {
    let stub = Stub::start(canned(200, "application/json", PLAN_ANSWER));
    let r = remote(&stub, Duration::from_secs(5));
    let bundle = serde_json::json!({"schema_version": "1", "data": {"ip_assets": [{"ip_address": "10.0.0.1"}]}});
    let plan = runtime().block_on(r.plan(&bundle)).unwrap();
    assert_eq!(plan.summary.ip_assets.create, 1);
    assert_eq!(plan.items[0].key, "10.0.0.1");
    let seen = stub.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            "/api/v1/import?file=bundle.json&dry_run=1".to_string(),
            Some(format!("Bearer {TOKEN}"))
        )]
    );

    // the report reads a server's plan as it reads a local one
    let resp = parse_query_response(
        200,
        br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"10.0.0.1:9100"},"value":[1,"1"]}]}}"#,
    )
    .unwrap();
    let x = extract_ips(
        &resp,
        &PrometheusOptions::new("http://127.0.0.1:9090", "up", "instance"),
    );
    let lines = dry_run_report(&x, &plan);
    assert_eq!(lines[2], "- [CREATE] 10.0.0.1: type=OTHER.");
    assert_eq!(lines[3], "warning: data: a plan-wide note");
    assert_eq!(
        lines.last().unwrap(),
        "Import mode: dry-run. Summary create=1, update=0, skip=0."
    );
}

#[test]
fn a_wrong_token_is_unauthorized_without_the_token_in_the_error() {
    // the stub's own 401 is plain text, like a proxy's; the server's is the API shape
    let stub = Stub::start(Canned {
        require_auth: None,
        ..canned(
            401,
            "application/json",
            r#"{"error":{"code":"unauthorized","message":"a valid bearer token is required (POST /api/v1/auth/login)","details":null}}"#,
        )
    });
    let r = remote(&stub, Duration::from_secs(5));
    let e = runtime()
        .block_on(r.apply(&serde_json::json!({})))
        .unwrap_err();
    assert!(matches!(e, RemoteError::Unauthorized { .. }), "{e:?}");
    let text = format!("{e} {e:?} {r:?}");
    assert!(
        text.contains("refused the token (401 unauthorized)"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[test]
fn gets_are_retried_posts_are_not() {
    let stub = Stub::start(canned(503, "text/html", "<html>upstream down</html>"));
    let r = remote(&stub, Duration::from_secs(5));
    let rt = runtime();
    let e = rt
        .block_on(r.sd_target_groups(&SdOptions::node_compat()))
        .unwrap_err();
    assert!(e.to_string().contains("is this an ipocket server?"), "{e}");
    assert_eq!(stub.seen.lock().unwrap().len(), 3, "1 try + 2 retries");
    assert!(stub.seen.lock().unwrap()[0]
        .0
        .starts_with("/api/v1/sd?port=9100&only_assigned=false&meta=false&group_by=none"));
    stub.seen.lock().unwrap().clear();
    let e = rt.block_on(r.plan(&serde_json::json!({}))).unwrap_err();
    assert!(
        matches!(e, RemoteError::Unexpected { status: 503, .. }),
        "{e:?}"
    );
    assert_eq!(
        stub.seen.lock().unwrap().len(),
        1,
        "an import is never repeated"
    );
}

#[test]
fn a_slow_server_is_a_timeout() {
    let stub = Stub::start(Canned {
        delay: Duration::from_secs(2),
        ..canned(200, "application/json", PLAN_ANSWER)
    });
    let r = remote(&stub, Duration::from_millis(200));
    let e = runtime()
        .block_on(r.plan(&serde_json::json!({})))
        .unwrap_err();
    assert!(matches!(e, RemoteError::Http(_)), "{e:?}");
    assert!(e.to_string().contains("no answer from"), "{e}");
}
