//! Transcription options ([`TranscribeOptions`], [`Language`]) and the
//! default prompt built from a session's products.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, VapError};
use crate::schema::{Ms, SessionData};

/// Language of the speech. Serialises as its code ("auto", "zh", "en", ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Language {
    /// Detected by the model per chunk (multilingual models only).
    #[default]
    Auto,
    /// Mandarin Chinese.
    Zh,
    /// English.
    En,
    /// Any other language code whisper knows ("ja", "ko", ...).
    Other(String),
}

impl Language {
    /// Parses "auto", "zh", "en" or another whisper language code.
    pub fn parse(s: &str) -> Result<Language> {
        crate::media::log::install_hooks(); // whisper.cpp reports unknown codes on its log
        let l = s.trim().to_ascii_lowercase();
        if l.contains('\0') || l.len() > 16 {
            return Err(VapError::InvalidArgument(format!(
                "unknown language {s:?}: use 'auto', 'zh', 'en' or a whisper language code"
            )));
        }
        Ok(match l.as_str() {
            "auto" | "" => Language::Auto,
            "zh" | "chinese" | "mandarin" => Language::Zh,
            "en" | "english" => Language::En,
            other => {
                if whisper_rs::get_lang_id(other).is_none() {
                    return Err(VapError::InvalidArgument(format!(
                        "unknown language '{s}': use 'auto', 'zh', 'en' or a whisper language code"
                    )));
                }
                Language::Other(other.to_string())
            }
        })
    }

    /// The code whisper.cpp takes ("auto", "zh", "en", ...).
    pub fn code(&self) -> &str {
        match self {
            Language::Auto => "auto",
            Language::Zh => "zh",
            Language::En => "en",
            Language::Other(s) => s,
        }
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Language::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Options of [`transcribe`](super::transcribe) and [`transcribe_session`](super::transcribe_session). From JSON, every
/// field is optional (the defaults below) and unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscribeOptions {
    /// The whisper.cpp ggml model file (`make models` writes
    /// `models/ggml-tiny.en.bin` and `models/ggml-base.bin`, and their
    /// quantised `-q8_0` / `-q5_1` variants: tiny.en q8_0 is about 16 %
    /// faster at the same recall, see the README).
    pub model: PathBuf,
    /// Language of the speech (default auto; an English-only model needs `En`).
    pub language: Language,
    /// Length of a chunk, ms (default 300 000; at least 10 000); also read
    /// as `chunk` (a duration: ms or `"5min"`).
    #[serde(alias = "chunk", with = "crate::options::signed_duration")]
    pub chunk_ms: Ms,
    /// Audio decoded either side of a chunk, ms (default 3 000); also read as
    /// `overlap`.
    #[serde(alias = "overlap", with = "crate::options::signed_duration")]
    pub overlap_ms: Ms,
    /// Threads whisper.cpp uses (0 = every core, default).
    pub threads: usize,
    /// Voiced windows decoded side by side, each by its own whisper state
    /// with `threads / lanes` threads, or one with OpenBLAS (the `openblas`
    /// feature, on in the Python and Node modules: see [`LANE_THREADS`]);
    /// at most 16, never more than the threads; 0 = automatic (default):
    /// one when the chunk has fewer than [`AUTO_LANES_FROM`] voiced windows,
    /// else two (with OpenBLAS one per thread, at most four). Each lane holds
    /// its own decoder state (about 170 MB for base); the transcript does not
    /// depend on it, the speed does (base on 2 cores: 0.105 -> 0.092 x real
    /// time with two lanes, see the README).
    pub lanes: usize,
    /// Decode a window again at higher temperatures when the greedy decode
    /// fails whisper's compression-ratio or log-probability check (whisper's
    /// temperature fallback). Default false: on the test media it cost 1.8x
    /// the time on base and found fewer keywords, and tiny.en did not change.
    pub temperature_fallback: bool,
    /// Beam size; 1 is greedy decoding (default).
    pub beam_size: usize,
    /// Prompt that primes the decoder. `None` builds one from the session's
    /// product names and aliases ([`build_initial_prompt`]).
    pub initial_prompt: Option<String>,
    /// A segment whose no-speech probability is above this and whose mean
    /// token log-probability is below `logprob_threshold` is dropped (0.6).
    pub no_speech_threshold: f32,
    /// See `no_speech_threshold` (-1.0).
    pub logprob_threshold: f32,
    /// A segment whose audio is quieter than this (RMS, dBFS) is dropped (-50).
    pub silence_dbfs: f32,
    /// The same text more than this many times in a row is dropped after the
    /// first `max_repeats` (2).
    pub max_repeats: usize,
    /// Continue from the checkpoints of an earlier run with the same key
    /// (store runs only; default true). Checkpoints are written either way.
    pub resume: bool,
    /// Write Chinese in Simplified characters (whisper often writes
    /// Traditional for Mandarin); default true.
    pub simplified_chinese: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        TranscribeOptions {
            model: PathBuf::from("models/ggml-base.bin"),
            language: Language::Auto,
            chunk_ms: 300_000,
            overlap_ms: 3_000,
            threads: 0,
            lanes: 0,
            temperature_fallback: false,
            beam_size: 1,
            initial_prompt: None,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
            silence_dbfs: -50.0,
            max_repeats: 2,
            resume: true,
            simplified_chinese: true,
        }
    }
}

impl crate::options::Options for TranscribeOptions {
    const WHAT: &'static str = "transcribe options";

