//! The room model fitted from per-session statistics
//! (`vap_core::attribute::{SessionSummary, RoomPlan, SessionGram, RoomFit}`):
//! summaries as JSON text, statistics as `Buffer`s, so that each pass runs
//! wherever the sessions are (worker threads, other processes, other hosts).

use napi::bindgen_prelude::{AsyncTask, Buffer, FromNapiValue, Uint8Array};
use napi::{Env, JsValue, Unknown, ValueType};
use napi_derive::napi;
use serde_json::Value;
use vap_core::attribute::{self as core, AttributeOptions, RoomFit, RoomPlan};
use vap_core::options::Options;

use crate::align::JsTimeline;
use crate::attribute::JsRoomModel;
use crate::convert::{json_of, string_arg};
use crate::error::{call, invalid};
use crate::tasks::VapTask;
use crate::to_json;

/// The statistics argument: an array of `Uint8Array`s (`Buffer`s).
fn grams_of(env: &Env, v: Unknown<'_>) -> vap_core::Result<Vec<core::SessionGram>> {
    let bad = || invalid("grams must be an array of Uint8Array (Buffer), one per session");
    if !v.is_array().unwrap_or(false) {
        return Err(bad());
    }
    // SAFETY: `env` and `v` are live handles of the current call.
    let items =
        unsafe { Vec::<Unknown<'_>>::from_napi_value(env.raw(), v.raw()) }.map_err(|_| bad())?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            if !matches!(u.get_type(), Ok(ValueType::Object)) {
                return Err(invalid(format!("grams[{i}] must be a Uint8Array (Buffer)")));
            }
            // SAFETY: as above.
            let b = unsafe { Uint8Array::from_napi_value(env.raw(), u.raw()) }
                .map_err(|_| invalid(format!("grams[{i}] must be a Uint8Array (Buffer)")))?;
            core::SessionGram::from_bytes(&b)
        })
        .collect()
}

/// A room's fit planned from its sessions' summaries: `RoomPlan.summarise`
/// each session's attribution timeline, `RoomPlan.fromSummaries`, then
/// `plan.gram` each session and `plan.fit` (or `fitAsync`) the statistics.
/// The model `Store.fitRoomModel` fits on the stacked room, for the exposure
/// and linear forms; `form: 'auto'` is fitted as the exposure form and the
/// log link is refused.
#[napi(js_name = "RoomPlan")]
pub struct JsRoomPlan {
    inner: RoomPlan,
}

