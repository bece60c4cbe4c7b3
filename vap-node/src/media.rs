//! Recordings (`vap_core::media`): probe, audio, transcription with progress
//! and cancellation, the video index and stills, whisper.cpp's log.
//!
//! Options arrive camelCase; results go back as plain objects, camelCase
//! (`crate::camel`), audio as a `Float32Array`,
//! frame times as `Float64Array`s and stills as their RGB pixels in a
//! `Buffer` (with a PNG `Buffer` when `{ png: true }` asks for one: the core
//! encodes it). `audioChunks` returns an `AudioChunks` iterator (`for ... of`
//! works: [`install_iterators`] gives its prototype `[Symbol.iterator]`).
//!
//! Progress: `onProgress` is called once per chunk, on the JS thread. The
//! synchronous variants call it directly; the asynchronous ones queue the call
//! through a threadsafe function and the worker waits for it to return before
//! the next chunk, so every call has run before the Promise settles and
//! returning `false` stops the run just as in the synchronous variant.
//! `options.signal` (an `AbortSignal`) stops it too (one already aborted is
//! refused before anything runs; the listener is removed when the call
//! settles, as for the jobs: `crate::jobs`). Either way the core stops
//! after the chunk in flight, with its error saying how many chunks are
//! checkpointed; a callback that throws stops the run and its exception is what
//! the call throws (or the Promise rejects with).
//! Store methods live in `store.rs` (see the note there) and call the helpers
//! here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{
    AsyncTask, Buffer, Float32Array, Float64Array, FromNapiValue, Function, JsObjectValue, Object,
    TypeName, ValidateNapiValue,
};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{sys, Env, JsValue, Status, Unknown, ValueType};
use napi_derive::napi;
use serde_json::{Map, Value};
use vap_core::media::{
    self, AudioChunks, Located, Progress, Still, TranscribeOptions, Transcript, VideoIndex,
    WhisperLog, WhisperLogLevel,
};
use vap_core::schema::Ms;
use vap_core::{SessionData, VapError};

use crate::convert::{json_of, opt_bool, opt_i64, options, string_arg, Json};
use crate::error::{call, guard, invalid, to_napi};
use crate::jobs::{watch_signal, SignalWatch};
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

// ------------------------------------------------------------------ arguments

/// Largest integer a JS number holds exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// An integer number of milliseconds (`what` names it in the error).
pub(crate) fn ms_arg(env: &Env, v: Unknown<'_>, what: &str) -> vap_core::Result<Ms> {
    let x = match v.get_type() {
        // SAFETY: `env` and `v` are live handles of the current call.
        Ok(ValueType::Number) => unsafe { f64::from_napi_value(env.raw(), v.raw()) }
            .map_err(|e| invalid(format!("{what}: {}", e.reason)))?,
        _ => return Err(invalid(format!("{what} must be a number of ms"))),
    };
    if !x.is_finite() || x.fract() != 0.0 || x.abs() > MAX_SAFE {
        return Err(invalid(format!(
            "{what} must be an integer number of ms, got {x}"
        )));
    }
    Ok(x as Ms)
}

/// An optional recording index (default 0).
pub(crate) fn index_arg(env: &Env, v: Option<Unknown<'_>>) -> vap_core::Result<usize> {
    match v {
        None => Ok(0),
        Some(u) if matches!(u.get_type(), Ok(ValueType::Null | ValueType::Undefined)) => Ok(0),
        Some(u) => Ok(crate::convert::count_arg(env, u, "index", u32::MAX)? as usize),
    }
}

/// The `{ startMs?, endMs? }` of `decodeAudio`.
fn window_options(v: Value) -> vap_core::Result<(Option<Ms>, Option<Ms>)> {
    let m = options(v, "decodeAudio options", &["startMs", "endMs"])?;
    Ok((opt_i64(&m, "startMs")?, opt_i64(&m, "endMs")?))
}

/// What the stills read from their options.
pub(crate) struct StillArgs {
    /// `maxWidth` (the core refuses 0).
    pub(crate) max_width: Option<u32>,
    /// `png`: add the PNG file's bytes to the result (default false).
    pub(crate) png: bool,
}

