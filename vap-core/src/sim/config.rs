//! The settings of a synthetic room: [`SimConfig`], its defaults and its
//! checks.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::schema::Ms;

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
    /// Mean ad spend in yuan per hour (default 0: no ads). Spend runs in
    /// campaigns of 5–20 minutes with pauses of 5–25 minutes between them, is
    /// recorded per minute as the `ad_spend` metric (Compass' `stat_cost`),
    /// and brings paid entries on top of the natural ones.
    pub ad_spend_per_hour: f64,
    /// Paid entries per yuan spent, once delivery has caught up with a steady
    /// spend.
    pub entries_per_yuan: f64,
    /// Half-life in seconds of the delivery of what was spent (geometric
    /// carryover from spend to paid entries).
    pub ad_half_life_s: f64,
    /// Planted anchor × category effects (default none): extra conversion,
    /// in units of `base_conversion`, while the anchor hosts and a product
    /// of the category is in focus (what a playbook should find).
    pub anchor_category_effects: Vec<AnchorCategoryEffect>,
    /// Extra conversion, in units of `base_conversion`, of a flash sale that
    /// starts at least `late_flash_after_ms` into the session (default 0:
    /// every flash sale alike).
    pub late_flash_effect: f64,
    /// Where "late" flash sales begin (default 30 min).
    #[serde(alias = "late_flash_after", with = "crate::options::duration")]
    pub late_flash_after_ms: Ms,
}

/// A planted anchor × category effect ([`SimConfig::anchor_category_effects`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorCategoryEffect {
    /// Anchor id (`"a1"`, ...).
    pub anchor: String,
    /// Product category (`"美妆"`, `"服饰"`, `"食品"`, `"家居"`, `"运动"`).
    pub category: String,
    /// Extra conversion in units of `base_conversion`.
    pub effect: f64,
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
            ad_spend_per_hour: 0.0,
            entries_per_yuan: 1.0,
            ad_half_life_s: 90.0,
            anchor_category_effects: vec![],
            late_flash_effect: 0.0,
            late_flash_after_ms: 1_800_000,
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
            ("ad_spend_per_hour", self.ad_spend_per_hour),
            ("entries_per_yuan", self.entries_per_yuan),
            ("ad_half_life_s", self.ad_half_life_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                bad.push(format!("{n} must be a finite non-negative number, got {v}"));
            }
        }
        for e in &self.anchor_category_effects {
            let known = (1..=self.anchors).any(|i| e.anchor == format!("a{i}"));
            if !known || !e.effect.is_finite() {
                bad.push(format!(
                    "anchor_category_effects: anchor '{}' (a1..a{}) with a finite effect, got {}",
                    e.anchor, self.anchors, e.effect
                ));
            }
        }
        if !self.late_flash_effect.is_finite() || self.late_flash_after_ms < 0 {
            bad.push("late_flash_effect must be finite and late_flash_after non-negative".into());
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
        if self.ad_spend_per_hour > 1.0e7
            || self.entries_per_yuan > 1_000.0
            || self.ad_half_life_s > 86_400.0
        {
            bad.push("ad_spend_per_hour ≤ 10000000, entries_per_yuan ≤ 1000 and ad_half_life_s ≤ 86400 are the limits".into());
        }
        // Bound the volume before allocating it: steady-state online viewers are
        // entries × stay; comments and orders scale with them.
        // Paid entries at the campaigns' peak spend (about 2.5 × the mean).
        let paid = 2.5 * self.ad_spend_per_hour / 3600.0 * self.entries_per_yuan;
        let online = (self.entries_per_second + paid) * self.mean_stay_s;
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
