//! The inventory's catalog behaviours (projects, vendors, tags, hosts) on both backends.

use ipocket_db::Backend;

use crate::fresh;

/// A fresh inventory on either backend is at the newest schema version.
fn a_fresh_inventory_is_current(b: Backend) {
    let (_db, inv) = fresh(b);
    assert_eq!(inv.backend(), b);
    assert_eq!(inv.schema_version().unwrap(), ipocket_core::SCHEMA_VERSION);
    assert_eq!(inv.now().unwrap().len(), 19);
}

ipocket_testkit::on_both_backends!(a_fresh_inventory_is_current);
