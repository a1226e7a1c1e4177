//! `ipocket-core`: the ipocket IP inventory as a library.
//!
//! - [`Inventory`]: IP assets (IPv4 and IPv6), projects, hosts, vendors, tags,
//!   ranges, users and the audit log in one SQLite file (WAL, foreign keys,
//!   versioned migrations). Every mutation writes its audit row in the same
//!   transaction.
//! - One import engine: every source (bundle JSON, CSV, JSON export, Nmap XML,
//!   connectors) becomes a [`Bundle`], [`Inventory::plan`] computes the dry run
//!   and [`Inventory::apply`] writes it in one transaction, all or nothing.
//! - Exports, Prometheus service-discovery target groups and `/metrics` values.
//!
//! Where to start: [`Inventory::open`]; assets: [`Inventory::create_ip_asset`],
//! [`Inventory::list_ip_assets`]; ranges: [`Inventory::range_utilization`],
//! [`Inventory::allocate_next`]; users: [`Inventory::login`],
//! [`Inventory::session_user`]; API tokens: [`Inventory::create_api_token`],
//! [`Inventory::use_api_token`]; import: [`import::parse_file`],
//! [`Inventory::plan`], [`Inventory::apply`]; export: [`Inventory::export_to`];
//! service discovery: [`Inventory::sd_target_groups`]; metrics:
//! [`Inventory::inventory_metrics`] then [`InventoryMetrics::render`].
//!
//! ```
//! use ipocket_core::*;
//! let mut inv = Inventory::open_in_memory().unwrap();
//! let bundle = parse_bundle_json(br#"{"schema_version":"1","data":{
//!     "ip_assets":[{"ip_address":"10.0.0.1","type":"VM","tags":["prod"]}]}}"#).unwrap();
//! let plan = inv.plan(bundle, &ImportOptions::default()).unwrap();
//! assert_eq!(plan.summary.ip_assets.create, 1);
//! inv.apply(&Actor::system(), &plan).unwrap();
//! assert_eq!(inv.ip_asset("10.0.0.1").unwrap().tags, vec!["prod"]);
//! ```

#![forbid(unsafe_code)]

mod api_tokens;
mod assets;
mod audit;
mod catalog;
mod csv_cell;
mod dialect;
mod error;
mod export;
pub mod import;
mod limits;
mod login_throttle;
mod metrics;
mod model;
mod paging;
mod passwords;
mod query;
mod ranges;
mod schema;
mod sd;
mod security_events;
mod sessions;
mod store;
mod summary;
mod users;

pub use api_tokens::{ApiToken, TokenScope, TokenUse, API_TOKEN_PREFIX, MAX_TOKEN_DAYS};
pub use assets::{BulkEdit, IpAssetPatch, NewIpAsset};
pub use audit::{AuditEntry, AuditFilter, FieldChange};
pub use catalog::{HostDetail, HostWithAddresses};
pub use error::{Error, ImportErrors, ImportIssue, Result};
pub use export::{ExportCompat, ExportFormat, ExportOptions};
pub use import::{
    parse_bundle_json, parse_bundle_zip, parse_csv, parse_nmap_xml, ApplyReport, Bundle,
    EntityCounts, ImportAction, ImportEntity, ImportOptions, ImportPlan, ImportSummary,
    PlannedItem,
};
/// The exposition format [`InventoryMetrics::render`] writes (from `ipocket-expfmt`).
pub use ipocket_expfmt::Format as ExpositionFormat;
pub use limits::{
    InputLimits, DEFAULT_MAX_TEXT_CHARS, DEFAULT_MAX_ZIP_BYTES, DEFAULT_MAX_ZIP_RATIO,
    MAX_NAME_CHARS,
};
pub use login_throttle::{LoginLockout, LoginThrottle};
pub use metrics::{InventoryMetrics, MetricFamilyValue, MetricSample};
pub use model::{
    canonical_ip, normalize_color, normalize_tag_name, normalize_tags, Actor, AssetType, Host,
    IpAsset, IpRange, Project, Role, Tag, User, Vendor, DEFAULT_PROJECT_COLOR, DEFAULT_TAG_COLOR,
};
pub use paging::{Page, PageResult};
pub use passwords::{
    hash_password, hash_password_with, verify_password, verify_password_with, PasswordMemory,
};
pub use query::{ArchivedFilter, AssetFilter, AssetSort, AssetSortField, ProjectFilter};
pub use ranges::{
    normalize_cidr, AddressStatus, NextFree, RangeAddress, RangeUtilization, SkippedAddress,
};
pub use schema::{INVENTORY_SCHEMA, SCHEMA_VERSION};
pub use sd::{sd_target, SdGrouping, SdOptions, TargetGroup};
pub use security_events::SecurityEvent;
pub use sessions::{SessionInfo, SessionPolicy, TOUCH_EVERY_SECS};
pub use store::Inventory;
pub use summary::InventorySummary;
pub use users::{PasswordChange, VerifiedLogin};
