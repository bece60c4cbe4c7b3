//! Moments of truth: the peaks, drops and level shifts worth explaining.
//!
//! [`moments`] reads a session (through a [`Timeline`] at the detector's step)
//! and returns [`Moment`]s:
//!
//! - **peaks and drops** of each scanned metric against a robust local
//!   baseline: the rolling median over a centred window (optionally after
//!   removing a slow trend), residuals scaled by their MAD; runs of bins
//!   beyond the threshold, at least the minimum duration long, merged across
//!   short gaps; the excess over the baseline in the metric's own units;
//! - **level shifts** by PELT ([`changepoint`]) on each scanned metric;
//! - **drivers**: each moment's window is compared with its baseline on the
//!   exposure (online viewers) and on the rate (GMV per viewer): traffic when
//!   only exposure moved, conversion when only the rate moved, both when both
//!   did.
//!
//! Within a metric, moments rank by absolute excess; across metrics by the
//! excess as a share of the metric's session total ([`Moment::share`]).
//!
//! ```
//! use vap_core::detect::{moments, DetectOptions};
//! use vap_core::options::Options;
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { seed: 4, hours: 2.0, ..Default::default() }).unwrap();
//! let opts = DetectOptions::from_json(r#"{"step": "1min", "threshold": 3}"#).unwrap();
//! let found = moments(&room.data, &opts).unwrap();
//! for m in found.iter().take(3) {
//!     assert!(m.start_ms < m.end_ms);
//!     println!("{} {:?} on {} ({:?}): {:+.0}", m.start_ms, m.kind, m.metric, m.driver, m.magnitude);
//! }
//! ```

pub mod changepoint;

use serde::{Deserialize, Serialize};

use crate::align::{AlignOptions, Timeline};
use crate::error::{Result, VapError};
use crate::options::Options as _;
use crate::schema::{Ms, SessionData};
pub use changepoint::{
    binseg, dynp, pelt, segment, Cost, Method, Penalty, SegmentOptions, Segmentation,
};

/// What kind of moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentKind {
    /// Above the baseline.
    Peak,
    /// Below the baseline.
    Drop,
    /// A lasting change of level (a change point).
    Shift,
}

/// What moved in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// Exposure (online viewers) moved; the rate did not.
    Traffic,
    /// The rate (GMV per viewer) moved; exposure did not.
    Conversion,
    /// Both moved.
    Both,
    /// Neither moved clearly.
    Unclear,
}

/// A moment of truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moment {
    /// The metric (timeline column) it was found on.
    pub metric: String,
    /// Start (ms, inclusive; a bin start).
    pub start_ms: Ms,
    /// End (ms, exclusive).
    pub end_ms: Ms,
    /// Peak, drop or shift.
    pub kind: MomentKind,
    /// What moved.
    pub driver: Driver,
    /// Excess over the baseline, summed over the moment's bins, in the
    /// metric's units (for a shift: the change of level × its bins).
    pub magnitude: f64,
    /// Strength: the largest robust z-score in the run (for a shift, the
    /// change of level in noise standard deviations).
    pub score: f64,
    /// `|magnitude|` as a share of the metric's session total.
    pub share: f64,
    /// The baseline the moment was measured against, one value per bin.
    pub baseline: Vec<f64>,
    /// Position of the start in the session's first recording (ms from its
    /// start), when the session has one.
    pub video_ms: Option<Ms>,
    /// The streams that moved with it, the strongest first: every stream of
    /// [`MOVED_STREAMS`] the timeline has (and the moment's own metric) whose
    /// smoothed robust z-score passes the threshold, on the moment's side,
    /// somewhere in its bins (a shift: in the smoothing span after the
    /// change); a stream whose baseline is not positive there is left out.
    #[serde(default)]
    pub moved: Vec<Moved>,
}

/// A stream that moved in a [`Moment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    /// Timeline column.
    pub metric: String,
    /// Relative change of the moment's total against its baseline's:
    /// `(Σx + ½) / (Σbase + ½) − 1` (−0.62: 62 % below).
    pub change: f64,
    /// Its largest robust z-score in the moment's bins (signed).
    pub score: f64,
}

/// The streams a moment's [`Moment::moved`] looks at, where the timeline has
/// them: exposure (online viewers, entries), orders and GMV, product clicks
/// and comments.
pub const MOVED_STREAMS: &[&str] = &[
    "online_viewers",
    "entries",
    "orders",
    "order_gmv",
    "product_clicks",
    "comments",
];

