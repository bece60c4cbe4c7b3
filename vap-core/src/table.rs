//! The tables of a session, their columns, and their conversion to and from
//! untyped rows, CSV, JSON Lines and Arrow.
//!
//! Every table has a fixed column list ([`TableName::columns`]). Readers turn any
//! source (a CSV file, JSON Lines, a Parquet file, an Arrow `RecordBatch` handed
//! over from pandas / polars / Node objects) into a [`RawTable`] of [`Cell`]s,
//! then into typed records, collecting every [`Problem`] with its file, row and
//! field. Unknown columns are ignored.
//!
//! Column types:
//! * time: integer milliseconds since the epoch, or an RFC 3339 string with an
//!   offset (`2026-11-25T20:00:00+08:00`, a space instead of `T` is accepted);
//!   Arrow timestamps of any unit (and any time zone) are converted to ms UTC.
//! * list of strings: a JSON array, an Arrow `List<Utf8>`, or in CSV one cell
//!   with items separated by `|`.
//! * enums: the snake_case names (`flash_sale`); a few Chinese synonyms are
//!   accepted (`秒杀`, `主播`, `讲解`, ...).
//!
//! ```
//! use vap_core::table::{row_count, to_record_batch, TableName};
//!
//! let room = vap_core::sim::simulate(&vap_core::sim::SimConfig {
//!     seed: 2,
//!     hours: 0.25,
//!     ..Default::default()
//! })
//! .unwrap();
//! let orders = to_record_batch(&room.data, TableName::Orders, false);
//! assert_eq!(orders.num_rows(), row_count(&room.data, TableName::Orders));
//! assert_eq!(TableName::parse("orders"), Some(TableName::Orders));
//! ```

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::Problem;
use crate::schema::*;
use crate::text::normalize;

/// The tables of a session directory or store session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableName {
    /// [`Anchor`]s.
    Anchors,
    /// [`Shift`]s.
    Shifts,
    /// [`Product`]s.
    Products,
    /// [`ProductSegment`]s.
    Segments,
    /// [`Promotion`]s.
    Promotions,
    /// [`Comment`]s.
    Comments,
    /// [`Order`]s.
    Orders,
    /// [`Utterance`]s.
    Utterances,
    /// [`MetricSample`]s (long format: metric, ts_ms, value).
    Metrics,
}

/// Type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text.
    Str,
    /// Milliseconds since the epoch, UTC (Arrow: `timestamp[ms, tz=UTC]`).
    Time,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// List of strings.
    StrList,
}

/// A column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColType,
    /// Whether a value is required in every row.
    pub required: bool,
}

const fn col(name: &'static str, ty: ColType, required: bool) -> Column {
    Column { name, ty, required }
}

use ColType::*;

const ANCHORS: &[Column] = &[col("id", Str, true), col("name", Str, true)];
const SHIFTS: &[Column] = &[
    col("anchor_id", Str, true),
    col("role", Str, true),
    col("start_ms", Time, true),
    col("end_ms", Time, true),
];
const PRODUCTS: &[Column] = &[
    col("id", Str, true),
    col("name", Str, true),
    col("price", Float, true),
    col("category", Str, false),
    col("aliases", StrList, false),
];
const SEGMENTS: &[Column] = &[
    col("product_id", Str, true),
    col("kind", Str, true),
    col("start_ms", Time, true),
    col("end_ms", Time, true),
];
const PROMOTIONS: &[Column] = &[
    col("id", Str, true),
    col("kind", Str, true),
    col("label", Str, false),
    col("product_id", Str, false),
    col("start_ms", Time, true),
    col("end_ms", Time, true),
];
const COMMENTS: &[Column] = &[
    col("ts_ms", Time, true),
    col("viewer_id", Str, true),
    col("text", Str, true),
];
const ORDERS: &[Column] = &[
    col("id", Str, true),
    col("ts_ms", Time, true),
    col("product_id", Str, true),
    col("quantity", Int, true),
    col("amount", Float, true),
    col("status", Str, true),
    col("viewer_id", Str, false),
];
const UTTERANCES: &[Column] = &[
    col("start_ms", Time, true),
    col("end_ms", Time, true),
    col("text", Str, true),
    col("speaker", Str, false),
    col("confidence", Float, false),
];
const METRICS: &[Column] = &[
    col("metric", Str, true),
    col("ts_ms", Time, true),
    col("value", Float, true),
];

impl TableName {
    /// All tables, in the order they are written.
    pub const ALL: [TableName; 9] = [
        TableName::Anchors,
        TableName::Shifts,
        TableName::Products,
        TableName::Segments,
        TableName::Promotions,
        TableName::Comments,
        TableName::Orders,
        TableName::Utterances,
        TableName::Metrics,
    ];

    /// File stem and public name ("orders").
    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Anchors => "anchors",
            TableName::Shifts => "shifts",
            TableName::Products => "products",
            TableName::Segments => "segments",
            TableName::Promotions => "promotions",
            TableName::Comments => "comments",
            TableName::Orders => "orders",
            TableName::Utterances => "utterances",
            TableName::Metrics => "metrics",
        }
    }

    /// The names of [`TableName::ALL`], in write order (Node's
    /// `TABLE_NAMES`, Python's `vap.TABLE_NAMES`).
    pub fn names() -> [&'static str; 9] {
        TableName::ALL.map(TableName::as_str)
    }

    /// Parses a table name.
    pub fn parse(s: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The columns of this table.
    pub fn columns(self) -> &'static [Column] {
        match self {
            TableName::Anchors => ANCHORS,
            TableName::Shifts => SHIFTS,
            TableName::Products => PRODUCTS,
            TableName::Segments => SEGMENTS,
            TableName::Promotions => PROMOTIONS,
            TableName::Comments => COMMENTS,
            TableName::Orders => ORDERS,
            TableName::Utterances => UTTERANCES,
            TableName::Metrics => METRICS,
        }
    }

    /// Arrow schema of the table; with `keys`, `room_id` and `session_id`
    /// columns come first (as in the store's Parquet files).
    pub fn arrow_schema(self, keys: bool) -> SchemaRef {
        let mut fields = Vec::new();
        if keys {
            fields.push(Field::new("room_id", DataType::Utf8, false));
            fields.push(Field::new("session_id", DataType::Utf8, false));
        }
        for c in self.columns() {
            let dt = match c.ty {
                Str => DataType::Utf8,
                Time => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                Int => DataType::Int64,
                Float => DataType::Float64,
                StrList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            };
            fields.push(Field::new(c.name, dt, !c.required));
        }
        Arc::new(Schema::new(fields))
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An untyped value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer (times are integers of ms).
    Int(i64),
    /// Float.
    Float(f64),
    /// Text.
    Str(String),
    /// List of strings.
    List(Vec<String>),
}

/// Untyped rows of a table, with the source name used in problems.
#[derive(Debug, Clone, Default)]
pub struct RawTable {
    /// File name (or table name) reported in problems.
    pub source: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Row-major cells; `rows[i].len() == columns.len()`.
    pub rows: Vec<Vec<Cell>>,
}

