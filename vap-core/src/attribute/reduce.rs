//! The room model fitted from per-session statistics, so that a room's
//! history never has to be in one place (one machine, or one executor of a
//! cluster). Four steps; the first and third read one session at a time:
//!
//! 1. [`SessionSummary::of`] each session's attribution timeline: its columns
//!    (kinds, ranges, sums) and the sums of the price line;
//! 2. [`RoomPlan::new`] from every summary: the sessions in order, the
//!    columns of the stacked room, the factors (defaults found as in the
//!    room's own timeline, constant ones left out), each factor's saturation
//!    scale and the price line;
//! 3. [`RoomPlan::gram`] each session: its rows of the room's design,
//!    summed per unit (a quarter block) into `n`, `Z'Z`, `Z'y`, `y'y` over
//!    every candidate column ([`SessionGram`], a compact binary form);
//! 4. [`RoomPlan::fit`] from every session's statistics: the carryover search,
//!    the cross-validated penalty, the final fit and the block bootstrap,
//!    all sums of units, give the [`RoomModel`] that [`fit`] gives on the
//!    stacked room timeline (to rounding).
//!
//! Only the linear forms reduce to sums: [`Form::Auto`] is fitted as the
//! exposure form (or linear without an exposure; a warning says so), and the
//! log link is refused (its IRLS needs a pass over the rows per iteration).
//! The elastic net and OLS are solved from the statistics too (the same
//! optimum to the solver's tolerance; OLS intervals come from the
//! bootstrap). The decomposition of each session is [`RoomModel::apply`].
//!
//! [`fit`]: super::fit()

use std::collections::{BTreeMap, HashMap};

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::cv::CvPoint;
use super::design::{self, Col, Design, FactorCols, Role};
use super::fit::{self, Coefficient, Estimate};
use super::model::RoomModel;
use super::solve::Stats;
use super::timeline::{session_timeline, PRICE_LEVEL};
use super::units::{self, Ctx, SessionPart, UnitStats};
use super::{
    bootstrap, diagnostics, search, AttributeOptions, CarryoverKind, Estimator, FactorSpec,
    FitRequest, Form, Saturation, Sign,
};
use crate::align::{ColumnMeta, Timeline};
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::Ms;
use crate::store::Store;

/// One column of a session's timeline, as a room plan needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    /// The column's metadata.
    pub meta: ColumnMeta,
    /// Its smallest finite value (`None`: no finite value).
    pub min: Option<f64>,
    /// Its largest finite value.
    pub max: Option<f64>,
    /// The sum of its finite values.
    pub sum: f64,
}

/// What a room plan needs of one session (pass 1): its columns and the sums
/// of the price line. Small (tens of kB); JSON via serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Room.
    pub room_id: String,
    /// Session.
    pub session_id: String,
    /// Start of the session's grid (orders the sessions, then the id).
    pub start_ms: Ms,
    /// Bin width.
    pub step_ms: Ms,
    /// Every column, in the timeline's order.
    pub columns: Vec<ColumnSummary>,
    /// The price line's sums over the session (see the module docs); `None`
    /// without the target, `orders` or the price level.
    pub price: Option<[f64; 5]>,
}

