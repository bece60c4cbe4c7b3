//! `simulate` / `simulateAsync`: seeded synthetic rooms with ground truth.

use napi::bindgen_prelude::{AsyncTask, JsObjectValue, Object, ToNapiValue, TypeName};
use napi::{sys, Env, JsValue, Unknown, ValueType};
use napi_derive::napi;
use serde_json::Value;
use vap_core::options::Options;
use vap_core::sim::{self, SimConfig, SimRoom};

use crate::convert::json_of;
use crate::error::call;
use crate::session::JsSession;
use crate::tasks::VapTask;

/// A camelCase config object → [`SimConfig`], by the core (missing fields
/// take its defaults).
fn sim_config(v: Value) -> vap_core::Result<SimConfig> {
    SimConfig::from_camel_value(v)
}

/// The result of a simulation: `{ data: Session, truth }`. `truth` is
/// `sim::Truth` with camelCase field names, per-second `series` included
/// (plain number arrays).
pub struct SimResult(SimRoom);

impl TypeName for SimResult {
    fn type_name() -> &'static str {
        "SimResult"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for SimResult {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let SimRoom { data, truth } = val.0;
        let mut obj = Object::new(&env)?;
        let truth = crate::camel::to_value(&truth)
            .map_err(|e| napi::Error::from_reason(format!("serialising the truth: {e}")))?;
        obj.set_named_property("data", JsSession::from(data))?;
        obj.set_named_property("truth", truth)?;
        Ok(obj.raw())
    }
}

/// Simulates one session of a live room (deterministic for a given config, on
/// any number of threads).
#[napi(catch_unwind, ts_return_type = "SimResult")]
pub fn simulate(env: Env, config: Option<Unknown<'_>>) -> napi::Result<SimResult> {
    call(&env, || {
        let cfg = sim_config(json_of(&env, config)?)?;
        Ok(SimResult(sim::simulate(&cfg)?))
    })
}

/// As `simulate`, on the libuv thread pool; returns a Promise.
#[napi(catch_unwind, ts_return_type = "Promise<SimResult>")]
pub fn simulate_async(env: Env, config: Option<Unknown<'_>>) -> AsyncTask<VapTask<SimResult>> {
    let task = match json_of(&env, config).and_then(sim_config) {
        Ok(cfg) => VapTask::new(move || Ok(SimResult(sim::simulate(&cfg)?))),
        Err(e) => VapTask::failed(e),
    };
    AsyncTask::new(task)
}
