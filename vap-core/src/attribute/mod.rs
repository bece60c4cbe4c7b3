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
//!   `answers` (utterances answering a viewer's question),
//!   `host:<anchor>`, `comments`; each with an optional carryover (geometric
//!   adstock, normalised, by half-life, or a hold over a trailing window;
//!   applied within each session), an optional saturation (a Hill curve, or
//!   the logarithmic curve `ln(1 + x/(k·max))`) and a sign constraint.
//!   Every combination of the lengths, shapes (`auto`: both) and
//!   saturations (`auto`: linear or S-shaped; under the log link the
//!   logarithmic curve too) a factor lists is a candidate; the blocked
//!   cross-validation keeps one per factor, reported in [`ResolvedFactor`]
//!   and on each [`Coefficient`]. [`default_factors`] picks explains and
//!   promotions (held 0–60 s), the urgency / price phrase groups (held
//!   0–120 s, saturation searched), the answered questions (`answers`, else
//!   the answer phrases; held 30–90 s in 10 s steps or 2 min, saturation
//!   searched), all constrained
//!   ≥ 0, and every anchor but the one on air the longest (free sign); how
//!   those were chosen, on two simulators, is in [`default_factors`].
//!   Factors the data cannot tell apart are listed in
//!   [`Diagnostics::confounded`];
//! * **controls**: a base level, a within-session trend, time-of-day
//!   harmonics, and session fixed effects when several sessions are fitted
//!   together (the single-room model);
//! * **traffic as exposure** ([`Form`]):
//!   - `auto` (default): the exposure form or the log link, whichever has
//!     the lower cross-validated mean squared error of the target per bin
//!     (each at its own chosen columns and penalty, on the same blocked
//!     folds); effects that add up on conversion favour the first, effects
//!     that multiply the second. [`Diagnostics::form`] names the form
//!     fitted, [`Diagnostics::form_cv`] gives both scores;
//!   - `exposure`: `y_t = e_t · (β0 + controls_t + Σ βk·xk,t)`, the
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
//! # Paid and natural traffic
//!
//! Where the timeline has ad spend (`ad_spend`), a second stage models the
//! viewers (and the entries) on the spend carried over, the carryover chosen
//! by cross-validation, and splits the traffic into paid and natural:
//! [`Attribution::paid`] holds the paid viewers and entries, the paid
//! viewers' GMV and the return on ad spend with intervals, and
//! [`PaidTraffic::moment`] the same inside a moment (see [`PaidTraffic`]).
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
//!
//! ```
//! use vap_core::attribute::{fit, session_timeline, AttributeOptions, AttributionTimelineOptions};
//! use vap_core::options::Options;
//! use vap_core::sim::{simulate, SimConfig};
//!
//! let room = simulate(&SimConfig { seed: 3, hours: 1.0, ..Default::default() }).unwrap();
//! let tl = session_timeline(&room.data, &AttributionTimelineOptions::default().0).unwrap();
//! let opts = AttributeOptions::from_json(r#"{"bootstrap": 20, "seed": 1}"#).unwrap();
//! let a = fit(&tl, &opts).unwrap();
//! // Every bin splits exactly: baseline + traffic + factors = the prediction.
//! let total: f64 = a.decomposition.totals().iter().map(|p| p.value).sum();
//! assert!(total.is_finite());
//! for part in a.decomposition.totals() {
//!     println!("{:<20} {:>10.0}", part.name, part.value);
//! }
//! ```
//!
//! [`fit`]: fn@fit
//! [`Timeline`]: crate::align::Timeline

mod bootstrap;
mod cv;
mod decompose;
mod design;
mod diagnostics;
mod fit;
mod model;
mod options;
mod paid;
mod reduce;
mod search;
mod solve;
mod timeline;
mod units;

pub use cv::CvPoint;
pub use decompose::{Decomposition, GroupTotals, MomentAttribution, Part};
pub use design::{
    default_factors, ResolvedFactor, Role, DEFAULT_CARRYOVER_MS, DEFAULT_EVENT_CARRYOVER_MS,
    DEFAULT_HOLD_MS,
};
pub use diagnostics::{Confounded, Diagnostics, CONFOUNDED_CORRELATION};
pub use fit::{fit, fit_room, Attribution, Coefficient};
pub use model::{ModelColumn, RoomModel};
pub use options::{
    AdsOptions, AttributeOptions, AttributionTimelineOptions, CarryoverKind, Controls, Curve,
    Estimator, FactorSpec, FitRequest, Form, Saturation, SaturationSpec, Sign, SplitOptions,
    AUTO_LOG_SCALES, AUTO_SATURATIONS, TIMELINE_STEP_MS,
};
pub use paid::{CarryoverScore, Interval, MomentAds, PaidSeries, PaidTraffic, SpendResponse};
pub use reduce::{
    fit_room_by_sessions, ColumnSummary, RoomFit, RoomPlan, SessionGram, SessionSummary,
};
pub(crate) use timeline::session_timeline_with;
pub use timeline::{
    enrich, enrich_with, room_timeline, session_timeline, store_room_timeline, ANSWERS, PRICE_LEVEL,
};

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync>() {}

    /// Every public item keeps its path `attribute::<name>` whichever file
    /// defines it, and every public type is `Send + Sync`.
    #[test]
    fn public_items_keep_their_paths() {
        use crate::attribute as a;
        send_sync::<a::AttributeOptions>();
        send_sync::<a::Attribution>();
        send_sync::<a::AttributionTimelineOptions>();
        send_sync::<a::CarryoverKind>();
        send_sync::<a::Coefficient>();
        send_sync::<a::Controls>();
        send_sync::<a::CvPoint>();
        send_sync::<a::Decomposition>();
        send_sync::<a::Diagnostics>();
        send_sync::<a::Estimator>();
        send_sync::<a::FactorSpec>();
        send_sync::<a::FitRequest>();
        send_sync::<a::Form>();
        send_sync::<a::GroupTotals>();
        send_sync::<a::ModelColumn>();
        send_sync::<a::MomentAttribution>();
        send_sync::<a::Part>();
        send_sync::<a::PaidTraffic>();
        send_sync::<a::MomentAds>();
        send_sync::<a::AdsOptions>();
        send_sync::<a::ResolvedFactor>();
        send_sync::<a::Role>();
        send_sync::<a::RoomModel>();
        send_sync::<a::Saturation>();
        send_sync::<a::Sign>();
        send_sync::<a::SplitOptions>();
        let _ = (
            a::fit,
            a::fit_room,
            a::default_factors,
            a::enrich,
            a::session_timeline,
            a::room_timeline::<crate::SessionData>,
            a::store_room_timeline,
        );
        assert_eq!(a::PRICE_LEVEL, "price_level");
        assert_eq!(a::TIMELINE_STEP_MS, 10_000);
        assert_eq!(a::DEFAULT_CARRYOVER_MS[0], 0);
    }
}
