//! Change-point detection: exact PELT, exact optimal partitioning (dynamic
//! programming, O(n²), the reference PELT is tested against) and binary
//! segmentation, with L2, normal mean-variance and Poisson costs computed in
//! O(1) per segment from prefix sums.
//!
//! Breakpoints follow ruptures' convention: the sorted ends of the segments,
//! the last one being `n`.
//!
//! ```
//! use vap_core::detect::{pelt, Cost, Penalty};
//!
//! let x: Vec<f64> = (0..100).map(|i| if i < 60 { 1.0 } else { 6.0 } + ((i * 37) % 7) as f64 * 0.05).collect();
//! let s = pelt(&x, Cost::L2, Penalty::Value(10.0), 5).unwrap();
//! assert_eq!(s.breakpoints, vec![60, 100]);
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};

/// The cost of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cost {
    /// Sum of squared deviations from the segment mean (a change in mean;
    /// ruptures' `l2`).
    #[default]
    L2,
    /// Gaussian with the segment's own mean and variance: `len · ln(var)`
    /// (ruptures' `normal` up to a constant per point); a change in mean or
    /// variance. Segments hold at least 2 points, and variances are floored at
    /// 1e-4 of the series' variance, so that a run of equal values does not
    /// buy an unbounded gain. Also read as `"normal"`.
    #[serde(alias = "normal")]
    NormalMeanVar,
    /// Poisson negative log-likelihood (×2) for counts: `2·(S − S·ln(S/len))`
    /// with `S` the segment's sum. Values must be ≥ 0.
    Poisson,
}

/// The penalty added for each change point. Read from `"robust"`, `"bic"`
/// (any case), a number, or `{"value": x}`; written as `"robust"`, `"bic"`
/// or `{"value": x}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Penalty {
    /// The default: for L2, `4·ln(n)·σ²` with σ² the long-run noise variance
    /// of [`robust_variance`] (robust to trends, seasonality, AR(1) noise,
    /// heavy tails and outliers); for the normal and Poisson costs, as
    /// [`Penalty::Bic`] (those costs carry their own scale). Chosen on a
    /// generated suite of realistic series against ruptures and an
    /// R-`changepoint`-style MBIC (README, "Change points").
    #[default]
    Robust,
    /// BIC-style: `p·ln(n)` with `p` the parameters a new segment adds (L2:
    /// mean and location, scaled by the noise variance estimated from first
    /// differences by MAD, [`noise_variance`]; normal: mean, variance and
    /// location; Poisson: rate and location). Collapses on trends and
    /// autocorrelated noise (hundreds of change points on a smooth trend).
    Bic,
    /// A fixed penalty per change point, in cost units.
    Value(f64),
}

impl<'de> Deserialize<'de> for Penalty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Penalty::of_value(&v).map_err(serde::de::Error::custom)
    }
}

impl Penalty {
    /// A penalty from what a user wrote: `"robust"`, `"bic"`, a number ≥ 0,
    /// or `{"value": x}`.
    ///
    /// ```
    /// use vap_core::detect::Penalty;
    /// assert_eq!(Penalty::of_value(&serde_json::json!("BIC")), Ok(Penalty::Bic));
    /// assert_eq!(Penalty::of_value(&serde_json::json!("robust")), Ok(Penalty::Robust));
    /// assert_eq!(Penalty::of_value(&serde_json::json!(3)), Ok(Penalty::Value(3.0)));
    /// assert!(Penalty::of_value(&serde_json::json!("aic")).is_err());
    /// ```
    pub fn of_value(v: &serde_json::Value) -> std::result::Result<Penalty, String> {
        use serde_json::Value;
        let num = |x: Option<f64>| match x {
            Some(p) if p.is_finite() && p >= 0.0 => Ok(Penalty::Value(p)),
            _ => Err(format!(
                "a penalty must be 'robust', 'bic' or a number >= 0, got {v}"
            )),
        };
        match v {
            Value::String(s) if s.eq_ignore_ascii_case("bic") => Ok(Penalty::Bic),
            Value::String(s) if s.eq_ignore_ascii_case("robust") => Ok(Penalty::Robust),
            Value::Number(n) => num(n.as_f64()),
            Value::Object(m) if m.len() == 1 && m.contains_key("value") => num(m["value"].as_f64()),
            _ => Err(format!(
                "a penalty must be 'robust', 'bic' or a number >= 0, got {v}"
            )),
        }
    }
}

