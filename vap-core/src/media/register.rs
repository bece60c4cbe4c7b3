//! Recordings of a stored session and their clock offsets.

use std::path::{Path, PathBuf};

use crate::error::{Result, VapError};
use crate::schema::{Ms, SessionData, VideoRef};
use crate::store::{file_digest, Store};

/// The session-clock span `[offset, offset + duration)` a recording covers,
/// when its duration is known ([`VideoRef::span`]).
pub fn recording_span(r: &VideoRef) -> Option<(Ms, Ms)> {
    r.span()
}

/// The file of a registered recording. A recording registered from a file
/// keeps its absolute path; one copied into the store with the session
/// (`ImportOptions::copy_recordings`) has a path relative to the session's
/// directory (`session_dir`, [`Store::session_dir`]), resolved here.
///
/// ```
/// use std::path::Path;
/// use vap_core::media::recording_path;
/// use vap_core::VideoRef;
///
/// let copied = VideoRef {
///     path: "media/0-live.mp4".into(),
///     offset_ms: 0,
///     size_bytes: None,
///     sha256: None,
///     duration_ms: None,
/// };
/// let dir = Path::new("/store/rooms/r/sessions/s");
/// assert_eq!(recording_path(dir, &copied), dir.join("media/0-live.mp4"));
/// let outside = VideoRef { path: "/videos/live.mp4".into(), ..copied };
/// assert_eq!(recording_path(dir, &outside), Path::new("/videos/live.mp4"));
/// ```
pub fn recording_path(session_dir: &Path, r: &VideoRef) -> PathBuf {
    let p = PathBuf::from(&r.path);
    if p.is_relative() {
        session_dir.join(p)
    } else {
        p
    }
}

/// Registers a recording on a stored session: probes it (it must hold audio
/// or video), records its path (made absolute), size, sha256, duration and
/// offset to the session clock (`session_time = offset_ms + position`), and
/// replaces the session atomically. The same file (by sha256) cannot be
/// registered twice. Returns the stored reference.
///
/// When the offset is not known, register with the nominal one (say the
/// session's start), transcribe, then estimate it with
/// [`estimate_recording_offset`](crate::align::estimate_recording_offset) and set it with [`set_recording_offset`].
pub fn register_recording(
    store: &Store,
    room: &str,
    session: &str,
    path: impl AsRef<Path>,
    offset_ms: Ms,
) -> Result<VideoRef> {
    let path = path.as_ref();
    let info = super::probe(path)?;
    if !info.has_audio() && !info.has_video() {
        return Err(VapError::format(path, "has neither audio nor video"));
    }
    let (size, sha) = file_digest(path)?;
    let abs = std::fs::canonicalize(path).map_err(|e| VapError::io(path, e))?;
    let r = VideoRef {
        path: abs.display().to_string(),
        offset_ms,
        size_bytes: Some(size),
        sha256: Some(sha.clone()),
        duration_ms: info.duration_ms,
    };
    let stored = r.clone();
    store.update_session(room, session, &[], move |d| {
        if let Some(i) = d
            .session
            .recordings
            .iter()
            .position(|x| x.sha256.as_deref() == Some(sha.as_str()))
        {
            return Err(VapError::AlreadyExists(format!(
                "recording {} is registered already as recording {i} ({})",
                r.path, d.session.recordings[i].path
            )));
        }
        d.session.recordings.push(r);
        Ok(())
    })?;
    Ok(stored)
}

/// Sets the offset of recording `index` of a stored session and moves the
/// utterances transcribed from it (those within its span on the old offset)
/// by the same amount, in one atomic replacement of the session. Returns the
/// session as stored.
pub fn set_recording_offset(
    store: &Store,
    room: &str,
    session: &str,
    index: usize,
    offset_ms: Ms,
) -> Result<SessionData> {
    store.update_session(room, session, &[], |d| {
        let n = d.session.recordings.len();
        let r = d.session.recordings.get_mut(index).ok_or_else(|| {
            VapError::NotFound(format!(
                "recording {index} of session '{room}/{session}' ({n} registered)"
            ))
        })?;
        let delta = offset_ms - r.offset_ms;
        let span = recording_span(r);
        r.offset_ms = offset_ms;
        if let Some((a, b)) = span {
            for u in &mut d.utterances {
                if u.start_ms >= a && u.start_ms < b {
                    u.start_ms += delta;
                    u.end_ms += delta;
                }
            }
            d.utterances.sort_by_key(|u| (u.start_ms, u.end_ms));
        }
        Ok(())
    })
}
