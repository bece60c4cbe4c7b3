//! The ground truth recorded next to a synthetic room: its types, the
//! conversion rate that produces it and the factors' exact contributions.

use serde::{Deserialize, Serialize};

use super::{Clock, Scene, SimConfig};
use crate::schema::{Ms, SessionData};

/// Cause of a planted moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A flash sale (conversion rises).
    FlashSale,
    /// A burst of urgency phrases in the anchor's pitch (conversion rises).
    PitchBurst,
    /// A wave of platform traffic (entries rise, conversion does not).
    TrafficWave,
    /// The stream stalls: entries collapse and viewers leave.
    StreamStall,
}

/// What moved in a planted moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// Exposure moved; the rate did not.
    Traffic,
    /// The rate moved.
    Conversion,
}

/// A moment planted in the room, with its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantedMoment {
    /// Start (platform clock).
    pub start_ms: Ms,
    /// End (exclusive).
    pub end_ms: Ms,
    /// Cause.
    pub cause: Cause,
    /// `true` for a peak, `false` for a drop.
    pub peak: bool,
    /// What moved.
    pub driver: Driver,
    /// Name of the factor responsible ("flash_sale", "pitch", "traffic").
    pub factor: String,
}

/// True effect and contribution of one factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorTruth {
    /// Factor name: "explain", "flash_sale", "coupon", "pitch", "answer",
    /// `"anchor:<id>"`.
    pub name: String,
    /// Effect on conversion (orders per online viewer per second while on).
    pub effect: f64,
    /// Seconds the factor was on.
    pub active_s: u64,
    /// Expected orders it added over the session.
    pub orders: f64,
    /// Expected GMV (yuan) it added over the session.
    pub gmv: f64,
}

/// Per-second truth series (expected GMV in yuan per second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthSeries {
    /// Start of second 0.
    pub start_ms: Ms,
    /// Step (1000 ms).
    pub step_ms: Ms,
    /// Expected GMV from the baseline conversion.
    pub baseline: Vec<f64>,
    /// Expected GMV per factor, in the order of [`Truth::factors`].
    pub factors: Vec<Vec<f64>>,
    /// Online viewers at each second.
    pub online: Vec<f64>,
}

/// Ground truth recorded next to a synthetic room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Transcript clock minus platform clock, in ms.
    pub clock_offset_ms: Ms,
    /// Baseline conversion `c0`.
    pub base_conversion: f64,
    /// Expected GMV of the baseline over the session.
    pub baseline_gmv: f64,
    /// Every factor's truth.
    pub factors: Vec<FactorTruth>,
    /// Planted moments, by start.
    pub moments: Vec<PlantedMoment>,
    /// Per-second series.
    pub series: TruthSeries,
    /// The ads' truth (`None` for a room without ads).
    pub ads: Option<AdsTruth>,
}

/// What the ads spent and brought in a room with ads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdsTruth {
    /// Total spend (yuan).
    pub spend: f64,
    /// Paid entries per yuan at a steady spend.
    pub entries_per_yuan: f64,
    /// Half-life of the delivery (seconds).
    pub half_life_s: f64,
    /// Expected paid entries over the session.
    pub paid_entries: f64,
    /// Expected GMV of the paid viewers over the session: each second's
    /// expected GMV times the paid viewers' share of those online.
    pub paid_gmv: f64,
    /// Expected paid entries per second.
    pub paid_entries_series: Vec<f64>,
    /// Expected GMV of the paid viewers per second.
    pub paid_gmv_series: Vec<f64>,
}

impl AdsTruth {
    /// Return on ad spend: `paid_gmv / spend`.
    pub fn roi(&self) -> f64 {
        self.paid_gmv / self.spend
    }
}

/// A synthetic room: the data and its truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRoom {
    /// The session, as if loaded (validated, sorted).
    pub data: SessionData,
    /// The truth.
    pub truth: Truth,
}

/// Effects of the planned factors, relative to the baseline conversion.
const EFFECTS: [(&str, f64); 5] = [
    ("explain", 0.6),
    ("flash_sale", 6.0),
    ("coupon", 0.5),
    ("pitch", 2.5),
    ("answer", 0.8),
];

/// Expected quantity of an order.
const MEAN_QUANTITY: f64 = 1.25;

/// The conversion rate second by second, and what each factor added to it.
pub(super) struct Conversion {
    /// Orders per online viewer per second.
    pub(super) conv: Vec<f64>,
    /// Expected GMV per second from the baseline conversion.
    pub(super) baseline: Vec<f64>,
    /// Expected GMV per second of each factor.
    pub(super) series: Vec<Vec<f64>>,
    /// Every factor's totals.
    pub(super) factors: Vec<FactorTruth>,
}

/// The factors' names and effects (orders per online viewer per second): the
/// planned ones of [`EFFECTS`], then every anchor but the first.
fn factors(scene: &Scene) -> (Vec<String>, Vec<f64>) {
    let cfg = scene.cfg;
    let mut names: Vec<String> = EFFECTS.iter().map(|(n, _)| n.to_string()).collect();
    let mut betas: Vec<f64> = EFFECTS
        .iter()
        .map(|(_, b)| b * cfg.base_conversion)
        .collect();
    for (i, a) in scene.cast.anchors.iter().enumerate().skip(1) {
        names.push(format!("anchor:{}", a.id));
        betas.push(scene.cast.effects[i]);
    }
    // Planted playbook effects, after the anchors.
    for e in &cfg.anchor_category_effects {
        names.push(format!("anchor:{}×{}", e.anchor, e.category));
        betas.push(e.effect * cfg.base_conversion);
    }
    if cfg.late_flash_effect != 0.0 {
        names.push("flash_sale:late".into());
        betas.push(cfg.late_flash_effect * cfg.base_conversion);
    }
    (names, betas)
}