impl SessionSummary {
    /// The summary of one session's attribution timeline
    /// ([`super::session_timeline`]); `opts` names the target.
    pub fn of(tl: &Timeline, opts: &AttributeOptions) -> Result<SessionSummary> {
        let span = one_span(tl)?;
        let columns = tl
            .columns()
            .iter()
            .map(|m| {
                let v = tl.values(&m.name)?;
                let finite = v.iter().copied().filter(|x| x.is_finite());
                let (mut min, mut max, mut sum) = (None::<f64>, None::<f64>, 0.0);
                for x in finite {
                    min = Some(min.map_or(x, |m| m.min(x)));
                    max = Some(max.map_or(x, |m| m.max(x)));
                    sum += x;
                }
                Ok(ColumnSummary {
                    meta: m.clone(),
                    min,
                    max,
                    sum,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SessionSummary {
            room_id: span.room_id.clone(),
            session_id: span.session_id.clone(),
            start_ms: span.grid.start_ms,
            step_ms: tl.step_ms(),
            columns,
            price: fit::price_sums(tl, &opts.target),
        })
    }

    /// JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(format!("summary JSON: {e}")))
    }

    /// Reads a summary from JSON.
    pub fn from_json(text: &str) -> Result<SessionSummary> {
        serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap session summary: {e}")))
    }

    fn column(&self, name: &str) -> Option<&ColumnSummary> {
        self.columns.iter().find(|c| c.meta.name == name)
    }
}

/// The timeline's one span, or an error (a room plan reads one session at
/// a time).
fn one_span(tl: &Timeline) -> Result<&crate::align::SessionSpan> {
    match tl.spans() {
        [s] => Ok(s),
        spans => Err(VapError::InvalidArgument(format!(
            "a room plan reads one session's timeline at a time; this one has {} sessions",
            spans.len()
        ))),
    }
}

/// The room's fit, planned from every session's [`SessionSummary`]
/// (pass 2): what each session needs to build its rows of the room's design.
/// Serialises to JSON; ship it to wherever the sessions are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomPlan {
    /// `"vap-room-plan"`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Room.
    pub room_id: String,
    /// Bin width.
    pub step_ms: Ms,
    /// The sessions, in the room's order (start, then id).
    pub sessions: Vec<String>,
    /// The options, with the form to fit (never `auto` or the log link) and
    /// the factors as given or found (before constant ones are left out).
    pub options: AttributeOptions,
    /// The columns of the stacked room, in its order.
    pub columns: Vec<ColumnMeta>,
    /// The factors fitted (the constant ones left out).
    pub factors: Vec<FactorSpec>,
    /// Each fitted factor's saturation scale: its column's maximum over the
    /// room (0 included).
    pub maxima: Vec<f64>,
    /// The expected-order-value line multiplying the exposure, if any.
    pub price: Option<(f64, f64)>,
    /// What the plan changed or left out.
    pub warnings: Vec<String>,
}

impl RoomPlan {
    /// Plans the fit of one room from its sessions' summaries (any order;
    /// each session once), under `opts` (the options of [`super::fit()`]).
    /// Every problem is listed in one error.
    pub fn new(summaries: &[SessionSummary], opts: &AttributeOptions) -> Result<RoomPlan> {
        opts.check()?;
        let mut warnings = Vec::new();
        let form = match opts.form {
            Form::LogLink => {
                return Err(VapError::InvalidArgument(
                    "the log link (Poisson) cannot be fitted from per-session statistics: its IRLS needs the rows at every iteration; fit it with attribute::fit on the room's timeline, or choose form 'exposure' or 'linear'".into(),
                ))
            }
            Form::Auto => {
                let f = if opts.exposure.is_some() {
                    Form::Exposure
                } else {
                    Form::Linear
                };
                warnings.push(format!(
                    "form 'auto' compares the exposure form with the log link, which needs the rows: fitted from per-session statistics as '{}'",
                    f.as_str()
                ));
                f
            }
            f => f,
        };
        let mut order: Vec<&SessionSummary> = summaries.iter().collect();
        order.sort_by(|a, b| (a.start_ms, &a.session_id).cmp(&(b.start_ms, &b.session_id)));
        let mut problems = Vec::new();
        let Some(first) = order.first() else {
            return Err(VapError::InvalidArgument(
                "a room plan needs at least one session's summary".into(),
            ));
        };
        let (room, step) = (first.room_id.clone(), first.step_ms);
        let mut seen = BTreeMap::new();
        let mut columns: Vec<ColumnMeta> = Vec::new();
        let mut pos: HashMap<String, usize> = HashMap::new();
        for s in &order {
            if s.room_id != room {
                problems.push(format!(
                    "session '{}' is in room '{}', not '{room}'",
                    s.session_id, s.room_id
                ));
            }
            if s.step_ms != step {
                problems.push(format!(
                    "session '{}' has step {} ms, expected {step} ms",
                    s.session_id, s.step_ms
                ));
            }
            if seen.insert(s.session_id.as_str(), ()).is_some() {
                problems.push(format!("session '{}' is given twice", s.session_id));
            }
            for c in &s.columns {
                match pos.get(&c.meta.name) {
                    Some(&k) if columns[k].kind != c.meta.kind => problems.push(format!(
                        "column '{}' is {} in one session and {} in another",
                        c.meta.name,
                        columns[k].kind.as_str(),
                        c.meta.kind.as_str()
                    )),
                    Some(_) => {}
                    None => {
                        pos.insert(c.meta.name.clone(), columns.len());
                        columns.push(c.meta.clone());
                    }
                }
            }
        }
        // A column's finite values over the room: a session without it
        // contributes its fill (0 for counts, sums, intervals and phrase
        // counts, missing otherwise), as in the stacked timeline.
        let range = |name: &str| -> (Option<f64>, Option<f64>, f64) {
            let zero_fill = pos
                .get(name)
                .is_some_and(|&k| columns[k].kind.absent_is_zero());
            let (mut lo, mut hi, mut sum) = (None::<f64>, None::<f64>, 0.0);
            let mut take = |a: Option<f64>, b: Option<f64>| {
                if let Some(a) = a {
                    lo = Some(lo.map_or(a, |l: f64| l.min(a)));
                }
                if let Some(b) = b {
                    hi = Some(hi.map_or(b, |h: f64| h.max(b)));
                }
            };
            for s in &order {
                match s.column(name) {
                    Some(c) => {
                        take(c.min, c.max);
                        sum += c.sum;
                    }
                    None if zero_fill => take(Some(0.0), Some(0.0)),
                    None => {}
                }
            }
            (lo, hi, sum)
        };
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let has = |n: &str| pos.contains_key(n);
        let specs = fit::named_factors(
            opts.factors
                .clone()
                .unwrap_or_else(|| design::default_factors_of(&names, &|n| range(n).2)),
        );
        // The checks of the design, on the room's columns.
        if !has(&opts.target) {
            problems.push(format!(
                "the timeline has no target column '{}'",
                opts.target
            ));
        }
        match &opts.exposure {
            Some(c) if !has(c) => problems.push(format!(
                "the timeline has no exposure column '{c}' (online viewers are 'online_viewers'; set exposure to another column or to none)"
            )),
            None if form != Form::Linear => problems.push(format!(
                "the {} form needs an exposure column (e.g. 'online_viewers')",
                form.as_str()
            )),
            _ => {}
        }
        let mut named = BTreeMap::new();
        for f in &specs {
            design::check_factor_on(f, has, &mut problems);
            if named.insert(f.name.clone(), ()).is_some() {
                problems.push(format!("factor '{}' is named twice", f.name));
            }
        }
        if specs.is_empty() {
            problems.push(
                "no factors: the timeline has none of the default factor columns and none were given"
                    .into(),
            );
        }
        if !problems.is_empty() {
            return Err(VapError::InvalidArgument(problems.join("; ")));
        }
        // Constant factors are left out, as the room's design does.
        let mut factors = Vec::new();
        let mut maxima = Vec::new();
        for f in &specs {
            let (lo, hi, _) = range(&f.column);
            let constant = match (lo, hi) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if constant {
                warnings.push(format!(
                    "factor '{}' never varies (column '{}' is constant): left out",
                    f.name, f.column
                ));
            } else {
                factors.push(f.clone());
                maxima.push(hi.unwrap_or(0.0).max(0.0));
            }
        }
        if factors.is_empty() {
            return Err(VapError::InvalidArgument(
                "every factor is constant over the timeline: nothing to attribute".into(),
            ));
        }
        let concrete = AttributeOptions {
            form,
            factors: Some(specs),
            ..opts.clone()
        };
        let unit_yuan = pos
            .get(&opts.target)
            .is_some_and(|&k| columns[k].unit == "yuan");
        let price = fit::price_rule(&concrete, unit_yuan, has(PRICE_LEVEL), || {
            let mut sums = [0.0; 5];
            let mut any = false;
            for s in &order {
                if let Some(p) = s.price {
                    any = true;
                    sums.iter_mut().zip(p).for_each(|(a, b)| *a += b);
                }
            }
            let (lo, hi, _) = range(PRICE_LEVEL);
            let hi = hi.unwrap_or(0.0).max(0.0);
            any.then_some(())
                .and_then(|()| fit::price_of_sums(sums, lo.unwrap_or(f64::INFINITY), hi))
        })?;
        Ok(RoomPlan {
            format: "vap-room-plan".into(),
            version: 1,
            room_id: room,
            step_ms: step,
            sessions: order.iter().map(|s| s.session_id.clone()).collect(),
            options: concrete,
            columns,
            factors,
            maxima,
            price,
            warnings,
        })
    }

