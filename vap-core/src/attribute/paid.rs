//! Paid and natural traffic: the second stage of the exposure model.
//!
//! Where the timeline has ad spend (`ad_spend`, yuan per bin: Compass'
//! `stat_cost`), the viewers the model reads as exposure, and the entries
//! where present, are each regressed on the spend carried over:
//!
//! `v_t = α_s + δ_s·t + θ·a_t + ε_t`, `a_t = κ·a_{t−1} + (1 − κ)·spend_t`
//!
//! with a level and a trend per session (`s`), `a` the spend carried over
//! geometrically within each session (normalised: a steady spend `x` gives
//! `a = x`; `κ = 0.5^(step / half-life)`), the half-life chosen among
//! [`AdsOptions::carryover_ms`] by blocked cross-validation (fold `k` the
//! `k`-th of `folds` contiguous slices of every session, the mean absolute
//! error of the held-out bins), `θ ≥ 0` (a negative estimate is reported as
//! 0 with a note), its interval from a moving-block bootstrap stratified by
//! session (the fit's `block_ms`, `bootstrap` replicates seeded from the
//! fit's seed). The paid viewers are `θ·a_t`; their share of the bin's
//! viewers, clamped to `[0, 1]`, is `π_t`.
//!
//! What the split reports, in the exposure and log-link forms (where the
//! prediction is proportional to the exposure):
//!
//! * **paid traffic** `π_t·(baseline_t + traffic_t)`: the part of the
//!   decomposition's baseline and traffic the paid viewers account for, at the
//!   room's conversion without the factors; `traffic − paid traffic` is the
//!   natural traffic. A moment's paid traffic is that series' excess over the
//!   moment's reference window, as the moment's other parts are;
//! * **paid GMV** `π_t·prediction_t`: what the paid viewers are predicted to
//!   have bought, factors included (what removing them would remove), and the
//!   **return on ad spend** `ROI = Σ paid GMV / Σ spend`, with the interval
//!   of the bootstrap's `θ` (the first stage's coefficients held at their
//!   estimates).
//!
//! The linear form keeps traffic as a column of its own, with no exposure to
//! share: there the viewers and entries are still split, the GMV is not.

use std::ops::Range;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::decompose::Decomposition;
use super::options::AdsOptions;
use super::{AttributeOptions, Form};
use crate::align::Timeline;
use crate::schema::Ms;

/// A value with its bootstrap 95 % interval (NaN bounds without replicates).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Estimate.
    pub value: f64,
    /// 2.5 % quantile.
    pub low: f64,
    /// 97.5 % quantile.
    pub high: f64,
}

/// One carryover half-life tried and its cross-validated error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CarryoverScore {
    /// Half-life (ms).
    pub carryover_ms: Ms,
    /// Mean absolute error of the held-out bins (absolute, as the fit is
    /// robust: a wave of natural traffic in one fold does not decide).
    pub cv_error: f64,
}

/// How one column (viewers or entries) responds to the spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendResponse {
    /// The column modelled.
    pub column: String,
    /// The chosen half-life from spend to the column (ms).
    pub carryover_ms: Ms,
    /// The half-lives the cross-validation cannot tell from the chosen one
    /// (mean paired fold difference within one standard error); the
    /// intervals span them all.
    pub plausible_ms: Vec<Ms>,
    /// `θ`: the column's rise per yuan spent per bin, at a steady spend (for
    /// entries, a flow, the paid entries per yuan), with its interval.
    pub per_yuan: Interval,
    /// Every half-life tried (empty for viewers derived from the entries).
    pub cv: Vec<CarryoverScore>,
    /// The viewers' exit rate per bin that turned paid entries into paid
    /// viewers (`None` for a column modelled on the spend directly).
    pub exit_rate: Option<f64>,
    /// Σ paid over the bins (for a gauge such as the viewers, viewer-bins).
    pub paid: f64,
    /// Paid share of the column's total.
    pub share: f64,
}

