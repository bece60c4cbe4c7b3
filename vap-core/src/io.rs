//! Session directories: loading, validation and writing.
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
//! use vap_core::io::{load_dir, write_dir, Format, LoadOptions};
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

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, VapError};
use crate::schema::*;
use crate::table::{self, Cell, Origins, RawTable, TableName, Tables};
use crate::text::{self, Encoding};

/// Newest manifest format this version reads and writes.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest of a session directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version; a manifest newer than [`MANIFEST_VERSION`] is refused.
    pub vap_format: u32,
    /// The room.
    pub room: Room,
    /// The session (`room_id` may be omitted: it defaults to the room's id).
    pub session: ManifestSession,
    /// Metric declarations.
    #[serde(default)]
    pub metrics: Vec<MetricDecl>,
    /// Explicit file per table (relative to the directory), overriding discovery.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub tables: HashMap<String, String>,
}

/// The session entry of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestSession {
    /// Session id.
    pub id: String,
    /// Room id; defaults to the manifest's room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    /// Start, ms UTC.
    pub start_ms: Ms,
    /// End, ms UTC (exclusive).
    pub end_ms: Ms,
    /// IANA time zone for display.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Recordings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<VideoRef>,
}

fn utc() -> String {
    "UTC".into()
}

impl Manifest {
    /// The manifest describing a loaded session.
    pub fn of(data: &SessionData) -> Manifest {
        Manifest {
            vap_format: MANIFEST_VERSION,
            room: data.room.clone(),
            session: ManifestSession {
                id: data.session.id.clone(),
                room_id: Some(data.session.room_id.clone()),
                start_ms: data.session.start_ms,
                end_ms: data.session.end_ms,
                timezone: data.session.timezone.clone(),
                title: data.session.title.clone(),
                recordings: data.session.recordings.clone(),
            },
            metrics: data.metrics.clone(),
            tables: HashMap::new(),
        }
    }

    /// Parses manifest JSON, checking its version.
    pub fn from_json(source: &Path, json: &str) -> Result<Manifest> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| VapError::format(source, format!("not valid JSON: {e}")))?;
        let version = value
            .get("vap_format")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if version > MANIFEST_VERSION as u64 {
            return Err(VapError::Version {
                what: format!("manifest {}", source.display()),
                found: version.min(u32::MAX as u64) as u32,
                supported: MANIFEST_VERSION,
            });
        }
        serde_json::from_value(value)
            .map_err(|e| VapError::format(source, format!("invalid manifest: {e}")))
    }

    /// The manifest of in-memory tables (`vap.from_tables`, `vap.fromTables`):
    /// as [`Manifest::from_json`], `vap_format` defaulting to this version
    /// when absent (a file on disk must carry it; tables built in code are
    /// always of the running version).
    pub fn for_tables(json: &str) -> Result<Manifest> {
        let source = Path::new("manifest");
        let mut value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| VapError::format(source, format!("not valid JSON: {e}")))?;
        match &mut value {
            serde_json::Value::Object(m) => {
                m.entry("vap_format")
                    .or_insert_with(|| MANIFEST_VERSION.into());
            }
            _ => {
                return Err(VapError::InvalidArgument(
                    "the manifest must be an object (room, session, metrics)".into(),
                ))
            }
        }
        Manifest::from_json(source, &value.to_string())
    }
}

/// Options for loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadOptions {
    /// When set, viewer ids of comments and orders are replaced by their keyed
    /// hash ([`text::pseudonymize`]) before anything else sees them. Read from
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

/// What loading did besides producing the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Files read, with the text encoding detected (None for Parquet).
    pub files: Vec<(String, Option<Encoding>)>,
    /// Tables that arrived unsorted and were sorted.
    pub sorted: Vec<String>,
    /// Cumulative metrics differenced into flows, with the number of counter
    /// resets detected in each.
    pub differenced: Vec<(String, usize)>,
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

// ---------------------------------------------------------------- reading files

