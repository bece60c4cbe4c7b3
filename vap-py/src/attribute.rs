//! Python bindings of `vap_core::attribute`: fits, decompositions and room
//! models. Options and small results cross as JSON; per-bin series as Arrow.

use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use vap_core::attribute::{self as core, AttributeOptions, Attribution, Decomposition, RoomModel};
use vap_core::detect::Moment;
use vap_core::options::Options;
use vap_core::{Ms, SessionData};

use crate::align::PyTimeline;
use crate::jobs::run_job;
use crate::{parse, py_table, run, to_json, PySession, PyStore};

/// A fitted attribution model.
#[pyclass(name = "Attribution", module = "vap._vap", frozen)]
pub(crate) struct PyAttribution {
    inner: Attribution,
}

#[pymethods]
impl PyAttribution {
    fn coefficients_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.coefficients))
    }

    fn cv_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.cv))
    }

    fn diagnostics_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.diagnostics))
    }

    fn paid_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.paid))
    }

    fn model(&self) -> PyRoomModel {
        PyRoomModel {
            inner: self.inner.model.clone(),
        }
    }

    fn decomposition(&self) -> PyDecomposition {
        PyDecomposition {
            inner: self.inner.decomposition.clone(),
        }
    }
}

/// A per-bin decomposition.
#[pyclass(name = "Decomposition", module = "vap._vap", frozen)]
pub(crate) struct PyDecomposition {
    pub(crate) inner: Decomposition,
}

fn sessions_of<'a>(sessions: &'a [PyRef<'_, PySession>]) -> Vec<&'a SessionData> {
    sessions.iter().map(|s| &s.inner).collect()
}

#[pymethods]
impl PyDecomposition {
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn target(&self) -> String {
        self.inner.target.clone()
    }

    fn factors(&self) -> Vec<String> {
        self.inner.factors.clone()
    }

    fn to_arrow(&self, py: Python<'_>) -> PyResult<PyTable> {
        let batch = run(py, || self.inner.to_record_batch())?;
        py_table(batch)
    }

    fn totals_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || to_json(&self.inner.totals()))
    }

    fn totals_by_json(&self, py: Python<'_>, groups_json: &str) -> PyResult<String> {
        run(py, || {
            let g: Vec<(String, Vec<(Ms, Ms)>)> = parse("groups", groups_json)?;
            to_json(&self.inner.totals_by(&g))
        })
    }

    fn totals_by_anchor_json(
        &self,
        py: Python<'_>,
        sessions: Vec<PyRef<'_, PySession>>,
    ) -> PyResult<String> {
        let data = sessions_of(&sessions);
        run(py, || to_json(&self.inner.totals_by_anchor(&data)))
    }

    fn totals_by_shift_json(
        &self,
        py: Python<'_>,
        sessions: Vec<PyRef<'_, PySession>>,
    ) -> PyResult<String> {
        let data = sessions_of(&sessions);
        run(py, || to_json(&self.inner.totals_by_shift(&data)))
    }

    fn totals_by_product_json(
        &self,
        py: Python<'_>,
        sessions: Vec<PyRef<'_, PySession>>,
    ) -> PyResult<String> {
        let data = sessions_of(&sessions);
        run(py, || to_json(&self.inner.totals_by_product(&data)))
    }

    fn moments_json(
        &self,
        py: Python<'_>,
        moments_json: &str,
        options_json: &str,
    ) -> PyResult<String> {
        run(py, || {
            let m: Vec<Moment> = parse("moments", moments_json)?;
            let o = core::SplitOptions::from_json(options_json)?;
            let out = m
                .iter()
                .filter(|m| m.metric == self.inner.target)
                .map(|m| self.inner.moment(m, o.window_ms))
                .collect::<vap_core::Result<Vec<_>>>()?;
            to_json(&out)
        })
    }

    fn window_json(
        &self,
        py: Python<'_>,
        start_ms: Ms,
        end_ms: Ms,
        options_json: &str,
    ) -> PyResult<String> {
        run(py, || {
            let o = core::SplitOptions::from_json(options_json)?;
            to_json(&self.inner.window(
                &self.inner.target,
                start_ms,
                end_ms,
                o.excess,
                o.window_ms,
            )?)
        })
    }
}

