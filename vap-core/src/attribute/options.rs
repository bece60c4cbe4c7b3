//! The options of attribution: the model's form, estimator and factors
//! ([`AttributeOptions`], [`FactorSpec`] and how a factor is read), the split
//! of a moment or window ([`SplitOptions`]), the attribution timeline
//! ([`AttributionTimelineOptions`]) and a room fit's request ([`FitRequest`]).

use serde::{Deserialize, Serialize};

use crate::align::AlignOptions;
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::*;

#[cfg(doc)]
use super::{default_factors, fit::fit, room_timeline, session_timeline, Decomposition};

/// How traffic enters the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// `y = e·(β0 + controls + Σβx)`: factors act on conversion, traffic is
    /// the exposure.
    Exposure,
    /// `y ~ Poisson(e·exp(β0 + controls + Σβx))`.
    LogLink,
    /// `y = β0 + γ·e + controls + Σβx`.
    Linear,
    /// Exposure or log link, whichever predicts the target better on the
    /// blocked cross-validation's folds (mean squared error per test bin,
    /// each form at its own chosen columns and penalty); the exposure form
    /// where the log link cannot be fitted (a negative target, an exposure
    /// of 0), the linear form without an exposure column. The form fitted
    /// and both scores are in [`Diagnostics::form`] and
    /// [`Diagnostics::form_cv`].
    ///
    /// [`Diagnostics::form`]: super::Diagnostics::form
    /// [`Diagnostics::form_cv`]: super::Diagnostics::form_cv
    Auto,
}

impl Form {
    /// Name as in options.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Exposure => "exposure",
            Form::LogLink => "log_link",
            Form::Linear => "linear",
            Form::Auto => "auto",
        }
    }
}

/// Estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Unpenalised (QR least squares, or the unpenalised Poisson MLE).
    Ols,
    /// L2 penalty.
    Ridge,
    /// L1 + L2 penalty (`l1_ratio`).
    ElasticNet,
}

/// Sign constraint of a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    /// Any sign.
    Free,
    /// `β ≥ 0`.
    Positive,
    /// `β ≤ 0`.
    Negative,
}

/// Shape of a factor's carryover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarryoverKind {
    /// Geometric adstock, normalised (weights sum to 1), the length its half-life.
    #[default]
    Adstock,
    /// Hold: the sum of the factor over the trailing window of that length
    /// ("the minute after an answered question").
    Hold,
    /// Both shapes searched, the one the blocked cross-validation prefers
    /// kept (a factor's spec only: a fitted factor is adstock or hold).
    Auto,
}

impl CarryoverKind {
    /// The shapes a spec searches: both for [`CarryoverKind::Auto`].
    pub fn candidates(self) -> Vec<CarryoverKind> {
        match self {
            CarryoverKind::Auto => vec![CarryoverKind::Adstock, CarryoverKind::Hold],
            k => vec![k],
        }
    }
}

/// A saturation curve, applied after carryover, `max` the factor column's
/// maximum before carryover (one scale for every carryover candidate; a
/// fitted model keeps the maximum it was fitted with): the Hill curve
/// `x^s / (x^s + (k·max)^s)`, or with `curve: "log"` the logarithmic curve
/// `ln(1 + x / (k·max))` (the slope is not used).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saturation {
    /// Slope `s` (Hill).
    pub slope: f64,
    /// Inflexion `k` (Hill) or scale `k` (log), relative to the column maximum.
    pub inflexion: f64,
    /// The curve (default Hill).
    #[serde(default, skip_serializing_if = "Curve::is_hill")]
    pub curve: Curve,
}

/// The shape of a [`Saturation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Curve {
    /// `x^s / (x^s + (k·max)^s)`: S-shaped for `s > 1`, bounded.
    #[default]
    Hill,
    /// `ln(1 + x / (k·max))`: concave, unbounded. Under the log link a factor
    /// whose effect multiplies conversion by `1 + κ·x` (linear in the phrases
    /// said, combined multiplicatively with the others) enters as
    /// `ln(1 + κ·x)`: this curve with `κ = 1 / (k·max)`.
    Log,
}

impl Curve {
    /// Whether this is the Hill curve (the default, not written out).
    pub fn is_hill(&self) -> bool {
        *self == Curve::Hill
    }
}