/// The streams scanned by default, where the timeline has them (see
/// [`DetectOptions::metrics`]).
pub const DEFAULT_SCAN: &[&str] = &[
    "orders",
    "entries",
    "online_viewers",
    "product_clicks",
    "comments",
];

/// Options of [`moments`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectOptions {
    /// Bin width of the scan (default 30 s).
    #[serde(alias = "step", with = "crate::options::duration")]
    pub step_ms: Ms,
    /// Timeline columns to scan (default [`DEFAULT_SCAN`]: `orders`,
    /// `entries`, the online-viewer gauge (a stall or an exodus of viewers
    /// is a moment, driver traffic), `product_clicks` and `comments`, each
    /// where the timeline has it and it is not all zero; each moment on
    /// `orders` also reported on `order_gmv` over the same bins with its
    /// excess in yuan: the order count is the steadier signal, prices make
    /// GMV heavy-tailed; GMV from orders rather than the platform's
    /// per-minute series, whose minutes blur a start).
    pub metrics: Option<Vec<String>>,
    /// Width of the centred rolling-median baseline (default 20 min).
    #[serde(alias = "window", with = "crate::options::duration")]
    pub window_ms: Ms,
    /// Robust z-score the smoothed residual must pass (default 3.5).
    pub threshold: f64,
    /// Width of the centred moving average applied to the residuals before
    /// scoring (default 150 s): a sustained rise of a noisy count stands out
    /// where single bins do not.
    #[serde(alias = "smooth", with = "crate::options::duration")]
    pub smooth_ms: Ms,
    /// Shortest moment (default 60 s).
    #[serde(alias = "min_duration", with = "crate::options::duration")]
    pub min_duration_ms: Ms,
    /// Runs closer than this merge (default 60 s).
    #[serde(alias = "merge_gap", with = "crate::options::duration")]
    pub merge_gap_ms: Ms,
    /// Remove a slow trend (rolling median over 4 × the window) first.
    pub detrend: bool,
    /// Also report level shifts (PELT, L2 cost).
    pub shifts: bool,
    /// Penalty of the level-shift search.
    pub penalty: Penalty,
    /// Minimum segment length of the level-shift search (default 10 min).
    #[serde(alias = "min_segment", with = "crate::options::duration")]
    pub min_segment_ms: Ms,
    /// Relative change (|ln(window mean / baseline mean)|) above which exposure
    /// (online viewers) counts as moved (default 0.1, about ±10 %).
    pub exposure_change: f64,
    /// The same for the rate, orders per viewer (default 0.25, about +28 % /
    /// −22 %; the rate of a few orders is noisier than the viewer count).
    /// When both moved: traffic if exposure moved at least as much as the
    /// rate (a stall or a wave also shifts who is watching, so the rate moves
    /// with it), conversion if the rate moved at least twice as much, else
    /// both. Drivers are judged on the moment's core: its bins at least one
    /// noise unit off the baseline.
    pub rate_change: f64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            step_ms: 30_000,
            metrics: None,
            window_ms: 20 * 60_000,
            threshold: 3.5,
            smooth_ms: 150_000,
            min_duration_ms: 60_000,
            merge_gap_ms: 60_000,
            detrend: false,
            shifts: false,
            penalty: Penalty::Robust,
            min_segment_ms: 10 * 60_000,
            exposure_change: 0.1,
            rate_change: 0.25,
        }
    }
}

impl crate::options::Options for DetectOptions {
    const WHAT: &'static str = "moment options";

