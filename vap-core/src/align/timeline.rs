//! The [`Timeline`]: named, typed columns on a regular grid.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use ndarray::{Array2, ArrayView1, ArrayView2, ShapeBuilder};
use serde::{Deserialize, Serialize};

use super::grid::Grid;
use super::transform::Transform;
use crate::error::{Result, VapError};
use crate::schema::Ms;

/// What a column holds, and so how it was aggregated into bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// A flow metric (entries, platform GMV): amount per bin.
    Flow,
    /// A gauge metric (online viewers): time-weighted mean of the
    /// last-observation-carried-forward signal; may have missing bins.
    Gauge,
    /// A ratio of two columns (GPM, conversion, AOV); missing where the
    /// denominator is zero.
    Rate,
    /// A count of events per bin (comments, orders).
    Count,
    /// A sum over events per bin (order GMV, quantity).
    Sum,
    /// The fraction of each bin an interval set covers, in [0, 1].
    Interval,
    /// Lexicon phrase matches per bin.
    Lexicon,
    /// Derived from another column by a [`Transform`].
    Transform,
}

impl ColumnKind {
    /// Whether absence means "none happened" (0) rather than "unknown" (missing)
    /// when sessions with different columns are stacked.
    pub fn absent_is_zero(self) -> bool {
        matches!(
            self,
            ColumnKind::Count | ColumnKind::Sum | ColumnKind::Interval | ColumnKind::Lexicon
        )
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Flow => "flow",
            ColumnKind::Gauge => "gauge",
            ColumnKind::Rate => "rate",
            ColumnKind::Count => "count",
            ColumnKind::Sum => "sum",
            ColumnKind::Interval => "interval",
            ColumnKind::Lexicon => "lexicon",
            ColumnKind::Transform => "transform",
        }
    }
}

/// Metadata of one column. It travels with the data: in Arrow as field
/// metadata (`vap.kind`, `vap.source`, `vap.unit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMeta {
    /// Column name (`gmv`, `online_viewers`, `explain:p03`, `speech:urgency`).
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
    /// Where it comes from (`metric:gmv`, `orders.amount`, `shifts:a1`, ...).
    pub source: String,
    /// Unit (`yuan`, `viewers`, `count`, `share`, ...).
    pub unit: String,
    /// Whether some bins are missing (see [`Timeline::missing`]).
    pub has_missing: bool,
}

/// The rows of one session inside a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSpan {
    /// Room id.
    pub room_id: String,
    /// Session id.
    pub session_id: String,
    /// The session's grid.
    pub grid: Grid,
    /// Its rows in the timeline.
    pub rows: Range<usize>,
    /// The session's IANA time zone, for display only (times stay UTC).
    #[serde(default = "utc")]
    pub timezone: String,
}

fn utc() -> String {
    "UTC".to_string()
}

/// Columns on a regular grid: one session, or many sessions of a room stacked
/// with a session key (see [`room_timeline`](super::room_timeline)).
///
/// Values are `f64`, stored column-major so that [`Timeline::column`] and
/// [`Timeline::matrix`] are zero-copy views. A missing bin is NaN and flagged
/// in the column's mask ([`Timeline::missing`]); it is never a silent zero.
#[derive(Debug, Clone)]
pub struct Timeline {
    spans: Vec<SessionSpan>,
    keyed: bool,
    time_ms: Vec<Ms>,
    meta: Vec<ColumnMeta>,
    /// Column-major values: column `j` is `data[j * rows..(j + 1) * rows]`.
    /// Beyond the used columns, `data` may hold zeros reserved for more
    /// ([`Timeline::reserve`]): allocated zeroed, so untouched pages cost
    /// nothing and a zero column is had without writing it.
    data: Vec<f64>,
    rows: usize,
    missing: Vec<Option<Vec<bool>>>,
    index: HashMap<String, usize>,
}

/// Options of a timeline made of your own columns ([`Timeline::from_options`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnsOptions {
    /// Start of the grid (default 0, the epoch).
    #[serde(alias = "start", with = "crate::options::instant")]
    pub start_ms: Ms,
    /// Bin width (default 1 s).
    #[serde(alias = "step", with = "crate::options::duration")]
    pub step_ms: Ms,
    /// Kind of every column (default flow).
    pub kind: ColumnKind,
}

