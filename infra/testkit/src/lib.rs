//! Starts Debian's real Prometheus and node_exporter on 127.0.0.1 with free ports.
// Each test binary uses a part of this module.
#![allow(dead_code, unreachable_pub, unused_imports)]

mod peer_process;
pub mod server;
pub mod stub;

pub use peer_process::*;

use std::fs;

pub fn corpus_node_exporter() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/node_exporter.prom");
    fs::read(path).unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