/// The `{ maxWidth?, png? }` of the stills.
pub(crate) fn still_options(v: Value, what: &str) -> vap_core::Result<StillArgs> {
    let m = options(v, what, &["maxWidth", "png"])?;
    let max_width = match opt_i64(&m, "maxWidth")? {
        None => None,
        Some(w) => Some(u32::try_from(w).map_err(|_| {
            invalid(format!(
                "option 'maxWidth' must be a positive integer, got {w}"
            ))
        })?),
    };
    Ok(StillArgs {
        max_width,
        png: opt_bool(&m, "png")?.unwrap_or(false),
    })
}

/// The `{ chunkMs?, startMs?, endMs? }` of `audioChunks` (the core checks
/// them and owns the default chunk length).
fn chunk_options(v: Value) -> vap_core::Result<(Option<Ms>, Option<Ms>, Option<Ms>)> {
    let m = options(v, "audioChunks options", &["chunkMs", "startMs", "endMs"])?;
    Ok((
        opt_i64(&m, "chunkMs")?,
        opt_i64(&m, "startMs")?,
        opt_i64(&m, "endMs")?,
    ))
}

/// What a transcription call reads from its arguments.
pub(crate) struct TranscribeArgs {
    /// The core's options.
    pub(crate) opts: TranscribeOptions,
    /// `offsetMs` (file transcription only; default 0).
    pub(crate) offset_ms: Ms,
    /// Set when `signal` aborts.
    pub(crate) aborted: Arc<AtomicBool>,
    /// The listener on `signal`, removed when the call settles.
    pub(crate) watch: Option<SignalWatch>,
}

/// Reads transcription options: the core's fields in camelCase (`model`
/// required), `signal`, and `offsetMs` when `with_offset`. Every unknown or
/// bad field is reported at once (the core then checks the values together).
pub(crate) fn transcribe_args(
    env: &Env,
    v: Option<Unknown<'_>>,
    what: &str,
    with_offset: bool,
) -> vap_core::Result<TranscribeArgs> {
    let obj = match v {
        Some(u) if matches!(u.get_type(), Ok(ValueType::Object)) => {
            // SAFETY: `u` is a live object handle of the current call.
            unsafe { Object::from_napi_value(env.raw(), u.raw()) }
                .map_err(|e| invalid(format!("{what}: {}", e.reason)))?
        }
        _ => {
            return Err(invalid(format!(
                "{what} must be an object with at least `model` (a ggml model file)"
            )))
        }
    };
    let keys = Object::keys(&obj).map_err(|e| invalid(format!("{what}: {}", e.reason)))?;
    let mut problems = Vec::new();
    let mut signal = None;
    let mut js = Map::new();
    for k in keys {
        if k == "offsetMs" && !with_offset {
            problems.push(
                "unknown option 'offsetMs' (a stored session's recordings carry their offsets)"
                    .to_string(),
            );
            continue;
        }
        let value: Unknown<'_> = obj
            .get_named_property_unchecked(&k)
            .map_err(|e| invalid(format!("{what}.{k}: {}", e.reason)))?;
        if k == "signal" {
            signal = Some(value);
        } else {
            js.insert(k, json_of(env, Some(value))?);
        }
    }
    let offset_ms = match js.get("offsetMs") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            problems.push(format!(
                "option 'offsetMs' must be an integer (ms), got {v}"
            ));
            0
        }),
    };
    js.remove("offsetMs");
    // The core reads the options (camelCase by its one rule); one field at a
    // time first, so that every bad one is named.
    for (k, v) in &js {
        let one = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
        if let Err(e) = vap_core::options::deserialize::<TranscribeOptions>(
            what,
            vap_core::options::snake_keys(one, &[]),
        ) {
            // The core's message names the field as it reads it; say it once,
            // as the user wrote it.
            let msg = match e {
                vap_core::VapError::InvalidArgument(m) => m,
                other => other.to_string(),
            };
            let field = format!(
                "{what}: option '{}': ",
                vap_core::options::camel_to_snake(k)
            );
            let inner = msg
                .strip_prefix(field.as_str())
                .or_else(|| msg.strip_prefix(format!("{what}: ").as_str()))
                .unwrap_or(&msg);
            problems.push(format!("option '{k}': {inner}"));
        }
    }
    if js.get("model").is_none_or(Value::is_null) {
        problems.push("option 'model' (the whisper.cpp ggml model file) is required".into());
    }
    if !problems.is_empty() {
        return Err(invalid(format!("{what}: {}", problems.join("; "))));
    }
    let opts =
        <TranscribeOptions as vap_core::options::Options>::from_camel_value(Value::Object(js))?;
    // Last, once everything else is known to be valid: this attaches a listener.
    let aborted = Arc::new(AtomicBool::new(false));
    let watch = match signal {
        Some(sig) => watch_signal(env, sig, &aborted)?,
        None => None,
    };
    Ok(TranscribeArgs {
        opts,
        offset_ms,
        aborted,
        watch,
    })
}

