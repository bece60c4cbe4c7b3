//! Python bindings of `vap_core::detect`: change points and moments. Options
//! and results cross as JSON; the Python layer builds typed objects.

use pyo3::prelude::*;
use vap_core::detect::{self, DetectOptions, EventOptions, Moment, SegmentOptions, TopOptions};
use vap_core::options::Options;

use crate::{parse, run, to_json, PySession};

impl PySession {
    /// Moments of the session (JSON `DetectOptions` in, JSON moments out).
    pub(crate) fn scan_moments(&self, py: Python<'_>, options_json: &str) -> PyResult<String> {
        run(py, || {
            let o = DetectOptions::from_json(options_json)?;
            to_json(&detect::moments(&self.inner, &o)?)
        })
    }
}

/// Change points of a series (JSON `SegmentOptions`: method, cost, penalty,
/// min_size); returns the JSON `Segmentation`.
#[pyfunction]
pub(crate) fn segment(py: Python<'_>, x: Vec<f64>, options_json: &str) -> PyResult<String> {
    run(py, || {
        let o = SegmentOptions::from_json(options_json)?;
        to_json(&detect::segment(&x, &o)?)
    })
}

/// Groups moments (JSON) into events (JSON; JSON `EventOptions`).
#[pyfunction]
pub(crate) fn moment_events(
    py: Python<'_>,
    moments_json: &str,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        let m: Vec<Moment> = parse("moments", moments_json)?;
        let o = EventOptions::from_json(options_json)?;
        to_json(&detect::events(&m, o.gap_ms))
    })
}

/// The top moments (JSON; JSON `TopOptions`: `k`, `metric`), of one metric by
/// absolute excess or across metrics by share.
#[pyfunction]
pub(crate) fn top_moments(
    py: Python<'_>,
    moments_json: &str,
    options_json: &str,
) -> PyResult<String> {
    run(py, || {
        let m: Vec<Moment> = parse("moments", moments_json)?;
        let o = TopOptions::from_json(options_json)?;
        to_json(&detect::top_k(&m, o.metric.as_deref(), o.k))
    })
}
