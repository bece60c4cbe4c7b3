//! Seeded synthetic rooms with their ground truth.
//!
//! [`simulate`] generates one session of a live room: anchors in shifts,
//! products explained in segments, flash sales and coupons, platform traffic
//! waves, a stream stall, online viewers as a stock of entries minus exits,
//! comments (with questions such as "多少钱", "有没有大码", "how much"), the
//! anchor's transcript, and orders whose rate responds to explains, promotions,
//! pitch phrases and answered questions.
//!
//! # The generating model
//!
//! Time runs in 1 s steps. Each second `t`:
//!
//! * entries `e_t ~ Poisson(λ · w_t · s_t)`, where `w_t ≥ 1` is the traffic-wave
//!   multiplier and `s_t` is 0.1 during a stall (1 otherwise); exits are
//!   `Binomial(online, 1/stay)` (four times more likely during a stall);
//!   `online_{t+1} = online_t + e_t - exits_t`.
//! * ads (with [`SimConfig::ad_spend_per_hour`] > 0): spend runs in
//!   campaigns and is recorded per minute as `ad_spend`; paid entries
//!   `k · a_t` join the Poisson rate, `a_t` the spend per second carried
//!   over geometrically (half-life [`SimConfig::ad_half_life_s`], normalised)
//!   and `k` [`SimConfig::entries_per_yuan`]. [`Truth::ads`] holds the
//!   expected paid entries and the paid viewers' expected GMV (their share of
//!   the expected stock of viewers times each second's expected GMV).
//! * conversion per online viewer is **additive** in the factors:
//!   `c_t = c0 + Σ_k β_k · x_{k,t}`, with `x` the indicator of: any product
//!   explained, flash sale, coupon, pitch burst (urgency phrases), the minute
//!   after an answered question, and each non-reference anchor on shift.
//! * orders `~ Poisson(online_t · c_t)`; each order buys the focused product
//!   (flash-sale product, else the explained one) with probability 1/2, else a
//!   uniformly drawn product; quantity 1, 2 or 3 (mean 1.25).
//!
//! The true GMV contribution of factor `k` at `t` is
//! `online_t · β_k · x_{k,t} · m_t`, with `m_t` the expected order amount at `t`;
//! the baseline is `online_t · c0 · m_t`. These are recorded per second in
//! [`Truth::series`] and summed in [`FactorTruth::gmv`]: they are exact
//! expectations given the simulated traffic, so they add up to the expected GMV.
//!
//! Utterances carry the recording's clock: `utterance time = platform time +`
//! [`Truth::clock_offset_ms`].
//!
//! The same [`SimConfig`] gives the same room on any number of threads: the
//! traffic path is sequential, and comments, orders and speech are generated in
//! 10-minute chunks, each with its own seed.
//!
//! ```
//! use vap_core::options::Options;
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let cfg = SimConfig::from_json(r#"{"seed": 9, "hours": 0.5, "anchors": 2}"#).unwrap();
//! let a = simulate(&cfg).unwrap();
//! let b = simulate(&cfg).unwrap();
//! assert_eq!(a.data.orders, b.data.orders); // seeded: the same room every time
//! assert_eq!(a.truth.clock_offset_ms, b.truth.clock_offset_ms);
//! assert!(SimConfig::from_json(r#"{"seed": -1}"#).is_err());
//! ```

mod chat;
mod config;
mod events;
mod moments;
mod orders;
mod room;
mod traffic;
mod transcript;
mod truth;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use crate::error::Result;
use crate::options::Options as _;
use crate::schema::Ms;

pub use config::{AnchorCategoryEffect, SimConfig};
pub use truth::{AdsTruth, Cause, Driver, FactorTruth, PlantedMoment, SimRoom, Truth, TruthSeries};

/// Generates a synthetic room (see the module docs for the model).
pub fn simulate(cfg: &SimConfig) -> Result<SimRoom> {
    cfg.check()?;
    let clock = Clock::of(cfg);
    // One stream for the plan and the traffic path: the stages below draw
    // from it in this order.
    let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(cfg.seed, 1, 0));
    let offset = cfg
        .clock_offset_ms
        .unwrap_or_else(|| rng.random_range(-30_000..=30_000));
    let cast = room::cast(cfg, clock, &mut rng);
    let goods = room::goods(cfg, &mut rng);
    let planted = moments::plant(cfg, clock, &goods.products, &mut rng);
    let explains = room::explains(cfg, clock, &goods.products, &mut rng);
    let traffic = traffic::viewers(cfg, clock, &planted, &mut rng);
    let answers = chat::answers(clock, &planted.stall, &mut rng);

    let scene = Scene {
        cfg,
        clock,
        cast: &cast,
        goods: &goods,
        planted: &planted,
        explained: &explains.explained,
        answered: &answers.answered,
        online: &traffic.online,
    };
    let conversion = truth::conversion(&scene);
    // Comments, orders and speech: chunks on streams of their own.
    let chunks = events::generate(&events::Events::new(
        &scene,
        &conversion.conv,
        &answers.pairs,
        offset,
    ));

    let tables = events::Tables {
        cast,
        products: goods.products,
        explains,
        promotions: planted.promotions,
    };
    let mut data = events::session_data(cfg, clock, tables, chunks);
    data.metrics = traffic::metric_decls(&traffic);
    data.samples = traffic::samples(cfg, clock, &traffic, &conversion.conv, &data.orders);
    data.sort_tables();
    let truth = truth::truth(cfg, clock, offset, conversion, planted.moments, traffic);
    Ok(SimRoom { data, truth })
}