/// The split of traffic into paid and natural (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaidTraffic {
    /// Spend column.
    pub spend_column: String,
    /// Total spend over the fitted sessions (yuan).
    pub spend: f64,
    /// The viewers' (exposure's) response to the spend.
    pub viewers: SpendResponse,
    /// The entries' response (`None` without an entries column).
    pub entries: Option<SpendResponse>,
    /// Σ paid traffic: the part of baseline + traffic the paid viewers
    /// account for (`None` in the linear form).
    pub paid_traffic: Option<f64>,
    /// The paid viewers' predicted GMV (target units), with its interval
    /// (`None` in the linear form).
    pub paid_gmv: Option<Interval>,
    /// Paid GMV per yuan spent, with its interval.
    pub roi: Option<Interval>,
    /// What the split could not do, or did with a caveat.
    pub notes: Vec<String>,
    /// Per bin, on the decomposition's rows.
    pub series: PaidSeries,
    /// Per plausible half-life: the paid viewers per unit `θ` at each bin and
    /// the bootstrap's `θ`s (for a moment's interval; not serialised).
    #[serde(skip)]
    alternatives: Vec<(Vec<f64>, Vec<f64>)>,
}

/// The split per bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaidSeries {
    /// Bin starts.
    pub time_ms: Vec<Ms>,
    /// Spend (yuan; NaN where unknown).
    pub spend: Vec<f64>,
    /// Viewers (the exposure column).
    pub viewers: Vec<f64>,
    /// Paid viewers.
    pub paid_viewers: Vec<f64>,
    /// Paid entries (empty without entries).
    pub paid_entries: Vec<f64>,
    /// Paid traffic (empty in the linear form; NaN where the bin was not
    /// predicted).
    pub paid_traffic: Vec<f64>,
    /// Paid GMV (as `paid_traffic`).
    pub paid_gmv: Vec<f64>,
}

/// The ads inside one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentAds {
    /// Spend inside the moment (yuan).
    pub spend: f64,
    /// Paid entries inside the moment (`None` without entries).
    pub paid_entries: Option<f64>,
    /// Mean paid viewers inside the moment.
    pub paid_viewers: f64,
    /// The paid viewers' share of the moment's viewers.
    pub paid_share: f64,
    /// The part of the moment's traffic part the ads brought: the paid
    /// traffic's excess over the reference window (`None` in the linear form).
    pub paid_traffic: Option<f64>,
    /// The paid viewers' predicted GMV inside the moment, with its interval.
    pub paid_gmv: Option<Interval>,
    /// `paid_gmv / spend` where something was spent, with its interval.
    pub roi: Option<Interval>,
}

