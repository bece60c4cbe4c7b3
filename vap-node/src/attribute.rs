//! Attribution (`vap_core::attribute`): options arrive camelCase; results go
//! back as plain objects (the core's snake_case keys) and per-bin series as
//! `Float64Array`s.

use napi::bindgen_prelude::{AsyncTask, Float64Array, Uint8Array};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;
use vap_core::align::AlignOptions;
use vap_core::attribute::{self as core, AttributeOptions, Attribution, Decomposition, RoomModel};
use vap_core::detect::Moment;
use vap_core::options::Options;
use vap_core::{Ms, SessionData};

use crate::align::JsTimeline;
use crate::convert::{json_of, series_of, string_arg};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

fn attribute_options(v: Value) -> vap_core::Result<AttributeOptions> {
    AttributeOptions::from_camel_value(v)
}

/// Timeline options for attribution (camelCase): as `Session.timeline`, the
/// step the core's attribution default.
pub(crate) fn attribution_align(v: Value) -> vap_core::Result<AlignOptions> {
    Ok(core::AttributionTimelineOptions::from_camel_value(v)?.0)
}

/// Reads `{ timeline, name, ...model options }` (camelCase) by the core.
pub(crate) fn fit_request(v: Value) -> vap_core::Result<core::FitRequest> {
    core::FitRequest::from_value(v, true)
}

/// A fitted attribution model.
#[napi(js_name = "Attribution")]
pub struct JsAttribution {
    pub(crate) inner: Attribution,
}

#[napi]
impl JsAttribution {
    /// Coefficients: `{ name, role, half_life_ms, carryover_kind, saturation,
    /// value, std_error, ci_low, ci_high, boot_se, boot_low, boot_high }`.
    #[napi(getter, catch_unwind)]
    pub fn coefficients(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.coefficients))
    }

    /// Cross-validation curve `[{ penalty, error }]`.
    #[napi(getter, catch_unwind)]
    pub fn cv(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.cv))
    }

    /// Diagnostics (R², NRMSE, holdout, VIF, condition number, Durbin–Watson, warnings).
    #[napi(getter, catch_unwind)]
    pub fn diagnostics(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.diagnostics))
    }

    /// Traffic split into paid and natural where the timeline has ad spend
    /// (`null` otherwise): spend, the viewers' and entries' response with
    /// their carryover, paid GMV and ROI with intervals, the per-bin series.
    #[napi(getter, catch_unwind)]
    pub fn paid(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.paid))
    }

    /// The penalty used.
    #[napi(getter)]
    pub fn penalty(&self) -> f64 {
        self.inner.model.penalty
    }

    /// The room model (save it, apply it to new sessions).
    #[napi(getter)]
    pub fn model(&self) -> JsRoomModel {
        JsRoomModel {
            inner: self.inner.model.clone(),
        }
    }

    /// The decomposition of the fitted bins.
    #[napi(getter)]
    pub fn decomposition(&self) -> JsDecomposition {
        JsDecomposition {
            inner: self.inner.decomposition.clone(),
        }
    }
}