// ---------------------------------------------------------------- typed rows

/// A borrowed [`Cell`]: what the typed row reader reads, from a raw table's
/// cells or straight from a CSV file's fields. Its `Debug` form is the
/// cell's, so problems read the same whichever it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CellRef<'a> {
    Null,
    // Read only in problems' messages, through `Debug`.
    #[allow(dead_code)]
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    List(&'a [String]),
}

/// A value the typed row reader can read as a [`CellRef`].
pub(crate) trait AsCellRef {
    fn as_cell_ref(&self) -> CellRef<'_>;
}

impl AsCellRef for Cell {
    fn as_cell_ref(&self) -> CellRef<'_> {
        match self {
            Cell::Null => CellRef::Null,
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::Int(i) => CellRef::Int(*i),
            Cell::Float(f) => CellRef::Float(*f),
            Cell::Str(s) => CellRef::Str(s),
            Cell::List(v) => CellRef::List(v),
        }
    }
}

/// A CSV field: empty is null, as in the raw cells of a CSV file.
impl AsCellRef for std::borrow::Cow<'_, str> {
    fn as_cell_ref(&self) -> CellRef<'_> {
        if self.is_empty() {
            CellRef::Null
        } else {
            CellRef::Str(self)
        }
    }
}

/// Whether `s` is empty or only whitespace (`str::trim`'s). Most text
/// starts with a printable ASCII character or a CJK ideograph (UTF-8 lead
/// byte E4 to E9), which no whitespace does: those are answered from the
/// first byte.
fn blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii_graphic() || (0xE4..=0xE9).contains(&b) => false,
        Some(_) => s.trim().is_empty(),
    }
}

/// Reads typed fields from one row, collecting problems.
pub(crate) struct RowReader<'a, C> {
    pub(crate) source: &'a str,
    pub(crate) row_no: usize,
    pub(crate) cells: &'a [C],
    /// The position of each column the row has, by name.
    pub(crate) index: &'a [(&'static str, usize)],
    pub(crate) problems: &'a mut Vec<Problem>,
    pub(crate) ok: bool,
}

impl<'a, C: AsCellRef> RowReader<'a, C> {
    fn problem(&mut self, field: &str, msg: String) {
        self.problems.push(Problem::new(
            self.source,
            Some(self.row_no),
            Some(field),
            msg,
        ));
        self.ok = false;
    }

    fn cell(&self, name: &'static str) -> CellRef<'a> {
        let cells: &'a [C] = self.cells;
        // A handful of columns: a scan beats hashing the name. The names are
        // the same literals, so the address usually matches at once.
        let at = self
            .index
            .iter()
            .find(|(n, _)| std::ptr::eq(*n, name) || *n == name)
            .map(|&(_, i)| i);
        match at.and_then(|i| cells.get(i)) {
            Some(c) => c.as_cell_ref(),
            None => CellRef::Null,
        }
    }

    fn opt_str(&mut self, name: &'static str) -> Option<String> {
        self.opt_text(name)
    }

    /// [`RowReader::opt_str`] into any string type: text already in normal
    /// form is copied straight from the cell (into a [`CompactString`], with
    /// no allocation when it is short).
    fn opt_text<T: for<'s> From<&'s str> + From<String>>(
        &mut self,
        name: &'static str,
    ) -> Option<T> {
        match self.cell(name) {
            CellRef::Null => None,
            CellRef::Str(s) if blank(s) => None,
            CellRef::Str(s) if crate::text::is_normal(s) => Some(T::from(s)),
            CellRef::Str(s) => Some(T::from(normalize(s))),
            CellRef::Int(i) => Some(T::from(i.to_string())),
            CellRef::Float(f) if f.fract() == 0.0 && f.is_finite() => {
                Some(T::from(format!("{}", f as i64)))
            }
            other => {
                let m = format!("expected text, got {other:?}");
                self.problem(name, m);
                None
            }
        }
    }

    fn str(&mut self, name: &'static str) -> String {
        self.text(name)
    }

    /// [`RowReader::str`] into any string type (see [`RowReader::opt_text`]).
    fn text<T: for<'s> From<&'s str> + From<String>>(&mut self, name: &'static str) -> T {
        let before = self.problems.len();
        match self.opt_text(name) {
            Some(s) => s,
            None => {
                if self.problems.len() == before {
                    self.problem(name, "missing value".into());
                }
                T::from("")
            }
        }
    }

    fn opt_float(&mut self, name: &'static str) -> Option<f64> {
        let v = match self.cell(name) {
            CellRef::Null => return None,
            CellRef::Str(s) if blank(s) => return None,
            CellRef::Int(i) => i as f64,
            CellRef::Float(f) => f,
            CellRef::Str(s) => match s.trim().parse::<f64>() {
                Ok(v) => v,
                Err(_) => {
                    let m = format!("not a number: {s:?}");
                    self.problem(name, m);
                    return None;
                }
            },
            other => {
                let m = format!("expected a number, got {other:?}");
                self.problem(name, m);
                return None;
            }
        };
        if !v.is_finite() {
            self.problem(name, format!("{v} is not a finite number"));
            return None;
        }
        Some(v)
    }

    fn float(&mut self, name: &'static str) -> f64 {
        let before = self.problems.len();
        match self.opt_float(name) {
            Some(v) => v,
            None => {
                if self.problems.len() == before {
                    self.problem(name, "missing value".into());
                }
                0.0
            }
        }
    }

    fn int(&mut self, name: &'static str) -> i64 {
        let before = self.problems.len();
        let v = match self.cell(name) {
            CellRef::Int(i) => Some(i),
            CellRef::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(f as i64),
            CellRef::Str(s) if !s.trim().is_empty() => s.trim().parse::<i64>().ok(),
            CellRef::Null | CellRef::Str(_) => None,
            _ => None,
        };
        match v {
            Some(v) => v,
            None => {
                if self.problems.len() == before {
                    let m = match self.cell(name) {
                        CellRef::Null => "missing value".to_string(),
                        CellRef::Str(s) if s.trim().is_empty() => "missing value".to_string(),
                        c => format!("not an integer: {c:?}"),
                    };
                    self.problem(name, m);
                }
                0
            }
        }
    }

    fn time(&mut self, name: &'static str) -> Ms {
        let res = match self.cell(name) {
            CellRef::Int(i) => Ok(i),
            CellRef::Float(f) if f.is_finite() && f.fract() == 0.0 => Ok(f as i64),
            CellRef::Float(f) => Err(format!("bad timestamp {f}: expected integer milliseconds")),
            CellRef::Str(s) => parse_time(s),
            CellRef::Null => Err("missing value".to_string()),
            other => Err(format!("bad timestamp {other:?}")),
        };
        match res {
            Ok(v) => v,
            Err(m) => {
                self.problem(name, m);
                0
            }
        }
    }

    fn list(&mut self, name: &'static str) -> Vec<String> {
        match self.cell(name) {
            CellRef::Null => vec![],
            CellRef::List(v) => v
                .iter()
                .map(|s| normalize(s))
                .filter(|s| !s.is_empty())
                .collect(),
            CellRef::Str(s) => s
                .split('|')
                .map(normalize)
                .filter(|s| !s.is_empty())
                .collect(),
            other => {
                let m = format!("expected a list of text, got {other:?}");
                self.problem(name, m);
                vec![]
            }
        }
    }

    fn enumerated<T: Copy>(&mut self, name: &'static str, options: &[(&str, T)]) -> Option<T> {
        let s = self.str(name);
        if s.is_empty() {
            return None;
        }
        let key = s.to_lowercase().replace(['-', ' '], "_");
        match options.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(*v),
            None => {
                let names: Vec<&str> = options
                    .iter()
                    .map(|(k, _)| *k)
                    .filter(|k| k.is_ascii())
                    .collect();
                self.problem(
                    name,
                    format!("unknown value {s:?}; expected one of {}", names.join(", ")),
                );
                None
            }
        }
    }
}

