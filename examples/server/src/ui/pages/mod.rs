//! The pages, one module per area. Each module's `route` answers the paths it owns (`rest`
//! is the path after `/ui`; `form` is `Some` for a POST whose CSRF token was checked).

pub(crate) mod account;
pub(crate) mod alerting;
pub(crate) mod audit;
pub(crate) mod catalog;
pub(crate) mod connectors;
pub(crate) mod data_ops;
pub(crate) mod hosts;
pub(crate) mod ip_assets;
pub(crate) mod liveness;
pub(crate) mod login;
pub(crate) mod management;
pub(crate) mod range_map;
pub(crate) mod ranges;
pub(crate) mod reconcile;
pub(crate) mod sd_preview;
pub(crate) mod servers;
pub(crate) mod tokens;
pub(crate) mod users;

use super::form::Form;
use super::page::{Ctx, UiAnswer};

/// The first module that owns the path answers.
pub(crate) async fn route(
    cx: &Ctx<'_>,
    rest: &[&str],
    form: Option<&Form>,
) -> Option<(&'static str, UiAnswer)> {
    if let Some(found) = login::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = account::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = ip_assets::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = hosts::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = ranges::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = catalog::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = management::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = data_ops::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = connectors::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = audit::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = servers::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = users::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = tokens::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = alerting::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = liveness::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = reconcile::route(cx, rest, form).await {
        return Some(found);
    }
    if let Some(found) = sd_preview::route(cx, rest, form).await {
        return Some(found);
    }
    None
}