fn sessions_data<'a>(sessions: &'a [&'a JsSession]) -> Vec<&'a SessionData> {
    sessions.iter().map(|s| s.data.as_ref()).collect()
}

fn window_of(opts: Option<Unknown<'_>>, env: &Env) -> vap_core::Result<core::SplitOptions> {
    core::SplitOptions::from_camel_value(json_of(env, opts)?)
}

/// Per bin: `baseline + traffic + Σ factors = prediction`, exactly.
#[napi(js_name = "Decomposition")]
pub struct JsDecomposition {
    inner: Decomposition,
}

impl JsDecomposition {
    pub(crate) fn of(inner: Decomposition) -> Self {
        JsDecomposition { inner }
    }
}

#[napi]
impl JsDecomposition {
    /// Number of bins.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// The explained column.
    #[napi(getter)]
    pub fn target(&self) -> String {
        self.inner.target.clone()
    }

    /// Factor names.
    #[napi(getter)]
    pub fn factors(&self) -> Vec<String> {
        self.inner.factors.clone()
    }

    /// The decomposition as an Arrow IPC stream: `time`, `session_id`,
    /// `actual`, `prediction`, `baseline`, `traffic`, one column per factor.
    #[napi(js_name = "toArrowIpc", catch_unwind)]
    pub fn to_arrow_ipc(&self, env: Env) -> napi::Result<Uint8Array> {
        call(&env, || {
            let b = self.inner.to_record_batch()?;
            Ok(vap_core::table::ipc_stream(&b.schema(), &[b])?.into())
        })
    }

    /// Bin starts (ms).
    #[napi]
    pub fn time(&self) -> Float64Array {
        Float64Array::new(self.inner.time_ms.iter().map(|t| *t as f64).collect())
    }

    /// One series: `actual`, `prediction`, `baseline`, `traffic` or a factor
    /// (`NaN` where a bin was not usable).
    #[napi(catch_unwind)]
    pub fn column(&self, env: Env, name: Unknown<'_>) -> napi::Result<Float64Array> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let d = &self.inner;
            let v = match name.as_str() {
                "actual" => &d.actual,
                "prediction" => &d.prediction,
                "baseline" => &d.baseline,
                "traffic" => &d.traffic,
                f => d
                    .factors
                    .iter()
                    .position(|x| x == f)
                    .map(|k| &d.contributions[k])
                    .ok_or_else(|| {
                        invalid(format!(
                            "no series '{f}': actual, prediction, baseline, traffic or one of {}",
                            d.factors.join(", ")
                        ))
                    })?,
            };
            Ok(Float64Array::new(v.clone()))
        })
    }

    /// Session totals (baseline, traffic, factors, unexplained) with bootstrap intervals.
    #[napi(catch_unwind)]
    pub fn totals(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.totals()))
    }

    /// Totals inside groups of windows: `{ label: [[start, end], ...] }`.
    #[napi(catch_unwind)]
    pub fn totals_by(&self, env: Env, groups: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let v = json_of(&env, Some(groups))?;
            let g: std::collections::BTreeMap<String, Vec<(Ms, Ms)>> = serde_json::from_value(v)
                .map_err(|e| {
                    invalid(format!(
                        "groups must map labels to [[start, end], ...]: {e}"
                    ))
                })?;
            to_json!(&self.inner.totals_by(&g.into_iter().collect::<Vec<_>>()))
        })
    }

    /// Totals over each anchor's host shifts.
    #[napi(catch_unwind)]
    pub fn totals_by_anchor(&self, env: Env, sessions: Vec<&JsSession>) -> napi::Result<Value> {
        call(&env, || {
            to_json!(&self.inner.totals_by_anchor(&sessions_data(&sessions)))
        })
    }

    /// Totals per host shift (labels `"<anchor>@<start ms>"`), in time order.
    #[napi(catch_unwind)]
    pub fn totals_by_shift(&self, env: Env, sessions: Vec<&JsSession>) -> napi::Result<Value> {
        call(&env, || {
            to_json!(&self.inner.totals_by_shift(&sessions_data(&sessions)))
        })
    }

    /// Totals while each product is explained.
    #[napi(catch_unwind)]
    pub fn totals_by_product(&self, env: Env, sessions: Vec<&JsSession>) -> napi::Result<Value> {
        call(&env, || {
            to_json!(&self.inner.totals_by_product(&sessions_data(&sessions)))
        })
    }

    /// Splits a moment's excess (the moment from `session.moments()`, on this
    /// model's target) across traffic, the factors and the baseline's drift;
    /// `{ window }` is the reference window (default: the detector's,
    /// `optionDefaults('split')`).
    #[napi(catch_unwind)]
    pub fn moment(
        &self,
        env: Env,
        moment: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let m: Moment = crate::camel::from_value(json_of(&env, Some(moment))?)
                .map_err(|e| invalid(format!("not a moment: {e}")))?;
            let o = window_of(options, &env)?;
            to_json!(&self.inner.moment(&m, o.window_ms)?)
        })
    }

    /// Splits the excess of `[start, end)` (`{ excess, window }`; the excess
    /// measured against the reference window when not given).
    #[napi(catch_unwind)]
    pub fn window(
        &self,
        env: Env,
        start: f64,
        end: f64,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let o = window_of(options, &env)?;
            to_json!(&self.inner.window(
                &self.inner.target,
                start.round() as Ms,
                end.round() as Ms,
                o.excess,
                o.window_ms
            )?)
        })
    }
}

/// A fitted single-room model.
#[napi(js_name = "RoomModel")]
pub struct JsRoomModel {
    pub(crate) inner: RoomModel,
}

#[napi]
impl JsRoomModel {
    /// Reads a model from JSON text (format and version checked).
    #[napi(factory, catch_unwind)]
    pub fn from_json(env: Env, text: Unknown<'_>) -> napi::Result<JsRoomModel> {
        call(&env, || {
            let t = string_arg(&env, text, "text")?;
            Ok(JsRoomModel {
                inner: RoomModel::from_json(&t)?,
            })
        })
    }

    /// The model as JSON text.
    #[napi(catch_unwind)]
    pub fn to_json_string(&self, env: Env) -> napi::Result<String> {
        call(&env, || self.inner.to_json())
    }

