//! The vCenter connector against a local hyper server answering the documented vSphere
//! Automation REST shapes (no vCenter or vcsim implements `/api/...` here; see
//! docs/vcenter-connector.md).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ipocket_connectors::vcenter::{collect, VcenterError, VcenterOptions};
use ipocket_core::{Actor, AssetType, Inventory};
use ipocket_testkit::runtime;

const SESSION: &str = "b00c3c1e0a5d4c6f9a1d2e3f4a5b6c7d";
// base64("administrator@vsphere.local:s3cret")
const BASIC: &str = "Basic YWRtaW5pc3RyYXRvckB2c3BoZXJlLmxvY2FsOnMzY3JldA==";

type Log = Arc<Mutex<Vec<String>>>;

fn answer(method: &str, pq: &str, auth: Option<&str>, session: Option<&str>) -> (u16, String) {
    if pq == "/api/session" && method == "POST" {
        return if auth == Some(BASIC) {
            (201, format!("\"{SESSION}\""))
        } else {
            (
                401,
                r#"{"error_type":"UNAUTHENTICATED","messages":[]}"#.into(),
            )
        };
    }
    if session != Some(SESSION) {
        return (
            401,
            r#"{"error_type":"UNAUTHENTICATED","messages":[]}"#.into(),
        );
    }
    let body = match (method, pq) {
        ("DELETE", "/api/session") => return (204, String::new()),
        ("GET", "/api/vcenter/host") => r#"[
            {"host":"host-10","name":"10.50.0.11","connection_state":"CONNECTED","power_state":"POWERED_ON"},
            {"host":"host-11","name":"nonexistent.invalid","connection_state":"CONNECTED","power_state":"POWERED_ON"},
            {"host":"host-12","name":"localhost","connection_state":"CONNECTED","power_state":"POWERED_ON"}]"#,
        ("GET", "/api/vcenter/vm?hosts=host-12") => "[]",
        ("GET", "/api/vcenter/vm?hosts=host-10") => r#"[
            {"vm":"vm-42","name":"web-01","power_state":"POWERED_ON","cpu_count":2,"memory_size_MiB":4096},
            {"vm":"vm-43","name":"db-01","power_state":"POWERED_ON","cpu_count":4,"memory_size_MiB":8192}]"#,
        ("GET", "/api/vcenter/vm?hosts=host-11") => r#"[
            {"vm":"vm-44","name":"off-01","power_state":"POWERED_OFF","cpu_count":1,"memory_size_MiB":1024},
            {"vm":"vm-45","name":"dup-01","power_state":"POWERED_ON","cpu_count":1,"memory_size_MiB":1024}]"#,
        ("GET", "/api/vcenter/vm") => r#"[
            {"vm":"vm-42","name":"web-01","power_state":"POWERED_ON","cpu_count":2,"memory_size_MiB":4096},
            {"vm":"vm-43","name":"db-01","power_state":"POWERED_ON","cpu_count":4,"memory_size_MiB":8192},
            {"vm":"vm-44","name":"off-01","power_state":"POWERED_OFF","cpu_count":1,"memory_size_MiB":1024},
            {"vm":"vm-45","name":"dup-01","power_state":"POWERED_ON","cpu_count":1,"memory_size_MiB":1024}]"#,
        ("GET", "/api/vcenter/vm/vm-42/guest/networking/interfaces") => r#"[
            {"mac_address":"00:50:56:aa:bb:01","nic":"4000","state":"CONNECTED",
             "ip":{"ip_addresses":[{"ip_address":"fe80::250:56ff:feaa:bb01","prefix_length":64,"state":"UNKNOWN"},
                                   {"ip_address":"10.50.1.21","prefix_length":24,"state":"PREFERRED"}]}}]"#,
        ("GET", "/api/vcenter/vm/vm-43/guest/networking/interfaces") => r#"[
            {"mac_address":"00:50:56:aa:bb:02","nic":"4000","state":"CONNECTED",
             "ip":{"ip_addresses":[{"ip_address":"2001:db8::22","prefix_length":64,"state":"PREFERRED"}]}},
            {"mac_address":"00:50:56:aa:bb:03","nic":"4001","state":"CONNECTED",
             "ip":{"ip_addresses":[{"ip_address":"10.50.1.22","prefix_length":24,"state":"PREFERRED"}]}}]"#,
        ("GET", "/api/vcenter/vm/vm-44/guest/networking/interfaces") => {
            return (503, r#"{"error_type":"SERVICE_UNAVAILABLE","messages":[{"default_message":"VMware Tools is not running"}]}"#.into())
        }
        ("GET", "/api/vcenter/vm/vm-45/guest/networking/interfaces") => r#"[
            {"mac_address":"00:50:56:aa:bb:05","nic":"4000","state":"CONNECTED",
             "ip":{"ip_addresses":[{"ip_address":"10.50.1.21","prefix_length":24,"state":"PREFERRED"}]}}]"#,
        _ => return (404, r#"{"error_type":"NOT_FOUND","messages":[]}"#.into()),
    };
    (200, body.to_string())
}