    /// JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(format!("plan JSON: {e}")))
    }

    /// Reads a plan from JSON, checking its format and version.
    pub fn from_json(text: &str) -> Result<RoomPlan> {
        let p: RoomPlan = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap room plan: {e}")))?;
        if p.format != "vap-room-plan" || p.version != 1 {
            return Err(VapError::InvalidArgument(format!(
                "plan format '{}' version {} is not 'vap-room-plan' version 1",
                p.format, p.version
            )));
        }
        p.options.check()?;
        let mut problems = Vec::new();
        if !matches!(p.options.form, Form::Exposure | Form::Linear) {
            problems.push(format!(
                "form '{}' is not fitted from statistics (exposure or linear)",
                p.options.form.as_str()
            ));
        }
        if p.step_ms <= 0 {
            problems.push(format!("step_ms {} is not positive", p.step_ms));
        }
        let mut seen = BTreeMap::new();
        if p.sessions.is_empty() {
            problems.push("no sessions".into());
        }
        for s in &p.sessions {
            if seen.insert(s.as_str(), ()).is_some() {
                problems.push(format!("session '{s}' is listed twice"));
            }
        }
        if p.factors.is_empty() {
            problems.push("no factors".into());
        }
        if p.maxima.len() != p.factors.len()
            || p.maxima.iter().any(|m| !(m.is_finite() && *m >= 0.0))
        {
            problems.push("its saturation scales do not match its factors".into());
        }
        if !problems.is_empty() {
            return Err(VapError::InvalidArgument(format!(
                "not a usable room plan: {}",
                problems.join("; ")
            )));
        }
        Ok(p)
    }

