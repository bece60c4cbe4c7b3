//! Python bindings of vap (`vap._vap`). Converts and delegates to `vap-core`;
//! the pure-Python layer in `python/vap/` adds the DataFrame conveniences.
//!
//! Every call runs the core with the GIL released and panics caught
//! ([`run`]); core errors map to the exception classes of [`errors`].

/// mimalloc for every allocation the module makes: loading a 12-hour session
/// makes and frees millions of short strings, 0.26 s against 0.36 s with
/// glibc's allocator (README, Replays, Speed). Memory handed to the host is
/// copied, or freed by this module's own release callbacks, never by the
/// host's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options as vap-core gives them
/// ([`vap_core::threads::ALLOCATOR_OPTIONS`]: `purge_delay` 100 ms, no
/// transparent huge pages; why, with the figures, there and in the README's
/// Building notes), set when the module is loaded,
/// before it allocates. An option set in mimalloc's environment stays.
fn tune_allocator() {
    /// `mi_option_allow_thp` (vap-core's second option) is the fourth from
    /// the end of mimalloc 3's `mi_option_e`: a mimalloc whose list of
    /// options changed fails here.
    const _: () =
        assert!(libmimalloc_sys::_mi_option_last == vap_core::threads::ALLOCATOR_OPTIONS[1].0 + 4);
    for (option, env, value) in vap_core::threads::ALLOCATOR_OPTIONS {
        if std::env::var_os(env).is_none() {
            // SAFETY: sets one of mimalloc's global options; any value is valid.
            unsafe { libmimalloc_sys::mi_option_set(option, value as _) };
        }
    }
}

use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use vap_core::ingest::sources::{self, SourceFile, SourceOptions};
use vap_core::ingest::{self, Format, LoadOptions, Manifest};
use vap_core::options::Options;
use vap_core::store::{ImportOptions, Store};
use vap_core::table::{self, TableName};
use vap_core::text::Encoding;
use vap_core::{SessionData, VapError};

mod align;
mod attribute;
mod detect;
mod errors;
mod jobs;
mod live;
mod media;
mod plan;
mod replay;

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
    Encoding::parse(encoding).ok_or_else(|| {
        VapError::InvalidArgument(format!(
            "unknown encoding '{encoding}'; expected utf-8 or gb18030"
        ))
    })
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

/// A session Python frees frees its large tables on vap's threads, with the
/// GIL released: a pool thread may be waiting for the GIL (a transcription's
/// progress callback), and holding it while waiting for the pool could
/// deadlock on one thread.
impl Drop for PySession {
    fn drop(&mut self) {
        let data = &mut self.inner;
        Python::attach(|py| {
            py.detach(|| {
                // A panic must not unwind out of a destructor called by Python.
                let _ = catch_unwind(AssertUnwindSafe(|| data.free_large_tables()));
            })
        });
    }
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

    fn replay(
        &self,
        py: Python<'_>,
        options_json: &str,
        history_json: &str,
    ) -> PyResult<replay::PyReplay> {
        self.replay_of(py, options_json, history_json)
    }

    fn digest_json(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        self.digest_of(py, options_json)
    }

    fn questions_json(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        self.questions_of(py, options_json)
    }

    fn subtitles(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        self.subtitles_of(py, options_json)
    }

    fn apply_offset(&self, py: Python<'_>, estimate_json: &str) -> PyResult<PySession> {
        self.applied_offset(py, estimate_json)
    }

    /// A copy with the run-sheet (JSON) attached, or none.
    #[pyo3(signature = (sheet_json = None))]
    fn with_plan(&self, py: Python<'_>, sheet_json: Option<&str>) -> PyResult<PySession> {
        self.planned(py, sheet_json)
    }

    /// The session against its run-sheet: the review (JSON) and its items.
    fn plan_vs_actual(&self, py: Python<'_>, options_json: &str) -> PyResult<(String, PyTable)> {
        self.plan_review(py, options_json)
    }

    fn shift_transcript(&self, py: Python<'_>, delta_ms: i64) -> PyResult<PySession> {
        self.shifted_transcript(py, delta_ms)
    }

    fn locate_json(&self, py: Python<'_>, session_ms: i64) -> PyResult<Option<String>> {
        self.locate_at(py, session_ms)
    }

    #[pyo3(signature = (language = None))]
    fn initial_prompt(&self, py: Python<'_>, language: Option<&str>) -> PyResult<Option<String>> {
        self.prompt(py, language)
    }

