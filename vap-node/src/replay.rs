//! The replays (`vap_core::replay`) and viewers' questions
//! (`vap_core::align::questions`): a `Replay` class holding the core's object;
//! options arrive camelCase, everything else goes back as plain objects with
//! camelCase field names (tables keep their column names).

use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;
use vap_core::align::{self, QuestionOptions};
use vap_core::options::Options;
use vap_core::replay::{self, Replay, Role, SubtitleOptions};
use vap_core::report::{self, ReportOptions};

use crate::convert::{json_of, string_arg};
use crate::error::call;
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

/// A session replay (直播复盘) with its product and anchor replays.
#[napi(js_name = "Replay")]
pub struct JsReplay {
    /// Shared with the `*Async` methods' background work.
    pub(crate) inner: Arc<Replay>,
}

impl From<Replay> for JsReplay {
    fn from(inner: Replay) -> Self {
        JsReplay {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl JsReplay {
    /// The whole replay as plain data (every question is in
    /// `table('questions')`); called by `JSON.stringify`.
    #[napi(js_name = "toJSON", catch_unwind, ts_return_type = "ReplayData")]
    pub fn to_json(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&*self.inner))
    }

    /// The replay as one role reads it: `'operator'`, `'anchor'` or
    /// `'fieldControl'` (also `'field_control'`).
    #[napi(
        catch_unwind,
        ts_return_type = "Partial<ReplayData> & { role: string }"
    )]
    pub fn view(&self, env: Env, role: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let r = string_arg(&env, role, "role")?;
            let r = if r == "fieldControl" {
                "field_control".to_string()
            } else {
                r
            };
            // The core picks the role's sections (by their snake_case names);
            // each is taken from the replay's camelCase form.
            let view = self.inner.view(Role::parse(&r)?)?;
            let all = to_json!(&*self.inner)?;
            let Value::Object(view) = view else {
                return Ok(view);
            };
            Ok(Value::Object(
                view.into_iter()
                    .map(|(k, v)| {
                        let k = crate::camel::snake_to_camel(&k);
                        let v = all.get(&k).cloned().unwrap_or(v);
                        (k, v)
                    })
                    .collect(),
            ))
        })
    }

    /// Table `name` (one of `REPLAY_TABLES`) as plain row objects (times as
    /// ms since the epoch; missing values null).
    #[napi(catch_unwind, ts_return_type = "Record<string, unknown>[]")]
    pub fn table(&self, env: Env, name: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let (_, rows) = self.inner.rows(&name)?;
            Ok(Value::Array(rows.into_iter().map(Value::Object).collect()))
        })
    }

    /// Table `name` as an Arrow IPC stream (`apache-arrow`'s `tableFromIPC`
    /// reads it; the schema is the one Python's `Replay.table` has).
    #[napi(js_name = "tableIpc", catch_unwind)]
    pub fn table_ipc(&self, env: Env, name: Unknown<'_>) -> napi::Result<Uint8Array> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let b = self.inner.table(&name)?;
            Ok(vap_core::table::ipc_stream(&b.schema(), &[b])?.into())
        })
    }

    /// The report (直播复盘报告) as one self-contained HTML document (or, with
    /// `fragment: true`, a `<div>` to place in another page). Options
    /// `lang`, `curves`, `videoBeside`, `contextLines`, `listQuestions`,
    /// `fragment` (`optionDefaults('report')`).
    #[napi(js_name = "toHtml", catch_unwind)]
    pub fn to_html(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<String> {
        call(&env, || {
            let o = ReportOptions::from_camel_value(json_of(&env, options)?)?;
            report::html(&self.inner, &o)
        })
    }

    /// As `toHtml`, on the libuv thread pool (a long report does not hold
    /// the event loop); returns a Promise.
    #[napi(
        js_name = "toHtmlAsync",
        ts_return_type = "Promise<string>",
        catch_unwind
    )]
    pub fn to_html_async(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<String>> {
        AsyncTask::new(
            match json_of(&env, options).and_then(ReportOptions::from_camel_value) {
                Ok(o) => {
                    let rep = Arc::clone(&self.inner);
                    VapTask::new(move || report::html(&rep, &o))
                }
                Err(e) => VapTask::failed(e),
            },
        )
    }

    /// Writes the report to `path`, whole or not at all; a moment's recording
    /// becomes a `<video>` seeking to its second when the file sits beside
    /// the report. Returns the path.
    #[napi(js_name = "writeHtml", catch_unwind)]
    pub fn write_html(
        &self,
        env: Env,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<String> {
        call(&env, || {
            let path = string_arg(&env, path, "path")?;
            let o = ReportOptions::from_camel_value(json_of(&env, options)?)?;
            report::write_html(&self.inner, &path, &o)?;
            Ok(path)
        })
    }

    /// As `writeHtml`, on the libuv thread pool; returns a Promise of the path.
    #[napi(
        js_name = "writeHtmlAsync",
        ts_return_type = "Promise<string>",
        catch_unwind
    )]
    pub fn write_html_async(
        &self,
        env: Env,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<String>> {
        let args = string_arg(&env, path, "path")
            .and_then(|p| Ok((p, ReportOptions::from_camel_value(json_of(&env, options)?)?)));
        AsyncTask::new(match args {
            Ok((path, o)) => {
                let rep = Arc::clone(&self.inner);
                VapTask::new(move || {
                    report::write_html(&rep, &path, &o)?;
                    Ok(path)
                })
            }
            Err(e) => VapTask::failed(e),
        })
    }

    /// As `clips`, on the libuv thread pool; returns a Promise of the entries.
    #[napi(
        js_name = "clipsAsync",
        ts_return_type = "Promise<ClipEntry[]>",
        catch_unwind
    )]
    pub fn clips_async(
        &self,
        env: Env,
        out_dir: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<crate::convert::Json>> {
        let args = string_arg(&env, out_dir, "outDir").and_then(|d| {
            Ok((
                d,
                vap_core::report::ClipOptions::from_camel_value(json_of(&env, options)?)?,
            ))
        });
        AsyncTask::new(match args {
            Ok((dir, o)) => {
                let rep = Arc::clone(&self.inner);
                VapTask::new(move || {
                    let clips = vap_core::report::moment_clips(&rep, &dir, &o)?;
                    Ok(crate::convert::Json(to_json!(&clips)?))
                })
            }
            Err(e) => VapTask::failed(e),
        })
    }

    /// Cuts the top moments out of their recordings into `outDir`, one clip
    /// per moment and a `clips.json` manifest (`vap_core::report::moment_clips`;
    /// options `optionDefaults('clips')`). Returns the manifest's entries.
    #[napi(catch_unwind, ts_return_type = "ClipEntry[]")]
    pub fn clips(
        &self,
        env: Env,
        out_dir: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let dir = string_arg(&env, out_dir, "outDir")?;
            let o = vap_core::report::ClipOptions::from_camel_value(json_of(&env, options)?)?;
            to_json!(&vap_core::report::moment_clips(&self.inner, &dir, &o)?)
        })
    }

    /// Writes every table into `dir` as `<name>.csv` or `<name>.parquet`
    /// (`format`: `'csv'` or `'parquet'`); returns the paths.
    #[napi(catch_unwind)]
    pub fn write_tables(
        &self,
        env: Env,
        dir: Unknown<'_>,
        format: Unknown<'_>,
    ) -> napi::Result<Vec<String>> {
        call(&env, || {
            let dir = string_arg(&env, dir, "dir")?;
            let format = string_arg(&env, format, "format")?;
            Ok(self
                .inner
                .write_tables(std::path::Path::new(&dir), &format)?
                .into_iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect())
        })
    }
}

