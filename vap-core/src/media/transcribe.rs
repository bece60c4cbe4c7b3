//! Whisper transcription of recordings into [`Utterance`]s on the session clock.
//!
//! A recording is cut into chunks of `chunk_ms` (default 5 min), each decoded
//! with `overlap_ms` of audio either side so that no word is cut at a join;
//! a segment belongs to the chunk its midpoint falls in, and a segment that
//! repeats the text of its neighbour across a join is dropped. Segments whose
//! audio is near silence, which whisper itself thinks hold no speech, which
//! only annotate non-speech (`[Music]`) or which repeat the same text over and
//! over (whisper's failure mode on music) are filtered and counted.
//!
//! Through the store ([`transcribe_session`]) every chunk is checkpointed as a
//! work file as soon as it is done: a crash or a stop loses at most the chunk
//! in flight, and a rerun with the same recordings, model and options decodes
//! only the chunks that are left. The final transcript replaces the session's
//! utterances atomically and drops the checkpoints in the same commit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::audio::{AudioStream, SAMPLE_RATE};
use super::register::recording_path;
use crate::error::{Problem, Result, VapError};
use crate::schema::{Ms, SessionData, ShiftRole, Utterance};
use crate::store::Store;

const PER_MS: usize = SAMPLE_RATE as usize / 1000;
/// Work area of the checkpoints in the store.
const WORK_AREA: &str = "asr";
/// Version of the checkpoint format; part of the run key.
const CHECKPOINT_VERSION: u32 = 1;

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
        super::log::install_hooks(); // whisper.cpp reports unknown codes on its log
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

/// Options of [`transcribe`] and [`transcribe_session`]. From JSON, every
/// field is optional (the defaults below) and unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscribeOptions {
    /// The whisper.cpp ggml model file (`make models` writes
    /// `models/ggml-tiny.en.bin` and `models/ggml-base.bin`).
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

    fn threads(&self) -> i32 {
        let n = if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        };
        n.clamp(1, 64) as i32
    }
}

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
struct Segment {
    start: Ms,
    end: Ms,
    text: String,
    confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ChunkResult {
    version: u32,
    key: String,
    recording: usize,
    index: usize,
    start: Ms,
    end: Ms,
    language: String,
    segments: Vec<Segment>,
    dropped: [usize; 4],
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

/// The model, loaded once per call.
struct Model {
    ctx: WhisperContext,
    multilingual: bool,
}

fn load_model(path: &Path) -> Result<Model> {
    super::log::install_hooks();
    let meta = std::fs::metadata(path).map_err(|e| VapError::io(path, e))?;
    if meta.is_dir() {
        return Err(VapError::format(
            path,
            "is a directory, not a whisper model file",
        ));
    }
    // whisper.cpp reads the magic itself but reports only "failed"; say why.
    let mut magic = [0u8; 4];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| VapError::io(path, e))?;
        if f.read_exact(&mut magic).is_err() || u32::from_le_bytes(magic) != 0x6767_6d6c {
            return Err(VapError::format(
                path,
                "not a whisper.cpp ggml model (bad magic); run `make models` to make one",
            ));
        }
    }
    let Some(p) = path.to_str() else {
        return Err(VapError::InvalidArgument(format!(
            "model path {} is not valid UTF-8",
            path.display()
        )));
    };
    let ctx =
        WhisperContext::new_with_params(p, WhisperContextParameters::default()).map_err(|e| {
            VapError::format(
                path,
                format!("whisper.cpp cannot load this model ({e}); is it truncated or corrupt?"),
            )
        })?;
    let multilingual = ctx.is_multilingual();
    Ok(Model { ctx, multilingual })
}

/// Filter counters, in the order of `ChunkResult::dropped`.
const SILENCE: usize = 0;
const NO_SPEECH: usize = 1;
const REPEATS: usize = 2;
const ANNOTATIONS: usize = 3;

/// Longest window handed to whisper in one call (its context is 30 s).
const WINDOW_MS: Ms = 28_000;
/// Silences at least this long end a window.
const SPLIT_GAP_MS: Ms = 2_000;
/// Audio kept either side of a voiced window.
const PAD_MS: Ms = 200;
/// Frame of the voice detector, ms.
const VAD_FRAME_MS: Ms = 20;

