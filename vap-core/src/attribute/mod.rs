//! Attribution: how much each factor moved the metric, per bin, per moment and
//! over a session, from one regression model of the room.
//!
//! # The model
//!
//! [`fit`] reads a [`Timeline`] (one session, or a room's sessions stacked by
//! [`room_timeline`]) and regresses a target column (default `order_gmv`) on
//! a design built from the timeline:
//!
//! * **factors** ([`FactorSpec`]): timeline columns such as `explain:any`,
//!   `promo:<kind>`, `speech:<group>` (phrase groups: urgency, price, answers),
//!   `host:<anchor>`, `comments`; each with an optional carryover (geometric
//!   adstock, normalised, by half-life, applied within each session; several
//!   half-lives are searched), an optional Hill saturation and a sign
//!   constraint. [`default_factors`] picks explains, promotions, the urgency /
//!   price / answer phrase groups (half-lives searched over 0–120 s, all
//!   constrained ≥ 0; urgency saturated, answers held for 30–120 s) and every anchor but the one on air the longest (free
//!   sign);
//! * **controls**: a base level, a within-session trend, time-of-day
//!   harmonics, and session fixed effects when several sessions are fitted
//!   together (the single-room model);
//! * **traffic as exposure** ([`Form`]):
//!   - `exposure` (default): `y_t = e_t · (β0 + controls_t + Σ βk·xk,t)`, the
//!     factors acting on conversion, `e_t` the exposure (online viewers; for a
//!     target in yuan, viewers × the price level of what is in focus, see
//!     below);
//!   - `log_link`: `y_t ~ Poisson(e_t · exp(β0 + controls_t + Σ βk·xk,t))` for
//!     counts (orders), fitted by IRLS with `ln e_t` as offset;
//!   - `linear`: `y_t = β0 + γ·e_t + controls_t + Σ βk·xk,t`, traffic a column
//!     of its own.
//!
//! The price level: [`enrich`] adds `price_level`, the listed price of what is
//! in focus. For a target in yuan, the exposure is `viewers × (a + b·price_level)`
//! with `a, b` fitted once by least squares of per-bin GMV on
//! `orders × (1, price_level)`: the expected order value given what is on sale.
//!
//! # Estimators and penalties
//!
//! [`Estimator::Ols`] (Householder QR, non-robust standard errors; with sign
//! constraints, non-negative least squares by projected coordinate descent),
//! [`Estimator::Ridge`] and [`Estimator::ElasticNet`]. Only the factors are
//! penalised; the base, traffic, controls and session effects are profiled
//! out. With `standardize` (default) the penalty applies to the factors
//! scaled to unit root mean square after that profiling.
//!
//! * Ridge minimises `‖y − Zb‖² + λ·Σ(s_j β_j)²`: scikit-learn's `Ridge(alpha=λ)`
//!   on the same columns (with `standardize = false`, `s_j = 1`; the intercept
//!   unpenalised, as `fit_intercept=True` does).
//! * Elastic net minimises `‖y − Zb‖²/(2n) + α·(ρ·Σ|s_j β_j| + (1−ρ)/2·Σ(s_j β_j)²)`,
//!   scikit-learn's and linfa's `ElasticNet` scaling; without sign constraints
//!   the final fit is linfa-elasticnet's on the profiled, standardised
//!   columns (centred by us: linfa's own intercept is wrong on uncentred data).
//! * The Poisson form maximises `Σ(y·ln μ − μ)/n − α·((1−ρ)/2·Σ(s_j β_j)² + ρ·Σ|s_j β_j|)`,
//!   statsmodels' `GLM.fit_regularized(alpha, L1_wt=ρ)` with the unpenalised
//!   columns' alpha at 0.
//!
//! The penalty is chosen by blocked time-series cross-validation: the rows
//! are cut into units of a quarter block (`block_ms / 4`); fold k is the k-th
//! of `folds` contiguous slices of every session's units, predicted from the
//! rest less `gap_ms` on each side (so every training set keeps part of every
//! session; a fold whose training rows cannot identify the controls is
//! skipped). The diagnostics' holdout is likewise the last share of every
//! session. One eigendecomposition per fold serves every ridge penalty, and every
//! statistic comes from per-unit Gram matrices, so a fold or a bootstrap
//! replicate costs `O(p²)` per unit, not `O(n·p²)`.
//!
//! Carryover half-lives are searched on the product grid of every factor's
//! candidates (coordinate-wise when the grid exceeds `max_candidates`), in
//! parallel, each candidate scored by the same cross-validation at the chosen
//! penalty; the Gram matrix of all candidate columns is computed once and each
//! candidate reads its sub-matrix. The log-link form takes its half-lives from
//! the exposure-scaled linear model's search.
//!
//! # Uncertainty
//!
//! A moving-block bootstrap, stratified by session: for each session, blocks
//! of four units (`block_ms`) starting at any of its units are drawn with
//! replacement until the replicate holds as many of its units as it has (a
//! session shorter than a block is drawn whole); replicates that cannot be
//! fitted are left out and counted in the warnings; `bootstrap` replicates, replicate `r` seeded from
//! `(seed, r)`, so results do not depend on the thread count. Intervals are
//! percentile intervals. For OLS and the unpenalised Poisson model the
//! analytic 95 % intervals (t, respectively normal) are reported too, unless
//! a sign constraint binds at the solution (then the bootstrap's stand).
//!
//! # Decomposition
//!
//! For every bin, `baseline + traffic + Σ factor = prediction` exactly:
//!
//! * exposure form: with `u_t = β0 + controls_t` (session effect included),
//!   `baseline = e_ref·u_t`, `traffic = (e_t − e_ref)·u_t`,
//!   `factor_k = e_t·βk·xk,t`;
//! * linear form: `baseline = β0 + γ·e_ref + controls_t`,
//!   `traffic = γ·(e_t − e_ref)`, `factor_k = βk·xk,t`;
//! * log-link form: `baseline = e_ref·exp(u_t)`, `traffic = (e_t − e_ref)·exp(u_t)`,
//!   and the factors share the multiplicative remainder
//!   `e_t·exp(u_t)·(exp(S_t) − 1)`, `S_t = Σ βk·xk,t`, by **log-share**:
//!   factor k gets `βk·xk,t / S_t` of it (its first-order term
//!   `e_t·exp(u_t)·βk·xk,t` when `S_t = 0`).
//!
//! `e_ref` is the session's reference traffic, the median exposure of its
//! bins, so traffic's contribution is "the prediction with every factor off
//! at the actual traffic minus the same at the reference traffic".
//!
//! Per moment ([`Decomposition::moment`]): the moment's excess (the
//! detector's magnitude) is split as follows. For each component c
//! (traffic, each factor, the baseline's own drift), its part is
//! `Σ_{t in moment} c_t − n_moment × mean(c over the reference window)`, the
//! reference window being the detector's baseline window around the moment
//! (`window_ms / 2` on each side, within the session, the moment excluded).
//! `unexplained = excess − Σ parts`, so the parts sum to the excess. Parts are
//! ranked by size (unexplained last) with bootstrap intervals.

mod design;
mod solve;

pub use design::{
    default_factors, enrich, ResolvedFactor, Role, DEFAULT_CARRYOVER_MS, PRICE_LEVEL,
};

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::align::{AlignOptions, Timeline};
use crate::detect::Moment;
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::*;
use crate::store::Store;
use design::Design;
use solve::{LsqProblem, Pen, Stats};

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
}

impl Form {
    /// Name as in options.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Exposure => "exposure",
            Form::LogLink => "log_link",
            Form::Linear => "linear",
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
}

/// Hill saturation `x^s / (x^s + (k·max)^s)`, applied after carryover, `max`
/// the factor column's maximum before carryover (one scale for every
/// carryover candidate; a fitted model keeps the maximum it was fitted with).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saturation {
    /// Slope `s`.
    pub slope: f64,
    /// Inflexion `k`, relative to the column maximum.
    pub inflexion: f64,
}

/// A factor: a timeline column and how it acts.
///
/// Read from a column name (`"speech:urgency"`, every other field its
/// default) or an object; `carryover` (alias of `carryover_ms`) is one
/// duration or a list (ms, or `"30s"`, `"2min"`), `saturation` is
/// `{"slope": s, "inflexion": k}` or `[s, k]`. The name defaults to the
/// column ([`Options::resolve`] of [`AttributeOptions`], and [`fit`]).
///
/// ```
/// use vap_core::attribute::{CarryoverKind, FactorSpec};
/// let f: FactorSpec = serde_json::from_str(r#""promo:flash""#).unwrap();
/// assert_eq!((f.column.as_str(), f.carryover_ms.len()), ("promo:flash", 0));
/// let f: FactorSpec = serde_json::from_str(
///     r#"{"column": "speech:urgency", "carryover": ["30s", 60000], "carryover_kind": "hold", "saturation": [1.5, 0.5]}"#,
/// ).unwrap();
/// assert_eq!(f.carryover_ms, vec![30_000, 60_000]);
/// assert_eq!(f.carryover_kind, CarryoverKind::Hold);
/// assert_eq!(f.saturation.unwrap().inflexion, 0.5);
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
    /// How carryover acts (default adstock).
    #[serde(default)]
    pub carryover_kind: CarryoverKind,
    /// Optional saturation.
    #[serde(default)]
    pub saturation: Option<Saturation>,
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
    Object(Saturation),
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
                FactorSpec {
                    name: o.name.unwrap_or_else(|| o.column.clone()),
                    column: o.column,
                    carryover_ms: o.carryover_ms,
                    carryover_kind: o.carryover_kind,
                    saturation: o.saturation.map(|s| match s {
                        SaturationInput::Pair(slope, inflexion) => Saturation { slope, inflexion },
                        SaturationInput::Object(s) => s,
                    }),
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
    /// How traffic enters (default exposure).
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
}

