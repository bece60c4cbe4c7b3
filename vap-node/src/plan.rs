//! Run-sheets (直播脚本) and plan vs actual (`vap_core::plan`): sheets and
//! reviews cross as plain objects (camelCase field names; a sheet or a
//! playbook given back is read in that form or the core's).

use napi::bindgen_prelude::{AsyncTask, Buffer, FromNapiValue};
use napi::{Env, JsValue, Unknown, ValueType};
use napi_derive::napi;
use serde_json::Value;
use vap_core::options::Options;
use vap_core::plan::{self, PlanOptions, RunSheet, RunSheetOptions};
use vap_core::VapError;

use crate::convert::{json_of, Json};
use crate::error::{call, invalid};
use crate::session::JsSession;
use crate::store::JsStore;
use crate::tasks::VapTask;
use crate::to_json;

fn sheet_of(v: Value) -> vap_core::Result<RunSheet> {
    crate::camel::from_value(v)
        .map_err(|e| VapError::InvalidArgument(format!("not a vap run-sheet: {e}")))
}

/// Reads a run-sheet (直播脚本): a CSV (UTF-8 or GB18030), XLSX or JSON file
/// by path, its bytes (`Buffer`), or an array of row objects; columns in
/// English or Chinese (类型, 时间段 "20:00-20:15", 开始时间, 结束时间, 时长,
/// 主播, 商品, 活动, 话术, 备注). Every problem is reported at once (a
/// `ValidationError` whose `problems` name row and field). Options:
/// `optionDefaults('run_sheet')`. Attach it with `session.withPlan`.
#[napi(
    catch_unwind,
    ts_args_type = "source: string | Buffer | Array<Record<string, unknown>>, options?: RunSheetOptions",
    ts_return_type = "RunSheet"
)]
pub fn read_run_sheet(
    env: Env,
    source: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Json> {
    call(&env, || {
        let opts = RunSheetOptions::from_camel_value(json_of(&env, options)?)?;
        let sheet = match source.get_type() {
            Ok(ValueType::String) => {
                // SAFETY: `source` is a live string of this call's `env`.
                let path = unsafe { String::from_napi_value(env.raw(), source.raw()) }
                    .map_err(|e| invalid(format!("source: {}", e.reason)))?;
                plan::read_run_sheet(&path, &opts)?
            }
            Ok(ValueType::Object) if source.is_buffer().unwrap_or(false) => {
                // SAFETY: checked to be a Buffer of this call's `env`.
                let b = unsafe { Buffer::from_napi_value(env.raw(), source.raw()) }
                    .map_err(|e| invalid(format!("source: {}", e.reason)))?;
                plan::read_run_sheet_bytes("run-sheet", &b, &opts)?
            }
            Ok(ValueType::Object) if source.is_array().unwrap_or(false) => {
                let rows = json_of(&env, Some(source))?;
                let bytes = serde_json::to_vec(&rows).map_err(|e| invalid(e.to_string()))?;
                plan::read_run_sheet_bytes("rows.json", &bytes, &opts)?
            }
            _ => {
                return Err(invalid(
                    "source must be a path, a Buffer or an array of row objects",
                ))
            }
        };
        Ok(Json(to_json!(&sheet)?))
    })
}

/// A run-sheet as CSV text in vap's columns (`kind`, `start`, `end`,
/// `duration`, `anchor`, `product`, `promotion`, `label`,
/// `talking_points`); `readRunSheet` reads it back.
#[napi(catch_unwind, ts_args_type = "sheet: RunSheet")]
pub fn run_sheet_to_csv(env: Env, sheet: Unknown<'_>) -> napi::Result<String> {
    call(&env, || Ok(sheet_of(json_of(&env, Some(sheet))?)?.to_csv()))
}

#[napi]
impl JsSession {
    /// The run-sheet attached to the session (`withPlan`), or null.
    #[napi(getter, catch_unwind, ts_return_type = "RunSheet | null")]
    pub fn plan(&self, env: Env) -> napi::Result<Value> {
        call(&env, || match &self.data.session.plan {
            Some(p) => to_json!(p),
            None => Ok(Value::Null),
        })
    }

    /// A copy with a run-sheet attached (`readRunSheet`; null removes it),
    /// checked against this session now (an item ending before it starts is
    /// an error naming its row); kept with the session in directories and
    /// the store, compared by `replay` and `planVsActual`.
    #[napi(catch_unwind, ts_args_type = "sheet: RunSheet | null")]
    pub fn with_plan(&self, env: Env, sheet: Option<Unknown<'_>>) -> napi::Result<JsSession> {
        call(&env, || {
            let v = json_of(&env, sheet)?;
            let plan = if v.is_null() {
                None
            } else {
                Some(sheet_of(v)?)
            };
            Ok(self.data.with_plan(plan)?.into())
        })
    }

    /// The session against its run-sheet: each planned shift, product slot
    /// and promotion matched with what ran (status `on_plan`, `late`, `early`,
    /// `longer`, `shorter`, `skipped`, `added`), talking points said or not,
    /// and what each deviation earned or cost according to the attribution
    /// model, with 95 % bootstrap intervals. Options:
    /// `optionDefaults('plan')`, camelCase.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: PlanOptions",
        ts_return_type = "PlanReview"
    )]
    pub fn plan_vs_actual(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<Json> {
        call(&env, || {
            let o = PlanOptions::from_camel_value(json_of(&env, options)?)?;
            Ok(Json(to_json!(&plan::compare(&self.data, &o)?)?))
        })
    }

    /// As `planVsActual`, on the libuv thread pool; returns a Promise.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: PlanOptions",
        ts_return_type = "Promise<PlanReview>"
    )]
    pub fn plan_vs_actual_async(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<Json>> {
        let task = match json_of(&env, options).and_then(PlanOptions::from_camel_value) {
            Ok(o) => {
                let data = self.data.clone();
                VapTask::new(move || Ok(Json(to_json!(&plan::compare(&data, &o)?)?)))
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }
}

/// A room's playbook from its history (at least two sessions of one room):
/// which anchor should host which category, whether flash sales pay more
/// early or late, which products earn most per explain minute; each
/// recommendation with its evidence, weak where thin ("not enough
/// evidence" when nothing stands out), and a draft run-sheet. Options:
/// `optionDefaults('playbook')`, camelCase.
#[napi(
    catch_unwind,
    ts_args_type = "sessions: Session[], options?: PlaybookOptions",
    ts_return_type = "Playbook"
)]
pub fn playbook(
    env: Env,
    sessions: Vec<&JsSession>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Json> {
    call(&env, || {
        let o = plan::PlaybookOptions::from_camel_value(json_of(&env, options)?)?;
        let data: Vec<&vap_core::SessionData> = sessions.iter().map(|s| &*s.data).collect();
        Ok(Json(to_json!(&plan::playbook(&data, &o)?)?))
    })
}

/// As `playbook`, on the libuv thread pool; returns a Promise.
#[napi(
    catch_unwind,
    ts_args_type = "sessions: Session[], options?: PlaybookOptions",
    ts_return_type = "Promise<Playbook>"
)]
pub fn playbook_async(
    env: Env,
    sessions: Vec<&JsSession>,
    options: Option<Unknown<'_>>,
) -> AsyncTask<VapTask<Json>> {
    let data: Vec<std::sync::Arc<vap_core::SessionData>> =
        sessions.iter().map(|s| s.data.clone()).collect();
    let task = match json_of(&env, options).and_then(plan::PlaybookOptions::from_camel_value) {
        Ok(o) => VapTask::new(move || Ok(Json(to_json!(&plan::playbook(&data, &o)?)?))),
        Err(e) => VapTask::failed(e),
    };
    AsyncTask::new(task)
}