impl PaidTraffic {
    /// The ads inside `[start, end)`, the paid traffic measured against the
    /// bins of `reference` outside the moment (the moment's reference window);
    /// the paid GMV's interval as the session's (every plausible half-life's
    /// bootstrap, each replicate with `dec`'s replicate prediction), NaN
    /// bounds for a split read back from JSON.
    pub fn moment(
        &self,
        dec: &Decomposition,
        start_ms: Ms,
        end_ms: Ms,
        reference_ms: (Ms, Ms),
    ) -> MomentAds {
        let s = &self.series;
        let inside: Vec<usize> = (0..s.time_ms.len())
            .filter(|&i| s.time_ms[i] >= start_ms && s.time_ms[i] < end_ms)
            .collect();
        let refs: Vec<usize> = (0..s.time_ms.len())
            .filter(|&i| {
                let t = s.time_ms[i];
                t >= reference_ms.0 && t < reference_ms.1 && !(t >= start_ms && t < end_ms)
            })
            .collect();
        let sum = |v: &[f64], rows: &[usize]| -> f64 {
            rows.iter().map(|&i| v[i]).filter(|x| x.is_finite()).sum()
        };
        let spend = sum(&s.spend, &inside);
        // viewers and paid viewers over the bins whose viewers are known
        let seen: Vec<usize> = inside
            .iter()
            .copied()
            .filter(|&i| s.viewers[i].is_finite())
            .collect();
        let n = seen.len().max(1) as f64;
        let paid_viewers = sum(&s.paid_viewers, &seen) / n;
        let viewers = sum(&s.viewers, &seen) / n;
        let paid_share = if viewers > 0.0 {
            (paid_viewers / viewers).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let has_gmv = !s.paid_traffic.is_empty();
        let paid_traffic = has_gmv.then(|| {
            // as the moment's other parts: fitted bins only
            let fitted = |rows: &[usize]| -> Vec<usize> {
                rows.iter()
                    .copied()
                    .filter(|&i| s.paid_traffic[i].is_finite())
                    .collect()
            };
            let (inside, refs) = (fitted(&inside), fitted(&refs));
            let reference = if refs.is_empty() {
                0.0
            } else {
                sum(&s.paid_traffic, &refs) / refs.len() as f64
            };
            sum(&s.paid_traffic, &inside) - inside.len() as f64 * reference
        });
        let paid_gmv = has_gmv.then(|| {
            let (low, high) = self.interval(dec, &inside);
            Interval {
                value: sum(&s.paid_gmv, &inside),
                low,
                high,
            }
        });
        MomentAds {
            spend,
            paid_entries: (!s.paid_entries.is_empty()).then(|| sum(&s.paid_entries, &inside)),
            paid_viewers,
            paid_share,
            paid_traffic,
            paid_gmv,
            roi: paid_gmv.filter(|_| spend > 0.0).map(|g| Interval {
                value: g.value / spend,
                low: g.low / spend,
                high: g.high / spend,
            }),
        }
    }

    /// The paid GMV's bootstrap interval over `rows`: per plausible
    /// half-life, the 2.5 % and 97.5 % quantiles of its replicates, replicate
    /// r pairing `θ_r` with `dec`'s r-th replicate prediction (its estimate
    /// without replicates); the widest span over the half-lives.
    fn interval(&self, dec: &Decomposition, rows: &[usize]) -> (f64, f64) {
        gmv_interval(&self.alternatives, &self.series.viewers, dec, rows)
    }
}

/// The split for a fit, where the options ask for it and the timeline has
/// spend that spends something; `None` otherwise.
pub(super) fn paid_traffic(
    tl: &Timeline,
    dec: &Decomposition,
    opts: &AttributeOptions,
) -> Option<PaidTraffic> {
    let ads = &opts.ads;
    if !ads.enabled {
        return None;
    }
    let spend_col = tl.values(&ads.spend).ok()?;
    let total_spend: f64 = spend_col.iter().filter(|x| x.is_finite()).sum();
    if total_spend <= 0.0 || tl.len() != dec.len() {
        return None;
    }
    let viewers_name = opts.exposure.as_deref()?;
    let viewers = tl.values(viewers_name).ok()?;
    let sessions: Vec<Range<usize>> = tl.spans().iter().map(|s| s.rows.clone()).collect();
    let setup = Setup {
        spend: spend_col,
        sessions: &sessions,
        step: tl.step_ms().max(1),
        ads,
        folds: opts.folds,
        block_bins: ((opts.block_ms / tl.step_ms().max(1)).max(1)) as usize,
        bootstrap: opts.bootstrap,
        seed: opts.seed,
    };
    let mut notes = Vec::new();
    let efit = tl
        .values(&ads.entries)
        .ok()
        .and_then(|e| setup.respond(&ads.entries, e, &mut notes));
    // the paid viewers: the paid entries' stock at the room's exit rate, else
    // the viewers modelled on the spend directly
    let vfit = match (&efit, tl.values(&ads.entries).ok()) {
        (Some(e), Some(entries)) => match exit_rate(viewers, entries, &sessions) {
            Some(p) => Some(setup.stock(viewers_name, viewers, e, p, &mut notes)),
            None => {
                notes.push(format!(
                    "no exit rate could be read from '{viewers_name}' and '{}': the viewers are modelled on the spend directly",
                    ads.entries
                ));
                None
            }
        },
        _ => None,
    };
    let vfit = match vfit {
        Some(v) => v,
        None => setup.respond(viewers_name, viewers, &mut notes)?,
    };
    let n = tl.len();
    let shares: Vec<f64> = (0..n)
        .map(|i| share(vfit.theta * vfit.carried[i], viewers[i]))
        .collect();
    let alternatives: Vec<(Vec<f64>, Vec<f64>)> = vfit
        .alternatives
        .iter()
        .map(|alt| (alt.carried.clone(), alt.replicates.clone()))
        .collect();
    let paid_viewers: Vec<f64> = vfit.carried.iter().map(|a| vfit.theta * a).collect();
    let proportional = matches!(dec.form, Form::Exposure | Form::LogLink);
    let (mut paid_traffic, mut paid_gmv) = (Vec::new(), Vec::new());
    let (mut traffic_total, mut gmv, mut roi) = (None, None, None);
    if proportional {
        paid_traffic = (0..n)
            .map(|i| shares[i] * (dec.baseline[i] + dec.traffic[i]))
            .collect();
        paid_gmv = (0..n).map(|i| shares[i] * dec.prediction[i]).collect();
        let finite_sum = |v: &[f64]| v.iter().filter(|x| x.is_finite()).sum::<f64>();
        let g = finite_sum(&paid_gmv);
        // the interval spans every plausible half-life's bootstrap (see
        // PaidTraffic::interval), over every bin
        let (lo, hi) = gmv_interval(&alternatives, viewers, dec, &(0..n).collect::<Vec<_>>());
        traffic_total = Some(finite_sum(&paid_traffic));
        gmv = Some(Interval {
            value: g,
            low: lo,
            high: hi,
        });
        roi = Some(Interval {
            value: g / total_spend,
            low: lo / total_spend,
            high: hi / total_spend,
        });
    } else {
        notes.push(format!(
            "the {} form keeps traffic as a column of its own: the paid viewers' GMV and the return on ad spend need the exposure or log-link form",
            dec.form.as_str()
        ));
    }
    let series = PaidSeries {
        time_ms: tl.time_ms().to_vec(),
        spend: spend_col.to_vec(),
        viewers: viewers.to_vec(),
        paid_viewers,
        paid_entries: efit
            .as_ref()
            .map(|e| e.carried.iter().map(|a| e.theta * a).collect())
            .unwrap_or_default(),
        paid_traffic,
        paid_gmv,
    };
    Some(PaidTraffic {
        spend_column: ads.spend.clone(),
        spend: total_spend,
        viewers: vfit.response,
        entries: efit.map(|e| e.response),
        paid_traffic: traffic_total,
        paid_gmv: gmv,
        roi,
        notes,
        series,
        alternatives,
    })
}

/// What every column's fit shares.
struct Setup<'a> {
    spend: &'a [f64],
    sessions: &'a [Range<usize>],
    step: Ms,
    ads: &'a AdsOptions,
    folds: usize,
    block_bins: usize,
    bootstrap: usize,
    seed: u64,
}

