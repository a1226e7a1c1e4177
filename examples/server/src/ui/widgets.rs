//! Pieces pages share: labelled fields with their error, the pager, sort links, colour chips.

use maud::{html, Markup};

use super::session::percent_encode;
use crate::errors::ApiError;
use crate::http::ApiRequest;

/// Errors of a submitted form, by field name; `""` is the form as a whole.
#[derive(Default)]
pub(crate) struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// The library's error, placed at its field when it names one (`details.field`).
    pub(crate) fn from_api(e: &ApiError) -> Self {
        let field = e
            .details
            .get("field")
            .and_then(|f| f.as_str())
            .unwrap_or("");
        let message = match e.message.split_once(": ") {
            Some((f, m)) if f == field => m.to_string(),
            _ => e.message.clone(),
        };
        FieldErrors(vec![(field.to_string(), message)])
    }

    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Errors not shown at a field of the form: `known` lists the form's fields.
    pub(crate) fn general(&self, known: &[&str]) -> Markup {
        html! {
            @for (f, m) in &self.0 {
                @if !known.contains(&f.as_str()) {
                    div.flash.flash-error role="alert" {
                        @if !f.is_empty() { strong { (f) ": " } }
                        (m)
                    }
                }
            }
        }
    }
}

/// A labelled text input with its error below it.
pub(crate) fn text_field(
    name: &str,
    label: &str,
    value: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    let id = format!("f-{name}");
    let err = errors.of(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            input type="text" id=(id) name=(name) value=(value) required[required]
                aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| format!("{id}-err"))];
            @if let Some(m) = err { span.field-error id={(id) "-err"} { (m) } }
        }
    }
}

/// A labelled `<select>`: `options` are (value, label); `selected` the current value.
pub(crate) fn select_field(
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    errors: &FieldErrors,
) -> Markup {
    let id = format!("f-{name}");
    let err = errors.of(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[err.map(|_| "true")] {
                @for (v, l) in options {
                    option value=(v) selected[v == selected] { (l) }
                }
            }
            @if let Some(m) = err { span.field-error { (m) } }
        }
    }
}

/// The query string of `req` with `changes` applied (`None` removes the key), for links that
/// keep the current filters.
pub(crate) fn query_with(req: &ApiRequest, changes: &[(&str, Option<&str>)]) -> String {
    let mut pairs: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    for (k, v) in changes {
        if let Some(v) = v {
            pairs.push((k.to_string(), v.to_string()));
        }
    }
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// Page sizes offered in lists (as the original).
pub(crate) const PAGE_SIZES: [u64; 4] = [10, 20, 50, 100];

/// `page` and `per_page` from the query: defaults 1 and 20, sizes limited to [`PAGE_SIZES`].
pub(crate) fn paging(req: &ApiRequest) -> Result<(u64, u64), ApiError> {
    let page = match req.param("page").filter(|s| !s.is_empty()) {
        None => 1,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1_000_000_000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("page: expected a page number, found {v:?}"))
            })?,
    };
    let per_page = match req.param("per_page").filter(|s| !s.is_empty()) {
        None => 20,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| PAGE_SIZES.contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("per_page: expected 10, 20, 50 or 100, found {v:?}"))
            })?,
    };
    Ok((page, per_page))
}