#[napi]
impl JsStore {
    /// The room's playbook from its stored sessions, read one at a time
    /// (options as `playbook`).
    #[napi(
        catch_unwind,
        ts_args_type = "room: string, options?: PlaybookOptions",
        ts_return_type = "Playbook"
    )]
    pub fn playbook(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Json> {
        call(&env, || {
            let room = crate::convert::string_arg(&env, room, "room")?;
            let o = plan::PlaybookOptions::from_camel_value(json_of(&env, options)?)?;
            Ok(Json(to_json!(&plan::store_playbook(
                &self.inner,
                &room,
                &o
            )?)?))
        })
    }

    /// As `playbook`, on the libuv thread pool; returns a Promise.
    #[napi(
        catch_unwind,
        ts_args_type = "room: string, options?: PlaybookOptions",
        ts_return_type = "Promise<Playbook>"
    )]
    pub fn playbook_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<Json>> {
        let args = crate::convert::string_arg(&env, room, "room").and_then(|room| {
            let (o, job) = crate::jobs::controls(&env, options)?;
            Ok((room, plan::PlaybookOptions::from_camel_value(o)?, job))
        });
        let task = match args {
            Ok((room, o, job)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    let p = job.run(|| plan::store_playbook(&store, &room, &o))?;
                    Ok(Json(to_json!(&p)?))
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }
}

/// A playbook as one self-contained HTML page, recommendations first
/// (report options: `lang`, `fragment`).
#[napi(
    catch_unwind,
    ts_args_type = "playbook: Playbook, options?: ReportOptions"
)]
pub fn playbook_html(
    env: Env,
    playbook: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<String> {
    call(&env, || {
        let p: plan::Playbook = crate::camel::from_value(json_of(&env, Some(playbook))?)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap playbook: {e}")))?;
        let o = vap_core::report::ReportOptions::from_camel_value(json_of(&env, options)?)?;
        vap_core::report::playbook_html(&p, &o)
    })
}
