//! What a recording holds: duration, start time, streams.

use std::path::Path;

use ffmpeg_next::media::Type;
use serde::{Deserialize, Serialize};

use super::{container_start_us, open_input, ts_ms};
use crate::error::Result;
use crate::schema::Ms;

/// Kind of a stream in a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// Sound.
    Audio,
    /// Pictures.
    Video,
    /// Subtitles.
    Subtitle,
    /// Anything else (data, attachments).
    Other,
}

/// One stream of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Index in the container.
    pub index: usize,
    /// What it carries.
    pub kind: StreamKind,
    /// Codec name ("aac", "h264", ...).
    pub codec: String,
    /// First timestamp, ms from the container's start, when known.
    pub start_ms: Option<f64>,
    /// Length in ms, when the container says.
    pub duration_ms: Option<f64>,
    /// Audio: samples per second.
    pub sample_rate: Option<u32>,
    /// Audio: channels.
    pub channels: Option<u16>,
    /// Video: width in pixels.
    pub width: Option<u32>,
    /// Video: height in pixels.
    pub height: Option<u32>,
    /// Video: average frames per second.
    pub frame_rate: Option<f64>,
}

/// What [`probe`] tells about a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// The path probed.
    pub path: String,
    /// Container format ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", ...).
    pub format: String,
    /// Length in ms, when known.
    pub duration_ms: Option<Ms>,
    /// The container's start time in ms (position 0 is this instant of the
    /// file's own clock).
    pub start_ms: f64,
    /// Overall bit rate in bits per second, when known.
    pub bit_rate: Option<i64>,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Streams, in container order.
    pub streams: Vec<StreamInfo>,
}

impl RecordingInfo {
    /// Whether the file has an audio stream.
    pub fn has_audio(&self) -> bool {
        self.streams.iter().any(|s| s.kind == StreamKind::Audio)
    }

    /// Whether the file has a video stream.
    pub fn has_video(&self) -> bool {
        self.streams.iter().any(|s| s.kind == StreamKind::Video)
    }
}

/// Probes a recording. A missing file is [`crate::VapError::Io`]; a file FFmpeg
/// cannot read is [`crate::VapError::Format`].
pub fn probe(path: impl AsRef<Path>) -> Result<RecordingInfo> {
    let path = path.as_ref();
    let input = open_input(path)?;
    let start_us = container_start_us(&input);
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut streams = Vec::new();
    for s in input.streams() {
        let params = s.parameters();
        let kind = match params.medium() {
            Type::Audio => StreamKind::Audio,
            Type::Video => StreamKind::Video,
            Type::Subtitle => StreamKind::Subtitle,
            _ => StreamKind::Other,
        };
        let tb = s.time_base();
        let start_ms = (s.start_time() != ffmpeg_next::ffi::AV_NOPTS_VALUE)
            .then(|| ts_ms(s.start_time(), tb) - start_us as f64 / 1000.0);
        let duration_ms = (s.duration() > 0).then(|| ts_ms(s.duration(), tb));
        let codec = params.id().name().to_string();
        let mut info = StreamInfo {
            index: s.index(),
            kind,
            codec,
            start_ms,
            duration_ms,
            sample_rate: None,
            channels: None,
            width: None,
            height: None,
            frame_rate: None,
        };
        // SAFETY: the parameters pointer is valid while `s` lives.
        let p = unsafe { &*params.as_ptr() };
        match kind {
            StreamKind::Audio => {
                info.sample_rate = (p.sample_rate > 0).then_some(p.sample_rate as u32);
                let ch = p.ch_layout.nb_channels;
                info.channels = (ch > 0).then_some(ch as u16);
            }
            StreamKind::Video => {
                info.width = (p.width > 0).then_some(p.width as u32);
                info.height = (p.height > 0).then_some(p.height as u32);
                let r = s.avg_frame_rate();
                info.frame_rate = (r.numerator() > 0 && r.denominator() > 0)
                    .then(|| r.numerator() as f64 / r.denominator() as f64);
            }
            _ => {}
        }
        streams.push(info);
    }
    let dur = input.duration();
    let duration_ms = (dur > 0).then_some(dur / 1000);
    let bit_rate = (input.bit_rate() > 0).then(|| input.bit_rate());
    Ok(RecordingInfo {
        path: path.display().to_string(),
        format: input.format().name().to_string(),
        duration_ms,
        start_ms: start_us as f64 / 1000.0,
        bit_rate,
        size_bytes,
        streams,
    })
}
