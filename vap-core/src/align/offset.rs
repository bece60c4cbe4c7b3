//! Clock offsets between two streams, by cross-correlation.
//!
//! The transcript comes from the recording's clock, the metrics from the
//! platform's; the two disagree by seconds. [`estimate_offset`] finds the lag
//! that best lines up paired channels (e.g. "product p is being explained"
//! on the platform and "the anchor says p's name" in the transcript) within a
//! bounded window, refines it below one bin, and says how sure it is against a
//! null distribution from circular shifts (which keep each series'
//! autocorrelation). On noise it answers [`OffsetStatus::Undetermined`].
//! Nothing is shifted until [`OffsetEstimate::apply_to_transcript`] is called.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::build::AlignOptions;
use super::lexicon::Lexicon;
use super::timeline::Timeline;
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::{Ms, SessionData};

/// Options of the offset estimators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffsetOptions {
    /// Largest offset searched, either way, in ms (default 60 s).
    #[serde(alias = "max_lag", with = "crate::options::duration")]
    pub max_lag_ms: Ms,
    /// Bin width used by [`estimate_transcript_offset`] (default 5 s: an
    /// anchor names a product a second or two after the platform's segment
    /// starts, so finer bins do not make the estimate finer; on synthetic
    /// rooms the error is 0.6–2.3 s with 5 s bins).
    #[serde(alias = "step", with = "crate::options::duration")]
    pub step_ms: Ms,
    /// Confidence needed to call the offset determined (default 0.99).
    pub min_confidence: f64,
    /// Circular shifts drawn for the null distribution (default 200).
    pub null_draws: usize,
    /// Seed of those draws.
    pub seed: u64,
}

impl Default for OffsetOptions {
    fn default() -> Self {
        OffsetOptions {
            max_lag_ms: 60_000,
            step_ms: 5000,
            min_confidence: 0.99,
            null_draws: 200,
            seed: 0,
        }
    }
}

impl Options for OffsetOptions {
    const WHAT: &'static str = "offset options";

    /// The step positive, the lag ≥ 0, the confidence in [0, 1].
    fn check(&self) -> Result<()> {
        crate::options::ensure_positive(Self::WHAT, "step", self.step_ms)?;
        if self.max_lag_ms < 0 {
            return Err(VapError::InvalidArgument(format!(
                "{}: option 'max_lag' must be >= 0, got {}",
                Self::WHAT,
                self.max_lag_ms
            )));
        }
        crate::options::ensure_in(Self::WHAT, "min_confidence", self.min_confidence, 0.0, 1.0)
    }
}

/// Whether an offset could be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetStatus {
    /// The peak stands clear of the null distribution.
    Determined,
    /// The signal is too weak (or the peak sits at the window's edge).
    Undetermined,
}

/// The result of an offset estimate.
///
/// Convention: `offset_ms` is how far the *other* stream's clock reads ahead of
/// the reference: an event at reference time `t` appears at `t + offset_ms` in
/// the other stream. For a transcript, `utterance time = platform time +
/// offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffsetEstimate {
    /// Determined or not.
    pub status: OffsetStatus,
    /// The offset in ms, with sub-bin refinement; `None` when undetermined.
    pub offset_ms: Option<f64>,
    /// Best whole-bin lag (reported even when undetermined).
    pub lag_bins: i64,
    /// Sub-bin refinement of the peak (least-squares parabola over ±2 bins), in
    /// bins, in [-1, 1].
    pub sub_bin: f64,
    /// Normalised cross-correlation at the peak.
    pub correlation: f64,
    /// Standard score of the peak against the null distribution.
    pub z: f64,
    /// 1 − the probability that the best of all lags in the window scores
    /// this high by chance (Šidák over the window's lags).
    pub confidence: f64,
    /// Bin width used.
    pub step_ms: Ms,
    /// Window searched, either way.
    pub max_lag_ms: Ms,
    /// Channel pairs used.
    pub channels: usize,
    /// Why it is undetermined, or a short summary.
    pub reason: String,
}