impl Default for AttributeOptions {
    fn default() -> Self {
        AttributeOptions {
            target: "order_gmv".into(),
            form: Form::Exposure,
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
        if bad.is_empty() {
            Ok(())
        } else {
            Err(VapError::InvalidArgument(format!(
                "{}: {}",
                Self::WHAT,
                bad.join("; ")
            )))
        }
    }
}

impl AttributeOptions {
    fn pen(&self, value: f64, n: f64) -> Pen {
        match (self.estimator, self.form) {
            (Estimator::Ols, _) => Pen { l2: 0.0, l1: 0.0 },
            (Estimator::Ridge, Form::LogLink) => Pen { l2: value, l1: 0.0 },
            (Estimator::ElasticNet, Form::LogLink) => Pen {
                l2: value * (1.0 - self.l1_ratio),
                l1: value * self.l1_ratio,
            },
            (Estimator::Ridge, _) => Pen { l2: value, l1: 0.0 },
            (Estimator::ElasticNet, _) => Pen {
                l2: n * value * (1.0 - self.l1_ratio),
                l1: n * value * self.l1_ratio,
            },
        }
    }
}

/// A fitted coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// Column name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Carryover half-life of a factor (ms).
    pub half_life_ms: Ms,
    /// Estimate.
    pub value: f64,
    /// Analytic standard error (OLS; unpenalised Poisson).
    pub std_error: Option<f64>,
    /// 95 % interval: analytic where there is one, else the bootstrap's.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Bootstrap standard error.
    pub boot_se: f64,
    /// Bootstrap 2.5 % quantile.
    pub boot_low: f64,
    /// Bootstrap 97.5 % quantile.
    pub boot_high: f64,
}

/// One penalty's cross-validated error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    /// Penalty.
    pub penalty: f64,
    /// Mean test error per bin (squared error; Poisson deviance for the log link).
    pub error: f64,
}

/// Fit diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Bins fitted.
    pub n_bins: usize,
    /// Bins left out (missing values).
    pub n_dropped: usize,
    /// Coefficients.
    pub n_coefficients: usize,
    /// In-sample R².
    pub r2: f64,
    /// In-sample RMSE / mean of the target.
    pub nrmse: f64,
    /// R² on the time-ordered holdout (the last `holdout` share, predicted by
    /// a fit on the rest).
    pub holdout_r2: f64,
    /// Holdout RMSE / holdout mean.
    pub holdout_nrmse: f64,
    /// Holdout mean absolute percentage error over 5-minute sums (windows
    /// with a positive actual).
    pub holdout_mape: f64,
    /// Variance inflation factor of each factor.
    pub vif: Vec<(String, f64)>,
    /// Condition index of the factors (after the controls): the square root
    /// of the largest over the smallest eigenvalue of their correlation
    /// matrix; above 30 a warning names the factors involved.
    pub condition_number: f64,
    /// Durbin–Watson statistic of the residuals (within sessions).
    pub durbin_watson: f64,
    /// Lag-1 autocorrelation of the residuals.
    pub residual_autocorrelation: f64,
    /// Carryover candidates evaluated.
    pub candidates: usize,
    /// Warnings (collinearity naming the factors, residuals, dropped bins).
    pub warnings: Vec<String>,
}

/// A coefficient of a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelColumn {
    /// Column name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Coefficient.
    pub value: f64,
}

/// A fitted single-room model: what [`RoomModel::apply`] needs to decompose a
/// new session of the room without refitting. Serialises to JSON
/// ([`RoomModel::save`] stores it in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomModel {
    /// `"vap-attribution"`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Room.
    pub room_id: String,
    /// Sessions fitted.
    pub sessions: Vec<String>,
    /// Bin width of the fit.
    pub step_ms: Ms,
    /// Options (factors as given).
    pub options: AttributeOptions,
    /// The expected-order-value line `(a, b)` that multiplies the exposure.
    pub price: Option<(f64, f64)>,
    /// Factors as fitted (half-life chosen, saturation maximum kept).
    pub factors: Vec<ResolvedFactor>,
    /// Penalty chosen.
    pub penalty: f64,
    /// Coefficients, in design order.
    pub columns: Vec<ModelColumn>,
    /// Bootstrap replicates of the coefficients (same order).
    pub replicates: Vec<Vec<f64>>,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct Attribution {
    /// The model (apply it to new sessions, save it).
    pub model: RoomModel,
    /// Coefficients with intervals.
    pub coefficients: Vec<Coefficient>,
    /// Cross-validation curve (empty with a fixed penalty or OLS).
    pub cv: Vec<CvPoint>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// Decomposition of the fitted bins.
    pub decomposition: Decomposition,
}

