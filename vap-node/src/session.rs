//! `Session`: a validated session (`vap_core::SessionData`) held in Rust.
//! What its getters and methods return has camelCase field names
//! (`to_json!`); its tables (`table`, `tableIpc`) and `toJSON` keep the
//! tables' column names, the core's canonical snake_case form.

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Uint8Array};
use napi::{Env, JsValue, Unknown, ValueType};
use napi_derive::napi;
use serde_json::Value;
use vap_core::ingest::sources::{self, SourceFile, SourceOptions, SourceReport};
use vap_core::ingest::{self, Format, LoadOptions, Manifest};
use vap_core::options::Options;
use vap_core::table::{self, TableName};
use vap_core::{SessionData, VapError};

use crate::convert::{self, json_of, opt_string_arg, string_arg, table_name, Rows};
use crate::error::{call, invalid};
use crate::tasks::VapTask;
use crate::to_json;

/// A validated session: room, session, metric declarations and its nine
/// tables. Created by `simulate`, `loadDir`, `fromTables` or `Store.load`.
#[napi(js_name = "Session")]
pub struct JsSession {
    pub(crate) data: std::sync::Arc<SessionData>,
    /// What loading found (files, encodings, sorting, warnings), for sessions
    /// made by `loadDir` / `fromTables`.
    pub(crate) report: Option<ingest::LoadReport>,
    /// What importing platform exports did, for sessions made by
    /// `readSources` and the `read*` importers.
    pub(crate) source_report: Option<SourceReport>,
}

/// A session the garbage collector frees frees its large tables on vap's
/// threads (its last holder: tasks and stores may share it).
impl Drop for JsSession {
    fn drop(&mut self) {
        if let Some(data) = std::sync::Arc::get_mut(&mut self.data) {
            // A panic must not unwind out of a finalizer called by Node.
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| data.free_large_tables()));
        }
    }
}

impl From<SessionData> for JsSession {
    fn from(data: SessionData) -> Self {
        JsSession {
            data: std::sync::Arc::new(data),
            report: None,
            source_report: None,
        }
    }
}

impl From<(SessionData, ingest::LoadReport)> for JsSession {
    fn from((data, report): (SessionData, ingest::LoadReport)) -> Self {
        JsSession {
            data: std::sync::Arc::new(data),
            report: Some(report),
            source_report: None,
        }
    }
}

impl From<(SessionData, SourceReport)> for JsSession {
    fn from((data, report): (SessionData, SourceReport)) -> Self {
        JsSession {
            data: std::sync::Arc::new(data),
            report: None,
            source_report: Some(report),
        }
    }
}

#[napi]
impl JsSession {
    /// What loading found, for a session made by `loadDir` or `fromTables`
    /// (`{ files, sorted, differenced, warnings }`; `warnings` are accepted
    /// oddities such as a refund with no payment in the session), else null.
    #[napi(getter, catch_unwind, ts_return_type = "LoadReport | null")]
    pub fn load_report(&self, env: Env) -> napi::Result<Value> {
        call(&env, || match &self.report {
            Some(r) => to_json!(r),
            None => Ok(Value::Null),
        })
    }

    /// What importing platform exports did, for a session made by
    /// `readSources` or a `read*` importer (`{ files, fields, dropped,
    /// duplicates, gaps, checks, notes }`), else null.
    #[napi(getter, catch_unwind, ts_return_type = "SourceReport | null")]
    pub fn source_report(&self, env: Env) -> napi::Result<Value> {
        call(&env, || match &self.source_report {
            Some(r) => to_json!(r),
            None => Ok(Value::Null),
        })
    }

