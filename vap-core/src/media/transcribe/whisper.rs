//! The whisper.cpp stage: the model loaded once per call, then each chunk
//! decoded window by voiced window, with the segment filters applied.

use std::path::Path;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::filter::{is_annotation, is_looping};
use super::options::TranscribeOptions;
use super::output::Segment;
use super::voice::{rms_dbfs, trim_to_voice, voice_windows};
use super::PER_MS;
use crate::error::{Result, VapError};
use crate::media::audio::SAMPLE_RATE;
use crate::schema::Ms;

/// The model, loaded once per call.
pub(super) struct Model {
    pub(super) ctx: WhisperContext,
    pub(super) multilingual: bool,
}

pub(super) fn load_model(path: &Path) -> Result<Model> {
    crate::media::log::install_hooks();
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
pub(super) const SILENCE: usize = 0;
pub(super) const NO_SPEECH: usize = 1;
pub(super) const REPEATS: usize = 2;
pub(super) const ANNOTATIONS: usize = 3;

/// The decoding parameters of one lane (whisper-rs leaks the strings it
/// copies into the parameters, so they are made once per lane and chunk and
/// cloned per window).
fn lane_params<'a>(
    opts: &'a TranscribeOptions,
    prompt: Option<&str>,
    threads: i32,
) -> FullParams<'a, 'a> {
    let strategy = if opts.beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: opts.beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(threads);
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
    if !opts.temperature_fallback {
        // One decode per window: whisper's retries at higher temperatures
        // (when a decode fails its compression or log-probability checks)
        // cost 1.8x on base and gave no more keywords (see the README).
        params.set_temperature_inc(0.0);
    }
    if let Some(p) = prompt {
        params.set_initial_prompt(p);
    }
    params
}

/// What one window gave: kept segments (times from the chunk start), the
/// language used, the filter counters.
type WindowOut = (Vec<Segment>, String, [usize; 4]);

/// Runs the model on one chunk of samples starting at position `start_ms`,
/// window by voiced window. The windows are independent (no context is
/// carried between them), so each of the first `lanes` `states` (a lane; made
/// here when missing) takes the next window until none is left, with
/// [`TranscribeOptions::lane_threads`] threads; the results are joined in
/// window order.
pub(super) fn run_chunk(
    model: &Model,
    states: &mut Vec<WhisperState>,
    samples: &[f32],
    start_ms: Ms,
    opts: &TranscribeOptions,
    prompt: Option<&str>,
) -> Result<(Vec<Segment>, String, [usize; 4], Ms)> {
    let windows = voice_windows(samples, opts.silence_dbfs);
    let lanes = opts.lanes_for(windows.len());
    // A lane's decoder state is made the first time a chunk uses it (a
    // recording whose chunks never have four windows holds one).
    while states.len() < lanes {
        let st = model
            .ctx
            .create_state()
            .map_err(|e| VapError::Internal(format!("whisper.cpp state: {e}")))?;
        states.push(st);
    }
    let threads = opts.lane_threads(lanes);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let lane = |state: &mut WhisperState| -> Vec<(usize, Result<WindowOut>)> {
        let params = lane_params(opts, prompt, threads);
        let mut got = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(a, b)) = windows.get(i) else {
                break;
            };
            let w0 = (a / PER_MS) as Ms;
            let r = run_window(model, state, params.clone(), &samples[a..b], w0, opts);
            let failed = r.is_err();
            got.push((i, r));
            if failed {
                break;
            }
        }
        got
    };
    let mut outs: Vec<Option<Result<WindowOut>>> = windows.iter().map(|_| None).collect();
    let done: Vec<(usize, Result<WindowOut>)> = if lanes == 1 {
        lane(&mut states[0])
    } else {
        std::thread::scope(|sc| {
            let handles: Vec<_> = states[..lanes]
                .iter_mut()
                .map(|st| sc.spawn(|| lane(st)))
                .collect();
            let mut all = Vec::new();
            for h in handles {
                match h.join() {
                    Ok(v) => all.extend(v),
                    Err(_) => all.push((
                        usize::MAX,
                        Err(VapError::Internal("a transcription lane panicked".into())),
                    )),
                }
            }
            all
        })
    };
    for (i, r) in done {
        match outs.get_mut(i) {
            Some(slot) => *slot = Some(r),
            None => r.map(|_| ())?,
        }
    }
    let mut dropped = [0usize; 4];
    let mut out: Vec<Segment> = Vec::new();
    let mut lang_ms: std::collections::BTreeMap<String, usize> = Default::default();
    let mut voiced: Ms = 0;
    for (&(a, b), r) in windows.iter().zip(outs) {
        // A lane stops at its first failure: the first failed window in
        // order is the error reported; windows after it may not have run.
        let (segs, language, d) = match r {
            Some(r) => r?,
            None => {
                return Err(VapError::Internal(
                    "a transcription lane stopped early".into(),
                ))
            }
        };
        voiced += ((b - a) / PER_MS) as Ms;
        out.extend(segs);
        for (x, y) in dropped.iter_mut().zip(d) {
            *x += y;
        }
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

/// Runs whisper on one window (`w0` = its start in ms from the chunk start).
fn run_window(
    model: &Model,
    state: &mut WhisperState,
    params: FullParams,
    window: &[f32],
    w0: Ms,
    opts: &TranscribeOptions,
) -> Result<WindowOut> {
    let mut out = Vec::new();
    let mut dropped = [0usize; 4];
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
    Ok((out, language, dropped))
}