/// One column's fit.
struct Fitted {
    response: SpendResponse,
    theta: f64,
    carried: Vec<f64>,
    /// The plausible half-lives' carried spend and bootstrap `θ`s.
    alternatives: Vec<Alternative>,
}

/// One plausible half-life: its carried spend (or paid-viewer stock per unit
/// `θ`) and its bootstrap replicates of `θ`.
struct Alternative {
    carried: Vec<f64>,
    replicates: Vec<f64>,
}

impl Setup<'_> {
    /// The spend carried over with half-life `h` within each session (unknown
    /// spend counts as none).
    fn carried(&self, h: Ms) -> Vec<f64> {
        let keep = if h > 0 {
            0.5f64.powf(self.step as f64 / h as f64)
        } else {
            0.0
        };
        let mut out = vec![0.0; self.spend.len()];
        for r in self.sessions {
            let mut a = 0.0;
            for i in r.clone() {
                let x = if self.spend[i].is_finite() {
                    self.spend[i]
                } else {
                    0.0
                };
                a = keep * a + (1.0 - keep) * x;
                out[i] = a;
            }
        }
        out
    }

    /// Fits `y` on the carried spend (see the module docs); `None` where too
    /// few bins have both.
    fn respond(&self, name: &str, y: &[f64], notes: &mut Vec<String>) -> Option<Fitted> {
        let n = y.len();
        let valid: Vec<bool> = (0..n)
            .map(|i| y[i].is_finite() && self.spend[i].is_finite())
            .collect();
        let n_valid = valid.iter().filter(|&&v| v).count();
        if n_valid < 4 * self.folds.max(2) {
            notes.push(format!(
                "'{name}': {n_valid} bins with both it and the spend, too few to model it on the spend"
            ));
            return None;
        }
        // the fold of each row: the k-th contiguous slice of its session
        let mut fold = vec![0usize; n];
        for r in self.sessions {
            let len = r.len().max(1);
            for i in r.clone() {
                fold[i] = (i - r.start) * self.folds / len;
            }
        }
        let mut cv = Vec::new();
        let mut per_fold: Vec<Vec<f64>> = Vec::new();
        let mut carried: Vec<Vec<f64>> = Vec::new();
        for &h in &self.ads.carryover_ms {
            let a = self.carried(h);
            let mut errs = vec![f64::NAN; self.folds];
            let (mut total, mut count) = (0.0, 0usize);
            for (k, err) in errs.iter_mut().enumerate() {
                let w: Vec<f64> = (0..n)
                    .map(|i| f64::from(valid[i] && fold[i] != k))
                    .collect();
                let Some(m) = Fwl::fit_robust(y, &a, self.sessions, &w) else {
                    continue;
                };
                let (mut e, mut c) = (0.0, 0usize);
                for (s, r) in self.sessions.iter().enumerate() {
                    for i in r.clone() {
                        if valid[i] && fold[i] == k {
                            if let Some(p) = m.predict(s, i - r.start, a[i]) {
                                e += (y[i] - p).abs();
                                c += 1;
                            }
                        }
                    }
                }
                if c > 0 {
                    *err = e / c as f64;
                    total += e;
                    count += c;
                }
            }
            cv.push(CarryoverScore {
                carryover_ms: h,
                cv_error: if count > 0 {
                    total / count as f64
                } else {
                    f64::NAN
                },
            });
            per_fold.push(errs);
            carried.push(a);
        }
        let best = (0..cv.len())
            .filter(|&j| cv[j].cv_error.is_finite())
            .min_by(|&x, &y| cv[x].cv_error.total_cmp(&cv[y].cv_error))?;
        // the half-lives the folds cannot tell from the best: the mean paired
        // difference of their fold errors within one standard error of it
        let plausible: Vec<usize> = (0..cv.len())
            .filter(|&j| {
                if j == best {
                    return true;
                }
                let d: Vec<f64> = (0..self.folds)
                    .map(|k| per_fold[j][k] - per_fold[best][k])
                    .filter(|x| x.is_finite())
                    .collect();
                if d.len() < 2 {
                    return false;
                }
                let m = d.iter().sum::<f64>() / d.len() as f64;
                let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (d.len() - 1) as f64;
                m <= (var / d.len() as f64).sqrt()
            })
            .collect();
        let h = cv[best].carryover_ms;
        let w: Vec<f64> = valid.iter().map(|&v| f64::from(v)).collect();
        let m = Fwl::fit_robust(y, &carried[best], self.sessions, &w)?;
        let mut theta = m.theta;
        if theta < 0.0 {
            notes.push(format!(
                "'{name}' fell as the spend rose (θ = {theta:.4}): reported as no paid {name}"
            ));
            theta = 0.0;
        }
        let alternatives: Vec<Alternative> = plausible
            .iter()
            .map(|&j| Alternative {
                // replicate r keeps index r (NaN where it could not be
                // fitted), so it pairs with the first stage's r-th
                replicates: (0..self.bootstrap)
                    .map(|r| {
                        let wr = self.resample(&valid, r as u64);
                        Fwl::fit_robust(y, &carried[j], self.sessions, &wr)
                            .map_or(f64::NAN, |m| m.theta)
                    })
                    .collect(),
                carried: carried[j].clone(),
            })
            .collect();
        let (lo, hi) = alternatives
            .iter()
            .map(|alt| quantiles(&alt.replicates))
            .fold((f64::NAN, f64::NAN), |(l, h), (a, b)| (l.min(a), h.max(b)));
        let a = carried.swap_remove(best);
        let paid: f64 = (0..n).filter(|&i| valid[i]).map(|i| theta * a[i]).sum();
        let total: f64 = (0..n).filter(|&i| valid[i]).map(|i| y[i]).sum();
        Some(Fitted {
            response: SpendResponse {
                column: name.to_string(),
                carryover_ms: h,
                plausible_ms: plausible.iter().map(|&j| cv[j].carryover_ms).collect(),
                per_yuan: Interval {
                    value: theta,
                    low: nonneg(lo),
                    high: nonneg(hi),
                },
                cv,
                exit_rate: None,
                paid,
                share: if total > 0.0 { paid / total } else { f64::NAN },
            },
            theta,
            carried: a,
            alternatives,
        })
    }

    /// The paid viewers as the stock of the paid entries `e` leaving at
    /// `exit` per bin: `b_t = (1 − exit)·b_{t−1} + a_t` within each session
    /// (`a` the entries' carried spend), paid viewers `θ_e·b_t`.
    fn stock(
        &self,
        name: &str,
        viewers: &[f64],
        e: &Fitted,
        exit: f64,
        notes: &mut Vec<String>,
    ) -> Fitted {
        let stock_of = |carried: &[f64]| {
            let mut b = vec![0.0; viewers.len()];
            for r in self.sessions {
                let mut acc = 0.0;
                for i in r.clone() {
                    acc = (1.0 - exit) * acc + carried[i];
                    b[i] = acc;
                }
            }
            b
        };
        let b = stock_of(&e.carried);
        let (mut paid, mut total) = (0.0, 0.0);
        for i in 0..viewers.len() {
            if viewers[i].is_finite() {
                paid += e.theta * b[i];
                total += viewers[i];
            }
        }
        notes.push(format!(
            "paid viewers: the paid entries' stock at the room's exit rate ({:.4} per bin, a mean stay of {:.0} s)",
            exit,
            self.step as f64 / 1000.0 / exit
        ));
        let per = e.response.per_yuan;
        Fitted {
            response: SpendResponse {
                column: name.to_string(),
                carryover_ms: e.response.carryover_ms,
                plausible_ms: e.response.plausible_ms.clone(),
                per_yuan: Interval {
                    value: per.value / exit,
                    low: per.low / exit,
                    high: per.high / exit,
                },
                cv: Vec::new(),
                exit_rate: Some(exit),
                paid,
                share: if total > 0.0 { paid / total } else { f64::NAN },
            },
            theta: e.theta,
            carried: b,
            alternatives: e
                .alternatives
                .iter()
                .map(|alt| Alternative {
                    carried: stock_of(&alt.carried),
                    replicates: alt.replicates.clone(),
                })
                .collect(),
        }
    }

    /// Replicate `r`'s row weights: for each session, blocks of `block_bins`
    /// starting anywhere in it, drawn with replacement until it has as many
    /// rows as it had.
    fn resample(&self, valid: &[bool], r: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(self.seed, 11, r));
        let mut w = vec![0.0; valid.len()];
        for range in self.sessions {
            let len = range.len();
            if len == 0 {
                continue;
            }
            let b = self.block_bins.min(len);
            let mut drawn = 0;
            while drawn < len {
                let start = range.start + rng.random_range(0..=len - b);
                for i in start..start + b {
                    w[i] += f64::from(valid[i]);
                }
                drawn += b;
            }
        }
        w
    }
}