    /// The room (`{ id, name, platform? }`).
    #[napi(getter, catch_unwind)]
    pub fn room(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.room))
    }

    /// The session (`{ id, roomId, startMs, endMs, timezone, title?, recordings? }`).
    #[napi(getter, catch_unwind)]
    pub fn session(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.session))
    }

    /// Metric declarations (`[{ name, kind, unit }]`).
    #[napi(getter, catch_unwind)]
    pub fn metrics(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.metrics))
    }

    /// Names of the tables, in write order.
    #[napi(getter, catch_unwind)]
    pub fn table_names(&self) -> Vec<&'static str> {
        TableName::ALL.iter().map(|t| t.as_str()).collect()
    }

    /// The rows of one table as plain objects (times as integer ms; missing
    /// optional fields left out).
    #[napi(catch_unwind)]
    pub fn table(&self, env: Env, name: Unknown<'_>) -> napi::Result<Rows> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            Ok(Rows::of_table(&self.data, table_name(&name)?))
        })
    }

    /// One table as an Arrow IPC stream (what `apache-arrow`'s
    /// `tableFromIPC` reads): the documented schema, times as
    /// `Timestamp(ms, UTC)`.
    #[napi(js_name = "tableIpc", catch_unwind)]
    pub fn table_ipc(&self, env: Env, name: Unknown<'_>) -> napi::Result<Uint8Array> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let b = table::to_record_batch(&self.data, table_name(&name)?, false);
            Ok(table::ipc_stream(&b.schema(), &[b])?.into())
        })
    }

    /// Number of rows of one table.
    #[napi(catch_unwind)]
    pub fn num_rows(&self, env: Env, name: Unknown<'_>) -> napi::Result<u32> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            let n = table::row_count(&self.data, table_name(&name)?);
            u32::try_from(n).map_err(|_| invalid(format!("{n} rows do not fit a u32")))
        })
    }

    /// The session summary (serde form of `SessionSummary`).
    #[napi(catch_unwind)]
    pub fn summary(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.summary()))
    }

    /// Viewers who commented: `{ id, comments, firstMs }`, sorted by id.
    #[napi(catch_unwind)]
    pub fn commenters(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.commenters()))
    }

    /// GMV from orders (`{ gross, refunds, net, paidOrders, refundOrders }`).
    #[napi(catch_unwind)]
    pub fn gmv(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.data.gmv()))
    }

    /// The manifest describing this session (`ingest::Manifest`, camelCase
    /// field names; `fromTables` reads it back, as it reads manifest.json's).
    #[napi(catch_unwind)]
    pub fn manifest(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&Manifest::of(&self.data)))
    }

    /// Writes the session as a session directory: `manifest.json` plus one file
    /// per table in `format` ("csv", "jsonl" or "parquet"; default "csv").
    #[napi(catch_unwind)]
    pub fn write_dir(
        &self,
        env: Env,
        path: Unknown<'_>,
        format: Option<Unknown<'_>>,
    ) -> napi::Result<()> {
        call(&env, || {
            let path = string_arg(&env, path, "path")?;
            let format = match opt_string_arg(&env, format, "format")? {
                None => Format::default(),
                Some(f) => Format::parse(&f).ok_or_else(|| {
                    invalid(format!(
                        "unknown format '{f}' (expected csv, jsonl or parquet)"
                    ))
                })?,
            };
            ingest::write_dir(&self.data, &path, format)
        })
    }

    /// The session replay (直播复盘) with its product and anchor replays,
    /// compared with `history` (earlier sessions of the room, or their
    /// `digest()`s). Options: `optionDefaults('replay')`, camelCase.
    #[napi(catch_unwind)]
    pub fn replay(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "Array<Session | SessionDigest>")] history: Option<Vec<Unknown<'_>>>,
    ) -> napi::Result<crate::replay::JsReplay> {
        call(&env, || {
            let o = vap_core::replay::ReplayOptions::from_camel_value(crate::convert::json_of(
                &env, options,
            )?)?;
            let history = history_of(&env, history)?;
            Ok(replay_with(&self.data, &history, &o)?.into())
        })
    }

    /// As `replay`, on the libuv thread pool (the history's digests too);
    /// returns a Promise.
    #[napi(catch_unwind, ts_return_type = "Promise<Replay>")]
    pub fn replay_async(
        &self,
        env: Env,
        options: Option<Unknown<'_>>,
        #[napi(ts_arg_type = "Array<Session | SessionDigest>")] history: Option<Vec<Unknown<'_>>>,
    ) -> napi::bindgen_prelude::AsyncTask<VapTask<crate::replay::JsReplay>> {
        let args = crate::convert::json_of(&env, options)
            .and_then(vap_core::replay::ReplayOptions::from_camel_value)
            .and_then(|o| Ok((o, history_of(&env, history)?)));
        let task = match args {
            Ok((o, history)) => {
                let data = self.data.clone();
                VapTask::new(move || Ok(replay_with(&data, &history, &o)?.into()))
            }
            Err(e) => VapTask::failed(e),
        };
        napi::bindgen_prelude::AsyncTask::new(task)
    }

    /// The whole session as one plain object, in the core's canonical form
    /// (the serde form of `SessionData`: its tables' rows keyed by their
    /// column names, snake_case, as `table()` gives them and session
    /// directories store them); called by `JSON.stringify`.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> napi::Result<Unknown<'env>> {
        call(env, || {
            env.to_js_value(&*self.data)
                .map_err(|e| VapError::Internal(format!("converting the session: {}", e.reason)))
        })
    }
}

