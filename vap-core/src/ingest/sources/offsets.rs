//! Clock offsets between the sources of one session.
//!
//! A capture log stamps messages with the clock of the machine that received
//! them or with the platform's message times; the dashboard's per-minute
//! trend has the platform's minutes. Where two sources give the same flow
//! (the capture's `entries` and the trend's `watch_ucnt`, the capture's
//! comments and the trend's `comment_cnt`), the offset of one against the
//! other is the lag that makes the source's records, summed over the
//! platform's minutes, match the platform's minute totals best (see
//! [`match_periods`]; gauges are left out: one read once a minute and one
//! followed second by second do not change at the same instants). It is
//! reported in [`super::SourceReport::offsets`] (no offset where the match
//! does not stand clear of chance), and applied
//! only when [`super::SourceOptions::apply_offsets`] asks: then the source's
//! series, and a capture's comments, explain segments and gaps, are moved
//! onto the
//! reference's clock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::build::Builder;
use crate::schema::{MetricKind, Ms};

/// The smallest offset window searched (ms).
const STEP: Ms = 5_000;

/// One source's clock against another's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceOffset {
    /// The source measured ("douyin_capture").
    pub source: String,
    /// The source it was measured against ("compass": the platform's
    /// per-minute data where it is one of the two).
    pub reference: String,
    /// The streams paired, as `reference stream ~ source stream`.
    pub channels: Vec<String>,
    /// How far `source`'s clock reads ahead of the reference's, in ms
    /// (`None` where the streams do not tell: see `reason`).
    pub offset_ms: Option<f64>,
    /// The lag that matched best, determined or not (ms).
    pub best_lag_ms: Ms,
    /// The channels' weighted correlation of period-to-period changes at it.
    pub correlation: f64,
    /// Its standard score against the circularly shifted periods.
    pub z: f64,
    /// A summary, or why there is no offset.
    pub reason: String,
    /// Whether the source's times were moved onto the reference's clock.
    pub applied: bool,
}

/// A stream as `(kind, samples)`; `None` for instants (comments).
type Stream = (Option<MetricKind>, Vec<(Ms, f64)>);

/// One paired stream: its label, the reference's stream, the source's.
type Channel = (String, Stream, Stream);

/// Whether a source is a capture log (its clock is the one in doubt).
fn is_capture(source: &str) -> bool {
    source.ends_with("_capture")
}

impl Builder {
    /// Estimates every pair of sources that share a stream over `[start,
    /// end)`; moves a source's times by its determined offset where `apply`.
    pub(crate) fn source_offsets(&mut self, max_lag_ms: Ms, apply: bool) {
        // (reference, source) → [(label, reference stream, source stream)]
        let mut groups: BTreeMap<(String, String), Vec<Channel>> = BTreeMap::new();
        for (key, (kind, _, samples, from)) in &self.series {
            let Some(base) = key.strip_suffix(&format!("_{from}")) else {
                continue;
            };
            let Some((bkind, _, bsamples, bfrom)) = self.series.get(base) else {
                continue;
            };
            // flows only: a gauge the platform reads once a minute and one a
            // capture follows second by second do not change at the same
            // instants, so their changes would not line up
            if bfrom == from || bkind != kind || *kind != MetricKind::Flow {
                continue;
            }
            // a capture is measured against the platform's data; two
            // captures (or two platform sources) are not measured here
            let (reference, source, r, s) = match (is_capture(bfrom), is_capture(from)) {
                (true, false) => (from, bfrom, samples, bsamples),
                (false, true) => (bfrom, from, bsamples, samples),
                _ => continue,
            };
            groups
                .entry((reference.clone(), source.clone()))
                .or_default()
                .push((
                    format!("{base} ~ {base}"),
                    (Some(*kind), r.clone()),
                    (Some(*kind), s.clone()),
                ));
        }
        let captures: Vec<&String> = {
            let mut c: Vec<&String> = self
                .series
                .values()
                .map(|s| &s.3)
                .filter(|s| is_capture(s))
                .collect();
            c.sort();
            c.dedup();
            c
        };
        if let (Some((_, _, counts, from)), [capture]) =
            (self.series.get("comment_count"), &captures[..])
        {
            if !is_capture(from) && !self.comments.is_empty() {
                let comments: Vec<(Ms, f64)> =
                    self.comments.iter().map(|c| (c.ts_ms, 1.0)).collect();
                groups
                    .entry((from.clone(), (*capture).clone()))
                    .or_default()
                    .push((
                        "comment_count ~ comments".into(),
                        (Some(MetricKind::Flow), counts.clone()),
                        (None, comments),
                    ));
            }
        }
        let only_capture = (captures.len() == 1).then(|| captures[0].clone());
        let mut moved: Vec<String> = Vec::new();
        for ((reference, source), mut channels) in groups {
            // the reference's own gaps (its missing minutes) are not periods
            let family_gaps: Vec<(Ms, Ms)> = self
                .report
                .gaps
                .iter()
                .filter(|g| g.source.starts_with(reference.as_str()))
                .map(|g| (g.start_ms, g.end_ms))
                .collect();
            for c in &mut channels {
                c.1 .1
                    .retain(|&(t, _)| !family_gaps.iter().any(|&(a, b)| t > a && t <= b + 60_000));
            }
            let m = match_periods(&channels, max_lag_ms.max(STEP));
            let mut applied = false;
            // one offset per source: it was measured on unshifted data
            if let (true, Some(off), false) = (apply, m.offset_ms, moved.contains(&source)) {
                moved.push(source.clone());
                let d = off.round() as Ms;
                self.shift_source(&source, d, only_capture.as_deref() == Some(source.as_str()));
                applied = true;
            }
            self.report.offsets.push(SourceOffset {
                source,
                reference,
                channels: channels.into_iter().map(|c| c.0).collect(),
                offset_ms: m.offset_ms,
                best_lag_ms: m.best_lag_ms,
                correlation: m.correlation,
                z: m.z,
                reason: m.reason,
                applied,
            });
        }
    }