/// Parses a timestamp string: integer ms or RFC 3339 with an offset.
pub fn parse_time(s: &str) -> Result<Ms, String> {
    // Integer ms of 8 to 16 digits (every time since 1970-01-02), the
    // common case, read eight digits at a time.
    if let Some(v) = digits_value(s.as_bytes()) {
        return Ok(v);
    }
    let t = s.trim();
    if t.is_empty() {
        return Err("missing value".into());
    }
    // Integer ms, the common case: up to 18 digits cannot overflow an i64.
    let b = t.as_bytes();
    if b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        return Ok(b.iter().fold(0i64, |v, &d| v * 10 + i64::from(d - b'0')));
    }
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    let candidate = if t.len() > 10 && t.as_bytes()[10] == b' ' {
        let mut c = t.to_string();
        c.replace_range(10..11, "T");
        c
    } else {
        t.to_string()
    };
    match chrono::DateTime::parse_from_rfc3339(&candidate) {
        Ok(dt) => Ok(dt.timestamp_millis()),
        Err(e) => {
            if chrono::NaiveDateTime::parse_from_str(&candidate, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
                Err(format!(
                    "timestamp {t:?} has no UTC offset; add one (e.g. +08:00) or use integer ms"
                ))
            } else {
                Err(format!(
                    "bad timestamp {t:?} ({e}); expected integer ms or RFC 3339"
                ))
            }
        }
    }
}

/// The value of `b` when it is 8 to 16 ASCII decimal digits, else `None`.
/// The digits are read eight at a time in a word (SWAR): a chain of one
/// multiplication per digit was a tenth of reading a CSV file's rows.
fn digits_value(b: &[u8]) -> Option<i64> {
    let n = b.len();
    if !(8..=16).contains(&n) {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"));
    let lo = eight_digits(word(n - 8))?;
    if n == 8 {
        return Some(lo as i64);
    }
    // The first n - 8 digits, after 16 - n leading zeros: the first word
    // shifted so that its bytes shared with the last word drop out.
    let pad = 8 * (16 - n) as u32;
    let first = word(0);
    let hi_word = if pad == 0 {
        first
    } else {
        (first << pad) | (ZEROS >> (64 - pad))
    };
    let hi = eight_digits(hi_word)?;
    Some((hi * 100_000_000 + lo) as i64)
}

/// Eight `b'0'`s in a word.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The value of eight ASCII digits loaded little-endian (the first digit in
/// the lowest byte), or `None` when a byte is not a digit.
fn eight_digits(w: u64) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // Every byte 0x30..=0x3F, and none above 0x39 (adding 6 keeps it there).
    if w & HIGH != ZEROS || w.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let v = w - ZEROS;
    // Pairs, then fours, then all eight: 10a + b in every byte, then
    // 100 (10a + b) + (10c + d) and 10^4 (..) + (..) in the top half.
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const PAIRS: u64 = 0x0000_00FF_0000_00FF;
    let v = (v & PAIRS)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & PAIRS).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v)
}

pub(crate) const ROLES: &[(&str, ShiftRole)] = &[
    ("host", ShiftRole::Host),
    ("co_host", ShiftRole::CoHost),
    ("cohost", ShiftRole::CoHost),
    ("field_control", ShiftRole::FieldControl),
    ("主播", ShiftRole::Host),
    ("副播", ShiftRole::CoHost),
    ("场控", ShiftRole::FieldControl),
];
pub(crate) const SEGMENT_KINDS: &[(&str, SegmentKind)] = &[
    ("explain", SegmentKind::Explain),
    ("pinned", SegmentKind::Pinned),
    ("on_shelf", SegmentKind::OnShelf),
    ("讲解", SegmentKind::Explain),
    ("置顶", SegmentKind::Pinned),
    ("上架", SegmentKind::OnShelf),
];
pub(crate) const PROMO_KINDS: &[(&str, PromotionKind)] = &[
    ("flash_sale", PromotionKind::FlashSale),
    ("coupon", PromotionKind::Coupon),
    ("lucky_bag", PromotionKind::LuckyBag),
    ("price_cut", PromotionKind::PriceCut),
    ("custom", PromotionKind::Custom),
    ("秒杀", PromotionKind::FlashSale),
    ("优惠券", PromotionKind::Coupon),
    ("福袋", PromotionKind::LuckyBag),
    ("直降", PromotionKind::PriceCut),
];
pub(crate) const STATUSES: &[(&str, OrderStatus)] = &[
    ("paid", OrderStatus::Paid),
    ("refunded", OrderStatus::Refunded),
    ("refund", OrderStatus::Refunded),
    ("已支付", OrderStatus::Paid),
    ("已退款", OrderStatus::Refunded),
];

/// Typed records of every table, as parsed from raw rows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tables {
    /// Anchors.
    pub anchors: Vec<Anchor>,
    /// Shifts.
    pub shifts: Vec<Shift>,
    /// Products.
    pub products: Vec<Product>,
    /// Segments.
    pub segments: Vec<ProductSegment>,
    /// Promotions.
    pub promotions: Vec<Promotion>,
    /// Comments.
    pub comments: Vec<Comment>,
    /// Orders.
    pub orders: Vec<Order>,
    /// Utterances.
    pub utterances: Vec<Utterance>,
    /// Metric samples.
    pub samples: Vec<MetricSample>,
}

/// Where the typed records of [`Tables`] came from, per table, in record
/// order. Held as runs of consecutive rows of one source (a few words per
/// file chunk rather than per row: a 3.5 M-row file is one run).
#[derive(Debug, Default, Clone)]
pub struct Origins {
    by_table: HashMap<TableName, Vec<OriginRun>>,
}

/// Records `start..start + len` of a table came from rows
/// `first_row..first_row + len` of `source`.
#[derive(Debug, Clone)]
struct OriginRun {
    source: Arc<str>,
    start: usize,
    first_row: usize,
    len: usize,
}