/// Voiced windows of a chunk, `[start, end)` in samples, each at most
/// [`WINDOW_MS`] long: frames above the chunk's noise floor + 10 dB (and above
/// `floor_dbfs`) are voiced; voiced runs closer than [`SPLIT_GAP_MS`] share a
/// window; a window that would grow past [`WINDOW_MS`] is cut at its quietest
/// frame in the last third. Whisper then never sees long silences (where it
/// hallucinates) and never seeks past speech because of a coarse timestamp
/// across a window it did not finish (its own 30 s seeking does).
fn voice_windows(samples: &[f32], floor_dbfs: f32) -> Vec<(usize, usize)> {
    let frame = VAD_FRAME_MS as usize * PER_MS;
    let levels: Vec<f32> = samples.chunks(frame).map(rms_dbfs).collect();
    if levels.is_empty() {
        return Vec::new();
    }
    let mut sorted: Vec<f32> = levels.iter().map(|l| l.max(-120.0)).collect();
    sorted.sort_by(f32::total_cmp);
    let noise = sorted[sorted.len() / 10];
    let thr = (noise + 10.0).max(floor_dbfs);
    let voiced: Vec<bool> = levels.iter().map(|l| *l > thr).collect();
    let max_frames = (WINDOW_MS / VAD_FRAME_MS) as usize;
    let gap_frames = (SPLIT_GAP_MS / VAD_FRAME_MS) as usize;
    let pad = (PAD_MS / VAD_FRAME_MS) as usize;
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_end = 0;
    let n = levels.len();
    while i < n {
        if !voiced[i] {
            i += 1;
            continue;
        }
        let start = i.saturating_sub(pad).max(prev_end);
        let mut last_voiced = i;
        let mut j = i;
        while j < n && j - start < max_frames {
            if voiced[j] {
                last_voiced = j;
            } else if j - last_voiced >= gap_frames {
                break;
            }
            j += 1;
        }
        let mut end = (last_voiced + 1 + pad).min(n);
        if j < n && j - start >= max_frames && voiced[j.min(n - 1)] {
            // Continuous speech: cut at the quietest frame of the last third.
            let from = start + max_frames * 2 / 3;
            let to = (start + max_frames).min(n);
            let cut = (from..to)
                .min_by(|a, b| levels[*a].total_cmp(&levels[*b]))
                .unwrap_or(to);
            end = cut.max(from);
        }
        end = end.min(start + max_frames).max(start + 1);
        out.push((start * frame, (end * frame).min(samples.len())));
        prev_end = end;
        i = end.max(i + 1);
    }
    out
}

/// Runs the model on one chunk of samples starting at position `start_ms`,
/// window by voiced window.
fn run_chunk(
    model: &Model,
    state: &mut WhisperState,
    samples: &[f32],
    start_ms: Ms,
    opts: &TranscribeOptions,
    prompt: Option<&str>,
) -> Result<(Vec<Segment>, String, [usize; 4], Ms)> {
    let mut dropped = [0usize; 4];
    let mut out: Vec<Segment> = Vec::new();
    let mut lang_ms: std::collections::BTreeMap<String, usize> = Default::default();
    // One parameter set per chunk, cloned per window (whisper-rs leaks the
    // strings it copies into the parameters, so they are made once here).
    let strategy = if opts.beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: opts.beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(opts.threads());
    params.set_language(Some(opts.language.code()));
    params.set_translate(false);
    params.set_no_context(true);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_suppress_blank(true);
    params.set_suppress_nst(true);
    params.set_no_speech_thold(opts.no_speech_threshold);
    params.set_logprob_thold(opts.logprob_threshold);
    if let Some(p) = prompt {
        params.set_initial_prompt(p);
    }
    let mut voiced: Ms = 0;
    for (a, b) in voice_windows(samples, opts.silence_dbfs) {
        let w0 = (a / PER_MS) as Ms;
        voiced += ((b - a) / PER_MS) as Ms;
        let language = run_window(
            model,
            state,
            params.clone(),
            &samples[a..b],
            w0,
            opts,
            &mut out,
            &mut dropped,
        )?;
        *lang_ms.entry(language).or_default() += b - a;
    }
    // Empty when nothing was voiced (then the chunk does not vote).
    let language = lang_ms
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(l, _)| l)
        .unwrap_or_default();
    for seg in &mut out {
        seg.start += start_ms;
        seg.end += start_ms;
    }
    Ok((out, language, dropped, voiced))
}