    /// Every duration positive (`merge_gap`, `smooth` ≥ 0), every threshold a
    /// positive number, the penalty ≥ 0; all problems listed.
    fn check(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.step_ms <= 0 {
            problems.push(format!("step_ms must be positive, got {}", self.step_ms));
        }
        if self.metrics.as_ref().is_some_and(|m| m.is_empty()) {
            problems.push("metrics must name at least one column".to_string());
        }
        if self.smooth_ms < 0 {
            problems.push(format!("smooth_ms must be >= 0, got {}", self.smooth_ms));
        }
        if let Penalty::Value(p) = self.penalty {
            if !(p.is_finite() && p >= 0.0) {
                problems.push(format!(
                    "penalty must be 'robust', 'bic' or a number >= 0, got {p}"
                ));
            }
        }
        for (what, v) in [
            ("window_ms", self.window_ms),
            ("min_duration_ms", self.min_duration_ms),
            ("min_segment_ms", self.min_segment_ms),
        ] {
            if v <= 0 {
                problems.push(format!("{what} must be positive, got {v}"));
            }
        }
        if self.merge_gap_ms < 0 {
            problems.push(format!(
                "merge_gap_ms must be >= 0, got {}",
                self.merge_gap_ms
            ));
        }
        for (what, v) in [
            ("threshold", self.threshold),
            ("exposure_change", self.exposure_change),
            ("rate_change", self.rate_change),
        ] {
            if !(v.is_finite() && v > 0.0) {
                problems.push(format!("{what} must be a positive number, got {v}"));
            }
        }
        crate::options::all_or_nothing(Self::WHAT, problems)
    }
}

/// Renamed [`moments`] (the name every binding uses).
#[deprecated(since = "0.1.0", note = "renamed to `detect::moments`")]
pub fn scan(data: &SessionData, opts: &DetectOptions) -> Result<Vec<Moment>> {
    moments(data, opts)
}

/// Renamed [`timeline_moments`].
#[deprecated(since = "0.1.0", note = "renamed to `detect::timeline_moments`")]
pub fn scan_timeline(
    tl: &Timeline,
    opts: &DetectOptions,
    video_offset_ms: Option<Ms>,
) -> Result<Vec<Moment>> {
    timeline_moments(tl, opts, video_offset_ms)
}

/// Options of [`events`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventOptions {
    /// Moments of different metrics this close (or overlapping) group
    /// (default 60 s).
    #[serde(alias = "gap", with = "crate::options::duration")]
    pub gap_ms: Ms,
}

impl Default for EventOptions {
    fn default() -> Self {
        EventOptions { gap_ms: 60_000 }
    }
}

impl crate::options::Options for EventOptions {
    const WHAT: &'static str = "event options";
}

/// Whether the scanned metrics include a phrase-group column (`speech:…`,
/// `comments:…`): only then is the lexicon matched.
fn needs_lexicon(opts: &DetectOptions) -> bool {
    opts.metrics.as_ref().is_some_and(|m| {
        m.iter()
            .any(|x| x.starts_with("speech") || x.starts_with("comments:") || x == "questions")
    })
}

/// Options of [`top_k`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopOptions {
    /// How many (default 10).
    pub k: usize,
    /// Of one metric, by absolute excess (default: across metrics, by share).
    pub metric: Option<String>,
}

impl Default for TopOptions {
    fn default() -> Self {
        TopOptions {
            k: 10,
            metric: None,
        }
    }
}

impl crate::options::Options for TopOptions {
    const WHAT: &'static str = "top-moment options";
}

/// Centred rolling median of `x` over `w` points (shrinking at the edges),
/// ignoring NaN; NaN where the window holds no value.
pub fn rolling_median(x: &[f64], w: usize) -> Vec<f64> {
    let half = w.max(1) / 2;
    let n = x.len();
    let mut window: Vec<f64> = Vec::with_capacity(w + 1);
    let mut out = Vec::with_capacity(n);
    let (mut lo, mut hi) = (0usize, 0usize); // window = x[lo..hi]
    let insert = |win: &mut Vec<f64>, v: f64| {
        if !v.is_nan() {
            let k = win.partition_point(|a| *a < v);
            win.insert(k, v);
        }
    };
    let remove = |win: &mut Vec<f64>, v: f64| {
        if !v.is_nan() {
            let k = win.partition_point(|a| *a < v);
            win.remove(k);
        }
    };
    for i in 0..n {
        let want_lo = i.saturating_sub(half);
        let want_hi = (i + half + 1).min(n);
        while hi < want_hi {
            insert(&mut window, x[hi]);
            hi += 1;
        }
        while lo < want_lo {
            remove(&mut window, x[lo]);
            lo += 1;
        }
        out.push(match window.len() {
            0 => f64::NAN,
            m if m % 2 == 1 => window[m / 2],
            m => (window[m / 2 - 1] + window[m / 2]) / 2.0,
        });
    }
    out
}