    fn num_rows(&self, py: Python<'_>, name: &str) -> PyResult<usize> {
        run(py, || Ok(table::row_count(&self.inner, table_name(name)?)))
    }

    #[pyo3(signature = (path, format = None, encoding = None))]
    fn write_dir(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        format: Option<&str>,
        encoding: Option<&str>,
    ) -> PyResult<()> {
        run(py, || {
            let format = format.map(format_arg).transpose()?.unwrap_or_default();
            let encoding = encoding.map(encoding_arg).transpose()?.unwrap_or_default();
            ingest::write_dir_encoded(&self.inner, &path, format, encoding)
        })
    }
}

/// The defaults of an option set (`vap_core::option_defaults`), as JSON.
#[pyfunction]
fn option_defaults_json(py: Python<'_>, name: &str) -> PyResult<String> {
    run(py, || to_json(&vap_core::option_defaults(name)?))
}

/// Options of a set as the user wrote them (JSON), checked and whole
/// (`vap_core::resolve_options`), as JSON.
#[pyfunction]
fn resolve_options_json(py: Python<'_>, name: &str, options_json: &str) -> PyResult<String> {
    run(py, || {
        let v = serde_json::from_str(options_json)
            .map_err(|e| VapError::InvalidArgument(format!("{name} options: {e}")))?;
        to_json(&vap_core::resolve_options(name, v, false)?)
    })
}

/// An instant (ms, or an ISO 8601 text) in ms since the epoch.
#[pyfunction]
fn parse_instant_ms(py: Python<'_>, text: &str) -> PyResult<i64> {
    vap_core::options::parse_instant_ms(text)
        .map_err(|e| errors::to_py(py, VapError::InvalidArgument(e)))
}

/// Generates a synthetic room from a JSON `SimConfig`; returns the session and
/// the truth as JSON.
#[pyfunction]
fn simulate(py: Python<'_>, config_json: &str) -> PyResult<(PySession, String)> {
    let (data, truth) = run(py, || {
        let cfg = vap_core::sim::SimConfig::from_json(config_json)?;
        let room = vap_core::sim::simulate(&cfg)?;
        let truth = to_json(&room.truth)?;
        Ok((room.data, truth))
    })?;
    Ok((PySession { inner: data }, truth))
}

