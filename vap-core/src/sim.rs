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

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::options::Options as _;
use crate::schema::*;

/// Settings of a synthetic room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seed; the same config gives the same room.
    pub seed: u64,
    /// Session length in hours (at most 24).
    pub hours: f64,
    /// Session start, ms UTC (default 2026-11-25 20:00 in Beijing).
    #[serde(alias = "start", with = "crate::options::instant")]
    pub start_ms: Ms,
    /// Number of anchors (2–4 typical; at least 1).
    pub anchors: usize,
    /// Number of products (20–60 typical; at least 1).
    pub products: usize,
    /// Mean entries per second outside traffic waves.
    pub entries_per_second: f64,
    /// Mean seconds a viewer stays.
    pub mean_stay_s: f64,
    /// Comments per online viewer per second.
    pub comment_rate: f64,
    /// Baseline conversion `c0` (orders per online viewer per second).
    pub base_conversion: f64,
    /// Clock offset of the transcript to the platform clock, ms; `None` draws
    /// one uniformly in ±30 s.
    pub clock_offset_ms: Option<Ms>,
    /// Room id.
    pub room_id: String,
    /// Session id; `None` uses `"sim-<seed>"`.
    pub session_id: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            hours: 4.0,
            start_ms: 1_795_608_000_000,
            anchors: 3,
            products: 30,
            entries_per_second: 12.0,
            mean_stay_s: 150.0,
            comment_rate: 0.004,
            base_conversion: 0.00003,
            clock_offset_ms: None,
            room_id: "sim-room".into(),
            session_id: None,
        }
    }
}

impl SimConfig {
    /// The benchmark size: a 12-hour session with about 2 M comments and
    /// 200 k orders.
    pub fn full_scale(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            hours: 12.0,
            entries_per_second: 130.0,
            comment_rate: 0.002,
            base_conversion: 0.0001,
            ..Default::default()
        }
    }
}

impl crate::options::Options for SimConfig {
    const WHAT: &'static str = "simulation config";

    /// Every setting in range, the room's volume bounded before anything is
    /// allocated; all problems listed.
    fn check(&self) -> Result<()> {
        let mut bad = Vec::new();
        if !(self.hours >= 1.0 / 60.0 && self.hours <= 24.0) {
            bad.push(format!(
                "hours must be in [1/60, 24] (at least a minute), got {}",
                self.hours
            ));
        }
        if !(crate::schema::MIN_TIME_MS..crate::schema::MAX_TIME_MS - 86_400_000)
            .contains(&self.start_ms)
        {
            bad.push(format!(
                "start_ms {} is not between 2000 and 2100",
                self.start_ms
            ));
        }
        if self.anchors == 0 || self.anchors > 16 {
            bad.push(format!("anchors must be in 1..=16, got {}", self.anchors));
        }
        if self.products == 0 || self.products > 10_000 {
            bad.push(format!(
                "products must be in 1..=10000, got {}",
                self.products
            ));
        }
        for (n, v) in [
            ("entries_per_second", self.entries_per_second),
            ("mean_stay_s", self.mean_stay_s),
            ("comment_rate", self.comment_rate),
            ("base_conversion", self.base_conversion),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                bad.push(format!("{n} must be a finite non-negative number, got {v}"));
            }
        }
        if !(1.0..=86_400.0).contains(&self.mean_stay_s) {
            bad.push(format!(
                "mean_stay_s must be in [1, 86400], got {}",
                self.mean_stay_s
            ));
        }
        if self.entries_per_second > 10_000.0
            || self.comment_rate > 1.0
            || self.base_conversion > 0.01
        {
            bad.push("entries_per_second ≤ 10000, comment_rate ≤ 1 and base_conversion ≤ 0.01 are the limits".into());
        }
        // Bound the volume before allocating it: steady-state online viewers are
        // entries × stay; comments and orders scale with them.
        let online = self.entries_per_second * self.mean_stay_s;
        let seconds = self.hours * 3600.0;
        let comments = online * self.comment_rate * seconds;
        let orders = online * self.base_conversion * 12.0 * seconds;
        if comments > 2.0e7 || orders > 5.0e6 {
            bad.push(format!(
                "the room would hold about {comments:.0} comments and {orders:.0} orders; the simulator's limits are 20 M and 5 M"
            ));
        }
        if let Some(sid) = &self.session_id {
            if let Err(e) = crate::ids::check_id(sid) {
                bad.push(format!("session_id: {e}"));
            }
        }
        if let Err(e) = crate::ids::check_id(&self.room_id) {
            bad.push(format!("room_id: {e}"));
        }
        crate::options::all_or_nothing(Self::WHAT, bad)
    }
}

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
}