impl Origins {
    /// Appends the origin of the next record of `table`.
    pub fn push(&mut self, table: TableName, source: &Arc<str>, row: usize) {
        let runs = self.by_table.entry(table).or_default();
        if let Some(last) = runs.last_mut() {
            if Arc::ptr_eq(&last.source, source) && last.first_row + last.len == row {
                last.len += 1;
                return;
            }
        }
        let start = runs.last().map(|r| r.start + r.len).unwrap_or(0);
        runs.push(OriginRun {
            source: source.clone(),
            start,
            first_row: row,
            len: 1,
        });
    }

    /// Appends the origins of `len` records of `table` that came from rows
    /// `first_row..first_row + len` of `source`.
    pub fn push_run(&mut self, table: TableName, source: &Arc<str>, first_row: usize, len: usize) {
        if len == 0 {
            return;
        }
        let runs = self.by_table.entry(table).or_default();
        let start = runs.last().map(|r| r.start + r.len).unwrap_or(0);
        runs.push(OriginRun {
            source: source.clone(),
            start,
            first_row,
            len,
        });
    }

    /// Appends the origins of `other`'s records, which follow this one's in
    /// each table.
    pub(crate) fn absorb(&mut self, other: Origins) {
        for (table, runs) in other.by_table {
            let mine = self.by_table.entry(table).or_default();
            let offset = mine.last().map(|r| r.start + r.len).unwrap_or(0);
            mine.extend(runs.into_iter().map(|mut r| {
                r.start += offset;
                r
            }));
        }
    }

    /// The source and 1-based row of record `i` of `table`, when known.
    pub fn get(&self, table: TableName, i: usize) -> Option<(&str, usize)> {
        let runs = self.by_table.get(&table)?;
        let k = runs.partition_point(|r| r.start + r.len <= i);
        let r = runs.get(k)?;
        (i >= r.start).then(|| (&*r.source, r.first_row + (i - r.start)))
    }
}

/// Parses a raw table into typed records, appending them to `out`.
/// Problems are appended to `problems`; rows with problems are dropped.
pub fn parse_raw(
    table: TableName,
    raw: &RawTable,
    out: &mut Tables,
    origins: &mut Origins,
    problems: &mut Vec<Problem>,
) {
    parse_raw_at(table, raw, 0, out, origins, problems)
}

/// [`parse_raw`] for one chunk of a table read in chunks: its rows are
/// numbered after the `rows_before` rows of the chunks before it.
pub fn parse_raw_at(
    table: TableName,
    raw: &RawTable,
    rows_before: usize,
    out: &mut Tables,
    origins: &mut Origins,
    problems: &mut Vec<Problem>,
) {
    let mut index: Vec<(&'static str, usize)> = Vec::new();
    if raw.rows.is_empty() {
        // An empty table (an empty JSON Lines file, a Parquet file without
        // batches) has nothing to check, whatever its header says.
        return;
    }
    for c in table.columns() {
        if let Some(i) = raw.columns.iter().position(|h| h.trim() == c.name) {
            index.push((c.name, i));
        } else if c.required {
            problems.push(Problem::new(
                &raw.source,
                None,
                Some(c.name),
                format!("required column '{}' is missing", c.name),
            ));
        }
    }
    if table
        .columns()
        .iter()
        .any(|c| c.required && !index.iter().any(|(n, _)| *n == c.name))
    {
        return;
    }
    let src: Arc<str> = Arc::from(raw.source.as_str());
    for (i, cells) in raw.rows.iter().enumerate() {
        let i = rows_before + i;
        let mut r = RowReader {
            source: &raw.source,
            row_no: i + 1,
            cells: cells.as_slice(),
            index: &index,
            problems,
            ok: true,
        };
        if parse_row(table, &mut r, out) {
            origins.push(table, &src, i + 1);
        }
    }
}

/// Reads one row of `table` into its record, appended to `out`; `false`, with
/// nothing appended and the row's problems in the reader, when it has any.
/// The one reading of a row, whether its cells are raw or CSV fields.
pub(crate) fn parse_row<C: AsCellRef>(
    table: TableName,
    r: &mut RowReader<'_, C>,
    out: &mut Tables,
) -> bool {
    macro_rules! push {
        ($vec:expr, $val:expr) => {{
            let v = $val;
            if r.ok {
                $vec.push(v);
            }
        }};
    }
    match table {
        TableName::Anchors => push!(
            out.anchors,
            Anchor {
                id: r.str("id"),
                name: r.str("name")
            }
        ),
        TableName::Shifts => {
            let anchor_id = r.str("anchor_id");
            let role = r.enumerated("role", ROLES).unwrap_or(ShiftRole::Host);
            push!(
                out.shifts,
                Shift {
                    anchor_id,
                    role,
                    start_ms: r.time("start_ms"),
                    end_ms: r.time("end_ms")
                }
            )
        }
        TableName::Products => push!(
            out.products,
            Product {
                id: r.str("id"),
                name: r.str("name"),
                price: r.float("price"),
                category: r.opt_str("category").unwrap_or_default(),
                aliases: r.list("aliases"),
            }
        ),
        TableName::Segments => {
            let product_id = r.str("product_id");
            let kind = r
                .enumerated("kind", SEGMENT_KINDS)
                .unwrap_or(SegmentKind::Explain);
            push!(
                out.segments,
                ProductSegment {
                    product_id,
                    kind,
                    start_ms: r.time("start_ms"),
                    end_ms: r.time("end_ms")
                }
            )
        }
        TableName::Promotions => {
            let id = r.str("id");
            let kind = r
                .enumerated("kind", PROMO_KINDS)
                .unwrap_or(PromotionKind::Custom);
            push!(
                out.promotions,
                Promotion {
                    id,
                    kind,
                    label: r.opt_str("label"),
                    product_id: r.opt_str("product_id"),
                    start_ms: r.time("start_ms"),
                    end_ms: r.time("end_ms"),
                }
            )
        }
        TableName::Comments => push!(
            out.comments,
            Comment {
                ts_ms: r.time("ts_ms"),
                viewer_id: r.text("viewer_id"),
                text: r.text("text")
            }
        ),
        TableName::Orders => {
            let id = r.str("id");
            let ts_ms = r.time("ts_ms");
            let product_id = r.str("product_id");
            let q = r.int("quantity");
            let quantity = if (1..=u32::MAX as i64).contains(&q) {
                q as u32
            } else {
                if r.ok {
                    r.problem(
                        "quantity",
                        format!("quantity {q} must be a positive integer"),
                    );
                }
                0
            };
            let amount = r.float("amount");
            if amount < 0.0 {
                r.problem("amount", format!("negative amount {amount}; refunds are rows with status 'refunded' and a positive amount"));
            }
            let status = r
                .enumerated("status", STATUSES)
                .unwrap_or(OrderStatus::Paid);
            push!(
                out.orders,
                Order {
                    id,
                    ts_ms,
                    product_id,
                    quantity,
                    amount,
                    status,
                    viewer_id: r.opt_str("viewer_id")
                }
            )
        }
        TableName::Utterances => {
            let start_ms = r.time("start_ms");
            let end_ms = r.time("end_ms");
            let text = r.str("text");
            let speaker = r.opt_str("speaker");
            let confidence = r.opt_float("confidence");
            if let Some(c) = confidence {
                if !(0.0..=1.0).contains(&c) {
                    r.problem("confidence", format!("confidence {c} outside [0, 1]"));
                }
            }
            push!(
                out.utterances,
                Utterance {
                    start_ms,
                    end_ms,
                    text,
                    speaker,
                    confidence
                }
            )
        }
        TableName::Metrics => push!(
            out.samples,
            MetricSample {
                metric: r.str("metric"),
                ts_ms: r.time("ts_ms"),
                value: r.float("value")
            }
        ),
    }
    r.ok
}

// ---------------------------------------------------------------- typed -> cells

fn s(v: &str) -> Cell {
    Cell::Str(v.to_string())
}
fn os(v: &Option<String>) -> Cell {
    v.as_ref().map_or(Cell::Null, |x| s(x))
}
fn enum_str<T: serde::Serialize>(v: &T) -> Cell {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(x)) => Cell::Str(x),
        _ => Cell::Null,
    }
}