/// Reads CSV bytes (UTF-8 or GB18030) into a raw table.
pub fn read_csv_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| {
            vec![Problem::new(
                source,
                None,
                None,
                format!("bad CSV header: {e}"),
            )]
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect::<Vec<_>>();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        match rec {
            Ok(r) => {
                if r.len() != headers.len() {
                    problems.push(Problem::new(
                        source,
                        Some(i + 1),
                        None,
                        format!("{} fields, the header has {}", r.len(), headers.len()),
                    ));
                    continue;
                }
                rows.push(
                    r.iter()
                        .map(|c| {
                            if c.is_empty() {
                                Cell::Null
                            } else {
                                Cell::Str(c.to_string())
                            }
                        })
                        .collect(),
                );
            }
            Err(e) => problems.push(Problem::new(
                source,
                Some(i + 1),
                None,
                format!("bad CSV record: {e}"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((
        RawTable {
            source: source.to_string(),
            columns: headers,
            rows,
        },
        enc,
    ))
}

/// Reads JSON Lines bytes into a raw table (blank lines skipped).
pub fn read_jsonl_bytes(source: &str, bytes: &[u8]) -> Result<(RawTable, Encoding), Vec<Problem>> {
    let (text, enc) = text::decode(bytes).map_err(|m| vec![Problem::new(source, None, None, m)])?;
    let mut problems = Vec::new();
    let mut values = Vec::new();
    // Rows are numbered among non-blank lines, as for every other problem.
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => values.push(v),
            Err(e) => problems.push(Problem::new(
                source,
                Some(i + 1),
                None,
                format!("bad JSON: {e}"),
            )),
        }
    }
    let raw = table::raw_from_json_rows(source, &values, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((raw, enc))
}

/// Reads Parquet bytes into a raw table.
pub fn read_parquet_bytes(source: &str, bytes: Vec<u8>) -> Result<RawTable, Vec<Problem>> {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    let fail = |e: &dyn std::fmt::Display| {
        vec![Problem::new(
            source,
            None,
            None,
            format!("bad Parquet file: {e}"),
        )]
    };
    let len = bytes.len() as u64;
    // Column types come from the Parquet schema alone: the embedded Arrow IPC
    // schema ("ARROW:schema" metadata) is skipped, because arrow-ipc panics on
    // a corrupt one (unknown type ids), and every type it could add (time zone
    // names, dictionaries, large strings) reads the same from the Parquet types.
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(bytes::Bytes::from(bytes), options)
            .map_err(|e| fail(&e))?;
    // The parquet crate asserts (panics) on a column chunk with a negative
    // offset or size in the footer; refuse such files here instead.
    for rg in builder.metadata().row_groups() {
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            if start < 0 || size < 0 || (start as u64).saturating_add(size as u64) > len {
                return Err(fail(&format!(
                    "column chunk '{}' at offset {start}, {size} bytes, lies outside the file",
                    c.column_path()
                )));
            }
        }
    }
    // Page decoding in the parquet crate still asserts on some corrupt pages
    // (e.g. an RLE bit width over 32): contain such a panic as a problem.
    let decoded = crate::error::contain_decoder_panic(|| {
        let reader = builder.build().map_err(|e| fail(&e))?;
        let mut batches = Vec::new();
        for b in reader {
            batches.push(b.map_err(|e| fail(&e))?);
        }
        Ok::<_, Vec<Problem>>(batches)
    });
    let batches = match decoded {
        Ok(res) => res?,
        Err(panic) => {
            let msg = crate::error::panic_message(panic.as_ref());
            return Err(fail(&format!("corrupt data ({msg})")));
        }
    };
    let mut problems = Vec::new();
    let raw = table::raw_from_batches(source, &batches, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(raw)
}

fn find_table_file(dir: &Path, manifest: &Manifest, t: TableName) -> Option<PathBuf> {
    if let Some(rel) = manifest.tables.get(t.as_str()) {
        return Some(dir.join(rel));
    }
    ["csv", "jsonl", "json", "parquet"]
        .iter()
        .map(|ext| dir.join(format!("{}.{ext}", t.as_str())))
        .find(|p| p.is_file())
}

/// Loads a session directory (see the module docs for the layout).
pub fn load_dir(dir: impl AsRef<Path>, opts: &LoadOptions) -> Result<(SessionData, LoadReport)> {
    let dir = dir.as_ref();
    let mpath = dir.join("manifest.json");
    let mtext = fs::read(&mpath).map_err(|e| VapError::io(&mpath, e))?;
    let (mtext, _) = text::decode(&mtext).map_err(|m| VapError::format(&mpath, m))?;
    let manifest = Manifest::from_json(&mpath, &mtext)?;
    for k in manifest.tables.keys() {
        if TableName::parse(k).is_none() {
            return Err(VapError::Validation(vec![Problem::new(
                "manifest.json",
                None,
                Some("tables"),
                format!("unknown table '{k}'"),
            )]));
        }
    }
    let mut report = LoadReport::default();
    let mut problems = Vec::new();
    let mut raws = Vec::new();
    for t in TableName::ALL {
        let Some(path) = find_table_file(dir, &manifest, t) else {
            continue;
        };
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let bytes = fs::read(&path).map_err(|e| VapError::io(&path, e))?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let res = match ext.as_str() {
            "csv" => read_csv_bytes(&name, &bytes).map(|(r, e)| (r, Some(e))),
            "jsonl" | "json" | "ndjson" => {
                read_jsonl_bytes(&name, &bytes).map(|(r, e)| (r, Some(e)))
            }
            "parquet" => read_parquet_bytes(&name, bytes).map(|r| (r, None)),
            other => Err(vec![Problem::new(
                &name,
                None,
                None,
                format!("unknown file extension '{other}'"),
            )]),
        };
        match res {
            Ok((raw, enc)) => {
                report.files.push((name, enc));
                raws.push((t, raw));
            }
            Err(p) => problems.extend(p),
        }
    }
    let (data, rep2) = build(manifest, raws, opts, problems)?;
    report.sorted = rep2.sorted;
    report.differenced = rep2.differenced;
    Ok((data, report))
}

/// Builds a validated session from a manifest and raw tables (from files,
/// Arrow batches or JSON rows).
pub fn from_raw_tables(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    opts: &LoadOptions,
) -> Result<(SessionData, LoadReport)> {
    build(manifest, raws, opts, Vec::new())
}

/// [`from_raw_tables`] for tables whose conversion into raw tables already
/// found problems (a row that is not an object, a column of a type vap does
/// not read: what [`table::raw_from_json_rows`] and
/// [`table::raw_from_batches`] collect). The rest is validated all the same,
/// and every problem, the conversion's first, comes back in one
/// [`VapError::Validation`]; with no conversion problems this is
/// [`from_raw_tables`].
///
/// ```
/// use vap_core::io::{from_converted_tables, LoadOptions, Manifest};
/// use vap_core::table::{raw_from_json_rows, TableName};
/// use vap_core::ErrorKind;
///
/// let manifest = Manifest::from_json(
///     std::path::Path::new("manifest"),
///     r#"{"vap_format": 1, "room": {"id": "r", "name": "R"},
///         "session": {"id": "s", "start_ms": 1700000000000, "end_ms": 1700003600000}}"#,
/// )
/// .unwrap();
/// let mut problems = Vec::new();
/// let rows = [
///     serde_json::json!("not a row"),
///     serde_json::json!({"id": "p1", "name": "Cream", "price": -1.0}),
/// ];
/// let raw = raw_from_json_rows("products", &rows, &mut problems);
/// let e = from_converted_tables(
///     manifest,
///     vec![(TableName::Products, raw)],
///     problems,
///     &LoadOptions::default(),
/// )
/// .unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Validation);
/// // The row that was not an object, and the negative price found by validation.
/// assert!(e.problems().len() >= 2, "{e}");
/// assert_eq!(e.problems()[0].row, Some(1));
/// ```
pub fn from_converted_tables(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    conversion_problems: Vec<Problem>,
    opts: &LoadOptions,
) -> Result<(SessionData, LoadReport)> {
    build(manifest, raws, opts, conversion_problems)
}

fn build(
    manifest: Manifest,
    raws: Vec<(TableName, RawTable)>,
    opts: &LoadOptions,
    mut problems: Vec<Problem>,
) -> Result<(SessionData, LoadReport)> {
    let mut report = LoadReport::default();
    let mut tables = Tables::default();
    let mut origins = Origins::default();
    for (t, raw) in &raws {
        table::parse_raw(*t, raw, &mut tables, &mut origins, &mut problems);
    }
    let room = Room {
        id: text::normalize(&manifest.room.id),
        name: text::normalize(&manifest.room.name),
        platform: manifest.room.platform.clone(),
    };
    let ms = &manifest.session;
    let session = Session {
        id: text::normalize(&ms.id),
        room_id: ms
            .room_id
            .clone()
            .map(|r| text::normalize(&r))
            .unwrap_or_else(|| room.id.clone()),
        start_ms: ms.start_ms,
        end_ms: ms.end_ms,
        timezone: ms.timezone.clone(),
        title: ms.title.as_deref().map(text::normalize),
        recordings: ms.recordings.clone(),
    };
    check_header(&room, &session, &manifest.metrics, &mut problems);

    if let Some(key) = &opts.pseudonymize_key {
        for c in &mut tables.comments {
            c.viewer_id = text::pseudonymize(key, &c.viewer_id);
        }
        for o in &mut tables.orders {
            if let Some(v) = &o.viewer_id {
                o.viewer_id = Some(text::pseudonymize(key, v));
            }
        }
    }

    validate(
        &session,
        &manifest.metrics,
        View::of_tables(&tables),
        &origins,
        opts,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(VapError::Validation(problems));
    }

    let mut data = SessionData::new(room, session);
    data.metrics = manifest.metrics.clone();
    data.anchors = tables.anchors;
    data.products = tables.products;
    data.shifts = tables.shifts;
    data.segments = tables.segments;
    data.promotions = tables.promotions;
    data.comments = tables.comments;
    data.orders = tables.orders;
    data.utterances = tables.utterances;
    data.samples = tables.samples;
    report.sorted = sort_session(&mut data);
    report.differenced = difference_cumulative(&mut data);
    Ok((data, report))
}

pub use crate::schema::{MAX_SESSION_MS, MAX_TIME_MS, MIN_TIME_MS};

fn check_header(
    room: &Room,
    session: &Session,
    metrics: &[MetricDecl],
    problems: &mut Vec<Problem>,
) {
    let m = "manifest.json";
    if session.room_id != room.id {
        problems.push(Problem::new(
            m,
            None,
            Some("session.room_id"),
            format!(
                "session.room_id '{}' differs from room.id '{}'",
                session.room_id, room.id
            ),
        ));
    }
    for (field, id) in [("room.id", &room.id), ("session.id", &session.id)] {
        if let Err(e) = crate::ids::check_id(id) {
            problems.push(Problem::new(m, None, Some(field), e));
        }
    }
    for (field, t) in [
        ("session.start_ms", session.start_ms),
        ("session.end_ms", session.end_ms),
    ] {
        if !(MIN_TIME_MS..MAX_TIME_MS).contains(&t) {
            problems.push(Problem::new(
                m,
                None,
                Some(field),
                format!(
                    "time {t} is not between 2000 and 2100 (milliseconds since the epoch expected)"
                ),
            ));
        }
    }
    if session.end_ms <= session.start_ms {
        problems.push(Problem::new(
            m,
            None,
            Some("session.end_ms"),
            format!(
                "end {} is not after start {}",
                session.end_ms, session.start_ms
            ),
        ));
    } else if session.end_ms.saturating_sub(session.start_ms) > MAX_SESSION_MS {
        problems.push(Problem::new(
            m,
            None,
            Some("session.end_ms"),
            format!(
                "the session lasts more than 7 days ({} ms)",
                session.end_ms.saturating_sub(session.start_ms)
            ),
        ));
    }
    let mut seen = HashSet::new();
    for d in metrics {
        if !seen.insert(d.name.as_str()) {
            problems.push(Problem::new(
                m,
                None,
                Some("metrics"),
                format!("metric '{}' declared twice", d.name),
            ));
        }
    }
}

/// Borrowed tables, as validated.
struct View<'a> {
    anchors: &'a [Anchor],
    shifts: &'a [Shift],
    products: &'a [Product],
    segments: &'a [ProductSegment],
    promotions: &'a [Promotion],
    comments: &'a [Comment],
    orders: &'a [Order],
    utterances: &'a [Utterance],
    samples: &'a [MetricSample],
}

impl<'a> View<'a> {
    fn of_tables(t: &'a Tables) -> Self {
        View {
            anchors: &t.anchors,
            shifts: &t.shifts,
            products: &t.products,
            segments: &t.segments,
            promotions: &t.promotions,
            comments: &t.comments,
            orders: &t.orders,
            utterances: &t.utterances,
            samples: &t.samples,
        }
    }

    fn of_session(d: &'a SessionData) -> Self {
        View {
            anchors: &d.anchors,
            shifts: &d.shifts,
            products: &d.products,
            segments: &d.segments,
            promotions: &d.promotions,
            comments: &d.comments,
            orders: &d.orders,
            utterances: &d.utterances,
            samples: &d.samples,
        }
    }
}

/// Validates a session built in memory (from Rust, or changed after loading)
/// with the same rules as the loaders; rows are numbered by their position in
/// each table. The store runs this before every import.
pub fn validate_session(data: &SessionData, opts: &LoadOptions) -> Result<()> {
    let mut problems = Vec::new();
    check_header(&data.room, &data.session, &data.metrics, &mut problems);
    validate(
        &data.session,
        &data.metrics,
        View::of_session(data),
        &Origins::default(),
        opts,
        &mut problems,
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(VapError::Validation(problems))
    }
}

fn validate(
    session: &Session,
    decls: &[MetricDecl],
    t: View<'_>,
    origins: &Origins,
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) {
    let at = |table: TableName, i: usize| -> (String, Option<usize>) {
        match origins.by_table.get(&table).and_then(|v| v.get(i)) {
            Some((src, row)) => (src.to_string(), Some(*row)),
            None => (table.as_str().to_string(), Some(i + 1)),
        }
    };
    let lo = session.start_ms.saturating_sub(opts.outside_tolerance_ms);
    let hi = session.end_ms.saturating_add(opts.outside_tolerance_ms);
    let check_time =
        |table: TableName, i: usize, field: &str, ts: Ms, problems: &mut Vec<Problem>| {
            if !(MIN_TIME_MS..MAX_TIME_MS).contains(&ts) {
                let (f, r) = at(table, i);
                problems.push(Problem::new(
                    f,
                    r,
                    Some(field),
                    format!(
                        "time {ts} is not between 2000 and 2100 (seconds instead of milliseconds?)"
                    ),
                ));
            } else if ts < lo || ts > hi {
                let (f, r) = at(table, i);
                problems.push(Problem::new(
                    f,
                    r,
                    Some(field),
                    format!(
                        "time {ts} is more than {} s outside the session [{}, {})",
                        opts.outside_tolerance_ms / 1000,
                        session.start_ms,
                        session.end_ms
                    ),
                ));
            }
        };
    let check_interval = |table: TableName, i: usize, s: Ms, e: Ms, problems: &mut Vec<Problem>| {
        if e < s {
            let (f, r) = at(table, i);
            problems.push(Problem::new(
                f,
                r,
                Some("end_ms"),
                format!("end {e} is before start {s}"),
            ));
        }
        check_time(table, i, "start_ms", s, problems);
        if e >= s {
            check_time(table, i, "end_ms", e, problems);
        }
    };

    let dup = |table: TableName, ids: Vec<String>, problems: &mut Vec<Problem>| {
        let mut seen = HashSet::new();
        for (i, id) in ids.into_iter().enumerate() {
            if !seen.insert(id.clone()) {
                let (f, r) = at(table, i);
                problems.push(Problem::new(
                    f,
                    r,
                    Some("id"),
                    format!("duplicate id '{id}'"),
                ));
            }
        }
    };
    dup(
        TableName::Anchors,
        t.anchors.iter().map(|a| a.id.clone()).collect(),
        problems,
    );
    dup(
        TableName::Products,
        t.products.iter().map(|p| p.id.clone()).collect(),
        problems,
    );
    dup(
        TableName::Promotions,
        t.promotions.iter().map(|p| p.id.clone()).collect(),
        problems,
    );
    dup(
        TableName::Orders,
        t.orders
            .iter()
            .map(|o| {
                let status = if o.status == OrderStatus::Paid {
                    "paid"
                } else {
                    "refunded"
                };
                format!("{}' with status '{status}", o.id)
            })
            .collect(),
        problems,
    );

    let anchors: HashSet<&str> = t.anchors.iter().map(|a| a.id.as_str()).collect();
    let products: HashSet<&str> = t.products.iter().map(|p| p.id.as_str()).collect();
    let unknown = |table: TableName,
                   i: usize,
                   field: &str,
                   id: &str,
                   known: &HashSet<&str>,
                   what: &str,
                   problems: &mut Vec<Problem>| {
        if !known.contains(id) {
            let (f, r) = at(table, i);
            problems.push(Problem::new(
                f,
                r,
                Some(field),
                format!("unknown {what} id '{id}'"),
            ));
        }
    };

    for (i, p) in t.products.iter().enumerate() {
        if p.price < 0.0 {
            let (f, r) = at(TableName::Products, i);
            problems.push(Problem::new(
                f,
                r,
                Some("price"),
                format!("negative price {}", p.price),
            ));
        }
    }
    for (i, s) in t.shifts.iter().enumerate() {
        unknown(
            TableName::Shifts,
            i,
            "anchor_id",
            &s.anchor_id,
            &anchors,
            "anchor",
            problems,
        );
        check_interval(TableName::Shifts, i, s.start_ms, s.end_ms, problems);
    }
    for (i, s) in t.segments.iter().enumerate() {
        unknown(
            TableName::Segments,
            i,
            "product_id",
            &s.product_id,
            &products,
            "product",
            problems,
        );
        check_interval(TableName::Segments, i, s.start_ms, s.end_ms, problems);
    }
    for (i, p) in t.promotions.iter().enumerate() {
        if let Some(pid) = &p.product_id {
            unknown(
                TableName::Promotions,
                i,
                "product_id",
                pid,
                &products,
                "product",
                problems,
            );
        }
        check_interval(TableName::Promotions, i, p.start_ms, p.end_ms, problems);
    }
    for (i, c) in t.comments.iter().enumerate() {
        check_time(TableName::Comments, i, "ts_ms", c.ts_ms, problems);
    }
    for (i, o) in t.orders.iter().enumerate() {
        unknown(
            TableName::Orders,
            i,
            "product_id",
            &o.product_id,
            &products,
            "product",
            problems,
        );
        check_time(TableName::Orders, i, "ts_ms", o.ts_ms, problems);
    }
    for (i, u) in t.utterances.iter().enumerate() {
        check_interval(TableName::Utterances, i, u.start_ms, u.end_ms, problems);
    }
    let declared: HashMap<&str, MetricKind> =
        decls.iter().map(|d| (d.name.as_str(), d.kind)).collect();
    let mut undeclared_reported = HashSet::new();
    for (i, s) in t.samples.iter().enumerate() {
        match declared.get(s.metric.as_str()) {
            None if undeclared_reported.insert(s.metric.clone()) => {
                let (f, r) = at(TableName::Metrics, i);
                problems.push(Problem::new(f, r, Some("metric"), format!(
                    "metric '{}' is not declared in the manifest's \"metrics\" (first of its rows)", s.metric
                )));
            }
            None => {}
            Some(MetricKind::Flow) | Some(MetricKind::Cumulative) if s.value < 0.0 => {
                let (f, r) = at(TableName::Metrics, i);
                problems.push(Problem::new(
                    f,
                    r,
                    Some("value"),
                    format!(
                        "negative value {} for a flow/cumulative metric '{}'",
                        s.value, s.metric
                    ),
                ));
            }
            _ => {}
        }
        check_time(TableName::Metrics, i, "ts_ms", s.ts_ms, problems);
    }
}

/// Sorts every table by time ([`SessionData::sort_tables`]). Returns the
/// names of tables that were not sorted already.
pub fn sort_session(d: &mut SessionData) -> Vec<String> {
    d.sort_tables()
}

/// Differences cumulative series into flows, in place (samples must be sorted
/// by metric then time). The first sample is the baseline (flow 0: a counter
/// may have been running since before the session, so its first value is not
/// an amount accrued in the session; exporters whose counters start with the
/// session should include a 0 sample at its start). A value below its
/// predecessor is a counter reset: the flow is the new value, not a negative
/// amount. Returns (metric, resets) for each series converted.
pub fn difference_cumulative(d: &mut SessionData) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for decl in d
        .metrics
        .iter_mut()
        .filter(|m| m.kind == MetricKind::Cumulative)
    {
        let mut prev: Option<f64> = None;
        let mut resets = 0;
        for s in d.samples.iter_mut().filter(|s| s.metric == decl.name) {
            let v = s.value;
            s.value = match prev {
                None => 0.0,
                Some(p) if v >= p => v - p,
                Some(_) => {
                    resets += 1;
                    v
                }
            };
            prev = Some(v);
        }
        decl.kind = MetricKind::Flow;
        out.push((decl.name.clone(), resets));
    }
    out
}

// ---------------------------------------------------------------- writing

/// Serialises one table to bytes in a format. CSV joins list items with `|`.
pub fn table_bytes(
    data: &SessionData,
    t: TableName,
    format: Format,
    encoding: Encoding,
    keys: bool,
) -> Result<Vec<u8>> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header: Vec<&str> = Vec::new();
            if keys {
                header.extend(["room_id", "session_id"]);
            }
            header.extend(t.columns().iter().map(|c| c.name));
            w.write_record(&header)
                .map_err(|e| VapError::Internal(e.to_string()))?;
            for row in table::rows_of(data, t) {
                let mut rec: Vec<String> = Vec::with_capacity(header.len());
                if keys {
                    rec.push(data.room.id.clone());
                    rec.push(data.session.id.clone());
                }
                rec.extend(row.iter().map(|c| match c {
                    Cell::Null => String::new(),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Float(f) => format!("{f}"),
                    Cell::Str(s) => s.clone(),
                    Cell::List(v) => v.join("|"),
                }));
                w.write_record(&rec)
                    .map_err(|e| VapError::Internal(e.to_string()))?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| VapError::Internal(e.to_string()))?;
            Ok(match encoding {
                Encoding::Utf8 => bytes,
                Encoding::Gb18030 => {
                    text::encode(&String::from_utf8_lossy(&bytes), Encoding::Gb18030)
                }
            })
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            for v in table::json_rows(data, t) {
                serde_json::to_writer(&mut out, &v)
                    .map_err(|e| VapError::Internal(e.to_string()))?;
                out.push(b'\n');
            }
            Ok(match encoding {
                Encoding::Utf8 => out,
                Encoding::Gb18030 => {
                    text::encode(&String::from_utf8_lossy(&out), Encoding::Gb18030)
                }
            })
        }
        Format::Parquet => {
            let batch = table::to_record_batch(data, t, keys);
            parquet_bytes(&batch)
        }
    }
}