/// Runs whisper on one window (`w0` = its start in ms from the chunk start);
/// appends the kept segments (times from the chunk start) to `out`. Returns
/// the language used.
#[allow(clippy::too_many_arguments)]
fn run_window(
    model: &Model,
    state: &mut WhisperState,
    params: FullParams,
    window: &[f32],
    w0: Ms,
    opts: &TranscribeOptions,
    out: &mut Vec<Segment>,
    dropped: &mut [usize; 4],
) -> Result<String> {
    // whisper.cpp refuses less than a second of audio; pad short windows.
    let mut padded;
    let input = if window.len() < SAMPLE_RATE as usize + 1600 {
        padded = window.to_vec();
        padded.resize(SAMPLE_RATE as usize + 1600, 0.0);
        &padded[..]
    } else {
        window
    };
    state.full(params, input).map_err(|e| {
        VapError::Internal(format!("whisper.cpp failed on the window at {w0} ms: {e}"))
    })?;
    let lang_id = state.full_lang_id_from_state();
    let language = whisper_rs::get_lang_str(lang_id)
        .unwrap_or(opts.language.code())
        .to_string();
    let eot = model.ctx.token_eot();
    for seg in state.as_iter() {
        let text = seg
            .to_str_lossy()
            .map(|t| t.to_string())
            .unwrap_or_default();
        let mut text = crate::text::normalize(&text);
        if opts.simplified_chinese && language == "zh" {
            text = fast2s::convert(&text);
        }
        // Segment times are centiseconds from the window's first sample.
        let s_cs = seg.start_timestamp().max(0);
        let e_cs = seg.end_timestamp().max(s_cs);
        let w_len = (window.len() / PER_MS) as Ms;
        let (s_ms, e_ms) = ((s_cs * 10).min(w_len), (e_cs * 10).min(w_len));
        if text.is_empty() || is_annotation(&text) {
            dropped[ANNOTATIONS] += 1;
            continue;
        }
        let (mut sum_lp, mut n_tok) = (0.0f64, 0usize);
        for i in 0..seg.n_tokens() {
            if let Some(tok) = seg.get_token(i) {
                if tok.token_id() >= eot {
                    continue; // special and timestamp tokens
                }
                sum_lp += (tok.token_probability().max(1e-9) as f64).ln();
                n_tok += 1;
            }
        }
        let mean_lp = if n_tok > 0 {
            sum_lp / n_tok as f64
        } else {
            -10.0
        };
        if seg.no_speech_probability() > opts.no_speech_threshold
            && mean_lp < opts.logprob_threshold as f64
        {
            dropped[NO_SPEECH] += 1;
            continue;
        }
        // Silence: the segment and half a second either side.
        let a = ((s_ms - 500).max(0) as usize * PER_MS).min(window.len());
        let b = ((e_ms + 500) as usize * PER_MS).min(window.len()).max(a);
        if rms_dbfs(&window[a..b]) < opts.silence_dbfs {
            dropped[SILENCE] += 1;
            continue;
        }
        if is_looping(&text) {
            dropped[REPEATS] += 1;
            continue;
        }
        let (s_ms, e_ms) = trim_to_voice(window, s_ms, e_ms, opts.silence_dbfs);
        out.push(Segment {
            start: w0 + s_ms,
            end: w0 + e_ms,
            text,
            confidence: mean_lp.exp(),
        });
    }
    Ok(language)
}

/// Whisper's segment times are coarse (a window's first segment usually
/// starts at the window's start, whatever the audio): tightens `[s, e)` (ms
/// from the chunk start) to the 20 ms frames whose level is within 30 dB of
/// the segment's loudest frame and above `floor_dbfs`. Unchanged when no frame
/// qualifies.
fn trim_to_voice(samples: &[f32], s: Ms, e: Ms, floor_dbfs: f32) -> (Ms, Ms) {
    const FRAME_MS: Ms = 20;
    let frame = FRAME_MS as usize * PER_MS;
    let a = (s as usize * PER_MS).min(samples.len());
    let b = (e as usize * PER_MS).min(samples.len());
    if b <= a + frame {
        return (s, e);
    }
    let levels: Vec<f32> = samples[a..b].chunks(frame).map(rms_dbfs).collect();
    let peak = levels.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let thr = (peak - 30.0).max(floor_dbfs);
    let first = levels.iter().position(|l| *l > thr);
    let last = levels.iter().rposition(|l| *l > thr);
    match (first, last) {
        (Some(i), Some(j)) => (
            s + i as Ms * FRAME_MS,
            (s + (j as Ms + 1) * FRAME_MS).min(e),
        ),
        _ => (s, e),
    }
}

/// RMS level of samples in dBFS (-inf for none or digital silence).
fn rms_dbfs(x: &[f32]) -> f32 {
    if x.is_empty() {
        return f32::NEG_INFINITY;
    }
    let ms = x.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>() / x.len() as f64;
    if ms <= 0.0 {
        f32::NEG_INFINITY
    } else {
        (10.0 * ms.log10()) as f32
    }
}

