//! Alert-rule preview (issue #21): evaluate a rule's rendered expression now, through
//! Prometheus's query API, before any file is generated: "matches now for N series", with
//! their label sets. A rule with `for:` fires only after the expression has matched for that
//! long, so a match says "matches now; fires after `for`". Prometheus unreachable, or
//! refusing the expression, is an answer (the `error` field, Prometheus's own text), never a
//! failure of the preview.
//!
//! ```
//! use ipocket_rulegen::{preview, NewRule, NewTemplate, PrometheusVersion, RuleStore};
//! let store = RuleStore::open_in_memory()?;
//! let g = store.create_group("prod", "")?;
//! let t = store.create_template(&NewTemplate {
//!     name: "NodeDown".into(),
//!     query_template: "up{group_id=\"{{.group_id}}\"} == 0".into(),
//!     for_duration: Some("5m".into()),
//!     ..Default::default()
//! })?;
//! let r = store.create_rule(&NewRule::new(g.id, t.id))?;
//! let rendered = preview::render_stored_rule(&store, r.id, PrometheusVersion::DEFAULT)?;
//! assert_eq!(rendered.expr, format!("up{{group_id=\"{}\"}} == 0", g.id));
//! let p = preview::RulePreview::from_answer(&rendered, "http://127.0.0.1:9090", Ok(vec![]));
//! assert_eq!(p.verdict, "matches nothing now: would not fire");
//! # Ok::<(), ipocket_rulegen::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::client::{PrometheusClient, QuerySample};
use crate::error::{Error, Result};
use crate::generate::{render_rule, RenderedRule};
use crate::store::RuleStore;
use crate::version::PrometheusVersion;

/// What evaluating a rule's expression now gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RulePreview {
    /// The stored rule.
    pub rule_id: i64,
    /// Its alert name.
    pub alert: String,
    /// Its group.
    pub group_name: String,
    /// The rendered PromQL that was evaluated.
    pub expr: String,
    /// Its `for` (it fires only after matching this long).
    pub for_duration: Option<String>,
    /// The Prometheus asked.
    pub prometheus_url: String,
    /// Prometheus evaluated the expression (false: `error` says why).
    pub evaluated: bool,
    /// Series the expression returns now: each would be one alert.
    pub matches: usize,
    /// Their label sets (as the query returns them, `__name__` aside) and values.
    pub series: Vec<MatchedSeries>,
    /// One sentence: "would fire now for 2 series", "matches now for 2 series; fires
    /// after 5m", "matches nothing now: would not fire", or "not evaluated: …".
    pub verdict: String,
    /// Prometheus's error (its own text), or why it could not be asked.
    pub error: Option<String>,
}

/// One series the expression returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedSeries {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: String,
}

/// Renders the stored rule `rule_id` as generation would (template, variables, automatic
/// labels), whether it is enabled or not; a rule that does not render is
/// [`Error::Validation`].
pub fn render_stored_rule(
    store: &RuleStore,
    rule_id: i64,
    version: PrometheusVersion,
) -> Result<RenderedRule> {
    let rule = store.rule(rule_id)?;
    let group = store.group(rule.group_id)?;
    let template = store.template(rule.template_id)?;
    render_rule(&group, &template, &rule, version).map_err(Error::Validation)
}

/// Finds a rule by id, or by alert name when exactly one rule has it (the rule's own name,
/// else its template's).
pub fn find_rule(store: &RuleStore, key: &str) -> Result<i64> {
    if let Ok(id) = key.trim().parse::<i64>() {
        return Ok(store.rule(id)?.id);
    }
    let templates = store.templates()?;
    let named: Vec<i64> = store
        .rules(None)?
        .into_iter()
        .filter(|r| {
            r.name.as_deref().or_else(|| {
                templates
                    .iter()
                    .find(|t| t.id == r.template_id)
                    .map(|t| t.name.as_str())
            }) == Some(key.trim())
        })
        .map(|r| r.id)
        .collect();
    match named.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound {
            kind: "rule",
            key: key.to_string(),
        }),
        _ => Err(Error::invalid(
            "rule",
            format!(
                "{} rules are named {key:?} (ids {named:?}): give the id",
                named.len()
            ),
        )),
    }
}

