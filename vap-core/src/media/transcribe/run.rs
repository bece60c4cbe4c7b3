//! The driver shared by [`super::transcribe`] and [`super::transcribe_session`]:
//! recordings cut into chunks, each decoded (or read back from its
//! checkpoint), chunks joined, statistics counted.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use whisper_rs::WhisperState;

use super::filter::comparison_key;
use super::options::{Language, TranscribeOptions};
use super::output::{ChunkResult, Progress, Segment, TranscriptStats};
use super::voice::quietest_cut;
use super::whisper::{load_model, run_chunk, Model, ANNOTATIONS, NO_SPEECH, REPEATS, SILENCE};
use super::PER_MS;
use crate::error::{Result, VapError};
use crate::media::audio::{AudioStream, SAMPLE_RATE};
use crate::schema::Ms;
use crate::store::Store;

/// Work area of the checkpoints in the store.
pub(super) const WORK_AREA: &str = "asr";
/// Version of the checkpoint format; part of the run key.
const CHECKPOINT_VERSION: u32 = 1;

/// A recording to transcribe: path and offset to the session clock.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) path: PathBuf,
    pub(super) offset_ms: Ms,
    pub(super) duration_ms: Ms,
    /// Identity of the file in the run key (sha256 when known).
    pub(super) identity: String,
}

/// The nominal chunk ranges of a recording of `duration` ms.
pub(super) fn chunk_ranges(duration: Ms, chunk: Ms) -> Vec<(Ms, Ms)> {
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
pub(super) type RunOutput = (Vec<(usize, Segment)>, Vec<String>, TranscriptStats);

/// Shared driver of [`transcribe`] and [`transcribe_session`].
pub(super) struct Run<'a> {
    pub(super) opts: &'a TranscribeOptions,
    /// Checkpoint key per recording: the run's settings and that file.
    pub(super) keys: Vec<String>,
    pub(super) prompt: Option<String>,
    pub(super) checkpoint: Option<(&'a Store, &'a str, &'a str)>,
}

impl Run<'_> {
    pub(super) fn go(
        &self,
        jobs: &[Job],
        progress: &mut dyn FnMut(&Progress) -> bool,
    ) -> Result<RunOutput> {
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
        let mut model: Option<(Model, Vec<WhisperState>)> = None;
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
                        // One decoder state per lane, made when a chunk first
                        // uses that lane (`run_chunk`).
                        model = Some((m, Vec::new()));
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
                let (a, b) = (comparison_key(&prev.text), comparison_key(&s.text));
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
pub(super) fn run_keys(
    jobs: &[Job],
    opts: &TranscribeOptions,
    prompt: Option<&str>,
) -> Result<Vec<String>> {
    let (model_size, model_sha) = crate::store::file_digest(&opts.model)?;
    let settings = format!(
        "v{CHECKPOINT_VERSION}|{model_size}:{model_sha}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        opts.language.code(),
        opts.temperature_fallback,
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

pub(super) fn job_for(path: &Path, offset_ms: Ms, sha: Option<&str>) -> Result<Job> {
    let info = crate::media::probe(path)?;
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
