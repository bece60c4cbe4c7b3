//! Python bindings of `vap_core::plan`: run-sheets and plan vs actual, as
//! JSON (the review's items also as Arrow).

use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use vap_core::options::Options;
use vap_core::plan::{self, PlanOptions, RunSheet, RunSheetOptions};
use vap_core::VapError;

use crate::{py_table, run, to_json, PySession};

fn sheet_of(json: &str) -> vap_core::Result<RunSheet> {
    serde_json::from_str(json)
        .map_err(|e| VapError::InvalidArgument(format!("not a vap run-sheet: {e}")))
}

/// Reads a run-sheet file (CSV, XLSX, JSON); returns its JSON.
#[pyfunction]
pub(crate) fn read_run_sheet(
    py: Python<'_>,
    path: std::path::PathBuf,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        to_json(&plan::read_run_sheet(
            &path,
            &RunSheetOptions::from_json(options_json)?,
        )?)
    })
}

/// Reads a run-sheet from bytes (`name` for messages and its extension).
#[pyfunction]
pub(crate) fn read_run_sheet_bytes(
    py: Python<'_>,
    name: &str,
    data: Vec<u8>,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        to_json(&plan::read_run_sheet_bytes(
            name,
            &data,
            &RunSheetOptions::from_json(options_json)?,
        )?)
    })
}

/// A run-sheet (JSON) as CSV text.
#[pyfunction]
pub(crate) fn run_sheet_csv(py: Python<'_>, sheet_json: &str) -> PyResult<String> {
    run(py, || Ok(sheet_of(sheet_json)?.to_csv()))
}

impl PySession {
    pub(crate) fn planned(&self, py: Python<'_>, sheet_json: Option<&str>) -> PyResult<PySession> {
        let data = run(py, || {
            self.inner.with_plan(sheet_json.map(sheet_of).transpose()?)
        })?;
        Ok(PySession { inner: data })
    }

    pub(crate) fn plan_review(
        &self,
        py: Python<'_>,
        options_json: &str,
    ) -> PyResult<(String, PyTable)> {
        let (json, batch) = run(py, || {
            let r = plan::compare(&self.inner, &PlanOptions::from_json(options_json)?)?;
            Ok((r.to_json()?, r.table()?))
        })?;
        Ok((json, py_table(batch)?))
    }
}

/// A room's playbook from its sessions (JSON out).
#[pyfunction]
pub(crate) fn playbook(
    py: Python<'_>,
    sessions: Vec<PyRef<'_, PySession>>,
    options_json: &str,
) -> PyResult<String> {
    let data: Vec<&vap_core::SessionData> = sessions.iter().map(|s| &s.inner).collect();
    run(py, || {
        to_json(&plan::playbook(
            &data,
            &plan::PlaybookOptions::from_json(options_json)?,
        )?)
    })
}

impl crate::PyStore {
    pub(crate) fn playbook_of(
        &self,
        py: Python<'_>,
        room: &str,
        options_json: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        crate::jobs::run_job(py, progress, || {
            to_json(&plan::store_playbook(
                &self.inner,
                room,
                &plan::PlaybookOptions::from_json(options_json)?,
            )?)
        })
    }
}

/// A playbook (JSON) as its HTML page (report options as JSON).
#[pyfunction]
pub(crate) fn playbook_html(
    py: Python<'_>,
    playbook_json: &str,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        let p: plan::Playbook = serde_json::from_str(playbook_json)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap playbook: {e}")))?;
        vap_core::report::playbook_html(
            &p,
            &vap_core::report::ReportOptions::from_json(options_json)?,
        )
    })
}