// ---------------------------------------------------------------- helpers

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn spread(vals: &mut [f64]) -> (f64, f64, f64) {
    vals.sort_by(|a, b| a.total_cmp(b));
    let n = vals.len() as f64;
    if vals.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let m = vals.iter().sum::<f64>() / n;
    let sd = (vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    (sd, percentile(vals, 0.025), percentile(vals, 0.975))
}

/// Units: consecutive row ranges of at most `u` rows within each session.
fn units(d: &Design, u: usize) -> Vec<(usize, Range<usize>)> {
    let mut out = Vec::new();
    for (k, (_, rows)) in d.sessions.iter().enumerate() {
        let mut s = rows.start;
        while s < rows.end {
            let e = (s + u).min(rows.end);
            out.push((k, s..e));
            s = e;
        }
    }
    out
}

/// The expected order value line `(a, b)`: least squares of per-bin GMV on
/// `orders × (1, price_level)`.
fn calibrate_price(tl: &Timeline, target: &str) -> Option<(f64, f64)> {
    let y = tl.values(target).ok()?;
    let o = tl.values("orders").ok()?;
    let pl = tl.values(PRICE_LEVEL).ok()?;
    let (mut s11, mut s12, mut s22, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..y.len() {
        if !(y[i].is_finite() && o[i].is_finite() && pl[i].is_finite()) {
            continue;
        }
        let (a, b) = (o[i], o[i] * pl[i]);
        s11 += a * a;
        s12 += a * b;
        s22 += b * b;
        t1 += a * y[i];
        t2 += b * y[i];
    }
    let det = s11 * s22 - s12 * s12;
    if s11 <= 0.0 {
        return None;
    }
    let (a, b) = if det > 1e-9 * s11 * s22 {
        ((t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det)
    } else {
        (t1 / s11, 0.0)
    };
    let lo = pl
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = pl
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    if a + b * lo > 0.0 && a + b * hi > 0.0 {
        Some((a, b))
    } else {
        Some((t1 / s11, 0.0))
    }
}

// ---------------------------------------------------------------- the fit

struct Ctx<'a> {
    d: &'a Design,
    opts: &'a AttributeOptions,
    /// Per-unit statistics over every design column.
    unit_stats: Vec<Stats>,
    units: Vec<(usize, Range<usize>)>,
    /// Units per fold: (test units, excluded units).
    folds: Vec<(Vec<usize>, Vec<usize>)>,
    /// Each session's units.
    session_units: Vec<Range<usize>>,
}

impl<'a> Ctx<'a> {
    fn total(&self, units: impl Iterator<Item = usize>) -> Stats {
        let mut s = Stats::zeros(self.d.cols.len());
        for u in units {
            s.add(&self.unit_stats[u]);
        }
        s
    }

    fn problem(&self, st: &Stats, sel: &[usize]) -> Result<LsqProblem> {
        let nu = self.d.nu;
        let px = sel.len() - nu;
        let scale = if self.opts.standardize {
            LsqProblem::standard_scale(st, nu)?
        } else {
            Array1::ones(px)
        };
        let mut lo = Array1::from_elem(px, f64::NEG_INFINITY);
        let mut hi = Array1::from_elem(px, f64::INFINITY);
        for (k, &c) in sel[nu..].iter().enumerate() {
            let f = self.d.cols[c].factor.expect("factor column");
            match self.d.factors[f].sign {
                Sign::Positive => lo[k] = 0.0,
                Sign::Negative => hi[k] = 0.0,
                Sign::Free => {}
            }
        }
        Ok(LsqProblem { nu, scale, lo, hi })
    }

    /// Training and test statistics of every fold, over all columns.
    fn fold_stats(&self) -> Vec<(Stats, Stats)> {
        let all = self.total(0..self.units.len());
        self.folds
            .iter()
            .map(|(test, excl)| {
                let te = self.total(test.iter().copied());
                let mut tr = all.clone();
                tr.sub(&self.total(excl.iter().copied()));
                (tr, te)
            })
            .collect()
    }

    /// Mean test error per bin at each penalty, for the columns `sel`.
    fn cv_errors(
        &self,
        folds: &[(Stats, Stats)],
        sel: &[usize],
        scale_from: &Stats,
        penalties: &[f64],
    ) -> Result<Vec<f64>> {
        let prob = self.problem(&scale_from.select(sel), sel)?;
        let mut err = vec![0.0; penalties.len()];
        let mut n_test = 0.0;
        let unbounded =
            prob.lo.iter().all(|v| !v.is_finite()) && prob.hi.iter().all(|v| !v.is_finite());
        for (tr, te) in folds {
            let tr = tr.select(sel);
            let te = te.select(sel);
            if tr.n <= sel.len() as f64 || te.n == 0.0 {
                continue;
            }
            let fold: Result<Vec<f64>> =
                if unbounded && self.opts.estimator != Estimator::ElasticNet {
                    let l2: Vec<f64> = penalties
                        .iter()
                        .map(|&p| self.opts.pen(p, tr.n).l2)
                        .collect();
                    prob.ridge_path(&tr, &l2)
                        .map(|path| path.iter().map(|b| te.sse(b)).collect())
                } else {
                    // Warm starts from the largest penalty down.
                    let mut order: Vec<usize> = (0..penalties.len()).collect();
                    order.sort_by(|&a, &b| penalties[b].total_cmp(&penalties[a]));
                    let mut warm: Option<Array1<f64>> = None;
                    let mut out = vec![0.0; penalties.len()];
                    order
                        .into_iter()
                        .try_for_each(|k| {
                            let b =
                                prob.solve(&tr, self.opts.pen(penalties[k], tr.n), warm.as_ref())?;
                            out[k] = te.sse(&b);
                            warm = Some(b);
                            Ok(())
                        })
                        .map(|()| out)
                };
            // A fold whose training rows cannot identify the controls is skipped.
            if let Ok(f) = fold {
                n_test += te.n;
                err.iter_mut().zip(f).for_each(|(e, v)| *e += v);
            }
        }
        if n_test == 0.0 {
            return Err(VapError::InvalidArgument(
                "too few bins for cross-validation: use a smaller step, fewer folds or a fixed penalty".into(),
            ));
        }
        Ok(err.into_iter().map(|e| e / n_test).collect())
    }
}

fn default_penalties(
    opts: &AttributeOptions,
    a_diag_mean: f64,
    rmax: f64,
    n: f64,
    y_mean: f64,
) -> Vec<f64> {
    let grid = |lo: f64, hi: f64, k: usize| -> Vec<f64> {
        (0..k)
            .map(|i| 10f64.powf(lo + (hi - lo) * i as f64 / (k - 1) as f64))
            .collect()
    };
    match (opts.form, opts.estimator) {
        (Form::LogLink, _) => grid(-5.0, 0.0, 10)
            .into_iter()
            .map(|v| v * y_mean.max(1e-12))
            .collect(),
        (_, Estimator::ElasticNet) => {
            let amax = (rmax / (n * opts.l1_ratio)).max(1e-300);
            grid(-4.0, 0.0, 30).into_iter().map(|v| v * amax).collect()
        }
        _ => grid(-6.0, 0.5, 30)
            .into_iter()
            .map(|v| v * a_diag_mean.max(1e-300))
            .collect(),
    }
}

/// Fits the attribution model on a timeline (see the module docs).
pub fn fit(tl: &Timeline, opts: &AttributeOptions) -> Result<Attribution> {
    crate::threads::install(|| fit_on_pool(tl, opts))
}

fn fit_on_pool(tl: &Timeline, opts: &AttributeOptions) -> Result<Attribution> {
    opts.check()?;
    let factors: Vec<FactorSpec> = opts
        .factors
        .clone()
        .unwrap_or_else(|| default_factors(tl))
        .into_iter()
        .map(|mut f| {
            if f.name.is_empty() {
                f.name = f.column.clone();
            }
            f
        })
        .collect();
    let unit_yuan = tl
        .meta(&opts.target)
        .map(|m| m.unit == "yuan")
        .unwrap_or(false);
    let use_price = opts.exposure.is_some()
        && opts.form != Form::Linear
        && opts
            .price_level
            .unwrap_or(unit_yuan && tl.position(PRICE_LEVEL).is_some());
    let price = if use_price && opts.price_level.is_none() {
        // The default: the price line where the data allow one.
        calibrate_price(tl, &opts.target)
    } else if use_price {
        Some(calibrate_price(tl, &opts.target).ok_or_else(|| {
            VapError::InvalidArgument(
                "price_level needs the timeline columns 'orders' and 'price_level' (attribute::enrich adds the latter) and some orders".into(),
            )
        })?)
    } else {
        None
    };
    let d = design::build(tl, opts, &factors, None, price)?;
    let n_valid = d.valid.iter().filter(|v| **v).count();
    if n_valid < 10 + d.cols.len() {
        return Err(VapError::InvalidArgument(format!(
            "{n_valid} usable bins for {} coefficients: too few (use a finer step or fewer factors)",
            d.cols.len()
        )));
    }
    let step = tl.step_ms().max(1);
    let u = ((opts.block_ms / 4) / step).max(1) as usize;
    let unit_list = units(&d, u);
    // Statistics per unit over all candidate columns (the log-link form uses
    // the exposure-scaled values for its carryover search).
    let unit_stats: Vec<Stats> = unit_list
        .par_iter()
        .map(|(_, r)| {
            let rows: Vec<usize> = r.clone().filter(|&i| d.valid[i]).collect();
            let all: Vec<usize> = (0..d.cols.len()).collect();
            let mut z = d.matrix(&rows, &all);
            let mut y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
            if d.form == Form::LogLink && d.has_exposure {
                for (a, &i) in rows.iter().enumerate() {
                    z.row_mut(a).mapv_inplace(|v| v * d.e[i]);
                    y[a] = d.y[i];
                }
            }
            Stats::of(z.view(), y.view())
        })
        .collect();
    let nunits = unit_list.len();
    // Sessions' unit ranges: folds, the holdout and bootstrap blocks are cut
    // within each session, so every training set and replicate keeps part of
    // every session (its fixed effect stays estimable).
    let mut session_units: Vec<Range<usize>> = Vec::new();
    for (k, (s, _)) in unit_list.iter().enumerate() {
        match session_units.last_mut() {
            Some(r) if unit_list[r.start].0 == *s => r.end = k + 1,
            _ => session_units.push(k..k + 1),
        }
    }
    let kf = opts.folds;
    let gap = ((opts.gap_ms / step) as usize).div_ceil(u);
    let folds: Vec<(Vec<usize>, Vec<usize>)> = (0..kf)
        .map(|k| {
            let (mut test, mut excl) = (Vec::new(), Vec::new());
            for r in &session_units {
                let m = r.len();
                let (a, b) = (r.start + k * m / kf, r.start + (k + 1) * m / kf);
                test.extend(a..b);
                if b > a {
                    excl.extend(a.saturating_sub(gap).max(r.start)..(b + gap).min(r.end));
                }
            }
            (test, excl)
        })
        .filter(|(t, _)| !t.is_empty())
        .collect();
    let ctx = Ctx {
        d: &d,
        opts,
        unit_stats,
        units: unit_list,
        folds,
        session_units,
    };
    let all_stats = ctx.total(0..nunits);
    let fold_stats = ctx.fold_stats();
    let nu = d.nu;

    // ---- the column selection: base columns + one candidate per factor
    let mut choice: Vec<usize> = d
        .factors
        .iter()
        .map(|f| f.candidates[f.candidates.len() / 2])
        .collect();
    let sel_of = |choice: &[usize]| -> Vec<usize> {
        let mut s: Vec<usize> = (0..nu).collect();
        s.extend_from_slice(choice);
        s
    };
    let penalised = opts.estimator != Estimator::Ols;
    let penalty_grid = |sel: &[usize]| -> Result<Vec<f64>> {
        if let Some(p) = &opts.penalties {
            return Ok(p.clone());
        }
        let st = all_stats.select(sel);
        let prob = ctx.problem(&st, sel)?;
        let px = sel.len() - nu;
        let (mut dm, mut rmax) = (st.n, 0.0f64);
        if px > 0 {
            rmax = prob.max_abs_r(&st)?;
            if !opts.standardize {
                dm = (0..px).map(|k| st.g[[nu + k, nu + k]]).sum::<f64>() / px as f64;
            }
        }
        let ymean =
            d.y.iter()
                .zip(&d.valid)
                .filter(|(_, v)| **v)
                .map(|(y, _)| *y)
                .sum::<f64>()
                / n_valid as f64;
        Ok(default_penalties(opts, dm, rmax, st.n, ymean))
    };
    let glm = opts.form == Form::LogLink;
    // Cross-validation of the penalty for the linear forms (the log link
    // cross-validates with IRLS below).
    let choose_penalty = |sel: &[usize]| -> Result<(f64, Vec<CvPoint>)> {
        if !penalised {
            return Ok((0.0, vec![]));
        }
        if let Some(p) = opts.penalty {
            return Ok((p, vec![]));
        }
        let grid = penalty_grid(sel)?;
        let err = ctx.cv_errors(&fold_stats, sel, &all_stats, &grid)?;
        let best = (0..grid.len())
            .min_by(|&a, &b| err[a].total_cmp(&err[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        Ok((
            grid[best],
            grid.iter()
                .zip(&err)
                .map(|(p, e)| CvPoint {
                    penalty: *p,
                    error: *e,
                })
                .collect(),
        ))
    };
    let searched: Vec<usize> = (0..d.factors.len())
        .filter(|&f| d.factors[f].candidates.len() > 1)
        .collect();
    let (mut penalty, mut cv) = if glm {
        (0.0, vec![])
    } else {
        choose_penalty(&sel_of(&choice))?
    };
    let mut candidates_seen = 1usize;
    if !searched.is_empty() {
        let lin_pen = if glm { 0.0 } else { penalty };
        let lin_pen = if glm && penalised {
            // A light ridge for the proxy search.
            let sel = sel_of(&choice);
            let st = all_stats.select(&sel);
            st.n * 1e-4
        } else {
            lin_pen
        };
        let score = |ch: &[usize]| -> f64 {
            let sel = sel_of(ch);
            ctx.cv_errors(&fold_stats, &sel, &all_stats, &[lin_pen])
                .map(|e| e[0])
                .unwrap_or(f64::INFINITY)
        };
        let total: f64 = searched
            .iter()
            .map(|&f| d.factors[f].candidates.len() as f64)
            .product();
        if total <= opts.max_candidates as f64 {
            let combos: Vec<Vec<usize>> = {
                let mut out = vec![choice.clone()];
                for &f in &searched {
                    let mut next = Vec::new();
                    for c in &out {
                        for &cand in &d.factors[f].candidates {
                            let mut c2 = c.clone();
                            c2[f] = cand;
                            next.push(c2);
                        }
                    }
                    out = next;
                }
                out
            };
            let scores: Vec<f64> = combos.par_iter().map(|c| score(c)).collect();
            candidates_seen = combos.len();
            let best = (0..combos.len())
                .min_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)))
                .unwrap_or(0);
            choice = combos[best].clone();
        } else {
            candidates_seen = 0;
            for _sweep in 0..2 {
                for &f in &searched {
                    let cands = &d.factors[f].candidates;
                    let scores: Vec<f64> = cands
                        .par_iter()
                        .map(|&c| {
                            let mut ch = choice.clone();
                            ch[f] = c;
                            score(&ch)
                        })
                        .collect();
                    candidates_seen += cands.len();
                    let best = (0..cands.len())
                        .min_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)))
                        .unwrap_or(0);
                    choice[f] = cands[best];
                }
            }
        }
        if !glm {
            (penalty, cv) = choose_penalty(&sel_of(&choice))?;
        }
    }
    let sel = sel_of(&choice);
    let p = sel.len();
    let valid_rows = d.valid_rows();

    // ---- the final fit
    let mut se: Option<Array1<f64>> = None;
    let mut df = f64::INFINITY;
    let mut coef: Array1<f64>;
    let glm_prob = |rows: &[usize]| -> Result<GlmData> {
        let z = d.matrix(rows, &sel);
        let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
        let off: Array1<f64> = rows.iter().map(|&i| d.offset(i)).collect();
        let st = Stats::of(z.view(), y.view());
        let prob = ctx.problem(&st, &sel)?;
        Ok((z, y, off, prob))
    };
    // The log link's problem (bounds, scales) over every row, kept for the
    // bootstrap.
    let mut glm_problem: Option<LsqProblem> = None;
    if glm {
        let (z, y, off, prob) = glm_prob(&valid_rows)?;
        if penalised {
            if let Some(pv) = opts.penalty {
                penalty = pv;
            } else {
                // Cross-validate with IRLS, warm-started down the path.
                let grid = penalty_grid(&sel)?;
                let mut err = vec![0.0; grid.len()];
                let mut ntest = 0.0;
                for (test, excl) in &ctx.folds {
                    let rows_of = |r: &[usize]| -> Vec<usize> {
                        r.iter()
                            .flat_map(|&k| ctx.units[k].1.clone())
                            .filter(|&i| d.valid[i])
                            .collect()
                    };
                    let te = rows_of(test);
                    let ex: std::collections::HashSet<usize> = rows_of(excl).into_iter().collect();
                    let tr: Vec<usize> = valid_rows
                        .iter()
                        .copied()
                        .filter(|i| !ex.contains(i))
                        .collect();
                    if tr.len() <= p || te.is_empty() {
                        continue;
                    }
                    let Ok((zt, yt, ot, pr)) = glm_prob(&tr) else {
                        continue;
                    };
                    let zte = d.matrix(&te, &sel);
                    let yte: Vec<f64> = te.iter().map(|&i| d.y[i]).collect();
                    let mut order: Vec<usize> = (0..grid.len()).collect();
                    order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
                    let mut warm: Option<Array1<f64>> = None;
                    let mut fold = vec![0.0; grid.len()];
                    let ok = order.into_iter().all(|k| {
                        let Ok(f) = solve::poisson_irls(
                            zt.view(),
                            yt.view(),
                            ot.view(),
                            &pr,
                            opts.pen(grid[k], 0.0),
                            warm.as_ref(),
                        ) else {
                            return false;
                        };
                        let mu: Vec<f64> = te
                            .iter()
                            .enumerate()
                            .map(|(a, &i)| {
                                (zte.row(a).dot(&f.b) + d.offset(i))
                                    .clamp(-700.0, 700.0)
                                    .exp()
                            })
                            .collect();
                        fold[k] = solve::poisson_deviance(&yte, &mu);
                        warm = Some(f.b);
                        true
                    });
                    if !ok {
                        continue;
                    }
                    err.iter_mut().zip(fold).for_each(|(e, v)| *e += v);
                    ntest += te.len() as f64;
                }
                if ntest == 0.0 {
                    return Err(VapError::InvalidArgument(
                        "too few bins for cross-validation".into(),
                    ));
                }
                let best = (0..grid.len())
                    .min_by(|&a, &b| err[a].total_cmp(&err[b]).then(a.cmp(&b)))
                    .unwrap_or(0);
                penalty = grid[best];
                cv = grid
                    .iter()
                    .zip(&err)
                    .map(|(p, e)| CvPoint {
                        penalty: *p,
                        error: e / ntest,
                    })
                    .collect();
            }
        }
        let f = solve::poisson_irls(
            z.view(),
            y.view(),
            off.view(),
            &prob,
            opts.pen(penalty, 0.0),
            None,
        )?;
        // Wald intervals only where no sign constraint binds at the solution.
        if !penalised && !prob.binds(&f.b) {
            se = Some(f.se.clone());
        }
        coef = f.b;
        glm_problem = Some(prob);
    } else {
        let st = all_stats.select(&sel);
        let prob = ctx.problem(&st, &sel)?;
        let bounded =
            prob.lo.iter().any(|v| v.is_finite()) || prob.hi.iter().any(|v| v.is_finite());
        coef = match opts.estimator {
            Estimator::ElasticNet if !bounded => {
                elastic_net_linfa(&d, &valid_rows, &sel, &st, &prob, penalty, opts.l1_ratio)?
            }
            Estimator::Ols if !bounded => Array1::zeros(0),
            _ => prob.solve(&st, opts.pen(penalty, st.n), None)?,
        };
        // OLS by QR, with its standard errors, unless a sign constraint binds
        // (where none binds, the constrained optimum is the unconstrained one).
        if opts.estimator == Estimator::Ols && (!bounded || !prob.binds(&coef)) {
            let z = d.matrix(&valid_rows, &sel);
            let y: Array1<f64> = valid_rows.iter().map(|&i| d.y[i]).collect();
            let (b, s, dfr) = solve::ols_qr(z.view(), y.view())?;
            se = Some(s);
            df = dfr;
            coef = b;
        }
    }

    // ---- bootstrap
    // Blocks of four units starting at any unit, within a session; each
    // session gets as many units as it has (a session shorter than a block is
    // drawn whole).
    let block_units = 4usize;
    let draw = |r: usize| -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(opts.seed, 0xB007, r as u64));
        let mut out = Vec::with_capacity(nunits + block_units * ctx.session_units.len());
        for su in &ctx.session_units {
            let last_start = su.end.saturating_sub(block_units).max(su.start);
            let mut taken = 0;
            while taken < su.len() {
                let k = rng.random_range(su.start..=last_start);
                let e = (k + block_units).min(su.end);
                out.extend(k..e);
                taken += e - k;
            }
        }
        out
    };
    let mut reps: Vec<Array1<f64>> = if opts.bootstrap == 0 {
        vec![]
    } else if let Some(prob) = glm_problem.as_ref() {
        (0..opts.bootstrap)
            .into_par_iter()
            .map(|r| {
                let rows: Vec<usize> = draw(r)
                    .into_iter()
                    .flat_map(|k| ctx.units[k].1.clone())
                    .filter(|&i| d.valid[i])
                    .collect();
                let z = d.matrix(&rows, &sel);
                let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
                let off: Array1<f64> = rows.iter().map(|&i| d.offset(i)).collect();
                solve::poisson_irls(
                    z.view(),
                    y.view(),
                    off.view(),
                    prob,
                    opts.pen(penalty, 0.0),
                    Some(&coef),
                )
                .map(|f| f.b)
                .unwrap_or_else(|_| Array1::from_elem(p, f64::NAN))
            })
            .collect()
    } else {
        let sel_units: Vec<Stats> = ctx.unit_stats.par_iter().map(|s| s.select(&sel)).collect();
        let st = all_stats.select(&sel);
        let prob = ctx.problem(&st, &sel)?;
        (0..opts.bootstrap)
            .into_par_iter()
            .map(|r| {
                let mut s = Stats::zeros(p);
                for k in draw(r) {
                    s.add(&sel_units[k]);
                }
                prob.solve(&s, opts.pen(penalty, s.n), Some(&coef))
                    .unwrap_or_else(|_| Array1::from_elem(p, f64::NAN))
            })
            .collect()
    };

    let failed = reps
        .iter()
        .filter(|b| !b.iter().all(|v| v.is_finite()))
        .count();
    reps.retain(|b| b.iter().all(|v| v.is_finite()));
    let mut notes = Vec::new();
    if failed > 0 {
        notes.push(format!(
            "{failed} of {} bootstrap replicates could not be fitted and were left out",
            opts.bootstrap
        ));
    }

    // ---- coefficients
    let tq = if glm {
        solve::normal_quantile(0.975)
    } else {
        solve::t_quantile(0.975, df)
    };
    let coefficients: Vec<Coefficient> = sel
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let mut v: Vec<f64> = reps
                .iter()
                .map(|b| b[k])
                .filter(|x| x.is_finite())
                .collect();
            let (bse, blo, bhi) = spread(&mut v);
            let s = se.as_ref().map(|s| s[k]);
            let (lo, hi) = match s {
                Some(s) => (coef[k] - tq * s, coef[k] + tq * s),
                None => (blo, bhi),
            };
            Coefficient {
                name: d.cols[c].name.clone(),
                role: d.cols[c].role,
                half_life_ms: d.cols[c].half_life_ms,
                value: coef[k],
                std_error: s,
                ci_low: lo,
                ci_high: hi,
                boot_se: bse,
                boot_low: blo,
                boot_high: bhi,
            }
        })
        .collect();

    // ---- diagnostics
    let view = DesignView::new(&d, &sel);
    let decomposition = Decomposition::new(
        &opts.target,
        &d,
        view,
        coef.clone(),
        reps.iter().map(|r| r.to_vec()).collect(),
    );
    let mut warnings = d.warnings.clone();
    warnings.extend(notes);
    let diag = diagnostics(
        &ctx,
        &sel,
        &decomposition,
        penalty,
        &mut warnings,
        candidates_seen,
        glm,
        &glm_prob,
    )?;

    let resolved: Vec<ResolvedFactor> = d
        .factors
        .iter()
        .zip(&choice)
        .map(|(f, &c)| ResolvedFactor {
            name: f.spec.name.clone(),
            column: f.spec.column.clone(),
            half_life_ms: d.cols[c].half_life_ms,
            carryover_kind: f.spec.carryover_kind,
            saturation: f
                .spec
                .saturation
                .map(|s| (s.slope, s.inflexion, d.cols[c].sat_max.unwrap_or(0.0))),
            sign: f.sign,
        })
        .collect();
    let spans = tl.spans();
    let model = RoomModel {
        format: "vap-attribution".into(),
        version: 1,
        room_id: spans.first().map(|s| s.room_id.clone()).unwrap_or_default(),
        sessions: spans.iter().map(|s| s.session_id.clone()).collect(),
        step_ms: step,
        options: AttributeOptions {
            factors: Some(factors),
            ..opts.clone()
        },
        price,
        factors: resolved,
        penalty,
        columns: sel
            .iter()
            .enumerate()
            .map(|(k, &c)| ModelColumn {
                name: d.cols[c].name.clone(),
                role: d.cols[c].role,
                value: coef[k],
            })
            .collect(),
        replicates: reps.iter().map(|r| r.to_vec()).collect(),
    };
    Ok(Attribution {
        model,
        coefficients,
        cv,
        diagnostics: diag,
        decomposition,
    })
}

