//! The field-by-field differences a plan records and a report prints.

use crate::audit::FieldChange;

/// Records `field` in `out` when `before` and `after` differ.
pub(crate) fn diff(
    out: &mut Vec<FieldChange>,
    field: &'static str,
    before: Option<&str>,
    after: Option<&str>,
) {
    if before != after {
        out.push(FieldChange::new(
            field,
            before.map(str::to_string),
            after.map(str::to_string),
        ));
    }
}

/// A trimmed value, `None` when blank.
pub(crate) fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Tags as one text (`a, b`), `None` when there are none.
pub(crate) fn tags_text(t: &[String]) -> Option<String> {
    if t.is_empty() {
        None
    } else {
        Some(t.join(", "))
    }
}
