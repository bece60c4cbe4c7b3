//! A figure that says where it comes from, and the room-history comparison.

use serde::{Deserialize, Serialize};

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Counted or summed from the data as given (orders, comments, a metric).
    Raw,
    /// A rate or ratio of raw figures (GPM, conversion).
    Derived,
    /// An estimate of the attribution model, with its interval.
    Model,
}

/// One figure of a replay: missing (`value: None`, with the reason in
/// `missing`) where the data cannot support it, never a zero in its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable key ("gmv_gross", "gpm", ...).
    pub key: String,
    /// Label as Chinese operators read it ("成交金额").
    pub label: String,
    /// English label.
    pub label_en: String,
    /// Unit ("yuan", "count", "ratio", "minutes", "viewers").
    pub unit: String,
    /// The value, or `None` where the data cannot support it.
    pub value: Option<f64>,
    /// Raw, derived or model.
    pub source: Source,
    /// What it is computed from ("orders", "gmv_gross ÷ views × 1000").
    pub from: String,
    /// Lower end of the 95 % interval (model figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// Upper end of the 95 % interval (model figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Why the value is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// This figure in the room's stored sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

impl Figure {
    /// A figure with its value (`None` needs a reason: see [`Figure::missing`]).
    pub fn new(key: &str, value: Option<f64>, source: Source, from: &str) -> Figure {
        let (label, label_en, unit) = labels(key);
        let value = value.filter(|v| v.is_finite());
        Figure {
            key: key.to_string(),
            label: label.to_string(),
            label_en: label_en.to_string(),
            unit: unit.to_string(),
            missing: value
                .is_none()
                .then(|| "not computable from the data".to_string()),
            value,
            source,
            from: from.to_string(),
            low: None,
            high: None,
            history: None,
        }
    }

    /// The same figure with the reason it is missing (kept only when the value is).
    pub fn or_missing(mut self, why: &str) -> Figure {
        if self.value.is_none() {
            self.missing = Some(why.to_string());
        }
        self
    }
}

/// Labels and units of the figures vap reports: key → (Chinese, English, unit).
pub const LABELS: &[(&str, &str, &str, &str)] = &[
    ("gmv_gross", "成交金额", "GMV (gross)", "yuan"),
    ("gmv_net", "净成交金额", "GMV (net of refunds)", "yuan"),
    ("refunds", "退款金额", "refunds", "yuan"),
    ("paid_orders", "成交订单数", "paid orders", "count"),
    ("refund_orders", "退款订单数", "refund orders", "count"),
    ("buyers", "成交人数", "buyers", "count"),
    ("items_sold", "成交件数", "items sold", "count"),
    ("views", "观看次数", "views (entries)", "count"),
    (
        "gpm",
        "千次观看成交金额 (GPM)",
        "GPM (GMV per 1,000 views)",
        "yuan",
    ),
    ("uv_value", "UV价值", "UV value (GMV per view)", "yuan"),
    (
        "watch_to_order",
        "观看-成交率",
        "watch-to-order conversion",
        "ratio",
    ),
    (
        "peak_online",
        "最高在线人数",
        "peak online viewers",
        "viewers",
    ),
    (
        "avg_online",
        "平均在线人数",
        "average online viewers",
        "viewers",
    ),
    (
        "avg_watch_minutes",
        "人均观看时长",
        "average watch time",
        "minutes",
    ),
    ("comments", "评论次数", "comments", "count"),
    ("commenters", "评论人数", "commenters", "count"),
    ("interaction_rate", "互动率", "interaction rate", "ratio"),
    ("exposures", "商品曝光次数", "product exposures", "count"),
    ("clicks", "商品点击次数", "product clicks", "count"),
    (
        "exposure_to_click",
        "商品曝光-点击率",
        "exposure-to-click rate",
        "ratio",
    ),
    (
        "click_to_order",
        "商品点击-成交率",
        "click-to-order rate",
        "ratio",
    ),
    ("questions", "观众提问数", "viewer questions", "count"),
    (
        "answered_share",
        "问题回复率",
        "questions answered",
        "ratio",
    ),
    (
        "answer_latency_s",
        "回复用时中位数",
        "median answer latency",
        "seconds",
    ),
    ("hours", "直播时长", "duration", "hours"),
    ("gmv_per_hour", "单小时成交金额", "GMV per hour", "yuan"),
    (
        "views_per_hour",
        "单小时观看次数",
        "views per hour",
        "count",
    ),
    ("explain_minutes", "讲解时长", "explain time", "minutes"),
    (
        "gmv_per_explain_minute",
        "每分钟讲解成交额",
        "GMV per explain minute",
        "yuan",
    ),
    (
        "contribution",
        "模型归因贡献",
        "attributed contribution",
        "yuan",
    ),
    ("effect", "主播效应 (模型)", "anchor effect (model)", "yuan"),
];