/// A fitted single-room model.
#[pyclass(name = "RoomModel", module = "vap._vap", frozen)]
pub(crate) struct PyRoomModel {
    pub(crate) inner: RoomModel,
}

#[pymethods]
impl PyRoomModel {
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<PyRoomModel> {
        Ok(PyRoomModel {
            inner: run(py, || RoomModel::from_json(text))?,
        })
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || self.inner.to_json())
    }

    fn apply(&self, py: Python<'_>, timeline: PyRef<'_, PyTimeline>) -> PyResult<PyDecomposition> {
        let tl = &timeline.inner;
        Ok(PyDecomposition {
            inner: run(py, || self.inner.apply(tl))?,
        })
    }

    fn save(&self, py: Python<'_>, store: PyRef<'_, PyStore>, name: &str) -> PyResult<()> {
        let s = &store.inner;
        run(py, || self.inner.save(s, name))
    }

    #[staticmethod]
    fn load(
        py: Python<'_>,
        store: PyRef<'_, PyStore>,
        room: &str,
        name: &str,
    ) -> PyResult<PyRoomModel> {
        let s = &store.inner;
        Ok(PyRoomModel {
            inner: run(py, || RoomModel::load(s, room, name))?,
        })
    }
}

/// Fits the model on a timeline (JSON `AttributeOptions`); `progress(stage,
/// done, total)` is called as the bootstrap goes (Ctrl-C stops it).
#[pyfunction]
#[pyo3(signature = (timeline, options_json, progress=None))]
pub(crate) fn attribute(
    py: Python<'_>,
    timeline: PyRef<'_, PyTimeline>,
    options_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyAttribution> {
    let tl = &timeline.inner;
    Ok(PyAttribution {
        inner: run_job(py, progress, || {
            let o = AttributeOptions::from_json(options_json)?;
            core::fit(tl, &o)
        })?,
    })
}

/// The default factors of a timeline (JSON).
#[pyfunction]
pub(crate) fn default_factors_json(
    py: Python<'_>,
    timeline: PyRef<'_, PyTimeline>,
) -> PyResult<String> {
    let tl = &timeline.inner;
    run(py, || to_json(&core::default_factors(tl)))
}

/// Attribution timelines: one session's, several sessions' stacked, or a
/// stored room's.
#[pyfunction]
pub(crate) fn attribution_timeline(
    py: Python<'_>,
    sessions: Vec<PyRef<'_, PySession>>,
    options_json: &str,
) -> PyResult<PyTimeline> {
    let data = sessions_of(&sessions);
    let inner = run(py, || {
        let o = core::AttributionTimelineOptions::from_json(options_json)?.0;
        if data.len() == 1 {
            core::session_timeline(data[0], &o)
        } else {
            core::room_timeline(&data, &o)
        }
    })?;
    Ok(PyTimeline::new(inner))
}

/// A stored room's attribution timeline (`progress` per session).
#[pyfunction]
#[pyo3(signature = (store, room, options_json, progress=None))]
pub(crate) fn store_attribution_timeline(
    py: Python<'_>,
    store: PyRef<'_, PyStore>,
    room: &str,
    options_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyTimeline> {
    let s = &store.inner;
    let inner = run_job(py, progress, || {
        let o = core::AttributionTimelineOptions::from_json(options_json)?.0;
        core::store_room_timeline(s, room, &o)
    })?;
    Ok(PyTimeline::new(inner))
}

/// Fits a stored room's model (JSON: `timeline`, `name` and the model's
/// options; see `vap_core::attribute::FitRequest`) and saves it when named
/// (`progress` per session, then per bootstrap replicate).
#[pyfunction]
#[pyo3(signature = (store, room, request_json, progress=None))]
pub(crate) fn fit_room_model(
    py: Python<'_>,
    store: PyRef<'_, PyStore>,
    room: &str,
    request_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyAttribution> {
    let s = &store.inner;
    Ok(PyAttribution {
        inner: run_job(py, progress, || {
            let v = serde_json::from_str(request_json).map_err(|e| {
                vap_core::VapError::InvalidArgument(format!("attribution options: {e}"))
            })?;
            core::fit_room(s, room, &core::FitRequest::from_value(v, false)?)
        })?,
    })
}

/// A session's summary for a room plan (JSON), from its attribution
/// timeline; `options_json` are the model's options (the target).
#[pyfunction]
pub(crate) fn session_summary(
    py: Python<'_>,
    timeline: PyRef<'_, PyTimeline>,
    options_json: &str,
) -> PyResult<String> {
    let tl = &timeline.inner;
    run(py, || {
        let o = AttributeOptions::from_json(options_json)?;
        core::SessionSummary::of(tl, &o)?.to_json()
    })
}

/// A room's fit planned from its sessions' summaries
/// (`vap_core::attribute::RoomPlan`).
#[pyclass(name = "RoomPlan", module = "vap._vap", frozen)]
pub(crate) struct PyRoomPlan {
    inner: core::RoomPlan,
}

#[pymethods]
impl PyRoomPlan {
    /// Plans the fit from the sessions' summaries (JSON each) under the
    /// model's options (JSON).
    #[staticmethod]
    fn new(py: Python<'_>, summaries: Vec<String>, options_json: &str) -> PyResult<PyRoomPlan> {
        Ok(PyRoomPlan {
            inner: run(py, || {
                let o = AttributeOptions::from_json(options_json)?;
                let s = summaries
                    .iter()
                    .map(|t| core::SessionSummary::from_json(t))
                    .collect::<vap_core::Result<Vec<_>>>()?;
                core::RoomPlan::new(&s, &o)
            })?,
        })
    }

    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<PyRoomPlan> {
        Ok(PyRoomPlan {
            inner: run(py, || core::RoomPlan::from_json(text))?,
        })
    }

    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || self.inner.to_json())
    }

    /// One session's statistics, in their binary form.
    fn gram<'py>(
        &self,
        py: Python<'py>,
        timeline: PyRef<'_, PyTimeline>,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let tl = &timeline.inner;
        let b = run(py, || self.inner.gram(tl)?.to_bytes())?;
        Ok(pyo3::types::PyBytes::new(py, &b))
    }

    /// The room's model from every session's statistics.
    #[pyo3(signature = (grams, progress=None))]
    fn fit(
        &self,
        py: Python<'_>,
        grams: Vec<Bound<'_, pyo3::types::PyBytes>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyRoomFit> {
        let grams: Vec<Vec<u8>> = grams.iter().map(|b| b.as_bytes().to_vec()).collect();
        Ok(PyRoomFit {
            inner: run_job(py, progress, move || {
                // Each blob is dropped once read.
                let g = grams
                    .into_iter()
                    .map(|b| core::SessionGram::from_bytes(&b))
                    .collect::<vap_core::Result<Vec<_>>>()?;
                self.inner.fit(g)
            })?,
        })
    }
}