    /// The plan's fingerprint: a hash of its JSON but the warnings, carried
    /// by every [`SessionGram`] built under it, so that [`RoomPlan::fit`]
    /// takes statistics of this plan only (another target, exposure, price
    /// line, unit size or set of sessions gives other sums).
    fn fingerprint(&self) -> Result<String> {
        let plain = RoomPlan {
            warnings: Vec::new(),
            ..self.clone()
        };
        let text = plain.to_json()?;
        // FNV-1a, 64 bits: stable across platforms and versions of Rust.
        let h = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Ok(format!("{h:016x}"))
    }

    /// Whether the room's design has session effects, and whether the first
    /// session is their reference (it has no column where there is a base).
    fn session_effects(&self) -> (bool, bool) {
        let o = &self.options;
        (
            o.controls.session_effects && self.sessions.len() > 1,
            o.intercept || o.form == Form::Exposure,
        )
    }

    /// One session's statistics (pass 3): its attribution timeline's rows of
    /// the room's design, summed per unit over every candidate column.
    pub fn gram(&self, tl: &Timeline) -> Result<SessionGram> {
        crate::threads::install(|| self.gram_on_pool(tl))
    }

    fn gram_on_pool(&self, tl: &Timeline) -> Result<SessionGram> {
        let span = one_span(tl)?;
        let mut problems = Vec::new();
        if span.room_id != self.room_id {
            problems.push(format!(
                "session '{}' is in room '{}', the plan is of room '{}'",
                span.session_id, span.room_id, self.room_id
            ));
        }
        if tl.step_ms() != self.step_ms {
            problems.push(format!(
                "the plan is of {} ms bins; the timeline has {} ms bins",
                self.step_ms,
                tl.step_ms()
            ));
        }
        let k = self.sessions.iter().position(|s| *s == span.session_id);
        if k.is_none() {
            problems.push(format!(
                "session '{}' is not one of the plan's {} sessions",
                span.session_id,
                self.sessions.len()
            ));
        }
        let mut padded = tl.clone();
        for m in &self.columns {
            match tl.meta(&m.name) {
                Some(have) if have.kind != m.kind => problems.push(format!(
                    "column '{}' is {} in the plan and {} in session '{}'",
                    m.name,
                    m.kind.as_str(),
                    have.kind.as_str(),
                    span.session_id
                )),
                Some(_) => {}
                None => {
                    let fill = if m.kind.absent_is_zero() {
                        0.0
                    } else {
                        f64::NAN
                    };
                    padded.push(m.clone(), vec![fill; tl.len()])?;
                }
            }
        }
        for m in tl.columns() {
            if !self.columns.iter().any(|c| c.name == m.name) {
                problems.push(format!(
                    "session '{}' has a column the plan does not know ('{}'): plan from this session's own summary",
                    span.session_id, m.name
                ));
            }
        }
        let (Some(k), true) = (k, problems.is_empty()) else {
            return Err(VapError::InvalidArgument(problems.join("; ")));
        };
        let d = design::build_with(
            &padded,
            &self.options,
            &self.factors,
            None,
            Some(&self.maxima),
            self.price,
        )?;
        let (effects, base) = self.session_effects();
        let sess_col = (effects && !(k == 0 && base)).then(|| d.nu + k - usize::from(base));
        let unit_list = units::units(&d, units::unit_rows(&self.options, self.step_ms));
        let dense = units::dense_columns(&d);
        let stats =
            units::unit_statistics_as(&d, &unit_list, &dense, &[sess_col.map(|c| (c, None))]);
        let valid: Vec<usize> = d.valid_rows();
        Ok(SessionGram {
            meta: GramMeta {
                plan: self.fingerprint()?,
                room_id: span.room_id.clone(),
                session_id: span.session_id.clone(),
                rows: d.n,
                n_valid: valid.len(),
                y_sum: valid.iter().map(|&i| d.y[i]).sum(),
                columns: d.cols.iter().map(ColumnHead::of).collect(),
                nu: d.nu,
                warnings: d.warnings.clone(),
            },
            units: stats,
        })
    }

