//! Syntax checks for label names, durations and free-text names.

/// True for a label name valid in every Prometheus version (`[a-zA-Z_][a-zA-Z0-9_]*`).
///
/// Prometheus 3 also accepts UTF-8 names, but 2.x does not: generated files stay
/// loadable by both.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a Prometheus duration such as `5m`, `1h30m`, `90s` or `0s`.
///
/// Units `y w d h m s ms`, each at most once and largest first, as Prometheus's
/// `model.ParseDuration` wants. Returns why the string is not a duration.
pub fn check_duration(s: &str) -> Result<(), String> {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    if s == "0" {
        return Ok(());
    }
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut last_unit: Option<usize> = None;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(format!(
                "{s:?} is not a Prometheus duration (expected e.g. 30s, 5m, 1h30m)"
            ));
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[unit_start..i];
        let Some(pos) = UNITS.iter().position(|u| *u == unit) else {
            return Err(format!(
                "{s:?} is not a Prometheus duration: unit {unit:?} is not one of y, w, d, h, m, s, ms"
            ));
        };
        if last_unit.is_some_and(|last| pos <= last) {
            return Err(format!(
                "{s:?} is not a Prometheus duration: units must appear once each, largest first"
            ));
        }
        last_unit = Some(pos);
    }
    Ok(())
}

/// Checks a free-text name (group, template, rule, hostname): not empty, no
/// leading/trailing whitespace, no control characters.
pub(crate) fn check_name(field: &str, name: &str) -> crate::Result<()> {
    if name.trim().is_empty() {
        return Err(crate::Error::invalid(field, "must not be empty"));
    }
    if name.trim() != name {
        return Err(crate::Error::invalid(
            field,
            format!("{name:?} has leading or trailing whitespace"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(crate::Error::invalid(
            field,
            format!("{name:?} contains a control character"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names() {
        for ok in ["a", "_", "team", "group_id", "A1_b", "__x"] {
            assert!(is_valid_label_name(ok), "{ok}");
        }
        for bad in ["", "1a", "bad-name", "a.b", "ü", "a b"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn durations_accepted() {
        for ok in ["0", "0s", "5m", "1h30m", "90s", "1y2w3d4h5m6s7ms", "100ms"] {
            assert_eq!(check_duration(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn durations_rejected_with_reason() {
        let cases = [
            ("", "empty"),
            ("5 minutes", "not a Prometheus duration"),
            ("5", "unit \"\""),
            ("m5", "expected e.g."),
            ("5x", "unit \"x\""),
            ("30s1m", "largest first"),
            ("1m1m", "largest first"),
            ("-5m", "expected e.g."),
        ];
        for (input, want) in cases {
            let err = check_duration(input).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn names() {
        assert!(check_name("group name", "prod db").is_ok());
        for bad in ["", "  ", " x", "x ", "a\nb"] {
            assert!(check_name("group name", bad).is_err(), "{bad:?}");
        }
    }
}
