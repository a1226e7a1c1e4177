//! PromQL features newer than the target Prometheus: `promql-parser` follows
//! Prometheus 3.x and accepts functions and names that an older Prometheus refuses.

use promql_parser::parser::{Expr, VectorSelector};

use crate::names::is_valid_label_name;
use crate::version::PrometheusVersion;

/// Functions of Prometheus 2.42 (checked against the real promtool 2.42 in the
/// integration tests). `holt_winters` is one of them, but `promql-parser` refuses it.
pub const FUNCTIONS_2_42: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "exp",
    "floor",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_sum",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

/// Aggregation operators of Prometheus 2.42.
pub const AGGREGATIONS_2_42: &[&str] = &[
    "avg",
    "bottomk",
    "count",
    "count_values",
    "group",
    "max",
    "min",
    "quantile",
    "stddev",
    "stdvar",
    "sum",
    "topk",
];

/// Problems of `expr` for a Prometheus of `version`; empty if none are known.
///
/// For targets up to 2.42, functions and aggregations outside the 2.42 sets are
/// reported; for targets before 3.0, metric and label names that need UTF-8 name
/// support (quoted names such as `{"my.metric"}`). Newer 2.x targets get the name
/// check only: their function sets are not pinned here (promtool covers them).
pub fn check(expr: &Expr, version: PrometheusVersion) -> Vec<String> {
    let mut out = Vec::new();
    walk(expr, version, &mut out);
    out.dedup();
    out
}

fn walk(expr: &Expr, v: PrometheusVersion, out: &mut Vec<String>) {
    let pin_functions = v <= PrometheusVersion::new(2, 42);
    match expr {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            if pin_functions && !AGGREGATIONS_2_42.contains(&op.as_str()) {
                out.push(format!(
                    "aggregation `{op}` is not known to Prometheus {v} (it came later)"
                ));
            }
            walk(&a.expr, v, out);
            if let Some(p) = &a.param {
                walk(p, v, out);
            }
        }
        Expr::Unary(u) => walk(&u.expr, v, out),
        Expr::Binary(b) => {
            walk(&b.lhs, v, out);
            walk(&b.rhs, v, out);
        }
        Expr::Paren(p) => walk(&p.expr, v, out),
        Expr::Subquery(s) => walk(&s.expr, v, out),
        Expr::VectorSelector(vs) => selector(vs, v, out),
        Expr::MatrixSelector(ms) => selector(&ms.vs, v, out),
        Expr::Call(c) => {
            if pin_functions && !FUNCTIONS_2_42.contains(&c.func.name) {
                out.push(format!(
                    "function `{}` is not known to Prometheus {v} (it came later or is experimental)",
                    c.func.name
                ));
            }
            for a in &c.args.args {
                walk(a, v, out);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

fn is_legacy_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn selector(vs: &VectorSelector, v: PrometheusVersion, out: &mut Vec<String>) {
    if v >= PrometheusVersion::new(3, 0) {
        return;
    }
    let matchers = vs
        .matchers
        .matchers
        .iter()
        .chain(vs.matchers.or_matchers.iter().flatten());
    if let Some(name) = &vs.name {
        if !is_legacy_metric_name(name) {
            out.push(format!(
                "metric name {name:?} needs UTF-8 name support (Prometheus 3.0), target is {v}"
            ));
        }
    }
    for m in matchers {
        if m.name == "__name__" {
            if !is_legacy_metric_name(&m.value) {
                out.push(format!(
                    "metric name {:?} needs UTF-8 name support (Prometheus 3.0), target is {v}",
                    m.value
                ));
            }
        } else if !is_valid_label_name(&m.name) {
            out.push(format!(
                "label name {:?} needs UTF-8 name support (Prometheus 3.0), target is {v}",
                m.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(q: &str, v: PrometheusVersion) -> Vec<String> {
        check(&promql_parser::parser::parse(q).unwrap(), v)
    }

    #[test]
    fn classic_queries_pass() {
        for q in [
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) > 1",
            "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
            "topk(3, node_load1) and on (instance) up == 1",
            "label_replace(up, \"a\", \"$1\", \"instance\", \"(.*):.*\")",
            "max_over_time(up[1h:5m] offset 1m)",
            "ns:metric:rate5m > 0",
        ] {
            assert_eq!(
                problems(q, PrometheusVersion::DEFAULT),
                Vec::<String>::new(),
                "{q}"
            );
        }
    }

    #[test]
    fn newer_functions_are_reported_for_2_42_only() {
        let p = problems("sort_by_label(up, \"job\")", PrometheusVersion::DEFAULT);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("`sort_by_label`"), "{p:?}");
        let p = problems(
            "limitk(2, up) + mad_over_time(up[5m])",
            PrometheusVersion::DEFAULT,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(problems("sort_by_label(up, \"job\")", PrometheusVersion::new(3, 0)).is_empty());
    }

    #[test]
    fn utf8_names_need_3_0() {
        let p = problems(
            "{\"my.metric\", \"label.name\"=\"x\"} > 1",
            PrometheusVersion::DEFAULT,
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.contains("\"my.metric\"")));
        assert!(p.iter().any(|m| m.contains("\"label.name\"")));
        let p = problems("{\"my.metric\"}", PrometheusVersion::new(2, 53));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(problems("{\"my.metric\"}", PrometheusVersion::new(3, 0)).is_empty());
    }

    /// Pins the parser limits that docs/rule-generation.md tells users about; if a
    /// new promql-parser lifts them, this fails and the docs need updating.
    #[test]
    fn documented_parser_limits_still_hold() {
        assert!(promql_parser::parser::parse("up{i=~`a\\.b`}").is_err());
        assert!(promql_parser::parser::parse("holt_winters(up[5m], 0.5, 0.5)").is_err());
        assert!(promql_parser::parser::parse("up{i=~\"a\\\\.b\"}").is_ok());
    }
}
