//! `{{.var}}` rendering for query, label and annotation templates, and a syntax check
//! for the Go templates Prometheus itself expands in labels and annotations.

use std::collections::BTreeMap;

/// Template variables: name → value (inserted verbatim).
pub type Vars = BTreeMap<String, String>;

/// One `{{ ... }}` action found in a text.
struct Action<'a> {
    /// Byte range of the whole action, braces included.
    start: usize,
    end: usize,
    /// Text between the braces.
    inner: &'a str,
}

/// Splits `text` into actions; fails on an unclosed `{{` or a stray `}}`.
fn actions(text: &str) -> Result<Vec<Action<'_>>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = text[i..].find("{{") {
        let start = i + rel;
        // A stray "}}" before this "{{" is an error only for our own renderer's strictness:
        // Go templates treat it as text, so it is allowed here.
        let body_start = start + 2;
        let end = find_action_end(text, body_start).ok_or_else(|| {
            format!(
                "unclosed action: \"{{{{\" at byte {start} has no matching \"}}}}\" in {text:?}"
            )
        })?;
        out.push(Action {
            start,
            end: end + 2,
            inner: &text[body_start..end],
        });
        i = end + 2;
    }
    Ok(out)
}

/// Finds the `}}` closing an action that starts at `from`, skipping quoted strings,
/// raw strings, char literals and comments.
fn find_action_end(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    if text[from..]
        .trim_start_matches('-')
        .trim_start()
        .starts_with("/*")
    {
        let c = text[from..].find("*/")? + from;
        let close = text[c + 2..].find("}}")? + c + 2;
        return Some(close);
    }
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    if i < bytes.len() && bytes[i] == b'\n' {
                        return None;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// If `inner` is exactly `.name` (spaces allowed around it), returns `name`.
fn simple_field(inner: &str) -> Option<&str> {
    let name = inner.trim().strip_prefix('.')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some(name)
    } else {
        None
    }
}

/// Renders a PromQL query template: every `{{.name}}` is replaced by its variable.
///
/// Only `{{.name}}` actions are allowed; a missing variable is an error (never `<no value>`).
///
/// ```
/// use ipocket_rulegen::template::{render_query, Vars};
/// let vars = Vars::from([("threshold".to_string(), "80".to_string())]);
/// assert_eq!(render_query("cpu > {{ .threshold }}", &vars).unwrap(), "cpu > 80");
/// assert!(render_query("cpu > {{.limit}}", &vars).unwrap_err().contains("limit"));
/// ```
pub fn render_query(template: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for action in actions(template)? {
        let Some(name) = simple_field(action.inner) else {
            return Err(format!(
                "query templates support only {{{{.name}}}} placeholders, found {{{{{}}}}}",
                action.inner
            ));
        };
        let value = vars.get(name).ok_or_else(|| missing(name, vars))?;
        out.push_str(&template[last..action.start]);
        out.push_str(value);
        last = action.end;
    }
    out.push_str(&template[last..]);
    Ok(out)
}

/// The variable names a query template uses, sorted and without duplicates; fails like
/// [`render_query`] on an unclosed action or an action other than `{{.name}}`.
///
/// ```
/// use ipocket_rulegen::template::placeholders;
/// let names = placeholders("x{g=\"{{.group_id}}\"} > {{ .threshold }} < {{.threshold}}").unwrap();
/// assert_eq!(names, vec!["group_id", "threshold"]);
/// ```
pub fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut names = std::collections::BTreeSet::new();
    for action in actions(template)? {
        let name = simple_field(action.inner).ok_or_else(|| {
            format!(
                "query templates support only {{{{.name}}}} placeholders, found {{{{{}}}}}",
                action.inner
            )
        })?;
        names.insert(name.to_string());
    }
    Ok(names.into_iter().collect())
}