impl Saturation {
    /// A Hill curve.
    pub const fn hill(slope: f64, inflexion: f64) -> Saturation {
        Saturation {
            slope,
            inflexion,
            curve: Curve::Hill,
        }
    }

    /// A logarithmic curve of scale `k` (relative to the column maximum).
    pub const fn log(scale: f64) -> Saturation {
        Saturation {
            slope: 1.0,
            inflexion: scale,
            curve: Curve::Log,
        }
    }

    /// The curve applied to `x` with the column maximum `max` (> 0).
    pub fn apply(&self, x: &[f64], max: f64) -> Vec<f64> {
        match self.curve {
            Curve::Hill => crate::align::hill(x, self.slope, self.inflexion, max),
            Curve::Log => crate::align::log_saturation(x, self.inflexion, max),
        }
    }
}

/// The saturations `"auto"` searches in every form: none (linear) and an
/// S-shaped Hill (slope 3, the half effect at half the column's maximum: one
/// phrase in passing does little, a dense run a lot). A concave Hill of
/// slope 1 was tried as a third candidate and dropped: on vap's simulator it
/// was chosen for the wrong reasons and raised the error from 0.196 to 0.239.
/// Under the log link `"auto"` also searches the logarithmic curve at
/// [`AUTO_LOG_SCALES`].
pub const AUTO_SATURATIONS: [Option<Saturation>; 2] = [None, Some(Saturation::hill(3.0, 0.5))];

/// The scales of the logarithmic curve `"auto"` searches under the log link,
/// relative to the largest value the carried-over column can take (the
/// column's maximum times the hold window's bins): effects that multiply
/// conversion by `1 + κ·x`, with `κ·x` reaching 5 or 2 at that largest value.
/// Chosen on both simulators (README, *Robustness*): with the log link's
/// second search, sim 2's pooled error fell from 0.215 to 0.160 (seeds 0–9)
/// and from 0.174 to 0.140 (seeds 10–19); sim 1's did not move (its rooms
/// choose the exposure form).
pub const AUTO_LOG_SCALES: [f64; 2] = [0.2, 0.5];

/// A factor's saturation: one curve, or `"auto"`: each of
/// [`AUTO_SATURATIONS`] (and [`AUTO_LOG_SCALES`] under the log link) searched, the one the blocked cross-validation
/// prefers kept (reported in the fitted factor).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SaturationSpec {
    /// This curve.
    Hill(Saturation),
    /// Linear or saturated, chosen by cross-validation.
    Auto,
}

impl SaturationSpec {
    /// The saturations searched.
    pub fn candidates(spec: Option<SaturationSpec>) -> Vec<Option<Saturation>> {
        match spec {
            None => vec![None],
            Some(SaturationSpec::Hill(s)) => vec![Some(s)],
            Some(SaturationSpec::Auto) => AUTO_SATURATIONS.to_vec(),
        }
    }
}

impl Serialize for SaturationSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            SaturationSpec::Hill(h) => h.serialize(s),
            SaturationSpec::Auto => s.serialize_str("auto"),
        }
    }
}