/// The rows of one table of a session, in column order.
pub fn rows_of(data: &SessionData, table: TableName) -> Vec<Vec<Cell>> {
    rows_of_range(data, table, 0..row_count(data, table))
}

/// The rows `range` of a table (as [`rows_of`]), so that a large table can
/// be written a chunk at a time without materialising every row's cells.
pub fn rows_of_range(
    data: &SessionData,
    table: TableName,
    range: std::ops::Range<usize>,
) -> Vec<Vec<Cell>> {
    let r = range;
    match table {
        TableName::Anchors => data.anchors[r.clone()]
            .iter()
            .map(|a| vec![s(&a.id), s(&a.name)])
            .collect(),
        TableName::Shifts => data.shifts[r.clone()]
            .iter()
            .map(|x| {
                vec![
                    s(&x.anchor_id),
                    enum_str(&x.role),
                    Cell::Int(x.start_ms),
                    Cell::Int(x.end_ms),
                ]
            })
            .collect(),
        TableName::Products => data.products[r.clone()]
            .iter()
            .map(|p| {
                vec![
                    s(&p.id),
                    s(&p.name),
                    Cell::Float(p.price),
                    s(&p.category),
                    Cell::List(p.aliases.clone()),
                ]
            })
            .collect(),
        TableName::Segments => data.segments[r.clone()]
            .iter()
            .map(|x| {
                vec![
                    s(&x.product_id),
                    enum_str(&x.kind),
                    Cell::Int(x.start_ms),
                    Cell::Int(x.end_ms),
                ]
            })
            .collect(),
        TableName::Promotions => data.promotions[r.clone()]
            .iter()
            .map(|x| {
                vec![
                    s(&x.id),
                    enum_str(&x.kind),
                    os(&x.label),
                    os(&x.product_id),
                    Cell::Int(x.start_ms),
                    Cell::Int(x.end_ms),
                ]
            })
            .collect(),
        TableName::Comments => data.comments[r.clone()]
            .iter()
            .map(|c| vec![Cell::Int(c.ts_ms), s(&c.viewer_id), s(&c.text)])
            .collect(),
        TableName::Orders => data.orders[r.clone()]
            .iter()
            .map(|o| {
                vec![
                    s(&o.id),
                    Cell::Int(o.ts_ms),
                    s(&o.product_id),
                    Cell::Int(o.quantity as i64),
                    Cell::Float(o.amount),
                    enum_str(&o.status),
                    os(&o.viewer_id),
                ]
            })
            .collect(),
        TableName::Utterances => data.utterances[r.clone()]
            .iter()
            .map(|u| {
                vec![
                    Cell::Int(u.start_ms),
                    Cell::Int(u.end_ms),
                    s(&u.text),
                    os(&u.speaker),
                    u.confidence.map_or(Cell::Null, Cell::Float),
                ]
            })
            .collect(),
        TableName::Metrics => data.samples[r.clone()]
            .iter()
            .map(|m| vec![s(&m.metric), Cell::Int(m.ts_ms), Cell::Float(m.value)])
            .collect(),
    }
}

/// Number of records of one table in `t`.
pub(crate) fn tables_len(t: &Tables, table: TableName) -> usize {
    match table {
        TableName::Anchors => t.anchors.len(),
        TableName::Shifts => t.shifts.len(),
        TableName::Products => t.products.len(),
        TableName::Segments => t.segments.len(),
        TableName::Promotions => t.promotions.len(),
        TableName::Comments => t.comments.len(),
        TableName::Orders => t.orders.len(),
        TableName::Utterances => t.utterances.len(),
        TableName::Metrics => t.samples.len(),
    }
}

/// Reserves room for `n` more records of `table` in `t`.
pub(crate) fn reserve_rows(t: &mut Tables, table: TableName, n: usize) {
    match table {
        TableName::Anchors => t.anchors.reserve(n),
        TableName::Shifts => t.shifts.reserve(n),
        TableName::Products => t.products.reserve(n),
        TableName::Segments => t.segments.reserve(n),
        TableName::Promotions => t.promotions.reserve(n),
        TableName::Comments => t.comments.reserve(n),
        TableName::Orders => t.orders.reserve(n),
        TableName::Utterances => t.utterances.reserve(n),
        TableName::Metrics => t.samples.reserve(n),
    }
}

/// Appends every table of `add` to `out`.
pub(crate) fn append_tables(out: &mut Tables, add: Tables) {
    fn app<T>(a: &mut Vec<T>, mut b: Vec<T>) {
        if a.is_empty() {
            *a = b;
        } else {
            a.append(&mut b);
        }
    }
    app(&mut out.anchors, add.anchors);
    app(&mut out.shifts, add.shifts);
    app(&mut out.products, add.products);
    app(&mut out.segments, add.segments);
    app(&mut out.promotions, add.promotions);
    app(&mut out.comments, add.comments);
    app(&mut out.orders, add.orders);
    app(&mut out.utterances, add.utterances);
    app(&mut out.samples, add.samples);
}

/// Number of rows of a table in a session.
pub fn row_count(data: &SessionData, table: TableName) -> usize {
    match table {
        TableName::Anchors => data.anchors.len(),
        TableName::Shifts => data.shifts.len(),
        TableName::Products => data.products.len(),
        TableName::Segments => data.segments.len(),
        TableName::Promotions => data.promotions.len(),
        TableName::Comments => data.comments.len(),
        TableName::Orders => data.orders.len(),
        TableName::Utterances => data.utterances.len(),
        TableName::Metrics => data.samples.len(),
    }
}

// ---------------------------------------------------------------- Arrow