impl OffsetEstimate {
    /// An undetermined estimate, with the reason.
    fn undetermined(step_ms: Ms, max_lag_ms: Ms, channels: usize, reason: String) -> Self {
        OffsetEstimate {
            status: OffsetStatus::Undetermined,
            offset_ms: None,
            lag_bins: 0,
            sub_bin: 0.0,
            correlation: 0.0,
            z: 0.0,
            confidence: 0.0,
            step_ms,
            max_lag_ms,
            channels,
            reason,
        }
    }

    /// The offset rounded to whole ms, or an error when undetermined.
    pub fn offset(&self) -> Result<Ms> {
        match (self.status, self.offset_ms) {
            (OffsetStatus::Determined, Some(o)) => Ok(o.round() as Ms),
            _ => Err(VapError::InvalidArgument(format!(
                "the clock offset is undetermined ({}); nothing to apply",
                self.reason
            ))),
        }
    }

    /// Moves the session's utterances onto the platform clock (subtracts the
    /// offset). Refuses an undetermined estimate. Returns the shift applied in
    /// ms.
    pub fn apply_to_transcript(&self, data: &mut SessionData) -> Result<Ms> {
        let off = self.offset()?;
        shift_utterances(data, -off);
        Ok(-off)
    }
}

/// Adds `delta_ms` to every utterance's start and end.
pub fn shift_utterances(data: &mut SessionData, delta_ms: Ms) {
    for u in &mut data.utterances {
        u.start_ms += delta_ms;
        u.end_ms += delta_ms;
    }
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes' erfcc (fractional error < 1.2e-7).
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

struct Channel<'a> {
    r: &'a [f64],
    o: &'a [f64],
    mr: f64,
    mo: f64,
    pr: Vec<f64>,
    po: Vec<f64>,
    nz: Vec<usize>,
}

impl Channel<'_> {
    /// Centred cross-product at lag `l` (other shifted by `l`), over the overlap.
    fn at(&self, l: i64) -> f64 {
        let n = self.r.len() as i64;
        let (t0, t1) = ((-l).max(0), (n - l).min(n));
        if t1 <= t0 {
            return 0.0;
        }
        let mut sro = 0.0;
        for &u in &self.nz {
            let t = u as i64 - l;
            if t >= t0 && t < t1 {
                sro += self.r[t as usize] * self.o[u];
            }
        }
        let sr = self.pr[t1 as usize] - self.pr[t0 as usize];
        let so = self.po[(t1 + l) as usize] - self.po[(t0 + l) as usize];
        let k = (t1 - t0) as f64;
        sro - self.mo * sr - self.mr * so + k * self.mr * self.mo
    }

    /// Centred cross-product with the other series shifted circularly by `d`.
    fn circular(&self, d: usize) -> f64 {
        let n = self.r.len();
        let mut sro = 0.0;
        for &u in &self.nz {
            sro += self.r[(u + n - d) % n] * self.o[u];
        }
        sro - n as f64 * self.mr * self.mo
    }
}