/// The viewers' exit rate per bin, `Σ exits / Σ viewers` with
/// `exits_t = v_{t−1} + entries_t − v_t` over consecutive bins that have both
/// (`None` where it is not in `(0, 1]`).
fn exit_rate(viewers: &[f64], entries: &[f64], sessions: &[Range<usize>]) -> Option<f64> {
    let (mut exits, mut stock) = (0.0, 0.0);
    for r in sessions {
        for i in r.start + 1..r.end {
            let (v0, v1, e) = (viewers[i - 1], viewers[i], entries[i]);
            if v0.is_finite() && v1.is_finite() && e.is_finite() {
                exits += v0 + e - v1;
                stock += v0;
            }
        }
    }
    let p = exits / stock;
    (p.is_finite() && p > 0.0 && p <= 1.0).then_some(p)
}

/// `y = α_s + δ_s·t + θ·a`, profiled per session (Frisch–Waugh–Lovell), with
/// row weights.
struct Fwl {
    theta: f64,
    /// Per session: `(α_y, δ_y, α_a, δ_a)`, `None` without weighted rows.
    lines: Vec<Option<[f64; 4]>>,
}

impl Fwl {
    fn fit(y: &[f64], a: &[f64], sessions: &[Range<usize>], w: &[f64]) -> Option<Fwl> {
        let mut lines = Vec::with_capacity(sessions.len());
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for r in sessions {
            let line = |v: &[f64]| weighted_line(v, r.clone(), w);
            let (Some(ly), Some(la)) = (line(y), line(a)) else {
                lines.push(None);
                continue;
            };
            for i in r.clone() {
                if w[i] > 0.0 {
                    let t = (i - r.start) as f64;
                    let ry = y[i] - ly.0 - ly.1 * t;
                    let ra = a[i] - la.0 - la.1 * t;
                    sxy += w[i] * ra * ry;
                    sxx += w[i] * ra * ra;
                }
            }
            lines.push(Some([ly.0, ly.1, la.0, la.1]));
        }
        if sxx <= 1e-12 * (1.0 + sxy.abs()) {
            return None;
        }
        Some(Fwl {
            theta: sxy / sxx,
            lines,
        })
    }

