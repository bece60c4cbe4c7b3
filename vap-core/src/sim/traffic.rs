//! Traffic: the online viewers as a stock of entries minus exits, walked second
//! by second, and the platform metrics sampled from it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::moments::Planted;
use super::{poisson, Clock, SimConfig};
use crate::schema::{MetricDecl, MetricKind, MetricSample, Order, OrderStatus};

/// The traffic path.
pub(super) struct Traffic {
    /// Online viewers at each second.
    pub(super) online: Vec<f64>,
    /// Entries in each second.
    pub(super) entries: Vec<u64>,
    /// Ad spend in each minute (yuan; empty without ads).
    pub(super) spend: Vec<f64>,
    /// Expected paid entries in each second (empty without ads).
    pub(super) paid_entries: Vec<f64>,
    /// Expected paid viewers online at each second (empty without ads).
    pub(super) paid_online: Vec<f64>,
}

/// The ad spend per minute: campaigns of 5–20 minutes at 0.5–1.5 × their
/// mean level, with pauses of 5–25 minutes, from a stream of their own (so a
/// room without ads draws what it drew before ads existed). The level is set
/// so the session's mean is `ad_spend_per_hour`.
fn spend_schedule(cfg: &SimConfig, minutes: usize) -> Vec<f64> {
    if cfg.ad_spend_per_hour <= 0.0 || minutes == 0 {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(cfg.seed, 7, 0));
    let mut spend = vec![0f64; minutes];
    let mut m = rng.random_range(0..10usize);
    while m < minutes {
        let on = rng.random_range(5..=20usize);
        let level: f64 = rng.random_range(0.5..1.5);
        for v in spend.iter_mut().skip(m).take(on) {
            *v = level;
        }
        m += on + rng.random_range(5..=25usize);
    }
    let total: f64 = spend.iter().sum();
    if total <= 0.0 {
        spend[0] = 1.0;
    }
    let scale = cfg.ad_spend_per_hour / 60.0 * minutes as f64 / spend.iter().sum::<f64>();
    let spend: Vec<f64> = spend
        .iter()
        .map(|v| (v * scale * 100.0).round() / 100.0)
        .collect();
    // a spend too small to record (every minute rounds to 0 fen) is no ads
    if spend.iter().all(|&v| v <= 0.0) {
        return Vec::new();
    }
    spend
}

/// Walks the stock of viewers: Poisson entries (natural ones scaled by the
/// traffic wave, plus the paid ones the ads deliver; a tenth of both during a
/// stall), Binomial exits (four times as likely during a stall), from 30 % of
/// the steady state. Paid entries per second are `entries_per_yuan ×` the
/// spend per second carried over geometrically with half-life
/// `ad_half_life_s` (normalised: a steady spend brings `entries_per_yuan`
/// per yuan); the paid viewers' expected stock leaves at the same rate.
pub(super) fn viewers(
    cfg: &SimConfig,
    clock: Clock,
    planted: &Planted,
    rng: &mut ChaCha8Rng,
) -> Traffic {
    let n = clock.n;
    let (wave, stall) = (&planted.wave, &planted.stall);
    let spend = spend_schedule(cfg, n.div_ceil(60));
    let ads = !spend.is_empty();
    let keep = if cfg.ad_half_life_s > 0.0 {
        0.5f64.powf(1.0 / cfg.ad_half_life_s)
    } else {
        0.0
    };
    let mut online = vec![0f64; n];
    let mut entries = vec![0u64; n];
    let (mut paid_entries, mut paid_online) = if ads {
        (vec![0f64; n], vec![0f64; n])
    } else {
        (Vec::new(), Vec::new())
    };
    let mut cur = cfg.entries_per_second * cfg.mean_stay_s * 0.3;
    let (mut carried, mut paid_cur) = (0f64, 0f64);
    for s in 0..n {
        let slow = if stall[s] { 0.1 } else { 1.0 };
        let p_exit = (if stall[s] { 4.0 } else { 1.0 } / cfg.mean_stay_s).min(1.0);
        let mut lam = cfg.entries_per_second * wave[s] * slow;
        if ads {
            carried = keep * carried + (1.0 - keep) * spend[s / 60] / 60.0;
            let paid = cfg.entries_per_yuan * carried * slow;
            paid_cur = paid_cur * (1.0 - p_exit) + paid;
            paid_entries[s] = paid;
            paid_online[s] = paid_cur;
            lam += paid;
        }
        let e = poisson(rng, lam);
        let exits = Binomial::new(cur as u64, p_exit)
            .map(|d| d.sample(rng))
            .unwrap_or(0);
        cur = (cur + e as f64 - exits as f64).max(0.0);
        online[s] = cur.floor();
        entries[s] = e;
    }
    Traffic {
        online,
        entries,
        spend,
        paid_entries,
        paid_online,
    }
}

