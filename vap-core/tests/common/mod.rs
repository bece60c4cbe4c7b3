//! Helpers shared by the store, replay and report suites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Every file under `root` with the sha256 of its content, and every directory.
#[allow(dead_code)] // not every suite that shares these helpers uses it
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if p.is_dir() {
                out.insert(rel, "dir".into());
                walk(root, &p, out);
            } else {
                let hash = Sha256::digest(std::fs::read(&p).unwrap());
                out.insert(rel, format!("{hash:x}"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A store at `dir` holding `n` simulated sessions of the room `sim-room`,
/// one a day (`s0`, `s1`, …; seeds from `seed`, three anchors, `hours` each).
#[allow(dead_code)] // not every suite that shares these helpers uses it
pub fn stored_room(dir: &Path, seed: u64, n: i64, hours: f64) -> vap_core::store::Store {
    use vap_core::sim::{simulate, SimConfig};
    use vap_core::store::{ImportOptions, Store};
    let store = Store::open(dir).unwrap();
    let day = 86_400_000;
    for k in 0..n {
        let r = simulate(&SimConfig {
            seed: seed + k as u64,
            hours,
            anchors: 3,
            start_ms: 1_764_072_000_000 + k * day,
            session_id: Some(format!("s{k}")),
            ..Default::default()
        })
        .unwrap();
        store.import(&r.data, &ImportOptions::default()).unwrap();
    }
    store
}
