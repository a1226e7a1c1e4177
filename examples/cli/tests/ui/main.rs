//! The web UI in a real browser: the real `ipocket serve` on 127.0.0.1 with its own SQLite
//! file, driven by Debian's headless Chromium through chromedriver (WebDriver). One test
//! binary, one module per area; screenshots land in `target/ui-screenshots/` (and in
//! `$IPOCKET_UI_SCREENSHOTS`, which is how `docs/ui/` is refreshed).

#[allow(dead_code)]
#[path = "../serve_api/common.rs"]
mod common;
mod ui_common;

mod alerting;
mod audit;
mod catalog;
mod connectors;
mod data_ops;
mod first_hour;
mod hosts;
mod ip_assets;
mod liveness;
mod previews;
mod range_map;
mod ranges;
mod servers;
mod session;
mod tokens;
mod users;
