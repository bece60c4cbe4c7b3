//! Python bindings of `vap_core::align`: timelines, transforms, clock offsets
//! and as-of joins. Options cross as JSON; the Python layer builds them.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::PyTable;
use vap_core::align::{
    self, AlignOptions, AsofOptions, Lexicon, OffsetOptions, Timeline, Transform,
};
use vap_core::options::Options;
use vap_core::VapError;

use crate::{parse, py_table, run, to_json, PySession, PyStore};

/// A timeline held in Rust. Shared: the matrix `to_numpy` hands out reads the
/// timeline's own memory and holds it; a method that changes the timeline
/// while such a matrix lives changes a copy (`Arc::make_mut`).
#[pyclass(name = "Timeline", module = "vap._vap")]
pub(crate) struct PyTimeline {
    pub(crate) inner: Arc<Timeline>,
}

impl PyTimeline {
    pub(crate) fn new(inner: Timeline) -> PyTimeline {
        PyTimeline {
            inner: Arc::new(inner),
        }
    }
}

#[pymethods]
impl PyTimeline {
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn names(&self) -> Vec<String> {
        self.inner.names().into_iter().map(str::to_string).collect()
    }

    fn columns_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.columns()))
    }

    fn spans_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.spans()))
    }

    fn step_ms(&self) -> i64 {
        self.inner.step_ms()
    }

    fn is_keyed(&self) -> bool {
        self.inner.is_keyed()
    }

    /// Bin starts (ms) as little-endian i64 bytes.
    fn time_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let t = self.inner.time_ms();
        let mut out = Vec::with_capacity(t.len() * 8);
        for v in t {
            out.extend_from_slice(&v.to_le_bytes());
        }
        PyBytes::new(py, &out)
    }

    /// The named columns (all when `None`), column after column, as one
    /// Arrow `float64` array without nulls that numpy reads in place. All
    /// columns: the timeline's own memory, no copy (the array holds the
    /// timeline; see [`PyTimeline`]); a selection: one copy.
    #[pyo3(signature = (names = None))]
    fn matrix(&self, py: Python<'_>, names: Option<Vec<String>>) -> PyResult<pyo3_arrow::PyArray> {
        let array = match names {
            None => {
                let owner = Arc::clone(&self.inner);
                let values = owner.as_slice();
                let (ptr, len) = (std::ptr::NonNull::from(values).cast::<u8>(), values.len());
                // SAFETY: `ptr` is the start of `len` initialised f64 of the
                // timeline that `owner` keeps alive, and never changes while
                // shared (changes go to a copy, `Arc::make_mut`).
                let buffer = unsafe {
                    arrow_buffer::Buffer::from_custom_allocation(
                        ptr,
                        len * std::mem::size_of::<f64>(),
                        owner,
                    )
                };
                arrow_array::Float64Array::new(
                    arrow_buffer::ScalarBuffer::new(buffer, 0, len),
                    None,
                )
            }
            Some(names) => run(py, || {
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let sel = self.inner.select(&refs)?;
                let values: Vec<f64> = sel.t().iter().copied().collect();
                Ok(arrow_array::Float64Array::from(values))
            })?,
        };
        Ok(pyo3_arrow::PyArray::from_array_ref(Arc::new(array)))
    }

    /// The missing-bin mask of a column as bytes (1 = missing), or `None`.
    fn missing_bytes<'py>(
        &self,
        py: Python<'py>,
        name: &str,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if self.inner.position(name).is_none() {
            return Err(crate::errors::to_py(
                py,
                VapError::NotFound(format!("no column '{name}' in the timeline")),
            ));
        }
        Ok(self
            .inner
            .missing(name)
            .map(|m| PyBytes::new(py, &m.iter().map(|b| *b as u8).collect::<Vec<u8>>())))
    }

    fn to_arrow(&self, py: Python<'_>) -> PyResult<PyTable> {
        let batch = run(py, || self.inner.to_record_batch())?;
        py_table(batch)
    }

    #[pyo3(signature = (source, transform_json, name = None))]
    fn derive(
        &mut self,
        py: Python<'_>,
        source: &str,
        transform_json: &str,
        name: Option<String>,
    ) -> PyResult<String> {
        let inner = Arc::make_mut(&mut self.inner);
        run(py, || {
            let t: Transform = parse("transform", transform_json)?;
            inner.derive(source, &t, name.as_deref())
        })
    }

    /// Appends a column (JSON `ColumnOptions`: kind, unit); NaN values are
    /// missing bins.
    fn add_column(
        &mut self,
        py: Python<'_>,
        name: String,
        values: Vec<f64>,
        options_json: &str,
    ) -> PyResult<()> {
        let inner = Arc::make_mut(&mut self.inner);
        run(py, || {
            let o = align::ColumnOptions::from_json(options_json)?;
            inner.add_column(name, values, o.kind, &o.unit)
        })
    }

    /// A copy: shares the values until either changes (copy on write).
    fn copy(&self) -> PyTimeline {
        PyTimeline {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl PySession {
    /// Aligns the session on a grid (options as JSON `AlignOptions`).
    pub(crate) fn build_timeline(
        &self,
        py: Python<'_>,
        options_json: &str,
    ) -> PyResult<PyTimeline> {
        let inner = run(py, || {
            let o = AlignOptions::from_json(options_json)?;
            Timeline::build(&self.inner, &o)
        })?;
        Ok(PyTimeline::new(inner))
    }

    /// Estimates the transcript's clock offset (JSON `OffsetOptions` in, JSON
    /// `OffsetEstimate` out).
    pub(crate) fn transcript_offset(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = OffsetOptions::from_json(options_json)?;
            to_json(&align::estimate_transcript_offset(&self.inner, &o)?)
        })
    }

    /// A copy with the transcript moved onto the platform clock by a
    /// determined estimate (JSON `OffsetEstimate`); refuses an undetermined one.
    pub(crate) fn applied_offset(
        &self,
        py: Python<'_>,
        estimate_json: &str,
    ) -> PyResult<PySession> {
        let inner = run(py, || {
            let e: align::OffsetEstimate = parse("offset estimate", estimate_json)?;
            let mut d = self.inner.clone();
            e.apply_to_transcript(&mut d)?;
            Ok(d)
        })?;
        Ok(PySession { inner })
    }

    /// A copy with every utterance moved by `delta_ms`.
    pub(crate) fn shifted_transcript(&self, py: Python<'_>, delta_ms: i64) -> PyResult<PySession> {
        let inner = run(py, || {
            let mut d = self.inner.clone();
            align::shift_utterances(&mut d, delta_ms);
            Ok(d)
        })?;
        Ok(PySession { inner })
    }
}