/// A room model fitted from per-session statistics
/// (`vap_core::attribute::RoomFit`).
#[pyclass(name = "RoomFit", module = "vap._vap", frozen)]
pub(crate) struct PyRoomFit {
    inner: core::RoomFit,
}

#[pymethods]
impl PyRoomFit {
    fn model(&self) -> PyRoomModel {
        PyRoomModel {
            inner: self.inner.model.clone(),
        }
    }

    /// Everything but the model, as JSON.
    fn fit_json(&self, py: Python<'_>) -> PyResult<String> {
        run(py, || {
            let mut v = serde_json::to_value(&self.inner)
                .map_err(|e| vap_core::VapError::Internal(format!("serialising: {e}")))?;
            if let Some(m) = v.as_object_mut() {
                m.remove("model");
            }
            to_json(&v)
        })
    }
}

/// Fits a stored room's model from per-session statistics (the request as
/// `fit_room_model`'s), saving it when named.
#[pyfunction]
#[pyo3(signature = (store, room, request_json, progress=None))]
pub(crate) fn fit_room_model_by_sessions(
    py: Python<'_>,
    store: PyRef<'_, PyStore>,
    room: &str,
    request_json: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyRoomFit> {
    let s = &store.inner;
    Ok(PyRoomFit {
        inner: run_job(py, progress, || {
            let v = serde_json::from_str(request_json).map_err(|e| {
                vap_core::VapError::InvalidArgument(format!("attribution options: {e}"))
            })?;
            core::fit_room_by_sessions(s, room, &core::FitRequest::from_value(v, false)?)
        })?,
    })
}