/// Rows of a Poisson fit: design, target, offset, and the problem's bounds.
type GlmData = (Array2<f64>, Array1<f64>, Array1<f64>, LsqProblem);
type GlmProb<'a> = dyn Fn(&[usize]) -> Result<GlmData> + 'a;

#[allow(clippy::too_many_arguments)]
fn diagnostics(
    ctx: &Ctx,
    sel: &[usize],
    dec: &Decomposition,
    penalty: f64,
    warnings: &mut Vec<String>,
    candidates: usize,
    glm: bool,
    glm_prob: &GlmProb,
) -> Result<Diagnostics> {
    let d = ctx.d;
    let opts = ctx.opts;
    let nu = d.nu;
    let valid = d.valid_rows();
    let fit_stats = |rows: &[usize], pred: &dyn Fn(usize) -> f64| -> (f64, f64) {
        let n = rows.len() as f64;
        let mean = rows.iter().map(|&i| d.y[i]).sum::<f64>() / n;
        let sst: f64 = rows.iter().map(|&i| (d.y[i] - mean).powi(2)).sum();
        let sse: f64 = rows.iter().map(|&i| (d.y[i] - pred(i)).powi(2)).sum();
        let r2 = if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN };
        let nrmse = if mean != 0.0 {
            (sse / n).sqrt() / mean
        } else {
            f64::NAN
        };
        (r2, nrmse)
    };
    let (r2, nrmse) = fit_stats(&valid, &|i| dec.prediction[i]);

    // Holdout: the last share of each session's units, predicted by a fit on
    // the rest.
    let (mut train_units, mut test_units) = (Vec::new(), Vec::new());
    for r in &ctx.session_units {
        let cut = r.start + ((1.0 - opts.holdout) * r.len() as f64).round() as usize;
        train_units.extend(r.start..cut);
        test_units.extend(cut..r.end);
    }
    let (mut hr2, mut hnrmse, mut hmape) = (f64::NAN, f64::NAN, f64::NAN);
    if opts.holdout > 0.0 && !train_units.is_empty() && !test_units.is_empty() {
        let rows = |units: &[usize]| -> Vec<usize> {
            units
                .iter()
                .flat_map(|&k| ctx.units[k].1.clone())
                .filter(|&i| d.valid[i])
                .collect()
        };
        let (train_rows, test_rows) = (rows(&train_units), rows(&test_units));
        let b = if glm {
            glm_prob(&train_rows)
                .and_then(|(z, y, off, prob)| {
                    solve::poisson_irls(
                        z.view(),
                        y.view(),
                        off.view(),
                        &prob,
                        opts.pen(penalty, 0.0),
                        Some(&dec.coef),
                    )
                })
                .map(|f| f.b)
                .ok()
        } else {
            let st = ctx.total(train_units.iter().copied()).select(sel);
            ctx.problem(&st, sel)
                .and_then(|prob| prob.solve(&st, opts.pen(penalty, st.n), Some(&dec.coef)))
                .ok()
        };
        if let (Some(b), false) = (b, test_rows.is_empty()) {
            let pred = |i: usize| dec.view.predict(i, &b);
            let (a, c) = fit_stats(&test_rows, &pred);
            hr2 = a;
            hnrmse = c;
            // MAPE over 5-minute sums.
            let w = (300_000
                / d.time_ms
                    .get(1)
                    .map(|t| t - d.time_ms[0])
                    .unwrap_or(1000)
                    .max(1))
            .max(1) as usize;
            let (mut acc, mut k) = (0.0, 0);
            for ch in test_rows.chunks(w) {
                let a: f64 = ch.iter().map(|&i| d.y[i]).sum();
                let p: f64 = ch.iter().map(|&i| pred(i)).sum();
                if a > 0.0 {
                    acc += ((a - p) / a).abs();
                    k += 1;
                }
            }
            if k > 0 {
                hmape = acc / k as f64;
            }
        }
    }

    // Collinearity of the factors after the controls.
    let st = ctx.total(0..ctx.units.len()).select(sel);
    let prob = ctx.problem(&st, sel)?;
    let (vals, vif, vmin) = prob.collinearity(&st)?;
    let names: Vec<String> = sel[nu..].iter().map(|&c| d.cols[c].name.clone()).collect();
    let vmax = vals.iter().fold(0.0f64, |m, v| m.max(*v));
    let vlo = vals.iter().fold(f64::INFINITY, |m, v| m.min(*v));
    let cond = if vals.is_empty() {
        1.0
    } else {
        (vmax / vlo.max(1e-300)).sqrt()
    };
    let high: Vec<String> = names
        .iter()
        .zip(vif.iter())
        .filter(|(_, v)| **v > 10.0)
        .map(|(n, v)| format!("{n} (VIF {v:.1})"))
        .collect();
    if !high.is_empty() {
        warnings.push(format!("collinear factors: {}", high.join(", ")));
    }
    if cond > 30.0 {
        let inv: Vec<&str> = names
            .iter()
            .zip(vmin.iter())
            .filter(|(_, v)| v.abs() > 0.3)
            .map(|(n, _)| n.as_str())
            .collect();
        warnings.push(format!(
            "condition number {cond:.0}: the factors {} move together; their separate effects are poorly determined",
            inv.join(", ")
        ));
    }
    // Residuals: Durbin–Watson within sessions.
    let (mut num, mut den, mut lag) = (0.0, 0.0, 0.0);
    for (_, rows) in &d.sessions {
        let mut prev: Option<f64> = None;
        for i in rows.clone() {
            if !d.valid[i] {
                prev = None;
                continue;
            }
            let r = d.y[i] - dec.prediction[i];
            den += r * r;
            if let Some(q) = prev {
                num += (r - q) * (r - q);
                lag += r * q;
            }
            prev = Some(r);
        }
    }
    let (dw, ac) = if den > 0.0 {
        (num / den, lag / den)
    } else {
        (f64::NAN, f64::NAN)
    };
    if dw < 1.5 {
        warnings.push(format!(
            "residuals are autocorrelated (Durbin–Watson {dw:.2}, lag-1 {ac:.2}): analytic standard errors are too narrow; use the block-bootstrap intervals"
        ));
    }
    Ok(Diagnostics {
        n_bins: valid.len(),
        n_dropped: d.n - valid.len(),
        n_coefficients: sel.len(),
        r2,
        nrmse,
        holdout_r2: hr2,
        holdout_nrmse: hnrmse,
        holdout_mape: hmape,
        vif: names.into_iter().zip(vif.iter().copied()).collect(),
        condition_number: cond,
        durbin_watson: dw,
        residual_autocorrelation: ac,
        candidates,
        warnings: warnings.clone(),
    })
}

