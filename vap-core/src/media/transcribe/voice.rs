//! The voice detector: voiced windows of a chunk (whisper never sees long
//! silences), a segment trimmed to its voiced part, the quietest cut between
//! two chunks.

use super::PER_MS;
use crate::schema::Ms;

/// Longest window handed to whisper in one call (its context is 30 s).
pub(super) const WINDOW_MS: Ms = 28_000;
/// Silences at least this long end a window.
pub(super) const SPLIT_GAP_MS: Ms = 2_000;
/// Audio kept either side of a voiced window.
pub(super) const PAD_MS: Ms = 200;
/// Frame of the voice detector, ms.
pub(super) const VAD_FRAME_MS: Ms = 20;

/// Voiced windows of a chunk, `[start, end)` in samples, each at most
/// [`WINDOW_MS`] long: frames above the chunk's noise floor + 10 dB (and above
/// `floor_dbfs`) are voiced; voiced runs closer than [`SPLIT_GAP_MS`] share a
/// window; a window that would grow past [`WINDOW_MS`] is cut at its quietest
/// frame in the last third. Whisper then never sees long silences (where it
/// hallucinates) and never seeks past speech because of a coarse timestamp
/// across a window it did not finish (its own 30 s seeking does).
pub(super) fn voice_windows(samples: &[f32], floor_dbfs: f32) -> Vec<(usize, usize)> {
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

/// Whisper's segment times are coarse (a window's first segment usually
/// starts at the window's start, whatever the audio): tightens `[s, e)` (ms
/// from the chunk start) to the 20 ms frames whose level is within 30 dB of
/// the segment's loudest frame and above `floor_dbfs`. Unchanged when no frame
/// qualifies.
pub(super) fn trim_to_voice(samples: &[f32], s: Ms, e: Ms, floor_dbfs: f32) -> (Ms, Ms) {
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
pub(super) fn rms_dbfs(x: &[f32]) -> f32 {
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

/// The quietest 20 ms frame of `samples[from..to)` (positions in ms from
/// `base`), as a position in ms: where one chunk hands over to the next.
pub(super) fn quietest_cut(samples: &[f32], base: Ms, from: Ms, to: Ms) -> Ms {
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