/// Estimates the offset between paired channels `(reference, other)`, all of
/// the same length, on bins of `step_ms`. See [`OffsetEstimate`] for the sign.
pub fn estimate_offset(
    pairs: &[(&[f64], &[f64])],
    step_ms: Ms,
    opts: &OffsetOptions,
) -> Result<OffsetEstimate> {
    opts.check()?;
    crate::options::ensure_positive(OffsetOptions::WHAT, "step", step_ms)?;
    let n = pairs.first().map(|p| p.0.len()).unwrap_or(0);
    let mut problems = Vec::new();
    for (k, (r, o)) in pairs.iter().enumerate() {
        if r.len() != n || o.len() != n {
            problems.push(format!(
                "pair {k} has lengths {} and {}, expected {n}",
                r.len(),
                o.len()
            ));
        }
        if r.iter().chain(o.iter()).any(|v| !v.is_finite()) {
            problems.push(format!("pair {k} has a missing or infinite value"));
        }
    }
    if !problems.is_empty() {
        return Err(VapError::InvalidArgument(problems.join("; ")));
    }
    let max_lag = opts.max_lag_ms / step_ms;
    let mut est =
        OffsetEstimate::undetermined(step_ms, opts.max_lag_ms, pairs.len(), String::new());
    if pairs.is_empty() || (n as i64) < 4 * max_lag + 8 {
        est.reason = format!(
            "series of {n} bins are too short for a window of ±{max_lag} bins (need {})",
            4 * max_lag + 8
        );
        return Ok(est);
    }
    let chans: Vec<Channel> = pairs
        .iter()
        .map(|(r, o)| {
            let prefix = |x: &[f64]| {
                let mut p = Vec::with_capacity(x.len() + 1);
                p.push(0.0);
                let mut acc = 0.0;
                for v in x {
                    acc += v;
                    p.push(acc);
                }
                p
            };
            let (pr, po) = (prefix(r), prefix(o));
            Channel {
                r,
                o,
                mr: pr[n] / n as f64,
                mo: po[n] / n as f64,
                nz: (0..n).filter(|&u| o[u] != 0.0).collect(),
                pr,
                po,
            }
        })
        .collect();
    let var = |x: &[f64], m: f64| x.iter().map(|v| (v - m) * (v - m)).sum::<f64>();
    let vr: f64 = chans.iter().map(|c| var(c.r, c.mr)).sum();
    let vo: f64 = chans.iter().map(|c| var(c.o, c.mo)).sum();
    if vr <= 0.0 || vo <= 0.0 {
        est.reason = "a stream is constant over the grid: nothing to line up".into();
        return Ok(est);
    }
    let norm = (vr * vo).sqrt();
    let score = |l: i64| chans.iter().map(|c| c.at(l)).sum::<f64>() / norm;
    let lags: Vec<i64> = (-max_lag..=max_lag).collect();
    let scores: Vec<f64> = crate::threads::install(|| {
        use rayon::prelude::*;
        lags.par_iter().map(|&l| score(l)).collect()
    });
    let (best_k, best) = scores
        .iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |acc, (k, &s)| if s > acc.1 { (k, s) } else { acc },
        );
    let lag = lags[best_k];
    // Sub-bin refinement: vertex of the least-squares parabola through the
    // scores within ±2 bins of the peak (a broad, flat-topped peak is common
    // when one stream lags the other by a fraction of a bin).
    let sub = {
        let k = 2usize.min(best_k).min(scores.len() - 1 - best_k);
        if k == 0 {
            0.0
        } else {
            let (mut s0, mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0, 0.0);
            let (mut y0, mut y1, mut y2) = (0.0, 0.0, 0.0);
            for (j, &y) in scores.iter().enumerate().skip(best_k - k).take(2 * k + 1) {
                let x = j as f64 - best_k as f64;
                s0 += 1.0;
                s1 += x;
                s2 += x * x;
                s3 += x * x * x;
                s4 += x * x * x * x;
                y0 += y;
                y1 += x * y;
                y2 += x * x * y;
            }
            // Solve [s4 s3 s2; s3 s2 s1; s2 s1 s0] [a b c] = [y2 y1 y0].
            let det3 = |m: [[f64; 3]; 3]| {
                m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                    - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
            };
            let m = [[s4, s3, s2], [s3, s2, s1], [s2, s1, s0]];
            let d = det3(m);
            let a = det3([[y2, s3, s2], [y1, s2, s1], [y0, s1, s0]]) / d;
            let b = det3([[s4, y2, s2], [s3, y1, s1], [s2, y0, s0]]) / d;
            if d.abs() > 0.0 && a < 0.0 {
                (-b / (2.0 * a)).clamp(-1.0, 1.0)
            } else {
                0.0
            }
        }
    };
    // Null: circular shifts far outside the window.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let lo = (max_lag + 1) as usize;
    let hi = n - lo;
    let shifts: Vec<usize> = (0..opts.null_draws.max(20))
        .map(|_| rng.random_range(lo..hi))
        .collect();
    let null: Vec<f64> = crate::threads::install(|| {
        use rayon::prelude::*;
        shifts
            .par_iter()
            .map(|&d| chans.iter().map(|c| c.circular(d)).sum::<f64>() / norm)
            .collect()
    });
    let m = null.iter().sum::<f64>() / null.len() as f64;
    let sd = (null.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (null.len() - 1) as f64).sqrt();
    let z = if sd > 0.0 { (best - m) / sd } else { 0.0 };
    let q = 0.5 * erfc(z / std::f64::consts::SQRT_2); // one-sided tail of one lag
    let p = -((lags.len() as f64) * (-q).ln_1p()).exp_m1();
    est.lag_bins = lag;
    est.sub_bin = sub;
    est.correlation = best;
    est.z = z;
    est.confidence = (1.0 - p).clamp(0.0, 1.0);
    if lag.abs() == max_lag && max_lag > 0 {
        est.reason = format!(
            "the best lag is at the edge of the ±{} ms window; widen max_lag_ms",
            opts.max_lag_ms
        );
    } else if est.confidence < opts.min_confidence {
        est.reason = format!(
            "the peak (z = {z:.2}) is not clear of chance over {} lags (confidence {:.3} < {})",
            lags.len(),
            est.confidence,
            opts.min_confidence
        );
    } else {
        est.status = OffsetStatus::Determined;
        est.offset_ms = Some((lag as f64 + sub) * step_ms as f64);
        est.reason = format!(
            "peak correlation {best:.3} at {:.0} ms (z = {z:.1})",
            (lag as f64 + sub) * step_ms as f64
        );
    }
    Ok(est)
}