/// An optional `onProgress` function.
pub(crate) fn progress_arg<'a>(
    env: &Env,
    v: Option<Unknown<'a>>,
) -> vap_core::Result<Option<Function<'a, Value, Reply>>> {
    match v {
        None => Ok(None),
        Some(u) => match u.get_type() {
            Ok(ValueType::Undefined | ValueType::Null) => Ok(None),
            // SAFETY: `u` is a live function handle of the current call.
            Ok(ValueType::Function) => unsafe { Function::from_napi_value(env.raw(), u.raw()) }
                .map(Some)
                .map_err(|e| invalid(format!("onProgress: {}", e.reason))),
            _ => Err(invalid("onProgress must be a function")),
        },
    }
}

// ------------------------------------------------------------------ results

/// A transcript as JS sees it: the serde form plus `stats.realTimeFactor`.
fn transcript_json(t: &Transcript) -> vap_core::Result<Value> {
    let mut v = to_json!(t)?;
    if let Some(Value::Object(stats)) = v.get_mut("stats") {
        stats.insert(
            "realTimeFactor".into(),
            serde_json::json!(t.stats.real_time_factor()),
        );
    }
    Ok(v)
}

/// A still frame: its RGB pixels (and the PNG file when asked for), its
/// size, the time of the frame shown (ms from the container start) and the
/// file it came from.
#[napi(object)]
pub struct JsStill {
    /// The pixels: `height` rows of `width` RGB triples, top row first.
    pub rgb: Buffer,
    /// The PNG file's bytes (8-bit RGB), with `{ png: true }`.
    pub png: Option<Buffer>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Time of the frame shown, ms from the container start.
    pub frame_ms: f64,
    /// The recording it came from.
    pub path: String,
    /// Index of the recording in the session (`Store.still` only).
    pub recording: Option<u32>,
    /// The position asked for in the recording, ms (`Store.still` only).
    pub position_ms: Option<f64>,
}

/// A core still as JS sees it: the PNG encoded by the core when `png`.
pub(crate) fn js_still(s: Still, located: Option<Located>, png: bool) -> vap_core::Result<JsStill> {
    let png = if png { Some(s.png()?.into()) } else { None };
    Ok(JsStill {
        png,
        width: s.width,
        height: s.height,
        frame_ms: s.frame_ms,
        path: s.path.display().to_string(),
        recording: located
            .as_ref()
            .map(|l| u32::try_from(l.recording).unwrap_or(u32::MAX)),
        position_ms: located.map(|l| l.position_ms as f64),
        rgb: s.rgb.into(),
    })
}

/// The frame shown at session instant `t_ms` (`media::still_at`).
pub(crate) fn session_still(
    store: &vap_core::Store,
    room: &str,
    session: &str,
    t_ms: Ms,
    opts: StillArgs,
) -> vap_core::Result<JsStill> {
    let (at, still) = media::still_at(store, room, session, t_ms, opts.max_width)?;
    js_still(still, Some(at), opts.png)
}

// ------------------------------------------------------------------ progress

/// What `onProgress` returned: only `false` stops the run.
pub struct Reply(pub(crate) bool);

impl TypeName for Reply {
    fn type_name() -> &'static str {
        "boolean | void"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for Reply {}

impl FromNapiValue for Reply {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut t = 0;
        // SAFETY: the caller passes a live value of `env`.
        unsafe { sys::napi_typeof(env, v, &mut t) };
        if t == sys::ValueType::napi_boolean {
            // SAFETY: as above; the value is a boolean.
            Ok(Reply(unsafe { bool::from_napi_value(env, v) }?))
        } else {
            Ok(Reply(true))
        }
    }
}

/// The callback's threadsafe form: a `Progress` in, its serde form passed to
/// JS, the [`Reply`] back.
type ProgressFn = ThreadsafeFunction<Progress, Reply, Value, Status, false>;

/// How long the worker waits for the JS thread before checking whether the
/// callback was torn down (the environment exiting).
const POLL: Duration = Duration::from_millis(200);

