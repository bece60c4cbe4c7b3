//! # vap-node
//!
//! N-API binding of **vap** (live-stream e-commerce analytics). This crate only
//! converts and delegates: the engine is `vap-core`.
//!
//! * the `Session` class, `loadDir` and `fromTables` are in [`session`];
//! * the `Store` class is in [`store`];
//! * `Timeline`, offsets, as-of joins and the lexicon are in [`align`];
//! * `attribute`, `Attribution`, `Decomposition` and `RoomModel` are in [`attribute`];
//! * recordings (`probe`, `decodeAudio`, `audioChunks`, `transcribe`, `videoIndex`,
//!   `stillFrame`, `setWhisperLog`, `Session.locate`) are in [`media`], the
//!   store's recording methods in [`store`];
//! * `simulate` is in [`sim`];
//! * the `AsyncTask` behind every `*Async` function is in [`tasks`];
//! * [`error`] is the one place where a `VapError` or a panic becomes a JS
//!   `Error` with `code` and `problems`;
//! * JS value ↔ core type conversions are in [`convert`]; [`camel`] writes
//!   results with camelCase field names and reads them back;
//! * an `AbortSignal`'s listener and `onProgress` of long calls are in [`jobs`].
//!
//! Every export runs its core call under `catch_unwind`: a Rust panic is thrown
//! as an `Error` with code `VAP_INTERNAL`, never a process crash.
#![deny(missing_docs)]

/// mimalloc for every allocation the module makes: loading a 12-hour session
/// makes and frees millions of short strings, 0.26 s against 0.36 s with
/// glibc's allocator (README, Replays, Speed). Memory handed to the host is
/// copied, or freed by this module's own release callbacks, never by the
/// host's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options as vap-core gives them
/// ([`vap_core::threads::ALLOCATOR_OPTIONS`]: `purge_delay` 100 ms, no
/// transparent huge pages; why, with the figures, there and in the README's
/// Building notes), set when the addon is loaded (a library constructor),
/// before it allocates. An option set in mimalloc's environment stays.
#[napi_derive::module_init]
fn tune_allocator() {
    /// `mi_option_allow_thp` (vap-core's second option) is the fourth from
    /// the end of mimalloc 3's `mi_option_e`: a mimalloc whose list of
    /// options changed fails here.
    const _: () =
        assert!(libmimalloc_sys::_mi_option_last == vap_core::threads::ALLOCATOR_OPTIONS[1].0 + 4);
    for (option, env, value) in vap_core::threads::ALLOCATOR_OPTIONS {
        if std::env::var_os(env).is_none() {
            // SAFETY: sets one of mimalloc's global options; any value is valid.
            unsafe { libmimalloc_sys::mi_option_set(option, value as _) };
        }
    }
}

use napi::{Env, Unknown};
use napi_derive::napi;

// `Session` and `Store` first: a `#[napi] impl` block takes its class's JS
// name from the struct, which napi-derive must have expanded before it (an
// impl expanded earlier falls back to the Rust name, `JsSession`, and which
// name the class finally gets then depends on the link order). Modules expand
// in the order they are declared here, so the structs of the classes that
// other modules add methods to are declared first (a group of their own, so
// that rustfmt keeps them there).
pub mod session;
pub mod store;

pub mod align;
pub mod attribute;
pub mod camel;
pub mod convert;
pub mod detect;
pub mod error;
pub mod jobs;
pub mod live;
pub mod media;
pub mod plan;
pub mod reduce;
pub mod replay;
pub mod sim;
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

/// Every error code (`error.code` of what vap throws), in the core's order
/// (`vap_core::ErrorKind::ALL`); `index.js` exports it as `ERROR_CODES`.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<&'static str> {
    vap_core::ErrorKind::codes().to_vec()
}

/// The tables of a session, in write order (`vap_core::table::TableName::ALL`);
/// `index.js` exports it as `TABLE_NAMES`.
#[napi(catch_unwind)]
pub fn table_names() -> Vec<&'static str> {
    vap_core::table::TableName::names().to_vec()
}

/// The names of vap's option sets (`vap_core::OPTION_SETS`); `index.js`
/// exports it as `OPTION_SETS`.
#[napi(catch_unwind)]
pub fn option_sets() -> Vec<&'static str> {
    vap_core::OPTION_SETS.to_vec()
}

/// The defaults of an option set, as the core holds them (durations in ms,
/// keys in camelCase): what every "default" in the TypeScript docs refers to.
#[napi(catch_unwind)]
pub fn option_defaults(env: Env, name: Unknown<'_>) -> napi::Result<serde_json::Value> {
    call(&env, || {
        let name = convert::string_arg(&env, name, "name")?;
        vap_core::resolve_options(&name, serde_json::Value::Null, true)
    })
}

/// Options of a set as written (camelCase keys), checked by the core and
/// returned whole: defaults filled, in the core's form (durations in ms),
/// keys in camelCase.
#[napi(catch_unwind)]
pub fn resolve_options(
    env: Env,
    name: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<serde_json::Value> {
    call(&env, || {
        let name = convert::string_arg(&env, name, "name")?;
        vap_core::resolve_options(&name, convert::json_of(&env, options)?, true)
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
        panic!("{message}")
    })
}
