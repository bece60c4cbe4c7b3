//! Python bindings of `vap_core::live`: a live session and a capture-log
//! follower. Events and results cross as JSON; the timeline, the session and
//! the decomposition as the module's own classes.

use std::sync::Mutex;

use pyo3::prelude::*;
use vap_core::live::{self, CaptureFollower, FollowOptions, LiveOptions, LiveSession};
use vap_core::options::Options;
use vap_core::VapError;

use crate::align::PyTimeline;
use crate::attribute::{PyDecomposition, PyRoomModel};
use crate::{run, to_json, PySession};

fn lock<T>(m: &Mutex<T>) -> vap_core::Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| VapError::Internal("a live session panicked while updating".into()))
}

/// A live session held in Rust.
#[pyclass(name = "LiveSession", module = "vap._vap", frozen)]
pub(crate) struct PyLiveSession {
    inner: Mutex<LiveSession>,
}

#[pymethods]
impl PyLiveSession {
    #[new]
    #[pyo3(signature = (header, options_json, model=None))]
    fn new(
        py: Python<'_>,
        header: PyRef<'_, PySession>,
        options_json: &str,
        model: Option<PyRef<'_, PyRoomModel>>,
    ) -> PyResult<Self> {
        let model = model.map(|m| m.inner.clone());
        let header = &header.inner;
        let inner = run(py, || {
            LiveSession::new(header, LiveOptions::from_json(options_json)?, model)
        })?;
        Ok(PyLiveSession {
            inner: Mutex::new(inner),
        })
    }

    /// Appends events given as JSON (one object or an array); returns the
    /// update as JSON.
    fn append_json(&self, py: Python<'_>, events_json: &str) -> PyResult<String> {
        run(py, || {
            to_json(&lock(&self.inner)?.append_json(events_json)?)
        })
    }

    /// Moves the watermark (a heartbeat); returns the update as JSON.
    fn advance(&self, py: Python<'_>, now_ms: i64) -> PyResult<String> {
        run(py, || to_json(&lock(&self.inner)?.advance(now_ms)?))
    }

    /// Reads what a follower's log gained and appends it.
    fn follow(&self, py: Python<'_>, follower: PyRef<'_, PyCaptureFollower>) -> PyResult<String> {
        let f = &follower.inner;
        run(py, || {
            let mut f = lock(f)?;
            to_json(&lock(&self.inner)?.follow(&mut f)?)
        })
    }

    fn timeline(&self, py: Python<'_>) -> PyResult<PyTimeline> {
        let tl = run(py, || Ok(lock(&self.inner)?.timeline().clone()))?;
        Ok(PyTimeline::new(tl))
    }

    fn moments_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&lock(&self.inner)?.moments()))
    }

    fn alerts_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&lock(&self.inner)?.alerts()))
    }

    fn decomposition(&self, py: Python<'_>) -> PyResult<Option<PyDecomposition>> {
        let d = run(py, || Ok(lock(&self.inner)?.decomposition().cloned()))?;
        Ok(d.map(|inner| PyDecomposition { inner }))
    }

    fn data(&self, py: Python<'_>) -> PyResult<PySession> {
        let inner = run(py, || Ok(lock(&self.inner)?.data()))?;
        Ok(PySession { inner })
    }

    /// `[watermark or None, step, dropped text rows]`.
    fn state(&self, py: Python<'_>) -> PyResult<(Option<i64>, i64, usize)> {
        run(py, || {
            let l = lock(&self.inner)?;
            Ok((l.watermark_ms(), l.step_ms(), l.dropped_text()))
        })
    }

    fn options_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(lock(&self.inner)?.options()))
    }
}

/// A capture-log follower held in Rust.
#[pyclass(name = "CaptureFollower", module = "vap._vap", frozen)]
pub(crate) struct PyCaptureFollower {
    inner: Mutex<CaptureFollower>,
}

#[pymethods]
impl PyCaptureFollower {
    #[new]
    fn new(py: Python<'_>, path: std::path::PathBuf, options_json: &str) -> PyResult<Self> {
        let inner = run(py, || {
            CaptureFollower::open(&path, FollowOptions::from_json(options_json)?)
        })?;
        Ok(PyCaptureFollower {
            inner: Mutex::new(inner),
        })
    }

    /// The events in the lines appended since the last poll, as JSON.
    fn poll_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&lock(&self.inner)?.poll()?))
    }

    /// `[lines read, lines skipped, repeats dropped]`.
    fn counts(&self, py: Python<'_>) -> PyResult<(usize, usize, usize)> {
        run(py, || {
            let f = lock(&self.inner)?;
            let (s, r) = f.skipped();
            Ok((f.lines(), s, r))
        })
    }
}

/// A session's rows as live events in arrival order (JSON), or in batches
/// of `every_ms` of stream.
#[pyfunction]
#[pyo3(signature = (session, every_ms=None))]
pub(crate) fn live_feed(
    py: Python<'_>,
    session: PyRef<'_, PySession>,
    every_ms: Option<i64>,
) -> PyResult<String> {
    let d = &session.inner;
    run(py, || match every_ms {
        Some(ms) => to_json(&live::feed_batches(d, ms)?),
        None => to_json(&live::feed(d)),
    })
}