/// The record batches of an Arrow IPC buffer, in the stream format or the
/// file format (told apart by the file format's `ARROW1` magic); `what`
/// names the buffer in the error.
pub fn batches_from_ipc(what: &str, bytes: &[u8]) -> crate::Result<Vec<RecordBatch>> {
    let bad = |e: arrow_schema::ArrowError| crate::VapError::Format {
        path: what.into(),
        message: format!("not an Arrow IPC stream or file: {e}"),
    };
    if bytes.starts_with(b"ARROW1") {
        let r = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None)
            .map_err(bad)?;
        r.collect::<std::result::Result<Vec<_>, _>>().map_err(bad)
    } else {
        let r = arrow_ipc::reader::StreamReader::try_new(bytes, None).map_err(bad)?;
        r.collect::<std::result::Result<Vec<_>, _>>().map_err(bad)
    }
}

/// `batches` (all of `schema`) as one Arrow IPC stream.
pub fn ipc_stream(schema: &Schema, batches: &[RecordBatch]) -> crate::Result<Vec<u8>> {
    let fail = |e: arrow_schema::ArrowError| crate::VapError::Internal(format!("Arrow IPC: {e}"));
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, schema).map_err(fail)?;
    for b in batches {
        w.write(b).map_err(fail)?;
    }
    w.finish().map_err(fail)?;
    drop(w);
    Ok(out)
}

/// One table of a session as an Arrow batch with the documented schema
/// ([`TableName::arrow_schema`]); with `keys`, `room_id` and `session_id`
/// columns come first.
pub fn to_record_batch(data: &SessionData, table: TableName, keys: bool) -> RecordBatch {
    to_record_batch_range(data, table, keys, 0..row_count(data, table))
}

