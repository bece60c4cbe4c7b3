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
            let plan = sheet_json.map(sheet_of).transpose()?;
            // Resolving checks the sheet against this session now, not at
            // the replay.
            if let Some(p) = &plan {
                p.resolve(&self.inner)?;
            }
            let mut d = self.inner.clone();
            d.session.plan = plan;
            Ok(d)
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