/// The unconstrained elastic net, fitted by linfa-elasticnet on the profiled,
/// standardised columns (centring done here, linfa fitted without intercept).
fn elastic_net_linfa(
    d: &Design,
    rows: &[usize],
    sel: &[usize],
    st: &Stats,
    prob: &LsqProblem,
    alpha: f64,
    l1_ratio: f64,
) -> Result<Array1<f64>> {
    use linfa::prelude::*;
    let nu = prob.nu;
    let z = d.matrix(rows, sel);
    let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
    let (t, tt) = prob.residualizer(st)?;
    let u = z.slice(ndarray::s![.., ..nu]);
    let mut x = z.slice(ndarray::s![.., nu..]).to_owned();
    let mut yr = y.clone();
    if nu > 0 {
        x -= &u.dot(&t);
        yr -= &u.dot(&tt);
    }
    for (j, mut c) in x.columns_mut().into_iter().enumerate() {
        c /= prob.scale[j];
    }
    let ds = Dataset::new(x, yr);
    let m = linfa_elasticnet::ElasticNet::params()
        .penalty(alpha)
        .l1_ratio(l1_ratio)
        .with_intercept(false)
        .tolerance(1e-10)
        .max_iterations(100_000)
        .fit(&ds)
        .map_err(|e| VapError::InvalidArgument(format!("elastic net (linfa) failed: {e}")))?;
    prob.unstandardise(st, &m.hyperplane().to_owned())
}