/// The default shortest segment of [`SegmentOptions`].
pub const DEFAULT_MIN_SIZE: usize = 5;

/// The change-point search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// [`pelt`]: exact, pruned.
    #[default]
    Pelt,
    /// [`dynp`]: exact optimal partitioning, O(n²).
    Dynp,
    /// [`binseg`]: binary segmentation, greedy.
    Binseg,
}

/// Options of [`segment`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentOptions {
    /// The search (default PELT).
    pub method: Method,
    /// The segment cost (default L2).
    pub cost: Cost,
    /// The penalty per change point (default [`Penalty::Robust`]).
    pub penalty: Penalty,
    /// The shortest segment, in points (default 5: real series move by
    /// single points without changing level; a series shorter than that is
    /// one segment; the normal cost needs at least 2 points).
    pub min_size: usize,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            method: Method::Pelt,
            cost: Cost::L2,
            penalty: Penalty::Robust,
            min_size: DEFAULT_MIN_SIZE,
        }
    }
}

impl crate::options::Options for SegmentOptions {
    const WHAT: &'static str = "change-point options";

    fn check(&self) -> Result<()> {
        if self.min_size == 0 {
            return Err(VapError::InvalidArgument(format!(
                "{}: option 'min_size' must be >= 1, got 0",
                Self::WHAT
            )));
        }
        Ok(())
    }
}

/// Change points of `x` by the search `opts.method`.
///
/// ```
/// use vap_core::detect::changepoint::{segment, Method, SegmentOptions};
/// use vap_core::options::Options;
/// let x: Vec<f64> = (0..60).map(|i| if i < 30 { 0.0 } else { 5.0 } + (i % 3) as f64 * 0.1).collect();
/// let o = SegmentOptions::from_json(r#"{"method": "dynp", "penalty": 10}"#).unwrap();
/// assert_eq!(o.method, Method::Dynp);
/// assert_eq!(segment(&x, &o).unwrap().breakpoints, vec![30, 60]);
/// ```
pub fn segment(x: &[f64], opts: &SegmentOptions) -> Result<Segmentation> {
    use crate::options::Options as _;
    opts.check()?;
    let f = match opts.method {
        Method::Pelt => pelt,
        Method::Dynp => dynp,
        Method::Binseg => binseg,
    };
    // A series shorter than the shortest segment is one segment.
    f(
        x,
        opts.cost,
        opts.penalty,
        opts.min_size.min(x.len().max(1)),
    )
}

/// Prefix sums of a series, for O(1) segment costs.
pub struct Prefix {
    s1: Vec<f64>,
    s2: Vec<f64>,
    cost: Cost,
    var_floor: f64,
}