impl Default for ColumnsOptions {
    fn default() -> Self {
        ColumnsOptions {
            start_ms: 0,
            step_ms: 1000,
            kind: ColumnKind::Flow,
        }
    }
}

impl crate::options::Options for ColumnsOptions {
    const WHAT: &'static str = "column options";

    fn check(&self) -> Result<()> {
        crate::options::ensure_positive(Self::WHAT, "step", self.step_ms)
    }
}

/// Options of a column you add ([`Timeline::add_column`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnOptions {
    /// Its kind (default flow).
    pub kind: ColumnKind,
    /// Its unit (default none).
    pub unit: String,
}

impl Default for ColumnOptions {
    fn default() -> Self {
        ColumnOptions {
            kind: ColumnKind::Flow,
            unit: String::new(),
        }
    }
}

impl crate::options::Options for ColumnOptions {
    const WHAT: &'static str = "column options";
}

impl Timeline {
    /// The same timeline with its (one) session shown in time zone `tz`.
    pub(crate) fn with_timezone(mut self, tz: &str) -> Timeline {
        for s in &mut self.spans {
            s.timezone = tz.to_string();
        }
        self
    }

    /// An empty timeline (no columns) on one session's grid.
    pub fn empty(room_id: &str, session_id: &str, grid: Grid) -> Timeline {
        Timeline {
            spans: vec![SessionSpan {
                room_id: room_id.to_string(),
                session_id: session_id.to_string(),
                grid,
                rows: 0..grid.n,
                timezone: utc(),
            }],
            keyed: false,
            time_ms: grid.times(),
            meta: Vec::new(),
            data: Vec::new(),
            rows: grid.n,
            missing: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// A one-session timeline (room and session `custom`) of your own columns
    /// on the grid `start_ms + k·step_ms`, each of the given kind.
    pub fn from_columns(
        start_ms: Ms,
        step_ms: Ms,
        columns: Vec<(String, Vec<f64>)>,
        kind: ColumnKind,
    ) -> Result<Timeline> {
        let n = columns.first().map(|c| c.1.len()).unwrap_or(0);
        let mut tl = Timeline::empty("custom", "custom", Grid::new(start_ms, step_ms, n)?);
        for (name, values) in columns {
            tl.add_column(name, values, kind, "")?;
        }
        Ok(tl)
    }

    /// [`Timeline::from_columns`] with [`ColumnsOptions`].
    pub fn from_options(
        columns: Vec<(String, Vec<f64>)>,
        opts: &ColumnsOptions,
    ) -> Result<Timeline> {
        use crate::options::Options as _;
        opts.check()?;
        Timeline::from_columns(opts.start_ms, opts.step_ms, columns, opts.kind)
    }

    /// Appends a column of your own (source "added by the user"); NaN values
    /// are missing bins.
    pub fn add_column(
        &mut self,
        name: String,
        values: Vec<f64>,
        kind: ColumnKind,
        unit: &str,
    ) -> Result<()> {
        self.push(
            ColumnMeta {
                name,
                kind,
                source: "added by the user".into(),
                unit: unit.into(),
                has_missing: false,
            },
            values,
        )
    }

    /// Number of rows (bins).
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// The grid, when the timeline holds one session.
    pub fn grid(&self) -> Option<&Grid> {
        match self.spans.as_slice() {
            [one] => Some(&one.grid),
            _ => None,
        }
    }

    /// Bin width in ms (the same for every session).
    pub fn step_ms(&self) -> Ms {
        self.spans.first().map(|s| s.grid.step_ms).unwrap_or(0)
    }

    /// The sessions and their rows.
    pub fn spans(&self) -> &[SessionSpan] {
        &self.spans
    }

    /// Whether the timeline carries a session key (a room view).
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// Start of each row's bin.
    pub fn time_ms(&self) -> &[Ms] {
        &self.time_ms
    }

    /// Column metadata, in column order.
    pub fn columns(&self) -> &[ColumnMeta] {
        &self.meta
    }

    /// Column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.meta.iter().map(|m| m.name.as_str()).collect()
    }

    /// Index of a column.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Metadata of a column.
    pub fn meta(&self, name: &str) -> Option<&ColumnMeta> {
        self.position(name).map(|j| &self.meta[j])
    }

    /// A column as a zero-copy view.
    pub fn column(&self, name: &str) -> Option<ArrayView1<'_, f64>> {
        self.position(name).map(|j| ArrayView1::from(self.col(j)))
    }

