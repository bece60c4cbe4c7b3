//! Traffic: the online viewers as a stock of entries minus exits, walked second
//! by second, and the platform metrics sampled from it.

use rand::SeedableRng;
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
}

/// Walks the stock of viewers: Poisson entries (scaled by the traffic wave,
/// a tenth during a stall), Binomial exits (four times as likely during a
/// stall), from 30 % of the steady state.
pub(super) fn viewers(
    cfg: &SimConfig,
    clock: Clock,
    planted: &Planted,
    rng: &mut ChaCha8Rng,
) -> Traffic {
    let n = clock.n;
    let (wave, stall) = (&planted.wave, &planted.stall);
    let mut online = vec![0f64; n];
    let mut entries = vec![0u64; n];
    let mut cur = cfg.entries_per_second * cfg.mean_stay_s * 0.3;
    for s in 0..n {
        let lam = cfg.entries_per_second * wave[s] * if stall[s] { 0.1 } else { 1.0 };
        let e = poisson(rng, lam);
        let p_exit = (if stall[s] { 4.0 } else { 1.0 } / cfg.mean_stay_s).min(1.0);
        let exits = Binomial::new(cur as u64, p_exit)
            .map(|d| d.sample(rng))
            .unwrap_or(0);
        cur = (cur + e as f64 - exits as f64).max(0.0);
        online[s] = cur.floor();
        entries[s] = e;
    }
    Traffic { online, entries }
}

/// The platform metrics the room declares.
pub(super) fn metric_decls() -> Vec<MetricDecl> {
    vec![
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
    ]
}

/// Samples of the metrics, by metric and time: entries per 10 s, paid GMV per
/// minute (from `orders`, sorted by time), online viewers every 5 s and
/// product clicks per 30 s (Poisson, six per expected order, on a stream of
/// their own).
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
    samples.sort_by(|a, b| (&a.metric, a.ts_ms).cmp(&(&b.metric, b.ts_ms)));
    samples
}