/// A factor: a timeline column and how it acts.
///
/// Read from a column name (`"speech:urgency"`, every other field its
/// default) or an object; `carryover` (alias of `carryover_ms`) is one
/// duration or a list (ms, or `"30s"`, `"2min"`), `carryover_kind` is
/// `"adstock"`, `"hold"` or `"auto"` (both searched), `saturation` is
/// `{"slope": s, "inflexion": k}`, `[s, k]` (a Hill curve), `["log", k]` (the
/// logarithmic curve) or `"auto"` (linear or S-shaped, searched; under the
/// log link the logarithmic curve too). Every combination of length, shape and saturation
/// is a candidate column; the blocked cross-validation chooses one per
/// factor, and the fitted factor ([`ResolvedFactor`](super::ResolvedFactor)) says which. The name
/// defaults to the column ([`Options::resolve`] of [`AttributeOptions`],
/// and [`fit`]).
///
/// ```
/// use vap_core::attribute::{CarryoverKind, Curve, FactorSpec, SaturationSpec};
/// let f: FactorSpec = serde_json::from_str(r#""promo:flash""#).unwrap();
/// assert_eq!((f.column.as_str(), f.carryover_ms.len()), ("promo:flash", 0));
/// let f: FactorSpec = serde_json::from_str(
///     r#"{"column": "speech:urgency", "carryover": ["30s", 60000], "carryover_kind": "hold", "saturation": [1.5, 0.5]}"#,
/// ).unwrap();
/// assert_eq!(f.carryover_ms, vec![30_000, 60_000]);
/// assert_eq!(f.carryover_kind, CarryoverKind::Hold);
/// assert!(matches!(f.saturation, Some(SaturationSpec::Hill(h)) if h.inflexion == 0.5));
/// let f: FactorSpec = serde_json::from_str(
///     r#"{"column": "speech:urgency", "saturation": ["log", 0.5]}"#,
/// ).unwrap();
/// assert!(matches!(f.saturation, Some(SaturationSpec::Hill(h)) if h.curve == Curve::Log));
/// let f: FactorSpec = serde_json::from_str(
///     r#"{"column": "speech:urgency", "carryover_kind": "auto", "saturation": "auto"}"#,
/// ).unwrap();
/// assert_eq!(f.saturation, Some(SaturationSpec::Auto));
/// assert_eq!(f.carryover_kind.candidates().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct FactorSpec {
    /// Name in results (default: the column).
    #[serde(default)]
    pub name: String,
    /// Timeline column.
    pub column: String,
    /// Carryover lengths (ms) to search: half-lives of a geometric adstock, or
    /// hold windows (see `carryover_kind`); `[0]` or empty: none.
    #[serde(default, alias = "carryover", with = "crate::options::durations")]
    pub carryover_ms: Vec<Ms>,
    /// How carryover acts (default adstock; `auto`: both searched).
    #[serde(default)]
    pub carryover_kind: CarryoverKind,
    /// Optional saturation (`auto`: linear and saturated searched; under the
    /// log link the logarithmic curve too).
    #[serde(default)]
    pub saturation: Option<SaturationSpec>,
    /// Sign constraint (default free).
    #[serde(default)]
    pub sign: Option<Sign>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorObject {
    #[serde(default)]
    name: Option<String>,
    column: String,
    #[serde(default, alias = "carryover", with = "crate::options::durations")]
    carryover_ms: Vec<Ms>,
    #[serde(default)]
    carryover_kind: CarryoverKind,
    #[serde(default)]
    saturation: Option<SaturationInput>,
    #[serde(default)]
    sign: Option<Sign>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SaturationInput {
    Pair(f64, f64),
    Curve(String, f64),
    Object(Saturation),
    Word(String),
}

impl TryFrom<serde_json::Value> for FactorSpec {
    type Error = String;

    /// A factor from a column name or an object (see [`FactorSpec`]).
    fn try_from(v: serde_json::Value) -> std::result::Result<FactorSpec, String> {
        let f = match v {
            serde_json::Value::String(column) => FactorSpec {
                name: column.clone(),
                column,
                carryover_ms: Vec::new(),
                carryover_kind: CarryoverKind::Adstock,
                saturation: None,
                sign: None,
            },
            v @ serde_json::Value::Object(_) => {
                let o: FactorObject = serde_path_to_error::deserialize(v).map_err(|e| {
                    let path = e.path().to_string();
                    if path.is_empty() || path == "." {
                        format!("{}", e.into_inner())
                    } else {
                        format!("'{path}': {}", e.into_inner())
                    }
                })?;
                let saturation = match o.saturation {
                    None => None,
                    Some(SaturationInput::Pair(slope, inflexion)) => {
                        Some(SaturationSpec::Hill(Saturation::hill(slope, inflexion)))
                    }
                    Some(SaturationInput::Curve(c, k)) if c.eq_ignore_ascii_case("log") => {
                        Some(SaturationSpec::Hill(Saturation::log(k)))
                    }
                    Some(SaturationInput::Curve(c, _)) => {
                        return Err(format!(
                            "'saturation': expected [\"log\", scale] or [slope, inflexion], got [\"{c}\", ..]"
                        ))
                    }
                    Some(SaturationInput::Object(s)) => Some(SaturationSpec::Hill(s)),
                    Some(SaturationInput::Word(w)) if w.eq_ignore_ascii_case("auto") => {
                        Some(SaturationSpec::Auto)
                    }
                    Some(SaturationInput::Word(w)) => {
                        return Err(format!(
                            "'saturation': expected [slope, inflexion], [\"log\", scale], {{\"slope\": s, \"inflexion\": k}} or \"auto\", got \"{w}\""
                        ))
                    }
                };
                FactorSpec {
                    name: o.name.unwrap_or_else(|| o.column.clone()),
                    column: o.column,
                    carryover_ms: o.carryover_ms,
                    carryover_kind: o.carryover_kind,
                    saturation,
                    sign: o.sign,
                }
            }
            other => {
                return Err(format!(
                    "a factor is a column name or an object with a 'column', got {other}"
                ))
            }
        };
        Ok(f)
    }
}

/// Controls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Controls {
    /// A linear trend in hours since the session start (default off: within
    /// one session it is collinear with anchor shifts; turn it on for long
    /// sessions whose audience tires).
    pub trend: bool,
    /// Number of time-of-day harmonic pairs (default 0).
    pub time_of_day: usize,
    /// Session fixed effects when several sessions are fitted (default on).
    pub session_effects: bool,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            trend: false,
            time_of_day: 0,
            session_effects: true,
        }
    }
}

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeOptions {
    /// Target column (default `order_gmv`).
    pub target: String,
    /// How traffic enters (default auto: exposure or log link, chosen by
    /// cross-validation).
    pub form: Form,
    /// Estimator (default ridge).
    pub estimator: Estimator,
    /// Elastic-net mixing `ρ` in (0, 1] (default 0.5).
    pub l1_ratio: f64,
    /// Exposure column (default `online_viewers`); `None` for none (linear form only).
    pub exposure: Option<String>,
    /// Multiply the exposure by the expected order value given `price_level`
    /// (default: when the target's unit is yuan and the timeline has
    /// `price_level` and `orders`).
    pub price_level: Option<bool>,
    /// Factors (default [`default_factors`]).
    pub factors: Option<Vec<FactorSpec>>,
    /// Controls.
    pub controls: Controls,
    /// Fit a base level in the linear and log-link forms (default on).
    pub intercept: bool,
    /// Penalise standardised factors (default on).
    pub standardize: bool,
    /// A fixed penalty (no cross-validation).
    pub penalty: Option<f64>,
    /// Penalties to cross-validate (default 30 log-spaced values).
    pub penalties: Option<Vec<f64>>,
    /// Cross-validation folds (default 5).
    pub folds: usize,
    /// Rows left out on each side of a test fold (default 5 min).
    #[serde(alias = "gap", with = "crate::options::duration")]
    pub gap_ms: Ms,
    /// Bootstrap block length (default 10 min); units are a quarter of it.
    #[serde(alias = "block", with = "crate::options::duration")]
    pub block_ms: Ms,
    /// Bootstrap replicates (default 200; 0 for none).
    pub bootstrap: usize,
    /// Seed.
    pub seed: u64,
    /// Share of units at the end held out for the diagnostics (default 0.2).
    pub holdout: f64,
    /// Largest carryover grid searched exhaustively (default 5000).
    pub max_candidates: usize,
    /// The split of traffic into paid and natural (see [`AdsOptions`]).
    pub ads: AdsOptions,
}