impl PyStore {
    /// The room view of every stored session of a room.
    pub(crate) fn build_room_timeline(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
    ) -> PyResult<PyTimeline> {
        let inner = run(py, || {
            let o = AlignOptions::from_json(options_json)?;
            align::store_room_timeline(&self.inner, room, &o)
        })?;
        Ok(PyTimeline::new(inner))
    }
}

/// The room view of several sessions, built in parallel.
#[pyfunction]
pub(crate) fn room_timeline(
    py: Python<'_>,
    sessions: Vec<PyRef<'_, PySession>>,
    options_json: &str,
) -> PyResult<PyTimeline> {
    let data: Vec<&vap_core::SessionData> = sessions.iter().map(|s| &s.inner).collect();
    let inner = run(py, || {
        let o = AlignOptions::from_json(options_json)?;
        align::room_timeline(&data, &o)
    })?;
    Ok(PyTimeline::new(inner))
}

/// Offset between paired channels `(reference, other)` (JSON estimate out).
#[pyfunction]
pub(crate) fn estimate_offset(
    py: Python<'_>,
    pairs: Vec<(Vec<f64>, Vec<f64>)>,
    step_ms: i64,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        let o = OffsetOptions::from_json(options_json)?;
        let refs: Vec<(&[f64], &[f64])> = pairs
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        to_json(&align::estimate_offset(&refs, step_ms, &o)?)
    })
}

/// As-of join of two Arrow tables (JSON `AsofOptions`).
#[pyfunction]
pub(crate) fn asof_join(
    py: Python<'_>,
    left: PyTable,
    right: PyTable,
    options_json: &str,
) -> PyResult<PyTable> {
    let (lb, ls) = left.into_inner();
    let (rb, rs) = right.into_inner();
    let out = run(py, || {
        let o = AsofOptions::from_json(options_json)?;
        let concat = |b: &[arrow_array::RecordBatch], s: &arrow_schema::SchemaRef| {
            arrow_select::concat::concat_batches(s, b)
                .map_err(|e| VapError::InvalidArgument(e.to_string()))
        };
        align::asof_join(&concat(&lb, &ls)?, &concat(&rb, &rs)?, &o)
    })?;
    py_table(out)
}

/// Text folded as the lexicon matches it (NFKC, lower case, Simplified).
#[pyfunction]
pub(crate) fn fold(text: &str) -> String {
    align::fold(text)
}

/// A duration such as "500ms", "10s", "1min", "2h" in ms (vap-core's parser).
#[pyfunction]
pub(crate) fn parse_duration_ms(py: Python<'_>, text: &str) -> PyResult<i64> {
    run(py, || align::parse_duration_ms(text))
}

/// The built-in lexicon as JSON (`{"groups": {...}}`).
#[pyfunction]
pub(crate) fn builtin_lexicon_json(py: Python<'_>) -> PyResult<String> {
    run(py, || to_json(&Lexicon::builtin()))
}

/// Match counts per group of a lexicon (JSON) in a text, as JSON `{group: n}`.
#[pyfunction]
pub(crate) fn lexicon_count(py: Python<'_>, lexicon_json: &str, text: &str) -> PyResult<String> {
    run(py, || {
        let l: Lexicon = parse("lexicon", lexicon_json)?;
        let m = l.compile()?;
        let counts = m.count(text);
        let map: std::collections::BTreeMap<&str, u32> =
            m.groups().iter().map(String::as_str).zip(counts).collect();
        to_json(&map)
    })
}

/// A single-session timeline made of the given columns (`custom` room and
/// session), on the grid `start_ms + k·step_ms`.
#[pyfunction]
pub(crate) fn timeline_from_columns(
    py: Python<'_>,
    columns: Vec<(String, Vec<f64>)>,
    options_json: &str,
) -> PyResult<PyTimeline> {
    let inner = run(py, || {
        Timeline::from_options(columns, &align::ColumnsOptions::from_json(options_json)?)
    })?;
    Ok(PyTimeline::new(inner))
}