    /// Moves `source`'s series (and, for the session's one capture, its
    /// comments, explain segments and gaps) back by `d` ms.
    fn shift_source(&mut self, source: &str, d: Ms, capture: bool) {
        for (_, _, samples, from) in self.series.values_mut() {
            if from == source {
                samples.iter_mut().for_each(|s| s.0 -= d);
            }
        }
        if capture {
            if let Some(e) = &mut self.end_ms {
                *e -= d;
            }
            self.comments.iter_mut().for_each(|c| c.ts_ms -= d);
            for s in &mut self.segments {
                s.start_ms -= d;
                s.end_ms -= d;
            }
        }
        for (from, first, last) in &mut self.capture_spans {
            if from == source {
                *first -= d;
                *last -= d;
            }
        }
        for g in &mut self.report.gaps {
            if g.source == source {
                g.start_ms -= d;
                g.end_ms -= d;
            }
        }
    }
}

/// The lag grid of [`match_periods`] (ms).
const LAG_STEP: Ms = 1_000;

/// Standard score the best match needs against the shifted periods (about
/// what a 0.99 confidence asks over the 241 lags of a ±2 min window).
const MIN_Z: f64 = 4.0;

/// What [`match_periods`] found.
struct Match {
    offset_ms: Option<f64>,
    best_lag_ms: Ms,
    correlation: f64,
    z: f64,
    reason: String,
}

/// The reference's periods `[start, end)` with their amounts: each sample's
/// amount over the interval since the previous sample, periods longer than
/// twice the typical one (a hole) left out.
fn periods(samples: &[(Ms, f64)]) -> Vec<(Ms, Ms, f64)> {
    let mut s: Vec<(Ms, f64)> = samples
        .iter()
        .copied()
        .filter(|x| x.1.is_finite())
        .collect();
    s.sort_by_key(|x| x.0);
    let mut lens: Vec<Ms> = s
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|&d| d > 0)
        .collect();
    lens.sort_unstable();
    let Some(&typical) = lens.get(lens.len() / 2) else {
        return Vec::new();
    };
    s.windows(2)
        .filter(|w| w[1].0 > w[0].0 && w[1].0 - w[0].0 <= 2 * typical)
        .map(|w| (w[0].0, w[1].0, w[1].1))
        .collect()
}

/// A channel ready to be matched: the reference's periods, the source's
/// record times (sorted) and the prefix sums of their amounts.
type Prepared = (Vec<(Ms, Ms, f64)>, Vec<Ms>, Vec<f64>);

