//! Fuzz entry points (hidden from the docs).
//!
//! Each function takes arbitrary bytes and runs one loader end to end: bytes →
//! [`RawTable`] → typed rows → validation through [`ingest::from_raw_tables`] with a
//! fixed, valid manifest (and, when present, sorting and differencing). Errors
//! are expected and ignored; a panic is a bug. The cargo-fuzz targets in
//! `fuzz/fuzz_targets/` call these, and `tests/fuzz_corpus.rs` replays the
//! committed corpus and regressions through them under `cargo test`.
//!
//! For CSV and JSON Lines the first input byte picks the table
//! ([`TableName::ALL`]`[b % 9]`) and whether viewer ids are pseudonymised
//! (`(b / 9) & 1`); the rest is the file. Parquet input is the whole file, and
//! its raw table is loaded as each of the nine tables in turn.

use std::path::Path;

use crate::ingest::{self, LoadOptions, Manifest};
use crate::table::{Cell, RawTable, TableName};
use crate::text;

pub use crate::error::{contain_decoder_panic, in_contained_decoder};

/// Session start of the fixed manifest (that of [`crate::sim::SimConfig`]'s default).
pub const SESSION_START_MS: i64 = 1_795_608_000_000;
/// Session end of the fixed manifest (four hours later).
pub const SESSION_END_MS: i64 = SESSION_START_MS + 4 * 3_600_000;

const MANIFEST_JSON: &str = r#"{
  "vap_format": 1,
  "room": {"id": "sim-room", "name": "模拟直播间", "platform": "douyin"},
  "session": {"id": "sim-1", "start_ms": 1795608000000, "end_ms": 1795622400000,
              "timezone": "Asia/Shanghai"},
  "metrics": [{"name": "entries", "kind": "flow", "unit": "viewers"},
              {"name": "gmv", "kind": "flow", "unit": "yuan"},
              {"name": "online_viewers", "kind": "gauge", "unit": "viewers"},
              {"name": "product_clicks", "kind": "flow", "unit": "clicks"},
              {"name": "likes", "kind": "cumulative", "unit": "count"}]
}"#;

/// The fixed, valid manifest the table targets load against.
pub fn fixed_manifest() -> Manifest {
    Manifest::from_json(Path::new("manifest.json"), MANIFEST_JSON)
        .expect("the fixed fuzzing manifest is valid")
}

fn str_cell(s: impl Into<String>) -> Cell {
    Cell::Str(s.into())
}

/// Anchors `a1`..`a4` and products `p01`..`p60`, so that references from the
/// fuzzed table can resolve and loading can get past validation.
fn context_tables(except: TableName) -> Vec<(TableName, RawTable)> {
    let mut out = Vec::new();
    if except != TableName::Anchors {
        out.push((
            TableName::Anchors,
            RawTable {
                source: "anchors".into(),
                columns: vec!["id".into(), "name".into()],
                rows: (1..=4)
                    .map(|i| vec![str_cell(format!("a{i}")), str_cell(format!("主播{i}"))])
                    .collect(),
            },
        ));
    }
    if except != TableName::Products {
        out.push((
            TableName::Products,
            RawTable {
                source: "products".into(),
                columns: vec!["id".into(), "name".into(), "price".into()],
                rows: (1..=60)
                    .map(|i| {
                        vec![
                            str_cell(format!("p{i:02}")),
                            str_cell(format!("商品{i}")),
                            Cell::Float(9.9 * i as f64),
                        ]
                    })
                    .collect(),
            },
        ));
    }
    out
}

fn options(pseudonymize: bool) -> LoadOptions {
    LoadOptions {
        pseudonymize_key: pseudonymize.then(|| b"fuzz-key".to_vec()),
        ..LoadOptions::default()
    }
}

/// Loads one raw table as `table` together with the context tables.
fn load_as(table: TableName, raw: RawTable, pseudonymize: bool) {
    let mut raws = context_tables(table);
    raws.push((table, raw));
    let _ = ingest::from_raw_tables(fixed_manifest(), raws, &options(pseudonymize));
}

fn split_selector(data: &[u8]) -> Option<(TableName, bool, &[u8])> {
    let (&b, rest) = data.split_first()?;
    let table = TableName::ALL[b as usize % TableName::ALL.len()];
    let pseudonymize = (b as usize / TableName::ALL.len()) & 1 == 1;
    Some((table, pseudonymize, rest))
}

/// CSV: first byte selects the table, the rest is the file.
pub fn csv_table(data: &[u8]) {
    let Some((table, pseudonymize, bytes)) = split_selector(data) else {
        return;
    };
    let source = format!("{}.csv", table.as_str());
    if let Ok((raw, _encoding)) = ingest::read_csv_bytes(&source, bytes) {
        load_as(table, raw, pseudonymize);
    }
}

/// JSON Lines: first byte selects the table, the rest is the file.
pub fn jsonl_table(data: &[u8]) {
    let Some((table, pseudonymize, bytes)) = split_selector(data) else {
        return;
    };
    let source = format!("{}.jsonl", table.as_str());
    if let Ok((raw, _encoding)) = ingest::read_jsonl_bytes(&source, bytes) {
        load_as(table, raw, pseudonymize);
    }
}

/// Parquet: the whole input is the file; its raw table is loaded as every table.
pub fn parquet_table(data: &[u8]) {
    if let Ok(raw) = ingest::read_parquet_bytes("fuzz.parquet", data.to_vec()) {
        for table in TableName::ALL {
            load_as(table, raw.clone(), false);
        }
    }
}