/// Loads a session directory.
#[pyfunction]
fn load_dir(
    py: Python<'_>,
    path: std::path::PathBuf,
    options_json: &str,
) -> PyResult<(PySession, String)> {
    let (data, report) = run(py, || {
        let (d, r) = ingest::load_dir(&path, &LoadOptions::from_json(options_json)?)?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// Reads one session from platform exports and capture logs: each file with
/// its format's name, or `None` to detect it. Returns the session and the
/// source report (JSON); `progress` per file.
#[pyfunction]
#[pyo3(signature = (files, options_json, progress=None))]
fn read_sources(
    py: Python<'_>,
    files: Vec<(std::path::PathBuf, Option<String>)>,
    options_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<(PySession, String)> {
    let (data, report) = jobs::run_job(py, progress, || {
        let opts = SourceOptions::from_json(options_json)?;
        let files = files
            .iter()
            .map(|(p, f)| SourceFile::named(p, f.as_deref()))
            .collect::<vap_core::Result<Vec<_>>>()?;
        let (d, r) = sources::read_sources(&files, &opts)?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// One session from a family's files by role (`compass`, `tiktok_shop`).
#[pyfunction]
fn read_family(
    py: Python<'_>,
    family: &str,
    files: Vec<(String, std::path::PathBuf)>,
    options_json: &str,
) -> PyResult<(PySession, String)> {
    let (data, report) = run(py, || {
        let opts = SourceOptions::from_json(options_json)?;
        let (d, r) = sources::read_family(family, &files, &opts)?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// One session from a capture log (Douyin or TikTokLive).
#[pyfunction]
fn read_capture_log(
    py: Python<'_>,
    path: std::path::PathBuf,
    options_json: &str,
) -> PyResult<(PySession, String)> {
    let (data, report) = run(py, || {
        let opts = SourceOptions::from_json(options_json)?;
        let (d, r) = sources::read_capture_log(&path, &opts)?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// A Compass session list: its rows and the source report (both JSON).
#[pyfunction]
fn read_compass_sessions(
    py: Python<'_>,
    path: std::path::PathBuf,
    options_json: &str,
) -> PyResult<(String, String)> {
    run(py, || {
        let opts = SourceOptions::from_json(options_json)?;
        let (rows, r) = sources::read_compass_sessions(&path, &opts)?;
        Ok((to_json(&rows)?, to_json(&r)?))
    })
}

/// The format of a source file, detected from its content.
#[pyfunction]
fn detect_source_format(py: Python<'_>, path: std::path::PathBuf) -> PyResult<String> {
    run(py, || Ok(sources::detect_format(&path)?.name().to_string()))
}

/// Builds a session from a JSON manifest and Arrow tables (any object with
/// `__arrow_c_stream__`: pandas, polars, pyarrow).
#[pyfunction]
fn from_tables(
    py: Python<'_>,
    manifest_json: &str,
    tables: Vec<(String, PyTable)>,
    options_json: &str,
) -> PyResult<(PySession, String)> {
    let inputs = batches_of(tables);
    let (data, report) = run(py, || {
        let load = LoadOptions::from_json(options_json)?;
        let (d, r) = session_of_tables(manifest_json, &inputs, &load)?;
        Ok((d, to_json(&r)?))
    })?;
    Ok((PySession { inner: data }, report))
}

/// The load and import options of an import call (JSON, as written).
fn import_options(
    options_json: &str,
) -> vap_core::Result<(LoadOptions, vap_core::store::ImportOptions)> {
    let v = serde_json::from_str(options_json)
        .map_err(|e| VapError::InvalidArgument(format!("import options: {e}")))?;
    vap_core::store::import_request(v, false)
}

fn batches_of(tables: Vec<(String, PyTable)>) -> Vec<(String, Vec<RecordBatch>)> {
    tables
        .into_iter()
        .map(|(n, t)| (n, t.into_inner().0))
        .collect()
}

/// A validated session of a JSON manifest and Arrow tables.
fn session_of_tables(
    manifest_json: &str,
    inputs: &[(String, Vec<RecordBatch>)],
    load: &LoadOptions,
) -> vap_core::Result<(SessionData, ingest::LoadReport)> {
    let manifest = Manifest::for_tables(manifest_json)?;
    let mut problems = Vec::new();
    let mut raws = Vec::new();
    for (name, batches) in inputs {
        let t = table_name(name)?;
        raws.push((t, table::raw_from_batches(name, batches, &mut problems)));
    }
    // Columns that could not be read are reported with every problem
    // validation finds in the rest.
    ingest::from_converted_tables(manifest, raws, problems, load)
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

    /// Opens a store for reading only (no lock file, no recovery, writers
    /// refused); the directory must hold a store.
    #[staticmethod]
    fn open_read_only(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PyStore {
            inner: run(py, || Store::open_read_only(&path))?,
        })
    }

    #[getter]
    fn root(&self) -> std::path::PathBuf {
        self.inner.root().to_path_buf()
    }

    #[getter]
    fn read_only(&self) -> bool {
        self.inner.read_only()
    }

    #[getter]
    fn recovered(&self) -> Vec<String> {
        self.inner.recovered().to_vec()
    }

    fn check_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.check()?))
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

    fn import_session(
        &self,
        py: Python<'_>,
        session: &PySession,
        options_json: &str,
    ) -> PyResult<()> {
        run(py, || {
            self.inner
                .import(&session.inner, &ImportOptions::from_json(options_json)?)
        })
    }

    fn import_dir(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        options_json: &str,
    ) -> PyResult<PySession> {
        let data = run(py, || {
            let (load, import) = import_options(options_json)?;
            self.inner.import_dir(&path, &load, &import)
        })?;
        Ok(PySession { inner: data })
    }

    /// Builds a session from a JSON manifest and Arrow tables and imports it
    /// (JSON options: those of loading and of importing).
    fn import_tables(
        &self,
        py: Python<'_>,
        manifest_json: &str,
        tables: Vec<(String, PyTable)>,
        options_json: &str,
    ) -> PyResult<PySession> {
        let inputs = batches_of(tables);
        let data = run(py, || {
            let (load, import) = import_options(options_json)?;
            let (d, _) = session_of_tables(manifest_json, &inputs, &load)?;
            self.inner.import(&d, &import)?;
            Ok(d)
        })?;
        Ok(PySession { inner: data })
    }

    fn load(&self, py: Python<'_>, room: &str, session: &str) -> PyResult<PySession> {
        Ok(PySession {
            inner: run(py, || self.inner.load(room, session))?,
        })
    }

    fn replay(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        options_json: &str,
    ) -> PyResult<replay::PyReplay> {
        self.replay_of(py, room, session, options_json)
    }

    /// The room's playbook from its stored sessions (JSON; `progress` per
    /// session).
    #[pyo3(signature = (room, options_json, progress=None))]
    fn playbook_json(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.playbook_of(py, room, options_json, progress)
    }

    /// The room's replay (JSON; `progress` per session).
    #[pyo3(signature = (room, options_json, progress=None))]
    fn room_replay_json(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.room_replay_of(py, room, options_json, progress)
    }

    #[pyo3(signature = (room, path, replay_json, report_json))]
    fn room_html(
        &self,
        py: Python<'_>,
        room: &str,
        path: Option<std::path::PathBuf>,
        replay_json: &str,
        report_json: &str,
    ) -> PyResult<String> {
        self.room_html_of(py, room, path, replay_json, report_json)
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
    fn still(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        session_ms: i64,
        max_width: Option<u32>,
    ) -> PyResult<media::PyStill> {
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
    run(py, || -> vap_core::Result<()> { panic!("{message}") })
}

/// Table names in write order.
#[pyfunction]
fn table_names() -> Vec<&'static str> {
    TableName::ALL.iter().map(|t| t.as_str()).collect()
}

#[pymodule]
fn _vap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tune_allocator();
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
    m.add_function(wrap_pyfunction!(attribute::fit_room_model, m)?)?;
    m.add_class::<attribute::PyRoomPlan>()?;
    m.add_class::<attribute::PyRoomFit>()?;
    m.add_function(wrap_pyfunction!(attribute::session_summary, m)?)?;
    m.add_function(wrap_pyfunction!(attribute::fit_room_model_by_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(option_defaults_json, m)?)?;
    m.add("OPTION_SETS", vap_core::OPTION_SETS.to_vec())?;
    m.add_function(wrap_pyfunction!(resolve_options_json, m)?)?;
    m.add_function(wrap_pyfunction!(parse_instant_ms, m)?)?;
    m.add_function(wrap_pyfunction!(align::timeline_from_columns, m)?)?;
    m.add_function(wrap_pyfunction!(detect::segment, m)?)?;
    m.add_function(wrap_pyfunction!(detect::moment_events, m)?)?;
    m.add_function(wrap_pyfunction!(detect::top_moments, m)?)?;
    m.add_class::<replay::PyReplay>()?;
    m.add_function(wrap_pyfunction!(replay::question_kind, m)?)?;
    m.add_function(wrap_pyfunction!(replay::replay_tables, m)?)?;
    m.add_class::<media::PyAudioStream>()?;
    m.add_class::<media::PyVideoIndex>()?;
    m.add_class::<media::PyAudioChunks>()?;
    m.add_class::<media::PyStill>()?;
    m.add_function(wrap_pyfunction!(media::probe_json, m)?)?;
    m.add_function(wrap_pyfunction!(media::clip_json, m)?)?;
    m.add_function(wrap_pyfunction!(media::cli, m)?)?;
    m.add_function(wrap_pyfunction!(media::decode_audio, m)?)?;
    m.add_function(wrap_pyfunction!(media::transcribe, m)?)?;
    m.add_function(wrap_pyfunction!(media::still_frame, m)?)?;
    m.add_function(wrap_pyfunction!(media::set_whisper_log, m)?)?;
    m.add_class::<live::PyLiveSession>()?;
    m.add_class::<live::PyCaptureFollower>()?;
    m.add_function(wrap_pyfunction!(live::live_feed, m)?)?;
    m.add_function(wrap_pyfunction!(plan::read_run_sheet, m)?)?;
    m.add_function(wrap_pyfunction!(plan::read_run_sheet_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(plan::run_sheet_csv, m)?)?;
    m.add_function(wrap_pyfunction!(plan::playbook, m)?)?;
    m.add_function(wrap_pyfunction!(plan::playbook_html, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(load_dir, m)?)?;
    m.add_function(wrap_pyfunction!(from_tables, m)?)?;
    m.add_function(wrap_pyfunction!(read_sources, m)?)?;
    m.add_function(wrap_pyfunction!(read_compass_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(read_family, m)?)?;
    m.add_function(wrap_pyfunction!(read_capture_log, m)?)?;
    m.add_function(wrap_pyfunction!(detect_source_format, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(table_names, m)?)?;
    m.add(
        "TABLE_NAMES",
        pyo3::types::PyTuple::new(m.py(), TableName::names())?,
    )?;
    m.add("AUDIO_SAMPLE_RATE", vap_core::media::SAMPLE_RATE)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