/// Pearson correlation (0 where either side is constant).
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 3 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The offset that makes the source's amounts, summed over the reference's
/// periods (the platform's minutes), match the reference's: for every lag in
/// `±max_lag` by 1 s, the source's records are moved back by the lag and
/// summed per period, and the period totals of every channel are correlated
/// with the reference's (their changes from one period to the next, so a
/// room's slow swell does not decide), channels weighted by their best
/// correlation. The best lag is an offset where it stands clear of the same
/// score with the reference's periods shifted circularly (by at least five
/// periods): above every one of them, at a standard score of at least
/// [`MIN_Z`], and not at the window's edge.
fn match_periods(channels: &[Channel], max_lag: Ms) -> Match {
    // per channel: the reference's periods and the source's sorted records
    // with prefix sums
    let prepared: Vec<Prepared> = channels
        .iter()
        .map(|(_, r, s)| {
            let p = periods(&r.1);
            let mut recs: Vec<(Ms, f64)> =
                s.1.iter().copied().filter(|x| x.1.is_finite()).collect();
            recs.sort_by_key(|x| x.0);
            let times: Vec<Ms> = recs.iter().map(|x| x.0).collect();
            let mut prefix = vec![0.0; recs.len() + 1];
            for (i, x) in recs.iter().enumerate() {
                prefix[i + 1] = prefix[i] + x.1;
            }
            (p, times, prefix)
        })
        .filter(|(p, t, _)| p.len() >= 12 && !t.is_empty())
        .collect();
    let mut est = Match {
        offset_ms: None,
        best_lag_ms: 0,
        correlation: 0.0,
        z: 0.0,
        reason: String::new(),
    };
    if prepared.is_empty() {
        est.reason = "no shared stream has 12 periods or more".into();
        return est;
    }
    let diff = |v: &[f64]| -> Vec<f64> { v.windows(2).map(|w| w[1] - w[0]).collect() };
    // the source's period totals at lag `l` (records at `t` belong at `t − l`)
    let totals = |l: Ms| -> Vec<Vec<f64>> {
        prepared
            .iter()
            .map(|(p, times, prefix)| {
                p.iter()
                    .map(|&(a, b, _)| {
                        let i = times.partition_point(|&t| t < a + l);
                        let j = times.partition_point(|&t| t < b + l);
                        prefix[j] - prefix[i]
                    })
                    .collect()
            })
            .collect()
    };
    let refs: Vec<Vec<f64>> = prepared
        .iter()
        .map(|(p, ..)| diff(&p.iter().map(|x| x.2).collect::<Vec<_>>()))
        .collect();
    // each channel's correlation at a lag (the reference shifted by `shift`
    // periods for the null)
    let per_channel = |tot: &[Vec<f64>], shift: usize| -> Vec<f64> {
        refs.iter()
            .zip(tot)
            .map(|(r, o)| {
                let o = diff(o);
                let n = r.len();
                let rs: Vec<f64> = (0..n).map(|m| r[(m + shift) % n]).collect();
                pearson(&rs, &o)
            })
            .collect()
    };
    let steps = max_lag / LAG_STEP;
    let by_lag: Vec<(Ms, Vec<f64>)> = (-steps..=steps)
        .map(|k| {
            let l = k * LAG_STEP;
            (l, per_channel(&totals(l), 0))
        })
        .collect();
    // channels weighted by how well they match at their best: a capture's
    // sampled entries must not drown its complete comments
    let weights: Vec<f64> = (0..refs.len())
        .map(|c| by_lag.iter().map(|(_, v)| v[c]).fold(0.0f64, f64::max))
        .collect();
    let wsum: f64 = weights.iter().sum();
    let combine = |v: &[f64]| -> f64 {
        if wsum > 0.0 {
            v.iter().zip(&weights).map(|(x, w)| x * w).sum::<f64>() / wsum
        } else {
            0.0
        }
    };
    if wsum <= 0.0 {
        est.reason = "no shared stream's totals correlate at any lag".into();
        return est;
    }
    let scored: Vec<(Ms, f64)> = by_lag.iter().map(|(l, v)| (*l, combine(v))).collect();
    let (lag, best) =
        scored.iter().copied().fold(
            (0, f64::NEG_INFINITY),
            |acc, x| if x.1 > acc.1 { x } else { acc },
        );
    let at_best = totals(lag);
    let score = |tot: &[Vec<f64>], shift: usize| combine(&per_channel(tot, shift));
    let n_periods = refs.iter().map(Vec::len).min().unwrap_or(0);
    let null: Vec<f64> = (5..n_periods.saturating_sub(5))
        .map(|shift| score(&at_best, shift))
        .collect();
    est.best_lag_ms = lag;
    est.correlation = best;
    if null.len() < 10 {
        est.reason = format!("{n_periods} periods are too few to tell an offset from chance");
        return est;
    }
    let m = null.iter().sum::<f64>() / null.len() as f64;
    let sd = (null.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (null.len() - 1) as f64).sqrt();
    let z = if sd > 0.0 { (best - m) / sd } else { 0.0 };
    let beaten = null.iter().all(|&v| best > v);
    est.z = z;
    if lag.abs() == steps * LAG_STEP && steps > 0 {
        est.reason =
            format!("the best lag is at the edge of the ±{max_lag} ms window; widen max_offset");
    } else if z < MIN_Z || !beaten {
        est.reason = format!(
            "the best match (z = {z:.2}) does not stand clear of the {} circular shifts of the periods (z ≥ {MIN_Z} and above every one are needed)",
            null.len()
        );
    } else {
        est.offset_ms = Some(lag as f64);
        est.reason =
            format!("period totals match best at {lag} ms (correlation {best:.3}, z = {z:.1})");
    }
    est
}