/// Loads a session directory (`manifest.json` + table files).
#[napi(catch_unwind)]
pub fn load_dir(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let opts = LoadOptions::from_camel_value(json_of(&env, options)?)?;
        Ok(ingest::load_dir(&path, &opts)?.into())
    })
}

/// As `loadDir`, on the libuv thread pool; returns a Promise.
#[napi(catch_unwind, ts_return_type = "Promise<Session>")]
pub fn load_dir_async(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::bindgen_prelude::AsyncTask<VapTask<JsSession>> {
    let args = string_arg(&env, path, "path").and_then(|path| {
        let opts = LoadOptions::from_camel_value(json_of(&env, options)?)?;
        Ok((path, opts))
    });
    let task = match args {
        Ok((path, opts)) => VapTask::new(move || Ok(ingest::load_dir(&path, &opts)?.into())),
        Err(e) => VapTask::failed(e),
    };
    napi::bindgen_prelude::AsyncTask::new(task)
}

/// The files of a `readSources` call: paths, or `{ path, format }` objects.
fn source_files(v: Value) -> vap_core::Result<Vec<SourceFile>> {
    let Value::Array(items) = v else {
        return Err(invalid(
            "files must be an array of paths or { path, format } objects",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, f)| match f {
            Value::String(p) => Ok(SourceFile::new(p)),
            Value::Object(o) => {
                let path = o.get("path").and_then(Value::as_str).ok_or_else(|| {
                    invalid(format!(
                        "files[{i}]: a {{ path, format }} object needs a string path"
                    ))
                })?;
                let format = match o.get("format") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(f)) => Some(f.as_str()),
                    Some(_) => return Err(invalid(format!("files[{i}].format must be a string"))),
                };
                SourceFile::named(path, format)
            }
            _ => Err(invalid(format!(
                "files[{i}] must be a path or a {{ path, format }} object"
            ))),
        })
        .collect()
}

/// The files of a family's importer (`readCompass({ trend, orders })`), by role.
fn role_files(v: Value) -> vap_core::Result<Vec<(String, std::path::PathBuf)>> {
    let Value::Object(o) = v else {
        return Err(invalid("files must be an object of paths by role"));
    };
    o.into_iter()
        .filter(|(_, p)| !p.is_null())
        .map(|(role, p)| match p {
            Value::String(p) => Ok((role, p.into())),
            _ => Err(invalid(format!("files.{role} must be a path"))),
        })
        .collect()
}

fn read_family_with(family: &str, files: Value, options: Value) -> vap_core::Result<JsSession> {
    let opts = SourceOptions::from_camel_value(options)?;
    Ok(sources::read_family(family, &role_files(files)?, &opts)?.into())
}

fn read_with(files: Vec<SourceFile>, options: Value) -> vap_core::Result<JsSession> {
    let opts = SourceOptions::from_camel_value(options)?;
    Ok(sources::read_sources(&files, &opts)?.into())
}

/// Reads one session from platform exports and capture logs, each file's
/// format detected unless given (`{ path, format }`).
#[napi(
    catch_unwind,
    ts_args_type = "files: (string | SourceFileSpec)[], options?: SourceOptions"
)]
pub fn read_sources(
    env: Env,
    files: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        read_with(
            source_files(json_of(&env, Some(files))?)?,
            json_of(&env, options)?,
        )
    })
}

