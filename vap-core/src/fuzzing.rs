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
