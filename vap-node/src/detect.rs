//! Moments of truth and change points (`vap_core::detect`): options arrive
//! camelCase; moments and segmentations go back as plain objects.

use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;
use vap_core::detect::{self, Cost, DetectOptions, Moment, Penalty};

use crate::align::duration;
use crate::convert::{json_of, opt_bool, opt_f64, opt_str, options, series_of};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::to_json;

fn penalty_of(v: Option<&Value>) -> vap_core::Result<Penalty> {
    match v {
        None | Some(Value::Null) => Ok(Penalty::Bic),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("bic") => Ok(Penalty::Bic),
        Some(v) => v
            .as_f64()
            .map(Penalty::Value)
            .ok_or_else(|| invalid(format!("penalty must be 'bic' or a number, got {v}"))),
    }
}

fn detect_options(v: Value) -> vap_core::Result<DetectOptions> {
    let m = options(
        v,
        "moment options",
        &[
            "step",
            "metrics",
            "window",
            "threshold",
            "smooth",
            "minDuration",
            "mergeGap",
            "detrend",
            "shifts",
            "penalty",
            "minSegment",
            "exposureChange",
            "rateChange",
        ],
    )?;
    let mut o = DetectOptions::default();
    if let Some(x) = duration(&m, "step")? {
        o.step_ms = x;
    }
    if let Some(x) = duration(&m, "window")? {
        o.window_ms = x;
    }
    if let Some(x) = duration(&m, "smooth")? {
        o.smooth_ms = x;
    }
    if let Some(x) = duration(&m, "minDuration")? {
        o.min_duration_ms = x;
    }
    if let Some(x) = duration(&m, "mergeGap")? {
        o.merge_gap_ms = x;
    }
    if let Some(x) = duration(&m, "minSegment")? {
        o.min_segment_ms = x;
    }
    if let Some(x) = opt_f64(&m, "threshold")? {
        o.threshold = x;
    }
    if let Some(x) = opt_f64(&m, "exposureChange")? {
        o.exposure_change = x;
    }
    if let Some(x) = opt_f64(&m, "rateChange")? {
        o.rate_change = x;
    }
    o.detrend = opt_bool(&m, "detrend")?.unwrap_or(false);
    o.shifts = opt_bool(&m, "shifts")?.unwrap_or(false);
    o.penalty = penalty_of(m.get("penalty"))?;
    o.metrics = match m.get("metrics") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| invalid("metrics must be column names"))
                })
                .collect::<vap_core::Result<_>>()?,
        ),
        Some(v) => {
            return Err(invalid(format!(
                "metrics must be an array of column names, got {v}"
            )))
        }
    };
    Ok(o)
}

#[napi]
impl JsSession {
    /// Moments of truth: peaks and drops of `orders` and `entries` (and GMV
    /// in yuan over the same bins) against a robust rolling baseline, with
    /// drivers; ranked by share of the metric's session total.
    #[napi(catch_unwind)]
    pub fn moments(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<Value> {
        call(&env, || {
            let o = detect_options(json_of(&env, options)?)?;
            to_json!(&detect::scan(&self.data, &o)?)
        })
    }
}

fn segment(
    env: &Env,
    x: Unknown<'_>,
    opts: Option<Unknown<'_>>,
    method: fn(&[f64], Cost, Penalty, usize) -> vap_core::Result<detect::Segmentation>,
) -> vap_core::Result<Value> {
    let x = series_of(env, &x)
        .ok_or_else(|| invalid("the series must be a Float64Array or an array of numbers"))?;
    let m = options(
        json_of(env, opts)?,
        "change-point options",
        &["cost", "penalty", "minSize"],
    )?;
    let cost = match opt_str(&m, "cost")?.as_deref() {
        None | Some("l2") => Cost::L2,
        Some("normal") => Cost::NormalMeanVar,
        Some("poisson") => Cost::Poisson,
        Some(o) => {
            return Err(invalid(format!(
                "unknown cost '{o}'; expected l2, normal or poisson"
            )))
        }
    };
    let min_size = match m.get("minSize") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| invalid(format!("minSize must be a positive integer, got {v}")))?
            as usize,
    };
    to_json!(&method(&x, cost, penalty_of(m.get("penalty"))?, min_size)?)
}

/// Exact PELT change points: `{ breakpoints, penalized_cost, penalty }`
/// (breakpoints are segment ends, the last being `n`, as in ruptures).
#[napi(catch_unwind)]
pub fn pelt(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, detect::pelt))
}

/// The exact optimum by dynamic programming (O(n²)).
#[napi(catch_unwind)]
pub fn dynp(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, detect::dynp))
}

/// Binary segmentation (greedy, approximate).
#[napi(catch_unwind)]
pub fn binseg(env: Env, x: Unknown<'_>, options: Option<Unknown<'_>>) -> napi::Result<Value> {
    call(&env, || segment(&env, x, options, detect::binseg))
}

fn moments_of(env: &Env, v: Unknown<'_>) -> vap_core::Result<Vec<Moment>> {
    serde_json::from_value(json_of(env, Some(v))?).map_err(|e| invalid(format!("not moments: {e}")))
}

/// The `k` largest moments: of one metric by absolute excess, or across
/// metrics by share of the session total.
#[napi(catch_unwind)]
pub fn top_moments(
    env: Env,
    moments: Unknown<'_>,
    k: u32,
    metric: Option<String>,
) -> napi::Result<Value> {
    call(&env, || {
        to_json!(&detect::top_k(
            &moments_of(&env, moments)?,
            metric.as_deref(),
            k as usize
        ))
    })
}

/// Moments of different metrics that overlap (or lie within `gapMs`,
/// default 60 000) grouped into events.
#[napi(catch_unwind)]
pub fn moment_events(env: Env, moments: Unknown<'_>, gap_ms: Option<i64>) -> napi::Result<Value> {
    call(&env, || {
        to_json!(&detect::events(
            &moments_of(&env, moments)?,
            gap_ms.unwrap_or(60_000)
        ))
    })
}