impl Prefix {
    /// Prefix sums of `x` for `cost`. Refuses non-finite values (and negative
    /// ones for Poisson).
    pub fn new(x: &[f64], cost: Cost) -> Result<Prefix> {
        let mut bad = Vec::new();
        for (i, v) in x.iter().enumerate() {
            if !v.is_finite() || (cost == Cost::Poisson && *v < 0.0) {
                bad.push(i);
            }
        }
        if !bad.is_empty() {
            return Err(VapError::InvalidArgument(format!(
                "{} value(s) {} at index {:?}{}",
                bad.len(),
                if cost == Cost::Poisson {
                    "missing, infinite or negative"
                } else {
                    "missing or infinite"
                },
                &bad[..bad.len().min(10)],
                if bad.len() > 10 { " ..." } else { "" }
            )));
        }
        let mut s1 = Vec::with_capacity(x.len() + 1);
        let mut s2 = Vec::with_capacity(x.len() + 1);
        let (mut a, mut b) = (0.0, 0.0);
        s1.push(0.0);
        s2.push(0.0);
        for v in x {
            a += v;
            b += v * v;
            s1.push(a);
            s2.push(b);
        }
        let n = x.len().max(1) as f64;
        let var = (b / n - (a / n) * (a / n)).max(0.0);
        Ok(Prefix {
            s1,
            s2,
            cost,
            var_floor: (var * 1e-4).max(1e-12),
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.s1.len() - 1
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cost of the segment `[a, b)`.
    #[inline]
    pub fn cost(&self, a: usize, b: usize) -> f64 {
        let len = (b - a) as f64;
        let s = self.s1[b] - self.s1[a];
        match self.cost {
            Cost::L2 => {
                let q = self.s2[b] - self.s2[a];
                (q - s * s / len).max(0.0)
            }
            Cost::NormalMeanVar => {
                let q = self.s2[b] - self.s2[a];
                let var = ((q - s * s / len) / len).max(self.var_floor);
                len * var.ln()
            }
            Cost::Poisson => {
                if s <= 0.0 {
                    0.0
                } else {
                    2.0 * (s - s * (s / len).ln())
                }
            }
        }
    }
}

/// The penalty value for a series.
pub fn penalty_value(x: &[f64], cost: Cost, penalty: Penalty) -> f64 {
    match penalty {
        Penalty::Value(v) => v,
        Penalty::Bic | Penalty::Robust => {
            let ln_n = (x.len().max(2) as f64).ln();
            match (cost, penalty) {
                (Cost::L2, Penalty::Robust) => 4.0 * robust_variance(x) * ln_n,
                (Cost::L2, _) => 2.0 * noise_variance(x) * ln_n,
                (Cost::NormalMeanVar, _) => 3.0 * ln_n,
                (Cost::Poisson, _) => 2.0 * ln_n,
            }
        }
    }
}

/// The long-run noise variance [`Penalty::Robust`] scales by, in O(n):
/// from the MADs of the lag-1 and lag-2 differences, `s₁` and `s₂` (×1.4826;
/// their standard deviations where a MAD is 0, as for counts with many equal
/// values), an AR(1) coefficient `ρ = clamp(s₂²/s₁² − 1, 0, 0.3)` (under
/// AR(1) the lag-2 differences vary `1 + ρ` times as much; the cap keeps a
/// smooth signal from passing for noise), the marginal variance
/// `s₁²/(2(1−ρ))` times the long-run factor `(1+ρ)/(1−ρ)`; floored at a
/// tenth of the series' own robust variance `(1.4826·MAD(x))²`, so that a
/// smooth, nearly noiseless trend does not get a vanishing penalty.
pub fn robust_variance(x: &[f64]) -> f64 {
    if x.len() < 3 {
        return noise_variance(x);
    }
    let mad = |v: &mut Vec<f64>| {
        let med = median(v);
        let mut dev: Vec<f64> = v.iter().map(|a| (a - med).abs()).collect();
        1.4826 * median(&mut dev)
    };
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len() as f64).sqrt()
    };
    let mut d1: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let mut d2: Vec<f64> = x.windows(3).map(|w| w[2] - w[0]).collect();
    let (mut s1, mut s2) = (mad(&mut d1), mad(&mut d2));
    if s1 == 0.0 || s2 == 0.0 {
        (s1, s2) = (sd(&d1), sd(&d2));
    }
    let long_run = if s1 > 0.0 {
        let rho = ((s2 / s1).powi(2) - 1.0).clamp(0.0, 0.3);
        s1 * s1 / (2.0 * (1.0 - rho)) * (1.0 + rho) / (1.0 - rho)
    } else {
        0.0
    };
    let mut xs = x.to_vec();
    let floor = 0.1 * mad(&mut xs).powi(2);
    long_run.max(floor)
}

/// Noise variance estimated robustly from first differences:
/// `(1.4826 · MAD(diff) )² / 2`.
pub fn noise_variance(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    if d.is_empty() {
        return 0.0;
    }
    let med = median(&mut d);
    let mut dev: Vec<f64> = d.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&mut dev);
    let s = 1.4826 * mad;
    if s > 0.0 {
        s * s / 2.0
    } else {
        // More than half the differences are equal (counts with many zeros):
        // fall back to the plain variance of the differences.
        let m = d.iter().sum::<f64>() / d.len() as f64;
        d.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / d.len() as f64 / 2.0
    }
}