/// Runs a transcription on the JS thread, calling `on_progress` directly.
/// A callback that throws stops the run and its exception is rethrown.
pub(crate) fn run_sync(
    env: &Env,
    on_progress: Option<Function<'_, Value, Reply>>,
    aborted: Arc<AtomicBool>,
    watch: Option<SignalWatch>,
    work: impl FnOnce(&mut dyn FnMut(&Progress) -> bool) -> vap_core::Result<Transcript>,
) -> napi::Result<Value> {
    let mut thrown: Option<napi::Error> = None;
    let result = guard(|| {
        let mut progress = |p: &Progress| -> bool {
            if let Some(f) = &on_progress {
                let reply = crate::camel::to_value(p)
                    .map_err(|e| napi::Error::from_reason(e.to_string()))
                    .and_then(|v| f.call(v));
                match reply {
                    Ok(Reply(false)) => return false,
                    Ok(Reply(true)) => {}
                    Err(e) => {
                        thrown = Some(e);
                        return false;
                    }
                }
            }
            !aborted.load(Ordering::SeqCst)
        };
        work(&mut progress).and_then(|t| transcript_json(&t))
    });
    // The listener goes now, on this (the JS) thread.
    drop(watch);
    if let Some(e) = thrown {
        return Err(e);
    }
    result.map_err(|e| to_napi(env, e))
}

/// A transcription on the libuv thread pool; `on_progress` is called on the
/// JS thread through a threadsafe function, and the worker waits for each call
/// to return.
pub(crate) fn run_async(
    on_progress: Option<Function<'_, Value, Reply>>,
    aborted: Arc<AtomicBool>,
    watch: Option<SignalWatch>,
    work: impl FnOnce(&mut dyn FnMut(&Progress) -> bool) -> vap_core::Result<Transcript>
        + Send
        + 'static,
) -> AsyncTask<VapTask<Json>> {
    let tsfn: Option<ProgressFn> = match on_progress.map(|f| {
        f.build_threadsafe_function::<Progress>().build_callback(
            |ctx: ThreadsafeCallContext<Progress>| {
                crate::camel::to_value(&ctx.value)
                    .map_err(|e| napi::Error::from_reason(e.to_string()))
            },
        )
    }) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            return AsyncTask::new(VapTask::failed(VapError::Internal(format!(
                "onProgress: {}",
                e.reason
            ))))
        }
    };
    let thrown: Arc<Mutex<Option<napi::Error>>> = Arc::default();
    let slot = thrown.clone();
    let task = VapTask::new(move || {
        let mut progress = |p: &Progress| -> bool {
            if let Some(f) = &tsfn {
                match call_and_wait(f, p) {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(e) => {
                        *slot.lock().unwrap_or_else(|e| e.into_inner()) = e;
                        return false;
                    }
                }
            }
            !aborted.load(Ordering::SeqCst)
        };
        let out = work(&mut progress).and_then(|t| transcript_json(&t).map(Json));
        // Gone before the Promise settles.
        if let Some(w) = watch {
            w.remove();
        }
        out
    })
    .with_js_error(thrown);
    AsyncTask::new(task)
}

/// Queues one progress call and waits for its reply: `Ok(keep going)`, or
/// `Err(the callback's exception)` (`None` when the callback is gone because
/// the environment is shutting down).
fn call_and_wait(f: &ProgressFn, p: &Progress) -> Result<bool, Option<napi::Error>> {
    let (tx, rx) = mpsc::channel::<napi::Result<bool>>();
    let status = f.call_with_return_value(
        p.clone(),
        ThreadsafeFunctionCallMode::NonBlocking,
        move |r: napi::Result<Reply>, _env| {
            let _ = tx.send(r.map(|Reply(keep)| keep));
            Ok(())
        },
    );
    if status != Status::Ok {
        return Err(None);
    }
    loop {
        match rx.recv_timeout(POLL) {
            Ok(Ok(keep)) => return Ok(keep),
            Ok(Err(e)) => return Err(Some(e)),
            Err(mpsc::RecvTimeoutError::Timeout) if !f.aborted() => continue,
            Err(_) => return Err(None),
        }
    }
}

// ------------------------------------------------------------------ functions

