//! Live sessions (`vap_core::live`): the native halves of `LiveSession` and
//! `CaptureFollower`; index.js wraps `LiveSession` in an `EventEmitter` that
//! emits `'alert'` and `'moment'`. Events, updates, moments and alerts cross
//! as plain objects with camelCase field names (`to_json!`); events given to
//! `append` may also have the core's snake_case names.

use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Unknown};
use napi_derive::napi;
use vap_core::live::{self, CaptureFollower, FollowOptions, LiveOptions, LiveSession};
use vap_core::options::Options;
use vap_core::VapError;

use crate::align::JsTimeline;
use crate::attribute::{JsDecomposition, JsRoomModel};
use crate::convert::{json_of, Json};
use crate::error::call;
use crate::session::JsSession;
use crate::tasks::VapTask;
use crate::to_json;

/// Events (one or an array) as the core reads them: each a flat record
/// whose camelCase keys (as `poll` and `liveFeed` give them) become the
/// core's ([`crate::camel::record_to_core`]).
fn events_of(v: serde_json::Value) -> serde_json::Value {
    use crate::camel::record_to_core;
    match v {
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(record_to_core).collect())
        }
        one => record_to_core(one),
    }
}

fn lock<T>(m: &Mutex<T>) -> vap_core::Result<MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| VapError::Internal("a live session panicked while updating".into()))
}

/// The native live session (index.js's `LiveSession` wraps it).
#[napi(js_name = "LiveSession")]
pub struct JsLiveSession {
    inner: Arc<Mutex<LiveSession>>,
}

#[napi]
impl JsLiveSession {
    /// A live session of `session`'s room and session (its products,
    /// anchors, metrics and run-sheet; its rows are not read), with a room
    /// model to decompose the live timeline. Options:
    /// `optionDefaults('live')`.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "session: Session, options?: LiveOptions | null, model?: RoomModel | null"
    )]
    pub fn new(
        env: Env,
        session: &JsSession,
        options: Option<Unknown<'_>>,
        model: Option<&JsRoomModel>,
    ) -> napi::Result<Self> {
        call(&env, || {
            let o = LiveOptions::from_camel_value(json_of(&env, options)?)?;
            let inner = LiveSession::new(&session.data, o, model.map(|m| m.inner.clone()))?;
            Ok(JsLiveSession {
                inner: Arc::new(Mutex::new(inner)),
            })
        })
    }

    /// Appends events (one object or an array); returns the update.
    #[napi(
        catch_unwind,
        ts_args_type = "events: LiveEvent | LiveEvent[]",
        ts_return_type = "LiveUpdate"
    )]
    pub fn append(&self, env: Env, events: Unknown<'_>) -> napi::Result<Json> {
        call(&env, || {
            let v = events_of(json_of(&env, Some(events))?);
            Ok(Json(to_json!(&lock(&self.inner)?.append_value(v)?)?))
        })
    }

    /// As `append`, on the libuv thread pool; returns a Promise.
    #[napi(
        catch_unwind,
        ts_args_type = "events: LiveEvent | LiveEvent[]",
        ts_return_type = "Promise<LiveUpdate>"
    )]
    pub fn append_async(&self, env: Env, events: Unknown<'_>) -> AsyncTask<VapTask<Json>> {
        let inner = self.inner.clone();
        let task = match json_of(&env, Some(events)).map(events_of) {
            Ok(v) => VapTask::new(move || Ok(Json(to_json!(&lock(&inner)?.append_value(v)?)?))),
            Err(e) => VapTask::failed(e),
        };
        AsyncTask::new(task)
    }

    /// Moves the watermark to `nowMs` without events (a heartbeat).
    #[napi(catch_unwind, ts_return_type = "LiveUpdate")]
    pub fn advance(&self, env: Env, now_ms: i64) -> napi::Result<Json> {
        call(&env, || {
            Ok(Json(to_json!(&lock(&self.inner)?.advance(now_ms)?)?))
        })
    }

    /// Reads what a follower's capture log gained and appends it.
    #[napi(catch_unwind, ts_return_type = "LiveUpdate")]
    pub fn follow(&self, env: Env, follower: &JsCaptureFollower) -> napi::Result<Json> {
        call(&env, || {
            let mut f = lock(&follower.inner)?;
            Ok(Json(to_json!(&lock(&self.inner)?.follow(&mut f)?)?))
        })
    }

    /// The timeline so far.
    #[napi(catch_unwind)]
    pub fn timeline(&self, env: Env) -> napi::Result<JsTimeline> {
        call(&env, || {
            Ok(JsTimeline {
                inner: lock(&self.inner)?.timeline().clone(),
            })
        })
    }

    /// The moments so far, ranked.
    #[napi(catch_unwind, ts_return_type = "Moment[]")]
    pub fn moments(&self, env: Env) -> napi::Result<Json> {
        call(&env, || Ok(Json(to_json!(&lock(&self.inner)?.moments())?)))
    }

    /// Every alert fired so far, in order.
    #[napi(catch_unwind, ts_return_type = "Alert[]")]
    pub fn alerts(&self, env: Env) -> napi::Result<Json> {
        call(&env, || Ok(Json(to_json!(&lock(&self.inner)?.alerts())?)))
    }

    /// The room model's decomposition so far (null without a model).
    #[napi(catch_unwind)]
    pub fn decomposition(&self, env: Env) -> napi::Result<Option<JsDecomposition>> {
        call(&env, || {
            Ok(lock(&self.inner)?
                .decomposition()
                .cloned()
                .map(JsDecomposition::of))
        })
    }

    /// The session as the events so far make it (open intervals end at the
    /// watermark): what the batch computation would be given.
    #[napi(catch_unwind)]
    pub fn data(&self, env: Env) -> napi::Result<JsSession> {
        call(&env, || {
            Ok(JsSession {
                data: Arc::new(lock(&self.inner)?.data()),
                report: None,
                source_report: None,
            })
        })
    }

    /// The newest time seen (ms), or null.
    #[napi(getter, catch_unwind)]
    pub fn watermark_ms(&self, env: Env) -> napi::Result<Option<i64>> {
        call(&env, || Ok(lock(&self.inner)?.watermark_ms()))
    }

    /// The bin width (ms).
    #[napi(getter, catch_unwind)]
    pub fn step_ms(&self, env: Env) -> napi::Result<i64> {
        call(&env, || Ok(lock(&self.inner)?.step_ms()))
    }

    /// Comments and transcript lines dropped behind the horizon.
    #[napi(getter, catch_unwind)]
    pub fn dropped_text(&self, env: Env) -> napi::Result<u32> {
        call(&env, || Ok(lock(&self.inner)?.dropped_text() as u32))
    }
}

