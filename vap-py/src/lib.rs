//! Python bindings of vap (`vap._vap`). Converts and delegates to `vap-core`;
//! the pure-Python layer in `python/vap/` adds the DataFrame conveniences.
//!
//! Every call runs the core with the GIL released and panics caught
//! ([`run`]); core errors map to the exception classes of [`errors`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use vap_core::io::{self, Format, LoadOptions, Manifest};
use vap_core::store::{ImportOptions, Store};
use vap_core::table::{self, TableName};
use vap_core::text::Encoding;
use vap_core::{SessionData, VapError};

mod align;
mod attribute;
mod detect;
mod errors;
mod media;

/// Runs core work without the GIL, turning panics into `VapError::Internal`.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> vap_core::Result<T> + Send,
) -> PyResult<T> {
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_py(py, e)),
        Err(payload) => {
            let msg = vap_core::error::panic_message(payload.as_ref());
            Err(errors::to_py(
                py,
                VapError::Internal(format!("panic in vap-core: {msg}")),
            ))
        }
    }
}

/// Reads JSON options or values, any error an `InvalidArgument` naming `what`.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> vap_core::Result<T> {
    serde_json::from_str(json).map_err(|e| VapError::InvalidArgument(format!("bad {what}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> vap_core::Result<String> {
    serde_json::to_string(v).map_err(|e| VapError::Internal(e.to_string()))
}

fn table_name(name: &str) -> vap_core::Result<TableName> {
    TableName::parse(name).ok_or_else(|| {
        let names: Vec<&str> = TableName::ALL.iter().map(|t| t.as_str()).collect();
        VapError::InvalidArgument(format!(
            "unknown table '{name}'; expected one of {}",
            names.join(", ")
        ))
    })
}

fn format_arg(format: &str) -> vap_core::Result<Format> {
    Format::parse(format).ok_or_else(|| {
        VapError::InvalidArgument(format!(
            "unknown format '{format}'; expected csv, jsonl or parquet"
        ))
    })
}

fn encoding_arg(encoding: &str) -> vap_core::Result<Encoding> {
    match encoding.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "gb18030" | "gbk" | "gb2312" => Ok(Encoding::Gb18030),
        other => Err(VapError::InvalidArgument(format!(
            "unknown encoding '{other}'; expected utf-8 or gb18030"
        ))),
    }
}

fn load_options(
    pseudonymize_key: Option<Vec<u8>>,
    outside_tolerance_ms: Option<i64>,
) -> LoadOptions {
    let mut o = LoadOptions {
        pseudonymize_key,
        ..Default::default()
    };
    if let Some(t) = outside_tolerance_ms {
        o.outside_tolerance_ms = t;
    }
    o
}

pub(crate) fn py_table(batch: RecordBatch) -> PyResult<PyTable> {
    let schema = batch.schema();
    PyTable::try_new(vec![batch], schema)
}

/// A validated session held in Rust.
#[pyclass(name = "Session", module = "vap._vap", frozen)]
pub(crate) struct PySession {
    pub(crate) inner: SessionData,
}

#[pymethods]
impl PySession {
    fn room_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.room))
    }

    fn session_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.session))
    }

    fn metrics_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.metrics))
    }

    fn summary_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.summary()))
    }

    fn commenters_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.commenters()))
    }

    fn gmv_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.gmv()))
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner))
    }

    /// One table as an Arrow table (times as timestamp[ms, UTC]).
    fn table(&self, py: Python<'_>, name: &str) -> PyResult<PyTable> {
        let batch = run(py, || {
            Ok(table::to_record_batch(
                &self.inner,
                table_name(name)?,
                false,
            ))
        })?;
        py_table(batch)
    }

    fn timeline(&self, py: Python<'_>, options_json: &str) -> PyResult<align::PyTimeline> {
        self.build_timeline(py, options_json)
    }

    fn estimate_transcript_offset(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        self.transcript_offset(py, options_json)
    }

    fn moments_json(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        self.scan_moments(py, options_json)
    }

    fn apply_offset(&self, py: Python<'_>, estimate_json: &str) -> PyResult<PySession> {
        self.applied_offset(py, estimate_json)
    }

    fn shift_transcript(&self, py: Python<'_>, delta_ms: i64) -> PyResult<PySession> {
        self.shifted_transcript(py, delta_ms)
    }

    fn locate_json(&self, py: Python<'_>, session_ms: i64) -> PyResult<Option<String>> {
        self.locate_at(py, session_ms)
    }

    #[pyo3(signature = (language = "auto"))]
    fn initial_prompt(&self, py: Python<'_>, language: &str) -> PyResult<Option<String>> {
        self.prompt(py, language)
    }

    fn num_rows(&self, py: Python<'_>, name: &str) -> PyResult<usize> {
        run(py, || Ok(table::row_count(&self.inner, table_name(name)?)))
    }

    #[pyo3(signature = (path, format = "csv", encoding = "utf-8"))]
    fn write_dir(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        format: &str,
        encoding: &str,
    ) -> PyResult<()> {
        run(py, || {
            io::write_dir_encoded(
                &self.inner,
                &path,
                format_arg(format)?,
                encoding_arg(encoding)?,
            )
        })
    }
}