/// Duration, start time and streams of a recording.
#[napi(catch_unwind, ts_return_type = "RecordingInfo")]
pub fn probe(env: Env, path: Unknown<'_>) -> napi::Result<Value> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        to_json!(&media::probe(&path)?)
    })
}

/// The audio of a recording as 16 kHz mono samples; `{ startMs, endMs }`
/// decodes one window (exact to the sample).
#[napi(catch_unwind)]
pub fn decode_audio(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Float32Array> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let (start, end) = window_options(json_of(&env, options)?)?;
        Ok(Float32Array::new(media::decode_audio(&path, start, end)?))
    })
}

/// One chunk of `audioChunks`.
#[napi(object)]
pub struct JsAudioChunk {
    /// Position of the first sample, ms from the recording's start.
    pub start_ms: f64,
    /// 16 kHz mono samples.
    pub samples: Float32Array,
}

/// An iterator result (`{ done, value }`) of `AudioChunks`.
#[napi(object)]
pub struct JsAudioChunkResult {
    /// Whether the chunks are all read (`value` is then `undefined`).
    pub done: bool,
    /// The chunk.
    #[napi(ts_type = "AudioChunk | undefined")]
    pub value: Option<JsAudioChunk>,
}

impl JsAudioChunkResult {
    fn done() -> Self {
        JsAudioChunkResult {
            done: true,
            value: None,
        }
    }
}

/// A recording's audio in fixed-length chunks, read as it is iterated (one
/// chunk in memory at a time): an iterator of `{ startMs, samples }`.
#[napi(js_name = "AudioChunks")]
pub struct JsAudioChunks {
    inner: AudioChunks,
}

#[napi]
impl JsAudioChunks {
    /// Chunk length, ms.
    #[napi(getter, catch_unwind)]
    pub fn chunk_ms(&self) -> f64 {
        self.inner.chunk_ms() as f64
    }

    /// The next chunk (`{ done: false, value }`), or `{ done: true }` at the
    /// end. A decoding error is thrown, and the iteration then ends.
    #[napi(catch_unwind)]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self, env: Env) -> napi::Result<JsAudioChunkResult> {
        call(&env, || {
            Ok(match self.inner.next().transpose()? {
                Some(c) => JsAudioChunkResult {
                    done: false,
                    value: Some(JsAudioChunk {
                        start_ms: c.start_ms as f64,
                        samples: Float32Array::new(c.samples),
                    }),
                },
                None => JsAudioChunkResult::done(),
            })
        })
    }

    /// Stops early (what `break` in a `for ... of` calls): frees the decoder.
    #[napi(js_name = "return", catch_unwind)]
    pub fn finish(&mut self) -> JsAudioChunkResult {
        self.inner.close();
        JsAudioChunkResult::done()
    }

    /// Frees the decoder; `next()` then answers `{ done: true }`.
    #[napi(catch_unwind)]
    pub fn close(&mut self) {
        self.inner.close();
    }
}

/// A recording's audio in chunks of `chunkMs` (default: the core's, 30 s),
/// from `startMs` to `endMs` (positions; default the whole file), the last
/// chunk shorter. Iterate it (`for (const { startMs, samples } of ...)`).
/// Concatenated, the chunks are `decodeAudio(path, { startMs, endMs })`.
#[napi(catch_unwind)]
pub fn audio_chunks(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsAudioChunks> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let (chunk, start, end) = chunk_options(json_of(&env, options)?)?;
        Ok(JsAudioChunks {
            inner: media::audio_chunks(&path, chunk, start, end)?,
        })
    })
}

/// Runs when the addon loads: makes `AudioChunks` iterable (its prototype's
/// `[Symbol.iterator]` returns the object itself, as for any iterator).
#[napi(module_exports)]
pub fn install_iterators(exports: Object<'_>, env: Env) -> napi::Result<()> {
    // The class and `Symbol` are functions: read them as objects without the
    // type check.
    let ctor: Object<'_> = exports.get_named_property_unchecked("AudioChunks")?;
    let mut proto: Object<'_> = ctor.get_named_property("prototype")?;
    let symbol: Object<'_> = env.get_global()?.get_named_property_unchecked("Symbol")?;
    let iterator: Unknown<'_> = symbol.get_named_property("iterator")?;
    let this = env
        .create_function_from_closure::<(), Object<'static>, _>("[Symbol.iterator]", |ctx| {
            ctx.this::<Object<'static>>()
        })?;
    proto.set_property(iterator, this)?;
    Ok(())
}