/// A segment that only annotates non-speech: `[Music]`, `(applause)`, `♪♪`,
/// `[BLANK_AUDIO]`, `*laughs*`.
fn is_annotation(text: &str) -> bool {
    // Remove bracketed spans ("(笑)", "[Music]"), then see what is left.
    let mut rest = String::with_capacity(text.len());
    let mut close: Option<char> = None;
    for c in text.chars() {
        match close {
            Some(cl) if c == cl => close = None,
            Some(_) => {}
            None => match c {
                '[' => close = Some(']'),
                '(' => close = Some(')'),
                '（' => close = Some('）'),
                '【' => close = Some('】'),
                _ => rest.push(c),
            },
        }
    }
    let t = rest.trim();
    if t.len() >= 2 && t.starts_with('*') && t.ends_with('*') {
        return true;
    }
    !t.chars().any(|c| c.is_alphanumeric())
}

/// Text made of one short unit repeated four times or more ("谢谢谢谢谢谢谢谢",
/// "Thank you. Thank you. Thank you. Thank you."): whisper's loop on music.
fn is_looping(text: &str) -> bool {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    let n = chars.len();
    if n < 8 {
        return false;
    }
    for p in 1..=n / 4 {
        let same = (p..n).filter(|&i| chars[i] == chars[i - p]).count();
        if same as f64 >= 0.95 * (n - p) as f64 {
            return true;
        }
    }
    false
}

/// Text for comparing segments: alphanumerics, lower case.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// A recording to transcribe: path and offset to the session clock.
#[derive(Debug, Clone)]
struct Job {
    path: PathBuf,
    offset_ms: Ms,
    duration_ms: Ms,
    /// Identity of the file in the run key (sha256 when known).
    identity: String,
}

/// The nominal chunk ranges of a recording of `duration` ms.
fn chunk_ranges(duration: Ms, chunk: Ms) -> Vec<(Ms, Ms)> {
    let mut out = Vec::new();
    let mut s = 0;
    while s < duration {
        let mut e = (s + chunk).min(duration);
        // A last piece shorter than a quarter chunk joins the one before.
        if duration - e < chunk / 4 {
            e = duration;
        }
        out.push((s, e));
        s = e;
    }
    out
}

/// Kept segments with their recording index, languages, statistics.
type RunOutput = (Vec<(usize, Segment)>, Vec<String>, TranscriptStats);

/// Shared driver of [`transcribe`] and [`transcribe_session`].
struct Run<'a> {
    opts: &'a TranscribeOptions,
    /// Checkpoint key per recording: the run's settings and that file.
    keys: Vec<String>,
    prompt: Option<String>,
    checkpoint: Option<(&'a Store, &'a str, &'a str)>,
}

/// The quietest 20 ms frame of `samples[from..to)` (positions in ms from
/// `base`), as a position in ms: where one chunk hands over to the next.
fn quietest_cut(samples: &[f32], base: Ms, from: Ms, to: Ms) -> Ms {
    const FRAME: Ms = 20;
    let mut best = (f32::INFINITY, from);
    let mut t = from;
    while t + FRAME <= to {
        let i = ((t - base).max(0) as usize * PER_MS).min(samples.len());
        let j = ((t + FRAME - base).max(0) as usize * PER_MS).min(samples.len());
        if j <= i {
            break;
        }
        let l = rms_dbfs(&samples[i..j]);
        if l < best.0 {
            best = (l, t);
        }
        t += FRAME;
    }
    best.1
}

