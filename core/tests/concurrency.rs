//! Two allocators on the same file never get the same address.

use std::thread;

use ipocket_core::*;

#[test]
fn concurrent_next_free_allocation_is_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.db");
    let range_id = {
        let mut inv = Inventory::open(&path).unwrap();
        inv.create_ip_range(&Actor::system(), "pool", "10.50.0.0/24", None)
            .unwrap()
            .id
    };
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            thread::spawn(move || {
                let mut inv = Inventory::open(&path).unwrap();
                let mut got = Vec::new();
                for i in 0..25 {
                    let t = NewIpAsset {
                        notes: Some(format!("worker {w} #{i}")),
                        ..NewIpAsset::new("", AssetType::Vm)
                    };
                    got.push(
                        inv.allocate_next(&Actor::system(), range_id, &t)
                            .unwrap()
                            .ip_address,
                    );
                }
                got
            })
        })
        .collect();
    let mut all: Vec<String> = workers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(all.len(), 50);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 50, "an address was handed out twice");
    let inv = Inventory::open(&path).unwrap();
    let u = inv.range_utilization(range_id).unwrap();
    assert_eq!((u.used, u.free), (50, 204));
    // the lowest 50 usable addresses, no gaps
    assert_eq!(
        inv.next_free_address(range_id).unwrap().as_deref(),
        Some("10.50.0.51")
    );
}
