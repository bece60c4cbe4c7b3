//! Clips of a replay's top moments (feature `media`): each moment cut out
//! of its recording with [`crate::media::clip`], and a manifest.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::media::clip;
use crate::schema::Ms;

/// Options of [`moment_clips`]: which moments and how much around each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClipOptions {
    /// The top `k` moments (by rank) to cut; `None` (default): every moment
    /// of the replay (its `top` option decides how many it holds).
    pub top: Option<usize>,
    /// Recording kept before each moment's start, as `before` (a duration:
    /// ms or `"10s"`; default 10 s: the lead-in that explains the moment).
    #[serde(alias = "before", with = "crate::options::signed_duration")]
    pub before_ms: Ms,
    /// Recording kept after each moment's end, as `after` (default 10 s).
    #[serde(alias = "after", with = "crate::options::signed_duration")]
    pub after_ms: Ms,
    /// Longest clip, as `max_length` (default 3 min): a long level shift is
    /// cut to its first `max_length`.
    #[serde(alias = "max_length", with = "crate::options::signed_duration")]
    pub max_length_ms: Ms,
    /// Exact cuts (the video re-encoded, see [`clip`]); default `false`: a
    /// remux from the keyframe before, fast and lossless.
    pub exact: bool,
    /// Container of the clips, by extension (default `"mp4"`).
    pub format: String,
    /// The folder a moment's relative recording path resolves against;
    /// default `None`: the replay's own (`Replay::media_dir`, the session's
    /// directory for a stored session), else the current folder.
    pub media_dir: Option<String>,
}

impl Default for ClipOptions {
    fn default() -> Self {
        ClipOptions {
            top: None,
            before_ms: 10_000,
            after_ms: 10_000,
            max_length_ms: 180_000,
            exact: false,
            format: "mp4".into(),
            media_dir: None,
        }
    }
}

impl crate::options::Options for ClipOptions {
    const WHAT: &'static str = "clip options";

    fn check(&self) -> Result<()> {
        let mut p = Vec::new();
        if self.top == Some(0) {
            p.push("top must be at least 1 (or null for every moment)".to_string());
        }
        if self.before_ms < 0 {
            p.push(format!("before is negative ({} ms)", self.before_ms));
        }
        if self.after_ms < 0 {
            p.push(format!("after is negative ({} ms)", self.after_ms));
        }
        if self.max_length_ms < 1_000 {
            p.push(format!("max_length {} ms is under 1 s", self.max_length_ms));
        }
        if self.format.is_empty() || !self.format.chars().all(|c| c.is_ascii_alphanumeric()) {
            p.push(format!(
                "format '{}' is not a file extension such as mp4, mkv or webm",
                self.format
            ));
        }
        crate::options::all_or_nothing(Self::WHAT, p)
    }
}

/// One line of a clips manifest: which moment, which file, where in the
/// recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipEntry {
    /// The moment's rank in the replay.
    pub rank: usize,
    /// Its metric and kind (`peak`, `drop`, `shift`).
    pub metric: String,
    /// The moment's kind, lower case.
    pub kind: String,
    /// The moment on the session clock, ms since the epoch.
    pub moment_start_ms: Ms,
    /// Its end.
    pub moment_end_ms: Ms,
    /// The moment's largest attributed part, if the model split it.
    pub top_part: Option<String>,
    /// The clip's file name, relative to the manifest's folder.
    pub file: String,
    /// The recording it was cut from.
    pub recording: String,
    /// Where the clip starts and ends in the recording, ms.
    pub start_ms: f64,
    /// End in the recording, ms.
    pub end_ms: f64,
    /// On the session clock: the clip's first instant, ms since the epoch.
    pub session_start_ms: Ms,
    /// Whether the cut is exact (re-encoded).
    pub exact: bool,
}

/// The name of the manifest [`moment_clips`] writes beside the clips.
pub const CLIP_MANIFEST: &str = "clips.json";

/// Cuts the top moments of a replay out of their recordings into `out_dir`
/// (created if missing): one clip per moment, `before` its start to `after`
/// its end ([`ClipOptions`]), named `moment-RANK.EXT`, and a manifest
/// (`clips.json`: every [`ClipEntry`]) written last and atomically.
///
/// A moment's recording path comes from the replay
/// ([`crate::replay::MomentReplay::recording`]); a relative one (a recording
/// copied into the store) is resolved against [`ClipOptions::media_dir`],
/// else the replay's `media_dir` (set for a stored session), else the
/// current folder.
///
/// Errors: [`VapError::NotFound`] when none of the chosen moments has a
/// recording (a session without one), naming the session; a recording that
/// cannot be read is an error naming the file (nothing is left half written:
/// clips are renamed into place when complete, the manifest is written last).
pub fn moment_clips(
    replay: &crate::replay::Replay,
    out_dir: impl AsRef<Path>,
    opts: &ClipOptions,
) -> Result<Vec<ClipEntry>> {
    use crate::options::Options as _;
    opts.check()?;
    let out_dir = out_dir.as_ref();
    let media_dir = opts
        .media_dir
        .as_deref()
        .or(replay.media_dir.as_deref())
        .map(Path::new);
    let k = opts.top.unwrap_or(usize::MAX);
    let chosen: Vec<_> = replay.moments.iter().filter(|m| m.rank <= k).collect();
    if !chosen.iter().any(|m| m.recording.is_some()) {
        return Err(VapError::NotFound(format!(
            "session '{}/{}' has no recording covering {} (register one first)",
            replay.room_id,
            replay.session_id,
            if chosen.is_empty() {
                "any moment (the replay has no moment)".to_string()
            } else {
                format!("its top {} moment(s)", chosen.len())
            }
        )));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| VapError::io(out_dir, e))?;
    let mut entries = Vec::new();
    for m in chosen {
        let Some(rec) = &m.recording else { continue };
        let src = {
            let p = std::path::PathBuf::from(&rec.path);
            match media_dir {
                Some(d) if p.is_relative() => d.join(p),
                _ => p,
            }
        };
        let start = (rec.position_ms - opts.before_ms).max(0);
        let len =
            (m.end_ms - m.start_ms).max(0) + opts.before_ms.min(rec.position_ms) + opts.after_ms;
        let end = start + len.min(opts.max_length_ms).max(1_000);
        let file = format!("moment-{}.{}", m.rank, opts.format);
        let c = clip(&src, start, end, out_dir.join(&file), opts.exact)?;
        entries.push(ClipEntry {
            rank: m.rank,
            metric: m.metric.clone(),
            kind: format!("{:?}", m.kind).to_lowercase(),
            moment_start_ms: m.start_ms,
            moment_end_ms: m.end_ms,
            top_part: m.parts.first().map(|p| p.name.clone()),
            file,
            recording: src.display().to_string(),
            start_ms: c.start_ms,
            end_ms: c.end_ms,
            session_start_ms: m.start_ms - rec.position_ms + c.start_ms.round() as Ms,
            exact: c.exact,
        });
    }
    let json =
        serde_json::to_vec_pretty(&entries).map_err(|e| VapError::Internal(e.to_string()))?;
    crate::store::write_atomic(&out_dir.join(CLIP_MANIFEST), &json)?;
    Ok(entries)
}