/// Generates a synthetic room from a JSON `SimConfig`; returns the session and
/// the truth as JSON.
#[pyfunction]
fn simulate(py: Python<'_>, config_json: &str) -> PyResult<(PySession, String)> {
    let (data, truth) = run(py, || {
        let cfg: vap_core::sim::SimConfig = serde_json::from_str(config_json)
            .map_err(|e| VapError::InvalidArgument(format!("bad simulation config: {e}")))?;
        let room = vap_core::sim::simulate(&cfg)?;
        let truth = to_json(&room.truth)?;
        Ok((room.data, truth))
    })?;
    Ok((PySession { inner: data }, truth))
}

/// Loads a session directory.
#[pyfunction]
#[pyo3(signature = (path, pseudonymize_key = None, outside_tolerance_ms = None))]
fn load_dir(
    py: Python<'_>,
    path: std::path::PathBuf,
    pseudonymize_key: Option<Vec<u8>>,
    outside_tolerance_ms: Option<i64>,
) -> PyResult<(PySession, String)> {
    let (data, report) = run(py, || {
        let (d, r) = io::load_dir(&path, &load_options(pseudonymize_key, outside_tolerance_ms))?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// Builds a session from a JSON manifest and Arrow tables (any object with
/// `__arrow_c_stream__`: pandas, polars, pyarrow).
#[pyfunction]
#[pyo3(signature = (manifest_json, tables, pseudonymize_key = None, outside_tolerance_ms = None))]
fn from_tables(
    py: Python<'_>,
    manifest_json: &str,
    tables: Vec<(String, PyTable)>,
    pseudonymize_key: Option<Vec<u8>>,
    outside_tolerance_ms: Option<i64>,
) -> PyResult<(PySession, String)> {
    let inputs: Vec<(String, Vec<RecordBatch>)> = tables
        .into_iter()
        .map(|(n, t)| (n, t.into_inner().0))
        .collect();
    let (data, report) = run(py, || {
        let manifest = Manifest::from_json(std::path::Path::new("manifest"), manifest_json)?;
        let mut problems = Vec::new();
        let mut raws = Vec::new();
        for (name, batches) in &inputs {
            let t = table_name(name)?;
            raws.push((t, table::raw_from_batches(name, batches, &mut problems)));
        }
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }
        let (d, r) = io::from_raw_tables(
            manifest,
            raws,
            &load_options(pseudonymize_key, outside_tolerance_ms),
        )?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// The embedded store.
#[pyclass(name = "Store", module = "vap._vap", frozen)]
pub(crate) struct PyStore {
    pub(crate) inner: Store,
}

#[pymethods]
impl PyStore {
    #[new]
    fn new(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PyStore {
            inner: run(py, || Store::open(&path))?,
        })
    }

    #[getter]
    fn root(&self) -> std::path::PathBuf {
        self.inner.root().to_path_buf()
    }

    fn rooms_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.rooms()?))
    }

    #[pyo3(signature = (room = None))]
    fn sessions_json(&self, py: Python<'_>, room: Option<String>) -> PyResult<String> {
        run(py, || to_json(&self.inner.sessions(room.as_deref())?))
    }

    fn manifest_json(&self, py: Python<'_>, room: &str, session: &str) -> PyResult<String> {
        run(py, || to_json(&self.inner.manifest(room, session)?))
    }

    #[pyo3(signature = (session, replace = false, copy_recordings = false))]
    fn import_session(
        &self,
        py: Python<'_>,
        session: &PySession,
        replace: bool,
        copy_recordings: bool,
    ) -> PyResult<()> {
        run(py, || {
            self.inner.import(
                &session.inner,
                &ImportOptions {
                    replace,
                    copy_recordings,
                },
            )
        })
    }

    #[pyo3(signature = (path, replace = false, copy_recordings = false, pseudonymize_key = None))]
    fn import_dir(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        replace: bool,
        copy_recordings: bool,
        pseudonymize_key: Option<Vec<u8>>,
    ) -> PyResult<PySession> {
        let data = run(py, || {
            self.inner.import_dir(
                &path,
                &load_options(pseudonymize_key, None),
                &ImportOptions {
                    replace,
                    copy_recordings,
                },
            )
        })?;
        Ok(PySession { inner: data })
    }

    fn load(&self, py: Python<'_>, room: &str, session: &str) -> PyResult<PySession> {
        Ok(PySession {
            inner: run(py, || self.inner.load(room, session))?,
        })
    }

    fn room_timeline(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
    ) -> PyResult<align::PyTimeline> {
        self.build_room_timeline(py, room, options_json)
    }

    #[pyo3(signature = (room, session, path, offset_ms = None))]
    fn register_recording(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        path: std::path::PathBuf,
        offset_ms: Option<i64>,
    ) -> PyResult<String> {
        self.register(py, room, session, path, offset_ms)
    }

    #[pyo3(signature = (room, session, model, options_json, progress = None))]
    fn transcribe(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        model: std::path::PathBuf,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.transcribe_stored(py, room, session, model, options_json, progress)
    }

    fn estimate_recording_offset(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        index: usize,
        options_json: &str,
    ) -> PyResult<String> {
        self.recording_offset(py, room, session, index, options_json)
    }

    fn set_recording_offset(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        index: usize,
        offset_ms: i64,
    ) -> PyResult<PySession> {
        self.set_offset(py, room, session, index, offset_ms)
    }

    #[pyo3(signature = (room, session, session_ms, max_width = None))]
    fn still<'py>(
        &self,
        py: Python<'py>,
        room: &str,
        session: &str,
        session_ms: i64,
        max_width: Option<u32>,
    ) -> PyResult<(Bound<'py, pyo3::types::PyBytes>, String)> {
        self.still_at(py, room, session, session_ms, max_width)
    }

    fn models(&self, py: Python<'_>, room: &str) -> PyResult<Vec<String>> {
        run(py, || self.inner.models(room))
    }

    fn contains(&self, py: Python<'_>, room: &str, session: &str) -> PyResult<bool> {
        run(py, || self.inner.contains(room, session))
    }

    fn delete(&self, py: Python<'_>, room: &str, session: &str) -> PyResult<()> {
        run(py, || self.inner.delete(room, session))
    }

    fn read_table(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        name: &str,
    ) -> PyResult<PyTable> {
        let batches = run(py, || self.inner.read_table(room, session, name))?;
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => match TableName::parse(name) {
                Some(t) => t.arrow_schema(true),
                None => std::sync::Arc::new(arrow_schema::Schema::empty()),
            },
        };
        PyTable::try_new(batches, schema)
    }

    fn replace_table(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        name: &str,
        table: PyTable,
    ) -> PyResult<()> {
        let batches = table.into_inner().0;
        run(py, || {
            self.inner.replace_table(room, session, name, &batches)
        })
    }
}