pub(crate) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *m;
    if v.len() % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// A segmentation: breakpoints (segment ends, the last being `n`) and its
/// penalised cost (sum of segment costs + penalty × change points, the
/// convention of ruptures' `pen`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segmentation {
    /// Segment ends, increasing, the last one `n`.
    pub breakpoints: Vec<usize>,
    /// Sum of segment costs plus the penalty per change point.
    pub penalized_cost: f64,
    /// The penalty used per change point.
    pub penalty: f64,
}

/// The minimum segment length a cost allows.
fn effective_min_size(cost: Cost, min_size: usize) -> usize {
    if cost == Cost::NormalMeanVar {
        min_size.max(2)
    } else {
        min_size
    }
}

fn check(n: usize, min_size: usize, pen: f64) -> Result<()> {
    if min_size == 0 {
        return Err(VapError::InvalidArgument(
            "min_size must be at least 1".into(),
        ));
    }
    if !pen.is_finite() || pen < 0.0 {
        return Err(VapError::InvalidArgument(format!(
            "the penalty must be a number >= 0, got {pen}"
        )));
    }
    if n > 0 && n < min_size {
        return Err(VapError::InvalidArgument(format!(
            "a series of {n} points cannot hold one segment of min_size {min_size}"
        )));
    }
    Ok(())
}

/// What every search starts from: the prefix sums, the penalty and the
/// minimum segment length the cost allows, all checked; `Err` carries the
/// segmentation of an empty series.
fn prepare(
    x: &[f64],
    cost: Cost,
    penalty: Penalty,
    min_size: usize,
) -> Result<std::result::Result<(Prefix, f64, usize), Segmentation>> {
    let min_size = if min_size == 0 {
        0
    } else {
        effective_min_size(cost, min_size)
    };
    let pen = penalty_value(x, cost, penalty);
    check(x.len(), min_size, pen)?;
    let p = Prefix::new(x, cost)?;
    if x.is_empty() {
        return Ok(Err(Segmentation {
            breakpoints: vec![],
            penalized_cost: 0.0,
            penalty: pen,
        }));
    }
    Ok(Ok((p, pen, min_size)))
}

fn backtrack(last: &[usize], n: usize) -> Vec<usize> {
    let mut bps = Vec::new();
    let mut t = n;
    while t > 0 {
        bps.push(t);
        t = last[t];
    }
    bps.reverse();
    bps
}

/// Exact PELT (Killick et al. 2012) with a minimum segment length.
///
/// A candidate `s` that the pruning rule rejects at time `t` is only
/// dropped from time `t + min_size` on: before then the split at `t` that
/// dominates it is not admissible (the segment after it would be too short),
/// which is where implementations that prune at once lose exactness.
pub fn pelt(x: &[f64], cost: Cost, penalty: Penalty, min_size: usize) -> Result<Segmentation> {
    let (p, pen, min_size) = match prepare(x, cost, penalty, min_size)? {
        Ok(ready) => ready,
        Err(empty) => return Ok(empty),
    };
    let n = x.len();
    if cost == Cost::L2 {
        return Ok(pelt_l2(&p, pen, min_size));
    }
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -pen;
    // The candidates, structure-of-arrays so that the inner loop is straight
    // arithmetic over contiguous memory: position, F(s), and the time from
    // which the candidate is dropped (usize::MAX: not marked).
    let mut cs: Vec<usize> = vec![0];
    let mut cf: Vec<f64> = vec![f[0]];
    let mut cdrop: Vec<usize> = vec![usize::MAX];
    let mut vals: Vec<f64> = Vec::new();
    for t in min_size..=n {
        // candidates with s + min_size <= t are a prefix: they were pushed in
        // increasing order of s.
        let ready = cs.partition_point(|&s| s + min_size <= t);
        vals.clear();
        vals.extend((0..ready).map(|k| cf[k] + p.cost(cs[k], t)));
        let mut best = f64::INFINITY;
        let mut arg = 0;
        for (k, &v) in vals.iter().enumerate() {
            if v < best {
                best = v;
                arg = cs[k];
            }
        }
        f[t] = best + pen;
        last[t] = arg;
        // mark the dominated, then drop those marked at least min_size ago
        let ft = f[t];
        let mut w = 0;
        for k in 0..cs.len() {
            if k < ready && cdrop[k] == usize::MAX && vals[k] > ft {
                cdrop[k] = t + min_size;
            }
            if cdrop[k] > t + 1 {
                cs[w] = cs[k];
                cf[w] = cf[k];
                cdrop[w] = cdrop[k];
                w += 1;
            }
        }
        cs.truncate(w);
        cf.truncate(w);
        cdrop.truncate(w);
        if t + min_size <= n && f[t].is_finite() {
            cs.push(t);
            cf.push(f[t]);
            cdrop.push(usize::MAX);
        }
    }
    Ok(Segmentation {
        breakpoints: backtrack(&last, n),
        penalized_cost: f[n],
        penalty: pen,
    })
}

