//! # vap-node
//!
//! N-API binding of **vap** (live-stream e-commerce analytics). This crate only
//! converts and delegates: the engine is `vap-core`.
//!
//! * the `Session` class, `loadDir` and `fromTables` are in [`session`];
//! * the `Store` class is in [`store`];
//! * `Timeline`, offsets, as-of joins and the lexicon are in [`align`];
//! * `attribute`, `Attribution`, `Decomposition` and `RoomModel` are in [`attribute`];
//! * recordings (`probe`, `decodeAudio`, `transcribe`, `videoIndex`,
//!   `stillFrame`, `setWhisperLog`, `Session.locate`) are in [`media`], the
//!   store's recording methods in [`store`];
//! * `simulate` is in [`sim`];
//! * the `AsyncTask` behind every `*Async` function is in [`tasks`];
//! * [`error`] is the one place where a `VapError` or a panic becomes a JS
//!   `Error` with `code` and `problems`;
//! * JS value ↔ core type conversions are in [`convert`].
//!
//! Every export runs its core call under `catch_unwind`: a Rust panic is thrown
//! as an `Error` with code `VAP_INTERNAL`, never a process crash.
#![deny(missing_docs)]

use napi::{Env, Unknown};
use napi_derive::napi;

pub mod align;
pub mod attribute;
pub mod convert;
pub mod detect;
pub mod error;
pub mod media;
pub mod session;
pub mod sim;
pub mod store;
pub mod tasks;

use convert::string_arg;
use error::call;

/// Largest thread count `setNumThreads` accepts (a guard against `-1` or
/// `1e9` turning into a request for billions of threads).
const MAX_THREADS: u32 = 1024;

/// Sets the number of threads vap uses (0 = the default: the number of CPUs;
/// at most 1024).
#[napi(catch_unwind)]
pub fn set_num_threads(env: Env, n: Unknown<'_>) -> napi::Result<()> {
    call(&env, || {
        let n = convert::count_arg(&env, n, "n", MAX_THREADS)?;
        vap_core::threads::set_num_threads(n as usize)
    })
}

/// The number of threads vap's pool runs.
#[napi(catch_unwind)]
pub fn num_threads(env: Env) -> napi::Result<u32> {
    call(&env, || {
        Ok(u32::try_from(vap_core::threads::num_threads()).unwrap_or(u32::MAX))
    })
}

/// The version of vap.
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Panics inside vap on purpose, to prove that a panic becomes a thrown
/// `VAP_INTERNAL` error. For tests only.
#[napi(js_name = "__panicForTests", catch_unwind)]
pub fn panic_for_tests(env: Env, message: Unknown<'_>) -> napi::Result<()> {
    call(&env, || {
        let message = string_arg(&env, message, "message")?;
        vap_core::__panic_for_tests(&message)
    })
}