/// How traffic is split into paid and natural where the timeline has ad
/// spend (see [`crate::attribute::PaidTraffic`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdsOptions {
    /// Split the traffic where the spend column is present and spends
    /// something (default on).
    pub enabled: bool,
    /// Spend column, yuan per bin (default `ad_spend`: Compass' `stat_cost`).
    pub spend: String,
    /// Entries column modelled on the spend too (default `entries`; skipped
    /// where absent).
    pub entries: String,
    /// Carryover half-lives from spend to viewers and to entries, each chosen
    /// by blocked cross-validation (default 0, 30 s, 1, 1.5, 2, 3, 4, 5, 8,
    /// 12, 15 and 20 min: a delivery that takes effect at once to one that lasts a
    /// quarter of an hour, and a stock of viewers that stays a few minutes).
    #[serde(alias = "carryover", with = "crate::options::durations")]
    pub carryover_ms: Vec<Ms>,
}

/// The carryover half-lives [`AdsOptions`] tries by default.
pub const DEFAULT_ADS_CARRYOVER_MS: [Ms; 12] = [
    0, 30_000, 60_000, 90_000, 120_000, 180_000, 240_000, 300_000, 480_000, 720_000, 900_000,
    1_200_000,
];

impl Default for AdsOptions {
    fn default() -> Self {
        AdsOptions {
            enabled: true,
            spend: "ad_spend".into(),
            entries: "entries".into(),
            carryover_ms: DEFAULT_ADS_CARRYOVER_MS.to_vec(),
        }
    }
}

