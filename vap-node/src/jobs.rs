//! Stopping and progress of long calls (`vap_core::job`) from JS: the
//! options of a long `...Async` call may carry `signal` (an `AbortSignal`:
//! aborting it stops the call, which rejects with `VAP_CANCELLED` and leaves
//! nothing half-written) and `onProgress` (called on the JS thread with
//! `{ stage, done, total }` as the call goes: sessions of a room, bootstrap
//! replicates, files of an import). Both are split off before the core
//! reads the rest of the options.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, JsValue, Status, Unknown, ValueType};
use serde::Serialize;
use serde_json::{Map, Value};
use vap_core::job::{Job, Step};

use crate::convert::json_of;
use crate::error::invalid;
use crate::media::{progress_arg, watch_signal, Reply};

/// A step as JS receives it.
#[derive(Clone, Serialize)]
struct JsStep {
    stage: String,
    done: usize,
    total: usize,
}

type StepFn = ThreadsafeFunction<JsStep, Reply, Value, Status, false>;

/// How long the task waits for its reports before checking whether the
/// callback was torn down (the environment exiting).
const POLL: Duration = Duration::from_millis(200);

/// A long call's job, and the progress reports still on their way to JS.
pub(crate) struct Controls {
    job: Job,
    pending: Arc<(Mutex<usize>, Condvar)>,
    tsfn: Option<Arc<StepFn>>,
}

impl Controls {
    /// Runs `f` under the job, then waits (on the libuv thread that runs the
    /// task, never on vap's pool) until every progress report it queued has
    /// been delivered, so that all of them reach JS before the Promise
    /// settles.
    pub(crate) fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let out = self.job.run(f);
        if let Some(tsfn) = &self.tsfn {
            let (m, cv) = &*self.pending;
            let mut n = m.lock().unwrap_or_else(|e| e.into_inner());
            while *n > 0 && !tsfn.aborted() {
                n = cv
                    .wait_timeout(n, POLL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        out
    }
}

/// `options` without `signal` and `onProgress` (as JSON, for the core), and
/// the controls they make.
pub(crate) fn controls(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> vap_core::Result<(Value, Controls)> {
    let pending: Arc<(Mutex<usize>, Condvar)> = Arc::default();
    let Some(u) = options else {
        return Ok((
            Value::Null,
            Controls {
                job: Job::default(),
                pending,
                tsfn: None,
            },
        ));
    };
    if !matches!(u.get_type(), Ok(ValueType::Object)) || u.is_array().unwrap_or(false) {
        return Ok((
            json_of(env, Some(u))?,
            Controls {
                job: Job::default(),
                pending,
                tsfn: None,
            },
        ));
    }
    // SAFETY: checked to be an object of this call's `env`.
    let obj = unsafe { Object::from_napi_value(env.raw(), u.raw()) }
        .map_err(|e| invalid(format!("options: {}", e.reason)))?;
    let keys = Object::keys(&obj).map_err(|e| invalid(format!("options: {}", e.reason)))?;
    let (mut signal, mut on_progress) = (None, None);
    let mut rest = Map::new();
    for k in keys {
        let v: Unknown<'_> = obj
            .get_named_property_unchecked(&k)
            .map_err(|e| invalid(format!("options.{k}: {}", e.reason)))?;
        match k.as_str() {
            "signal" => signal = Some(v),
            "onProgress" => on_progress = Some(v),
            _ => {
                rest.insert(k, json_of(env, Some(v))?);
            }
        }
    }
    let tsfn: Option<Arc<StepFn>> = match progress_arg(env, on_progress)? {
        None => None,
        Some(f) => Some(Arc::new(
            f.build_threadsafe_function::<JsStep>()
                .build_callback(|ctx: ThreadsafeCallContext<JsStep>| {
                    serde_json::to_value(&ctx.value)
                        .map_err(|e| napi::Error::from_reason(e.to_string()))
                })
                .map_err(|e| invalid(format!("onProgress: {}", e.reason)))?,
        )),
    };
    let stopped = Arc::new(AtomicBool::new(false));
    if let Some(sig) = signal {
        watch_signal(env, sig, &stopped)?;
    }
    let on_step = tsfn.clone().map(|f| {
        let pending = Arc::clone(&pending);
        Box::new(move |s: &Step<'_>| {
            // Queued without waiting: a thread of vap's pool must never wait
            // for the JS thread (which may itself be waiting for the pool in
            // a synchronous call). What the callback returns or throws is
            // ignored: stop with the signal.
            let done = Arc::clone(&pending);
            *pending.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            let status = f.call_with_return_value(
                JsStep {
                    stage: s.stage.to_string(),
                    done: s.done,
                    total: s.total,
                },
                ThreadsafeFunctionCallMode::NonBlocking,
                move |_: napi::Result<Reply>, _env| {
                    let (m, cv) = &*done;
                    *m.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                    cv.notify_all();
                    Ok(())
                },
            );
            if status != Status::Ok {
                let (m, cv) = &*pending;
                *m.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                cv.notify_all();
            }
        }) as Box<vap_core::job::OnStep>
    });
    let opts = if rest.is_empty() {
        Value::Null
    } else {
        Value::Object(rest)
    };
    Ok((
        opts,
        Controls {
            job: Job::with_flag(stopped, on_step),
            pending,
            tsfn,
        },
    ))
}