/// The rows `range` of a table as [`to_record_batch`] makes them: a large
/// table is written a batch at a time ([`crate::ingest::table_bytes`]).
pub fn to_record_batch_range(
    data: &SessionData,
    table: TableName,
    keys: bool,
    range: std::ops::Range<usize>,
) -> RecordBatch {
    let rows = rows_of_range(data, table, range);
    let schema = table.arrow_schema(keys);
    let n = rows.len();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    if keys {
        for v in [&data.room.id, &data.session.id] {
            let mut b = StringBuilder::with_capacity(n, n * v.len());
            for _ in 0..n {
                b.append_value(v);
            }
            arrays.push(Arc::new(b.finish()));
        }
    }
    for (j, c) in table.columns().iter().enumerate() {
        let cells = rows.iter().map(|r| &r[j]);
        let arr: ArrayRef = match c.ty {
            Str => {
                let mut b = StringBuilder::with_capacity(n, n * 8);
                for cell in cells {
                    match cell {
                        Cell::Str(x) => b.append_value(x),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Time => {
                let mut b = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
                for cell in cells {
                    match cell {
                        Cell::Int(x) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Int => {
                let mut b = Int64Builder::with_capacity(n);
                for cell in cells {
                    match cell {
                        Cell::Int(x) => b.append_value(*x),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Float => {
                let mut b = Float64Builder::with_capacity(n);
                for cell in cells {
                    match cell {
                        Cell::Float(x) => b.append_value(*x),
                        Cell::Int(x) => b.append_value(*x as f64),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            StrList => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for cell in cells {
                    match cell {
                        Cell::List(v) => {
                            for x in v {
                                b.values().append_value(x);
                            }
                            b.append(true);
                        }
                        _ => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
        };
        arrays.push(arr);
    }
    RecordBatch::try_new(schema, arrays).expect("arrays built to the table's schema")
}

/// Reads an Arrow batch into a raw table. Columns of unsupported types are
/// reported as problems (one per column).
pub fn raw_from_batches(
    source: &str,
    batches: &[RecordBatch],
    problems: &mut Vec<Problem>,
) -> RawTable {
    let mut raw = RawTable {
        source: source.to_string(),
        ..Default::default()
    };
    let Some(first) = batches.first() else {
        return raw;
    };
    let schema = first.schema();
    raw.columns = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut bad = vec![false; raw.columns.len()];
    for batch in batches {
        if batch.schema().fields().len() != raw.columns.len() {
            problems.push(Problem::new(
                source,
                None,
                None,
                "batches have different schemas",
            ));
            return raw;
        }
        let start = raw.rows.len();
        raw.rows
            .extend((0..batch.num_rows()).map(|_| Vec::with_capacity(raw.columns.len())));
        for (j, arr) in batch.columns().iter().enumerate() {
            // Dictionary columns (pandas category, polars Categorical) are
            // expanded once, not looked up per cell.
            let arr = match materialize_dictionary(arr) {
                Ok(a) => a,
                Err(m) => {
                    if !bad[j] {
                        bad[j] = true;
                        problems.push(Problem::new(source, None, Some(&raw.columns[j]), m));
                    }
                    arr.clone()
                }
            };
            for i in 0..batch.num_rows() {
                let cell = if bad[j] {
                    Cell::Null
                } else {
                    match cell_at(arr.as_ref(), i) {
                        Ok(c) => c,
                        Err(m) => {
                            bad[j] = true;
                            problems.push(Problem::new(source, None, Some(&raw.columns[j]), m));
                            Cell::Null
                        }
                    }
                };
                raw.rows[start + i].push(cell);
            }
        }
    }
    raw
}

fn materialize_dictionary(arr: &ArrayRef) -> Result<ArrayRef, String> {
    if !matches!(arr.data_type(), DataType::Dictionary(_, _)) {
        return Ok(arr.clone());
    }
    let dict = arr.as_any_dictionary();
    let keys = dict.normalized_keys();
    let idx = arrow_array::UInt64Array::from_iter((0..arr.len()).map(|i| {
        if arr.is_null(i) {
            None
        } else {
            Some(keys[i] as u64)
        }
    }));
    arrow_select::take::take(dict.values().as_ref(), &idx, None).map_err(|e| e.to_string())
}

fn ts_to_ms(v: i64, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => v.saturating_mul(1000),
        TimeUnit::Millisecond => v,
        TimeUnit::Microsecond => v.div_euclid(1000),
        TimeUnit::Nanosecond => v.div_euclid(1_000_000),
    }
}

fn cell_at(arr: &dyn Array, i: usize) -> Result<Cell, String> {
    if arr.is_null(i) {
        return Ok(Cell::Null);
    }
    Ok(match arr.data_type() {
        DataType::Null => Cell::Null,
        DataType::Boolean => Cell::Bool(arr.as_boolean().value(i)),
        DataType::Int8 => Cell::Int(arr.as_primitive::<Int8Type>().value(i) as i64),
        DataType::Int16 => Cell::Int(arr.as_primitive::<Int16Type>().value(i) as i64),
        DataType::Int32 => Cell::Int(arr.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Int64 => Cell::Int(arr.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Cell::Int(arr.as_primitive::<UInt8Type>().value(i) as i64),
        DataType::UInt16 => Cell::Int(arr.as_primitive::<UInt16Type>().value(i) as i64),
        DataType::UInt32 => Cell::Int(arr.as_primitive::<UInt32Type>().value(i) as i64),
        DataType::UInt64 => {
            let v = arr.as_primitive::<UInt64Type>().value(i);
            Cell::Int(i64::try_from(v).map_err(|_| format!("integer {v} out of range"))?)
        }
        DataType::Float32 => Cell::Float(arr.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => Cell::Float(arr.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Cell::Str(arr.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Cell::Str(arr.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Cell::Str(arr.as_string_view().value(i).to_string()),
        DataType::Timestamp(unit, _) => {
            let v = match unit {
                TimeUnit::Second => arr.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => arr.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => arr.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => arr.as_primitive::<TimestampNanosecondType>().value(i),
            };
            Cell::Int(ts_to_ms(v, unit))
        }
        DataType::Date64 => Cell::Int(arr.as_primitive::<Date64Type>().value(i)),
        DataType::Decimal128(_, scale) => {
            let v = arr.as_primitive::<Decimal128Type>().value(i) as f64;
            Cell::Float(v / 10f64.powi(*scale as i32))
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let inner = match arr.data_type() {
                DataType::List(_) => arr.as_list::<i32>().value(i),
                _ => arr.as_list::<i64>().value(i),
            };
            let mut out = Vec::with_capacity(inner.len());
            for k in 0..inner.len() {
                match cell_at(inner.as_ref(), k)? {
                    Cell::Str(x) => out.push(x),
                    Cell::Null => {}
                    c => return Err(format!("list items must be text, got {c:?}")),
                }
            }
            Cell::List(out)
        }
        DataType::Dictionary(_, _) => {
            let dict = arr.as_any_dictionary();
            let key = dict.normalized_keys()[i];
            return cell_at(dict.values().as_ref(), key);
        }
        other => return Err(format!("unsupported column type {other}")),
    })
}

/// Builds an Arrow batch from a raw table, inferring each column's type from its
/// non-null cells: all booleans → `Boolean`, all integers → `Int64`, integers and
/// floats → `Float64`, all text → `Utf8`, all lists → `List<Utf8>`, all null →
/// `Null`. A column mixing other kinds is a problem naming its first
/// offending row. Used for tables that arrive as plain rows (Node objects) and
/// for derived tables, whose schema vap does not fix.
pub fn infer_batch(raw: &RawTable) -> Result<RecordBatch, Vec<Problem>> {
    use arrow_array::builder::BooleanBuilder;
    #[derive(Clone, Copy, PartialEq)]
    enum K {
        Null,
        Bool,
        Int,
        Float,
        Str,
        List,
    }
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (j, name) in raw.columns.iter().enumerate() {
        let mut kind = K::Null;
        let mut ok = true;
        for (i, row) in raw.rows.iter().enumerate() {
            let k = match row.get(j).unwrap_or(&Cell::Null) {
                Cell::Null => continue,
                Cell::Bool(_) => K::Bool,
                Cell::Int(_) => K::Int,
                Cell::Float(_) => K::Float,
                Cell::Str(_) => K::Str,
                Cell::List(_) => K::List,
            };
            kind = match (kind, k) {
                (K::Null, k) => k,
                (a, b) if a == b => a,
                (K::Int, K::Float) | (K::Float, K::Int) => K::Float,
                _ => {
                    problems.push(Problem::new(
                        &raw.source,
                        Some(i + 1),
                        Some(name),
                        "values of different types in one column",
                    ));
                    ok = false;
                    break;
                }
            };
        }
        if !ok {
            continue;
        }
        let cells = raw.rows.iter().map(|r| r.get(j).unwrap_or(&Cell::Null));
        let (dt, arr): (DataType, ArrayRef) = match kind {
            K::Null => (
                DataType::Null,
                Arc::new(arrow_array::NullArray::new(raw.rows.len())),
            ),
            K::Bool => {
                let mut b = BooleanBuilder::new();
                cells.for_each(|c| {
                    b.append_option(if let Cell::Bool(x) = c {
                        Some(*x)
                    } else {
                        None
                    })
                });
                (DataType::Boolean, Arc::new(b.finish()))
            }
            K::Int => {
                let mut b = Int64Builder::new();
                cells.for_each(|c| {
                    b.append_option(if let Cell::Int(x) = c { Some(*x) } else { None })
                });
                (DataType::Int64, Arc::new(b.finish()))
            }
            K::Float => {
                let mut b = Float64Builder::new();
                cells.for_each(|c| {
                    b.append_option(match c {
                        Cell::Int(x) => Some(*x as f64),
                        Cell::Float(x) => Some(*x),
                        _ => None,
                    })
                });
                (DataType::Float64, Arc::new(b.finish()))
            }
            K::Str => {
                let mut b = StringBuilder::new();
                cells.for_each(|c| {
                    b.append_option(if let Cell::Str(x) = c {
                        Some(x.as_str())
                    } else {
                        None
                    })
                });
                (DataType::Utf8, Arc::new(b.finish()))
            }
            K::List => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for c in cells {
                    if let Cell::List(v) = c {
                        v.iter().for_each(|x| b.values().append_value(x));
                        b.append(true);
                    } else {
                        b.append(false);
                    }
                }
                let arr = b.finish();
                (arr.data_type().clone(), Arc::new(arr))
            }
        };
        fields.push(Field::new(name, dt, true));
        arrays.push(arr);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let opts = arrow_array::RecordBatchOptions::new().with_row_count(Some(raw.rows.len()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &opts)
        .map_err(|e| vec![Problem::new(&raw.source, None, None, e.to_string())])
}

// ---------------------------------------------------------------- JSON values

/// Converts a JSON value to a cell (numbers stay integers when they are).
pub fn cell_from_json(v: &serde_json::Value) -> Result<Cell, String> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Cell::Null,
        J::Bool(b) => Cell::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(x) => Cell::Str(x.clone()),
        J::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    J::String(x) => out.push(x.clone()),
                    J::Null => {}
                    other => return Err(format!("list items must be text, got {other}")),
                }
            }
            Cell::List(out)
        }
        J::Object(_) => return Err("nested objects are not supported".into()),
    })
}

/// Converts a cell to JSON (times stay integer ms).
pub fn cell_to_json(c: &Cell) -> serde_json::Value {
    use serde_json::Value as J;
    match c {
        Cell::Null => J::Null,
        Cell::Bool(b) => J::Bool(*b),
        Cell::Int(i) => J::from(*i),
        Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Cell::Str(s) => J::String(s.clone()),
        Cell::List(v) => J::Array(v.iter().cloned().map(J::String).collect()),
    }
}

/// Builds a raw table from JSON objects (one per row). Keys are the union of all
/// rows' keys, in first-seen order. A row that is not an object is a problem.
pub fn raw_from_json_rows(
    source: &str,
    rows: &[serde_json::Value],
    problems: &mut Vec<Problem>,
) -> RawTable {
    let mut columns: Vec<String> = Vec::new();
    let mut idx: HashMap<String, usize> = HashMap::default();
    for r in rows {
        if let Some(o) = r.as_object() {
            for k in o.keys() {
                if !idx.contains_key(k) {
                    idx.insert(k.clone(), columns.len());
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let mut cells = vec![Cell::Null; columns.len()];
        match r.as_object() {
            Some(o) => {
                for (k, v) in o {
                    match cell_from_json(v) {
                        Ok(c) => cells[idx[k]] = c,
                        Err(m) => problems.push(Problem::new(source, Some(i + 1), Some(k), m)),
                    }
                }
            }
            None => problems.push(Problem::new(
                source,
                Some(i + 1),
                None,
                "row is not an object",
            )),
        }
        out.push(cells);
    }
    RawTable {
        source: source.to_string(),
        columns,
        rows: out,
    }
}

/// The rows of a table as JSON objects keyed by column name.
pub fn json_rows(data: &SessionData, table: TableName) -> Vec<serde_json::Value> {
    let cols = table.columns();
    rows_of(data, table)
        .into_iter()
        .map(|r| {
            let mut m = serde_json::Map::with_capacity(cols.len());
            for (c, v) in cols.iter().zip(r.iter()) {
                if !matches!(v, Cell::Null) {
                    m.insert(c.name.to_string(), cell_to_json(v));
                }
            }
            serde_json::Value::Object(m)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_round_trip_in_write_order() {
        let names = TableName::names();
        assert_eq!(names[0], "anchors");
        assert_eq!(names[8], "metrics");
        for (t, n) in TableName::ALL.iter().zip(names) {
            assert_eq!(TableName::parse(n), Some(*t));
        }
    }

    #[test]
    fn blank_is_trim_empty() {
        for s in [
            "",
            " ",
            "\t\n",
            "\u{3000}",
            "\u{a0}",
            "\u{85}",
            "a",
            " a",
            "好",
            "\u{3000}好",
            "\u{2028}",
            "\u{4e00}",
            "\u{9fff}",
            "é",
            "\u{feff}",
        ] {
            assert_eq!(blank(s), s.trim().is_empty(), "{s:?}");
        }
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1700000000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1970-01-01T08:00:01+08:00"), Ok(1000));
        assert_eq!(parse_time("1970-01-01 00:00:01.5Z"), Ok(1500));
        assert!(parse_time("2026-11-25 20:00:00")
            .unwrap_err()
            .contains("no UTC offset"));
        assert!(parse_time("yesterday").is_err());
        // the digits-only fast path agrees with `str::parse` at its edges
        for t in [
            "0",
            "007",
            " 42 ",
            "-5",
            "+5",
            "999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "12a",
        ] {
            assert_eq!(parse_time(t).ok(), t.trim().parse::<i64>().ok(), "{t:?}");
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> (x % 64)) as i64;
            let t = v.to_string();
            assert_eq!(parse_time(&t), Ok(v), "{t}");
        }
    }

    #[test]
    fn times_of_digits_and_one_other_byte_parse_as_str_parse_says() {
        // The eight-at-a-time reading of 8 to 16 digits against
        // `str::parse`, with one byte changed to each neighbour of the digits
        // and to other bytes, at every position and length.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for n in 1..=18 {
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let digits: Vec<u8> = (0..n).map(|k| b'0' + ((x >> (k * 3)) % 10) as u8).collect();
                let t = std::str::from_utf8(&digits).unwrap();
                assert_eq!(parse_time(t).ok(), t.parse::<i64>().ok(), "{t:?}");
                for other in [b'/', b':', b' ', b'a', b'\x7f', b'+', b'-', b'\0'] {
                    let mut v = digits.clone();
                    v[(x as usize >> 7) % n] = other;
                    let t = std::str::from_utf8(&v).unwrap();
                    assert_eq!(parse_time(t).ok(), t.trim().parse::<i64>().ok(), "{t:?}");
                }
            }
        }
        assert_eq!(digits_value(b"00000000"), Some(0));
        assert_eq!(digits_value(b"99999999"), Some(99_999_999));
        assert_eq!(
            digits_value(b"9999999999999999"),
            Some(9_999_999_999_999_999)
        );
        assert_eq!(digits_value(b"1234567890123"), Some(1_234_567_890_123));
        assert_eq!(digits_value(b"1234567"), None);
    }

    #[test]
    fn every_problem_is_listed() {
        let raw = RawTable {
            source: "orders.csv".into(),
            columns: ORDERS.iter().map(|c| c.name.to_string()).collect(),
            rows: vec![
                vec![
                    s("o1"),
                    s("x"),
                    s("p1"),
                    s("1"),
                    s("-3"),
                    s("paid"),
                    Cell::Null,
                ],
                vec![
                    s("o2"),
                    Cell::Int(5),
                    s("p1"),
                    s("0"),
                    Cell::Float(f64::NAN),
                    s("gift"),
                    Cell::Null,
                ],
                vec![
                    s("o3"),
                    Cell::Int(6),
                    s("p1"),
                    s("2"),
                    Cell::Float(9.5),
                    s("paid"),
                    Cell::Null,
                ],
            ],
        };
        let mut t = Tables::default();
        let mut o = Origins::default();
        let mut p = vec![];
        parse_raw(TableName::Orders, &raw, &mut t, &mut o, &mut p);
        let fields: Vec<(usize, &str)> = p
            .iter()
            .map(|p| (p.row.unwrap(), p.field.as_deref().unwrap()))
            .collect();
        assert_eq!(
            fields,
            vec![
                (1, "ts_ms"),
                (1, "amount"),
                (2, "quantity"),
                (2, "amount"),
                (2, "status")
            ]
        );
        assert_eq!(t.orders.len(), 1);
        assert_eq!(o.get(TableName::Orders, 0), Some(("orders.csv", 3)));
        assert_eq!(o.get(TableName::Orders, 1), None);
    }

    #[test]
    fn infer_batch_types_and_round_trip() {
        let raw = RawTable {
            source: "rows".into(),
            columns: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            rows: vec![
                vec![Cell::Int(1), Cell::Float(0.5), s("x"), Cell::Null],
                vec![Cell::Null, Cell::Int(2), s("y"), Cell::Null],
            ],
        };
        let b = infer_batch(&raw).unwrap();
        let types: Vec<DataType> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            vec![
                DataType::Int64,
                DataType::Float64,
                DataType::Utf8,
                DataType::Null
            ]
        );
        let mut p = vec![];
        let back = raw_from_batches("rows", &[b], &mut p);
        assert!(p.is_empty());
        assert_eq!(back.rows[1][1], Cell::Float(2.0));
        let bad = RawTable {
            rows: vec![vec![Cell::Int(1)], vec![s("x")]],
            columns: vec!["a".into()],
            ..raw
        };
        let e = infer_batch(&bad).unwrap_err();
        assert_eq!((e[0].row, e[0].field.as_deref()), (Some(2), Some("a")));
    }

    #[test]
    fn missing_required_column_is_one_problem() {
        let raw = RawTable {
            source: "a.csv".into(),
            columns: vec!["id".into()],
            rows: vec![vec![s("a")]; 5],
        };
        let mut p = vec![];
        parse_raw(
            TableName::Anchors,
            &raw,
            &mut Tables::default(),
            &mut Origins::default(),
            &mut p,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field.as_deref(), Some("name"));
    }
}
