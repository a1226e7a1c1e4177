//! `GET /api/v1/sd/preview` and `GET /api/v1/alert-rules/{id}/preview` against the real
//! Prometheus scraping the real node_exporter and closed loopback ports
//! (ipocket_testkit::liveness), then with Prometheus stopped.

use ipocket_testkit::liveness::{LiveStack, DOWN_IP, UNSCRAPED_IP, UP_IP};
use serde_json::{json, Value};

use crate::common::*;
use crate::openapi::conforms;

fn state_of(p: &Value, target: &str) -> (String, Value) {
    let t = p["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == target)
        .unwrap_or_else(|| panic!("no {target} in {p}"));
    (
        t["state"].as_str().unwrap().to_string(),
        t["matched"].clone(),
    )
}

/// Creates a template of `expr` and a rule of it in `group`; returns the rule's id.
fn rule(srv: &Server, token: &str, group: i64, name: &str, expr: &str, for_: Option<&str>) -> i64 {
    let r = send_json(
        srv,
        "POST",
        "/api/v1/alert-templates",
        Some(token),
        json!({"name": name, "query_template": expr, "for_duration": for_}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let template = r.json()["id"].as_i64().unwrap();
    let r = send_json(
        srv,
        "POST",
        "/api/v1/alert-rules",
        Some(token),
        json!({"group_id": group, "template_id": template}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_i64().unwrap()
}

#[test]
fn sd_and_rule_previews_from_the_real_stack_then_with_prometheus_stopped() {
    let mut stack = LiveStack::start();
    let url = stack.url();
    let (srv, (_, editor, viewer)) = start_live(
        &url,
        "5",
        &["--prometheus-url", &url, "--rules-auto-regenerate", "false"],
    );
    let doc = get(&srv, "/api/v1/openapi.json", None).json();
    let schema = |pattern: &str| {
        doc["paths"][pattern]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };

    // SD preview of /sd/node: its exact body, with each target's state.
    assert_eq!(get(&srv, "/api/v1/sd/preview", None).status, 401);
    let r = get(
        &srv,
        "/api/v1/sd/preview?endpoint=/sd/node&port=9100",
        Some(&viewer),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let p = r.json();
    conforms(&doc, &schema("/api/v1/sd/preview"), &p, "sd preview").unwrap();
    assert_eq!(p["prometheus"]["reachable"], true, "{p}");
    let served = get(&srv, "/sd/node?port=9100", Some(&viewer));
    assert_eq!(served.status, 200);
    assert_eq!(
        p["json"].as_str().unwrap().as_bytes(),
        served.body.as_slice()
    );
    assert_eq!(
        (p["group_count"].as_u64(), p["target_count"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(
        (p["duplicates"].as_u64(), p["port_less"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        state_of(&p, &format!("{UP_IP}:9100")),
        ("up".into(), json!("instance"))
    );
    assert_eq!(
        state_of(&p, &format!("{DOWN_IP}:9100")),
        ("down".into(), json!("instance"))
    );
    assert_eq!(
        state_of(&p, &format!("{UNSCRAPED_IP}:9100")),
        ("not_scraped".into(), Value::Null)
    );
    assert_eq!(
        p["states"],
        json!({"up": 1, "down": 1, "not_scraped": 1, "unknown": 0})
    );

    // The default endpoint, /api/v1/sd, with its own parameters: the same bytes again. Port
    // 9999 is the `wrongport` job's instance of 10.9.8.7: never up.
    let q = "port=9999&group_by=project&type=OS,VM";
    let p = get(&srv, &format!("/api/v1/sd/preview?{q}"), Some(&viewer)).json();
    let served = get(&srv, &format!("/api/v1/sd?{q}"), Some(&viewer));
    assert_eq!(
        p["json"].as_str().unwrap().as_bytes(),
        served.body.as_slice()
    );
    assert_eq!(p["group_count"], 2, "{p}");
    assert_eq!(
        state_of(&p, &format!("{UP_IP}:9999")),
        ("down".into(), json!("instance"))
    );
    // no series of 10.9.8.8:9999: its address's (down, under :9100), as a hint
    assert_eq!(
        state_of(&p, &format!("{DOWN_IP}:9999")),
        ("down".into(), json!("address"))
    );

    // A bad parameter is refused, named.
    let r = get(&srv, "/api/v1/sd/preview?port=0", Some(&viewer));
    let served = get(&srv, "/api/v1/sd?port=0", Some(&viewer));
    assert_eq!((r.status, served.status), (422, 422), "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "port");
    let r = get(&srv, "/api/v1/sd/preview?endpoint=/metrics", Some(&viewer));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["details"]["field"], "endpoint");

    // Rule preview: each rule's expression evaluated now by Prometheus.
    let r = send_json(
        &srv,
        "POST",
        "/api/v1/alert-groups",
        Some(&editor),
        json!({"name": "edge"}),
    );
    let group = r.json()["id"].as_i64().unwrap();
    let down = rule(&srv, &editor, group, "NodeDown", "up == 0", Some("1m"));
    let up = rule(&srv, &editor, group, "NodeUp", "up == 1", None);
    let clash = rule(&srv, &editor, group, "Clash", "up * on() up", None);
    let preview = |id: i64| {
        let r = get(
            &srv,
            &format!("/api/v1/alert-rules/{id}/preview"),
            Some(&viewer),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        conforms(
            &doc,
            &schema("/api/v1/alert-rules/{id}/preview"),
            &v,
            "rule preview",
        )
        .unwrap();
        v
    };
    let instances = |v: &Value| -> Vec<String> {
        let mut i: Vec<String> = v["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["labels"]["instance"].as_str().unwrap().to_string())
            .collect();
        i.sort();
        i
    };
    let v = preview(down);
    assert_eq!(
        v["verdict"], "matches now for 2 series; fires after 1m",
        "{v}"
    );
    assert_eq!(
        instances(&v),
        [format!("{UP_IP}:9999"), format!("{DOWN_IP}:9100")]
    );
    let jobs: Vec<&Value> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["labels"]["job"])
        .collect();
    assert!(jobs.contains(&&json!("gone")), "{v}");
    let v = preview(up);
    assert_eq!(v["verdict"], "would fire now for 2 series", "{v}");
    assert_eq!(
        instances(&v),
        ["10.9.8.20:9100".to_string(), format!("{UP_IP}:9100")]
    );
    let v = preview(clash);
    assert_eq!(v["evaluated"], false);
    let e = v["error"].as_str().unwrap();
    assert!(
        e.starts_with("Prometheus refused the query (422 execution): ")
            && e.contains("many-to-many"),
        "{e}"
    );
    assert_eq!(
        get(&srv, "/api/v1/alert-rules/999/preview", Some(&viewer)).status,
        404
    );

    // Prometheus stopped: both still answer 200, saying why nothing is known.
    stack.prometheus.kill();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let p = get(&srv, "/api/v1/sd/preview?endpoint=/sd/node", Some(&viewer)).json();
    assert_eq!(p["prometheus"]["reachable"], false, "{p}");
    assert_eq!(p["states"]["unknown"], 3);
    assert!(p["prometheus"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Prometheus unreachable"));
    let v = preview(up);
    assert_eq!(v["evaluated"], false);
    assert!(
        v["verdict"]
            .as_str()
            .unwrap()
            .starts_with("not evaluated: request GET"),
        "{v}"
    );
}
