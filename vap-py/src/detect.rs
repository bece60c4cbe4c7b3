//! Python bindings of `vap_core::detect`: change points and moments. Options
//! and results cross as JSON; the Python layer builds typed objects.

use pyo3::prelude::*;
use vap_core::detect::{self, Cost, DetectOptions, Moment, Penalty};
use vap_core::VapError;

use crate::{parse, run, to_json, PySession};

fn cost_arg(cost: &str) -> vap_core::Result<Cost> {
    match cost {
        "l2" => Ok(Cost::L2),
        "normal" => Ok(Cost::NormalMeanVar),
        "poisson" => Ok(Cost::Poisson),
        other => Err(VapError::InvalidArgument(format!(
            "unknown cost '{other}'; expected l2, normal or poisson"
        ))),
    }
}

impl PySession {
    /// Moments of the session (JSON `DetectOptions` in, JSON moments out).
    pub(crate) fn scan_moments(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o: DetectOptions = parse("moment options", options_json)?;
            to_json(&detect::scan(&self.inner, &o)?)
        })
    }
}

/// Change points of a series: `method` is pelt, dynp or binseg; returns the
/// JSON `Segmentation`.
#[pyfunction]
pub(crate) fn segment(
    py: Python<'_>,
    x: Vec<f64>,
    method: &str,
    cost: &str,
    penalty_json: &str,
    min_size: usize,
) -> PyResult<String> {
    run(py, || {
        let c = cost_arg(cost)?;
        let p: Penalty = parse("penalty", penalty_json)?;
        let f = match method {
            "pelt" => detect::pelt,
            "dynp" => detect::dynp,
            "binseg" => detect::binseg,
            other => {
                return Err(VapError::InvalidArgument(format!(
                    "unknown method '{other}'; expected pelt, dynp or binseg"
                )))
            }
        };
        to_json(&f(&x, c, p, min_size)?)
    })
}

/// Groups moments (JSON) into events (JSON).
#[pyfunction]
pub(crate) fn moment_events(py: Python<'_>, moments_json: &str, gap_ms: i64) -> PyResult<String> {
    run(py, || {
        let m: Vec<Moment> = parse("moments", moments_json)?;
        to_json(&detect::events(&m, gap_ms))
    })
}

/// The top `k` moments (JSON), of one metric by absolute excess or across
/// metrics by share.
#[pyfunction]
#[pyo3(signature = (moments_json, k, metric = None))]
pub(crate) fn top_moments(
    py: Python<'_>,
    moments_json: &str,
    k: usize,
    metric: Option<String>,
) -> PyResult<String> {
    run(py, || {
        let m: Vec<Moment> = parse("moments", moments_json)?;
        to_json(&detect::top_k(&m, metric.as_deref(), k))
    })
}