/// Estimates the transcript's clock offset to the platform clock from the
/// products. Positive when the transcript runs late. Never applied; see
/// [`OffsetEstimate::apply_to_transcript`].
///
/// The platform's explain segments against the anchor naming the product
/// (name or alias), over every product that has both: [`estimate_offset`]
/// over the pairs, which says whether an offset can be told at all.
///
/// An anchor also names a product after its segment has ended (answering a
/// viewer's question about it, a recap): such late mentions stretch the
/// segments late and pull that estimate late. So the segments' leading edge
/// is located too: the mentions of each product around each of its segment
/// starts, at 1 s, summed over all starts, and the one step up that fits
/// that profile best (two Poisson rates, by likelihood): before a start the product is named
/// rarely, after it often, whatever happens after the end. Mentions come at
/// or after a segment starts, so the edge bounds the offset from above: when
/// it lies more than half a bin before the whole segments' estimate, it is
/// the answer (`reason` says so). Needs at least [`MIN_EDGE_STARTS`] starts.
/// The assumption it rests on: where an anchor habitually names the next
/// product before the operator marks its segment, the edge comes early and
/// so does the answer.
pub fn estimate_transcript_offset(
    data: &SessionData,
    opts: &OffsetOptions,
) -> Result<OffsetEstimate> {
    opts.check()?;
    let mut light = SessionData::new(data.room.clone(), data.session.clone());
    light.products = data.products.clone();
    light.segments = data.segments.clone();
    light.utterances = data.utterances.clone();
    let tl = product_timeline(&light, opts.step_ms)?;
    let pairs: Vec<(&[f64], &[f64])> = product_pairs(&tl, &light)
        .into_iter()
        .filter(|(r, o)| r.iter().any(|v| *v > 0.0) && o.iter().any(|v| *v > 0.0))
        .collect();
    if pairs.is_empty() {
        return Ok(OffsetEstimate::undetermined(
            opts.step_ms,
            opts.max_lag_ms,
            0,
            "no product is both explained on the platform and named in the transcript".into(),
        ));
    }
    let whole = estimate_offset(&pairs, opts.step_ms, opts)?;
    // The whole segments' lag even where it is not reported (at the
    // window's edge): late mentions can pull it there.
    let step = opts.step_ms as f64;
    let w = whole
        .offset_ms
        .unwrap_or((whole.lag_bins as f64 + whole.sub_bin) * step);
    let clear = whole.confidence >= opts.min_confidence;
    // The edge is a refinement: where it cannot be located, the whole
    // segments' estimate stands.
    let edge = if clear {
        leading_edge(&light, opts).ok().flatten()
    } else {
        None
    };
    Ok(match edge {
        Some(e) if e < w - step / 2.0 && e.abs() < opts.max_lag_ms as f64 => {
            let mut est = whole;
            let bins = e / step;
            est.status = OffsetStatus::Determined;
            est.offset_ms = Some(e);
            est.lag_bins = bins.round() as i64;
            est.sub_bin = bins - bins.round();
            est.reason = format!(
                "the segments' leading edge at {e:.0} ms (whole segments: {w:.0} ms, pulled late by mentions after a segment's end; z = {:.1})",
                est.z
            );
            est
        }
        _ => whole,
    })
}

