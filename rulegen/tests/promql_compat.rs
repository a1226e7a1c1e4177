//! The PromQL version gate checked against the real promtool 2.42 in both directions:
//! everything the gate allows for 2.42 loads, and what it refuses is refused by promtool.

use std::fs;

use ipocket_rulegen::promql_compat::{check, AGGREGATIONS_2_42, FUNCTIONS_2_42};
use ipocket_rulegen::PrometheusVersion;
use ipocket_testkit::rules::promtool_check;

/// A well-typed call of a 2.42 function.
fn sample_call(f: &str) -> String {
    let range = [
        "absent_over_time",
        "avg_over_time",
        "count_over_time",
        "last_over_time",
        "max_over_time",
        "min_over_time",
        "present_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "sum_over_time",
        "changes",
        "delta",
        "deriv",
        "idelta",
        "increase",
        "irate",
        "rate",
        "resets",
    ];
    let no_args = ["time", "pi"];
    match f {
        _ if range.contains(&f) => format!("{f}(up[5m])"),
        _ if no_args.contains(&f) => format!("{f}()"),
        "quantile_over_time" => "quantile_over_time(0.5, up[5m])".into(),
        "predict_linear" => "predict_linear(up[5m], 60)".into(),
        "holt_winters" => "holt_winters(up[5m], 0.5, 0.5)".into(),
        "histogram_quantile" => "histogram_quantile(0.9, up)".into(),
        "histogram_fraction" => "histogram_fraction(0, 1, up)".into(),
        "clamp" => "clamp(up, 0, 1)".into(),
        "clamp_max" => "clamp_max(up, 1)".into(),
        "clamp_min" => "clamp_min(up, 0)".into(),
        "label_replace" => "label_replace(up, \"a\", \"$1\", \"job\", \"(.*)\")".into(),
        "label_join" => "label_join(up, \"a\", \",\", \"job\", \"instance\")".into(),
        "vector" => "vector(1)".into(),
        "scalar" => "vector(scalar(up))".into(),
        _ => format!("{f}(up)"),
    }
}

fn sample_aggregation(op: &str) -> String {
    match op {
        "topk" | "bottomk" => format!("{op}(1, up)"),
        "quantile" => "quantile(0.5, up)".into(),
        "count_values" => "count_values(\"v\", up)".into(),
        _ => format!("{op} by (job) (up)"),
    }
}

fn rule_file(exprs: &[String]) -> String {
    let mut s = String::from("groups:\n- name: compat\n  rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let quoted = serde_json::to_string(e).unwrap();
        s.push_str(&format!("  - alert: A{i}\n    expr: {quoted}\n"));
    }
    s
}

#[test]
fn everything_allowed_for_2_42_loads_in_promtool_2_42() {
    let exprs: Vec<String> = FUNCTIONS_2_42
        .iter()
        .map(|f| sample_call(f))
        .chain(AGGREGATIONS_2_42.iter().map(|a| sample_aggregation(a)))
        .collect();
    for e in &exprs {
        if e.starts_with("holt_winters") {
            continue; // promql-parser refuses it (removed in 3.0); promtool checks it below
        }
        let ast = promql_parser::parser::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        assert_eq!(
            check(&ast, PrometheusVersion::DEFAULT),
            Vec::<String>::new(),
            "{e}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.yml");
    fs::write(&path, rule_file(&exprs)).unwrap();
    let (ok, out) = promtool_check(&path);
    assert!(
        ok,
        "promtool 2.42 refused a function the gate allows:\n{out}"
    );
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{out}"
    );
}

#[test]
fn what_the_gate_refuses_promtool_2_42_refuses() {
    let candidates = [
        "sort_by_label(up, \"job\")",
        "sort_by_label_desc(up, \"job\")",
        "limitk(1, up)",
        "limit_ratio(0.5, up)",
        "mad_over_time(up[5m])",
        "histogram_avg(up)",
        "histogram_stddev(up)",
        "histogram_stdvar(up)",
        "double_exponential_smoothing(up[5m], 0.5, 0.5)",
        "{\"my.metric\"}",
        "up{\"label.name\"=\"x\"}",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (i, e) in candidates.iter().enumerate() {
        let Ok(ast) = promql_parser::parser::parse(e) else {
            continue; // not even promql-parser accepts it: nothing to gate
        };
        let problems = check(&ast, PrometheusVersion::DEFAULT);
        assert!(!problems.is_empty(), "the gate lets {e} through for 2.42");
        let path = dir.path().join(format!("c{i}.yml"));
        fs::write(&path, rule_file(&[e.to_string()])).unwrap();
        let (ok, out) = promtool_check(&path);
        assert!(
            !ok,
            "promtool 2.42 accepts {e}, but the gate refuses it: {problems:?}\n{out}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} candidates parsed");
}
