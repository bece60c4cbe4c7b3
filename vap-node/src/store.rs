//! `Store`: the embedded on-disk store (`vap_core::store::Store`).

use napi::bindgen_prelude::{AsyncTask, Either};
use napi::{Env, Unknown};
use napi_derive::napi;
use serde_json::Value;
use vap_core::media;
use vap_core::options::Options;
use vap_core::store::{import_request, ImportOptions, Store};
use vap_core::table;
use vap_core::VapError;

use crate::align::JsTimeline;
use crate::attribute::{self, JsAttribution, JsRoomModel};
use crate::convert::{self, json_of, opt_string_arg, options, session_key, string_arg, Rows};
use crate::error::{call, invalid};
use crate::media::{self as js_media, JsStill};
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

/// An embedded store rooted at a directory: rooms → sessions → Parquet tables.
#[napi(js_name = "Store")]
pub struct JsStore {
    pub(crate) inner: Store,
}

#[napi]
impl JsStore {
    /// Opens the store at `path`, creating it when the directory is missing or
    /// empty.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, path: Unknown<'_>) -> napi::Result<Self> {
        call(&env, || {
            let path = string_arg(&env, path, "path")?;
            Ok(JsStore {
                inner: Store::open(&path)?,
            })
        })
    }

    /// Opens an existing store for reading only: no lock file is created and
    /// nothing is recovered; writers throw an `IoError`. A store on a
    /// read-only mount or without write permission opens this way by itself.
    #[napi(factory, catch_unwind)]
    pub fn open_read_only(env: Env, path: Unknown<'_>) -> napi::Result<Self> {
        call(&env, || {
            let path = string_arg(&env, path, "path")?;
            Ok(JsStore {
                inner: Store::open_read_only(&path)?,
            })
        })
    }

    /// The store's root directory.
    #[napi(getter, catch_unwind)]
    pub fn root(&self) -> String {
        self.inner.root().display().to_string()
    }

    /// Whether this handle can only read.
    #[napi(getter, catch_unwind)]
    pub fn read_only(&self) -> bool {
        self.inner.read_only()
    }

    /// What opening the store recovered from interrupted changes, one line
    /// each; empty when there was nothing to do.
    #[napi(getter, catch_unwind)]
    pub fn recovered(&self) -> Vec<String> {
        self.inner.recovered().to_vec()
    }

    /// Reads every file of the store whole and reports each damaged one,
    /// without stopping at the first: `{ files, sessions, damaged: [{ path,
    /// roomId, sessionId, problem }] }`. Changes nothing.
    #[napi(catch_unwind, ts_return_type = "StoreCheck")]
    pub fn check(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.check()?))
    }

    /// Rooms in the store, sorted by id.
    #[napi(catch_unwind)]
    pub fn rooms(&self, env: Env) -> napi::Result<Value> {
        call(&env, || to_json!(&self.inner.rooms()?))
    }

    /// Sessions of one room (or of every room), sorted by (room, start, id).
    #[napi(catch_unwind)]
    pub fn sessions(&self, env: Env, room: Option<Unknown<'_>>) -> napi::Result<Value> {
        call(&env, || {
            let room = opt_string_arg(&env, room, "room")?;
            to_json!(&self.inner.sessions(room.as_deref())?)
        })
    }

    /// Imports a session atomically. Options: `replace` (default false),
    /// `copyRecordings` (default false).
    #[napi(catch_unwind)]
    pub fn import_session(
        &self,
        env: Env,
        session: Either<&JsSession, Unknown<'_>>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<()> {
        call(&env, || {
            let session = session_arg(&session)?;
            let opts = ImportOptions::from_camel_value(json_of(&env, options)?)?;
            self.inner.import(&session.data, &opts)
        })
    }

    /// As `importSession`, on the libuv thread pool (the session is shared, not
    /// copied); returns a Promise.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn import_session_async(
        &self,
        env: Env,
        session: Either<&JsSession, Unknown<'_>>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<()>> {
        let args = session_arg(&session).and_then(|s| {
            let opts = ImportOptions::from_camel_value(json_of(&env, options)?)?;
            Ok((s.data.clone(), opts))
        });
        let task = match args {
            Ok((data, opts)) => {
                let store = self.inner.clone();
                VapTask::new(move || store.import(&data, &opts))
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// As `importDir`, on the libuv thread pool; returns a Promise of the session.
    #[napi(ts_return_type = "Promise<Session>", catch_unwind)]
    pub fn import_dir_async(
        &self,
        env: Env,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<JsSession>> {
        let args = string_arg(&env, path, "path").and_then(|path| {
            let (load, opts) = import_request(json_of(&env, options)?, true)?;
            Ok((path, load, opts))
        });
        let task = match args {
            Ok((path, load, opts)) => {
                let store = self.inner.clone();
                VapTask::new(move || Ok(store.import_dir(&path, &load, &opts)?.into()))
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// Loads a session directory and imports it; returns the imported session.
    /// Options: `replace`, `copyRecordings`, `pseudonymizeKey`,
    /// `outsideToleranceMs`.
    #[napi(catch_unwind)]
    pub fn import_dir(
        &self,
        env: Env,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsSession> {
        call(&env, || {
            let path = string_arg(&env, path, "path")?;
            let (load, opts) = import_request(json_of(&env, options)?, true)?;
            Ok(self.inner.import_dir(&path, &load, &opts)?.into())
        })
    }

    /// Loads a stored session.
    #[napi(catch_unwind)]
    pub fn load(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
    ) -> napi::Result<JsSession> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            Ok(self.inner.load(&room, &session)?.into())
        })
    }

    /// As `load`, on the libuv thread pool; returns a Promise.
    #[napi(ts_return_type = "Promise<Session>", catch_unwind)]
    pub fn load_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
    ) -> AsyncTask<VapTask<JsSession>> {
        let args = string_arg(&env, room, "room")
            .and_then(|room| Ok((room, string_arg(&env, session, "session")?)));
        let task = match args {
            Ok((room, session)) => {
                let store = self.inner.clone();
                VapTask::new(move || Ok(store.load(&room, &session)?.into()))
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// The replay of a stored session against the room's earlier stored
    /// sessions (read one at a time). Options as `Session.replay`.
    #[napi(catch_unwind)]
    pub fn replay(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<crate::replay::JsReplay> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let o = vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, options)?)?;
            Ok(vap_core::replay::from_store(&self.inner, &room, &session, &o)?.into())
        })
    }

    /// As `replay`, on the libuv thread pool; returns a Promise.
    #[napi(ts_return_type = "Promise<Replay>", catch_unwind)]
    pub fn replay_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<crate::replay::JsReplay>> {
        let args = session_key(&env, room, session).and_then(|k| {
            Ok((
                k,
                vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, options)?)?,
            ))
        });
        let task = match args {
            Ok(((room, session), o)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    Ok(vap_core::replay::from_store(&store, &room, &session, &o)?.into())
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// Products and anchors across a room's stored sessions, anchor effects
    /// from the room model. Options as `Session.replay`.
    #[napi(catch_unwind, ts_return_type = "RoomReplay")]
    pub fn room_replay(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let o = vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, options)?)?;
            to_json!(&vap_core::replay::room(&self.inner, &room, &o)?)
        })
    }

    /// As `roomReplay`, on the libuv thread pool (options may carry `signal`
    /// and `onProgress`: `JobControls`); returns a Promise.
    #[napi(catch_unwind, ts_return_type = "Promise<RoomReplay>")]
    pub fn room_replay_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<convert::Json>> {
        let args = string_arg(&env, room, "room").and_then(|room| {
            let (o, job) = crate::jobs::controls(&env, options)?;
            Ok((
                room,
                vap_core::replay::ReplayOptions::from_camel_value(o)?,
                job,
            ))
        });
        AsyncTask::new(match args {
            Ok((room, o, job)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    let r = job.run(|| vap_core::replay::room(&store, &room, &o))?;
                    Ok(convert::Json(to_json!(&r)?))
                })
            }
            Err(e) => VapTask::failed(e),
        })
    }

    /// The room's report (`vap_core::report::room_html`): every stored
    /// session against the room's median, products and anchors across
    /// sessions with the room model's anchor effects, and the room's
    /// playbook where it has enough sessions (`playbook: false` leaves it
    /// out). `options`: the report's (`lang`, `fragment`, `playbook`);
    /// `replayOptions`: `roomReplay`'s.
    #[napi(catch_unwind)]
    pub fn room_html(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
        replay_options: Option<Unknown<'_>>,
    ) -> napi::Result<String> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let o = vap_core::report::ReportOptions::from_camel_value(json_of(&env, options)?)?;
            let ro =
                vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, replay_options)?)?;
            vap_core::report::store_room_html(&self.inner, &room, &ro, &o)
        })
    }

    /// As `roomHtml`, on the libuv thread pool; returns a Promise.
    #[napi(ts_return_type = "Promise<string>", catch_unwind)]
    pub fn room_html_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
        replay_options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<String>> {
        let args = (|| {
            let room = string_arg(&env, room, "room")?;
            let o = vap_core::report::ReportOptions::from_camel_value(json_of(&env, options)?)?;
            let ro =
                vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, replay_options)?)?;
            Ok::<_, vap_core::VapError>((room, o, ro))
        })();
        AsyncTask::new(match args {
            Ok((room, o, ro)) => {
                let store = self.inner.clone();
                VapTask::new(move || vap_core::report::store_room_html(&store, &room, &ro, &o))
            }
            Err(e) => VapTask::failed(e),
        })
    }

    /// Writes `roomHtml` to `path`, whole or not at all; returns the path.
    #[napi(catch_unwind)]
    pub fn write_room_html(
        &self,
        env: Env,
        room: Unknown<'_>,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
        replay_options: Option<Unknown<'_>>,
    ) -> napi::Result<String> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let path = string_arg(&env, path, "path")?;
            let o = vap_core::report::ReportOptions::from_camel_value(json_of(&env, options)?)?;
            let ro =
                vap_core::replay::ReplayOptions::from_camel_value(json_of(&env, replay_options)?)?;
            vap_core::report::write_store_room_html(&self.inner, &room, &path, &ro, &o)?;
            Ok(path)
        })
    }

    /// Deletes a stored session.
    #[napi(catch_unwind)]
    pub fn delete(&self, env: Env, room: Unknown<'_>, session: Unknown<'_>) -> napi::Result<()> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            self.inner.delete(&room, &session)
        })
    }

    /// Whether a session is in the store.
    #[napi(catch_unwind)]
    pub fn contains(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
    ) -> napi::Result<bool> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            self.inner.contains(&room, &session)
        })
    }

    /// The stored manifest of a session (manifest plus `derived` and `rows`).
    #[napi(catch_unwind)]
    pub fn manifest(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            to_json!(&self.inner.manifest(&room, &session)?)
        })
    }

    /// Reads one stored table as plain objects, exactly as stored: core tables
    /// carry `room_id` and `session_id` first; times are integer ms; nulls are
    /// left out.
    #[napi(catch_unwind)]
    pub fn read_table(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        name: Unknown<'_>,
    ) -> napi::Result<Rows> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let name = string_arg(&env, name, "name")?;
            let batches = self.inner.read_table(&room, &session, &name)?;
            let mut problems = Vec::new();
            let raw = table::raw_from_batches(&name, &batches, &mut problems);
            if !problems.is_empty() {
                return Err(VapError::Validation(problems));
            }
            Ok(Rows {
                columns: raw.columns,
                rows: raw.rows,
            })
        })
    }

    /// Replaces (or adds) one table of a stored session with `rows` (plain
    /// objects). A core table is validated against the rest of the session
    /// (every problem reported); any other name is a derived table whose column
    /// types are inferred from the values.
    #[napi(catch_unwind)]
    pub fn replace_table(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        name: Unknown<'_>,
        rows: Unknown<'_>,
    ) -> napi::Result<()> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let name = string_arg(&env, name, "name")?;
            let rows = convert::rows_of(json_of(&env, Some(rows))?, "rows")?;
            // Types are inferred from the values; a core table is then validated
            // against the rest of the session by the store, a derived one stored as is.
            let mut problems = Vec::new();
            let raw = table::raw_from_json_rows(&name, &rows, &mut problems);
            if !problems.is_empty() {
                return Err(VapError::Validation(problems));
            }
            let batch = table::infer_batch(&raw).map_err(VapError::Validation)?;
            self.inner.replace_table(&room, &session, &name, &[batch])
        })
    }
}