/// The platform metrics the room declares (`ad_spend` only with ads).
pub(super) fn metric_decls(traffic: &Traffic) -> Vec<MetricDecl> {
    let mut decls = vec![];
    if !traffic.spend.is_empty() {
        decls.push(MetricDecl {
            name: "ad_spend".into(),
            kind: MetricKind::Flow,
            unit: "yuan".into(),
        });
    }
    decls.extend([
        MetricDecl {
            name: "entries".into(),
            kind: MetricKind::Flow,
            unit: "viewers".into(),
        },
        MetricDecl {
            name: "gmv".into(),
            kind: MetricKind::Flow,
            unit: "yuan".into(),
        },
        MetricDecl {
            name: "online_viewers".into(),
            kind: MetricKind::Gauge,
            unit: "viewers".into(),
        },
        MetricDecl {
            name: "product_clicks".into(),
            kind: MetricKind::Flow,
            unit: "clicks".into(),
        },
    ]);
    decls
}

/// Samples of the metrics, by metric and time: entries per 10 s, paid GMV per
/// minute (from `orders`, sorted by time), online viewers every 5 s and
/// product clicks per 30 s (Poisson, six per expected order, on a stream of
/// their own), the ad spend per minute (with ads).
pub(super) fn samples(
    cfg: &SimConfig,
    clock: Clock,
    traffic: &Traffic,
    conv: &[f64],
    orders: &[Order],
) -> Vec<MetricSample> {
    let (n, at) = (clock.n, |s| clock.at(s));
    let online = &traffic.online;
    let mut samples = Vec::new();
    for s in (0..n).step_by(10) {
        let e: u64 = traffic.entries[s..(s + 10).min(n)].iter().sum();
        samples.push(MetricSample {
            metric: "entries".into(),
            ts_ms: at((s + 10).min(n)),
            value: e as f64,
        });
    }
    let mut paid_per_min = vec![0f64; n.div_ceil(60)];
    for o in orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        let m = ((o.ts_ms - clock.t0) / 60_000) as usize;
        let last = paid_per_min.len() - 1;
        paid_per_min[m.min(last)] += o.amount;
    }
    for (m, v) in paid_per_min.iter().enumerate() {
        let ts = at(((m + 1) * 60).min(n));
        samples.push(MetricSample {
            metric: "gmv".into(),
            ts_ms: ts,
            value: (*v * 100.0).round() / 100.0,
        });
    }
    for s in (0..n).step_by(5) {
        samples.push(MetricSample {
            metric: "online_viewers".into(),
            ts_ms: at(s),
            value: online[s],
        });
    }
    let mut crng = ChaCha8Rng::seed_from_u64(crate::seed::mix(cfg.seed, 3, 0));
    for s in (0..n).step_by(30) {
        let lam: f64 = (s..(s + 30).min(n))
            .map(|x| online[x] * conv[x] * 6.0)
            .sum();
        samples.push(MetricSample {
            metric: "product_clicks".into(),
            ts_ms: at((s + 30).min(n)),
            value: poisson(&mut crng, lam) as f64,
        });
    }
    for (m, v) in traffic.spend.iter().enumerate() {
        samples.push(MetricSample {
            metric: "ad_spend".into(),
            ts_ms: at(((m + 1) * 60).min(n)),
            value: *v,
        });
    }
    samples.sort_by(|a, b| (&a.metric, a.ts_ms).cmp(&(&b.metric, b.ts_ms)));
    samples
}