/// Transcribes one recording file (no store, no checkpoints) off the JS
/// thread; utterance times are `offsetMs + position`.
#[napi(catch_unwind, ts_return_type = "Promise<Transcript>")]
pub fn transcribe(
    env: Env,
    path: Unknown<'_>,
    options: Unknown<'_>,
    on_progress: Option<Unknown<'_>>,
) -> AsyncTask<VapTask<Json>> {
    let args = string_arg(&env, path, "path").and_then(|path| {
        let a = transcribe_args(&env, Some(options), "transcribe options", true)?;
        Ok((path, a, progress_arg(&env, on_progress)?))
    });
    match args {
        Ok((path, a, f)) => {
            let (opts, offset) = (a.opts, a.offset_ms);
            run_async(f, a.aborted, a.watch, move |p| {
                media::transcribe(&path, offset, &opts, p)
            })
        }
        Err(e) => AsyncTask::new(VapTask::failed(e)),
    }
}

/// As `transcribe`, on the JS thread.
#[napi(catch_unwind, ts_return_type = "Transcript")]
pub fn transcribe_sync(
    env: Env,
    path: Unknown<'_>,
    options: Unknown<'_>,
    on_progress: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    let (path, a, f) = call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let a = transcribe_args(&env, Some(options), "transcribeSync options", true)?;
        Ok((path, a, progress_arg(&env, on_progress)?))
    })?;
    run_sync(&env, f, a.aborted, a.watch, |p| {
        media::transcribe(&path, a.offset_ms, &a.opts, p)
    })
}

/// Frame and keyframe times of a recording's video stream.
#[napi(js_name = "VideoIndex")]
pub struct JsVideoIndex {
    inner: VideoIndex,
}

#[napi]
impl JsVideoIndex {
    /// The file indexed.
    #[napi(getter, catch_unwind)]
    pub fn path(&self) -> String {
        self.inner.path.clone()
    }

    /// Index of the video stream in the container.
    #[napi(getter, catch_unwind)]
    pub fn stream(&self) -> u32 {
        u32::try_from(self.inner.stream).unwrap_or(u32::MAX)
    }

    /// Frame times, ms from the container start, sorted.
    #[napi(getter, catch_unwind)]
    pub fn frames_ms(&self) -> Float64Array {
        Float64Array::new(self.inner.frames_ms.clone())
    }

    /// Keyframe times (a subset of `framesMs`), sorted.
    #[napi(getter, catch_unwind)]
    pub fn keyframes_ms(&self) -> Float64Array {
        Float64Array::new(self.inner.keyframes_ms.clone())
    }

    /// Width in pixels.
    #[napi(getter, catch_unwind)]
    pub fn width(&self) -> u32 {
        self.inner.size.0
    }

    /// Height in pixels.
    #[napi(getter, catch_unwind)]
    pub fn height(&self) -> u32 {
        self.inner.size.1
    }

    /// Time of the last frame.
    #[napi(getter, catch_unwind)]
    pub fn end_ms(&self) -> f64 {
        self.inner.end_ms()
    }

    /// Time of the frame shown at `positionMs` (the last at or before it);
    /// `null` before the first frame.
    #[napi(catch_unwind)]
    pub fn frame_at(&self, env: Env, position_ms: Unknown<'_>) -> napi::Result<Option<f64>> {
        call(&env, || {
            Ok(self
                .inner
                .frame_at(number_arg(&env, position_ms, "positionMs")?))
        })
    }

    /// The last keyframe at or before `positionMs` (where a player seeks);
    /// `null` before the first.
    #[napi(catch_unwind)]
    pub fn keyframe_before(&self, env: Env, position_ms: Unknown<'_>) -> napi::Result<Option<f64>> {
        call(&env, || {
            Ok(self
                .inner
                .keyframe_before(number_arg(&env, position_ms, "positionMs")?))
        })
    }
}

/// A finite number.
fn number_arg(env: &Env, v: Unknown<'_>, what: &str) -> vap_core::Result<f64> {
    match v.get_type() {
        // SAFETY: `env` and `v` are live handles of the current call.
        Ok(ValueType::Number) => unsafe { f64::from_napi_value(env.raw(), v.raw()) }
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| invalid(format!("{what} must be a finite number"))),
        _ => Err(invalid(format!("{what} must be a number"))),
    }
}