    /// [`Fwl::fit`] made robust by iterated Huber weights: statsmodels'
    /// `RLM(M=HuberT(t=1.345))` with its default scale, the residuals' median
    /// absolute value over 0.6745 (`scale.mad(resid, center=0)`),
    /// re-estimated every iteration. A wave of natural traffic or a stall that happens to overlap
    /// a campaign weighs as an outlier, not as the ads' effect.
    fn fit_robust(y: &[f64], a: &[f64], sessions: &[Range<usize>], w0: &[f64]) -> Option<Fwl> {
        let mut m = Fwl::fit(y, a, sessions, w0)?;
        let mut w = w0.to_vec();
        let mut res = vec![0.0; y.len()];
        let mut r = Vec::with_capacity(y.len());
        for _ in 0..100 {
            r.clear();
            for (s, range) in sessions.iter().enumerate() {
                for i in range.clone() {
                    if w0[i] > 0.0 {
                        if let Some(p) = m.predict(s, i - range.start, a[i]) {
                            res[i] = y[i] - p;
                            // a bootstrap weight counts a row as often as drawn
                            for _ in 0..(w0[i].round() as usize).max(1) {
                                r.push(res[i]);
                            }
                        }
                    }
                }
            }
            if r.is_empty() {
                break;
            }
            r.iter_mut().for_each(|x| *x = x.abs());
            let scale = median(&mut r) / 0.6745;
            if scale.is_nan() || scale <= 0.0 {
                break;
            }
            for i in 0..y.len() {
                w[i] = if w0[i] > 0.0 {
                    w0[i] * (1.345 * scale / res[i].abs().max(f64::MIN_POSITIVE)).min(1.0)
                } else {
                    0.0
                };
            }
            let next = Fwl::fit(y, a, sessions, &w)?;
            let done = (next.theta - m.theta).abs() <= 1e-10 * (1.0 + m.theta.abs());
            m = next;
            if done {
                break;
            }
        }
        Some(m)
    }