/// A synthetic room: the data and its truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRoom {
    /// The session, as if loaded (validated, sorted).
    pub data: SessionData,
    /// The truth.
    pub truth: Truth,
}

const SURNAMES: &[&str] = &["小美", "阿杰", "Lily", "大雄", "Coco", "安娜"];
const GOODS: &[(&str, &str, f64)] = &[
    ("精华液", "美妆", 299.0),
    ("面霜", "美妆", 199.0),
    ("口红", "美妆", 129.0),
    ("羽绒服", "服饰", 599.0),
    ("卫衣", "服饰", 159.0),
    ("牛仔裤", "服饰", 189.0),
    ("坚果礼盒", "食品", 89.0),
    ("咖啡豆", "食品", 69.0),
    ("保温杯", "家居", 79.0),
    ("四件套", "家居", 259.0),
    ("running shoes", "运动", 399.0),
    ("yoga mat", "运动", 99.0),
];
const QUESTIONS: &[&str] = &[
    "多少钱",
    "有没有大码",
    "how much",
    "怎么买",
    "链接在哪",
    "什么时候发货",
    "有优惠券吗",
    "is it in stock?",
];
const CHATTER: &[&str] = &[
    "好看",
    "主播好美",
    "666",
    "已拍",
    "love it",
    "买了买了",
    "来了来了",
    "支持",
    "nice",
    "质量怎么样",
];
const URGENCY: &[&str] = &[
    "最后100单",
    "限时秒杀",
    "抓紧拍",
    "last chance",
    "马上涨价",
    "库存不多了",
];
const PRICE: &[&str] = &["到手价", "直降", "买一送一", "券后"];

const CHUNK_S: usize = 600;

#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Flash,
    Pitch,
    Wave,
    Stall,
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda)
        .map(|d| d.sample(rng) as u64)
        .unwrap_or(0)
}

