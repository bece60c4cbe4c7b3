//! Session directories: loading, validation and writing (formerly `io`).
//!
//! # Layout
//!
//! ```text
//! my-session/
//!   manifest.json        room, session, metric declarations (required)
//!   anchors.csv          id, name
//!   shifts.csv           anchor_id, role, start_ms, end_ms
//!   products.csv         id, name, price, category, aliases ("a|b|c" in CSV)
//!   segments.csv         product_id, kind, start_ms, end_ms
//!   promotions.csv       id, kind, label, product_id, start_ms, end_ms
//!   comments.csv         ts_ms, viewer_id, text
//!   orders.csv           id, ts_ms, product_id, quantity, amount, status, viewer_id
//!   utterances.csv       start_ms, end_ms, text, speaker, confidence
//!   metrics.csv          metric, ts_ms, value   (long format)
//! ```
//!
//! Each table may be `.csv` (UTF-8 or GB18030, detected), `.jsonl` (one JSON
//! object per line) or `.parquet`; every table is optional. The manifest may name
//! the files explicitly in `"tables": {"orders": "export/订单.csv"}`. See
//! [`crate::table`] for column types and accepted timestamp forms.
//!
//! ```json
//! {
//!   "vap_format": 1,
//!   "room": {"id": "acme", "name": "ACME 官方旗舰店", "platform": "douyin"},
//!   "session": {"id": "2026-11-25", "start_ms": 1764068400000,
//!               "end_ms": 1764104400000, "timezone": "Asia/Shanghai"},
//!   "metrics": [{"name": "entries", "kind": "flow", "unit": "viewers"},
//!               {"name": "online_viewers", "kind": "gauge", "unit": "viewers"}]
//! }
//! ```
//!
//! # Validation
//!
//! [`load_dir`] and [`from_raw_tables`] collect every problem before failing
//! (with [`VapError::Validation`]): unparseable fields, bad timestamps, NaN,
//! negative amounts or prices, end before start, unknown product and anchor ids,
//! duplicate ids, events more than [`LoadOptions::outside_tolerance_ms`] outside
//! the session, samples of undeclared metrics. Unsorted input is sorted.
//!
//! ```
//! use vap_core::ingest::{load_dir, write_dir, Format, LoadOptions};
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { seed: 5, hours: 0.25, ..Default::default() }).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! write_dir(&room.data, dir.path(), Format::Csv).unwrap();
//! let (back, report) = load_dir(dir.path(), &LoadOptions::default()).unwrap();
//! assert_eq!(back.orders.len(), room.data.orders.len());
//! assert!(report.sorted.is_empty());
//!
//! // Bad input: every problem, each with its file, row and field.
//! std::fs::write(dir.path().join("orders.csv"), "id,ts_ms,product_id,quantity,amount,status\nx,soon,p01,1,abc,paid\n").unwrap();
//! let e = load_dir(dir.path(), &LoadOptions::default()).unwrap_err();
//! assert!(e.problems().iter().any(|p| p.field.as_deref() == Some("ts_ms")));
//! assert!(e.problems().iter().any(|p| p.field.as_deref() == Some("amount")));
//! ```
//!
//! # Parts
//!
//! [`Manifest`] (the manifest and its version), the per-format readers
//! ([`read_csv_bytes`], [`read_jsonl_bytes`], [`read_parquet_bytes`]), loading
//! ([`load_dir`], [`from_raw_tables`]), the validation rules
//! ([`validate_session`]), and writing ([`write_dir`], [`table_bytes`]).

mod fastcsv;
mod load;
mod manifest;
mod read;
mod run_sheet;
pub mod sources;
mod typed;
mod validate;
mod write;

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::schema::Ms;

pub use crate::schema::{MAX_SESSION_MS, MAX_TIME_MS, MIN_TIME_MS};
pub use load::{
    difference_cumulative, from_converted_tables, from_raw_tables, load_dir, sort_session,
    LoadReport,
};
pub(crate) use load::{from_table_inputs, TableInput};
pub use manifest::{Manifest, ManifestSession, MANIFEST_VERSION};
pub(crate) use read::{decode_parquet, parquet_row_count};
pub use read::{read_csv_bytes, read_jsonl_bytes, read_parquet_bytes};
pub use run_sheet::{read_run_sheet, read_run_sheet_bytes, PlannedItem, RunSheetOptions};
pub use validate::validate_session;
pub use write::{parquet_bytes, table_bytes, write_dir, write_dir_encoded};

/// Options for loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadOptions {
    /// When set, viewer ids of comments and orders are replaced by their keyed
    /// hash ([`crate::text::pseudonymize`]) before anything else sees them. Read from
    /// a string (its UTF-8 bytes) or an array of bytes.
    #[serde(deserialize_with = "key_bytes")]
    pub pseudonymize_key: Option<Vec<u8>>,
    /// Events further than this outside `[start, end)` are errors (default 1 h).
    #[serde(alias = "outside_tolerance", with = "crate::options::duration")]
    pub outside_tolerance_ms: Ms,
}

fn key_bytes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<u8>>, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if !s.is_empty() => Ok(Some(s.into_bytes())),
        v @ serde_json::Value::Array(_) => {
            let b: Vec<u8> = serde_json::from_value(v).map_err(D::Error::custom)?;
            if b.is_empty() {
                Err(D::Error::custom("the pseudonymisation key is empty"))
            } else {
                Ok(Some(b))
            }
        }
        other => Err(D::Error::custom(format!(
            "the pseudonymisation key must be a non-empty string or bytes, got {other}"
        ))),
    }
}

impl crate::options::Options for LoadOptions {
    const WHAT: &'static str = "load options";

    fn check(&self) -> Result<()> {
        if self.outside_tolerance_ms < 0 {
            return Err(VapError::InvalidArgument(format!(
                "{}: option 'outside_tolerance' must be >= 0, got {}",
                Self::WHAT,
                self.outside_tolerance_ms
            )));
        }
        Ok(())
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            pseudonymize_key: None,
            outside_tolerance_ms: 3_600_000,
        }
    }
}

/// File formats for tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row (the default).
    #[default]
    Csv,
    /// JSON Lines: one object per line.
    Jsonl,
    /// Apache Parquet (times as timestamp[ms, UTC]).
    Parquet,
}

impl Format {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// Parses "csv", "jsonl"/"json", "parquet".
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}