    /// Fits the room's model from every session's statistics (pass 4): each
    /// of the plan's sessions once, in any order. The same search,
    /// cross-validation, final fit and bootstrap as [`super::fit()`] on the
    /// room's stacked timeline, from sums of the same units.
    pub fn fit(&self, grams: Vec<SessionGram>) -> Result<RoomFit> {
        crate::threads::install(|| self.fit_on_pool(grams))
    }

    /// Each of the plan's sessions' statistics, in the plan's order, checked
    /// against the plan: every problem listed in one error.
    fn ordered(&self, grams: Vec<SessionGram>) -> Result<Vec<SessionGram>> {
        let id = self.fingerprint()?;
        let mut problems = Vec::new();
        let mut slots: Vec<Option<SessionGram>> = self.sessions.iter().map(|_| None).collect();
        for g in grams {
            let sid = g.meta.session_id.clone();
            let Some(k) = self.sessions.iter().position(|s| *s == sid) else {
                problems.push(format!(
                    "session '{sid}' (room '{}') is not one of the plan's sessions",
                    g.meta.room_id
                ));
                continue;
            };
            if slots[k].is_some() {
                problems.push(format!("session '{sid}' is given twice"));
                continue;
            }
            if g.meta.plan != id {
                problems.push(format!(
                    "session '{sid}': its statistics were built under another plan (other sessions or options); build them again with this one"
                ));
                continue;
            }
            if let Err(why) = g.fits(self, k) {
                problems.push(format!("session '{sid}': {why}"));
                continue;
            }
            slots[k] = Some(g);
        }
        let missing: Vec<&str> = self
            .sessions
            .iter()
            .zip(&slots)
            .filter(|(_, g)| g.is_none())
            .map(|(s, _)| s.as_str())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "no statistics for session(s) {}",
                missing.join(", ")
            ));
        }
        let ordered: Vec<SessionGram> = slots.into_iter().flatten().collect();
        if let Some(g0) = ordered.first() {
            for g in &ordered[1..] {
                if g.meta.columns != g0.meta.columns || g.meta.nu != g0.meta.nu {
                    problems.push(format!(
                        "session '{}' has other columns than session '{}'",
                        g.meta.session_id, g0.meta.session_id
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(VapError::InvalidArgument(problems.join("; ")));
        }
        Ok(ordered)
    }

    fn fit_on_pool(&self, grams: Vec<SessionGram>) -> Result<RoomFit> {
        let ordered = self.ordered(grams)?;
        let g0 = ordered.first().ok_or_else(|| {
            VapError::InvalidArgument("a room plan's fit needs its sessions' statistics".into())
        })?;
        let opts = &self.options;
        let d = self.skeleton(g0)?;
        let mut unit_list = Vec::new();
        let mut stats = Vec::new();
        let (mut n_valid, mut y_sum, mut rows) = (0usize, 0.0, 0usize);
        let mut warnings = self.warnings.clone();
        for (k, g) in ordered.into_iter().enumerate() {
            unit_list.extend(std::iter::repeat_n((k, 0..0), g.units.len()));
            n_valid += g.meta.n_valid;
            y_sum += g.meta.y_sum;
            rows += g.meta.rows;
            warnings.extend(
                g.meta
                    .warnings
                    .iter()
                    .map(|w| format!("session '{}': {w}", g.meta.session_id)),
            );
            stats.extend(g.units);
        }
        fit::enough_usable(n_valid, d.cols.len())?;
        let ctx = Ctx::from_units(&d, opts, self.step_ms, unit_list, stats, n_valid, y_sum);
        let s = search::select_columns(&ctx)?;
        let sel = search::columns(d.nu, &s.choice);
        let st = ctx.all_stats.select(&sel);
        let prob = ctx.problem(&st, &sel)?;
        let coef = prob.solve(&st, opts.pen(s.penalty, st.n), None)?;
        let (reps, notes) = bootstrap::replicates(&ctx, &sel, &coef, s.penalty, None)?;
        warnings.extend(notes);
        let est = Estimate {
            coef,
            se: None,
            df: f64::INFINITY,
            penalty: s.penalty,
            cv: s.cv,
            glm_problem: None,
        };
        let coefficients = fit::coefficients(&d, &sel, &est, &reps);
        let (vif_names, vif, condition_number) =
            diagnostics::collinearity(&ctx, &sel, &mut warnings)?;
        let r2 = {
            let b = &est.coef;
            let sse = st.yy - 2.0 * b.dot(&st.zy) + b.dot(&st.g.dot(b));
            let sst = st.yy - y_sum * y_sum / n_valid as f64;
            if sst > 0.0 {
                1.0 - sse / sst
            } else {
                f64::NAN
            }
        };
        if opts.estimator != Estimator::Ridge {
            warnings.push(format!(
                "the {} estimate is solved from the statistics (its intervals are the bootstrap's)",
                match opts.estimator {
                    Estimator::Ols => "OLS",
                    _ => "elastic net",
                }
            ));
        }
        let factors = fit::resolved_factors(&d, &s.choice);
        let model = RoomModel {
            format: "vap-attribution".into(),
            version: RoomModel::version_of(&factors),
            room_id: self.room_id.clone(),
            sessions: self.sessions.clone(),
            step_ms: self.step_ms,
            options: opts.clone(),
            price: self.price,
            factors,
            penalty: est.penalty,
            columns: fit::model_columns(&d, &sel, &est.coef),
            replicates: reps.iter().map(|r| r.to_vec()).collect(),
        };
        Ok(RoomFit {
            model,
            coefficients,
            cv: est.cv,
            n_bins: n_valid,
            n_dropped: rows.saturating_sub(n_valid),
            r2,
            vif: vif_names.into_iter().zip(vif.iter().copied()).collect(),
            condition_number,
            candidates: s.candidates,
            warnings,
        })
    }

    /// The room's design without rows: its columns (the sessions' dense
    /// columns with the session effects inserted after the other
    /// unpenalised ones) and factors, for the stages that read statistics.
    fn skeleton(&self, g: &SessionGram) -> Result<Design> {
        let (effects, base) = self.session_effects();
        let mut cols: Vec<Col> = g.meta.columns.iter().map(ColumnHead::col).collect();
        let mut nu = g.meta.nu;
        if effects {
            let heads: Vec<Col> = self
                .sessions
                .iter()
                .enumerate()
                .filter(|(k, _)| !(*k == 0 && base))
                .map(|(_, sid)| ColumnHead {
                    name: format!("session:{sid}"),
                    role: Role::Session,
                    factor: None,
                    half_life_ms: 0,
                    kind: CarryoverKind::Adstock,
                    sat: None,
                    sat_max: None,
                })
                .map(|h| h.col())
                .collect();
            nu += heads.len();
            cols.splice(g.meta.nu..g.meta.nu, heads);
        }
        let mut factors: Vec<FactorCols> = self
            .factors
            .iter()
            .map(|f| FactorCols {
                spec: f.clone(),
                sign: f.sign.unwrap_or(Sign::Free),
                candidates: Vec::new(),
            })
            .collect();
        for (j, c) in cols.iter().enumerate() {
            if let Some(f) = c.factor {
                factors
                    .get_mut(f)
                    .ok_or_else(|| {
                        VapError::InvalidArgument(
                            "the statistics name a factor the plan does not have".into(),
                        )
                    })?
                    .candidates
                    .push(j);
            }
        }
        Ok(Design {
            form: self.options.form,
            n: 0,
            time_ms: Vec::new(),
            session: Vec::new(),
            sessions: self.sessions.iter().map(|s| (s.clone(), 0..0)).collect(),
            y: Vec::new(),
            e: Vec::new(),
            e_ref: Vec::new(),
            has_exposure: self.options.exposure.is_some(),
            valid: Vec::new(),
            cols,
            nu,
            factors,
            warnings: Vec::new(),
        })
    }
}

/// A design column without its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ColumnHead {
    name: String,
    role: Role,
    factor: Option<usize>,
    half_life_ms: Ms,
    kind: CarryoverKind,
    sat: Option<Saturation>,
    sat_max: Option<f64>,
}

impl ColumnHead {
    fn of(c: &Col) -> ColumnHead {
        ColumnHead {
            name: c.name.clone(),
            role: c.role,
            factor: c.factor,
            half_life_ms: c.half_life_ms,
            kind: c.kind,
            sat: c.sat,
            sat_max: c.sat_max,
        }
    }

    fn col(&self) -> Col {
        Col {
            name: self.name.clone(),
            role: self.role,
            factor: self.factor,
            half_life_ms: self.half_life_ms,
            kind: self.kind,
            sat: self.sat,
            sat_max: self.sat_max,
            x: Vec::new(),
        }
    }
}

/// One session's statistics under a [`RoomPlan`] (pass 3): per unit of the
/// session, `n`, `Z'Z`, `Z'y` and `y'y` over every candidate column of the
/// room's design but the session effects, and its session effect's part.
/// [`SessionGram::to_bytes`] is a compact binary form (about
/// `8·p²` bytes per unit, `p` the candidate columns).
#[derive(Debug, Clone)]
pub struct SessionGram {
    meta: GramMeta,
    units: Vec<UnitStats>,
}

/// What a [`SessionGram`] says of its session besides the numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GramMeta {
    /// The plan's fingerprint.
    plan: String,
    room_id: String,
    session_id: String,
    rows: usize,
    n_valid: usize,
    y_sum: f64,
    columns: Vec<ColumnHead>,
    nu: usize,
    warnings: Vec<String>,
}

