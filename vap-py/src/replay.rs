//! Python bindings of `vap_core::replay` and `vap_core::align::questions`: a
//! native `Replay` that keeps the core's object (its tables cross as Arrow),
//! options and plain data as JSON.

use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use vap_core::align::{self, QuestionOptions};
use vap_core::options::Options;
use vap_core::replay::{self, Replay, ReplayOptions, Role, SessionDigest, SubtitleOptions};
use vap_core::report::{self, ReportOptions};

use crate::{parse, py_table, run, to_json, PySession, PyStore};

/// A replay held in Rust.
#[pyclass(name = "Replay", module = "vap._vap", frozen)]
pub(crate) struct PyReplay {
    pub(crate) inner: Replay,
}

#[pymethods]
impl PyReplay {
    /// The whole replay as JSON (every question is in `table("questions")`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || self.inner.to_json())
    }

    /// One role's view ("operator", "anchor", "field_control") as JSON.
    fn view_json(&self, py: Python<'_>, role: &str) -> PyResult<String> {
        run(py, || to_json(&self.inner.view(Role::parse(role)?)?))
    }

    /// Table `name` as Arrow.
    fn table(&self, py: Python<'_>, name: &str) -> PyResult<PyTable> {
        let batch = run(py, || self.inner.table(name))?;
        py_table(batch)
    }

    /// The report as HTML (`vap_core::report::html`; options as JSON).
    fn html(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = ReportOptions::from_json(options_json)?;
            report::html(&self.inner, &o)
        })
    }

    /// Writes the report to `path`, whole or not at all.
    fn write_html(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        options_json: &str,
    ) -> PyResult<()> {
        run(py, || {
            let o = ReportOptions::from_json(options_json)?;
            report::write_html(&self.inner, &path, &o)
        })
    }

    /// Cuts the top moments out of their recordings into `out_dir` with a
    /// manifest (`vap_core::report::moment_clips`); the entries as JSON.
    fn clips(
        &self,
        py: Python<'_>,
        out_dir: std::path::PathBuf,
        options_json: &str,
    ) -> PyResult<String> {
        run(py, || {
            let o = vap_core::report::ClipOptions::from_json(options_json)?;
            to_json(&vap_core::report::moment_clips(&self.inner, &out_dir, &o)?)
        })
    }

    /// Writes every table as CSV or Parquet into `dir`; returns the paths.
    fn write_tables(
        &self,
        py: Python<'_>,
        dir: std::path::PathBuf,
        format: &str,
    ) -> PyResult<Vec<std::path::PathBuf>> {
        run(py, || self.inner.write_tables(&dir, format))
    }
}

impl PySession {
    pub(crate) fn replay_of(
        &self,
        py: Python<'_>,
        options_json: &str,
        history_json: &str,
    ) -> PyResult<PyReplay> {
        let inner = run(py, || {
            let o = ReplayOptions::from_json(options_json)?;
            let h: Vec<SessionDigest> = parse("history", history_json)?;
            replay::replay(&self.inner, &h, &o)
        })?;
        Ok(PyReplay { inner })
    }

    pub(crate) fn digest_of(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = QuestionOptions::from_json(options_json)?;
            let q = align::questions(&self.inner, &o)?;
            to_json(&replay::digest(&self.inner, &q))
        })
    }

    pub(crate) fn questions_of(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = QuestionOptions::from_json(options_json)?;
            to_json(&align::questions(&self.inner, &o)?)
        })
    }

    pub(crate) fn subtitles_of(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = SubtitleOptions::from_json(options_json)?;
            replay::subtitles(&self.inner, &o)
        })
    }
}

impl PyStore {
    pub(crate) fn replay_of(
        &self,
        py: Python<'_>,
        room: &str,
        session: &str,
        options_json: &str,
    ) -> PyResult<PyReplay> {
        let inner = run(py, || {
            let o = ReplayOptions::from_json(options_json)?;
            replay::from_store(&self.inner, room, session, &o)
        })?;
        Ok(PyReplay { inner })
    }

    pub(crate) fn room_replay_of(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        crate::jobs::run_job(py, progress, || {
            let o = ReplayOptions::from_json(options_json)?;
            to_json(&replay::room(&self.inner, room, &o)?)
        })
    }

    /// The room's report (`vap_core::report::room_html`), written to `path`
    /// when given; returns the page.
    pub(crate) fn room_html_of(
        &self,
        py: Python<'_>,
        room: &str,
        path: Option<std::path::PathBuf>,
        replay_json: &str,
        report_json: &str,
    ) -> PyResult<String> {
        run(py, || {
            let ro = ReplayOptions::from_json(replay_json)?;
            let o = ReportOptions::from_json(report_json)?;
            match path {
                Some(p) => {
                    report::write_store_room_html(&self.inner, room, &p, &ro, &o)?;
                    std::fs::read_to_string(&p).map_err(|e| vap_core::VapError::io(&p, e))
                }
                None => report::store_room_html(&self.inner, room, &ro, &o),
            }
        })
    }
}

/// The kind of question a comment asks ("price", ...), or `None`.
#[pyfunction]
pub(crate) fn question_kind(text: &str) -> Option<&'static str> {
    align::question_kind(text).map(|k| k.as_str())
}

/// The names of the replay tables.
#[pyfunction]
pub(crate) fn replay_tables() -> Vec<&'static str> {
    replay::TABLES.to_vec()
}