/// Sets the number of threads vap uses (0 = default).
#[pyfunction]
fn set_num_threads(py: Python<'_>, n: usize) -> PyResult<()> {
    run(py, || vap_core::threads::set_num_threads(n))
}

/// Number of threads vap uses.
#[pyfunction]
fn num_threads() -> usize {
    vap_core::threads::num_threads()
}

/// Panics inside Rust on purpose (tests prove it arrives as `vap.InternalError`).
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, message: &str) -> PyResult<()> {
    run(py, || vap_core::__panic_for_tests(message))
}

/// Table names in write order.
#[pyfunction]
fn table_names() -> Vec<&'static str> {
    TableName::ALL.iter().map(|t| t.as_str()).collect()
}

#[pymodule]
fn _vap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<PySession>()?;
    m.add_class::<PyStore>()?;
    m.add_class::<align::PyTimeline>()?;
    m.add_function(wrap_pyfunction!(align::room_timeline, m)?)?;
    m.add_function(wrap_pyfunction!(align::estimate_offset, m)?)?;
    m.add_function(wrap_pyfunction!(align::asof_join, m)?)?;
    m.add_function(wrap_pyfunction!(align::fold, m)?)?;
    m.add_function(wrap_pyfunction!(align::parse_duration_ms, m)?)?;
    m.add_function(wrap_pyfunction!(align::builtin_lexicon_json, m)?)?;
    m.add_function(wrap_pyfunction!(align::lexicon_count, m)?)?;
    m.add_class::<attribute::PyAttribution>()?;
    m.add_class::<attribute::PyDecomposition>()?;
    m.add_class::<attribute::PyRoomModel>()?;
    m.add_function(wrap_pyfunction!(attribute::attribute, m)?)?;
    m.add_function(wrap_pyfunction!(attribute::default_factors_json, m)?)?;
    m.add_function(wrap_pyfunction!(attribute::attribution_timeline, m)?)?;
    m.add_function(wrap_pyfunction!(attribute::store_attribution_timeline, m)?)?;
    m.add_function(wrap_pyfunction!(align::timeline_from_columns, m)?)?;
    m.add_function(wrap_pyfunction!(detect::segment, m)?)?;
    m.add_function(wrap_pyfunction!(detect::moment_events, m)?)?;
    m.add_function(wrap_pyfunction!(detect::top_moments, m)?)?;
    m.add_class::<media::PyAudioStream>()?;
    m.add_class::<media::PyVideoIndex>()?;
    m.add_function(wrap_pyfunction!(media::probe_json, m)?)?;
    m.add_function(wrap_pyfunction!(media::decode_audio, m)?)?;
    m.add_function(wrap_pyfunction!(media::transcribe, m)?)?;
    m.add_function(wrap_pyfunction!(media::still_frame, m)?)?;
    m.add_function(wrap_pyfunction!(media::set_whisper_log, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(load_dir, m)?)?;
    m.add_function(wrap_pyfunction!(from_tables, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(table_names, m)?)?;
    m.add("AUDIO_SAMPLE_RATE", vap_core::media::SAMPLE_RATE)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
