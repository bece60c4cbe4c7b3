//! Stopping and progress of long calls (`vap_core::job`) from JS: the
//! options of a long `...Async` call may carry `signal` (an `AbortSignal`:
//! aborting it stops the call, which rejects with `VAP_CANCELLED` and leaves
//! nothing half-written) and `onProgress` (called on the JS thread with
//! `{ stage, done, total }` as the call goes: sessions of a room, bootstrap
//! replicates, files of an import). Both are split off before the core
//! reads the rest of the options.
//!
//! The `'abort'` listener a call adds to its caller's signal is removed when
//! the call settles ([`SignalWatch`]): a service passing one long-lived
//! signal to many calls does not collect listeners.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use napi::bindgen_prelude::{FnArgs, FromNapiValue, Function, FunctionRef, JsObjectValue, Object};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{sys, Env, JsValue, Status, Unknown, ValueType};
use serde::Serialize;
use serde_json::{Map, Value};
use vap_core::job::{Job, Step};
use vap_core::VapError;

use crate::convert::json_of;
use crate::error::invalid;
use crate::media::{progress_arg, Reply};

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

/// A long call's job, the progress reports still on their way to JS, and
/// the listener it added to its signal.
pub(crate) struct Controls {
    job: Job,
    pending: Arc<(Mutex<usize>, Condvar)>,
    tsfn: Option<Arc<StepFn>>,
    watch: Option<SignalWatch>,
}

impl Controls {
    /// Runs `f` under the job, then waits (on the libuv thread that runs the
    /// task, never on vap's pool) until every progress report it queued has
    /// been delivered and the signal's listener is removed, so that all of
    /// that is done before the Promise settles.
    pub(crate) fn run<T>(self, f: impl FnOnce() -> T) -> T {
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
        if let Some(w) = self.watch {
            w.remove();
        }
        out
    }
}

/// `EventTarget.addEventListener(type, listener, options)`.
type AddEventListener<'a> =
    Function<'a, FnArgs<(&'a str, Function<'a, (), ()>, Object<'a>)>, Unknown<'a>>;

/// `Function.prototype.bind` of `removeEventListener`: `(signal, type, listener)`.
type BindRemove<'a> =
    Function<'a, FnArgs<(Object<'a>, &'a str, Function<'a, (), ()>)>, Function<'a, (), Reply>>;

/// The bound `removeEventListener`, callable from any thread.
type RemoveFn = ThreadsafeFunction<(), Reply, (), Status, false>;

/// The `'abort'` listener a call added to its caller's `AbortSignal`,
/// removed when the call settles: by [`SignalWatch::remove`] at the end of
/// its work (on the libuv thread, which waits until the JS thread has removed
/// it, so that it is gone before the Promise settles), or when dropped
/// unremoved (a synchronous call's end, or a call refused after the listener
/// was added: removed at once on the JS thread, queued from any other).
pub(crate) struct SignalWatch {
    /// The JS thread that added the listener, and its environment.
    thread: ThreadId,
    env: sys::napi_env,
    /// `signal.removeEventListener.bind(signal, 'abort', listener)`.
    remover: FunctionRef<(), Reply>,
    /// The same as a threadsafe function.
    remote: RemoveFn,
    removed: bool,
}

// SAFETY: `env` is only used on the thread that created the watch (checked
// against `thread`); the function reference and the threadsafe function are
// released safely from any thread.
unsafe impl Send for SignalWatch {}

impl SignalWatch {
    /// Removes the listener now (from the JS thread) or waits until the JS
    /// thread has (from any other; not when the environment is exiting).
    pub(crate) fn remove(mut self) {
        if !self.on_js_thread() {
            let (tx, rx) = mpsc::channel::<()>();
            let status = self.remote.call_with_return_value(
                (),
                ThreadsafeFunctionCallMode::NonBlocking,
                move |_: napi::Result<Reply>, _env| {
                    let _ = tx.send(());
                    Ok(())
                },
            );
            if status == Status::Ok {
                loop {
                    match rx.recv_timeout(POLL) {
                        Err(mpsc::RecvTimeoutError::Timeout) if !self.remote.aborted() => continue,
                        _ => break,
                    }
                }
            }
            self.removed = true;
        }
        // On the JS thread, `drop` removes it.
    }