#[napi]
impl JsSession {
    /// Viewers' questions: detected in the comments, typed, linked to a
    /// product, matched to the anchor's answer. Options `answerWindow`,
    /// `focusGrace` (`optionDefaults('questions')`).
    #[napi(catch_unwind, ts_return_type = "Question[]")]
    pub fn questions(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<Value> {
        call(&env, || {
            let o = QuestionOptions::from_camel_value(json_of(&env, options)?)?;
            to_json!(&align::questions(&self.data, &o)?)
        })
    }

    /// What this session contributes to a room's history (pass it to another
    /// session's `replay(options, [digest, ...])`).
    #[napi(catch_unwind, ts_return_type = "SessionDigest")]
    pub fn digest(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<Value> {
        call(&env, || {
            let o = QuestionOptions::from_camel_value(json_of(&env, options)?)?;
            let q = align::questions(&self.data, &o)?;
            to_json!(&replay::digest(&self.data, &q))
        })
    }

    /// The transcript or comments as SRT / WebVTT on a recording's clock
    /// (`optionDefaults('subtitles')`).
    #[napi(catch_unwind)]
    pub fn subtitles(&self, env: Env, options: Option<Unknown<'_>>) -> napi::Result<String> {
        call(&env, || {
            let o = SubtitleOptions::from_camel_value(json_of(&env, options)?)?;
            replay::subtitles(&self.data, &o)
        })
    }
}

/// The kind of question a comment asks (`'price'`, `'stock_size'`, `'usage'`,
/// `'shipping'`, `'which_product'`, `'other'`), or null.
#[napi(catch_unwind)]
pub fn question_kind(env: Env, text: Unknown<'_>) -> napi::Result<Option<String>> {
    call(&env, || {
        let t = string_arg(&env, text, "text")?;
        Ok(align::question_kind(&t).map(|k| k.as_str().to_string()))
    })
}

/// The names of a replay's tables.
#[napi(catch_unwind)]
pub fn replay_tables() -> Vec<String> {
    replay::TABLES.iter().map(|s| s.to_string()).collect()
}