/// Each product's explain segments and the anchor naming it (name or alias)
/// on a grid of `step_ms`.
fn product_timeline(light: &SessionData, step_ms: Ms) -> Result<Timeline> {
    Timeline::build(
        light,
        &AlignOptions {
            step_ms,
            lexicon: Some(Lexicon::new()),
            product_phrases: true,
            per_product: true,
            ..Default::default()
        },
    )
}

/// Per product with both columns: its explain column and its mentions.
fn product_pairs<'a>(tl: &'a Timeline, data: &SessionData) -> Vec<(&'a [f64], &'a [f64])> {
    data.products
        .iter()
        .filter_map(|p| {
            let r = tl.values(&format!("explain:{}", p.id)).ok()?;
            let o = tl.values(&format!("speech:product:{}", p.id)).ok()?;
            Some((r, o))
        })
        .collect()
}

/// The fewest explain starts the leading edge of
/// [`estimate_transcript_offset`] is located from.
pub const MIN_EDGE_STARTS: usize = 3;

/// The leading edge of [`estimate_transcript_offset`], in ms; `None` with
/// fewer than [`MIN_EDGE_STARTS`] starts or no rise in the profile. Read
/// straight from the segments and the utterances (the product phrases
/// matched as the timeline matches them, each placed by its position in
/// the utterance), not from a 1 s timeline: the profile is all it needs.
fn leading_edge(light: &SessionData, opts: &OffsetOptions) -> Result<Option<f64>> {
    const STEP: Ms = 1000;
    let matcher = Lexicon::new().with_products(&light.products).compile()?;
    let group_product: Vec<Option<&str>> = matcher
        .groups()
        .iter()
        .map(|g| g.strip_prefix("product:"))
        .collect();
    let mut mentions: std::collections::HashMap<&str, Vec<Ms>> = Default::default();
    let texts: Vec<&str> = light.utterances.iter().map(|u| u.text.as_str()).collect();
    matcher.for_each_in(&texts, true, |i, m| {
        if let Some(p) = group_product[m.group] {
            let u = &light.utterances[i];
            let at = u.start_ms + ((u.end_ms - u.start_ms) as f64 * m.position).round() as Ms;
            mentions.entry(p).or_default().push(at);
        }
    });
    // Each product's explain starts: the starts of the union of its segments.
    let mut segs: Vec<(&str, Ms, Ms)> = light
        .segments
        .iter()
        .filter(|s| s.kind == crate::schema::SegmentKind::Explain)
        .map(|s| (s.product_id.as_str(), s.start_ms, s.end_ms))
        .collect();
    segs.sort();
    let mut starts: Vec<(&str, Ms)> = Vec::new();
    let mut open: Option<(&str, Ms)> = None; // product, end of its current union
    for (p, a, b) in segs {
        match open {
            Some((q, end)) if q == p && a <= end => open = Some((p, end.max(b))),
            _ => {
                starts.push((p, a));
                open = Some((p, b));
            }
        }
    }
    let w = (opts.max_lag_ms / STEP).max(1);
    let mut profile = vec![0.0; (2 * w + 1) as usize];
    let mut used = 0usize;
    for (p, start) in starts {
        let Some(times) = mentions.get(p) else {
            continue;
        };
        used += 1;
        for &t in times {
            let k = (t - start).div_euclid(STEP) + w;
            if (0..profile.len() as i64).contains(&k) {
                profile[k as usize] += 1.0;
            }
        }
    }
    if used < MIN_EDGE_STARTS {
        return Ok(None);
    }
    // The best single step up: the split c maximising the Poisson
    // log-likelihood of two rates, S_l·ln(S_l/c) + S_r·ln(S_r/(m−c)), with the
    // right rate above the left (mentions are counts, sparse before a start).
    let m = profile.len();
    let total: f64 = profile.iter().sum();
    let xlnx = |s: f64, n: f64| if s > 0.0 { s * (s / n).ln() } else { 0.0 };
    let (mut left, mut best) = (0.0, None::<(f64, usize)>);
    for c in 1..m {
        left += profile[c - 1];
        let (nl, nr) = (c as f64, (m - c) as f64);
        if (total - left) / nr <= left / nl {
            continue;
        }
        let ll = xlnx(left, nl) + xlnx(total - left, nr);
        if best.is_none_or(|(g, _)| ll > g) {
            best = Some((ll, c));
        }
    }
    Ok(best.map(|(_, c)| (c as f64 - w as f64) * STEP as f64))
}