    /// The prediction at position `t` of session `s` with carried spend `a`.
    fn predict(&self, s: usize, t: usize, a: f64) -> Option<f64> {
        let [ay, dy, aa, da] = self.lines.get(s).copied().flatten()?;
        let t = t as f64;
        Some(ay + dy * t + self.theta * (a - aa - da * t))
    }
}

/// Weighted least-squares line `v = α + δ·t` over `rows` (`t` from the
/// session's start); a level only where the rows span one instant; `None`
/// without weight.
fn weighted_line(v: &[f64], rows: Range<usize>, w: &[f64]) -> Option<(f64, f64)> {
    let start = rows.start;
    let (mut sw, mut st, mut stt, mut sv, mut stv) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in rows {
        if w[i] > 0.0 {
            let t = (i - start) as f64;
            sw += w[i];
            st += w[i] * t;
            stt += w[i] * t * t;
            sv += w[i] * v[i];
            stv += w[i] * t * v[i];
        }
    }
    if sw <= 0.0 {
        return None;
    }
    let den = sw * stt - st * st;
    if den <= 1e-9 * sw * sw.max(1.0) {
        return Some((sv / sw, 0.0));
    }
    let d = (sw * stv - st * sv) / den;
    Some(((sv - d * st) / sw, d))
}