    /// The model as a plain object.
    #[napi(catch_unwind)]
    pub fn to_object(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner))
    }

    /// Decomposes a timeline of the room (same step; from
    /// `attributionTimeline`) with the fitted coefficients, without refitting.
    #[napi(catch_unwind)]
    pub fn apply(&self, env: Env, timeline: &JsTimeline) -> napi::Result<JsDecomposition> {
        call(&env, || {
            Ok(JsDecomposition {
                inner: self.inner.apply(&timeline.inner)?,
            })
        })
    }
}

/// Fits the single-room attribution model on a timeline.
#[napi(catch_unwind)]
pub fn attribute(
    env: Env,
    timeline: &JsTimeline,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsAttribution> {
    call(&env, || {
        let o = attribute_options(json_of(&env, options)?)?;
        Ok(JsAttribution {
            inner: core::fit(&timeline.inner, &o)?,
        })
    })
}

/// As `attribute`, on the libuv thread pool; returns a Promise.
#[napi(catch_unwind, ts_return_type = "Promise<Attribution>")]
pub fn attribute_async(
    env: Env,
    timeline: &JsTimeline,
    options: Option<Unknown<'_>>,
) -> AsyncTask<VapTask<JsAttribution>> {
    let args =
        crate::jobs::controls(&env, options).and_then(|(o, job)| Ok((attribute_options(o)?, job)));
    let task = match args {
        Ok((o, job)) => {
            let tl = timeline.inner.clone();
            VapTask::new(move || {
                Ok(JsAttribution {
                    inner: job.run(|| core::fit(&tl, &o))?,
                })
            })
        }
        Err(e) => VapTask::failed(e),
    };
    AsyncTask::new(task)
}

/// The factors `attribute` uses when none are given.
#[napi(catch_unwind)]
pub fn default_factors(env: Env, timeline: &JsTimeline) -> napi::Result<Value> {
    call(&env, || to_json!(&core::default_factors(&timeline.inner)))
}

/// Several sessions of one room as attribution timelines, stacked (one
/// session: its attribution timeline). Options as `Session.timeline`, the
/// step 10 s by default.
#[napi(catch_unwind)]
pub fn attribution_timeline(
    env: Env,
    sessions: Vec<&JsSession>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsTimeline> {
    call(&env, || {
        let o = attribution_align(json_of(&env, options)?)?;
        let data = sessions_data(&sessions);
        let tl = if data.len() == 1 {
            core::session_timeline(data[0], &o)?
        } else {
            core::room_timeline(&data, &o)?
        };
        Ok(tl.into())
    })
}

/// A timeline of your own columns (`{ name: Float64Array | number[] }`, in
/// name order; room and session `custom`) on the grid `start + k·step`.
#[napi(catch_unwind)]
pub fn timeline_from_columns(
    env: Env,
    columns: std::collections::HashMap<String, Unknown<'_>>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsTimeline> {
    call(&env, || {
        let o = vap_core::align::ColumnsOptions::from_camel_value(json_of(&env, options)?)?;
        let mut parsed = Vec::new();
        let sorted: std::collections::BTreeMap<String, Unknown<'_>> = columns.into_iter().collect();
        for (name, v) in sorted {
            let vals = series_of(&env, &v).ok_or_else(|| {
                invalid(format!(
                    "column '{name}' must be a Float64Array or an array of numbers"
                ))
            })?;
            parsed.push((name, vals));
        }
        let tl = vap_core::align::Timeline::from_options(parsed, &o)?;
        Ok(tl.into())
    })
}

#[napi]
impl JsTimeline {
    /// Appends a column of your own (`NaN` = missing); `{ kind, unit }`.
    #[napi(catch_unwind)]
    pub fn add_column(
        &mut self,
        env: Env,
        name: Unknown<'_>,
        values: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<()> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let v = series_of(&env, &values)
                .ok_or_else(|| invalid("values must be a Float64Array or an array of numbers"))?;
            let o = vap_core::align::ColumnOptions::from_camel_value(json_of(&env, options)?)?;
            self.inner.add_column(name, v, o.kind, &o.unit)
        })
    }
}

#[napi]
impl JsSession {
    /// The timeline attribution reads: `timeline()` plus `host:<anchor>` and
    /// `price_level`. Options as `timeline`, the step 10 s by default.
    #[napi(catch_unwind)]
    pub fn attribution_timeline(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsTimeline> {
        call(&env, || {
            let o = attribution_align(json_of(&env, options)?)?;
            Ok(core::session_timeline(&self.data, &o)?.into())
        })
    }

    /// Fits the attribution model on this session: options as `attribute`,
    /// plus `timeline` (options of `attributionTimeline`).
    #[napi(catch_unwind)]
    pub fn attribute(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<JsAttribution> {
        call(&env, || {
            let r = fit_request(json_of(&env, options)?)?;
            let t = core::session_timeline(&self.data, &r.timeline.0)?;
            Ok(JsAttribution {
                inner: core::fit(&t, &r.model)?,
            })
        })
    }
}