/// Indexes the frames of a recording's video stream (packets are read, not
/// decoded).
#[napi(catch_unwind)]
pub fn video_index(env: Env, path: Unknown<'_>) -> napi::Result<JsVideoIndex> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        Ok(JsVideoIndex {
            inner: VideoIndex::build(&path)?,
        })
    })
}

/// The frame shown at `positionMs` as RGB pixels (and a PNG with `{ png:
/// true }`), at most `maxWidth` pixels wide (aspect kept). A position past
/// the end gives the last frame.
#[napi(catch_unwind)]
pub fn still_frame(
    env: Env,
    path: Unknown<'_>,
    position_ms: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsStill> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let at = ms_arg(&env, position_ms, "positionMs")?;
        let o = still_options(json_of(&env, options)?, "stillFrame options")?;
        js_still(media::still_frame(&path, at, o.max_width)?, None, o.png)
    })
}

/// The `vap` command line (`vap_core::cli::run`) on `args` (without the
/// program's name), writing to the process's stdout and stderr; returns the
/// exit code. `npx vap --help`.
#[napi(catch_unwind)]
pub fn cli(env: Env, args: Vec<String>) -> napi::Result<i32> {
    call(&env, || {
        Ok(vap_core::cli::run(
            &args,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        ))
    })
}

/// Writes positions `[startMs, endMs)` of the recording at `path` to `out`
/// (`vap_core::media::clip`): a remux from the keyframe before, or with
/// `{ exact: true }` the video re-encoded from the frame at `startMs`.
#[napi(catch_unwind, ts_return_type = "Clip")]
pub fn clip(
    env: Env,
    path: Unknown<'_>,
    start_ms: Unknown<'_>,
    end_ms: Unknown<'_>,
    out: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let start = ms_arg(&env, start_ms, "startMs")?;
        let end = ms_arg(&env, end_ms, "endMs")?;
        let out = string_arg(&env, out, "out")?;
        let exact = <media::CutOptions as vap_core::options::Options>::from_camel_value(json_of(
            &env, options,
        )?)?
        .exact;
        let c = media::clip(&path, start, end, &out, exact)?;
        to_json!(&c)
    })
}

/// Where whisper.cpp's own log lines go, for the whole process: `'silent'`
/// (the default) or `'stderr'` (from `minLevel` up: `'debug'`, `'info'`
/// (default), `'warn'` or `'error'`).
#[napi(catch_unwind)]
pub fn set_whisper_log(
    env: Env,
    mode: Unknown<'_>,
    min_level: Option<Unknown<'_>>,
) -> napi::Result<()> {
    call(&env, || {
        let mode = string_arg(&env, mode, "mode")?;
        let level = crate::convert::opt_string_arg(&env, min_level, "minLevel")?;
        let log = match (mode.as_str(), level.as_deref()) {
            ("silent", None) => WhisperLog::Silent,
            ("silent", Some(_)) => return Err(invalid("minLevel only goes with 'stderr'")),
            ("stderr", l) => WhisperLog::Stderr {
                min: match l.unwrap_or("info") {
                    "debug" => WhisperLogLevel::Debug,
                    "info" => WhisperLogLevel::Info,
                    "warn" => WhisperLogLevel::Warn,
                    "error" => WhisperLogLevel::Error,
                    other => {
                        return Err(invalid(format!(
                            "minLevel must be 'debug', 'info', 'warn' or 'error', got '{other}'"
                        )))
                    }
                },
            },
            (other, _) => {
                return Err(invalid(format!(
                    "mode must be 'silent' or 'stderr', got '{other}'"
                )))
            }
        };
        media::set_whisper_log(log);
        Ok(())
    })
}

// ------------------------------------------------------------------ session

/// Where a session instant is in the recordings.
pub(crate) fn locate_json(data: &SessionData, t_ms: Ms) -> vap_core::Result<Value> {
    match media::locate(data, t_ms) {
        Some(l) => to_json!(&l),
        None => Ok(Value::Null),
    }
}

#[napi]
impl JsSession {
    /// The recording covering session instant `tMs` and the position in it
    /// (`{ recording, path, positionMs }`); `null` when none covers it.
    #[napi(catch_unwind, ts_return_type = "Located | null")]
    pub fn locate(&self, env: Env, t_ms: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || locate_json(&self.data, ms_arg(&env, t_ms, "tMs")?))
    }
}