/// Robust scale of residuals: 1.4826 × MAD, or the standard deviation when
/// the MAD is 0 (sparse counts).
pub fn robust_scale(r: &[f64]) -> f64 {
    let mut v: Vec<f64> = r.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    let med = changepoint::median(&mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    let mad = 1.4826 * changepoint::median(&mut dev);
    if mad > 0.0 {
        return mad;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// A run of bins `[a, b)` beyond the threshold on one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// First bin.
    pub a: usize,
    /// One past the last bin.
    pub b: usize,
    /// `true` above the baseline.
    pub up: bool,
    /// Largest |z| in the run.
    pub score: f64,
}

/// Runs where `|z| >= threshold` on one side, merged across gaps of at most
/// `gap` bins, kept when at least `min_len` bins long.
pub fn runs(z: &[f64], threshold: f64, min_len: usize, gap: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for up in [true, false] {
        let mut cur: Vec<Run> = Vec::new();
        let mut i = 0;
        while i < z.len() {
            let hit = |v: f64| if up { v >= threshold } else { v <= -threshold };
            if hit(z[i]) {
                let a = i;
                let mut score: f64 = 0.0;
                while i < z.len() && hit(z[i]) {
                    score = score.max(z[i].abs());
                    i += 1;
                }
                match cur.last_mut() {
                    Some(r) if a - r.b <= gap => {
                        r.b = i;
                        r.score = r.score.max(score);
                    }
                    _ => cur.push(Run { a, b: i, up, score }),
                }
            } else {
                i += 1;
            }
        }
        out.extend(cur.into_iter().filter(|r| r.b - r.a >= min_len));
    }
    out.sort_by_key(|r| r.a);
    out
}

fn bins(ms: Ms, step: Ms) -> usize {
    ((ms + step - 1) / step).max(1) as usize
}

struct Series {
    x: Vec<f64>,
    base: Vec<f64>,
    z: Vec<f64>,
    scale: f64,
}

/// The robust baseline and smoothed z-scores of `x`. For a count or flow the
/// smoothed residual's noise is `scale / √k` over `k` bins; a gauge (online
/// viewers) is already smooth (its residuals are autocorrelated), so its
/// noise stays `scale`.
fn series(x: Vec<f64>, w: usize, detrend: bool, smooth: usize, gauge: bool) -> Series {
    let trend = if detrend {
        Some(rolling_median(&x, 4 * w))
    } else {
        None
    };
    let y: Vec<f64> = match &trend {
        Some(t) => x.iter().zip(t).map(|(a, b)| a - b).collect(),
        None => x.clone(),
    };
    let mut base = rolling_median(&y, w);
    if let Some(t) = &trend {
        base.iter_mut().zip(t).for_each(|(b, t)| *b += t);
    }
    let resid: Vec<f64> = x.iter().zip(&base).map(|(a, b)| a - b).collect();
    let scale = robust_scale(&resid);
    // centred moving average of the residuals; its noise is scale / sqrt(k)
    let half = smooth / 2;
    let z = (0..resid.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(resid.len()));
            let vals: Vec<f64> = resid[a..b]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if scale > 0.0 && !vals.is_empty() {
                let k = vals.len() as f64;
                let noise = if gauge { scale } else { scale / k.sqrt() };
                (vals.iter().sum::<f64>() / k) / noise
            } else {
                0.0
            }
        })
        .collect();
    Series { x, base, z, scale }
}

/// Finds the moments of a session (see the [module docs](self)).
pub fn moments(data: &SessionData, opts: &DetectOptions) -> Result<Vec<Moment>> {
    opts.check()?;
    let align = AlignOptions {
        step_ms: opts.step_ms,
        per_product: false,
        ..Default::default()
    };
    // Comments and speech are scanned only when a scanned metric reads them.
    let tl = if needs_lexicon(opts) {
        Timeline::build(data, &align)?
    } else {
        Timeline::build_numeric(data, &align)?
    };
    let video = data.session.recordings.first().map(|r| r.offset_ms);
    timeline_moments(&tl, opts, video)
}