/// The session's seconds: `n` of them from `t0`.
#[derive(Clone, Copy)]
struct Clock {
    /// Number of seconds.
    n: usize,
    /// Start of second 0 (platform clock).
    t0: Ms,
}

impl Clock {
    /// The seconds of the session `cfg` asks for.
    fn of(cfg: &SimConfig) -> Clock {
        Clock {
            n: (cfg.hours * 3600.0).round() as usize,
            t0: cfg.start_ms,
        }
    }

    /// Start of second `s`.
    fn at(self, s: usize) -> Ms {
        self.t0 + s as i64 * 1000
    }
}

/// The room's plan and traffic, second by second: what the conversion and
/// the event generators read.
struct Scene<'a> {
    /// The settings.
    cfg: &'a SimConfig,
    /// The session's seconds.
    clock: Clock,
    /// Anchors, their effects and who hosts when.
    cast: &'a room::Cast,
    /// Products and their mean price.
    goods: &'a room::Goods,
    /// Planted events and promotions.
    planted: &'a moments::Planted,
    /// Product explained at each second (`usize::MAX` for none).
    explained: &'a [usize],
    /// The minute after an answered question.
    answered: &'a [bool],
    /// Online viewers at each second.
    online: &'a [f64],
}

impl Scene<'_> {
    /// The product in focus at second `s`: the flash-sale product, else the
    /// explained one (`usize::MAX` for none).
    fn focus(&self, s: usize) -> usize {
        if self.planted.flash_product[s] != usize::MAX {
            self.planted.flash_product[s]
        } else {
            self.explained[s]
        }
    }
}

/// A Poisson draw, 0 for a rate that is not positive (or not finite).
fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda)
        .map(|d| d.sample(rng) as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            hours: 1.5,
            ..Default::default()
        }
    }

    #[test]
    fn same_seed_same_room_any_thread_count() {
        let _threads = crate::threads::TEST_THREADS
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        crate::threads::set_num_threads(1).unwrap();
        let a = simulate(&small(3)).unwrap();
        crate::threads::set_num_threads(2).unwrap();
        let b = simulate(&small(3)).unwrap();
        crate::threads::set_num_threads(0).unwrap();
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap()
        );
        let c = simulate(&small(4)).unwrap();
        assert_ne!(a.data.orders.len(), c.data.orders.len());
    }

    #[test]
    fn truth_adds_up_and_data_is_plausible() {
        let r = simulate(&small(1)).unwrap();
        let d = &r.data;
        assert!(!d.comments.is_empty() && !d.orders.is_empty() && !d.utterances.is_empty());
        assert!(d.comments.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
        assert!(d.orders.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
        let t = &r.truth;
        let per_second: f64 = t.series.baseline.iter().sum::<f64>()
            + t.series
                .factors
                .iter()
                .map(|f| f.iter().sum::<f64>())
                .sum::<f64>();
        let totals: f64 = t.baseline_gmv + t.factors.iter().map(|f| f.gmv).sum::<f64>();
        assert!(
            (per_second - totals).abs() < 1e-6 * totals,
            "{per_second} vs {totals}"
        );
        // Realised GMV is close to its expectation (Poisson noise only).
        let gross = d.gmv().gross;
        assert!(
            (gross - totals).abs() / totals < 0.1,
            "gross {gross} vs expected {totals}"
        );
        assert!(!t.moments.is_empty());
        assert!(d.comments.iter().any(|c| c.text.contains("多少钱")));
        assert!(d.comments.iter().any(|c| c.text.contains("how much")));
        // The platform gmv series agrees with orders.
        assert!(d.cross_check_gmv().unwrap().relative < 1e-6);
        let offset = t.clock_offset_ms;
        assert!(offset.abs() <= 30_000);
    }

    #[test]
    fn tiny_and_huge_configs() {
        let tiny = simulate(&SimConfig {
            hours: 1.0 / 60.0,
            anchors: 1,
            products: 1,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(tiny.data.session.duration_ms(), 60_000);
        crate::ingest::validate_session(&tiny.data, &Default::default()).unwrap();
        let e = simulate(&SimConfig {
            entries_per_second: 9_000.0,
            mean_stay_s: 80_000.0,
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("limits"), "{e}");
        let e = serde_json::from_str::<SimConfig>(r#"{"seeed": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn bad_config_is_an_error() {
        let e = simulate(&SimConfig {
            hours: -1.0,
            anchors: 0,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("hours") && e.to_string().contains("anchors"));
    }
}