/// Follows a capture tool's JSON Lines log as it is written (`tail -f`).
#[napi(js_name = "CaptureFollower")]
pub struct JsCaptureFollower {
    inner: Mutex<CaptureFollower>,
}

#[napi]
impl JsCaptureFollower {
    /// Follows the log at `path` (Douyin or TikTokLive lines; options:
    /// `optionDefaults('follow')`).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "path: string, options?: FollowOptions | null"
    )]
    pub fn new(env: Env, path: String, options: Option<Unknown<'_>>) -> napi::Result<Self> {
        call(&env, || {
            let o = FollowOptions::from_camel_value(json_of(&env, options)?)?;
            Ok(JsCaptureFollower {
                inner: Mutex::new(CaptureFollower::open(&path, o)?),
            })
        })
    }

    /// The events in the lines appended since the last poll.
    #[napi(catch_unwind, ts_return_type = "LiveEvent[]")]
    pub fn poll(&self, env: Env) -> napi::Result<Json> {
        call(&env, || Ok(Json(to_json!(&lock(&self.inner)?.poll()?)?)))
    }

    /// Complete lines read so far.
    #[napi(getter, catch_unwind)]
    pub fn lines(&self, env: Env) -> napi::Result<u32> {
        call(&env, || Ok(lock(&self.inner)?.lines() as u32))
    }

    /// Lines skipped (not JSON, no time, unread message types).
    #[napi(getter, catch_unwind)]
    pub fn skipped(&self, env: Env) -> napi::Result<u32> {
        call(&env, || Ok(lock(&self.inner)?.skipped().0 as u32))
    }

    /// Repeated messages dropped.
    #[napi(getter, catch_unwind)]
    pub fn repeats(&self, env: Env) -> napi::Result<u32> {
        call(&env, || Ok(lock(&self.inner)?.skipped().1 as u32))
    }
}

/// A session's rows as the events a live feed would have delivered, in
/// arrival order; with `everyMs`, in batches of that much stream.
#[napi(
    catch_unwind,
    ts_args_type = "session: Session, everyMs?: number | null",
    ts_return_type = "LiveEvent[] | LiveEvent[][]"
)]
pub fn live_feed(env: Env, session: &JsSession, every_ms: Option<i64>) -> napi::Result<Json> {
    call(&env, || match every_ms {
        Some(ms) => Ok(Json(to_json!(&live::feed_batches(&session.data, ms)?)?)),
        None => Ok(Json(to_json!(&live::feed(&session.data))?)),
    })
}
