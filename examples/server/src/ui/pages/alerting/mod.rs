//! `/ui/alerts/…`: the alerting model of `ipocket-rulegen` (seed 002). Rules, templates,
//! groups and targets with create / edit / delete (templates and rules are validated by the
//! library before they are stored), the regenerate page (diff, then write and reload) and
//! the Prometheus status. Viewers read; Editors write.

mod edit;
mod preview;
mod regenerate;
mod status;

use maud::{html, Markup};

use crate::ui::form::Form;
use crate::ui::page::{Ctx, UiAnswer};

pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    let [first, tail @ ..] = rest else {
        return None;
    };
    if *first != "alerts" {
        return None;
    }
    Some(match (tail, form) {
        ([], None) => ("/ui/alerts", edit::list(cx, edit::Kind::Rules).await),
        (["regenerate"], None) => ("/ui/alerts/regenerate", regenerate::preview(cx).await),
        (["regenerate"], Some(_)) => ("/ui/alerts/regenerate", regenerate::write(cx).await),
        (["status"], None) => ("/ui/alerts/status", status::page(cx).await),
        (["rules", id, "preview"], None) => {
            ("/ui/alerts/rules/{id}/preview", preview::page(cx, id).await)
        }
        _ => return edit::route(cx, tail, form).await,
    })
}

/// The sub-navigation of the alerting pages; `current` is the path after `/ui/alerts`.
fn tabs(current: &str) -> Markup {
    const TABS: [(&str, &str); 6] = [
        ("", "Rules"),
        ("/templates", "Templates"),
        ("/groups", "Groups"),
        ("/targets", "Targets"),
        ("/regenerate", "Regenerate"),
        ("/status", "Prometheus status"),
    ];
    html! {
        nav.alert-tabs aria-label="Alert rules" {
            ul {
                @for (path, label) in TABS {
                    li { a href={"/ui/alerts" (path)} aria-current=[(path == current).then_some("page")] { (label) } }
                }
            }
        }
    }
}