    fn on_js_thread(&self) -> bool {
        thread::current().id() == self.thread
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        if self.on_js_thread() {
            // SAFETY: the environment of this thread, which created the watch.
            let env = Env::from_raw(self.env);
            // Nothing to do if it fails: the environment is exiting.
            if let Ok(f) = self.remover.borrow_back(&env) {
                let _ = f.call(());
            }
        } else {
            let _ = self
                .remote
                .call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Sets `flag` when `signal` (an `AbortSignal`, or `undefined`) aborts; an
/// already aborted signal is refused. The listener stays until the returned
/// watch removes it.
pub(crate) fn watch_signal(
    env: &Env,
    signal: Unknown<'_>,
    flag: &Arc<AtomicBool>,
) -> vap_core::Result<Option<SignalWatch>> {
    let bad = || invalid("option 'signal' must be an AbortSignal");
    match signal.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(None),
        Ok(ValueType::Object) => {}
        _ => return Err(bad()),
    }
    // SAFETY: `signal` is a live object handle of the current call.
    let obj = unsafe { Object::from_napi_value(env.raw(), signal.raw()) }.map_err(|_| bad())?;
    let aborted: bool = obj.get_named_property("aborted").map_err(|_| bad())?;
    let add: AddEventListener<'_> = obj
        .get_named_property("addEventListener")
        .map_err(|_| bad())?;
    let remove: Function<'_, (), ()> = obj
        .get_named_property("removeEventListener")
        .map_err(|_| bad())?;
    if aborted {
        // Nothing has run yet: refuse rather than start.
        return Err(invalid(
            "option 'signal' is already aborted: the call was not started",
        ));
    }
    let internal = |what: &str, e: napi::Error| {
        VapError::Internal(format!("{what} the abort listener: {}", e.reason))
    };
    let f = flag.clone();
    let listener = env
        .create_function_from_closure::<(), (), _>("vapAbort", move |_| {
            f.store(true, Ordering::SeqCst);
            Ok(())
        })
        .map_err(|e| internal("creating", e))?;
    // What removes it, made before it is added (nothing to undo on failure).
    let bind: BindRemove<'_> = remove
        .get_named_property_unchecked("bind")
        .map_err(|e| internal("binding", e))?;
    let remover = bind
        .apply(remove, FnArgs::from((obj, "abort", listener)))
        .map_err(|e| internal("binding", e))?;
    let remote: RemoveFn = remover
        .build_threadsafe_function::<()>()
        .build()
        .map_err(|e| internal("binding", e))?;
    let remover = remover.create_ref().map_err(|e| internal("binding", e))?;
    let mut once = Object::new(env).map_err(|e| VapError::Internal(e.reason.clone()))?;
    once.set_named_property("once", true)
        .map_err(|e| VapError::Internal(e.reason.clone()))?;
    add.apply(obj, FnArgs::from(("abort", listener, once)))
        .map_err(|e| {
            invalid(format!(
                "option 'signal': addEventListener failed: {}",
                e.reason
            ))
        })?;
    Ok(Some(SignalWatch {
        thread: thread::current().id(),
        env: env.raw(),
        remover,
        remote,
        removed: false,
    }))
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
                watch: None,
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
                watch: None,
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
                    crate::camel::to_value(&ctx.value)
                        .map_err(|e| napi::Error::from_reason(e.to_string()))
                })
                .map_err(|e| invalid(format!("onProgress: {}", e.reason)))?,
        )),
    };
    let stopped = Arc::new(AtomicBool::new(false));
    let watch = match signal {
        Some(sig) => watch_signal(env, sig, &stopped)?,
        None => None,
    };
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
            watch,
        },
    ))
}