/// Estimates how far the transcript of recording `index` runs ahead of the
/// platform clock (positive: the recording's offset is too large by that
/// much), from the products: explain segments on the platform against the
/// anchor naming the product in the utterances that fall within the
/// recording's span ([`estimate_transcript_offset`]). Never applied; see
/// `media::set_recording_offset`.
pub fn estimate_recording_offset(
    data: &SessionData,
    index: usize,
    opts: &OffsetOptions,
) -> Result<OffsetEstimate> {
    let r = data.session.recordings.get(index).ok_or_else(|| {
        VapError::NotFound(format!(
            "recording {index} of session '{}/{}' ({} registered)",
            data.room.id,
            data.session.id,
            data.session.recordings.len()
        ))
    })?;
    let mut view = data.clone();
    if let Some((a, b)) = r.span() {
        view.utterances
            .retain(|u| u.start_ms >= a && u.start_ms < b);
    }
    estimate_transcript_offset(&view, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| if rng.random_bool(0.1) { 1.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn recovers_a_planted_shift() {
        let r = noise(5000, 1);
        let mut o = vec![0.0; 5000];
        o[7..].copy_from_slice(&r[..5000 - 7]);
        let e = estimate_offset(&[(&r, &o)], 1000, &OffsetOptions::default()).unwrap();
        assert_eq!(e.status, OffsetStatus::Determined, "{e:?}");
        assert_eq!(e.lag_bins, 7);
        assert!((e.offset_ms.unwrap() - 7000.0).abs() <= 500.0);
    }

    #[test]
    fn noise_is_undetermined() {
        for seed in 0..10 {
            let r = noise(5000, 100 + seed);
            let o = noise(5000, 200 + seed);
            let e = estimate_offset(&[(&r, &o)], 1000, &OffsetOptions::default()).unwrap();
            assert_eq!(e.status, OffsetStatus::Undetermined, "{e:?}");
            assert!(e.offset().is_err());
        }
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }
}