impl Run<'_> {
    fn go(&self, jobs: &[Job], progress: &mut dyn FnMut(&Progress) -> bool) -> Result<RunOutput> {
        let opts = self.opts;
        let plans: Vec<Vec<(Ms, Ms)>> = jobs
            .iter()
            .map(|j| chunk_ranges(j.duration_ms, opts.chunk_ms))
            .collect();
        let total: usize = plans.iter().map(Vec::len).sum();
        let audio_total: Ms = jobs.iter().map(|j| j.duration_ms).sum();
        let mut stats = TranscriptStats {
            chunks: total,
            audio_ms: audio_total,
            ..Default::default()
        };
        // Checkpoints of this run (the recording's key), by (recording, index).
        let mut done: std::collections::BTreeMap<(usize, usize), ChunkResult> = Default::default();
        if let (Some((store, room, session)), true) = (self.checkpoint, opts.resume) {
            for (name, bytes) in store.read_work(room, session, WORK_AREA)? {
                let Ok(c) = serde_json::from_slice::<ChunkResult>(&bytes) else {
                    continue; // a damaged checkpoint is redone
                };
                let ours = self.keys.get(c.recording).is_some_and(|k| *k == c.key);
                if ours && c.version == CHECKPOINT_VERSION && name.ends_with(".json") {
                    done.insert((c.recording, c.index), c);
                }
            }
        }
        let mut model: Option<(Model, WhisperState)> = None;
        let mut results: Vec<ChunkResult> = Vec::with_capacity(total);
        let mut n_done = 0usize;
        let mut audio_done: Ms = 0;
        for (ri, (job, plan)) in jobs.iter().zip(&plans).enumerate() {
            let mut stream: Option<AudioStream> = None;
            let mut carry: Option<(Ms, Vec<f32>)> = None;
            // Where the next chunk starts: one cut per join, at the quietest
            // frame within the overlap, chosen by the chunk before it.
            let mut cut: Ms = 0;
            for (ci, &(s, e)) in plan.iter().enumerate() {
                let last = ci + 1 == plan.len();
                let result = if let Some(c) = done.remove(&(ri, ci)) {
                    stats.chunks_resumed += 1;
                    (c, true)
                } else {
                    if model.is_none() {
                        let m = load_model(&opts.model)?;
                        if !m.multilingual && !matches!(opts.language, Language::En) {
                            return Err(VapError::InvalidArgument(format!(
                                "{} is an English-only model: pass language 'en', or use a multilingual model (ggml-base.bin) for '{}'",
                                opts.model.display(),
                                opts.language.code()
                            )));
                        }
                        let st = m
                            .ctx
                            .create_state()
                            .map_err(|e| VapError::Internal(format!("whisper.cpp state: {e}")))?;
                        model = Some((m, st));
                    }
                    let (m, st) = model.as_mut().expect("loaded above");
                    let a = (s - opts.overlap_ms).max(0);
                    let b = if last {
                        job.duration_ms
                    } else {
                        (e + opts.overlap_ms).min(job.duration_ms)
                    };
                    let t0 = Instant::now();
                    let strm = match stream.as_mut() {
                        Some(x) => x,
                        None => stream.insert(AudioStream::open(&job.path)?),
                    };
                    // Consecutive chunks reuse the decoded overlap; others seek.
                    let mut samples = Vec::with_capacity(((b - a) as usize) * PER_MS);
                    let here = strm.position_ms().round() as Ms;
                    match carry.take() {
                        Some((cs, c)) if cs == a && here == cs + (c.len() / PER_MS) as Ms => {
                            samples.extend_from_slice(&c);
                        }
                        _ => {
                            if here != a {
                                strm.seek(a)?;
                            }
                        }
                    }
                    let before = samples.len();
                    strm.read_until(b, &mut samples)?;
                    if last {
                        // Audio past the container's stated length is kept.
                        while strm.read(&mut samples, SAMPLE_RATE as usize)? > 0 {}
                    }
                    stats.decoded_ms += ((samples.len() - before) / PER_MS) as Ms;
                    stats.bad_packets += strm.take_bad_packets();
                    let next_a = (e - opts.overlap_ms).max(0);
                    if !last && next_a >= a {
                        let from = (((next_a - a) as usize) * PER_MS).min(samples.len());
                        carry = Some((next_a, samples[from..].to_vec()));
                    }
                    stats.decode_seconds += t0.elapsed().as_secs_f64();
                    let got_end = a + (samples.len() / PER_MS) as Ms;
                    let end_cut = if last {
                        got_end.max(cut)
                    } else if let Some(next) = done.get(&(ri, ci + 1)) {
                        next.start // the next chunk was done with this cut
                    } else {
                        quietest_cut(&samples, a, next_a.max(cut), b.min(got_end))
                    };
                    let from = (((cut - a).max(0) as usize) * PER_MS).min(samples.len());
                    let to = (((end_cut - a).max(0) as usize) * PER_MS).clamp(from, samples.len());
                    let t1 = Instant::now();
                    let (segs, language, dropped, voiced) =
                        run_chunk(m, st, &samples[from..to], cut, opts, self.prompt.as_deref())?;
                    stats.model_seconds += t1.elapsed().as_secs_f64();
                    stats.chunks_transcribed += 1;
                    stats.transcribed_ms += end_cut - cut;
                    stats.voiced_ms += voiced;
                    let c = ChunkResult {
                        version: CHECKPOINT_VERSION,
                        key: self.keys[ri].clone(),
                        recording: ri,
                        index: ci,
                        start: cut,
                        end: end_cut,
                        language,
                        segments: segs,
                        dropped,
                    };
                    if let Some((store, room, session)) = self.checkpoint {
                        let name = format!("{}-r{ri:03}-c{ci:06}.json", &self.keys[ri][..16]);
                        let bytes = serde_json::to_vec(&c).expect("serialisable");
                        store.save_work(room, session, WORK_AREA, &name, &bytes)?;
                    }
                    (c, false)
                };
                let (c, resumed) = result;
                cut = c.end;
                n_done += 1;
                audio_done += e - s;
                let keep = progress(&Progress {
                    done: n_done,
                    total,
                    recording: ri,
                    position_ms: s,
                    audio_done_ms: audio_done,
                    audio_total_ms: audio_total,
                    resumed,
                    segments: c.segments.len(),
                });
                results.push(c);
                if !keep {
                    let saved = if self.checkpoint.is_some() {
                        format!(
                            "{n_done} of {total} chunks are checkpointed; run again to continue"
                        )
                    } else {
                        "nothing was saved (no store)".to_string()
                    };
                    return Err(VapError::InvalidArgument(format!(
                        "transcription stopped by the progress callback: {saved}"
                    )));
                }
            }
        }
        // Each chunk transcribed only its own span [start, end) between two
        // cuts; a segment whose (trimmed) midpoint left it is dropped.
        let mut merged: Vec<(usize, Segment)> = Vec::new();
        let mut lang_count: std::collections::BTreeMap<String, usize> = Default::default();
        for c in &results {
            stats.dropped_silence += c.dropped[SILENCE];
            stats.dropped_no_speech += c.dropped[NO_SPEECH];
            stats.dropped_repeats += c.dropped[REPEATS];
            stats.dropped_annotations += c.dropped[ANNOTATIONS];
            if !c.language.is_empty() {
                *lang_count.entry(c.language.clone()).or_default() += 1;
            }
            for s in &c.segments {
                let mid = (s.start + s.end) / 2;
                if mid >= c.start && mid < c.end.max(c.start + 1) {
                    merged.push((c.recording, s.clone()));
                } else {
                    stats.dropped_duplicates += 1;
                }
            }
        }
        merged.sort_by_key(|(r, s)| (*r, s.start, s.end));
        // A segment overlapping the one before in time with the same (or
        // contained) text is one speech seen twice; the same text again within
        // 10 s, more than `max_repeats` times in a row, is a loop.
        let mut out: Vec<(usize, Segment)> = Vec::with_capacity(merged.len());
        let mut run_len = 0usize;
        for (r, s) in merged {
            if let Some((pr, prev)) = out.last() {
                let same_rec = *pr == r;
                let (a, b) = (fold(&prev.text), fold(&s.text));
                let overlaps = s.start < prev.end;
                if same_rec && overlaps && !a.is_empty() && (a.contains(&b) || b.contains(&a)) {
                    stats.dropped_duplicates += 1;
                    if b.len() > a.len() {
                        let last = out.last_mut().expect("non-empty");
                        last.1.text = s.text.clone();
                        last.1.end = last.1.end.max(s.end);
                    }
                    continue;
                }
                if same_rec && a == b && s.start - prev.end < 10_000 {
                    run_len += 1;
                    if run_len >= opts.max_repeats {
                        stats.dropped_repeats += 1;
                        continue;
                    }
                } else {
                    run_len = 0;
                }
            }
            out.push((r, s));
        }
        let mut langs: Vec<(String, usize)> = lang_count.into_iter().collect();
        langs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok((out, langs.into_iter().map(|x| x.0).collect(), stats))
    }
}