impl RulePreview {
    /// The preview of `rule` from the query's outcome (pure: tested without Prometheus).
    pub fn from_answer(
        rule: &RenderedRule,
        prometheus_url: &str,
        answer: Result<Vec<QuerySample>>,
    ) -> RulePreview {
        let (evaluated, series, error) = match answer {
            Ok(samples) => (
                true,
                samples
                    .into_iter()
                    .map(|mut s| {
                        s.labels.remove("__name__");
                        MatchedSeries {
                            labels: s.labels,
                            value: s.value,
                        }
                    })
                    .collect::<Vec<_>>(),
                None,
            ),
            Err(e) => (false, Vec::new(), Some(e.to_string())),
        };
        let n = series.len();
        let verdict = match (&error, n, rule.for_duration.as_deref()) {
            (Some(e), _, _) => format!("not evaluated: {e}"),
            (None, 0, _) => "matches nothing now: would not fire".to_string(),
            (None, n, Some(f)) if !f.is_empty() && f != "0s" => {
                format!("matches now for {n} series; fires after {f}")
            }
            (None, n, _) => format!("would fire now for {n} series"),
        };
        RulePreview {
            rule_id: rule.source.rule_id,
            alert: rule.alert.clone(),
            group_name: rule.source.group_name.clone(),
            expr: rule.expr.clone(),
            for_duration: rule.for_duration.clone(),
            prometheus_url: prometheus_url.to_string(),
            evaluated,
            matches: n,
            series,
            verdict,
            error,
        }
    }
}

/// Evaluates `rule`'s expression now on `client`'s Prometheus; never fails (see
/// [`RulePreview::error`]).
pub async fn preview_rule(client: &PrometheusClient, rule: &RenderedRule) -> RulePreview {
    let answer = client.instant_query(&rule.expr).await;
    RulePreview::from_answer(rule, client.base_url(), answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRule, NewTemplate};

    fn rendered(for_duration: Option<&str>) -> RenderedRule {
        let store = RuleStore::open_in_memory().unwrap();
        let g = store.create_group("prod", "").unwrap();
        let t = store
            .create_template(&NewTemplate {
                name: "NodeDown".into(),
                query_template: "up == 0".into(),
                for_duration: for_duration.map(str::to_string),
                ..Default::default()
            })
            .unwrap();
        let r = store.create_rule(&NewRule::new(g.id, t.id)).unwrap();
        assert_eq!(find_rule(&store, "NodeDown").unwrap(), r.id);
        assert!(find_rule(&store, "Nope").is_err());
        render_stored_rule(&store, r.id, PrometheusVersion::DEFAULT).unwrap()
    }

    fn sample(instance: &str) -> QuerySample {
        QuerySample {
            labels: BTreeMap::from([
                ("__name__".into(), "up".into()),
                ("instance".into(), instance.into()),
            ]),
            value: "0".into(),
        }
    }

    #[test]
    fn verdicts() {
        let p = RulePreview::from_answer(&rendered(None), "u", Ok(vec![sample("a"), sample("b")]));
        assert_eq!(p.verdict, "would fire now for 2 series");
        assert_eq!(p.series[0].labels.get("__name__"), None);
        let p = RulePreview::from_answer(&rendered(Some("5m")), "u", Ok(vec![sample("a")]));
        assert_eq!(p.verdict, "matches now for 1 series; fires after 5m");
        let e = Error::QueryRefused {
            url: "u".into(),
            status: 400,
            error_type: "bad_data".into(),
            error: "parse error".into(),
        };
        let p = RulePreview::from_answer(&rendered(None), "u", Err(e));
        assert!(!p.evaluated);
        assert_eq!(
            p.verdict,
            "not evaluated: Prometheus refused the query (400 bad_data): parse error"
        );
    }
}