/// `out[k] = g[k] + s2t − (s1t − a[k])² / (t − pos[k])`, returning the
/// minimum.
#[inline(always)]
fn l2_values_body(
    g: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    s2t: f64,
    t: f64,
    out: &mut [f64],
) -> f64 {
    for (((o, g), a), pos) in out.iter_mut().zip(g).zip(a).zip(pos) {
        let d = s1t - a;
        *o = g + s2t - d * d / (t - pos);
    }
    // the minimum with four independent lanes (a single running minimum is
    // a dependency chain the compiler may not reorder)
    let mut lanes = [f64::INFINITY; 4];
    let chunks = out.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..4 {
            lanes[j] = if c[j] < lanes[j] { c[j] } else { lanes[j] };
        }
    }
    let mut best = lanes.iter().copied().fold(f64::INFINITY, f64::min);
    for &v in rest {
        best = best.min(v);
    }
    best
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn l2_values_avx2(
    g: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    s2t: f64,
    t: f64,
    out: &mut [f64],
) -> f64 {
    l2_values_body(g, a, pos, s1t, s2t, t, out)
}

/// [`l2_values_body`], with 4-wide AVX2 arithmetic where the CPU has it
/// (the same operations in the same order: results are identical).
fn l2_values(
    g: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    s2t: f64,
    t: f64,
    out: &mut [f64],
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { l2_values_avx2(g, a, pos, s1t, s2t, t, out) };
        }
    }
    l2_values_body(g, a, pos, s1t, s2t, t, out)
}

/// A candidate's means `[lo, hi]` less the open hole `(a, b)` (none where
/// NaN), kept as one interval: an end inside the hole moves to the hole's
/// edge. Returns whether nothing is left.
#[inline]
fn narrowed(lo: &mut f64, hi: &mut f64, a: f64, b: f64) -> bool {
    // selects, not branches: which way they go is data
    let (l, h) = (*lo, *hi);
    *lo = if (l > a) & (l < b) { b } else { l };
    *hi = if (h < b) & (h > a) { a } else { h };
    *lo > *hi
}

/// The open interval `hole` grown by the open intervals of `iv` that
/// overlap it, in one pass: part of the connected union of `iv` around it
/// (a newcomer can never beat the best candidate anywhere in it).
fn grown(hole: (f64, f64), iv: &[(f64, f64)]) -> (f64, f64) {
    let (mut a, mut b) = hole;
    for &(lo, hi) in iv {
        let overlaps = (lo < b) & (hi > a);
        a = if overlaps { a.min(lo) } else { a };
        b = if overlaps { b.max(hi) } else { b };
    }
    (a, b)
}

