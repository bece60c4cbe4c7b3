//! Attribution (`vap_core::attribute`): options arrive camelCase; results go
//! back as plain objects (the core's snake_case keys) and per-bin series as
//! `Float64Array`s.

use napi::bindgen_prelude::{AsyncTask, Float64Array};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{Map, Value};
use vap_core::align::AlignOptions;
use vap_core::attribute::{
    self as core, AttributeOptions, Attribution, CarryoverKind, Controls, Decomposition, Estimator,
    FactorSpec, Form, RoomModel, Saturation, Sign,
};
use vap_core::detect::Moment;
use vap_core::{Ms, SessionData};

use crate::align::{align_options, duration, JsTimeline};
use crate::convert::{
    json_of, opt_bool, opt_f64, opt_i64, opt_str, options as checked, series_of, string_arg,
};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

fn enum_of<T>(v: &str, what: &str, allowed: &str) -> vap_core::Result<T>
where
    T: for<'de> Deserialize<'de>,
{
    serde_json::from_value(Value::String(v.to_string()))
        .map_err(|_| invalid(format!("{what} must be one of {allowed}, got '{v}'")))
}

fn durations(v: &Value, what: &str) -> vap_core::Result<Vec<Ms>> {
    let one = |x: &Value| -> vap_core::Result<Ms> {
        let mut m = Map::new();
        m.insert(what.to_string(), x.clone());
        duration(&m, what)?.ok_or_else(|| invalid(format!("{what}: a duration is required")))
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        Value::Null => Ok(vec![0]),
        x => Ok(vec![one(x)?]),
    }
}

fn factor_of(v: &Value) -> vap_core::Result<FactorSpec> {
    let m = match v {
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("column".into(), Value::String(s.clone()));
            m
        }
        other => checked(
            other.clone(),
            "factor",
            &[
                "column",
                "name",
                "carryover",
                "carryoverKind",
                "saturation",
                "sign",
            ],
        )?,
    };
    let column = opt_str(&m, "column")?.ok_or_else(|| invalid("a factor needs a 'column'"))?;
    let carryover_ms = durations(m.get("carryover").unwrap_or(&Value::Null), "carryover")?;
    let carryover_kind: CarryoverKind = match opt_str(&m, "carryoverKind")? {
        None => CarryoverKind::Adstock,
        Some(k) => enum_of(&k, "carryoverKind", "adstock, hold")?,
    };
    let saturation = match m.get("saturation") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() == 2 => Some(Saturation {
            slope: a[0]
                .as_f64()
                .ok_or_else(|| invalid("saturation: [slope, inflexion]"))?,
            inflexion: a[1]
                .as_f64()
                .ok_or_else(|| invalid("saturation: [slope, inflexion]"))?,
        }),
        Some(Value::Object(o)) => Some(Saturation {
            slope: o
                .get("slope")
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid("saturation needs 'slope'"))?,
            inflexion: o
                .get("inflexion")
                .and_then(Value::as_f64)
                .ok_or_else(|| invalid("saturation needs 'inflexion'"))?,
        }),
        Some(v) => {
            return Err(invalid(format!(
                "saturation must be [slope, inflexion], got {v}"
            )))
        }
    };
    let sign: Sign = match opt_str(&m, "sign")? {
        None => Sign::Free,
        Some(s) => enum_of(&s, "sign", "free, positive, negative")?,
    };
    Ok(FactorSpec {
        name: opt_str(&m, "name")?.unwrap_or_else(|| column.clone()),
        column,
        carryover_ms,
        carryover_kind,
        saturation,
        sign: Some(sign),
    })
}

const ATTRIBUTE_KEYS: &[&str] = &[
    "target",
    "form",
    "estimator",
    "l1Ratio",
    "exposure",
    "priceLevel",
    "factors",
    "trend",
    "timeOfDay",
    "sessionEffects",
    "intercept",
    "standardize",
    "penalty",
    "penalties",
    "folds",
    "gap",
    "block",
    "bootstrap",
    "seed",
    "holdout",
    "maxCandidates",
];

fn attribute_options_of(m: &Map<String, Value>) -> vap_core::Result<AttributeOptions> {
    let mut o = AttributeOptions::default();
    if let Some(t) = opt_str(m, "target")? {
        o.target = t;
    }
    if let Some(f) = opt_str(m, "form")? {
        o.form = enum_of::<Form>(&f, "form", "exposure, log_link, linear")?;
    }
    if let Some(e) = opt_str(m, "estimator")? {
        o.estimator = enum_of::<Estimator>(&e, "estimator", "ridge, elastic_net, ols")?;
    }
    if let Some(x) = opt_f64(m, "l1Ratio")? {
        o.l1_ratio = x;
    }
    match m.get("exposure") {
        None => {}
        Some(Value::Null) => o.exposure = None,
        Some(Value::String(s)) => o.exposure = Some(s.clone()),
        Some(v) => {
            return Err(invalid(format!(
                "exposure must be a column name or null, got {v}"
            )))
        }
    }
    o.price_level = opt_bool(m, "priceLevel")?;
    o.factors = match m.get("factors") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(a.iter().map(factor_of).collect::<vap_core::Result<_>>()?),
        Some(v) => return Err(invalid(format!("factors must be an array, got {v}"))),
    };
    o.controls = Controls {
        trend: opt_bool(m, "trend")?.unwrap_or(false),
        time_of_day: opt_i64(m, "timeOfDay")?.unwrap_or(0).max(0) as usize,
        session_effects: opt_bool(m, "sessionEffects")?.unwrap_or(true),
    };
    if let Some(b) = opt_bool(m, "intercept")? {
        o.intercept = b;
    }
    if let Some(b) = opt_bool(m, "standardize")? {
        o.standardize = b;
    }
    o.penalty = opt_f64(m, "penalty")?;
    o.penalties = match m.get("penalties") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| invalid("penalties must be numbers"))
                })
                .collect::<vap_core::Result<_>>()?,
        ),
        Some(v) => {
            return Err(invalid(format!(
                "penalties must be an array of numbers, got {v}"
            )))
        }
    };
    let count = |key: &str| -> vap_core::Result<Option<usize>> {
        match opt_i64(m, key)? {
            Some(v) if v < 0 => Err(invalid(format!("option '{key}' must be ≥ 0, got {v}"))),
            v => Ok(v.map(|v| v as usize)),
        }
    };
    if let Some(x) = count("folds")? {
        o.folds = x;
    }
    if let Some(x) = duration(m, "gap")? {
        o.gap_ms = x;
    }
    if let Some(x) = duration(m, "block")? {
        o.block_ms = x;
    }
    if let Some(x) = count("bootstrap")? {
        o.bootstrap = x;
    }
    if let Some(x) = opt_i64(m, "seed")? {
        o.seed = x as u64;
    }
    if let Some(x) = opt_f64(m, "holdout")? {
        o.holdout = x;
    }
    if let Some(x) = count("maxCandidates")? {
        o.max_candidates = x;
    }
    Ok(o)
}