/// The header of [`SessionGram::to_bytes`]; the numbers follow it.
#[derive(Serialize, Deserialize)]
struct GramHead {
    format: String,
    version: u32,
    #[serde(flatten)]
    meta: GramMeta,
    /// Per unit: its session column, if any.
    units: Vec<Option<usize>>,
}

const GRAM_MAGIC: &[u8; 8] = b"VAPGRAM1";

impl SessionGram {
    /// Room.
    pub fn room_id(&self) -> &str {
        &self.meta.room_id
    }

    /// Session.
    pub fn session_id(&self) -> &str {
        &self.meta.session_id
    }

    /// Usable bins.
    pub fn n_valid(&self) -> usize {
        self.meta.n_valid
    }

    /// Units (quarter blocks).
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// The binary form: `VAPGRAM1`, the header's length (u64, little
    /// endian), the header (JSON), then per unit `n, y'y, Z'Z (row-major),
    /// Z'y` and, for a unit with a session column, its `v'v, v'y, Z'v`, all
    /// f64 little endian.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let head = GramHead {
            format: "vap-session-gram".into(),
            version: 1,
            meta: self.meta.clone(),
            units: self
                .units
                .iter()
                .map(|u| u.sess.as_ref().map(|s| s.col))
                .collect(),
        };
        let text = serde_json::to_vec(&head)
            .map_err(|e| VapError::Internal(format!("statistics header: {e}")))?;
        let p = self.meta.columns.len();
        let mut out =
            Vec::with_capacity(16 + text.len() + self.units.len() * 8 * (p * p + 3 * p + 4));
        out.extend_from_slice(GRAM_MAGIC);
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(&text);
        let mut put = |x: f64| out.extend_from_slice(&x.to_le_bytes());
        for u in &self.units {
            put(u.st.n);
            put(u.st.yy);
            u.st.g.iter().for_each(|x| put(*x));
            u.st.zy.iter().for_each(|x| put(*x));
            if let Some(s) = &u.sess {
                put(s.vv);
                put(s.vy);
                s.zx.iter().for_each(|x| put(*x));
            }
        }
        Ok(out)
    }

    /// Reads [`SessionGram::to_bytes`]'s form, checking its size.
    pub fn from_bytes(bytes: &[u8]) -> Result<SessionGram> {
        let bad =
            |why: &str| VapError::InvalidArgument(format!("not vap session statistics: {why}"));
        if bytes.len() < 16 || &bytes[..8] != GRAM_MAGIC {
            return Err(bad("no VAPGRAM1 header"));
        }
        let hl = usize::try_from(u64::from_le_bytes(
            bytes[8..16].try_into().expect("8 bytes"),
        ))
        .map_err(|_| bad("header length out of range"))?;
        let body = bytes.get(16..).ok_or_else(|| bad("truncated"))?;
        if hl > body.len() {
            return Err(bad("truncated header"));
        }
        let head: GramHead =
            serde_json::from_slice(&body[..hl]).map_err(|e| bad(&format!("header: {e}")))?;
        if head.format != "vap-session-gram" || head.version != 1 {
            return Err(bad(&format!(
                "format '{}' version {} is not 'vap-session-gram' version 1",
                head.format, head.version
            )));
        }
        let nums = &body[hl..];
        if nums.len() % 8 != 0 {
            return Err(bad("the numbers are not whole f64s"));
        }
        let mut it = nums
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")));
        let p = head
            .meta
            .columns
            .iter()
            .filter(|c| c.role != Role::Session)
            .count();
        let mut units = Vec::with_capacity(head.units.len());
        let mut take = |k: usize| -> Result<Vec<f64>> {
            let v: Vec<f64> = it.by_ref().take(k).collect();
            if v.len() == k {
                Ok(v)
            } else {
                Err(bad("truncated numbers"))
            }
        };
        for sess in &head.units {
            let nyy = take(2)?;
            let pp = p.checked_mul(p).ok_or_else(|| bad("too many columns"))?;
            let g = Array2::from_shape_vec((p, p), take(pp)?).map_err(|_| bad("p × p"))?;
            let zy = Array1::from(take(p)?);
            let part = match sess {
                Some(col) => {
                    let v = take(2)?;
                    Some(SessionPart {
                        col: *col,
                        vv: v[0],
                        vy: v[1],
                        zx: Array1::from(take(p)?),
                    })
                }
                None => None,
            };
            units.push(UnitStats {
                st: Stats {
                    n: nyy[0],
                    g,
                    zy,
                    yy: nyy[1],
                },
                sess: part,
            });
        }
        if take(1).is_ok() {
            return Err(bad("numbers left over"));
        }
        Ok(SessionGram {
            meta: head.meta,
            units,
        })
    }

    /// Whether these statistics have the shape the plan's design gives
    /// session `k` (they may come from anywhere): units, a header that
    /// describes the design, every planned factor with a candidate, the
    /// session effect in its place. The reason where they do not.
    fn fits(&self, plan: &RoomPlan, k: usize) -> std::result::Result<(), String> {
        let m = &self.meta;
        if self.units.is_empty() {
            return Err("no units (a session has at least one)".into());
        }
        if m.n_valid > m.rows {
            return Err(format!("{} usable bins of {} rows", m.n_valid, m.rows));
        }
        if m.nu > m.columns.len() {
            return Err("its header names fewer columns than its unpenalised ones".into());
        }
        let mut candidates = vec![0usize; plan.factors.len()];
        for (j, c) in m.columns.iter().enumerate() {
            match (c.factor, j < m.nu, c.role) {
                (_, _, Role::Session) => return Err("a session effect among its columns".into()),
                (None, true, _) => {}
                (Some(f), false, Role::Factor) if f < candidates.len() => candidates[f] += 1,
                _ => {
                    return Err(format!(
                        "column {j} ('{}') is not where the design puts it",
                        c.name
                    ))
                }
            }
        }
        if let Some(f) = candidates.iter().position(|n| *n == 0) {
            return Err(format!("no column of factor '{}'", plan.factors[f].name));
        }
        let (effects, base) = plan.session_effects();
        let want = (effects && !(k == 0 && base)).then(|| m.nu + k - usize::from(base));
        let p = m.columns.len();
        for u in &self.units {
            if u.sess.as_ref().map(|s| s.col) != want {
                return Err("a unit's session effect is not the session's column".into());
            }
            if u.st.zy.len() != p || u.st.g.dim() != (p, p) {
                return Err("a unit's statistics do not match its columns".into());
            }
        }
        Ok(())
    }
}