/// Every candidate's sublevel interval against the newcomer at `t`,
/// `centre[k] ± half[k]`: the means where `F(s) + Σ (x_i − μ)² ≤ F(t)`
/// (`half` 0 where that is empty), branch-free so that it vectorises.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn l2_intervals_body(
    vals: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    t: f64,
    ft: f64,
    centre: &mut [f64],
    half: &mut [f64],
) {
    let it = centre
        .iter_mut()
        .zip(half.iter_mut())
        .zip(vals)
        .zip(a)
        .zip(pos);
    for ((((c, h), v), a), pos) in it {
        let inv = 1.0 / (t - pos);
        *c = (s1t - a) * inv;
        *h = ((ft - v).max(0.0) * inv).sqrt();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
fn l2_intervals_avx2(
    vals: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    t: f64,
    ft: f64,
    centre: &mut [f64],
    half: &mut [f64],
) {
    l2_intervals_body(vals, a, pos, s1t, t, ft, centre, half)
}

/// [`l2_intervals_body`], 4-wide with AVX2 where the CPU has it (the same
/// operations, so the same results).
#[allow(clippy::too_many_arguments)]
fn l2_intervals(
    vals: &[f64],
    a: &[f64],
    pos: &[f64],
    s1t: f64,
    t: f64,
    ft: f64,
    centre: &mut [f64],
    half: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { l2_intervals_avx2(vals, a, pos, s1t, t, ft, centre, half) };
        }
    }
    l2_intervals_body(vals, a, pos, s1t, t, ft, centre, half)
}