/// A `Session` argument; anything else is `InvalidArgument`.
fn session_arg<'a>(v: &'a Either<&JsSession, Unknown<'_>>) -> vap_core::Result<&'a JsSession> {
    match v {
        Either::A(s) => Ok(s),
        Either::B(_) => Err(invalid(
            "session must be a Session (from simulate, loadDir, fromTables or Store.load)",
        )),
    }
}

// ---- attribution (the store's room models); conversions live in `attribute`.
// These methods stay in this file: an `impl JsStore` block in `attribute.rs`
// made a plain `cargo build` register the class as `JsStore`, not `Store`.

#[napi]
impl JsStore {
    /// Every stored session of a room as attribution timelines, stacked.
    #[napi(catch_unwind)]
    pub fn attribution_timeline(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsTimeline> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let o = attribute::attribution_align(json_of(&env, options)?)?;
            Ok(vap_core::attribute::store_room_timeline(&self.inner, &room, &o)?.into())
        })
    }

    /// Fits the single-room model over every stored session of `room`
    /// (session fixed effects); with `name`, saves it in the store.
    #[napi(catch_unwind)]
    pub fn fit_room_model(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsAttribution> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let r = attribute::fit_request(json_of(&env, options)?)?;
            Ok(JsAttribution {
                inner: vap_core::attribute::fit_room(&self.inner, &room, &r)?,
            })
        })
    }

    /// As `fitRoomModel`, on the libuv thread pool; returns a Promise.
    #[napi(catch_unwind, ts_return_type = "Promise<Attribution>")]
    pub fn fit_room_model_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<JsAttribution>> {
        let args = string_arg(&env, room, "room").and_then(|room| {
            let (o, job) = crate::jobs::controls(&env, options)?;
            Ok((room, attribute::fit_request(o)?, job))
        });
        let task = match args {
            Ok((room, r, job)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    Ok(JsAttribution {
                        inner: job.run(|| vap_core::attribute::fit_room(&store, &room, &r))?,
                    })
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// Fits the room's model from per-session statistics (`RoomPlan`): two
    /// passes over the stored sessions, one at a time, so that the room's
    /// stacked timeline is never built. Options as `fitRoomModel`; the same
    /// model for the exposure and linear forms (`form: 'auto'` is fitted as
    /// the exposure form; the log link is refused).
    #[napi(
        catch_unwind,
        ts_args_type = "room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string } | null",
        ts_return_type = "RoomFit"
    )]
    pub fn fit_room_model_by_sessions(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<crate::reduce::JsRoomFit> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let r = attribute::fit_request(json_of(&env, options)?)?;
            Ok(crate::reduce::JsRoomFit {
                inner: vap_core::attribute::fit_room_by_sessions(&self.inner, &room, &r)?,
            })
        })
    }

    /// As `fitRoomModelBySessions`, on the libuv thread pool; returns a
    /// Promise (`signal` and `onProgress` with the options).
    #[napi(
        catch_unwind,
        ts_args_type = "room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string } & JobControls | null",
        ts_return_type = "Promise<RoomFit>"
    )]
    pub fn fit_room_model_by_sessions_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<crate::reduce::JsRoomFit>> {
        let args = string_arg(&env, room, "room").and_then(|room| {
            let (o, job) = crate::jobs::controls(&env, options)?;
            Ok((room, attribute::fit_request(o)?, job))
        });
        let task = match args {
            Ok((room, r, job)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    Ok(crate::reduce::JsRoomFit {
                        inner: job
                            .run(|| vap_core::attribute::fit_room_by_sessions(&store, &room, &r))?,
                    })
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// A saved model of a room.
    #[napi(catch_unwind)]
    pub fn room_model(
        &self,
        env: Env,
        room: Unknown<'_>,
        name: Unknown<'_>,
    ) -> napi::Result<JsRoomModel> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let name = string_arg(&env, name, "name")?;
            Ok(JsRoomModel {
                inner: vap_core::attribute::RoomModel::load(&self.inner, &room, &name)?,
            })
        })
    }

    /// Saves a fitted model in the store (`rooms/<room>/models/<name>.json`,
    /// atomically).
    #[napi(catch_unwind)]
    pub fn save_model(&self, env: Env, model: &JsRoomModel, name: Unknown<'_>) -> napi::Result<()> {
        call(&env, || {
            let name = string_arg(&env, name, "name")?;
            model.inner.save(&self.inner, &name)
        })
    }

    /// Names of the models saved for a room.
    #[napi(catch_unwind)]
    pub fn models(&self, env: Env, room: Unknown<'_>) -> napi::Result<Vec<String>> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            self.inner.models(&room)
        })
    }
}