/// Encodes a batch as a Parquet file (Snappy-compressed).
pub fn parquet_bytes(batch: &arrow_array::RecordBatch) -> Result<Vec<u8>> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))
        .map_err(|e| VapError::Internal(format!("parquet writer: {e}")))?;
    w.write(batch)
        .map_err(|e| VapError::Internal(format!("parquet write: {e}")))?;
    w.close()
        .map_err(|e| VapError::Internal(format!("parquet close: {e}")))?;
    Ok(buf)
}

/// Writes a session as a session directory in one format (every table, even
/// empty ones, plus `manifest.json`). The directory is created if needed.
pub fn write_dir(data: &SessionData, dir: impl AsRef<Path>, format: Format) -> Result<()> {
    write_dir_encoded(data, dir, format, Encoding::Utf8)
}

/// As [`write_dir`], with a text encoding for CSV / JSON Lines.
pub fn write_dir_encoded(
    data: &SessionData,
    dir: impl AsRef<Path>,
    format: Format,
    encoding: Encoding,
) -> Result<()> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(|e| VapError::io(dir, e))?;
    for t in TableName::ALL {
        let path = dir.join(format!("{}.{}", t.as_str(), format.ext()));
        let bytes = table_bytes(data, t, format, encoding, false)?;
        fs::write(&path, bytes).map_err(|e| VapError::io(&path, e))?;
    }
    let path = dir.join("manifest.json");
    let json = serde_json::to_vec_pretty(&Manifest::of(data))
        .map_err(|e| VapError::Internal(e.to_string()))?;
    fs::write(&path, json).map_err(|e| VapError::io(&path, e))?;
    Ok(())
}