/// The second each second's flash sale started (`usize::MAX` outside one).
fn flash_starts(scene: &Scene) -> Vec<usize> {
    let f = &scene.planted.flash;
    let mut out = vec![usize::MAX; f.len()];
    for s in 0..f.len() {
        if f[s] {
            out[s] = if s > 0 && f[s - 1] { out[s - 1] } else { s };
        }
    }
    out
}

/// Whether factor `k` (in the order of [`factors`]) is on at second `s`
/// (`flash_start`: [`flash_starts`]).
fn factor_on(scene: &Scene, s: usize, k: usize, flash_start: &[usize]) -> bool {
    let p = scene.planted;
    let anchors = scene.cast.anchors.len();
    let planted = &scene.cfg.anchor_category_effects;
    match k {
        0 => scene.explained[s] != usize::MAX,
        1 => p.flash[s],
        2 => p.coupon[s],
        3 => p.pitch[s],
        4 => scene.answered[s],
        _ if k < 4 + anchors => scene.cast.host_at[s] == k - 4,
        _ if k < 4 + anchors + planted.len() => {
            let e = &planted[k - 4 - anchors];
            let focus = scene.focus(s);
            scene.cast.anchors[scene.cast.host_at[s]].id == e.anchor
                && focus != usize::MAX
                && scene.goods.products[focus].category == e.category
        }
        _ => {
            flash_start[s] != usize::MAX
                && flash_start[s] as f64 >= scene.cfg.late_flash_after_ms as f64 / 1000.0
        }
    }
}

/// Expected amount of an order at second `s`: half buy the product in focus,
/// half a product at the mean price.
fn mean_amount(scene: &Scene, s: usize) -> f64 {
    let goods = scene.goods;
    match scene.focus(s) {
        usize::MAX => MEAN_QUANTITY * goods.mean_price,
        p => MEAN_QUANTITY * (0.5 * goods.products[p].price + 0.5 * goods.mean_price),
    }
}

/// Conversion `c_t = c0 + Σ_k β_k · x_{k,t}` at every second, with the
/// baseline's and each factor's expected GMV.
pub(super) fn conversion(scene: &Scene) -> Conversion {
    let cfg = scene.cfg;
    let n = scene.clock.n;
    let online = scene.online;
    let (names, betas) = factors(scene);
    let nf = names.len();
    let mut conv = vec![0f64; n];
    let mut baseline = vec![0f64; n];
    let mut series = vec![vec![0f64; n]; nf];
    let mut factors: Vec<FactorTruth> = names
        .iter()
        .zip(&betas)
        .map(|(nm, b)| FactorTruth {
            name: nm.clone(),
            effect: *b,
            active_s: 0,
            orders: 0.0,
            gmv: 0.0,
        })
        .collect();
    let flash_start = flash_starts(scene);
    for s in 0..n {
        let m = mean_amount(scene, s);
        let mut c = cfg.base_conversion;
        baseline[s] = online[s] * cfg.base_conversion * m;
        for k in 0..nf {
            if factor_on(scene, s, k, &flash_start) {
                c += betas[k];
                let o = online[s] * betas[k];
                series[k][s] = o * m;
                factors[k].active_s += 1;
                factors[k].orders += o;
                factors[k].gmv += o * m;
            }
        }
        conv[s] = c.max(0.0);
    }
    Conversion {
        conv,
        baseline,
        series,
        factors,
    }
}

/// The truth of a room: the conversion's totals and series, the planted
/// moments and the online viewers.
pub(super) fn truth(
    cfg: &SimConfig,
    clock: Clock,
    clock_offset_ms: Ms,
    conversion: Conversion,
    moments: Vec<PlantedMoment>,
    traffic: super::traffic::Traffic,
) -> Truth {
    let baseline_gmv = conversion.baseline.iter().sum();
    let online = traffic.online;
    let ads = (!traffic.spend.is_empty()).then(|| {
        let paid_gmv_series: Vec<f64> = (0..online.len())
            .map(|s| {
                let total =
                    conversion.baseline[s] + conversion.series.iter().map(|f| f[s]).sum::<f64>();
                let share = if online[s] > 0.0 {
                    (traffic.paid_online[s] / online[s]).min(1.0)
                } else {
                    0.0
                };
                share * total
            })
            .collect();
        AdsTruth {
            spend: traffic.spend.iter().sum(),
            entries_per_yuan: cfg.entries_per_yuan,
            half_life_s: cfg.ad_half_life_s,
            paid_entries: traffic.paid_entries.iter().sum(),
            paid_gmv: paid_gmv_series.iter().sum(),
            paid_entries_series: traffic.paid_entries,
            paid_gmv_series,
        }
    });
    Truth {
        ads,
        clock_offset_ms,
        base_conversion: cfg.base_conversion,
        baseline_gmv,
        factors: conversion.factors,
        moments,
        series: TruthSeries {
            start_ms: clock.t0,
            step_ms: 1000,
            baseline: conversion.baseline,
            factors: conversion.series,
            online,
        },
    }
}
