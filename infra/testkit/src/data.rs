//! Paths of the shared test data, absolute (built from this crate's manifest folder), so they
//! work from the tests of any crate.

use std::path::PathBuf;

/// The workspace root (two folders above `infra/testkit`).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .expect("infra/testkit sits two folders below the workspace root")
        .to_path_buf()
}

/// `connectors/tests/data/FILE`: saved Prometheus answers, a real node_exporter scrape, a
/// remote_write request.
pub fn connectors_data(file: &str) -> PathBuf {
    workspace_root().join("connectors/tests/data").join(file)
}

/// The path of a real node_exporter scrape (507 samples, 57 KB):
/// `connectors/tests/data/node_exporter.prom`.
pub fn node_exporter_prom_path() -> PathBuf {
    connectors_data("node_exporter.prom")
}

/// The bytes of [`node_exporter_prom_path`].
pub fn node_exporter_prom() -> Vec<u8> {
    let path = node_exporter_prom_path();
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
