//! Stopping and progress of long calls (`vap_core::job`) from JS: the
//! options of a long `...Async` call may carry `signal` (an `AbortSignal`:
//! aborting it stops the call, which rejects with `VAP_CANCELLED` and leaves
//! nothing half-written) and `onProgress` (called on the JS thread with
//! `{ stage, done, total }` as the call goes: sessions of a room, bootstrap
//! replicates, files of an import). Both are split off before the core
//! reads the rest of the options.

use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
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

/// How long a worker waits for the JS thread before checking whether the
/// callback was torn down (the environment exiting).
const POLL: Duration = Duration::from_millis(200);

/// `options` without `signal` and `onProgress` (as JSON, for the core), and
/// the job they make.
pub(crate) fn controls(env: &Env, options: Option<Unknown<'_>>) -> vap_core::Result<(Value, Job)> {
    let Some(u) = options else {
        return Ok((Value::Null, Job::default()));
    };
    if !matches!(u.get_type(), Ok(ValueType::Object)) || u.is_array().unwrap_or(false) {
        return Ok((json_of(env, Some(u))?, Job::default()));
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
    let tsfn: Option<StepFn> = match progress_arg(env, on_progress)? {
        None => None,
        Some(f) => Some(
            f.build_threadsafe_function::<JsStep>()
                .build_callback(|ctx: ThreadsafeCallContext<JsStep>| {
                    serde_json::to_value(&ctx.value)
                        .map_err(|e| napi::Error::from_reason(e.to_string()))
                })
                .map_err(|e| invalid(format!("onProgress: {}", e.reason)))?,
        ),
    };
    let stopped = Arc::new(AtomicBool::new(false));
    if let Some(sig) = signal {
        watch_signal(env, sig, &stopped)?;
    }
    let on_step = tsfn.map(|f| {
        Box::new(move |s: &Step<'_>| {
            // Progress is for showing, not for steering (stop with the
            // signal): what the callback returns or throws is ignored. The
            // worker waits for the call, so every report has been made before
            // the Promise settles.
            let (tx, rx) = mpsc::channel::<()>();
            let status = f.call_with_return_value(
                JsStep {
                    stage: s.stage.to_string(),
                    done: s.done,
                    total: s.total,
                },
                ThreadsafeFunctionCallMode::NonBlocking,
                move |_: napi::Result<Reply>, _env| {
                    let _ = tx.send(());
                    Ok(())
                },
            );
            if status != Status::Ok {
                return;
            }
            loop {
                match rx.recv_timeout(POLL) {
                    Err(mpsc::RecvTimeoutError::Timeout) if !f.aborted() => continue,
                    _ => return,
                }
            }
        }) as Box<vap_core::job::OnStep>
    });
    let opts = if rest.is_empty() {
        Value::Null
    } else {
        Value::Object(rest)
    };
    Ok((opts, Job::with_flag(stopped, on_step)))
}