async fn handle(req: Request<Incoming>, log: Log) -> Result<Response<Full<Bytes>>, Infallible> {
    let h = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let method = req.method().to_string();
    log.lock().unwrap().push(format!("{method} {pq}"));
    let (status, body) = answer(
        &method,
        &pq,
        h("authorization").as_deref(),
        h("vmware-api-session-id").as_deref(),
    );
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

fn start() -> (String, Log) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(l).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let log = log2.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(req, log.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        })
    });
    (format!("http://{addr}"), log)
}

fn opts(server: &str, password: &str) -> VcenterOptions {
    VcenterOptions {
        server: server.to_string(),
        username: "administrator@vsphere.local".into(),
        password: password.into(),
        insecure: false,
        ca_file: None,
        timeout: Duration::from_secs(5),
        resolve_timeout: Duration::from_secs(2),
    }
}

#[test]
fn collects_hosts_vms_and_guest_ips_then_imports() {
    let (url, log) = start();
    let rt = runtime();
    let c = rt.block_on(collect(&opts(&url, "s3cret"))).unwrap();
    assert_eq!(c.hosts.len(), 3);
    // names that are not IPs are resolved here: `localhost` to IPv4 (preferred over ::1),
    // the reserved `.invalid` TLD never
    assert_eq!(c.hosts[0].resolved, None);
    assert!(
        matches!(&c.hosts[1].resolved, Some(Err(why)) if why.starts_with("does not resolve")),
        "{:?}",
        c.hosts[1].resolved
    );
    assert_eq!(c.hosts[2].resolved, Some(Ok("127.0.0.1".parse().unwrap())));
    assert_eq!(c.vms.len(), 4);
    assert_eq!(c.vms[0].host_name.as_deref(), Some("10.50.0.11"));
    assert_eq!(c.vms[2].host_name.as_deref(), Some("nonexistent.invalid"));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("off-01") && c.warnings[0].contains("503"));
    assert_eq!(log.lock().unwrap().last().unwrap(), "DELETE /api/session");

    let (bundle, warnings) = c.bundle_json();
    let assets = bundle["data"]["ip_assets"].as_array().unwrap();
    let ips: Vec<&str> = assets
        .iter()
        .map(|a| a["ip_address"].as_str().unwrap())
        .collect();
    // hosts by their IP name or resolved name; VMs: first IPv4 (IPv6 and link-local
    // skipped); the duplicate dropped
    assert_eq!(ips, ["10.50.0.11", "127.0.0.1", "10.50.1.21", "10.50.1.22"]);
    assert_eq!(assets[1]["host_name"], "localhost");
    assert_eq!(assets[0]["type"], "OS");
    assert_eq!(assets[0]["host_name"], "10.50.0.11");
    assert_eq!(assets[2]["notes"], "vCenter VM: web-01 (host: 10.50.0.11)");
    assert!(
        warnings.iter().any(|w| w
            .starts_with("Skipped host 'nonexistent.invalid' because its name does not resolve (")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w
        == "Host 'localhost' resolves to the loopback address 127.0.0.1 on this machine; imported as is, check its DNS."));
    assert!(warnings
        .iter()
        .any(|w| w == "Skipped VM 'off-01' because no IPv4 guest IP was found."));
    assert!(warnings
        .iter()
        .any(|w| w == "Duplicate IP '10.50.1.21' skipped for VM 'dup-01'."));
    assert_eq!(bundle["data"]["hosts"].as_array().unwrap().len(), 3);

    let mut inv = Inventory::open_in_memory().unwrap();
    let plan = c.plan(&inv).unwrap();
    assert_eq!(plan.source, "connector:vcenter");
    assert_eq!(plan.summary.ip_assets.create, 4);
    inv.apply(&Actor::system(), &plan).unwrap();
    let host = inv.ip_asset("10.50.0.11").unwrap();
    assert_eq!(
        (host.asset_type, host.tags.clone()),
        (AssetType::Os, vec!["esxi".to_string()])
    );
    assert_eq!(
        inv.ip_asset("10.50.1.22").unwrap().asset_type,
        AssetType::Vm
    );
    assert_eq!(c.plan(&inv).unwrap().summary.ip_assets.skip, 4);
}

#[test]
fn wrong_password_is_a_login_error_without_the_password() {
    let (url, _) = start();
    let e = runtime()
        .block_on(collect(&opts(&url, "hunter2")))
        .unwrap_err();
    assert!(matches!(e, VcenterError::Login(401)), "{e:?}");
    assert!(!format!("{e} {e:?}").contains("hunter2"));
}