/// Generates a synthetic room (see the module docs for the model).
pub fn simulate(cfg: &SimConfig) -> Result<SimRoom> {
    cfg.check()?;
    let n = (cfg.hours * 3600.0).round() as usize;
    let t0 = cfg.start_ms;
    let at = |s: usize| t0 + s as i64 * 1000;
    let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(cfg.seed, 1, 0));
    let session_id = cfg
        .session_id
        .clone()
        .unwrap_or_else(|| format!("sim-{}", cfg.seed));
    let offset = cfg
        .clock_offset_ms
        .unwrap_or_else(|| rng.random_range(-30_000..=30_000));

    // ---------- people
    let anchors: Vec<Anchor> = (0..cfg.anchors)
        .map(|i| Anchor {
            id: format!("a{}", i + 1),
            name: SURNAMES[i % SURNAMES.len()].to_string(),
        })
        .collect();
    let anchor_effects: Vec<f64> = (0..cfg.anchors)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                cfg.base_conversion * rng.random_range(-0.3..0.4)
            }
        })
        .collect();
    let mut host_at = vec![0usize; n];
    let mut shifts = Vec::new();
    {
        let mut s = 0usize;
        let mut k = 0usize;
        while s < n {
            let len = rng.random_range(3600..=7200usize).min(n - s);
            let len = if n - s - len < 900 { n - s } else { len };
            let a = k % cfg.anchors;
            host_at[s..s + len].iter_mut().for_each(|h| *h = a);
            shifts.push(Shift {
                anchor_id: anchors[a].id.clone(),
                role: ShiftRole::Host,
                start_ms: at(s),
                end_ms: at(s + len),
            });
            if cfg.anchors > 1 {
                let co = (a + 1) % cfg.anchors;
                shifts.push(Shift {
                    anchor_id: anchors[co].id.clone(),
                    role: ShiftRole::CoHost,
                    start_ms: at(s),
                    end_ms: at(s + len / 2),
                });
            }
            s += len;
            k += 1;
        }
        shifts.push(Shift {
            anchor_id: anchors[cfg.anchors - 1].id.clone(),
            role: ShiftRole::FieldControl,
            start_ms: at(0),
            end_ms: at(n),
        });
    }

    // ---------- goods
    let products: Vec<Product> = (0..cfg.products)
        .map(|i| {
            let (g, cat, p) = GOODS[i % GOODS.len()];
            let series = i / GOODS.len();
            let name = if series == 0 {
                g.to_string()
            } else {
                format!("{g} {}", series + 1)
            };
            let price = (p * rng.random_range(0.8..1.2f64)).round();
            Product {
                id: format!("p{:02}", i + 1),
                name: name.clone(),
                price,
                category: cat.to_string(),
                aliases: vec![format!("{}号链接", i + 1), format!("{name}同款")],
            }
        })
        .collect();
    let mean_price = products.iter().map(|p| p.price).sum::<f64>() / products.len() as f64;

    // ---------- planted events, one per 20-minute slot (not the first/last)
    let slot_len = 1200usize;
    let n_slots = n / slot_len;
    let mut flash = vec![false; n];
    let mut flash_product = vec![usize::MAX; n];
    let mut pitch = vec![false; n];
    let mut wave = vec![1.0f64; n];
    let mut stall = vec![false; n];
    let mut moments = Vec::new();
    let mut promotions = Vec::new();
    let mut kinds: Vec<Slot> = Vec::new();
    for i in 0..n_slots.saturating_sub(1) {
        if i == 0 {
            continue;
        }
        let k = match i % 8 {
            1 | 4 | 7 => Slot::Flash,
            2 | 5 => Slot::Pitch,
            3 | 6 => Slot::Wave,
            _ => Slot::Stall,
        };
        kinds.push(k);
        let start = i * slot_len + rng.random_range(300..600usize);
        let (len, cause, peak, driver, factor) = match k {
            Slot::Flash => (
                rng.random_range(180..=300usize),
                Cause::FlashSale,
                true,
                Driver::Conversion,
                "flash_sale",
            ),
            Slot::Pitch => (
                rng.random_range(150..=240usize),
                Cause::PitchBurst,
                true,
                Driver::Conversion,
                "pitch",
            ),
            Slot::Wave => (
                rng.random_range(240..=420usize),
                Cause::TrafficWave,
                true,
                Driver::Traffic,
                "traffic",
            ),
            Slot::Stall => (
                rng.random_range(90..=180usize),
                Cause::StreamStall,
                false,
                Driver::Traffic,
                "traffic",
            ),
        };
        let end = (start + len).min(n);
        match k {
            Slot::Flash => {
                let p = rng.random_range(0..cfg.products);
                for s in start..end {
                    flash[s] = true;
                    flash_product[s] = p;
                }
                promotions.push(Promotion {
                    id: format!("promo{}", promotions.len() + 1),
                    kind: PromotionKind::FlashSale,
                    label: Some(format!("{}秒杀", products[p].name)),
                    product_id: Some(products[p].id.clone()),
                    start_ms: at(start),
                    end_ms: at(end),
                });
            }
            Slot::Pitch => pitch[start..end].iter_mut().for_each(|x| *x = true),
            Slot::Wave => {
                for (j, w) in wave[start..end].iter_mut().enumerate() {
                    let ph = j as f64 / (end - start) as f64;
                    *w = 1.0 + 2.5 * (std::f64::consts::PI * ph).sin().powi(2).max(0.0) * 1.6;
                }
            }
            Slot::Stall => stall[start..end].iter_mut().for_each(|x| *x = true),
        }
        moments.push(PlantedMoment {
            start_ms: at(start),
            end_ms: at(end),
            cause,
            peak,
            driver,
            factor: factor.into(),
        });
    }
    // Coupons and lucky bags, outside planted events.
    let mut coupon = vec![false; n];
    let mut lucky_bag = vec![false; n];
    for i in 0..n_slots {
        let start = i * slot_len + 60;
        if start + 240 > n {
            break;
        }
        let busy = |s: usize| flash[s] || pitch[s] || wave[s] > 1.0 || stall[s];
        if (start..start + 240).any(busy) {
            continue;
        }
        let (kind, v) = if i % 2 == 0 {
            (PromotionKind::Coupon, &mut coupon)
        } else {
            (PromotionKind::LuckyBag, &mut lucky_bag)
        };
        v[start..start + 240].iter_mut().for_each(|x| *x = true);
        promotions.push(Promotion {
            id: format!("promo{}", promotions.len() + 1),
            kind,
            label: None,
            product_id: None,
            start_ms: at(start),
            end_ms: at(start + 240),
        });
    }

    // ---------- explain segments, back to back with short gaps
    let mut explained = vec![usize::MAX; n];
    let mut segments = Vec::new();
    {
        let mut s = rng.random_range(30..120usize);
        let mut order: Vec<usize> = (0..cfg.products).collect();
        let mut k = 0usize;
        while s < n {
            if k.is_multiple_of(cfg.products) {
                use rand::seq::SliceRandom;
                order.shuffle(&mut rng);
            }
            let p = order[k % cfg.products];
            let len = rng.random_range(180..=480usize).min(n - s);
            explained[s..s + len].iter_mut().for_each(|x| *x = p);
            for kind in [SegmentKind::Explain, SegmentKind::Pinned] {
                segments.push(ProductSegment {
                    product_id: products[p].id.clone(),
                    kind,
                    start_ms: at(s),
                    end_ms: at(s + len),
                });
            }
            s += len + rng.random_range(20..=120usize);
            k += 1;
        }
        for p in &products {
            segments.push(ProductSegment {
                product_id: p.id.clone(),
                kind: SegmentKind::OnShelf,
                start_ms: at(0),
                end_ms: at(n),
            });
        }
    }

    // ---------- traffic: sequential stock of viewers
    let mut online = vec![0f64; n];
    let mut entries = vec![0u64; n];
    let mut cur = cfg.entries_per_second * cfg.mean_stay_s * 0.3;
    for s in 0..n {
        let lam = cfg.entries_per_second * wave[s] * if stall[s] { 0.1 } else { 1.0 };
        let e = poisson(&mut rng, lam);
        let p_exit = (if stall[s] { 4.0 } else { 1.0 } / cfg.mean_stay_s).min(1.0);
        let exits = Binomial::new(cur as u64, p_exit)
            .map(|d| d.sample(&mut rng))
            .unwrap_or(0);
        cur = (cur + e as f64 - exits as f64).max(0.0);
        online[s] = cur.floor();
        entries[s] = e;
    }

    // ---------- answered questions: the anchor answers one about every 3 min
    let mut answers: Vec<(usize, usize)> = Vec::new(); // (question second, answer second)
    {
        let mut s = rng.random_range(60..240usize);
        while s + 40 < n {
            if !stall[s] {
                answers.push((s, s + rng.random_range(10..=40usize)));
            }
            s += rng.random_range(120..=300usize);
        }
    }
    let mut answered = vec![false; n];
    for &(_, a) in &answers {
        answered[a..(a + 60).min(n)]
            .iter_mut()
            .for_each(|x| *x = true);
    }

    // ---------- conversion and truth
    // Effects relative to the baseline conversion.
    let effects = [
        ("explain", 0.6),
        ("flash_sale", 6.0),
        ("coupon", 0.5),
        ("pitch", 2.5),
        ("answer", 0.8),
    ];
    let mut names: Vec<String> = effects.iter().map(|(n, _)| n.to_string()).collect();
    let mut betas: Vec<f64> = effects
        .iter()
        .map(|(_, b)| b * cfg.base_conversion)
        .collect();
    for (i, a) in anchors.iter().enumerate().skip(1) {
        names.push(format!("anchor:{}", a.id));
        betas.push(anchor_effects[i]);
    }
    let nf = names.len();
    let x_at = |s: usize, k: usize| -> bool {
        match k {
            0 => explained[s] != usize::MAX,
            1 => flash[s],
            2 => coupon[s],
            3 => pitch[s],
            4 => answered[s],
            _ => host_at[s] == k - 4,
        }
    };
    let focus = |s: usize| -> usize {
        if flash_product[s] != usize::MAX {
            flash_product[s]
        } else {
            explained[s]
        }
    };
    let eq = 1.25;
    let m_at = |s: usize| -> f64 {
        match focus(s) {
            usize::MAX => eq * mean_price,
            p => eq * (0.5 * products[p].price + 0.5 * mean_price),
        }
    };
    let mut conv = vec![0f64; n];
    let mut baseline = vec![0f64; n];
    let mut fser = vec![vec![0f64; n]; nf];
    let mut ftruth: Vec<FactorTruth> = names
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
    for s in 0..n {
        let m = m_at(s);
        let mut c = cfg.base_conversion;
        baseline[s] = online[s] * cfg.base_conversion * m;
        for k in 0..nf {
            if x_at(s, k) {
                c += betas[k];
                let o = online[s] * betas[k];
                fser[k][s] = o * m;
                ftruth[k].active_s += 1;
                ftruth[k].orders += o;
                ftruth[k].gmv += o * m;
            }
        }
        conv[s] = c.max(0.0);
    }

    // ---------- chunked, seeded, parallel generation of events
    let n_chunks = n.div_ceil(CHUNK_S);
    let n_viewers = ((cfg.entries_per_second * n as f64 * 0.6) as u64).max(500);
    struct Chunk {
        comments: Vec<Comment>,
        orders: Vec<Order>,
        refunds: Vec<Order>,
        utterances: Vec<Utterance>,
    }
    let answer_q: std::collections::HashMap<usize, usize> =
        answers.iter().map(|&(q, a)| (q, a)).collect();
    let answer_a: std::collections::HashMap<usize, usize> =
        answers.iter().map(|&(q, a)| (a, q)).collect();
    let chunks: Vec<Chunk> = crate::threads::install(|| {
        (0..n_chunks)
            .into_par_iter()
            .map(|c| {
                let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(cfg.seed, 2, c as u64));
                let mut out = Chunk {
                    comments: vec![],
                    orders: vec![],
                    refunds: vec![],
                    utterances: vec![],
                };
                let lo = c * CHUNK_S;
                let hi = ((c + 1) * CHUNK_S).min(n);
                let viewer = |rng: &mut ChaCha8Rng| {
                    let u: f64 = rng.random();
                    format!("u{}", (u * u * n_viewers as f64) as u64)
                };
                for s in lo..hi {
                    let t = at(s);
                    // comments
                    let boost = if flash[s] { 2.0 } else { 1.0 };
                    let k = poisson(&mut rng, online[s] * cfg.comment_rate * boost);
                    for j in 0..k {
                        let ts = t + (j * 1000 / k.max(1)) as i64;
                        let r: f64 = rng.random();
                        let text = if r < 0.15 {
                            QUESTIONS.choose(&mut rng).unwrap().to_string()
                        } else if r < 0.25 {
                            let p = if focus(s) != usize::MAX {
                                focus(s)
                            } else {
                                rng.random_range(0..cfg.products)
                            };
                            format!(
                                "{}{}",
                                products[p].aliases[0],
                                ["还有吗", "拍了", " 多少钱"].choose(&mut rng).unwrap()
                            )
                        } else {
                            CHATTER.choose(&mut rng).unwrap().to_string()
                        };
                        out.comments.push(Comment {
                            ts_ms: ts,
                            viewer_id: viewer(&mut rng),
                            text,
                        });
                    }
                    if let Some(_a) = answer_q.get(&s) {
                        out.comments.push(Comment {
                            ts_ms: t + 500,
                            viewer_id: viewer(&mut rng),
                            text: "有没有大码? 多少钱".into(),
                        });
                    }
                    // orders
                    let k = poisson(&mut rng, online[s] * conv[s]);
                    for j in 0..k {
                        let ts = t + (j * 1000 / k.max(1)) as i64;
                        let p = if focus(s) != usize::MAX && rng.random_bool(0.5) {
                            focus(s)
                        } else {
                            rng.random_range(0..cfg.products)
                        };
                        let r: f64 = rng.random();
                        let q = if r < 0.8 {
                            1
                        } else if r < 0.95 {
                            2
                        } else {
                            3
                        };
                        let id = format!("o{}-{}-{}", cfg.seed, s, j);
                        let v = viewer(&mut rng);
                        let amount = products[p].price * q as f64;
                        if rng.random_bool(0.03) {
                            let rt = ts + rng.random_range(600_000..7_200_000i64);
                            if rt < at(n) {
                                out.refunds.push(Order {
                                    id: id.clone(),
                                    ts_ms: rt,
                                    product_id: products[p].id.clone(),
                                    quantity: q,
                                    amount,
                                    status: OrderStatus::Refunded,
                                    viewer_id: Some(v.clone()),
                                });
                            }
                        }
                        out.orders.push(Order {
                            id,
                            ts_ms: ts,
                            product_id: products[p].id.clone(),
                            quantity: q,
                            amount,
                            status: OrderStatus::Paid,
                            viewer_id: Some(v),
                        });
                    }
                }
                // speech: utterances of 3–8 s, on the recording's clock
                let mut s = lo;
                while s < hi {
                    let len = rng.random_range(3..=8usize).min(n - s);
                    if len == 0 {
                        break;
                    }
                    if stall[s] {
                        s += len;
                        continue;
                    }
                    let speaker = anchors[host_at[s]].id.clone();
                    let text =
                        if let Some(&q) = (s..s + len).find_map(|x| answer_a.get(&x)).as_ref() {
                            let p = if focus(*q) != usize::MAX {
                                focus(*q)
                            } else {
                                0
                            };
                            format!(
                                "这位宝宝问有没有大码, 有的, {}到手价{}元, how much? {} yuan",
                                products[p].name, products[p].price, products[p].price
                            )
                        } else if pitch[s] {
                            format!(
                                "{}! {}, {}",
                                URGENCY.choose(&mut rng).unwrap(),
                                URGENCY.choose(&mut rng).unwrap(),
                                URGENCY.choose(&mut rng).unwrap()
                            )
                        } else if flash[s] {
                            let p = &products[flash_product[s]];
                            format!("{}秒杀开始, {}只要{}元", p.aliases[0], p.name, p.price)
                        } else if explained[s] != usize::MAX {
                            let p = &products[explained[s]];
                            if rng.random_bool(0.3) {
                                format!(
                                    "{}{}{}元, 就是{}",
                                    p.name,
                                    PRICE.choose(&mut rng).unwrap(),
                                    p.price,
                                    p.aliases[0]
                                )
                            } else {
                                format!("我们来看这款{}, 质量非常好, 大家可以看一下细节", p.name)
                            }
                        } else {
                            "欢迎新进直播间的宝宝们, 点点关注不迷路".to_string()
                        };
                    out.utterances.push(Utterance {
                        start_ms: at(s) + offset,
                        end_ms: at(s + len) + offset - 200,
                        text,
                        speaker: Some(speaker),
                        confidence: Some((rng.random_range(0.70..0.99f64) * 100.0).round() / 100.0),
                    });
                    s += len;
                }
                out
            })
            .collect()
    });

    let mut data = SessionData::new(
        Room {
            id: cfg.room_id.clone(),
            name: "vap 演示直播间 (synthetic)".into(),
            platform: Some("douyin".into()),
        },
        Session {
            id: session_id,
            room_id: cfg.room_id.clone(),
            start_ms: t0,
            end_ms: at(n),
            timezone: "Asia/Shanghai".into(),
            title: Some(format!("synthetic session, seed {}", cfg.seed)),
            recordings: vec![],
        },
    );
    let mut refunds = Vec::new();
    for ch in chunks {
        data.comments.extend(ch.comments);
        data.orders.extend(ch.orders);
        refunds.extend(ch.refunds);
        data.utterances.extend(ch.utterances);
    }
    data.orders.extend(refunds);
    data.orders.sort_by_key(|o| o.ts_ms);
    data.anchors = anchors;
    data.shifts = shifts;
    data.shifts.sort_by_key(|s| (s.start_ms, s.end_ms));
    data.products = products;
    data.segments = segments;
    data.segments.sort_by_key(|s| (s.start_ms, s.end_ms));
    data.promotions = promotions;
    data.promotions.sort_by_key(|p| (p.start_ms, p.end_ms));

    // ---------- platform metrics
    data.metrics = vec![
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
    ];
    let mut samples = Vec::new();
    for s in (0..n).step_by(10) {
        let e: u64 = entries[s..(s + 10).min(n)].iter().sum();
        samples.push(MetricSample {
            metric: "entries".into(),
            ts_ms: at((s + 10).min(n)),
            value: e as f64,
        });
    }
    let mut paid_per_min = vec![0f64; n.div_ceil(60)];
    for o in data.orders.iter().filter(|o| o.status == OrderStatus::Paid) {
        let m = ((o.ts_ms - t0) / 60_000) as usize;
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
    data.samples = samples;
    data.sort_tables();

    let baseline_gmv = baseline.iter().sum();
    Ok(SimRoom {
        data,
        truth: Truth {
            clock_offset_ms: offset,
            base_conversion: cfg.base_conversion,
            baseline_gmv,
            factors: ftruth,
            moments,
            series: TruthSeries {
                start_ms: t0,
                step_ms: 1000,
                baseline,
                factors: fser,
                online,
            },
        },
    })
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
        crate::io::validate_session(&tiny.data, &Default::default()).unwrap();
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
