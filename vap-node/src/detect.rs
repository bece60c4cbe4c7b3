//! Moments of truth and change points (`vap_core::detect`): options arrive
//! camelCase; moments and segmentations go back as plain objects (camelCase
//! field names) and moments come back in that form or the core's.

use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;
use vap_core::detect::{
    self, DetectOptions, EventOptions, Method, Moment, SegmentOptions, TopOptions,
};
use vap_core::options::Options;

use crate::convert::{json_of, series_of};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::to_json;

#[napi]
impl JsSession {
    /// Moments of truth: peaks and drops of `orders`, `entries`, the
    /// online-viewer gauge, product clicks and comments (and GMV in yuan over
    /// the orders' bins) against a robust rolling baseline, with drivers and
    /// the streams that moved; ranked by share of the metric's session total.
    #[napi(catch_unwind)]
    pub fn moments(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<Value> {
        call(&env, || {
            let o = DetectOptions::from_camel_value(json_of(&env, options)?)?;
            to_json!(&detect::moments(&self.data, &o)?)
        })
    }

    /// As `moments`, on the libuv thread pool; returns a Promise.
    #[napi(catch_unwind, ts_return_type = "Promise<Moment[]>")]
    pub fn moments_async(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> napi::bindgen_prelude::AsyncTask<crate::tasks::VapTask<crate::convert::Json>> {
        let task = match json_of(&env, options).and_then(DetectOptions::from_camel_value) {
            Ok(o) => {
                let data = self.data.clone();
                crate::tasks::VapTask::new(move || {
                    Ok(crate::convert::Json(to_json!(&detect::moments(
                        &data, &o
                    )?)?))
                })
            }
            Err(e) => crate::tasks::VapTask::failed(e),
        };
        napi::bindgen_prelude::AsyncTask::new(task)
    }
}

fn segment(
    env: &Env,
    x: Unknown<'_>,
    opts: Option<Unknown<'_>>,
    method: Method,
) -> vap_core::Result<Value> {
    let x = series_of(env, &x)
        .ok_or_else(|| invalid("the series must be a Float64Array or an array of numbers"))?;
    let mut o = SegmentOptions::from_camel_value(json_of(env, opts)?)?;
    o.method = method;
    to_json!(&detect::segment(&x, &o)?)
}

/// Exact PELT change points: `{ breakpoints, penalizedCost, penalty }`
/// (breakpoints are segment ends, the last being `n`, as in ruptures).
#[napi(catch_unwind)]
pub fn pelt(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, Method::Pelt))
}

/// The exact optimum by dynamic programming (O(n²)).
#[napi(catch_unwind)]
pub fn dynp(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, Method::Dynp))
}

/// Binary segmentation (greedy, approximate).
#[napi(catch_unwind)]
pub fn binseg(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, Method::Binseg))
}

fn moments_of(env: &Env, v: Unknown<'_>) -> vap_core::Result<Vec<Moment>> {
    crate::camel::from_value(json_of(env, Some(v))?)
        .map_err(|e| invalid(format!("not moments: {e}")))
}

/// The `k` largest moments: of one metric by absolute excess, or across
/// metrics by share of the session total. `k` and `metric` may also be given
/// as `{ k, metric }`; defaults: `optionDefaults('top')`.
#[napi(catch_unwind)]
pub fn top_moments(
    env: Env,
    moments: Unknown<'_>,
    #[napi(ts_arg_type = "number | { k?: number; metric?: string }")] k: Option<Unknown<'_>>,
    metric: Option<String>,
) -> napi::Result<Value> {
    call(&env, || {
        let o = match json_of(&env, k)? {
            Value::Number(n) => {
                let mut m = serde_json::Map::new();
                m.insert("k".into(), Value::Number(n));
                if let Some(x) = metric {
                    m.insert("metric".into(), Value::String(x));
                }
                Value::Object(m)
            }
            other => other,
        };
        let o = TopOptions::from_camel_value(o)?;
        to_json!(&detect::top_k(
            &moments_of(&env, moments)?,
            o.metric.as_deref(),
            o.k
        ))
    })
}

/// Moments of different metrics that overlap (or lie within the gap: ms, a
/// duration string or `{ gap }`; default `optionDefaults('events')`) grouped
/// into events.
#[napi(catch_unwind)]
pub fn moment_events(
    env: Env,
    moments: Unknown<'_>,
    #[napi(ts_arg_type = "number | string | { gap?: number | string }")] gap: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    call(&env, || {
        let o = match json_of(&env, gap)? {
            v @ (Value::Number(_) | Value::String(_)) => serde_json::json!({ "gap": v }),
            other => other,
        };
        let o = EventOptions::from_camel_value(o)?;
        to_json!(&detect::events(&moments_of(&env, moments)?, o.gap_ms))
    })
}