/// "Showing a–b of n", page links, and the page-size choice.
pub(crate) fn pager(req: &ApiRequest, path: &str, total: u64, page: u64, per_page: u64) -> Markup {
    let pages = total.div_ceil(per_page).max(1);
    let first = if total == 0 {
        0
    } else {
        (page - 1) * per_page + 1
    };
    let last = (page * per_page).min(total);
    let link = |p: u64| {
        format!(
            "{path}{}",
            query_with(req, &[("page", Some(&p.to_string()))])
        )
    };
    let mut shown: Vec<u64> = [
        1,
        page.saturating_sub(2),
        page.saturating_sub(1),
        page,
        page + 1,
        page + 2,
        pages,
    ]
    .into_iter()
    .filter(|p| (1..=pages).contains(p))
    .collect();
    shown.dedup();
    shown.sort_unstable();
    shown.dedup();
    html! {
        nav.pager aria-label="Pages" {
            span.muted { "Showing " (first) "–" (last) " of " (total) }
            @if page > 1 { a href=(link(page - 1)) rel="prev" { "‹ Prev" } }
            @for (i, p) in shown.iter().enumerate() {
                @if i > 0 && *p > shown[i - 1] + 1 { span.muted { "…" } }
                @if *p == page { span.current aria-current="page" { (p) } }
                @else { a href=(link(*p)) { (p) } }
            }
            @if page < pages { a href=(link(page + 1)) rel="next" { "Next ›" } }
            form method="get" action=(path) {
                @for (k, v) in &req.query {
                    @if k != "per_page" && k != "page" { input type="hidden" name=(k) value=(v); }
                }
                label.inline for="per-page" { "Per page" }
                select #per-page name="per_page" data-autosubmit {
                    @for n in PAGE_SIZES { option value=(n) selected[n == per_page] { (n) } }
                }
                noscript { button.secondary type="submit" { "Apply" } }
            }
        }
    }
}

/// A column header that sorts by `key`; a second click reverses.
pub(crate) fn sort_header(req: &ApiRequest, path: &str, key: &str, label: &str) -> Markup {
    let current = req.param("sort").unwrap_or("");
    let desc = req.param("dir") == Some("desc");
    let active = current == key;
    let dir = if active && !desc { "desc" } else { "asc" };
    let href = format!(
        "{path}{}",
        query_with(
            req,
            &[("sort", Some(key)), ("dir", Some(dir)), ("page", None)]
        )
    );
    let sort = active.then_some(if desc { "descending" } else { "ascending" });
    html! { th scope="col" { a href=(href) aria-sort=[sort] { (label) } } }
}

/// Field changes as `field: before → after` (`<del>`/`<ins>`), one per line; an empty side
/// (a value set or cleared) is left out.
pub(crate) fn change_list(changes: &[ipocket_core::FieldChange]) -> Markup {
    html! {
        ul.diff {
            @for c in changes {
                li {
                    span.field { (c.field) ": " }
                    @if let Some(b) = &c.before { del { (b) } }
                    @if c.before.is_some() && c.after.is_some() { " → " }
                    @if let Some(a) = &c.after { ins { (a) } }
                    @if c.after.is_none() { " → " span.muted { "(empty)" } }
                }
            }
        }
    }
}

/// A tag chip; its colour comes from [`colour_css`].
pub(crate) fn tag_chip(name: &str) -> Markup {
    html! { span class={"chip tag-" (name)} { (name) } }
}

/// CSS classes `.{prefix}{key}` with each background colour and a readable text colour.
/// Keys are tag names (`[a-z0-9_-]`) or ids; colours are `#rrggbb` (checked here again,
/// as this text goes into a `<style>` block).
pub(crate) fn colour_css<'a>(
    prefix: &str,
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut css = String::new();
    for (key, colour) in items {
        let safe_key = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let safe_colour = colour.len() == 7
            && colour.starts_with('#')
            && colour[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if safe_key && safe_colour {
            css.push_str(&format!(
                ".{prefix}{key}{{background:{colour};color:{}}}\n",
                text_colour(colour)
            ));
        }
    }
    css
}

/// Black or white, whichever reads better on `#rrggbb`.
fn text_colour(bg: &str) -> &'static str {
    let c = |i: usize| u8::from_str_radix(&bg[i..i + 2], 16).unwrap_or(0) as f64;
    let luma = 0.299 * c(1) + 0.587 * c(3) + 0.114 * c(5);
    if luma > 150.0 {
        "#0f172a"
    } else {
        "#ffffff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_css_refuses_what_could_break_out_of_the_style_block() {
        let css = colour_css(
            "tag-",
            [("edge", "#ff0000"), ("x}body{", "#000000"), ("ok", "red;}")],
        );
        assert_eq!(css, ".tag-edge{background:#ff0000;color:#ffffff}\n");
    }
}
