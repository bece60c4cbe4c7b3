//! Background work for the `*Async` functions: the core call runs on the libuv
//! thread pool (under [`guard`]), and its error becomes a rejected Promise with
//! the same `code` / `problems` as the synchronous variant's throw. A task can
//! also carry a JS exception raised by a callback it made while running (see
//! [`VapTask::with_js_error`]): the Promise then rejects with that exception.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, Task};
use vap_core::VapError;

use crate::error::{guard, to_napi};

type Work<T> = Box<dyn FnOnce() -> vap_core::Result<T> + Send>;

/// A core call run off the JS thread.
pub struct VapTask<T: Send + 'static> {
    work: Option<Work<T>>,
    error: Option<VapError>,
    js_error: Option<Arc<Mutex<Option<napi::Error>>>>,
}

impl<T: Send + 'static> VapTask<T> {
    /// A task running `work`.
    pub(crate) fn new(work: impl FnOnce() -> vap_core::Result<T> + Send + 'static) -> Self {
        VapTask {
            work: Some(Box::new(work)),
            error: None,
            js_error: None,
        }
    }

    /// The same task, rejecting with the exception left in `slot` (by a JS
    /// callback the work called) in preference to the work's own error.
    pub(crate) fn with_js_error(mut self, slot: Arc<Mutex<Option<napi::Error>>>) -> Self {
        self.js_error = Some(slot);
        self
    }

    /// A task that fails with `e` (an argument error found before the work
    /// started), so that the Promise rejects rather than the call throwing.
    pub(crate) fn failed(e: VapError) -> Self {
        VapTask {
            work: None,
            error: Some(e),
            js_error: None,
        }
    }
}

impl<T> Task for VapTask<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<T> {
        let result = match self.work.take() {
            Some(work) => guard(work),
            None => Err(self
                .error
                .take()
                .unwrap_or_else(|| VapError::Internal("task ran twice".into()))),
        };
        result.map_err(|e| {
            let msg = e.to_string();
            self.error = Some(e);
            napi::Error::from_reason(msg)
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<T> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<T> {
        let thrown = self
            .js_error
            .as_ref()
            .and_then(|s| s.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(e) = thrown {
            return Err(e);
        }
        match self.error.take() {
            Some(e) => Err(to_napi(&env, e)),
            None => Err(err),
        }
    }
}