/// [`moments`] on a timeline already built (one session). `video_offset_ms` is
/// the session-clock time of the recording's position 0, if any.
pub fn timeline_moments(
    tl: &Timeline,
    opts: &DetectOptions,
    video_offset_ms: Option<Ms>,
) -> Result<Vec<Moment>> {
    let grid = *tl
        .grid()
        .ok_or_else(|| VapError::InvalidArgument("scan one session's timeline at a time".into()))?;
    opts.check()?;
    let step = grid.step_ms;
    let names: Vec<String> = match &opts.metrics {
        Some(m) => m.clone(),
        None => DEFAULT_SCAN
            .iter()
            .filter(|c| {
                tl.values(c)
                    .is_ok_and(|v| v.iter().any(|x| x.is_finite() && *x != 0.0))
            })
            .map(|c| c.to_string())
            .collect(),
    };
    let w = bins(opts.window_ms, step).max(3);
    let smooth = (opts.smooth_ms / step).max(1) as usize | 1;
    let min_len = bins(opts.min_duration_ms, step);
    let gap = (opts.merge_gap_ms / step) as usize;

    // exposure and rate, for the drivers
    let exposure_name = ["online_viewers", "entries"]
        .into_iter()
        .find(|c| tl.position(c).is_some());
    let gauge = |c: &str| {
        tl.meta(c)
            .is_some_and(|m| m.kind == crate::align::ColumnKind::Gauge)
    };
    let exposure = exposure_name
        .and_then(|c| tl.values(c).ok().map(|v| (c, v)))
        .map(|(c, v)| series(v.to_vec(), w, opts.detrend, smooth, gauge(c)));
    // the streams a moment's `moved` reads, each scored once
    let mut stream_names: Vec<&str> = MOVED_STREAMS.to_vec();
    for n in &names {
        if !stream_names.contains(&n.as_str()) {
            stream_names.push(n);
        }
    }
    let streams: Vec<(&str, Series)> = stream_names
        .into_iter()
        .filter_map(|c| {
            let v = tl.values(c).ok()?;
            Some((c, series(v.to_vec(), w, opts.detrend, smooth, gauge(c))))
        })
        .collect();
    let moved = |a: usize, b: usize, up: bool| -> Vec<Moved> {
        let mut out: Vec<Moved> = streams
            .iter()
            .filter_map(|(name, s)| {
                let score = s.z[a..b]
                    .iter()
                    .copied()
                    .filter(|z| if up { *z > 0.0 } else { *z < 0.0 })
                    .max_by(|x, y| x.abs().total_cmp(&y.abs()))?;
                if score.abs() < opts.threshold {
                    return None;
                }
                let (mut x, mut m) = (0.0, 0.0);
                for i in a..b {
                    if s.x[i].is_finite() && s.base[i].is_finite() {
                        x += s.x[i];
                        m += s.base[i];
                    }
                }
                // a relative change needs a positive baseline
                (m > 0.0).then(|| Moved {
                    metric: name.to_string(),
                    change: (x + 0.5) / (m + 0.5) - 1.0,
                    score,
                })
            })
            .collect();
        out.sort_by(|p, q| q.score.abs().total_cmp(&p.score.abs()));
        out
    };
    // orders, for the rate: orders per viewer = orders / exposure
    let orders = tl
        .values("orders")
        .ok()
        .map(|v| series(v.to_vec(), w, opts.detrend, smooth, false));
    // Signed relative change of a window's total against its baseline's,
    // ln((Σx + ½) / (Σbase + ½)) (the ½ keeps an empty window finite).
    let change = |s: &Option<Series>, a: usize, b: usize| -> Option<f64> {
        let s = s.as_ref()?;
        let (mut x, mut m) = (0.0, 0.0);
        for i in a..b {
            if s.x[i].is_finite() && s.base[i].is_finite() {
                x += s.x[i];
                m += s.base[i];
            }
        }
        (m > 0.0).then(|| ((x + 0.5) / (m + 0.5)).ln())
    };
    let driver = |a: usize, b: usize| -> Driver {
        let e = change(&exposure, a, b).unwrap_or(0.0);
        // the rate's change is the orders' change less the exposure's
        let r = change(&orders, a, b).map(|o| o - e).unwrap_or(0.0);
        let (e, r) = (e.abs(), r.abs());
        match (e >= opts.exposure_change, r >= opts.rate_change) {
            (true, true) if e >= r => Driver::Traffic,
            (true, true) if r >= 2.0 * e => Driver::Conversion,
            (true, true) => Driver::Both,
            (true, false) => Driver::Traffic,
            (false, true) => Driver::Conversion,
            (false, false) => Driver::Unclear,
        }
    };

    let mut out = Vec::new();
    for name in &names {
        let x = tl.values(name)?.to_vec();
        let total: f64 = x.iter().filter(|v| v.is_finite()).map(|v| v.abs()).sum();
        let s = series(x, w, opts.detrend, smooth, gauge(name));
        // A drop from the first bin with data is the room filling up, not a
        // moment.
        let first = s.x.iter().position(|v| v.is_finite()).unwrap_or(0);
        for mut r in runs(&s.z, opts.threshold, min_len, gap)
            .into_iter()
            .filter(|r| r.up || r.a > first)
        {
            // The smoothing lets a strong change cross the threshold a little
            // before it starts: trim leading and trailing bins that are not
            // off the baseline on the run's side at all.
            let off = |i: usize| {
                let d = s.x[i] - s.base[i];
                if r.up {
                    d > 0.0
                } else {
                    d < 0.0
                }
            };
            while r.a + 1 < r.b && !off(r.a) {
                r.a += 1;
            }
            while r.b > r.a + 1 && !off(r.b - 1) {
                r.b -= 1;
            }
            let strong = |i: usize| {
                let d = s.x[i] - s.base[i];
                if r.up {
                    d >= s.scale
                } else {
                    d <= -s.scale
                }
            };
            let (mut ca, mut cb) = (r.a, r.b);
            while ca + 1 < cb && !strong(ca) {
                ca += 1;
            }
            while cb > ca + 1 && !strong(cb - 1) {
                cb -= 1;
            }
            let magnitude: f64 = (r.a..r.b)
                .filter(|&i| s.x[i].is_finite() && s.base[i].is_finite())
                .map(|i| s.x[i] - s.base[i])
                .sum();
            let start_ms = grid.time(r.a);
            out.push(Moment {
                metric: name.clone(),
                start_ms,
                end_ms: grid.time(r.b),
                kind: if r.up {
                    MomentKind::Peak
                } else {
                    MomentKind::Drop
                },
                // the exposure's own moments are traffic by definition
                driver: if exposure_name == Some(name.as_str()) {
                    Driver::Traffic
                } else {
                    driver(ca, cb)
                },
                magnitude,
                score: r.score,
                share: if total > 0.0 {
                    magnitude.abs() / total
                } else {
                    0.0
                },
                baseline: s.base[r.a..r.b].to_vec(),
                video_ms: video_offset_ms.map(|v| start_ms - v),
                moved: moved(r.a, r.b, r.up),
            });
        }
        if opts.shifts {
            let clean: Vec<f64> =
                s.x.iter()
                    .map(|v| if v.is_finite() { *v } else { 0.0 })
                    .collect();
            let min_seg = bins(opts.min_segment_ms, step);
            if clean.len() >= 2 * min_seg {
                let seg = pelt(&clean, Cost::L2, opts.penalty, min_seg)?;
                let sd = changepoint::noise_variance(&clean).sqrt();
                let mut a = 0;
                let mut prev_mean: Option<f64> = None;
                for &b in &seg.breakpoints {
                    let mean = clean[a..b].iter().sum::<f64>() / (b - a) as f64;
                    if let Some(pm) = prev_mean {
                        let level = mean - pm;
                        let start_ms = grid.time(a);
                        out.push(Moment {
                            metric: name.clone(),
                            start_ms,
                            end_ms: grid.time(b),
                            kind: MomentKind::Shift,
                            driver: if exposure_name == Some(name.as_str()) {
                                Driver::Traffic
                            } else {
                                driver(a, b)
                            },
                            magnitude: level * (b - a) as f64,
                            score: if sd > 0.0 { level.abs() / sd } else { 0.0 },
                            share: if total > 0.0 {
                                (level * (b - a) as f64).abs() / total
                            } else {
                                0.0
                            },
                            baseline: vec![pm; b - a],
                            video_ms: video_offset_ms.map(|v| start_ms - v),
                            // what moved at the change, not hours later
                            moved: moved(a, (a + smooth).min(b), level > 0.0),
                        });
                    }
                    prev_mean = Some(mean);
                    a = b;
                }
            }
        }
    }
    // GMV in yuan for every moment found on the order count (counts are the
    // steadier signal; the money is what operators ask about).
    if opts.metrics.is_none() {
        if let Ok(g) = tl.values("order_gmv") {
            let total: f64 = g.iter().map(|v| v.abs()).sum();
            let gs = series(g.to_vec(), w, opts.detrend, smooth, false);
            let companions: Vec<Moment> = out
                .iter()
                .filter(|m| m.metric == "orders" && m.kind != MomentKind::Shift)
                .map(|m| {
                    let a = grid.bin(m.start_ms).unwrap_or(0);
                    let b = a + ((m.end_ms - m.start_ms) / step) as usize;
                    let magnitude: f64 = (a..b).map(|i| gs.x[i] - gs.base[i]).sum();
                    Moment {
                        metric: "order_gmv".into(),
                        magnitude,
                        share: if total > 0.0 {
                            magnitude.abs() / total
                        } else {
                            0.0
                        },
                        baseline: gs.base[a..b].to_vec(),
                        ..m.clone()
                    }
                })
                .collect();
            out.extend(companions);
        }
    }
    rank(&mut out);
    Ok(out)
}