// ---- recordings and transcription (`vap_core::media`); conversions live in
// `media`. In this file for the same reason as the attribution methods.

#[napi]
impl JsStore {
    /// Registers a recording on a stored session (probed, hashed, stored
    /// atomically; the same file cannot be registered twice). `offsetMs` is
    /// the session-clock time of the recording's position 0 (default: the
    /// session's start). Returns the stored reference.
    #[napi(catch_unwind, ts_return_type = "VideoRef")]
    pub fn register_recording(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let path = string_arg(&env, path, "path")?;
            let m = self::options(
                json_of(&env, options)?,
                "registerRecording options",
                &["offsetMs"],
            )?;
            let offset = match convert::opt_i64(&m, "offsetMs")? {
                Some(o) => o,
                None => {
                    self.inner
                        .manifest(&room, &session)?
                        .manifest
                        .session
                        .start_ms
                }
            };
            let r = media::register_recording(&self.inner, &room, &session, &path, offset)?;
            to_json!(&r)
        })
    }

    /// Transcribes every recording of a stored session off the JS thread,
    /// checkpointing each chunk (a rerun resumes), and replaces the session's
    /// utterances with the result atomically.
    #[napi(catch_unwind, ts_return_type = "Promise<Transcript>")]
    pub fn transcribe(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        options: Unknown<'_>,
        on_progress: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<convert::Json>> {
        let args = string_arg(&env, room, "room").and_then(|room| {
            let session = string_arg(&env, session, "session")?;
            let a = js_media::transcribe_args(&env, Some(options), "transcribe options", false)?;
            Ok((room, session, a, js_media::progress_arg(&env, on_progress)?))
        });
        match args {
            Ok((room, session, a, f)) => {
                let store = self.inner.clone();
                let opts = a.opts;
                js_media::run_async(f, a.aborted, a.watch, move |p| {
                    media::transcribe_session(&store, &room, &session, &opts, p)
                })
            }
            Err(e) => AsyncTask::new(VapTask::failed(e)),
        }
    }

    /// As `transcribe`, on the JS thread.
    #[napi(catch_unwind, ts_return_type = "Transcript")]
    pub fn transcribe_sync(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        options: Unknown<'_>,
        on_progress: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        let (room, session, a, f) = call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let a =
                js_media::transcribe_args(&env, Some(options), "transcribeSync options", false)?;
            Ok((room, session, a, js_media::progress_arg(&env, on_progress)?))
        })?;
        js_media::run_sync(&env, f, a.aborted, a.watch, |p| {
            media::transcribe_session(&self.inner, &room, &session, &a.opts, p)
        })
    }

    /// How far the transcript of recording `index` (default 0) runs ahead of
    /// the platform clock, from the products explained against the products
    /// named in its utterances. Never applied: see `setRecordingOffset`.
    #[napi(catch_unwind, ts_return_type = "ClockOffset")]
    pub fn estimate_recording_offset(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        index: Option<Unknown<'_>>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let index = js_media::index_arg(&env, index)?;
            let o = crate::align::offset_options(json_of(&env, options)?)?;
            let data = self.inner.load(&room, &session)?;
            to_json!(&vap_core::align::estimate_recording_offset(
                &data, index, &o
            )?)
        })
    }

    /// Sets the offset of recording `index` and moves the utterances
    /// transcribed from it by the same amount, atomically; returns the session
    /// as stored.
    #[napi(catch_unwind)]
    pub fn set_recording_offset(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        index: Unknown<'_>,
        offset_ms: Unknown<'_>,
    ) -> napi::Result<JsSession> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let index = js_media::index_arg(&env, Some(index))?;
            let offset = js_media::ms_arg(&env, offset_ms, "offsetMs")?;
            Ok(media::set_recording_offset(&self.inner, &room, &session, index, offset)?.into())
        })
    }

    /// The video frame at session instant `tMs` as RGB pixels (from the
    /// recording covering it; `VAP_NOT_FOUND` when none does). Options:
    /// `maxWidth`, `png` (add the PNG file).
    #[napi(catch_unwind)]
    pub fn still(
        &self,
        env: Env,
        room: Unknown<'_>,
        session: Unknown<'_>,
        t_ms: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsStill> {
        call(&env, || {
            let (room, session) = session_key(&env, room, session)?;
            let t = js_media::ms_arg(&env, t_ms, "tMs")?;
            let o = js_media::still_options(json_of(&env, options)?, "still options")?;
            js_media::session_still(&self.inner, &room, &session, t, o)
        })
    }
}

#[napi]
impl JsStore {
    /// The room view of every stored session of a room.
    #[napi(catch_unwind)]
    pub fn room_timeline(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<JsTimeline> {
        call(&env, || {
            let room = string_arg(&env, room, "room")?;
            let o = crate::align::align_options(json_of(&env, options)?)?;
            Ok(vap_core::align::store_room_timeline(&self.inner, &room, &o)?.into())
        })
    }
}

#[napi]
impl JsStore {
    /// As `roomTimeline`, on the libuv thread pool; returns a Promise.
    #[napi(catch_unwind, ts_return_type = "Promise<Timeline>")]
    pub fn room_timeline_async(
        &self,
        env: Env,
        room: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<VapTask<JsTimeline>> {
        let args = string_arg(&env, room, "room").and_then(|room| {
            let (o, job) = crate::jobs::controls(&env, options)?;
            Ok((room, crate::align::align_options(o)?, job))
        });
        let task = match args {
            Ok((room, o, job)) => {
                let store = self.inner.clone();
                VapTask::new(move || {
                    Ok(job
                        .run(|| vap_core::align::store_room_timeline(&store, &room, &o))?
                        .into())
                })
            }
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }
}
