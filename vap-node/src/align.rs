//! `Timeline` and the alignment functions (`vap_core::align`): options arrive
//! camelCase and become core options here; numbers come back as typed arrays.

use napi::bindgen_prelude::{AsyncTask, Float64Array, FromNapiValue, Uint8Array};
use napi::JsValue;
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::{Map, Value};
use vap_core::align::{
    self, AlignOptions, AsofOptions, Lexicon, OffsetEstimate, OffsetOptions, Timeline, Transform,
};
use vap_core::options::{snake_keys, Options};
use vap_core::table::{self, Cell};
use vap_core::VapError;

use crate::convert::{json_of, rows_of, series_of, string_arg};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

/// Timeline options (camelCase) → [`AlignOptions`], by the core.
pub(crate) fn align_options(v: Value) -> vap_core::Result<AlignOptions> {
    AlignOptions::from_camel_value(v)
}

/// Offset options (camelCase) → [`OffsetOptions`], by the core.
pub(crate) fn offset_options(v: Value) -> vap_core::Result<OffsetOptions> {
    OffsetOptions::from_camel_value(v)
}

/// A transform (`{ kind: 'adstock', halfLifeBins: 3 }`), keys by the core's
/// camelCase rule.
fn transform_of(v: Value) -> vap_core::Result<Transform> {
    vap_core::options::deserialize("transform", snake_keys(v, &[]))
}

/// Every stream of a session (or of a room's sessions) on one regular grid.
/// Columns are float64; a missing bin is `NaN` in `column()` and flagged by
/// `missing()`, `null` in `toObjects()`.
#[napi(js_name = "Timeline")]
pub struct JsTimeline {
    pub(crate) inner: Timeline,
}

#[napi]
impl JsTimeline {
    /// Number of bins (rows).
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Column names, in order.
    #[napi(getter)]
    pub fn columns(&self) -> Vec<String> {
        self.inner.names().into_iter().map(str::to_string).collect()
    }

    /// Per column: `{ name, kind, source, unit, hasMissing }`.
    #[napi(getter, catch_unwind)]
    pub fn column_info(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(self.inner.columns()))
    }

    /// Bin width in ms.
    #[napi(getter)]
    pub fn step_ms(&self) -> i64 {
        self.inner.step_ms()
    }

    /// Sessions and their rows: `[{ roomId, sessionId, grid, rows }]`.
    #[napi(getter, catch_unwind)]
    pub fn spans(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(self.inner.spans()))
    }

    /// Bin starts in ms since the epoch.
    #[napi]
    pub fn time(&self) -> Float64Array {
        Float64Array::new(self.inner.time_ms().iter().map(|t| *t as f64).collect())
    }

    /// One column (`NaN` where missing).
    #[napi(catch_unwind)]
    pub fn column(&self, env: Env, name: Unknown<'_>) -> napi::Result<Float64Array> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            Ok(Float64Array::new(self.inner.values(&name)?.to_vec()))
        })
    }

    /// The missing-bin mask of a column (1 = missing); all zeros when none is.
    #[napi(catch_unwind)]
    pub fn missing(&self, env: Env, name: Unknown<'_>) -> napi::Result<Uint8Array> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            self.inner.values(&name)?;
            Ok(Uint8Array::new(match self.inner.missing(&name) {
                Some(m) => m.iter().map(|b| *b as u8).collect(),
                None => vec![0; self.inner.len()],
            }))
        })
    }

    /// The named columns (all by default) as one column-major matrix:
    /// `{ rows, columns, data }`, `data[j * rows + i]` being row i of column j.
    #[napi(catch_unwind)]
    pub fn matrix(&self, env: Env, names: Option<Vec<String>>) -> napi::Result<Matrix> {
        call(&env, || {
            let names = names.unwrap_or_else(|| self.columns());
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let m = self.inner.select(&refs)?;
            Ok(Matrix {
                rows: m.nrows() as u32,
                columns: names,
                data: Float64Array::new(m.t().iter().copied().collect()),
            })
        })
    }

    /// The timeline as an Arrow IPC stream (what `apache-arrow`'s
    /// `tableFromIPC` reads): `time` (`Timestamp(ms, UTC)`), the session keys
    /// of a room timeline, and a nullable `Float64` per column with its
    /// metadata (kind, source, unit).
    #[napi(js_name = "toArrowIpc", catch_unwind)]
    pub fn to_arrow_ipc(&self, env: Env) -> napi::Result<Uint8Array> {
        call(&env, || {
            let b = self.inner.to_record_batch()?;
            Ok(vap_core::table::ipc_stream(&b.schema(), &[b])?.into())
        })
    }

    /// Rows as plain objects `{ time, session_id?, <column>: number | null }`
    /// (table rows: keyed by column name, as `toArrowIpc` names them).
    #[napi(catch_unwind)]
    pub fn to_objects(&self, env: Env) -> napi::Result<Value> {
        call(&env, || {
            let names = self.inner.names();
            let cols: Vec<&[f64]> = names
                .iter()
                .map(|n| self.inner.values(n))
                .collect::<vap_core::Result<_>>()?;
            let mut session_of = vec![""; self.inner.len()];
            if self.inner.is_keyed() {
                for s in self.inner.spans() {
                    for r in s.rows.clone() {
                        session_of[r] = &s.session_id;
                    }
                }
            }
            let rows = (0..self.inner.len())
                .map(|i| {
                    let mut m = Map::with_capacity(names.len() + 2);
                    m.insert("time".into(), Value::from(self.inner.time_ms()[i]));
                    if self.inner.is_keyed() {
                        m.insert("session_id".into(), Value::from(session_of[i]));
                    }
                    for (n, c) in names.iter().zip(&cols) {
                        let v = c[i];
                        m.insert(
                            (*n).to_string(),
                            serde_json::Number::from_f64(v)
                                .map(Value::Number)
                                .unwrap_or(Value::Null),
                        );
                    }
                    Value::Object(m)
                })
                .collect();
            Ok(Value::Array(rows))
        })
    }

    /// Adds a column made from `source` by a transform
    /// (`{ kind: 'lag' | 'lead', bins }`, `{ kind: 'adstock', halfLifeBins, normalize? }`,
    /// `{ kind: 'weibull', shape, scaleBins, maxLagBins }`,
    /// `{ kind: 'hill', slope, inflexion }`), session by session. Returns its name.
    #[napi(catch_unwind)]
    pub fn derive(
        &mut self,
        env: Env,
        source: Unknown<'_>,
        transform: Unknown<'_>,
        name: Option<String>,
    ) -> napi::Result<String> {
        let source = call(&env, || string_arg(&env, source, "source"))?;
        let t = call(&env, || transform_of(json_of(&env, Some(transform))?))?;
        let inner = &mut self.inner;
        call(&env, || inner.derive(&source, &t, name.as_deref()))
    }
}