/// [`pelt`] for the L2 cost, the hot case: PELT with functional pruning
/// (FPOP, Maidstone et al. 2017), still exact.
///
/// A candidate `s` (the last change before `t`) costs, as a function of the
/// current segment's mean `μ`, `q_s(μ) = F(s) + pen + Σ_{s<i≤t} (x_i − μ)²`.
/// Every later candidate `t'` enters at `F(t') + pen` and from then on both
/// gain the same `(x_i − μ)²`, so `s` loses to `t'` for good wherever
/// `q_s(μ) > F(t') + pen` at `t'`: `s` keeps only the interval of means
/// where it still beats every candidate that came after it, the
/// intersection of the sublevel intervals `{μ: q_s(μ) ≤ F(t') + pen}` (a
/// quadratic's, so an interval). A newcomer starts without the means where
/// the candidates before it are already below it for good (the connected
/// stretch of them around the best candidate's), so one that could only win
/// far from the current level goes as soon as its own level is known. Once
/// what a candidate keeps is empty, it is never the best
/// again; with a minimum segment length it is dropped `min_size` steps
/// later, when the candidates that beat it are admissible (as in
/// [`pelt`]). PELT's own rule is the special case of one `t'` at a time, so
/// this keeps fewer candidates: about logarithmically many in the length of
/// the current segment instead of all of them, which keeps long quiet
/// stretches cheap. The interval test has a margin of `1e-10` of the
/// costs' scale, so rounding never drops a candidate that ties.
///
/// The candidate loop runs on contiguous arrays: per candidate `s`,
/// `g = F(s) − S2(s)`, `S1(s)` and `s`, and `F(s) + C(s, t) = g + S2(t) −
/// (S1(t) − S1(s))² / (t − s)` is straight arithmetic the compiler
/// vectorises. Candidates are compacted only on steps where one is due to
/// be dropped.
fn pelt_l2(p: &Prefix, pen: f64, min_size: usize) -> Segmentation {
    let n = p.len();
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -pen;
    let mut cs: Vec<usize> = vec![0];
    let mut cg: Vec<f64> = vec![f[0] - p.s2[0]];
    let mut c1: Vec<f64> = vec![p.s1[0]];
    let mut cpos: Vec<f64> = vec![0.0];
    let mut cdrop: Vec<usize> = vec![usize::MAX];
    // the interval of means where the candidate still beats every later one
    let mut clo: Vec<f64> = vec![f64::NEG_INFINITY];
    let mut chi: Vec<f64> = vec![f64::INFINITY];
    // less an open hole of means where an earlier candidate beats it for good
    let mut cha: Vec<f64> = vec![f64::NAN];
    let mut chb: Vec<f64> = vec![f64::NAN];
    let mut below: Vec<(f64, f64)> = Vec::new();
    let (mut centre, mut half): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut next_drop = usize::MAX;
    let mut vals: Vec<f64> = Vec::new();
    for t in min_size..=n {
        let ready = cs.partition_point(|&s| s + min_size <= t);
        let (s1t, s2t, tf) = (p.s1[t], p.s2[t], t as f64);
        let all = cs.len();
        vals.resize(all, 0.0);
        let best = l2_values(
            &cg[..ready],
            &c1[..ready],
            &cpos[..ready],
            s1t,
            s2t,
            tf,
            &mut vals[..ready],
        );
        // the candidates not admissible yet: narrowed all the same
        l2_values(
            &cg[ready..],
            &c1[ready..],
            &cpos[ready..],
            s1t,
            s2t,
            tf,
            &mut vals[ready..],
        );
        f[t] = best + pen;
        let ft = f[t];
        let arg = vals[..ready].iter().position(|&v| v == best).unwrap_or(0);
        last[t] = cs.get(arg).copied().unwrap_or(0);
        // narrow every candidate's interval against the newcomer `t` (whose
        // cost is `F(t) + pen` at every mean), mark the emptied ones
        // (dropped min_size steps later), and gather where the newcomer
        // loses for good: the means where some candidate is below it
        let mut hole = (f64::NAN, f64::NAN);
        if ft.is_finite() {
            // rounding margins: a candidate keeps a little more than its
            // interval, and the newcomer's hole is a little smaller
            let tol = 1e-10 * (ft.abs() + s2t.abs() + 1.0);
            below.clear();
            centre.resize(all, 0.0);
            half.resize(all, 0.0);
            l2_intervals(&vals, &c1, &cpos, s1t, tf, ft, &mut centre, &mut half);
            for k in 0..all {
                if ft - vals[k] < -tol {
                    if cdrop[k] == usize::MAX {
                        cdrop[k] = t + min_size;
                        next_drop = next_drop.min(t + min_size);
                    }
                    continue;
                }
                let (c, h) = (centre[k], half[k]);
                let margin = 1e-9 * (h + c.abs()) + 1e-300;
                if h > margin {
                    below.push((c - h + margin, c + h - margin));
                    if k == arg {
                        hole = (c - h + margin, c + h - margin);
                    }
                }
                if cdrop[k] == usize::MAX {
                    clo[k] = clo[k].max(c - h - margin);
                    chi[k] = chi[k].min(c + h + margin);
                    if narrowed(&mut clo[k], &mut chi[k], cha[k], chb[k]) {
                        cdrop[k] = t + min_size;
                        next_drop = next_drop.min(t + min_size);
                    }
                }
            }
            if hole.0 < hole.1 {
                hole = grown(hole, &below);
            } else {
                hole = (f64::NAN, f64::NAN);
            }
        }
        if next_drop <= t + 1 {
            let mut w = 0;
            next_drop = usize::MAX;
            for k in 0..cs.len() {
                if cdrop[k] > t + 1 {
                    cs[w] = cs[k];
                    cg[w] = cg[k];
                    c1[w] = c1[k];
                    cpos[w] = cpos[k];
                    cdrop[w] = cdrop[k];
                    clo[w] = clo[k];
                    chi[w] = chi[k];
                    cha[w] = cha[k];
                    chb[w] = chb[k];
                    next_drop = next_drop.min(cdrop[k]);
                    w += 1;
                }
            }
            for v in [
                &mut cg, &mut c1, &mut cpos, &mut clo, &mut chi, &mut cha, &mut chb,
            ] {
                v.truncate(w);
            }
            cs.truncate(w);
            cdrop.truncate(w);
        }
        if t + min_size <= n && ft.is_finite() {
            cs.push(t);
            cg.push(ft - p.s2[t]);
            c1.push(s1t);
            cpos.push(tf);
            cdrop.push(usize::MAX);
            clo.push(f64::NEG_INFINITY);
            chi.push(f64::INFINITY);
            cha.push(hole.0);
            chb.push(hole.1);
        }
    }
    Segmentation {
        breakpoints: backtrack(&last, n),
        penalized_cost: f[n],
        penalty: pen,
    }
}

/// Exact optimal partitioning by dynamic programming, O(n²): the reference
/// for [`pelt`].
pub fn dynp(x: &[f64], cost: Cost, penalty: Penalty, min_size: usize) -> Result<Segmentation> {
    let (p, pen, min_size) = match prepare(x, cost, penalty, min_size)? {
        Ok(ready) => ready,
        Err(empty) => return Ok(empty),
    };
    let n = x.len();
    let mut f = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    f[0] = -pen;
    for t in min_size..=n {
        for s in (0..=t - min_size).filter(|&s| s == 0 || s >= min_size) {
            if f[s].is_finite() {
                let v = f[s] + p.cost(s, t) + pen;
                if v < f[t] {
                    f[t] = v;
                    last[t] = s;
                }
            }
        }
    }
    Ok(Segmentation {
        breakpoints: backtrack(&last, n),
        penalized_cost: f[n],
        penalty: pen,
    })
}