    /// A column as a contiguous slice.
    pub fn values(&self, name: &str) -> Result<&[f64]> {
        let j = self.require(name)?;
        Ok(self.col(j))
    }

    /// The missing-bin mask of a column (`true` = missing), if it has any.
    pub fn missing(&self, name: &str) -> Option<&[bool]> {
        self.position(name).and_then(|j| self.missing[j].as_deref())
    }

    /// All columns as a (rows × columns) matrix, a zero-copy column-major view.
    pub fn matrix(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.rows, self.meta.len()).f(), self.as_slice())
            .expect("timeline storage holds rows x columns values")
    }

    /// All values, column after column (the memory behind [`Timeline::matrix`]).
    pub fn as_slice(&self) -> &[f64] {
        &self.data[..self.meta.len() * self.rows]
    }

    fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// Mutable access to column `j`, for builders filling a column in place
    /// (see [`Timeline::push_zeroed`]). The mask is not updated.
    pub(crate) fn col_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// Appends a column of zeros to be filled in place; returns its index.
    pub(crate) fn push_zeroed(&mut self, meta: ColumnMeta) -> Result<usize> {
        if self.index.contains_key(&meta.name) {
            return Err(VapError::AlreadyExists(format!(
                "the timeline already has a column '{}'",
                meta.name
            )));
        }
        let end = (self.meta.len() + 1) * self.rows;
        if self.data.len() < end {
            self.data.resize(end, 0.0);
        }
        self.index.insert(meta.name.clone(), self.meta.len());
        self.meta.push(meta);
        self.missing.push(None);
        Ok(self.meta.len() - 1)
    }

    /// The named columns, copied into a (rows × columns) matrix.
    pub fn select(&self, names: &[&str]) -> Result<Array2<f64>> {
        let idx = names
            .iter()
            .map(|n| self.require(n))
            .collect::<Result<Vec<_>>>()?;
        let mut out = Array2::zeros((self.len(), idx.len()).f());
        for (k, j) in idx.into_iter().enumerate() {
            out.column_mut(k).assign(&ArrayView1::from(self.col(j)));
        }
        Ok(out)
    }

    fn require(&self, name: &str) -> Result<usize> {
        self.position(name).ok_or_else(|| {
            let mut names = self.names();
            names.truncate(20);
            VapError::NotFound(format!(
                "no column '{name}' in the timeline (columns: {}{})",
                names.join(", "),
                if self.meta.len() > 20 { ", ..." } else { "" }
            ))
        })
    }

    /// Reserves room for `additional` more columns, so that pushing them does
    /// not move the matrix.
    pub fn reserve(&mut self, additional: usize) {
        let used = self.meta.len() * self.rows;
        self.data.truncate(used);
        if self.data.is_empty() {
            // A zeroed allocation: the kernel hands out zero pages on first
            // touch, so reserved columns cost nothing until used.
            self.data = vec![0.0; additional.saturating_mul(self.rows)];
        } else {
            self.data
                .resize(used + additional.saturating_mul(self.rows), 0.0);
        }
    }

    /// Marks rows `rows` of column `col` missing (NaN + mask).
    pub(crate) fn blank(&mut self, col: usize, rows: std::ops::Range<usize>) {
        let n = self.rows;
        let (a, b) = (rows.start.min(n), rows.end.min(n));
        if a >= b || col >= self.meta.len() {
            return;
        }
        self.data[col * n + a..col * n + b].fill(f64::NAN);
        let mask = self.missing[col].get_or_insert_with(|| vec![false; n]);
        mask[a..b].fill(true);
        self.meta[col].has_missing = true;
    }

    /// Drops the zeros reserved beyond the used columns (the allocation is
    /// kept; clones copy only the used part).
    pub(crate) fn finish(&mut self) {
        self.data.truncate(self.meta.len() * self.rows);
    }

    /// Appends a column. `values` must have one value per row; NaN values are
    /// flagged missing.
    pub fn push(&mut self, mut meta: ColumnMeta, values: Vec<f64>) -> Result<()> {
        if values.len() != self.len() {
            return Err(VapError::InvalidArgument(format!(
                "column '{}' has {} values for {} rows",
                meta.name,
                values.len(),
                self.len()
            )));
        }
        if self.index.contains_key(&meta.name) {
            return Err(VapError::AlreadyExists(format!(
                "the timeline already has a column '{}'",
                meta.name
            )));
        }
        let mask: Vec<bool> = values.iter().map(|v| v.is_nan()).collect();
        let missing = mask.iter().any(|m| *m).then_some(mask);
        meta.has_missing = missing.is_some();
        let at = self.meta.len() * self.rows;
        if self.data.len() >= at + self.rows {
            self.data[at..at + self.rows].copy_from_slice(&values);
        } else {
            self.data.truncate(at);
            self.data.extend_from_slice(&values);
        }
        self.index.insert(meta.name.clone(), self.meta.len());
        self.meta.push(meta);
        self.missing.push(missing);
        Ok(())
    }

    /// Replaces the values of an existing column (one per row, none missing):
    /// a counterfactual timeline ([`crate::plan`]) changes its event columns.
    pub(crate) fn set_values(&mut self, name: &str, values: &[f64]) -> Result<()> {
        let col = self.position(name).ok_or_else(|| {
            VapError::InvalidArgument(format!("the timeline has no column '{name}'"))
        })?;
        if values.len() != self.rows {
            return Err(VapError::InvalidArgument(format!(
                "column '{name}' has {} values for {} rows",
                values.len(),
                self.rows
            )));
        }
        let at = col * self.rows;
        self.data[at..at + self.rows].copy_from_slice(values);
        self.meta[col].has_missing = false;
        self.missing[col] = None;
        Ok(())
    }

    /// Adds the column `name` (default `<source>:<transform>`) made by applying
    /// `transform` to `source` within each session. Returns the new name.
    ///
    /// Carryover transforms refuse a column with missing bins; lag / lead mark
    /// the bins they shift in as missing; Hill uses the column's maximum over
    /// all sessions and refuses negative values.
    pub fn derive(
        &mut self,
        source: &str,
        transform: &Transform,
        name: Option<&str>,
    ) -> Result<String> {
        transform.check()?;
        let j = self.require(source)?;
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| format!("{source}:{}", transform.name()));
        let x = self.col(j).to_vec();
        if transform.needs_complete() {
            if let Some(m) = &self.missing[j] {
                let n = m.iter().filter(|v| **v).count();
                return Err(VapError::InvalidArgument(format!(
                    "column '{source}' has {n} missing bins; {} needs a complete column",
                    transform.name()
                )));
            }
        }
        let mut out = vec![f64::NAN; x.len()];
        if let Transform::Hill { slope, inflexion } = *transform {
            if let Some(neg) = x.iter().position(|v| *v < 0.0) {
                return Err(VapError::InvalidArgument(format!(
                    "column '{source}' has a negative value ({}) at row {neg}; hill needs values >= 0",
                    x[neg]
                )));
            }
            let max = x
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            out = super::transform::hill(&x, slope, inflexion, max);
        } else {
            for span in &self.spans {
                let y = transform.apply(&x[span.rows.clone()])?;
                out[span.rows.clone()].copy_from_slice(&y);
            }
        }
        let src = &self.meta[j];
        let unit = if matches!(transform, Transform::Hill { .. }) {
            "share".to_string()
        } else {
            src.unit.clone()
        };
        let meta = ColumnMeta {
            name: name.clone(),
            kind: ColumnKind::Transform,
            source: format!("{} of {source}", transform.label()),
            unit,
            has_missing: false,
        };
        self.push(meta, out)?;
        Ok(name)
    }

    /// Stacks timelines of sessions of one room into a keyed room view. All
    /// must share the step. Columns are the union in order of first
    /// appearance; a column a session lacks is 0 for counts, sums, intervals and
    /// lexicon matches (nothing happened) and missing for metrics, rates and
    /// transforms (unknown).
    pub fn stack(parts: Vec<Timeline>) -> Result<Timeline> {
        let step = parts.first().map(|t| t.step_ms()).unwrap_or(1000);
        let mut problems = Vec::new();
        let mut metas: Vec<ColumnMeta> = Vec::new();
        let mut pos: HashMap<String, usize> = HashMap::new();
        for t in &parts {
            if t.step_ms() != step {
                problems.push(format!(
                    "session '{}' has step {} ms, expected {step} ms",
                    t.spans
                        .first()
                        .map(|s| s.session_id.as_str())
                        .unwrap_or("?"),
                    t.step_ms()
                ));
            }
            for m in &t.meta {
                match pos.get(&m.name) {
                    Some(&k) if metas[k].kind != m.kind => problems.push(format!(
                        "column '{}' is {} in one session and {} in another",
                        m.name,
                        metas[k].kind.as_str(),
                        m.kind.as_str()
                    )),
                    Some(_) => {}
                    None => {
                        pos.insert(m.name.clone(), metas.len());
                        metas.push(m.clone());
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(VapError::InvalidArgument(problems.join("; ")));
        }
        let rows: usize = parts.iter().map(|t| t.len()).sum();
        let mut spans = Vec::new();
        let mut time_ms = Vec::with_capacity(rows);
        for t in &parts {
            for s in &t.spans {
                let off = time_ms.len() + s.rows.start - t.spans[0].rows.start;
                spans.push(SessionSpan {
                    rows: off..off + s.rows.len(),
                    ..s.clone()
                });
            }
            time_ms.extend_from_slice(&t.time_ms);
        }
        let mut out = Timeline {
            spans,
            keyed: true,
            time_ms,
            meta: Vec::new(),
            data: Vec::with_capacity(rows * metas.len()),
            rows,
            missing: Vec::new(),
            index: HashMap::new(),
        };
        for m in metas {
            let fill = if m.kind.absent_is_zero() {
                0.0
            } else {
                f64::NAN
            };
            let mut v = Vec::with_capacity(rows);
            for t in &parts {
                match t.position(&m.name) {
                    Some(j) => v.extend_from_slice(t.col(j)),
                    None => v.extend(std::iter::repeat_n(fill, t.len())),
                }
            }
            out.push(m, v)?;
        }
        Ok(out)
    }

    /// The timeline as an Arrow record batch: `time` (timestamp ms, UTC),
    /// `room_id` and `session_id` for a room view, every column as `float64`
    /// (null where missing), then a boolean `<name>:missing` mask for each
    /// column that has missing bins. Column metadata is in each field's
    /// metadata (`vap.kind`, `vap.source`, `vap.unit`); the spans are in the
    /// schema metadata (`vap.timeline`, JSON).
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let n = self.len();
        let mut fields: Vec<Field> = vec![Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        )];
        let mut cols: Vec<ArrayRef> = vec![Arc::new(
            TimestampMillisecondArray::from(self.time_ms.clone()).with_timezone("UTC"),
        )];
        if self.keyed {
            let mut room = Vec::with_capacity(n);
            let mut sess = Vec::with_capacity(n);
            for s in &self.spans {
                room.extend(std::iter::repeat_n(s.room_id.as_str(), s.rows.len()));
                sess.extend(std::iter::repeat_n(s.session_id.as_str(), s.rows.len()));
            }
            fields.push(Field::new("room_id", DataType::Utf8, false));
            fields.push(Field::new("session_id", DataType::Utf8, false));
            cols.push(Arc::new(StringArray::from(room)));
            cols.push(Arc::new(StringArray::from(sess)));
        }
        for (j, m) in self.meta.iter().enumerate() {
            let md: HashMap<String, String> = [
                ("vap.kind".to_string(), m.kind.as_str().to_string()),
                ("vap.source".to_string(), m.source.clone()),
                ("vap.unit".to_string(), m.unit.clone()),
            ]
            .into_iter()
            .collect();
            fields.push(Field::new(&m.name, DataType::Float64, m.has_missing).with_metadata(md));
            let values: Vec<f64> = self.col(j).to_vec();
            let nulls = self.missing[j]
                .as_ref()
                .map(|mask| NullBuffer::from(mask.iter().map(|x| !x).collect::<Vec<bool>>()));
            cols.push(Arc::new(Float64Array::new(values.into(), nulls)));
        }
        for (j, m) in self.meta.iter().enumerate() {
            if let Some(mask) = &self.missing[j] {
                fields.push(Field::new(
                    format!("{}:missing", m.name),
                    DataType::Boolean,
                    false,
                ));
                cols.push(Arc::new(BooleanArray::from(mask.clone())));
            }
        }
        let spans =
            serde_json::to_string(&self.spans).map_err(|e| VapError::Internal(e.to_string()))?;
        let schema = Schema::new(fields).with_metadata(
            [
                ("vap.timeline".to_string(), spans),
                ("vap.step_ms".to_string(), self.step_ms().to_string()),
            ]
            .into_iter()
            .collect(),
        );
        RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| VapError::Internal(e.to_string()))
    }
}