/// Manifest: the input is `manifest.json` (UTF-8 or GB18030, as in
/// [`ingest::load_dir`]); a manifest that parses is loaded with the context tables.
pub fn manifest(data: &[u8]) {
    let Ok((json, _encoding)) = text::decode(data) else {
        return;
    };
    let Ok(manifest) = Manifest::from_json(Path::new("manifest.json"), &json) else {
        return;
    };
    if manifest
        .tables
        .keys()
        .any(|k| TableName::parse(k).is_none())
    {
        return;
    }
    let raws = context_tables(TableName::Metrics);
    let _ = ingest::from_raw_tables(manifest, raws, &LoadOptions::default());
}

/// The fixture directory of [`manifest_paths`]: a session directory with real
/// table files next to hostile entries (a directory, a dangling link, a link
/// loop, a link out of the directory, a file of NUL bytes), and a file outside.
fn paths_fixture() -> &'static Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("vap-fuzz-paths-{}", std::process::id()));
        let dir = root.join("session");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(dir.join("sub")).expect("fixture directory");
        let write = |p: &Path, s: &[u8]| std::fs::write(p, s).expect("fixture file");
        write(&dir.join("anchors.csv"), b"id,name\na1,A\n");
        write(&dir.join("products.csv"), b"id,name,price\np01,P,9.9\n");
        write(
            &dir.join("metrics.csv"),
            b"metric,ts_ms,value\ngmv,2026-11-24T08:00:00Z,10\n",
        );
        write(&dir.join("sub/metrics.csv"), b"metric,ts_ms,value\n");
        write(&dir.join("nul.csv"), &[0u8; 64]);
        write(
            &root.join("outside.csv"),
            b"metric,ts_ms,value\ngmv,2026-11-24T08:00:00Z,777\n",
        );
        std::fs::create_dir_all(dir.join("dir.csv")).expect("fixture directory");
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            let _ = symlink("missing.csv", dir.join("dangling.csv"));
            let _ = symlink("loop.csv", dir.join("loop.csv"));
            let _ = symlink("../outside.csv", dir.join("out.csv"));
            let _ = symlink("metrics.csv", dir.join("in.csv"));
        }
        dir
    })
}

/// Manifest with table paths: the input is the `manifest.json` of a session
/// directory holding real and hostile entries ([`paths_fixture`]), loaded
/// with [`ingest::load_dir`]. Paths may name anything; nothing may hang,
/// panic or read outside the directory.
pub fn manifest_paths(data: &[u8]) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let dir = paths_fixture();
    if std::fs::write(dir.join("manifest.json"), data).is_err() {
        return;
    }
    if let Ok((d, _report)) = ingest::load_dir(dir, &LoadOptions::default()) {
        // Only the file outside the directory holds the value 777.
        assert!(
            !d.samples.iter().any(|m| m.value == 777.0),
            "a table path escaped the session directory"
        );
    }
}

/// A store and the original bytes of each of its table files, by name.
type StoreFixture = (crate::store::Store, Vec<(String, Vec<u8>)>);

/// The store of [`stored_table`]: one small simulated session with a derived
/// table, and the original bytes of each of its table files.
fn store_fixture() -> &'static StoreFixture {
    static STORE: std::sync::OnceLock<StoreFixture> = std::sync::OnceLock::new();
    STORE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("vap-fuzz-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let store = crate::store::Store::open(&root).expect("fixture store");
        let data = crate::sim::simulate(&crate::sim::SimConfig {
            seed: 5,
            hours: 0.02,
            session_id: Some("s".into()),
            ..Default::default()
        })
        .expect("simulated session")
        .data;
        store
            .import(&data, &crate::store::ImportOptions::default())
            .expect("fixture import");
        let orders = store
            .read_table(&data.room.id, "s", "orders")
            .expect("fixture table");
        store
            .replace_table(&data.room.id, "s", "derived", &orders)
            .expect("fixture derived table");
        let dir = store.session_dir(&data.room.id, "s").expect("session dir");
        let mut files = Vec::new();
        for t in TableName::ALL
            .iter()
            .map(|t| t.as_str())
            .chain(std::iter::once("derived"))
        {
            let bytes = std::fs::read(dir.join(format!("{t}.parquet"))).expect("fixture file");
            files.push((t.to_string(), bytes));
        }
        (store, files)
    })
}

/// Stored-table reading: the first byte picks a table file of a stored
/// session (`b % 10`: the nine core tables in [`TableName::ALL`] order, then a
/// derived table); the rest replaces that file. Every read API that touches
/// it runs: listing, `read_table`, `load`, `check`. Errors are expected; a
/// panic is a bug. The file is restored afterwards.
pub fn stored_table(data: &[u8]) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let Some((&b, bytes)) = data.split_first() else {
        return;
    };
    let (store, files) = store_fixture();
    let (name, original) = &files[b as usize % files.len()];
    let room = "sim-room";
    let Ok(dir) = store.session_dir(room, "s") else {
        return;
    };
    let path = dir.join(format!("{name}.parquet"));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let _ = store.sessions(None);
    let _ = store.read_table(room, "s", name);
    let _ = store.load(room, "s");
    let _ = store.check();
    let _ = std::fs::write(&path, original);
}

/// The importers ([`crate::ingest::sources`]): the first byte picks the format
/// ([`SourceFormat::ALL`]`[b % 8]`), the rest is the file.
pub fn source(data: &[u8]) {
    use crate::ingest::sources::{read_loaded, SourceFormat, SourceOptions};
    let Some((&b, rest)) = data.split_first() else {
        return;
    };
    let format = SourceFormat::ALL[b as usize % SourceFormat::ALL.len()];
    let name = format!("fuzz.{}", format.name());
    let _ = read_loaded(
        vec![(name, rest.to_vec(), format)],
        &SourceOptions::default(),
    );
}