/// Renders our variables into a label or annotation value.
///
/// `{{.name}}` with a lower-case `name` is one of our variables (Prometheus's own template
/// data has only capitalised fields such as `.Labels` and `.Value`, so a lower-case field
/// would fail in Prometheus anyway); a missing one is an error. Every other action, e.g.
/// `{{ $labels.instance }}` or `{{ $value | humanize }}`, is left for Prometheus.
///
/// ```
/// use ipocket_rulegen::template::{render_text, Vars};
/// let vars = Vars::from([("threshold".to_string(), "80".to_string())]);
/// let out = render_text("{{ $labels.instance }} above {{.threshold}}%", &vars).unwrap();
/// assert_eq!(out, "{{ $labels.instance }} above 80%");
/// ```
pub fn render_text(text: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for action in actions(text)? {
        let Some(name) = simple_field(action.inner) else {
            continue;
        };
        if !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        let value = vars.get(name).ok_or_else(|| missing(name, vars))?;
        out.push_str(&text[last..action.start]);
        out.push_str(value);
        last = action.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

fn missing(name: &str, vars: &Vars) -> String {
    let known: Vec<&str> = vars.keys().map(String::as_str).collect();
    format!(
        "variable {name:?} is not set (known variables: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// Checks the syntax of a Go template as Prometheus expands it in alert labels and
/// annotations: actions closed, strings closed, parentheses balanced, and
/// `if`/`range`/`with`/`define`/`block` each closed by `end`, with `else` only inside them.
///
/// This is a syntax check, not an evaluation: function names are not checked
/// (use promtool for the authoritative check).
pub fn check_go_template(text: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    for action in actions(text)? {
        let inner = action.inner.strip_prefix('-').unwrap_or(action.inner);
        let inner = inner.strip_suffix('-').unwrap_or(inner).trim();
        if inner.starts_with("/*") {
            if !inner.ends_with("*/") {
                return Err(format!("comment not closed in {{{{{}}}}}", action.inner));
            }
            continue;
        }
        if inner.is_empty() {
            return Err("missing value for command: empty action {{}}".into());
        }
        let mut depth = 0i32;
        let mut in_str: Option<u8> = None;
        let bytes = inner.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match in_str {
                Some(q) => {
                    if b == b'\\' && q != b'`' {
                        i += 1;
                    } else if b == q {
                        in_str = None;
                    }
                }
                None => match b {
                    b'"' | b'`' | b'\'' => in_str = Some(b),
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth < 0 {
                            return Err(format!("unexpected \")\" in {{{{{}}}}}", action.inner));
                        }
                    }
                    _ => {}
                },
            }
            i += 1;
        }
        if in_str.is_some() {
            return Err(format!(
                "unterminated quoted string in {{{{{}}}}}",
                action.inner
            ));
        }
        if depth != 0 {
            return Err(format!("unclosed left paren in {{{{{}}}}}", action.inner));
        }
        let keyword = inner.split_whitespace().next().unwrap_or("");
        match keyword {
            "if" | "range" | "with" | "define" | "block" => {
                if inner.split_whitespace().nth(1).is_none() {
                    return Err(format!("missing value for {keyword}"));
                }
                open.push(keyword);
            }
            "else" if open.is_empty() => return Err("unexpected {{else}}".into()),
            "end" if open.pop().is_none() => return Err("unexpected {{end}}".into()),
            _ => {}
        }
    }
    if let Some(kw) = open.last() {
        return Err(format!("unexpected EOF: {{{{{kw}}}}} has no {{{{end}}}}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_renders_all_spacings() {
        let v = vars(&[("threshold", "90"), ("group_id", "7")]);
        let out = render_query(
            "x{group_id=\"{{.group_id}}\"} > {{ .threshold }} or y > {{.threshold }}",
            &v,
        )
        .unwrap();
        assert_eq!(out, "x{group_id=\"7\"} > 90 or y > 90");
    }

    #[test]
    fn query_without_placeholders_is_unchanged() {
        assert_eq!(render_query("up == 0", &Vars::new()).unwrap(), "up == 0");
    }

    #[test]
    fn query_missing_variable_is_an_error_not_no_value() {
        let err = render_query("x > {{.threshold}}", &vars(&[("other", "1")])).unwrap_err();
        assert!(err.contains("\"threshold\" is not set"), "{err}");
        assert!(err.contains("known variables: other"), "{err}");
    }

    #[test]
    fn query_rejects_other_actions_and_unclosed() {
        let err = render_query("x > {{ $value }}", &Vars::new()).unwrap_err();
        assert!(err.contains("only {{.name}}"), "{err}");
        let err = render_query("x > {{.threshold", &vars(&[("threshold", "1")])).unwrap_err();
        assert!(err.contains("unclosed action"), "{err}");
    }

    #[test]
    fn placeholders_listed_and_checked() {
        assert_eq!(placeholders("up == 0").unwrap(), Vec::<String>::new());
        assert!(placeholders("x > {{.a").unwrap_err().contains("unclosed"));
        assert!(placeholders("x > {{ $value }}")
            .unwrap_err()
            .contains("only"));
    }

    #[test]
    fn text_keeps_prometheus_actions() {
        let v = vars(&[("threshold", "80")]);
        let s = "{{ $labels.instance }} {{ .Labels.job }} {{ $value | humanize }} > {{.threshold}}";
        assert_eq!(
            render_text(s, &v).unwrap(),
            "{{ $labels.instance }} {{ .Labels.job }} {{ $value | humanize }} > 80"
        );
        assert!(render_text("{{.missing}}", &v)
            .unwrap_err()
            .contains("\"missing\""));
    }

    #[test]
    fn go_template_syntax_ok() {
        for ok in [
            "plain text",
            "{{ $labels.instance }} is down",
            "{{ $value | humanizePercentage }}",
            "{{ if gt $value 80.0 }}hot{{ else }}ok{{ end }}",
            "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
            "{{/* a comment */}}x",
            "{{ printf \"%.2f }}\" $value }}",
            "{{- $labels.job -}}",
            "{{ with (index $labels \"x\") }}{{ . }}{{ end }}",
        ] {
            assert_eq!(check_go_template(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn go_template_syntax_errors() {
        let cases = [
            ("{{ $labels.instance", "unclosed action"),
            ("{{ if $value }}x", "has no {{end}}"),
            ("x{{ end }}", "unexpected {{end}}"),
            ("{{ else }}", "unexpected {{else}}"),
            ("{{ printf \"x }}", "unclosed action"),
            ("{{ (len $labels }}", "unclosed left paren"),
            ("{{ len $labels) }}", "unexpected \")\""),
            ("{{ }}", "empty action"),
            ("{{ if }}x{{ end }}", "missing value for if"),
        ];
        for (input, want) in cases {
            let err = check_go_template(input).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }
}