/// A bound of a non-negative quantity: clamped at 0, NaN kept (no
/// replicates).
fn nonneg(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        x.max(0.0)
    }
}

/// Paid viewers' share of `viewers`, in `[0, 1]` (0 where unknown).
fn share(paid: f64, viewers: f64) -> f64 {
    if viewers.is_finite() && viewers > 0.0 {
        (paid / viewers).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// The paid GMV's bootstrap interval over `rows`: per plausible half-life
/// (`(paid viewers per unit θ, θ replicates)`), the 2.5 % and 97.5 %
/// quantiles of its replicates, replicate r pairing `θ_r` with `dec`'s r-th
/// replicate prediction (its estimate without replicates); the widest span
/// over the half-lives.
fn gmv_interval(
    alternatives: &[(Vec<f64>, Vec<f64>)],
    viewers: &[f64],
    dec: &Decomposition,
    rows: &[usize],
) -> (f64, f64) {
    let m = dec.replicate_count();
    alternatives
        .iter()
        .map(|(per_theta, thetas)| {
            let reps: Vec<f64> = thetas
                .iter()
                .enumerate()
                .filter(|(_, th)| th.is_finite())
                .filter_map(|(r, &th)| {
                    let mut total = 0.0;
                    for &i in rows.iter().filter(|&&i| dec.prediction[i].is_finite()) {
                        let pred = if m == 0 {
                            dec.prediction[i]
                        } else {
                            dec.replicate_prediction(r % m, i)
                        };
                        // a first-stage replicate that could not predict a
                        // fitted bin is left out, not counted as no GMV
                        if !pred.is_finite() {
                            return None;
                        }
                        total += share(th.max(0.0) * per_theta[i], viewers[i]) * pred;
                    }
                    Some(total)
                })
                .collect();
            quantiles(&reps)
        })
        .fold((f64::NAN, f64::NAN), |(l, h), (a, b)| (l.min(a), h.max(b)))
}

/// The median (the mean of the middle two for an even count); reorders `v`.
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let hi = *m;
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    0.5 * (lo + hi)
}

/// The 2.5 % and 97.5 % quantiles (NaN without values).
fn quantiles(v: &[f64]) -> (f64, f64) {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (s.len() - 1) as f64;
        let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
        s[lo] + (s[hi] - s[lo]) * (x - lo as f64)
    };
    (q(0.025), q(0.975))
}