/// As `readSources`, on the libuv thread pool; returns a Promise.
#[napi(
    catch_unwind,
    ts_args_type = "files: (string | SourceFileSpec)[], options?: SourceOptions",
    ts_return_type = "Promise<Session>"
)]
pub fn read_sources_async(
    env: Env,
    files: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::bindgen_prelude::AsyncTask<VapTask<JsSession>> {
    let args = json_of(&env, Some(files))
        .and_then(source_files)
        .and_then(|f| Ok((f, crate::jobs::controls(&env, options)?)));
    let task = match args {
        Ok((files, (options, job))) => VapTask::new(move || job.run(|| read_with(files, options))),
        Err(e) => VapTask::failed(e),
    };
    napi::bindgen_prelude::AsyncTask::new(task)
}

/// One session from Compass exports: `{ trend, orders, sessions, traffic }`.
#[napi(
    catch_unwind,
    ts_args_type = "files: CompassFiles, options?: SourceOptions"
)]
pub fn read_compass(
    env: Env,
    files: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        read_family_with(
            "compass",
            json_of(&env, Some(files))?,
            json_of(&env, options)?,
        )
    })
}

/// One session from TikTok Shop LIVE analytics: `{ minutes, session }`.
#[napi(
    catch_unwind,
    ts_args_type = "files: TiktokShopFiles, options?: SourceOptions"
)]
pub fn read_tiktok_shop(
    env: Env,
    files: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        read_family_with(
            "tiktok_shop",
            json_of(&env, Some(files))?,
            json_of(&env, options)?,
        )
    })
}

/// One session from a Douyin or TikTokLive capture log (JSON Lines).
#[napi(catch_unwind, ts_args_type = "path: string, options?: SourceOptions")]
pub fn read_capture_log(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let opts = SourceOptions::from_camel_value(json_of(&env, options)?)?;
        Ok(sources::read_capture_log(&path, &opts)?.into())
    })
}