/// Binary segmentation: split the segment whose best split lowers the cost
/// most, while the gain exceeds the penalty. Fast and approximate.
pub fn binseg(x: &[f64], cost: Cost, penalty: Penalty, min_size: usize) -> Result<Segmentation> {
    let (p, pen, min_size) = match prepare(x, cost, penalty, min_size)? {
        Ok(ready) => ready,
        Err(empty) => return Ok(empty),
    };
    let n = x.len();
    let best_split = |a: usize, b: usize| -> Option<(f64, usize)> {
        let whole = p.cost(a, b);
        let mut best: Option<(f64, usize)> = None;
        let mut k = a + min_size;
        while k + min_size <= b {
            let gain = whole - p.cost(a, k) - p.cost(k, b);
            if best.is_none_or(|(g, _)| gain > g) {
                best = Some((gain, k));
            }
            k += 1;
        }
        best
    };
    let mut bps = vec![n];
    // (start, end, best split of the segment: (gain, position))
    type Open = (usize, usize, Option<(f64, usize)>);
    let mut segs: Vec<Open> = vec![(0, n, best_split(0, n))];
    while let Some((i, gain, k)) = segs
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.2.map(|(g, k)| (i, g, k)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        if gain <= pen {
            break;
        }
        let (a, b, _) = segs.swap_remove(i);
        bps.push(k);
        segs.push((a, k, best_split(a, k)));
        segs.push((k, b, best_split(k, b)));
    }
    bps.sort_unstable();
    let mut total = -pen;
    let mut a = 0;
    for &b in &bps {
        total += p.cost(a, b) + pen;
        a = b;
    }
    Ok(Segmentation {
        breakpoints: bps,
        penalized_cost: total,
        penalty: pen,
    })
}

/// The penalised cost of given breakpoints (for comparing segmentations):
/// segment costs plus `pen` per change point.
pub fn penalized_cost(x: &[f64], cost: Cost, pen: f64, breakpoints: &[usize]) -> Result<f64> {
    let p = Prefix::new(x, cost)?;
    let mut a = 0;
    let mut total = if breakpoints.is_empty() { 0.0 } else { -pen };
    for &b in breakpoints {
        if b <= a || b > x.len() {
            return Err(VapError::InvalidArgument(format!(
                "bad breakpoints {breakpoints:?}"
            )));
        }
        total += p.cost(a, b) + pen;
        a = b;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_clear_mean_shift() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut x = vec![0.0; 50];
        x.extend(vec![10.0; 50]);
        for v in x.iter_mut() {
            *v += rng.random_range(-1.0..1.0);
        }
        for f in [pelt, dynp, binseg] {
            let s = f(&x, Cost::L2, Penalty::Bic, 2).unwrap();
            assert_eq!(s.breakpoints, vec![50, 100]);
        }
    }

    #[test]
    fn min_size_is_respected_and_bad_input_refused() {
        let x: Vec<f64> = (0..30)
            .map(|i| if i % 7 == 0 { 50.0 } else { 0.0 })
            .collect();
        let s = pelt(&x, Cost::L2, Penalty::Value(1.0), 5).unwrap();
        let mut a = 0;
        for b in &s.breakpoints {
            assert!(b - a >= 5, "{:?}", s.breakpoints);
            a = *b;
        }
        assert!(pelt(&[1.0, f64::NAN], Cost::L2, Penalty::Bic, 1).is_err());
        assert!(pelt(&[1.0, -1.0], Cost::Poisson, Penalty::Bic, 1).is_err());
        assert!(pelt(&[1.0], Cost::L2, Penalty::Bic, 0).is_err());
        assert!(pelt(&[1.0], Cost::L2, Penalty::Value(-1.0), 1).is_err());
    }
}
