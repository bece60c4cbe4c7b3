//! The moments planted in the room, one per 20-minute slot (flash sales, pitch
//! bursts, traffic waves, stream stalls), and the coupons and lucky bags placed
//! outside them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Cause, Clock, Driver, PlantedMoment, SimConfig};
use crate::schema::{Product, Promotion, PromotionKind};

/// Length of a slot, s.
const SLOT_S: usize = 1200;
/// Length of a coupon or lucky bag, s.
const PROMO_S: usize = 240;

/// Kind of a planted event.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Flash,
    Pitch,
    Wave,
    Stall,
}

impl Slot {
    /// The kind planted in slot `i`: flash, pitch, wave, flash, pitch, wave,
    /// flash, stall, over again.
    fn of(i: usize) -> Slot {
        match i % 8 {
            1 | 4 | 7 => Slot::Flash,
            2 | 5 => Slot::Pitch,
            3 | 6 => Slot::Wave,
            _ => Slot::Stall,
        }
    }

    /// Draws the event's length in seconds; with its cause, whether it is a
    /// peak, what it moves and the factor responsible.
    fn draw(self, rng: &mut ChaCha8Rng) -> (usize, Cause, bool, Driver, &'static str) {
        match self {
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
        }
    }
}

/// The planted events and promotions, second by second.
pub(super) struct Planted {
    /// A flash sale is on.
    pub(super) flash: Vec<bool>,
    /// The flash-sale product (`usize::MAX` for none).
    pub(super) flash_product: Vec<usize>,
    /// A pitch burst is on.
    pub(super) pitch: Vec<bool>,
    /// Traffic-wave multiplier of the entries (1 outside waves).
    pub(super) wave: Vec<f64>,
    /// The stream stalls.
    pub(super) stall: Vec<bool>,
    /// A coupon is on.
    pub(super) coupon: Vec<bool>,
    /// The planted moments, by start.
    pub(super) moments: Vec<PlantedMoment>,
    /// Flash sales, coupons and lucky bags.
    pub(super) promotions: Vec<Promotion>,
}

/// Plants one event in every 20-minute slot but the first and the last (a
/// flash sale on a drawn product, listed as a promotion), then the coupons and
/// lucky bags.
pub(super) fn plant(
    cfg: &SimConfig,
    clock: Clock,
    products: &[Product],
    rng: &mut ChaCha8Rng,
) -> Planted {
    let n = clock.n;
    let mut planted = Planted {
        flash: vec![false; n],
        flash_product: vec![usize::MAX; n],
        pitch: vec![false; n],
        wave: vec![1.0f64; n],
        stall: vec![false; n],
        coupon: vec![false; n],
        moments: Vec::new(),
        promotions: Vec::new(),
    };
    for i in 1..(n / SLOT_S).saturating_sub(1) {
        let k = Slot::of(i);
        let start = i * SLOT_S + rng.random_range(300..600usize);
        let (len, cause, peak, driver, factor) = k.draw(rng);
        let end = (start + len).min(n);
        match k {
            Slot::Flash => {
                let p = rng.random_range(0..cfg.products);
                for s in start..end {
                    planted.flash[s] = true;
                    planted.flash_product[s] = p;
                }
                planted.promotions.push(Promotion {
                    id: format!("promo{}", planted.promotions.len() + 1),
                    kind: PromotionKind::FlashSale,
                    label: Some(format!("{}秒杀", products[p].name)),
                    product_id: Some(products[p].id.clone()),
                    start_ms: clock.at(start),
                    end_ms: clock.at(end),
                });
            }
            Slot::Pitch => planted.pitch[start..end].iter_mut().for_each(|x| *x = true),
            Slot::Wave => {
                for (j, w) in planted.wave[start..end].iter_mut().enumerate() {
                    let ph = j as f64 / (end - start) as f64;
                    *w = 1.0 + 2.5 * (std::f64::consts::PI * ph).sin().powi(2).max(0.0) * 1.6;
                }
            }
            Slot::Stall => planted.stall[start..end].iter_mut().for_each(|x| *x = true),
        }
        planted.moments.push(PlantedMoment {
            start_ms: clock.at(start),
            end_ms: clock.at(end),
            cause,
            peak,
            driver,
            factor: factor.into(),
        });
    }
    planted.promote(clock);
    planted
}

impl Planted {
    /// Coupons (even slots) and lucky bags (odd slots) of 4 min, a minute into
    /// each slot, where no planted event overlaps.
    fn promote(&mut self, clock: Clock) {
        let n = clock.n;
        let mut lucky_bag = vec![false; n];
        for i in 0..n / SLOT_S {
            let start = i * SLOT_S + 60;
            if start + PROMO_S > n {
                break;
            }
            let busy =
                |s: usize| self.flash[s] || self.pitch[s] || self.wave[s] > 1.0 || self.stall[s];
            if (start..start + PROMO_S).any(busy) {
                continue;
            }
            let (kind, v) = if i % 2 == 0 {
                (PromotionKind::Coupon, &mut self.coupon)
            } else {
                (PromotionKind::LuckyBag, &mut lucky_bag)
            };
            v[start..start + PROMO_S].iter_mut().for_each(|x| *x = true);
            self.promotions.push(Promotion {
                id: format!("promo{}", self.promotions.len() + 1),
                kind,
                label: None,
                product_id: None,
                start_ms: clock.at(start),
                end_ms: clock.at(start + PROMO_S),
            });
        }
    }
}