/// A Compass session list (XLSX or CSV): `{ sessions, report }`.
#[napi(
    catch_unwind,
    ts_args_type = "path: string, options?: SourceOptions",
    ts_return_type = "{ sessions: SessionFacts[]; report: SourceReport }"
)]
pub fn read_compass_sessions(
    env: Env,
    path: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Value> {
    call(&env, || {
        let path = string_arg(&env, path, "path")?;
        let opts = SourceOptions::from_camel_value(json_of(&env, options)?)?;
        let (rows, report) = sources::read_compass_sessions(&path, &opts)?;
        Ok(serde_json::json!({ "sessions": to_json!(&rows)?, "report": to_json!(&report)? }))
    })
}

/// The format name of a platform export or capture log, detected from its content.
#[napi(catch_unwind, ts_return_type = "SourceFormat")]
pub fn detect_source_format(env: Env, path: Unknown<'_>) -> napi::Result<String> {
    call(&env, || {
        Ok(sources::detect_format(string_arg(&env, path, "path")?)?
            .name()
            .to_string())
    })
}

/// A table given to `fromTables`: row objects, or an Arrow IPC buffer.
enum TableArg {
    Rows(Value),
    Ipc(Vec<u8>),
}

/// The entries of `fromTables`' `tables` object, each an array of row
/// objects or a `Uint8Array` (`Buffer`) of Arrow IPC.
fn table_args(env: &Env, tables: Unknown<'_>) -> vap_core::Result<Vec<(String, TableArg)>> {
    let bad = || invalid("tables must be an object of row arrays or Arrow IPC buffers");
    match tables.get_type() {
        Ok(ValueType::Null | ValueType::Undefined) => return Ok(Vec::new()),
        Ok(ValueType::Object) => {}
        _ => return Err(bad()),
    }
    // SAFETY: checked to be an object of this call's `env`.
    let obj = unsafe { Object::from_napi_value(env.raw(), tables.raw()) }.map_err(|_| bad())?;
    // Own keys only, as the JSON form of the object would have them.
    let keys = Object::keys(&obj).map_err(|_| bad())?;
    let mut out = Vec::with_capacity(keys.len());
    for name in keys {
        let v: Unknown<'_> = obj.get_named_property(&name).map_err(|_| bad())?;
        let arg = if v.is_typedarray().unwrap_or(false) {
            // SAFETY: checked to be a typed array of this call's `env`.
            let bytes =
                unsafe { Uint8Array::from_napi_value(env.raw(), v.raw()) }.map_err(|_| {
                    invalid(format!(
                        "tables.{name}: an Arrow IPC buffer must be a Uint8Array or Buffer"
                    ))
                })?;
            TableArg::Ipc(bytes.to_vec())
        } else {
            TableArg::Rows(json_of(env, Some(v))?)
        };
        out.push((name, arg));
    }
    Ok(out)
}

/// A manifest object as JSON text for the core: the camelCase form
/// `manifest()` gives or manifest.json's own (snake_case); `vapFormat` may be
/// left out, as the core allows for tables built in code.
fn manifest_text(v: Value) -> String {
    let v = match v {
        Value::Object(mut m) => {
            if !m.contains_key("vap_format") && !m.contains_key("vapFormat") {
                m.insert("vap_format".into(), ingest::MANIFEST_VERSION.into());
            }
            Value::Object(m)
        }
        other => other,
    };
    crate::camel::to_core::<Manifest>(v).to_string()
}

/// Builds a validated session from a manifest object and, per table, rows
/// (`{ orders: [...], comments: [...] }`) or an Arrow IPC buffer (a
/// `Uint8Array` from `apache-arrow`'s `tableToIPC`, stream or file format).
/// Every problem of every table is reported at once, as a `VAP_VALIDATION`
/// error.
#[napi(catch_unwind)]
pub fn from_tables(
    env: Env,
    manifest: Unknown<'_>,
    tables: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<JsSession> {
    call(&env, || {
        let opts = LoadOptions::from_camel_value(json_of(&env, options)?)?;
        let manifest = Manifest::for_tables(&manifest_text(json_of(&env, Some(manifest))?))?;
        let tables = table_args(&env, tables)?;
        let mut problems = Vec::new();
        let mut raws = Vec::with_capacity(tables.len());
        for (name, t) in tables {
            let t_name = table_name(&name)?;
            match t {
                TableArg::Rows(rows) => {
                    let rows = convert::rows_of(rows, &format!("tables.{name}"))?;
                    raws.push((
                        t_name,
                        table::raw_from_json_rows(&name, &rows, &mut problems),
                    ));
                }
                TableArg::Ipc(bytes) => {
                    let batches = table::batches_from_ipc(&format!("tables.{name}"), &bytes)?;
                    raws.push((
                        t_name,
                        table::raw_from_batches(&name, &batches, &mut problems),
                    ));
                }
            }
        }
        // Rows that could not even become cells are reported with every
        // problem validation finds in the rest.
        Ok(ingest::from_converted_tables(manifest, raws, problems, &opts)?.into())
    })
}

/// A replay's history as given: stored sessions (their digests made when
/// the replay runs) or digests already made.
enum History {
    Session(std::sync::Arc<SessionData>),
    Digest(vap_core::replay::SessionDigest),
}

/// The `history` argument of `replay` / `replayAsync`.
fn history_of(env: &Env, history: Option<Vec<Unknown<'_>>>) -> vap_core::Result<Vec<History>> {
    let mut out = Vec::new();
    for h in history.unwrap_or_default() {
        use napi::bindgen_prelude::FromNapiValue;
        use napi::JsValue;
        // SAFETY: `h` is a live value of this call's `env`; a value that is
        // not a Session is refused by the type check.
        let session = unsafe {
            napi::bindgen_prelude::ClassInstance::<JsSession>::from_napi_value(env.raw(), h.raw())
        };
        out.push(match session {
            Ok(s) => History::Session(s.data.clone()),
            Err(_) => History::Digest(
                crate::camel::from_value(crate::convert::json_of(env, Some(h))?).map_err(|e| {
                    VapError::InvalidArgument(format!(
                        "history must hold Sessions or their digest(): {e}"
                    ))
                })?,
            ),
        });
    }
    Ok(out)
}

/// The replay of `data` against `history`.
fn replay_with(
    data: &SessionData,
    history: &[History],
    o: &vap_core::replay::ReplayOptions,
) -> vap_core::Result<vap_core::replay::Replay> {
    let mut digests = Vec::with_capacity(history.len());
    for h in history {
        digests.push(match h {
            History::Session(s) => {
                let q = vap_core::align::questions(s, &o.questions)?;
                vap_core::replay::digest(s, &q)
            }
            History::Digest(d) => d.clone(),
        });
    }
    vap_core::replay::replay(data, &digests, o)
}