fn attribute_options(v: Value) -> vap_core::Result<AttributeOptions> {
    attribute_options_of(&checked(v, "attribution options", ATTRIBUTE_KEYS)?)
}

/// Timeline options for attribution: as `Session.timeline`, the step 10 s by default.
pub(crate) fn attribution_align(v: Value) -> vap_core::Result<AlignOptions> {
    let has_step = matches!(&v, Value::Object(m) if m.contains_key("step"));
    let mut o = align_options(v)?;
    if !has_step {
        o.step_ms = 10_000;
    }
    Ok(o)
}

/// Splits `{ timeline, name, ...model options }`.
pub(crate) fn fit_options(
    v: Value,
) -> vap_core::Result<(AlignOptions, Option<String>, AttributeOptions)> {
    let mut keys: Vec<&str> = ATTRIBUTE_KEYS.to_vec();
    keys.extend(["timeline", "name"]);
    let mut m = checked(v, "attribution options", &keys)?;
    let tl = attribution_align(m.remove("timeline").unwrap_or(Value::Null))?;
    let name = opt_str(&m, "name")?;
    m.remove("name");
    Ok((tl, name, attribute_options_of(&m)?))
}

/// A fitted attribution model.
#[napi(js_name = "Attribution")]
pub struct JsAttribution {
    pub(crate) inner: Attribution,
}

#[napi]
impl JsAttribution {
    /// Coefficients: `{ name, role, half_life_ms, value, std_error, ci_low,
    /// ci_high, boot_se, boot_low, boot_high }`.
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

fn window_of(opts: Option<Unknown<'_>>, env: &Env) -> vap_core::Result<(Ms, Option<f64>)> {
    let m = checked(json_of(env, opts)?, "window options", &["window", "excess"])?;
    Ok((
        duration(&m, "window")?.unwrap_or(1_200_000),
        opt_f64(&m, "excess")?,
    ))
}

/// Per bin: `baseline + traffic + Σ factors = prediction`, exactly.
#[napi(js_name = "Decomposition")]
pub struct JsDecomposition {
    inner: Decomposition,
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
    /// `{ window }` is the detector's window (default 20 min).
    #[napi(catch_unwind)]
    pub fn moment(
        &self,
        env: Env,
        moment: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let m: Moment = serde_json::from_value(json_of(&env, Some(moment))?)
                .map_err(|e| invalid(format!("not a moment: {e}")))?;
            let (w, _) = window_of(options, &env)?;
            to_json!(&self.inner.moment(&m, w)?)
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
            let (w, excess) = window_of(options, &env)?;
            to_json!(&self.inner.window(
                &self.inner.target,
                start.round() as Ms,
                end.round() as Ms,
                excess,
                w
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
    let task = match json_of(&env, options).and_then(attribute_options) {
        Ok(o) => {
            let tl = timeline.inner.clone();
            VapTask::new(move || {
                Ok(JsAttribution {
                    inner: core::fit(&tl, &o)?,
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
        let m = checked(
            json_of(&env, options)?,
            "options",
            &["step", "start", "kind"],
        )?;
        let step = duration(&m, "step")?.unwrap_or(1000);
        let start = opt_i64(&m, "start")?.unwrap_or(0);
        let kind = opt_str(&m, "kind")?.unwrap_or_else(|| "flow".into());
        let kind: vap_core::align::ColumnKind =
            enum_of(&kind, "kind", "flow, gauge, count, sum, interval, ...")?;
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
        let tl = vap_core::align::Timeline::from_columns(start, step, parsed, kind)?;
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
            let m = checked(json_of(&env, options)?, "column options", &["kind", "unit"])?;
            let kind = opt_str(&m, "kind")?.unwrap_or_else(|| "flow".into());
            let kind: vap_core::align::ColumnKind =
                enum_of(&kind, "kind", "flow, gauge, count, sum, interval, ...")?;
            let unit = opt_str(&m, "unit")?.unwrap_or_default();
            self.inner.add_column(name, v, kind, &unit)
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
            let (tl, _, o) = fit_options(json_of(&env, options)?)?;
            let t = core::session_timeline(&self.data, &tl)?;
            Ok(JsAttribution {
                inner: core::fit(&t, &o)?,
            })
        })
    }
}