    fn check(&self) -> Result<()> {
        TranscribeOptions::check(self)
    }
}

/// The fewest voiced windows in a chunk for which automatic lanes decode two
/// or more at a time. Without OpenBLAS, a window on one thread takes about
/// 1.7x as long as on two, so two lanes over three windows wait for a lone
/// last one and one lane on every thread is faster below four. With OpenBLAS
/// (the `openblas` feature) a lane runs on one thread (see [`LANE_THREADS`]),
/// so lanes pay from two windows on.
pub const AUTO_LANES_FROM: usize = if cfg!(feature = "openblas") { 2 } else { 4 };

/// With OpenBLAS (the `openblas` feature), each lane runs on exactly one
/// thread, and the threads become lanes: OpenBLAS' matrix products round
/// differently with the number of threads they are split over (measured:
/// one lane on two threads heard other words than one lane on one thread on
/// ten minutes of speech), and the transcript must not depend on the thread
/// count. Without it, a lane gets `threads / lanes` threads (whisper.cpp's
/// own kernels give each output to one thread, whatever their number).
pub const LANE_THREADS: Option<i32> = if cfg!(feature = "openblas") {
    Some(1)
} else {
    None
};

/// The most automatic lanes with OpenBLAS (each holds its own decoder state,
/// about 170 MB for base).
const AUTO_LANES_MAX_OPENBLAS: usize = 4;

impl TranscribeOptions {
    /// Options with this model and language, the rest default.
    pub fn new(model: impl Into<PathBuf>, language: Language) -> Self {
        TranscribeOptions {
            model: model.into(),
            language,
            ..Default::default()
        }
    }

    /// Every field checked; a `Validation` error lists each bad one.
    pub fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, msg: String| {
            problems.push(Problem::new("transcribe options", None, Some(field), msg))
        };
        if self.chunk_ms < 10_000 {
            bad("chunk_ms", format!("{} ms is under 10 s", self.chunk_ms));
        }
        if self.overlap_ms < 0 || self.overlap_ms * 4 > self.chunk_ms {
            bad(
                "overlap_ms",
                format!(
                    "{} ms must be in [0, chunk/4 = {} ms]",
                    self.overlap_ms,
                    self.chunk_ms / 4
                ),
            );
        }
        if self.lanes > 16 {
            bad("lanes", format!("{} is not in 0..=16", self.lanes));
        }
        if self.beam_size == 0 || self.beam_size > 16 {
            bad("beam_size", format!("{} is not in 1..=16", self.beam_size));
        }
        if !(0.0..=1.0).contains(&self.no_speech_threshold) {
            bad(
                "no_speech_threshold",
                format!("{} is not in [0, 1]", self.no_speech_threshold),
            );
        }
        if !self.silence_dbfs.is_finite() || self.silence_dbfs > 0.0 {
            bad(
                "silence_dbfs",
                format!("{} is not a level in dBFS (<= 0)", self.silence_dbfs),
            );
        }
        if self
            .initial_prompt
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            bad("initial_prompt", "contains a NUL character".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(VapError::Validation(problems))
        }
    }

    pub(super) fn threads(&self) -> i32 {
        let n = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        n.clamp(1, 64) as i32
    }

    /// The most lanes a chunk may use: `lanes`, or when automatic two (with
    /// OpenBLAS: one per thread, at most four); never more than the threads.
    pub(super) fn lanes(&self) -> usize {
        let threads = self.threads() as usize;
        let auto = if LANE_THREADS.is_some() {
            threads.min(AUTO_LANES_MAX_OPENBLAS)
        } else {
            2
        };
        let want = if self.lanes == 0 { auto } else { self.lanes };
        want.min(threads).max(1)
    }

    /// The threads of each of `lanes` lanes: one with OpenBLAS
    /// ([`LANE_THREADS`]), else `threads / lanes`.
    pub(super) fn lane_threads(&self, lanes: usize) -> i32 {
        LANE_THREADS.unwrap_or_else(|| (self.threads() / lanes.max(1) as i32).max(1))
    }

    /// The lanes a chunk of `windows` voiced windows uses. Automatic lanes
    /// need [`AUTO_LANES_FROM`] windows.
    pub(super) fn lanes_for(&self, windows: usize) -> usize {
        if self.lanes == 0 && windows < AUTO_LANES_FROM {
            1
        } else {
            self.lanes().min(windows).max(1)
        }
    }
}

/// A prompt that primes the decoder with the room's product names and
/// aliases (whisper otherwise mishears brand and product names), at most
/// about 200 characters.
pub fn build_initial_prompt(data: &SessionData, language: &Language) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    for p in &data.products {
        for n in std::iter::once(p.name.as_str()).chain(p.aliases.iter().map(String::as_str)) {
            let n = n.trim();
            if !n.is_empty() && !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let zh = matches!(language, Language::Zh)
        || names
            .iter()
            .any(|n| n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    let (head, sep) = if zh {
        ("直播间商品：", "、")
    } else {
        ("Products: ", ", ")
    };
    let mut out = head.to_string();
    for (i, n) in names.iter().enumerate() {
        let add = if i == 0 {
            n.to_string()
        } else {
            format!("{sep}{n}")
        };
        if out.chars().count() + add.chars().count() > 200 {
            break;
        }
        out.push_str(&add);
    }
    out.push(if zh { '。' } else { '.' });
    Some(out)
}