/// Sorts moments across metrics by their share of the metric's session
/// total, largest first (ties: earlier first).
pub fn rank(moments: &mut [Moment]) {
    moments.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then(a.start_ms.cmp(&b.start_ms))
    });
}

/// Moments of one metric, by absolute excess, largest first; at most `k`.
pub fn top_k(moments: &[Moment], metric: Option<&str>, k: usize) -> Vec<Moment> {
    let mut v: Vec<Moment> = moments
        .iter()
        .filter(|m| metric.is_none_or(|x| m.metric == x))
        .cloned()
        .collect();
    if metric.is_some() {
        v.sort_by(|a, b| {
            b.magnitude
                .abs()
                .total_cmp(&a.magnitude.abs())
                .then(a.start_ms.cmp(&b.start_ms))
        });
    } else {
        rank(&mut v);
    }
    v.truncate(k);
    v
}

/// Moments of different metrics that overlap (or touch within `gap_ms`),
/// grouped into one event: what an operator would call "one moment".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Earliest start.
    pub start_ms: Ms,
    /// Latest end.
    pub end_ms: Ms,
    /// The kind of its strongest member (by score).
    pub kind: MomentKind,
    /// The driver of its strongest member.
    pub driver: Driver,
    /// Indices of the members in the moments given.
    pub members: Vec<usize>,
}