/// (Chinese label, English label, unit) of a key; the key itself when unknown.
pub fn labels(key: &str) -> (&str, &str, &str) {
    LABELS
        .iter()
        .find(|l| l.0 == key)
        .map(|l| (l.1, l.2, l.3))
        .unwrap_or((key, key, ""))
}

/// A figure in the room's own history: the median and the top quartile of
/// the stored sessions before this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Stored sessions with a value for this figure.
    pub sessions: usize,
    /// Their median (`None` when too few).
    pub median: Option<f64>,
    /// Their 75th percentile (`None` when too few).
    pub top_quartile: Option<f64>,
    /// Share of those sessions this one beats, in [0, 1] (`None` when too few).
    pub percentile: Option<f64>,
    /// Whether the history is long enough to say (`min_history` sessions).
    pub enough: bool,
}

impl History {
    /// The comparison of `value` with `past` values (NaN dropped), given the
    /// least number of sessions that makes quartiles meaningful.
    pub fn of(value: Option<f64>, past: &[f64], min_sessions: usize) -> History {
        let mut v: Vec<f64> = past.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let enough = v.len() >= min_sessions.max(1);
        let q = |p: f64| quantile(&v, p);
        History {
            sessions: v.len(),
            median: enough.then(|| q(0.5)),
            top_quartile: enough.then(|| q(0.75)),
            percentile: match (enough, value) {
                (true, Some(x)) => {
                    Some(v.iter().filter(|&&y| y < x).count() as f64 / v.len() as f64)
                }
                _ => None,
            },
            enough,
        }
    }
}

/// Linear-interpolation quantile of sorted values (numpy's default); NaN when
/// empty.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

/// `a / b` where `b > 0` and both are known.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A model estimate with its 95 % interval (`None` where the bootstrap gave none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Component ("traffic", "explain:any", "unexplained", ...).
    pub name: String,
    /// Point estimate.
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
    /// Share of the whole it is part of (`None` when that whole is 0).
    pub share: Option<f64>,
}

impl From<&crate::attribute::Part> for Estimate {
    fn from(p: &crate::attribute::Part) -> Estimate {
        let f = |x: f64| x.is_finite().then_some(x);
        Estimate {
            name: p.name.clone(),
            value: p.value,
            low: f(p.low),
            high: f(p.high),
            share: f(p.share),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.75), 3.25);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn history_is_marked_short() {
        let h = History::of(Some(5.0), &[1.0, 2.0], 4);
        assert!(!h.enough && h.median.is_none() && h.sessions == 2);
        let h = History::of(Some(5.0), &[1.0, 2.0, 3.0, 9.0, f64::NAN], 4);
        assert!(h.enough);
        assert_eq!(h.median, Some(2.5));
        assert_eq!(h.percentile, Some(0.75));
    }

    #[test]
    fn missing_figures_carry_a_reason() {
        let f = Figure::new("gpm", None, Source::Derived, "x").or_missing("no entries metric");
        assert_eq!(f.missing.as_deref(), Some("no entries metric"));
        assert_eq!(f.label, "千次观看成交金额 (GPM)");
        let f = Figure::new("gpm", Some(f64::NAN), Source::Derived, "x");
        assert!(f.value.is_none() && f.missing.is_some());
    }
}