/// The room's model fitted from per-session statistics ([`RoomPlan::fit`]):
/// the model, its coefficients and what can be diagnosed from sums.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomFit {
    /// The model ([`RoomModel::apply`] decomposes each session).
    pub model: RoomModel,
    /// Coefficients with their bootstrap intervals.
    pub coefficients: Vec<Coefficient>,
    /// Cross-validation curve of the penalty.
    pub cv: Vec<CvPoint>,
    /// Usable bins.
    pub n_bins: usize,
    /// Bins left out (missing or unusable).
    pub n_dropped: usize,
    /// In-sample R².
    pub r2: f64,
    /// Variance inflation factor of each factor.
    pub vif: Vec<(String, f64)>,
    /// Condition number of the factors after the controls.
    pub condition_number: f64,
    /// Carryover candidates evaluated.
    pub candidates: usize,
    /// Warnings: the plan's, each session's (named), the fit's.
    pub warnings: Vec<String>,
}

/// Fits the room model over every stored session of `room_id` from
/// per-session statistics: the three passes of the module docs, each
/// reading the store session by session, so that the room's stacked
/// timeline and design are never built. The same model as [`super::fit_room`]
/// with a linear form (see the module docs for `auto`); saved when the
/// request names it.
pub fn fit_room_by_sessions(store: &Store, room_id: &str, req: &FitRequest) -> Result<RoomFit> {
    if let Some(name) = &req.name {
        crate::store::check_id(name)
            .map_err(|e| VapError::InvalidArgument(format!("model name '{name}': {e}")))?;
    }
    let opts = &req.model;
    let summaries = store.map_room_as("sessions (summaries)", room_id, |d| {
        SessionSummary::of(&session_timeline(&d, &req.timeline.0)?, opts)
    })?;
    let plan = RoomPlan::new(&summaries, opts)?;
    let grams = store.map_room_as("sessions (statistics)", room_id, |d| {
        plan.gram(&session_timeline(&d, &req.timeline.0)?)
    })?;
    let fit = plan.fit(grams)?;
    if let Some(name) = &req.name {
        fit.model.save(store, name)?;
    }
    Ok(fit)
}