// ---------------------------------------------------------------- decomposition

/// The fitted columns over every row, kept to decompose and to recompute
/// contributions under bootstrap replicates.
#[derive(Debug, Clone)]
struct DesignView {
    form: Form,
    nu: usize,
    roles: Vec<Role>,
    names: Vec<String>,
    /// Raw values, row-major (n × p).
    x: Array2<f64>,
    e: Vec<f64>,
    e_ref: Vec<f64>,
    has_exposure: bool,
}

impl DesignView {
    fn new(d: &Design, sel: &[usize]) -> DesignView {
        let mut x = Array2::zeros((d.n, sel.len()));
        for (b, &j) in sel.iter().enumerate() {
            for i in 0..d.n {
                x[[i, b]] = d.cols[j].x[i];
            }
        }
        DesignView {
            form: d.form,
            nu: d.nu,
            roles: sel.iter().map(|&j| d.cols[j].role).collect(),
            names: sel.iter().map(|&j| d.cols[j].name.clone()).collect(),
            x,
            e: d.e.clone(),
            e_ref: d.e_ref.clone(),
            has_exposure: d.has_exposure,
        }
    }

    fn predict(&self, i: usize, b: &Array1<f64>) -> f64 {
        let (base, traffic, f) = self.parts(i, b.as_slice().unwrap_or(&[]), None);
        base + traffic + f
    }

    /// `(baseline, traffic, Σ factors)` at row `i`; with `out`, each factor's
    /// contribution is written there.
    fn parts(&self, i: usize, b: &[f64], mut out: Option<&mut [f64]>) -> (f64, f64, f64) {
        let x = self.x.row(i);
        let nu = self.nu;
        let (e, er) = (self.e[i], self.e_ref[i]);
        match self.form {
            Form::Linear => {
                let mut base = 0.0;
                let mut traffic = 0.0;
                for j in 0..nu {
                    if self.roles[j] == Role::Traffic {
                        base += b[j] * er;
                        traffic += b[j] * (e - er);
                    } else {
                        base += b[j] * x[j];
                    }
                }
                let mut s = 0.0;
                for j in nu..b.len() {
                    let c = b[j] * x[j];
                    s += c;
                    if let Some(o) = out.as_deref_mut() {
                        o[j - nu] = c;
                    }
                }
                (base, traffic, s)
            }
            Form::Exposure => {
                let u: f64 = (0..nu).map(|j| b[j] * x[j]).sum();
                let mut s = 0.0;
                for j in nu..b.len() {
                    let c = e * b[j] * x[j];
                    s += c;
                    if let Some(o) = out.as_deref_mut() {
                        o[j - nu] = c;
                    }
                }
                (er * u, (e - er) * u, s)
            }
            Form::LogLink => {
                let (e, er) = if self.has_exposure {
                    (e, er)
                } else {
                    (1.0, 1.0)
                };
                let eu = (0..nu)
                    .map(|j| b[j] * x[j])
                    .sum::<f64>()
                    .clamp(-700.0, 700.0)
                    .exp();
                let sum: f64 = (nu..b.len()).map(|j| b[j] * x[j]).sum();
                let total = e * eu * (sum.clamp(-700.0, 700.0).exp_m1());
                if let Some(o) = out {
                    for j in nu..b.len() {
                        let a = b[j] * x[j];
                        o[j - nu] = if sum.abs() > 1e-12 {
                            total * a / sum
                        } else {
                            e * eu * a
                        };
                    }
                }
                (er * eu, (e - er) * eu, total)
            }
        }
    }
}

/// Windows grouped by label, labels in order.
fn grouped(windows: impl Iterator<Item = (String, (Ms, Ms))>) -> Vec<(String, Vec<(Ms, Ms)>)> {
    let mut g: BTreeMap<String, Vec<(Ms, Ms)>> = BTreeMap::new();
    for (label, w) in windows {
        g.entry(label).or_default().push(w);
    }
    g.into_iter().collect()
}

/// Per-bin decomposition: `baseline + traffic + Σ contributions = prediction`.
#[derive(Debug, Clone)]
pub struct Decomposition {
    /// Target column.
    pub target: String,
    /// Model form.
    pub form: Form,
    /// Bin starts.
    pub time_ms: Vec<Ms>,
    /// Sessions and their rows.
    pub sessions: Vec<(String, Range<usize>)>,
    /// Actual values.
    pub actual: Vec<f64>,
    /// Predictions (NaN where a bin was not usable).
    pub prediction: Vec<f64>,
    /// Baseline (the prediction with every factor off at the reference traffic).
    pub baseline: Vec<f64>,
    /// Traffic's contribution.
    pub traffic: Vec<f64>,
    /// Factor names.
    pub factors: Vec<String>,
    /// Contributions, one vector per factor.
    pub contributions: Vec<Vec<f64>>,
    view: DesignView,
    coef: Array1<f64>,
    reps: Vec<Vec<f64>>,
    valid: Vec<bool>,
}

/// A component's total with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// `baseline`, `traffic`, a factor, or `unexplained`.
    pub name: String,
    /// Value (target units).
    pub value: f64,
    /// Bootstrap 2.5 % (NaN without replicates).
    pub low: f64,
    /// Bootstrap 97.5 %.
    pub high: f64,
    /// Share of the whole (of the excess for a moment, of the actual total
    /// for session totals).
    pub share: f64,
}

/// A moment's excess split across traffic and the factors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentAttribution {
    /// Metric.
    pub metric: String,
    /// Start.
    pub start_ms: Ms,
    /// End (exclusive).
    pub end_ms: Ms,
    /// The excess being split.
    pub excess: f64,
    /// Parts, largest first, `unexplained` last; they sum to the excess.
    pub parts: Vec<Part>,
    /// The reference window `(start, end)` around the moment.
    pub reference_ms: (Ms, Ms),
}

impl MomentAttribution {
    /// The largest part other than `unexplained` and `baseline`.
    pub fn top(&self) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name != "unexplained" && p.name != "baseline")
    }
}

/// Totals inside a set of time windows (an anchor's shifts, a product's
/// explain segments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTotals {
    /// Label (anchor id, product id).
    pub label: String,
    /// Bins counted.
    pub bins: usize,
    /// Actual total.
    pub actual: f64,
    /// Predicted total.
    pub prediction: f64,
    /// Baseline, traffic, each factor.
    pub parts: Vec<(String, f64)>,
}

