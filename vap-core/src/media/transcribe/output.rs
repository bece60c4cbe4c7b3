//! What a transcription returns ([`Transcript`], [`TranscriptStats`],
//! [`Progress`]), the checkpointed chunk results, and their conversion into
//! utterances on the session clock.

use serde::{Deserialize, Serialize};

use super::run::Job;
use crate::schema::{Ms, SessionData, ShiftRole, Utterance};

/// How far a transcription has come; passed to the progress callback after
/// every chunk (resumed chunks included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Chunks done so far (1-based count), over all recordings.
    pub done: usize,
    /// Chunks in all.
    pub total: usize,
    /// Index of the recording the chunk belongs to.
    pub recording: usize,
    /// The chunk's start, as a position in its recording (ms).
    pub position_ms: Ms,
    /// Audio covered so far, ms (over all recordings).
    pub audio_done_ms: Ms,
    /// Audio in all, ms.
    pub audio_total_ms: Ms,
    /// Whether the chunk came from a checkpoint rather than the model.
    pub resumed: bool,
    /// Segments the chunk kept.
    pub segments: usize,
}

impl std::fmt::Display for Progress {
    /// One progress line: a bar over the audio covered, then the chunk:
    /// `[########------------]  40% chunk 4/10 (recording 0, at 180.0 s): 12 segments`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const WIDTH: usize = 20;
        let share = if self.audio_total_ms > 0 {
            (self.audio_done_ms as f64 / self.audio_total_ms as f64).clamp(0.0, 1.0)
        } else {
            self.done as f64 / self.total.max(1) as f64
        };
        let full = (share * WIDTH as f64).round() as usize;
        write!(
            f,
            "[{}{}] {:>3.0}% chunk {}/{} (recording {}, at {:.1} s){}: {} segments",
            "#".repeat(full),
            "-".repeat(WIDTH - full),
            share * 100.0,
            self.done,
            self.total,
            self.recording,
            self.position_ms as f64 / 1000.0,
            if self.resumed { " from checkpoint" } else { "" },
            self.segments
        )
    }
}

#[cfg(test)]
mod progress_tests {
    #[test]
    fn a_progress_line_shows_a_bar() {
        let p = super::Progress {
            done: 4,
            total: 10,
            recording: 0,
            position_ms: 180_000,
            audio_done_ms: 400,
            audio_total_ms: 1_000,
            resumed: true,
            segments: 12,
        };
        assert_eq!(
            p.to_string(),
            "[########------------]  40% chunk 4/10 (recording 0, at 180.0 s) from checkpoint: 12 segments"
        );
    }
}

/// What a transcription did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TranscriptStats {
    /// Chunks in all.
    pub chunks: usize,
    /// Chunks read back from checkpoints.
    pub chunks_resumed: usize,
    /// Chunks decoded and run through the model in this call.
    pub chunks_transcribed: usize,
    /// Audio covered by the recordings, ms.
    pub audio_ms: Ms,
    /// Audio decoded in this call, ms (an overlap shared by two consecutive
    /// chunks is decoded once).
    pub decoded_ms: Ms,
    /// Audio of the chunks run through the model in this call, ms.
    pub transcribed_ms: Ms,
    /// Of that, audio the voice detector sent to the model, ms (the rest was
    /// silence or too quiet).
    pub voiced_ms: Ms,
    /// Damaged packets skipped while decoding.
    pub bad_packets: u64,
    /// Seconds spent decoding audio.
    pub decode_seconds: f64,
    /// Seconds spent in the model.
    pub model_seconds: f64,
    /// Segments dropped as near silence.
    pub dropped_silence: usize,
    /// Segments dropped as no speech by the model's own estimate.
    pub dropped_no_speech: usize,
    /// Segments dropped as repeated text.
    pub dropped_repeats: usize,
    /// Segments dropped as non-speech annotations (`[Music]`, `(applause)`).
    pub dropped_annotations: usize,
    /// Segments dropped as duplicates at chunk joins.
    pub dropped_duplicates: usize,
}

impl TranscriptStats {
    /// Real-time factor of this call: (decode + model seconds) per second of
    /// audio transcribed (0 when nothing was).
    pub fn real_time_factor(&self) -> f64 {
        if self.transcribed_ms == 0 {
            0.0
        } else {
            (self.decode_seconds + self.model_seconds) / (self.transcribed_ms as f64 / 1000.0)
        }
    }
}

/// The result of a transcription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Utterances on the session clock, sorted by start.
    pub utterances: Vec<Utterance>,
    /// Languages the model used per chunk (detected ones when `Auto`), most
    /// frequent first.
    pub languages: Vec<String>,
    /// What was done.
    pub stats: TranscriptStats,
}

/// A segment of one chunk, as checkpointed: times are positions in the
/// recording (ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Segment {
    pub(super) start: Ms,
    pub(super) end: Ms,
    pub(super) text: String,
    pub(super) confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ChunkResult {
    pub(super) version: u32,
    pub(super) key: String,
    pub(super) recording: usize,
    pub(super) index: usize,
    pub(super) start: Ms,
    pub(super) end: Ms,
    pub(super) language: String,
    pub(super) segments: Vec<Segment>,
    pub(super) dropped: [usize; 4],
}

pub(super) fn to_utterances(
    segs: Vec<(usize, Segment)>,
    jobs: &[Job],
    data: Option<&SessionData>,
) -> Vec<Utterance> {
    let mut out: Vec<Utterance> = segs
        .into_iter()
        .map(|(r, s)| {
            let off = jobs[r].offset_ms;
            let (start, end) = (off + s.start, off + s.end.max(s.start + 1));
            Utterance {
                start_ms: start,
                end_ms: end,
                speaker: data.and_then(|d| speaker_at(d, (start + end) / 2)),
                text: s.text,
                confidence: Some(s.confidence.clamp(0.0, 1.0)),
            }
        })
        .collect();
    out.sort_by_key(|u| (u.start_ms, u.end_ms));
    out
}

/// The anchor speaking at `t`: the host on shift then, else a co-host, else
/// field control.
pub(super) fn speaker_at(data: &SessionData, t: Ms) -> Option<String> {
    let rank = |r: ShiftRole| match r {
        ShiftRole::Host => 0,
        ShiftRole::CoHost => 1,
        ShiftRole::FieldControl => 2,
    };
    data.shifts
        .iter()
        .filter(|s| s.start_ms <= t && t < s.end_ms)
        .min_by_key(|s| (rank(s.role), s.start_ms))
        .map(|s| s.anchor_id.clone())
}