/// Groups peaks and drops (shifts are left out) into [`Event`]s.
pub fn events(moments: &[Moment], gap_ms: Ms) -> Vec<Event> {
    let mut idx: Vec<usize> = (0..moments.len())
        .filter(|&i| moments[i].kind != MomentKind::Shift)
        .collect();
    idx.sort_by_key(|&i| moments[i].start_ms);
    let mut out: Vec<Event> = Vec::new();
    for i in idx {
        let m = &moments[i];
        match out.last_mut() {
            Some(e) if m.start_ms <= e.end_ms + gap_ms => {
                e.end_ms = e.end_ms.max(m.end_ms);
                e.members.push(i);
            }
            _ => out.push(Event {
                start_ms: m.start_ms,
                end_ms: m.end_ms,
                kind: m.kind,
                driver: m.driver,
                members: vec![i],
            }),
        }
    }
    for e in &mut out {
        // the strongest member speaks for the event
        let lead = e
            .members
            .iter()
            .copied()
            .max_by(|&a, &b| {
                moments[a]
                    .score
                    .total_cmp(&moments[b].score)
                    .then(b.cmp(&a))
            })
            .expect("an event has a member");
        e.driver = moments[lead].driver;
        e.kind = moments[lead].kind;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_median_matches_a_naive_one() {
        let x: Vec<f64> = (0..60).map(|i| ((i * 37) % 11) as f64).collect();
        let got = rolling_median(&x, 7);
        for i in 0..x.len() {
            let mut w: Vec<f64> = x[i.saturating_sub(3)..(i + 4).min(x.len())].to_vec();
            w.sort_by(f64::total_cmp);
            let m = if w.len() % 2 == 1 {
                w[w.len() / 2]
            } else {
                (w[w.len() / 2 - 1] + w[w.len() / 2]) / 2.0
            };
            assert_eq!(got[i], m, "at {i}");
        }
    }

    #[test]
    fn runs_merge_and_filter() {
        let z = [0.0, 5.0, 5.0, 0.0, 5.0, 0.0, 0.0, 0.0, 6.0, 0.0, -5.0, -5.0];
        let r = runs(&z, 4.0, 2, 1);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].a, r[0].b, r[0].up), (1, 5, true));
        assert_eq!((r[1].a, r[1].b, r[1].up), (10, 12, false));
    }
}