impl Decomposition {
    fn new(
        target: &str,
        d: &Design,
        view: DesignView,
        coef: Array1<f64>,
        reps: Vec<Vec<f64>>,
    ) -> Decomposition {
        let n = d.n;
        let nf = view.names.len() - view.nu;
        let mut prediction = vec![f64::NAN; n];
        let mut baseline = vec![f64::NAN; n];
        let mut traffic = vec![f64::NAN; n];
        let mut contributions = vec![vec![f64::NAN; n]; nf];
        let b = coef.to_vec();
        let mut buf = vec![0.0; nf];
        for i in 0..n {
            if !d.valid[i] {
                continue;
            }
            let (bs, tr, s) = view.parts(i, &b, Some(&mut buf));
            prediction[i] = bs + tr + s;
            baseline[i] = bs;
            traffic[i] = tr;
            for k in 0..nf {
                contributions[k][i] = buf[k];
            }
        }
        Decomposition {
            target: target.to_string(),
            form: d.form,
            time_ms: d.time_ms.clone(),
            sessions: d.sessions.clone(),
            actual: d.y.clone(),
            prediction,
            baseline,
            traffic,
            factors: view.names[view.nu..].to_vec(),
            contributions,
            view,
            coef,
            reps,
            valid: d.valid.clone(),
        }
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    /// Whether there are no bins.
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// Sums of (baseline, traffic, factors...) over `rows` under coefficients `b`.
    fn sums(&self, rows: &[usize], b: &[f64]) -> Vec<f64> {
        let nf = self.factors.len();
        let mut acc = vec![0.0; nf + 2];
        let mut buf = vec![0.0; nf];
        for &i in rows {
            let (bs, tr, _) = self.view.parts(i, b, Some(&mut buf));
            acc[0] += bs;
            acc[1] += tr;
            for k in 0..nf {
                acc[2 + k] += buf[k];
            }
        }
        acc
    }

    fn names(&self) -> Vec<String> {
        let mut v = vec!["baseline".to_string(), "traffic".to_string()];
        v.extend(self.factors.iter().cloned());
        v
    }

    fn intervals(&self, f: &(impl Fn(&[f64]) -> Vec<f64> + Sync)) -> Vec<(f64, f64)> {
        if self.reps.is_empty() {
            return vec![];
        }
        let per: Vec<Vec<f64>> = self
            .reps
            .par_iter()
            .filter(|r| r.iter().all(|v| v.is_finite()))
            .map(|r| f(r))
            .collect();
        let m = per.first().map(|v| v.len()).unwrap_or(0);
        (0..m)
            .map(|k| {
                let mut v: Vec<f64> = per.iter().map(|p| p[k]).collect();
                let (_, lo, hi) = spread(&mut v);
                (lo, hi)
            })
            .collect()
    }

    /// Session totals of the baseline, traffic, every factor and the
    /// unexplained remainder (actual − prediction), with bootstrap intervals;
    /// shares are of the actual total.
    pub fn totals(&self) -> Vec<Part> {
        let rows: Vec<usize> = (0..self.len()).filter(|&i| self.valid[i]).collect();
        let actual: f64 = rows.iter().map(|&i| self.actual[i]).sum();
        let f = |b: &[f64]| {
            let mut s = self.sums(&rows, b);
            let pred: f64 = s.iter().sum();
            s.push(actual - pred);
            s
        };
        self.parts_of(f, actual)
    }

    /// The components `f(coefficients)` yields (baseline, traffic, factors,
    /// unexplained) at the fitted coefficients, with bootstrap intervals over
    /// the replicates and shares of `whole`.
    fn parts_of(&self, f: impl Fn(&[f64]) -> Vec<f64> + Sync, whole: f64) -> Vec<Part> {
        let vals = f(self.coef.as_slice().unwrap_or(&[]));
        let iv = self.intervals(&f);
        let mut names = self.names();
        names.push("unexplained".into());
        names
            .into_iter()
            .enumerate()
            .map(|(k, name)| Part {
                name,
                value: vals[k],
                low: iv.get(k).map(|v| v.0).unwrap_or(f64::NAN),
                high: iv.get(k).map(|v| v.1).unwrap_or(f64::NAN),
                share: if whole != 0.0 {
                    vals[k] / whole
                } else {
                    f64::NAN
                },
            })
            .collect()
    }

    /// Totals inside groups of windows `(label, [(start, end), ...])`.
    pub fn totals_by(&self, groups: &[(String, Vec<(Ms, Ms)>)]) -> Vec<GroupTotals> {
        let b = self.coef.to_vec();
        groups
            .iter()
            .map(|(label, spans)| {
                let rows: Vec<usize> = (0..self.len())
                    .filter(|&i| {
                        self.valid[i]
                            && spans
                                .iter()
                                .any(|(s, e)| self.time_ms[i] >= *s && self.time_ms[i] < *e)
                    })
                    .collect();
                let s = self.sums(&rows, &b);
                GroupTotals {
                    label: label.clone(),
                    bins: rows.len(),
                    actual: rows.iter().map(|&i| self.actual[i]).sum(),
                    prediction: s.iter().sum(),
                    parts: self.names().into_iter().zip(s).collect(),
                }
            })
            .collect()
    }

    /// Totals per host shift of each anchor (`data`'s host shifts, grouped by anchor).
    pub fn totals_by_anchor(&self, data: &[&SessionData]) -> Vec<GroupTotals> {
        self.totals_by(&grouped(data.iter().flat_map(|s| {
            s.shifts
                .iter()
                .filter(|s| s.role == ShiftRole::Host)
                .map(|s| (s.anchor_id.clone(), (s.start_ms, s.end_ms)))
        })))
    }

    /// Totals per host shift, one group each, labelled `"<anchor>@<start ms>"`,
    /// in time order.
    pub fn totals_by_shift(&self, data: &[&SessionData]) -> Vec<GroupTotals> {
        let mut shifts: Vec<(Ms, Ms, String)> = data
            .iter()
            .flat_map(|s| s.shifts.iter())
            .filter(|s| s.role == ShiftRole::Host)
            .map(|s| (s.start_ms, s.end_ms, s.anchor_id.clone()))
            .collect();
        shifts.sort();
        let groups: Vec<(String, Vec<(Ms, Ms)>)> = shifts
            .into_iter()
            .map(|(a, b, id)| (format!("{id}@{a}"), vec![(a, b)]))
            .collect();
        self.totals_by(&groups)
    }

    /// Totals while each product is explained.
    pub fn totals_by_product(&self, data: &[&SessionData]) -> Vec<GroupTotals> {
        self.totals_by(&grouped(data.iter().flat_map(|s| {
            s.segments
                .iter()
                .filter(|s| s.kind == SegmentKind::Explain)
                .map(|s| (s.product_id.clone(), (s.start_ms, s.end_ms)))
        })))
    }

    /// Splits a moment's excess (its `magnitude`, on this model's target) across
    /// traffic, the factors and the baseline's drift, against the reference
    /// window `window_ms / 2` either side (the detector's window; 20 min by
    /// default). See the module docs for the rule.
    pub fn moment(&self, m: &Moment, window_ms: Ms) -> Result<MomentAttribution> {
        if m.metric != self.target {
            return Err(VapError::InvalidArgument(format!(
                "the moment is on '{}' but the model explains '{}': detect moments on the model's target",
                m.metric, self.target
            )));
        }
        self.window(
            &m.metric,
            m.start_ms,
            m.end_ms,
            Some(m.magnitude),
            window_ms,
        )
    }

    /// Splits the excess of `[start, end)` (given, or measured as the actual
    /// total minus the reference window's mean per bin × the window's bins).
    pub fn window(
        &self,
        metric: &str,
        start_ms: Ms,
        end_ms: Ms,
        excess: Option<f64>,
        window_ms: Ms,
    ) -> Result<MomentAttribution> {
        if end_ms <= start_ms || window_ms <= 0 {
            return Err(VapError::InvalidArgument(format!(
                "a window needs start < end and a positive reference window (got {start_ms}..{end_ms}, {window_ms} ms)"
            )));
        }
        let sess = self
            .sessions
            .iter()
            .find(|(_, r)| {
                r.clone()
                    .any(|i| self.time_ms[i] >= start_ms && self.time_ms[i] < end_ms)
            })
            .map(|(_, r)| r.clone())
            .ok_or_else(|| {
                VapError::InvalidArgument(format!(
                    "the window {start_ms}..{end_ms} is outside the decomposed sessions"
                ))
            })?;
        let (rlo, rhi) = (start_ms - window_ms / 2, end_ms + window_ms / 2);
        let inside: Vec<usize> = sess
            .clone()
            .filter(|&i| self.valid[i] && self.time_ms[i] >= start_ms && self.time_ms[i] < end_ms)
            .collect();
        let reference: Vec<usize> = sess
            .filter(|&i| {
                let t = self.time_ms[i];
                self.valid[i] && t >= rlo && t < rhi && !(t >= start_ms && t < end_ms)
            })
            .collect();
        if inside.is_empty() || reference.is_empty() {
            return Err(VapError::InvalidArgument(format!(
                "the window {start_ms}..{end_ms} has no usable bins in it or around it"
            )));
        }
        let nin = inside.len() as f64;
        let nref = reference.len() as f64;
        let excess = excess.unwrap_or_else(|| {
            inside.iter().map(|&i| self.actual[i]).sum::<f64>()
                - nin * reference.iter().map(|&i| self.actual[i]).sum::<f64>() / nref
        });
        let f = |b: &[f64]| -> Vec<f64> {
            let a = self.sums(&inside, b);
            let r = self.sums(&reference, b);
            let mut parts: Vec<f64> = a.iter().zip(&r).map(|(x, y)| x - nin * y / nref).collect();
            let sum: f64 = parts.iter().sum();
            parts.push(excess - sum);
            parts
        };
        let mut parts = self.parts_of(f, excess);
        let un = parts.pop().expect("unexplained part");
        parts.sort_by(|a, b| {
            b.value
                .abs()
                .total_cmp(&a.value.abs())
                .then(a.name.cmp(&b.name))
        });
        parts.push(un);
        Ok(MomentAttribution {
            metric: metric.to_string(),
            start_ms,
            end_ms,
            excess,
            parts,
            reference_ms: (rlo, rhi),
        })
    }

    /// Every moment on this model's target, attributed.
    pub fn moments(&self, moments: &[Moment], window_ms: Ms) -> Result<Vec<MomentAttribution>> {
        moments
            .iter()
            .filter(|m| m.metric == self.target)
            .map(|m| self.moment(m, window_ms))
            .collect()
    }

    /// The decomposition as an Arrow batch: `time`, `session_id`, `actual`,
    /// `prediction`, `baseline`, `traffic`, then one column per factor.
    pub fn to_record_batch(&self) -> Result<arrow_array::RecordBatch> {
        use arrow_array::{ArrayRef, Float64Array, StringArray, TimestampMillisecondArray};
        use arrow_schema::{DataType, Field, Schema, TimeUnit};
        use std::sync::Arc;
        let mut sid = vec![""; self.len()];
        for (s, r) in &self.sessions {
            for i in r.clone() {
                sid[i] = s.as_str();
            }
        }
        let mut fields = vec![
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("session_id", DataType::Utf8, false),
        ];
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(self.time_ms.clone()).with_timezone("UTC")),
            Arc::new(StringArray::from(sid)),
        ];
        let mut push = |name: &str, v: &[f64]| {
            fields.push(Field::new(name, DataType::Float64, true));
            cols.push(Arc::new(Float64Array::from_iter(
                v.iter().map(|x| x.is_finite().then_some(*x)),
            )));
        };
        push("actual", &self.actual);
        push("prediction", &self.prediction);
        push("baseline", &self.baseline);
        push("traffic", &self.traffic);
        for (n, c) in self.factors.iter().zip(&self.contributions) {
            push(n, c);
        }
        arrow_array::RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
            .map_err(|e| VapError::Internal(format!("decomposition batch: {e}")))
    }
}