impl Default for AttributeOptions {
    fn default() -> Self {
        AttributeOptions {
            target: "order_gmv".into(),
            form: Form::Auto,
            estimator: Estimator::Ridge,
            l1_ratio: 0.5,
            exposure: Some("online_viewers".into()),
            price_level: None,
            factors: None,
            controls: Controls::default(),
            intercept: true,
            standardize: true,
            penalty: None,
            penalties: None,
            folds: 5,
            gap_ms: 300_000,
            block_ms: 600_000,
            bootstrap: 200,
            seed: 0,
            holdout: 0.2,
            max_candidates: 5000,
            ads: AdsOptions::default(),
        }
    }
}

impl Options for AttributeOptions {
    const WHAT: &'static str = "attribution options";
    const NULLABLE: &'static [&'static str] = &["exposure"];

    /// `trend`, `time_of_day` and `session_effects` may be written at the top
    /// level (as Python's keyword arguments and Node's options do): they move
    /// into `controls`.
    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        for key in ["trend", "time_of_day", "session_effects"] {
            if let Some(v) = map.remove(key) {
                let c = map
                    .entry("controls")
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                match c {
                    serde_json::Value::Object(c) => {
                        if c.insert(key.to_string(), v).is_some() {
                            return Err(VapError::InvalidArgument(format!(
                                "{}: '{key}' given twice (top level and in controls)",
                                Self::WHAT
                            )));
                        }
                    }
                    other => {
                        return Err(VapError::InvalidArgument(format!(
                            "{}: option 'controls' must be an object, got {other}",
                            Self::WHAT
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// Factor names default to their columns.
    fn resolve(&mut self) {
        for f in self.factors.iter_mut().flatten() {
            if f.name.is_empty() {
                f.name = f.column.clone();
            }
        }
    }

    /// Every option in range; all problems listed.
    fn check(&self) -> Result<()> {
        let mut bad = Vec::new();
        if self.target.is_empty() {
            bad.push("target must name a column".to_string());
        }
        if self.estimator == Estimator::ElasticNet && !(self.l1_ratio > 0.0 && self.l1_ratio <= 1.0)
        {
            bad.push(format!("l1_ratio must be in (0, 1], got {}", self.l1_ratio));
        }
        if let Some(p) = self.penalty {
            if !(p.is_finite() && p >= 0.0) {
                bad.push(format!("penalty must be finite and ≥ 0, got {p}"));
            }
        }
        if let Some(ps) = &self.penalties {
            if ps.is_empty() || ps.iter().any(|p| !(p.is_finite() && *p >= 0.0)) {
                bad.push("penalties must be a non-empty list of finite values ≥ 0".into());
            }
        }
        if self.folds < 2 || self.folds > 50 {
            bad.push(format!("folds must be in 2..=50, got {}", self.folds));
        }
        if self.gap_ms < 0 {
            bad.push("gap_ms must be ≥ 0".into());
        }
        if self.block_ms <= 0 {
            bad.push("block_ms must be > 0".into());
        }
        if self.bootstrap > 100_000 {
            bad.push("bootstrap must be ≤ 100000".into());
        }
        if !(0.0..0.9).contains(&self.holdout) {
            bad.push(format!("holdout must be in [0, 0.9), got {}", self.holdout));
        }
        if self.controls.time_of_day > 12 {
            bad.push("time_of_day harmonics must be ≤ 12".into());
        }
        if self.max_candidates == 0 {
            bad.push("max_candidates must be ≥ 1".into());
        }
        let ads = &self.ads;
        if ads.enabled && ads.spend.is_empty() {
            bad.push("ads.spend must name a column".into());
        }
        if ads.carryover_ms.is_empty()
            || ads.carryover_ms.len() > 64
            || ads
                .carryover_ms
                .iter()
                .any(|&h| !(0..=86_400_000).contains(&h))
        {
            bad.push("ads.carryover_ms must list 1 to 64 half-lives in [0, 24 h]".into());
        }
        crate::options::all_or_nothing(Self::WHAT, bad)
    }
}

/// Options of a moment's or a window's split ([`Decomposition::moment`],
/// [`Decomposition::window`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitOptions {
    /// The reference window, half of it either side (default: the moment
    /// detector's window, [`crate::detect::DetectOptions::window_ms`]).
    #[serde(alias = "window", with = "crate::options::duration")]
    pub window_ms: Ms,
    /// The excess to split; default the actual total minus the reference
    /// window's mean per bin times the bins (windows only; a moment brings
    /// its own).
    pub excess: Option<f64>,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            window_ms: crate::detect::DetectOptions::default().window_ms,
            excess: None,
        }
    }
}

impl Options for SplitOptions {
    const WHAT: &'static str = "split options";

    fn check(&self) -> Result<()> {
        crate::options::ensure_positive(Self::WHAT, "window", self.window_ms)?;
        match self.excess {
            Some(e) if !e.is_finite() => Err(VapError::InvalidArgument(format!(
                "{}: option 'excess' must be a finite number, got {e}",
                Self::WHAT
            ))),
            _ => Ok(()),
        }
    }
}

/// The grid step of the attribution timeline unless told otherwise: 10 s
/// (finer bins add noise, not information, to a model whose carryovers are
/// minutes long; coarser ones blur a flash sale's start).
pub const TIMELINE_STEP_MS: Ms = 10_000;

/// Options of the attribution timeline ([`session_timeline`],
/// [`room_timeline`]): [`AlignOptions`] whose step defaults to
/// [`TIMELINE_STEP_MS`].
///
/// ```
/// use vap_core::attribute::{AttributionTimelineOptions, TIMELINE_STEP_MS};
/// use vap_core::options::Options;
/// let o = AttributionTimelineOptions::from_json("{}").unwrap();
/// assert_eq!(o.0.step_ms, TIMELINE_STEP_MS);
/// let o = AttributionTimelineOptions::from_json(r#"{"step": "1min"}"#).unwrap();
/// assert_eq!(o.0.step_ms, 60_000);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttributionTimelineOptions(pub AlignOptions);

impl Default for AttributionTimelineOptions {
    fn default() -> Self {
        AttributionTimelineOptions(AlignOptions {
            step_ms: TIMELINE_STEP_MS,
            ..Default::default()
        })
    }
}

impl Options for AttributionTimelineOptions {
    const WHAT: &'static str = "attribution timeline options";
    const VERBATIM: &'static [&'static str] = AlignOptions::VERBATIM;

    fn prepare(map: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        if !map.contains_key("step") && !map.contains_key("step_ms") {
            map.insert("step_ms".into(), TIMELINE_STEP_MS.into());
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        self.0.check()
    }
}

/// What fitting a room model takes: the attribution timeline's options
/// (`timeline`), the name to save the model under (`name`, optional), and
/// every [`AttributeOptions`] field at the top level.
///
/// ```
/// use vap_core::attribute::FitRequest;
/// let r = FitRequest::from_value(
///     serde_json::json!({"timeline": {"step": "30s"}, "name": "m1", "bootstrap": 0}),
///     false,
/// ).unwrap();
/// assert_eq!((r.timeline.0.step_ms, r.name.as_deref(), r.model.bootstrap), (30_000, Some("m1"), 0));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FitRequest {
    /// The attribution timeline's options.
    pub timeline: AttributionTimelineOptions,
    /// Name to save the model under.
    pub name: Option<String>,
    /// The model's options.
    pub model: AttributeOptions,
}

impl FitRequest {
    /// Reads a request (`camel`: keys in Node's camelCase).
    pub fn from_value(v: serde_json::Value, camel: bool) -> Result<FitRequest> {
        let mut map = crate::options::object_of(AttributeOptions::WHAT, v)?;
        let timeline = map.remove("timeline").unwrap_or_default();
        let name = match map.remove("name") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(other) => {
                return Err(VapError::InvalidArgument(format!(
                    "{}: option 'name' must be a non-empty string, got {other}",
                    AttributeOptions::WHAT
                )))
            }
        };
        let model = serde_json::Value::Object(map);
        Ok(if camel {
            FitRequest {
                timeline: AttributionTimelineOptions::from_camel_value(timeline)?,
                name,
                model: AttributeOptions::from_camel_value(model)?,
            }
        } else {
            FitRequest {
                timeline: AttributionTimelineOptions::from_value(timeline)?,
                name,
                model: AttributeOptions::from_value(model)?,
            }
        })
    }
}