#[napi]
impl JsRoomPlan {
    /// A session's summary for the plan (JSON text), from its attribution
    /// timeline; `options` as `attribute` (the target).
    #[napi(
        catch_unwind,
        ts_args_type = "timeline: Timeline, options?: AttributeOptions | null"
    )]
    pub fn summarise(
        env: Env,
        timeline: &JsTimeline,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<String> {
        call(&env, || {
            let o = AttributeOptions::from_camel_value(json_of(&env, options)?)?;
            core::SessionSummary::of(&timeline.inner, &o)?.to_json()
        })
    }

    /// Plans the fit from every session's summary (any order, each once)
    /// under the model's options (camelCase, as `attribute`).
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "summaries: string[], options?: AttributeOptions | null"
    )]
    pub fn from_summaries(
        env: Env,
        summaries: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsRoomPlan> {
        call(&env, || {
            let list = match json_of(&env, Some(summaries))? {
                Value::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(t) => core::SessionSummary::from_json(&t),
                        _ => Err(invalid(format!(
                            "summaries[{i}] must be a string (RoomPlan.summarise)"
                        ))),
                    })
                    .collect::<vap_core::Result<Vec<_>>>()?,
                _ => return Err(invalid("summaries must be an array of strings")),
            };
            let o = AttributeOptions::from_camel_value(json_of(&env, options)?)?;
            Ok(JsRoomPlan {
                inner: RoomPlan::new(&list, &o)?,
            })
        })
    }

    /// Reads a plan from its JSON text (format and version checked).
    #[napi(factory, catch_unwind)]
    pub fn from_json(env: Env, text: Unknown<'_>) -> napi::Result<JsRoomPlan> {
        call(&env, || {
            let t = string_arg(&env, text, "text")?;
            Ok(JsRoomPlan {
                inner: RoomPlan::from_json(&t)?,
            })
        })
    }

    /// The plan as JSON text (ship it to where the sessions are).
    #[napi(catch_unwind)]
    pub fn to_json_string(&self, env: Env) -> napi::Result<String> {
        call(&env, || self.inner.to_json())
    }

    /// The plan as a plain object.
    #[napi(catch_unwind)]
    pub fn to_object(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner))
    }

    /// The sessions, in the room's order (start, then id).
    #[napi(getter)]
    pub fn sessions(&self) -> Vec<String> {
        self.inner.sessions.clone()
    }

    /// One session's statistics (a `Buffer`), from its attribution timeline.
    #[napi(catch_unwind)]
    pub fn gram(&self, env: Env, timeline: &JsTimeline) -> napi::Result<Buffer> {
        call(&env, || {
            Ok(Buffer::from(self.inner.gram(&timeline.inner)?.to_bytes()?))
        })
    }

    /// The room's model from every session's statistics (any order, each
    /// once).
    #[napi(catch_unwind, ts_args_type = "grams: Uint8Array[]")]
    pub fn fit(&self, env: Env, grams: Unknown<'_>) -> napi::Result<JsRoomFit> {
        call(&env, || {
            let g = grams_of(&env, grams)?;
            Ok(JsRoomFit {
                inner: self.inner.fit(g)?,
            })
        })
    }

    /// As `fit`, on the libuv thread pool; `options.signal` stops it,
    /// `options.onProgress` hears the carryover search and the bootstrap.
    #[napi(
        catch_unwind,
        ts_args_type = "grams: Uint8Array[], options?: JobControls | null",
        ts_return_type = "Promise<RoomFit>"
    )]
    pub fn fit_async(
        &self,
        env: Env,
        grams: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<JsRoomFit>> {
        let args = grams_of(&env, grams).and_then(|g| {
            let (rest, job) = crate::jobs::controls(&env, options)?;
            if !matches!(rest, Value::Null) && rest.as_object().is_none_or(|m| !m.is_empty()) {
                return Err(invalid(
                    "fitAsync options take only signal and onProgress (the plan has the model's options)",
                ));
            }
            Ok((g, job))
        });
        let task = match args {
            Ok((g, job)) => {
                let plan = self.inner.clone();
                VapTask::new(move || {
                    Ok(JsRoomFit {
                        inner: job.run(move || plan.fit(g))?,
                    })
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }
}

/// A room model fitted from per-session statistics: the model, its
/// coefficients (bootstrap intervals), the penalty's cross-validation curve
/// and what can be diagnosed from sums.
#[napi(js_name = "RoomFit")]
pub struct JsRoomFit {
    pub(crate) inner: RoomFit,
}

#[napi]
impl JsRoomFit {
    /// The model (`apply` decomposes each session).
    #[napi(getter)]
    pub fn model(&self) -> JsRoomModel {
        JsRoomModel {
            inner: self.inner.model.clone(),
        }
    }

    /// Coefficients, as `Attribution.coefficients`.
    #[napi(getter, catch_unwind)]
    pub fn coefficients(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.coefficients))
    }

    /// Cross-validation curve `[{ penalty, error }]`.
    #[napi(getter, catch_unwind)]
    pub fn cv(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.cv))
    }

    /// Everything but the model, as a plain object: coefficients, cv, usable
    /// and dropped bins, R², VIF, condition number, candidates, warnings.
    #[napi(catch_unwind)]
    pub fn to_object(&self, env: Env) -> napi::Result<Value> {
        call(&env, || {
            let mut v = to_json!(&self.inner)?;
            if let Some(m) = v.as_object_mut() {
                m.remove("model");
            }
            Ok(v)
        })
    }

    /// Warnings: the plan's, each session's (named), the fit's.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }
}