// ---------------------------------------------------------------- room model

impl RoomModel {
    /// JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(format!("model JSON: {e}")))
    }

    /// Reads a model from JSON, checking its format and version.
    pub fn from_json(text: &str) -> Result<RoomModel> {
        let m: RoomModel = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap attribution model: {e}")))?;
        if m.format != "vap-attribution" || m.version != 1 {
            return Err(VapError::InvalidArgument(format!(
                "model format '{}' version {} is not 'vap-attribution' version 1",
                m.format, m.version
            )));
        }
        if m.replicates.iter().any(|r| r.len() != m.columns.len()) {
            return Err(VapError::InvalidArgument(
                "model replicates do not match its columns".into(),
            ));
        }
        Ok(m)
    }

    /// Saves the model in the store under `rooms/<room>/models/<name>.json`.
    pub fn save(&self, store: &Store, name: &str) -> Result<()> {
        store.save_model(&self.room_id, name, &self.to_json()?)
    }

    /// Loads a saved model.
    pub fn load(store: &Store, room: &str, name: &str) -> Result<RoomModel> {
        RoomModel::from_json(&store.load_model(room, name)?)
    }

    /// Decomposes a timeline of this room (typically a new session) with the
    /// fitted coefficients, without refitting. A session the model was fitted
    /// on keeps its fixed effect; a new session gets the mean of the fitted
    /// sessions' effects. The timeline needs the model's columns (build it with
    /// the same step and [`enrich`] it as for the fit).
    pub fn apply(&self, tl: &Timeline) -> Result<Decomposition> {
        if tl.step_ms() != self.step_ms {
            return Err(VapError::InvalidArgument(format!(
                "the model was fitted on {} ms bins; the timeline has {} ms bins",
                self.step_ms,
                tl.step_ms()
            )));
        }
        if let Some(s) = tl.spans().iter().find(|s| s.room_id != self.room_id) {
            return Err(VapError::InvalidArgument(format!(
                "the model is of room '{}'; the timeline has session '{}' of room '{}'",
                self.room_id, s.session_id, s.room_id
            )));
        }
        let mut opts = self.options.clone();
        opts.controls.session_effects = false;
        let specs: Vec<FactorSpec> = self
            .factors
            .iter()
            .map(|f| FactorSpec {
                name: f.name.clone(),
                column: f.column.clone(),
                carryover_ms: vec![f.half_life_ms],
                carryover_kind: f.carryover_kind,
                saturation: f
                    .saturation
                    .map(|(slope, inflexion, _)| Saturation { slope, inflexion }),
                sign: Some(f.sign),
            })
            .collect();
        let mut d = design::build(tl, &opts, &specs, Some(&self.factors), self.price)?;
        // The session effects: a fitted session keeps its own (its dummy is 1),
        // a new session gets their mean (every dummy 1/S, the reference
        // session's effect being 0), under each bootstrap replicate too.
        let n_levels = self.sessions.len().max(1) as f64;
        let mut inserted = BTreeMap::new();
        for c in self.columns.iter().filter(|c| c.role == Role::Session) {
            let id = c.name.strip_prefix("session:").unwrap_or(&c.name);
            let x: Vec<f64> = (0..d.n)
                .map(|i| {
                    let sid = d.sessions[d.session[i]].0.as_str();
                    if sid == id {
                        1.0
                    } else if self.sessions.iter().any(|s| s == sid) {
                        0.0
                    } else {
                        1.0 / n_levels
                    }
                })
                .collect();
            d.cols.insert(
                d.nu,
                design::Col {
                    name: c.name.clone(),
                    role: Role::Session,
                    factor: None,
                    half_life_ms: 0,
                    sat_max: None,
                    x,
                },
            );
            d.nu += 1;
            inserted.insert(c.name.clone(), ());
        }
        let mut sel = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let j = d
                .cols
                .iter()
                .position(|dc| dc.name == c.name && dc.role == c.role)
                .ok_or_else(|| {
                    VapError::InvalidArgument(format!(
                        "the timeline lacks the model's column '{}'",
                        c.name
                    ))
                })?;
            sel.push(j);
        }
        // The model's columns must be the design's: every unpenalised column
        // once, first, then one column per factor.
        let mut head: Vec<usize> = sel[..d.nu.min(sel.len())].to_vec();
        head.sort_unstable();
        if sel.len() != d.nu + d.factors.len() || head != (0..d.nu).collect::<Vec<_>>() {
            return Err(VapError::InvalidArgument(format!(
                "the model's columns ({}) do not match the design it describes ({} unpenalised, {} factors)",
                self.columns.len(),
                d.nu,
                d.factors.len()
            )));
        }
        let coef: Vec<f64> = self.columns.iter().map(|c| c.value).collect();
        let reps = self.replicates.clone();
        let view = DesignView::new(&d, &sel);
        Ok(Decomposition::new(
            &self.options.target,
            &d,
            view,
            Array1::from(coef),
            reps,
        ))
    }
}

// ---------------------------------------------------------------- timelines

/// A session's timeline for attribution: [`Timeline::build`] then [`enrich`].
pub fn session_timeline(data: &SessionData, opts: &AlignOptions) -> Result<Timeline> {
    let mut tl = Timeline::build(data, opts)?;
    enrich(&mut tl, data)?;
    Ok(tl)
}

/// A room's sessions stacked for the single-room model: each session's
/// [`session_timeline`], then [`Timeline::stack`].
pub fn room_timeline<D>(sessions: &[D], opts: &AlignOptions) -> Result<Timeline>
where
    D: std::borrow::Borrow<SessionData> + Sync,
{
    let parts: Vec<Timeline> = crate::threads::install(|| {
        sessions
            .par_iter()
            .map(|s| session_timeline(s.borrow(), opts))
            .collect::<Result<Vec<_>>>()
    })?;
    Timeline::stack(parts)
}

/// The room's stored sessions ([`Store::load_room`]) as [`room_timeline`].
pub fn store_room_timeline(store: &Store, room_id: &str, opts: &AlignOptions) -> Result<Timeline> {
    room_timeline(&store.load_room(room_id)?, opts)
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
        let mut map = match v {
            serde_json::Value::Null => serde_json::Map::new(),
            serde_json::Value::Object(m) => m,
            other => {
                return Err(VapError::InvalidArgument(format!(
                    "{} must be an object, got {other}",
                    AttributeOptions::WHAT
                )))
            }
        };
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

/// Fits the single-room model over every stored session of `room_id`
/// ([`store_room_timeline`] with the request's timeline options, session
/// fixed effects) and, when the request names it, saves it in the store.
pub fn fit_room(store: &Store, room_id: &str, req: &FitRequest) -> Result<Attribution> {
    if let Some(name) = &req.name {
        crate::store::check_id(name)
            .map_err(|e| VapError::InvalidArgument(format!("model name '{name}': {e}")))?;
    }
    let tl = store_room_timeline(store, room_id, &req.timeline.0)?;
    let fit = fit(&tl, &req.model)?;
    if let Some(name) = &req.name {
        fit.model.save(store, name)?;
    }
    Ok(fit)
}