/// One checkpoint key per recording: the model file, the options that change
/// the output, the prompt and that recording's identity. Registering another
/// recording leaves the keys (and checkpoints) of the others valid.
fn run_keys(jobs: &[Job], opts: &TranscribeOptions, prompt: Option<&str>) -> Result<Vec<String>> {
    let (model_size, model_sha) = crate::store::file_digest(&opts.model)?;
    let settings = format!(
        "v{CHECKPOINT_VERSION}|{model_size}:{model_sha}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        opts.language.code(),
        opts.simplified_chinese,
        opts.chunk_ms,
        opts.overlap_ms,
        opts.beam_size,
        opts.no_speech_threshold,
        opts.logprob_threshold,
        opts.silence_dbfs,
        opts.max_repeats,
        prompt.unwrap_or("").len(),
    );
    Ok(jobs
        .iter()
        .map(|j| {
            let mut h = Sha256::new();
            for part in [
                settings.as_str(),
                prompt.unwrap_or(""),
                j.identity.as_str(),
                &j.duration_ms.to_string(),
            ] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect())
}

fn job_for(path: &Path, offset_ms: Ms, sha: Option<&str>) -> Result<Job> {
    let info = super::probe(path)?;
    if !info.has_audio() {
        return Err(VapError::format(path, "has no audio stream"));
    }
    let duration_ms = info
        .duration_ms
        .ok_or_else(|| VapError::format(path, "the container does not say how long it is"))?;
    let identity = match sha {
        Some(s) => s.to_string(),
        None => {
            let m = std::fs::metadata(path).map_err(|e| VapError::io(path, e))?;
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{}:{mtime}", path.display(), m.len())
        }
    };
    Ok(Job {
        path: path.to_path_buf(),
        offset_ms,
        duration_ms,
        identity,
    })
}

fn to_utterances(
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
fn speaker_at(data: &SessionData, t: Ms) -> Option<String> {
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

/// Transcribes one recording file (no store, no checkpoints). Utterance times
/// are `offset_ms + position`; speakers are left unknown.
///
/// `progress` is called after every chunk; returning `false` stops the run
/// with an error.
pub fn transcribe(
    path: impl AsRef<Path>,
    offset_ms: Ms,
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Transcript> {
    opts.check()?;
    let job = job_for(path.as_ref(), offset_ms, None)?;
    let jobs = [job];
    let prompt = opts.initial_prompt.clone();
    let run = Run {
        opts,
        keys: run_keys(&jobs, opts, prompt.as_deref())?,
        prompt,
        checkpoint: None,
    };
    let (segs, languages, stats) = run.go(&jobs, progress)?;
    Ok(Transcript {
        utterances: to_utterances(segs, &jobs, None),
        languages,
        stats,
    })
}

/// Transcribes every recording of a stored session and replaces its
/// utterances with the result (atomically, dropping the checkpoints in the
/// same commit). Each chunk is checkpointed as soon as it is done; a rerun
/// with the same recordings, model and options continues where the last one
/// stopped. Speakers are the anchors on shift ([`crate::Shift`]); the prompt
/// defaults to the session's products.
pub fn transcribe_session(
    store: &Store,
    room: &str,
    session: &str,
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Transcript> {
    opts.check()?;
    let data = store.load(room, session)?;
    if data.session.recordings.is_empty() {
        return Err(VapError::InvalidArgument(format!(
            "session '{room}/{session}' has no recordings: register one first"
        )));
    }
    let dir = store.session_dir(room, session)?;
    let mut jobs = Vec::new();
    for r in &data.session.recordings {
        let p = recording_path(&dir, r);
        let size = std::fs::metadata(&p)
            .map_err(|e| VapError::io(&p, e))?
            .len();
        if r.size_bytes.is_some_and(|n| n != size) {
            return Err(VapError::format(
                &p,
                format!(
                    "has {size} bytes, not the {} registered: the file changed since it was registered",
                    r.size_bytes.unwrap_or(0)
                ),
            ));
        }
        jobs.push(job_for(
            &recording_path(&dir, r),
            r.offset_ms,
            r.sha256.as_deref(),
        )?);
    }
    let prompt = opts
        .initial_prompt
        .clone()
        .or_else(|| build_initial_prompt(&data, &opts.language));
    let run = Run {
        opts,
        keys: run_keys(&jobs, opts, prompt.as_deref())?,
        prompt,
        checkpoint: Some((store, room, session)),
    };
    let (segs, languages, stats) = run.go(&jobs, progress)?;
    let shas: Vec<Option<String>> = data
        .session
        .recordings
        .iter()
        .map(|r| r.sha256.clone())
        .collect();
    // Offsets and speakers are read at the commit, under the store's lock: a
    // recording registered or re-offset during a long run is not overwritten
    // with the values read at its start.
    let stored = store.update_session(room, session, &[WORK_AREA], move |d| {
        let now: Vec<Option<String>> =
            d.session.recordings.iter().map(|r| r.sha256.clone()).collect();
        if now != shas {
            return Err(VapError::InvalidArgument(format!(
                "the recordings of '{}/{}' changed during the transcription; run it again (finished chunks are reused)",
                d.room.id, d.session.id
            )));
        }
        let mut jobs = jobs;
        for (j, r) in jobs.iter_mut().zip(&d.session.recordings) {
            j.offset_ms = r.offset_ms;
        }
        d.utterances = to_utterances(segs, &jobs, Some(d));
        Ok(())
    })?;
    Ok(Transcript {
        utterances: stored.utterances,
        languages,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_recording_without_a_tiny_tail() {
        assert_eq!(
            chunk_ranges(22_000, 10_000),
            vec![(0, 10_000), (10_000, 22_000)]
        );
        assert_eq!(
            chunk_ranges(30_000, 10_000),
            vec![(0, 10_000), (10_000, 20_000), (20_000, 30_000)]
        );
        assert_eq!(chunk_ranges(5_000, 10_000), vec![(0, 5_000)]);
        assert!(chunk_ranges(0, 10_000).is_empty());
    }

    #[test]
    fn loops_and_annotations_are_recognised() {
        assert!(is_looping("谢谢谢谢谢谢谢谢谢谢"));
        assert!(is_looping("Thank you. Thank you. Thank you. Thank you."));
        assert!(!is_looping("this serum is on sale at ninety nine"));
        assert!(!is_looping("好的"));
        assert!(is_annotation("[Music]"));
        assert!(is_annotation("(applause)"));
        assert!(is_annotation("♪ ♪"));
        assert!(!is_annotation("the [new] serum"));
        assert!(!is_annotation("(笑) 大家好 (笑)"));
        assert!(is_annotation("*laughs*"));
    }

    #[test]
    fn segments_are_trimmed_to_the_voiced_frames() {
        let mut x = vec![0.0f32; 16_000 * 4];
        for (i, v) in x.iter_mut().enumerate().take(48_000).skip(24_000) {
            *v = 0.3 * ((i as f32) * 0.05).sin();
        }
        assert_eq!(trim_to_voice(&x, 0, 4_000, -50.0), (1_500, 3_000));
        assert_eq!(trim_to_voice(&[0.0; 16_000], 0, 1_000, -50.0), (0, 1_000));
    }

    #[test]
    fn voice_windows_skip_silence_and_stay_under_the_whisper_window() {
        let sr = SAMPLE_RATE as usize;
        let tone = |x: &mut [f32], a: f64, b: f64| {
            let (a, b) = ((a * sr as f64) as usize, (b * sr as f64) as usize);
            for (i, v) in x.iter_mut().enumerate().take(b).skip(a) {
                *v = 0.2 * ((i as f32) * 0.07).sin();
            }
        };
        let mut x = vec![0.0f32; 100 * sr];
        tone(&mut x, 3.0, 5.0);
        tone(&mut x, 6.0, 7.0); // 1 s gap: same window
        tone(&mut x, 20.0, 90.0); // continuous: cut under 28 s
        let w = voice_windows(&x, -50.0);
        let secs: Vec<(f64, f64)> = w
            .iter()
            .map(|(a, b)| (*a as f64 / sr as f64, *b as f64 / sr as f64))
            .collect();
        assert!(
            (secs[0].0 - 2.8).abs() < 0.03 && (secs[0].1 - 7.2).abs() < 0.03,
            "{secs:?}"
        );
        assert!((secs[1].0 - 19.8).abs() < 0.03, "{secs:?}");
        assert!(secs.iter().all(|(a, b)| b - a <= 28.0 + 1e-9), "{secs:?}");
        let covered: f64 = secs[1..].iter().map(|(a, b)| b - a).sum();
        assert!((covered - 70.4).abs() < 0.1, "{secs:?}");
        assert!(voice_windows(&vec![0.0; 5 * sr], -50.0).is_empty());
    }

    #[test]
    fn silence_is_minus_infinity_and_full_scale_is_zero() {
        assert_eq!(rms_dbfs(&[0.0; 100]), f32::NEG_INFINITY);
        assert!(rms_dbfs(&[1.0; 100]).abs() < 1e-6);
        assert!((rms_dbfs(&[0.1; 100]) + 20.0).abs() < 1e-4);
    }

    #[test]
    fn options_read_from_json_with_defaults() {
        let o: TranscribeOptions =
            serde_json::from_str(r#"{"model": "m.bin", "language": "zh", "chunk_ms": 60000}"#)
                .unwrap();
        assert_eq!(o.language, Language::Zh);
        assert_eq!(o.chunk_ms, 60_000);
        assert_eq!(o.overlap_ms, 3_000);
        assert!(serde_json::from_str::<TranscribeOptions>(r#"{"chunk": 1}"#).is_err());
        assert!(serde_json::from_str::<TranscribeOptions>(r#"{"language": "xx"}"#).is_err());
    }

    #[test]
    fn options_are_checked_together() {
        let o = TranscribeOptions {
            chunk_ms: 1000,
            overlap_ms: -1,
            beam_size: 0,
            ..Default::default()
        };
        match o.check() {
            Err(VapError::Validation(p)) => assert_eq!(p.len(), 3, "{p:?}"),
            other => panic!("{other:?}"),
        }
        assert!(Language::parse("klingon").is_err());
        assert_eq!(Language::parse("ZH").unwrap(), Language::Zh);
        assert_eq!(Language::parse("ja").unwrap().code(), "ja");
    }
}
