//! Error conversion and panic containment: the one place where a
//! [`VapError`] (or a caught panic) becomes a JS `Error`.
//!
//! Every thrown error is a plain JS `Error` whose `code` is
//! [`vap_core::ErrorKind::code`] (`"VAP_VALIDATION"`, `"VAP_IO"`, ...) and whose
//! `problems` is the array of `{ file, row, field, message }` of a validation
//! error (empty for the other kinds).

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::JsObjectValue;
use napi::{Env, JsValue, Status};
use vap_core::VapError;

/// Runs `f`, turning a panic into [`VapError::Internal`].
pub fn guard<T>(f: impl FnOnce() -> vap_core::Result<T>) -> vap_core::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = vap_core::error::panic_message(payload.as_ref());
            Err(VapError::Internal(format!("panic in vap: {msg}")))
        }
    }
}

/// Runs `f` under [`guard`] and converts its error to a JS error.
pub fn call<T>(env: &Env, f: impl FnOnce() -> vap_core::Result<T>) -> napi::Result<T> {
    guard(f).map_err(|e| to_napi(env, e))
}

/// Converts a [`VapError`] into a napi error carrying a JS `Error` object with
/// `code` and `problems` set.
pub fn to_napi(env: &Env, e: VapError) -> napi::Error {
    match js_error(env, &e) {
        Ok(err) => err,
        // Building the object failed (the env is tearing down): fall back to a
        // plain error whose code napi sets from the status string.
        Err(_) => napi::Error::new(Status::GenericFailure, format!("[{}] {e}", e.kind().code())),
    }
}

fn js_error(env: &Env, e: &VapError) -> napi::Result<napi::Error> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, e.to_string()))?;
    obj.set_named_property("code", e.kind().code())?;
    obj.set_named_property("problems", env.to_js_value(&e.problems())?)?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// A [`VapError::InvalidArgument`].
pub fn invalid(msg: impl Into<String>) -> VapError {
    VapError::InvalidArgument(msg.into())
}