/// A column-major matrix of timeline columns.
#[napi(object)]
pub struct Matrix {
    /// Rows (bins).
    pub rows: u32,
    /// Column names.
    pub columns: Vec<String>,
    /// Values, column after column.
    pub data: Float64Array,
}

impl From<Timeline> for JsTimeline {
    fn from(inner: Timeline) -> Self {
        JsTimeline { inner }
    }
}

#[napi]
impl JsSession {
    /// Aligns every stream of the session on one grid (see `TimelineOptions`).
    #[napi(catch_unwind)]
    pub fn timeline(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<JsTimeline> {
        call(&env, || {
            let o = align_options(json_of(&env, options)?)?;
            Ok(Timeline::build(&self.data, &o)?.into())
        })
    }

    /// As `timeline`, off the main thread.
    #[napi(catch_unwind, ts_return_type = "Promise<Timeline>")]
    pub fn timeline_async(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<JsTimeline>> {
        let data = self.data.clone();
        let task = match json_of(&env, options).and_then(align_options) {
            Ok(o) => VapTask::new(move || Ok(Timeline::build(&data, &o)?.into())),
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// The transcript's clock offset to the platform clock (never applied).
    #[napi(catch_unwind)]
    pub fn estimate_transcript_offset(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let o = offset_options(json_of(&env, options)?)?;
            to_json!(&align::estimate_transcript_offset(&self.data, &o)?)
        })
    }

    /// A copy with the transcript moved onto the platform clock by a determined
    /// estimate; throws `VAP_INVALID_ARGUMENT` for an undetermined one.
    #[napi(catch_unwind)]
    pub fn apply_offset(&self, env: Env, estimate: Unknown<'_>) -> napi::Result<JsSession> {
        call(&env, || {
            let e: OffsetEstimate = crate::camel::from_value(json_of(&env, Some(estimate))?)
                .map_err(|e| invalid(format!("not an offset estimate: {e}")))?;
            let mut d = (*self.data).clone();
            e.apply_to_transcript(&mut d)?;
            Ok(d.into())
        })
    }

    /// A copy with every utterance moved by `deltaMs`.
    #[napi(catch_unwind)]
    pub fn shift_transcript(&self, env: Env, delta_ms: i64) -> napi::Result<JsSession> {
        call(&env, || {
            let mut d = (*self.data).clone();
            align::shift_utterances(&mut d, delta_ms);
            Ok(d.into())
        })
    }
}

/// As `roomTimeline`, on the libuv thread pool; returns a Promise.
#[napi(catch_unwind, ts_return_type = "Promise<Timeline>")]
pub fn room_timeline_async(
    env: Env,
    sessions: Vec<&JsSession>,
    options: Option<Unknown<'_>>,
) -> AsyncTask<VapTask<JsTimeline>> {
    let data: Vec<std::sync::Arc<vap_core::SessionData>> =
        sessions.iter().map(|s| s.data.clone()).collect();
    let task = match json_of(&env, options).and_then(align_options) {
        Ok(o) => VapTask::new(move || Ok(align::room_timeline(&data, &o)?.into())),
        Err(e) => VapTask::failed(e),
    };
    AsyncTask::new(task)
}

/// The room view of several sessions of one room, aligned in parallel and
/// stacked with a session key.
#[napi(catch_unwind)]
pub fn room_timeline(
    env: Env,
    sessions: Vec<&JsSession>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsTimeline> {
    call(&env, || {
        let o = align_options(json_of(&env, options)?)?;
        let data: Vec<&vap_core::SessionData> = sessions.iter().map(|s| &*s.data).collect();
        Ok(align::room_timeline(&data, &o)?.into())
    })
}

/// A series, or an array of series (paired channels).
fn channels(env: &Env, v: Unknown<'_>, what: &str) -> vap_core::Result<Vec<Vec<f64>>> {
    if let Some(one) = series_of(env, &v) {
        return Ok(vec![one]);
    }
    // SAFETY: as above.
    let items =
        unsafe { Vec::<Unknown<'_>>::from_napi_value(env.raw(), v.raw()) }.map_err(|_| {
            invalid(format!(
                "{what} must be a Float64Array, an array of numbers or an array of those"
            ))
        })?;
    items
        .iter()
        .enumerate()
        .map(|(k, c)| {
            series_of(env, c).ok_or_else(|| {
                invalid(format!(
                    "{what}[{k}] must be a Float64Array or an array of numbers"
                ))
            })
        })
        .collect()
}

/// Clock offset between two binned streams (or lists of paired channels) by
/// cross-correlation. `options.step` is required.
#[napi(catch_unwind)]
pub fn estimate_offset(
    env: Env,
    reference: Unknown<'_>,
    other: Unknown<'_>,
    options: Unknown<'_>,
) -> napi::Result<Value> {
    call(&env, || {
        let r = channels(&env, reference, "reference")?;
        let o = channels(&env, other, "other")?;
        let opts_v = json_of(&env, Some(options))?;
        if opts_v.get("step").is_none_or(|s| s.is_null()) {
            return Err(invalid("options.step (the bin width) is required"));
        }
        let opts = offset_options(opts_v)?;
        if r.len() != o.len() {
            return Err(invalid(format!(
                "{} reference channels but {} other",
                r.len(),
                o.len()
            )));
        }
        let pairs: Vec<(&[f64], &[f64])> = r
            .iter()
            .zip(&o)
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        to_json!(&align::estimate_offset(&pairs, opts.step_ms, &opts)?)
    })
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Int(i) => Value::from(*i),
        Cell::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Cell::Str(s) => Value::String(s.clone()),
        Cell::List(l) => Value::from(l.clone()),
    }
}

/// As-of join of two arrays of row objects (pandas `merge_asof` / polars
/// `join_asof` semantics). Keys are numbers (ms for times).
#[napi(catch_unwind)]
pub fn asof_join(
    env: Env,
    left: Unknown<'_>,
    right: Unknown<'_>,
    options: Unknown<'_>,
) -> napi::Result<Value> {
    call(&env, || {
        let m = AsofOptions::from_camel_value(json_of(&env, Some(options))?)?;
        let mut problems = Vec::new();
        let mut batch = |v: Value, what: &str| -> vap_core::Result<arrow_array::RecordBatch> {
            let rows = rows_of(v, what)?;
            let raw = table::raw_from_json_rows(what, &rows, &mut problems);
            table::infer_batch(&raw).map_err(VapError::Validation)
        };
        let l = batch(json_of(&env, Some(left))?, "left")?;
        let r = batch(json_of(&env, Some(right))?, "right")?;
        if !problems.is_empty() {
            return Err(VapError::Validation(problems));
        }
        let out = align::asof_join(&l, &r, &m)?;
        let mut problems = Vec::new();
        let raw = table::raw_from_batches("result", &[out], &mut problems);
        let rows = raw
            .rows
            .iter()
            .map(|row| {
                Value::Object(
                    raw.columns
                        .iter()
                        .zip(row)
                        .map(|(k, c)| (k.clone(), cell_json(c)))
                        .collect(),
                )
            })
            .collect();
        Ok(Value::Array(rows))
    })
}

/// Text folded as the lexicon matches it (NFKC, lower case, Simplified Chinese).
#[napi(catch_unwind)]
pub fn fold(env: Env, text: Unknown<'_>) -> napi::Result<String> {
    call(&env, || Ok(align::fold(&string_arg(&env, text, "text")?)))
}

/// vap's built-in phrase groups (`{ urgency: [...], price: [...], ... }`).
#[napi(catch_unwind)]
pub fn builtin_lexicon(env: Env) -> napi::Result<Value> {
    call(&env, || to_json!(&Lexicon::builtin().groups))
}

/// Matches per group of a lexicon in one text.
#[napi(catch_unwind)]
pub fn lexicon_count(env: Env, lexicon: Unknown<'_>, text: Unknown<'_>) -> napi::Result<Value> {
    call(&env, || {
        let l: Lexicon = vap_core::options::deserialize("lexicon", json_of(&env, Some(lexicon))?)?;
        let text = string_arg(&env, text, "text")?;
        let m = l.compile()?;
        let counts = m.count(&text);
        let map: Map<String, Value> = m
            .groups()
            .iter()
            .cloned()
            .zip(counts.into_iter().map(Value::from))
            .collect();
        Ok(Value::Object(map))
    })
}
