//! From timeline columns to a design matrix: factors (with carryover and
//! saturation, one candidate column per half-life searched), controls, the
//! exposure, and the rows that can be used.

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::Array2;

use super::solve::SplitZ;
use serde::{Deserialize, Serialize};

use super::timeline::PRICE_LEVEL;
use super::{
    AttributeOptions, CarryoverKind, Curve, FactorSpec, Form, Saturation, SaturationSpec, Sign,
    AUTO_LOG_SCALES,
};
use crate::align::{adstock, Timeline};
use crate::error::{Result, VapError};
use crate::schema::*;

/// What a design column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The base level: the intercept (linear, log-link) or the base conversion
    /// per unit of exposure (exposure-scaled).
    Base,
    /// The traffic column of the linear form (its coefficient is traffic's
    /// effect).
    Traffic,
    /// A control: trend or time of day.
    Control,
    /// A session fixed effect.
    Session,
    /// A factor.
    Factor,
}

/// A factor as fitted: one column, one half-life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedFactor {
    /// Name.
    pub name: String,
    /// Timeline column.
    pub column: String,
    /// Carryover length (ms; 0 = none).
    pub half_life_ms: Ms,
    /// Carryover shape.
    #[serde(default)]
    pub carryover_kind: CarryoverKind,
    /// Saturation `(slope, inflexion)` and the column maximum it is
    /// relative to (taken from the fitting data, kept for new sessions).
    pub saturation: Option<(f64, f64, f64)>,
    /// The saturation's curve (Hill unless `"log"`).
    #[serde(default, skip_serializing_if = "Curve::is_hill")]
    pub saturation_curve: Curve,
    /// Sign constraint.
    pub sign: Sign,
}

/// One design column.
#[derive(Debug, Clone)]
pub(crate) struct Col {
    pub name: String,
    pub role: Role,
    /// Index into `Design::factors` for factor candidates.
    pub factor: Option<usize>,
    pub half_life_ms: Ms,
    /// Carryover shape of a factor candidate.
    pub kind: CarryoverKind,
    /// Saturation of a factor candidate.
    pub sat: Option<Saturation>,
    /// The column maximum a saturation is relative to.
    pub sat_max: Option<f64>,
    /// Raw values (before the exposure multiplies them in the exposure form).
    pub x: Vec<f64>,
}

/// A factor and its candidate columns.
#[derive(Debug, Clone)]
pub(crate) struct FactorCols {
    pub spec: FactorSpec,
    pub sign: Sign,
    pub candidates: Vec<usize>,
}

/// The design of one fit (or one application of a fitted model).
#[derive(Debug, Clone)]
pub(crate) struct Design {
    pub form: Form,
    pub n: usize,
    pub time_ms: Vec<Ms>,
    /// Per row: index of its session span.
    pub session: Vec<usize>,
    pub sessions: Vec<(String, std::ops::Range<usize>)>,
    pub y: Vec<f64>,
    /// Exposure per row (1 where the form has none).
    pub e: Vec<f64>,
    /// The session's reference exposure, per row.
    pub e_ref: Vec<f64>,
    pub has_exposure: bool,
    pub valid: Vec<bool>,
    pub cols: Vec<Col>,
    pub nu: usize,
    pub factors: Vec<FactorCols>,
    pub warnings: Vec<String>,
}

impl Design {
    /// Value of design column `j` at row `i` (exposure multiplied in for the
    /// exposure form).
    #[inline]
    pub fn z(&self, i: usize, j: usize) -> f64 {
        let v = self.cols[j].x[i];
        if self.form == Form::Exposure {
            v * self.e[i]
        } else {
            v
        }
    }

    /// Row-major matrix of the columns `cols` over the rows `rows`.
    pub fn matrix(&self, rows: &[usize], cols: &[usize]) -> Array2<f64> {
        let mut m = Array2::zeros((rows.len(), cols.len()));
        for (a, &i) in rows.iter().enumerate() {
            for (b, &j) in cols.iter().enumerate() {
                m[[a, b]] = self.z(i, j);
            }
        }
        m
    }

    /// Each session's effect column (`None` for the reference session, or
    /// where the design has no session effects).
    pub fn session_columns(&self) -> Vec<Option<usize>> {
        let mut out = vec![None; self.sessions.len()];
        for (j, c) in self.cols.iter().enumerate() {
            if c.role == Role::Session {
                if let Some(i) = c.x.iter().position(|v| *v != 0.0) {
                    out[self.session[i]] = Some(j);
                }
            }
        }
        out
    }

    /// The columns `cols` over the rows `rows`, the session effects kept as
    /// one value per row ([`SplitZ`]): what [`Design::matrix`] gives, in
    /// `O(rows × other columns)` memory.
    pub fn split_matrix(&self, rows: &[usize], cols: &[usize]) -> SplitZ {
        let by_session = self.session_columns();
        let mut pos = vec![None; self.cols.len()];
        for (q, &j) in cols.iter().enumerate() {
            pos[j] = Some(q);
        }
        let dense: Vec<usize> = (0..cols.len())
            .filter(|&q| self.cols[cols[q]].role != Role::Session)
            .collect();
        let dense_cols: Vec<usize> = dense.iter().map(|&q| cols[q]).collect();
        let x = self.matrix(rows, &dense_cols);
        let one = rows
            .iter()
            .map(|&i| {
                let j = by_session[self.session[i]]?;
                let q = pos[j]?;
                let v = self.z(i, j);
                (v != 0.0).then_some((q, v))
            })
            .collect();
        SplitZ {
            p: cols.len(),
            dense,
            x,
            one,
        }
    }

    pub fn valid_rows(&self) -> Vec<usize> {
        (0..self.n).filter(|&i| self.valid[i]).collect()
    }

    /// The log of the exposure, for the log-link form.
    pub fn offset(&self, i: usize) -> f64 {
        if self.form == Form::LogLink && self.has_exposure {
            self.e[i].ln()
        } else {
            0.0
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Carryover lengths searched for the urgency and price phrase groups by default.
pub const DEFAULT_CARRYOVER_MS: [Ms; 5] = [0, 15_000, 30_000, 60_000, 120_000];
/// Hold windows searched for answered questions by default: every 10 s from
/// 30 s to 90 s, then 2 min. An answer's effect starts somewhere inside the
/// bin it is said in, so how much of it a hold catches moves in whole bins:
/// with 30 s steps vap's simulator's answers came out at 0.80× their truth,
/// with 10 s steps at 0.93× (README, *Robustness*).
pub const DEFAULT_HOLD_MS: [Ms; 8] = [
    30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 120_000,
];

/// Carryover lengths searched for promotions and explains by default: none,
/// or up to a minute after (buyers who saw the sale finish paying).
pub const DEFAULT_EVENT_CARRYOVER_MS: [Ms; 3] = [0, 30_000, 60_000];

/// The default factors found in a timeline (see the module docs).
///
/// How they were chosen: on two independently written simulators (vap's
/// own and the test suite's second one, `tests/sim2`, ten rooms each;
/// `benches/robustness.py --variant all`), carryover as a **hold** (the
/// factor's sum over the trailing window) gave the lowest worst-case error
/// of the session totals, ahead of searching adstock and hold (`auto`) and
/// far ahead of adstock alone; so every carryover is a hold, its length
/// chosen by the blocked cross-validation from [`DEFAULT_CARRYOVER_MS`]
/// (phrase groups), [`DEFAULT_HOLD_MS`] (answered questions) or
/// [`DEFAULT_EVENT_CARRYOVER_MS`] (promotions, explains). The phrase groups
/// and the answers search linear against S-shaped saturation (`saturation:
/// auto`; under the log link the logarithmic curve too): a fixed
/// saturation, right on one simulator, tripled the error on the other.
pub fn default_factors(tl: &Timeline) -> Vec<FactorSpec> {
    let cover = |n: &str| tl.values(n).map(|v| v.iter().sum::<f64>()).unwrap_or(0.0);
    default_factors_of(&tl.names(), &cover)
}

/// [`default_factors`] from a timeline's column names and each anchor
/// column's sum (`cover`): what a room plan has of its sessions.
pub(crate) fn default_factors_of(names: &[&str], cover: &dyn Fn(&str) -> f64) -> Vec<FactorSpec> {
    let mut out = Vec::new();
    let fs = |name: &str, sign: Sign, carry: &[Ms]| FactorSpec {
        name: name.to_string(),
        column: name.to_string(),
        carryover_ms: carry.to_vec(),
        carryover_kind: CarryoverKind::Hold,
        saturation: None,
        sign: Some(sign),
    };
    if names.contains(&"explain:any") {
        out.push(fs(
            "explain:any",
            Sign::Positive,
            &DEFAULT_EVENT_CARRYOVER_MS,
        ));
    }
    for n in names {
        if n.starts_with("promo:") {
            out.push(fs(n, Sign::Positive, &DEFAULT_EVENT_CARRYOVER_MS));
        }
    }
    for group in ["speech:urgency", "speech:price"] {
        if names.contains(&group) {
            let mut f = fs(group, Sign::Positive, &DEFAULT_CARRYOVER_MS);
            f.saturation = Some(SaturationSpec::Auto);
            out.push(f);
        }
    }
    // Answered questions (an utterance that answers a viewer's question,
    // `answers` from `attribute::enrich`), else the answer-phrase count.
    let answers = ["answers", "speech:answer"]
        .into_iter()
        .find(|a| names.contains(a));
    if let Some(a) = answers {
        // Searched like the phrase groups: answers that overlap add up in a
        // held count, where their effect may not (README, *Robustness*).
        let mut f = fs(a, Sign::Positive, &DEFAULT_HOLD_MS);
        f.saturation = Some(SaturationSpec::Auto);
        out.push(f);
    }
    // Anchors: who hosts (host:<id>, from `attribute::enrich`), else anchor:<id>;
    // the anchor on air the longest is the reference and has no column.
    let prefix = if names.iter().any(|n| n.starts_with("host:")) {
        "host:"
    } else {
        "anchor:"
    };
    let anchors: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with(prefix))
        .collect();
    if let Some(reference) = anchors
        .iter()
        .copied()
        .max_by(|a, b| cover(a).total_cmp(&cover(b)).then(b.cmp(a)))
    {
        for a in anchors {
            if a != reference {
                let mut f = fs(a, Sign::Free, &[0]);
                f.carryover_kind = CarryoverKind::Adstock;
                out.push(f);
            }
        }
    }
    out
}

fn check_factor(f: &FactorSpec, tl: &Timeline, bad: &mut Vec<String>) {
    check_factor_on(f, |c| tl.position(c).is_some(), bad);
}

/// The checks of a factor, its column's presence told by `has`: what a room
/// plan checks on the room's columns before any session's design is built.
pub(crate) fn check_factor_on(f: &FactorSpec, has: impl Fn(&str) -> bool, bad: &mut Vec<String>) {
    if f.name.is_empty() {
        bad.push(format!("factor on column '{}' has an empty name", f.column));
    }
    if !has(&f.column) {
        bad.push(format!(
            "factor '{}': the timeline has no column '{}'",
            f.name, f.column
        ));
    }
    if f.carryover_ms.iter().any(|h| *h < 0) {
        bad.push(format!(
            "factor '{}': carryover half-lives must be ≥ 0 ms",
            f.name
        ));
    }
    if let Some(SaturationSpec::Hill(s)) = &f.saturation {
        if s.curve == Curve::Log {
            if !(s.inflexion > 0.0 && s.inflexion.is_finite()) {
                bad.push(format!(
                    "factor '{}': a logarithmic saturation needs a scale > 0",
                    f.name
                ));
            }
        } else if !(s.slope > 0.0 && s.slope.is_finite() && s.inflexion > 0.0 && s.inflexion <= 1.0)
        {
            bad.push(format!(
                "factor '{}': saturation needs slope > 0 and inflexion in (0, 1]",
                f.name
            ));
        }
    }
}

/// Builds the design for `tl`. `fixed` resolves factors from a fitted model
/// (one half-life each, saturation maxima kept) instead of `opts.factors`.
pub(crate) fn build(
    tl: &Timeline,
    opts: &AttributeOptions,
    factors: &[FactorSpec],
    fixed: Option<&[ResolvedFactor]>,
    price: Option<(f64, f64)>,
) -> Result<Design> {
    build_with(tl, opts, factors, fixed, None, price)
}

/// [`build`] with the saturation maximum of every factor given (`maxima`,
/// one per factor, from a room plan): every factor is kept and each one's
/// candidates are built against the room's maximum rather than the
/// timeline's own, so a session's design is its rows of the room's design.
pub(crate) fn build_with(
    tl: &Timeline,
    opts: &AttributeOptions,
    factors: &[FactorSpec],
    fixed: Option<&[ResolvedFactor]>,
    maxima: Option<&[f64]>,
    price: Option<(f64, f64)>,
) -> Result<Design> {
    if opts.form == Form::Auto {
        return Err(VapError::InvalidArgument(
            "a design needs a concrete form: 'auto' is resolved by attribute::fit".into(),
        ));
    }
    let n = tl.len();
    let mut warnings = Vec::new();
    check_inputs(tl, opts, factors)?;
    let (session, sessions) = session_rows(tl);
    let time_ms = tl.time_ms().to_vec();
    let y = tl.values(&opts.target)?.to_vec();
    let has_exposure = opts.exposure.is_some();
    let e = exposure(tl, opts, price)?;
    let e_ref = reference_exposure(&e, &sessions);
    let mut cols = unpenalised_columns(tl, opts, &sessions, &time_ms, &e);
    let nu = cols.len();
    let kept = match maxima {
        Some(_) => factors.to_vec(),
        None => varying_factors(tl, factors, fixed, &mut warnings)?,
    };
    let fcols = factor_columns(tl, opts.form, &kept, fixed, maxima, &sessions, &mut cols)?;
    let valid = usable_rows(opts, &y, &e, &cols, &mut warnings)?;
    Ok(Design {
        form: opts.form,
        n,
        time_ms,
        session,
        sessions,
        y,
        e,
        e_ref,
        has_exposure,
        valid,
        cols,
        nu,
        factors: fcols,
        warnings,
    })
}

/// Checks that the timeline has the target, the exposure the form needs and
/// every factor's column, and that the factors are well formed; all problems
/// listed in one error.
fn check_inputs(tl: &Timeline, opts: &AttributeOptions, factors: &[FactorSpec]) -> Result<()> {
    let mut bad = Vec::new();
    if tl.position(&opts.target).is_none() {
        bad.push(format!(
            "the timeline has no target column '{}'",
            opts.target
        ));
    }
    let needs_exposure = opts.form != Form::Linear;
    match &opts.exposure {
        Some(c) if tl.position(c).is_none() => bad.push(format!(
            "the timeline has no exposure column '{c}' (online viewers are 'online_viewers'; set exposure to another column or to none)"
        )),
        None if needs_exposure => bad.push(format!(
            "the {} form needs an exposure column (e.g. 'online_viewers')",
            opts.form.as_str()
        )),
        _ => {}
    }
    let mut seen = BTreeMap::new();
    for f in factors {
        check_factor(f, tl, &mut bad);
        if seen.insert(f.name.clone(), ()).is_some() {
            bad.push(format!("factor '{}' is named twice", f.name));
        }
    }
    if factors.is_empty() {
        bad.push(
            "no factors: the timeline has none of the default factor columns and none were given"
                .into(),
        );
    }
    if !bad.is_empty() {
        return Err(VapError::InvalidArgument(bad.join("; ")));
    }
    Ok(())
}

/// Each row's session (index into the spans) and each session's rows.
fn session_rows(tl: &Timeline) -> (Vec<usize>, Vec<(String, Range<usize>)>) {
    let mut session = vec![0usize; tl.len()];
    let sessions: Vec<(String, Range<usize>)> = tl
        .spans()
        .iter()
        .enumerate()
        .map(|(k, s)| {
            session[s.rows.clone()].iter_mut().for_each(|v| *v = k);
            (s.session_id.clone(), s.rows.clone())
        })
        .collect();
    (session, sessions)
}

/// The exposure per row: the exposure column, times the expected order value
/// `a + b·price_level` when a price line is given; 1 without an exposure.
fn exposure(tl: &Timeline, opts: &AttributeOptions, price: Option<(f64, f64)>) -> Result<Vec<f64>> {
    let n = tl.len();
    let mut e = vec![1.0; n];
    if let Some(c) = &opts.exposure {
        let v = tl.values(c)?;
        e.copy_from_slice(v);
        if let Some((a, b)) = price {
            let pl = tl.values(PRICE_LEVEL).map_err(|_| {
                VapError::InvalidArgument(format!(
                    "the model's exposure uses the price level, but the timeline has no '{PRICE_LEVEL}' column (build it with attribute::session_timeline, or enrich it)"
                ))
            })?;
            for i in 0..n {
                e[i] *= a + b * pl[i];
            }
        }
    }
    Ok(e)
}

/// Each row's reference exposure: the median finite exposure of its session.
fn reference_exposure(e: &[f64], sessions: &[(String, Range<usize>)]) -> Vec<f64> {
    let mut e_ref = vec![f64::NAN; e.len()];
    for (_, rows) in sessions {
        let mut v: Vec<f64> = e[rows.clone()]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let m = median(&mut v);
        e_ref[rows.clone()].iter_mut().for_each(|r| *r = m);
    }
    e_ref
}

/// An unpenalised column.
fn col(name: &str, role: Role, x: Vec<f64>) -> Col {
    Col {
        name: name.to_string(),
        role,
        factor: None,
        half_life_ms: 0,
        kind: CarryoverKind::Adstock,
        sat: None,
        sat_max: None,
        x,
    }
}

/// The unpenalised columns, in design order: the base, traffic (linear form
/// with an exposure), the trend, time-of-day harmonics and session effects.
fn unpenalised_columns(
    tl: &Timeline,
    opts: &AttributeOptions,
    sessions: &[(String, Range<usize>)],
    time_ms: &[Ms],
    e: &[f64],
) -> Vec<Col> {
    let n = tl.len();
    let spans = tl.spans();
    let has_exposure = opts.exposure.is_some();
    let mut cols: Vec<Col> = Vec::new();
    let base = opts.intercept || opts.form == Form::Exposure;
    if base {
        cols.push(col("base", Role::Base, vec![1.0; n]));
    }
    if opts.form == Form::Linear && has_exposure {
        cols.push(col("traffic", Role::Traffic, e.to_vec()));
    }
    if opts.controls.trend {
        let mut x = vec![0.0; n];
        for (k, (_, rows)) in sessions.iter().enumerate() {
            let s0 = spans[k].grid.start_ms;
            for i in rows.clone() {
                x[i] = (time_ms[i] - s0) as f64 / 3_600_000.0;
            }
        }
        cols.push(col("trend", Role::Control, x));
    }
    for h in 1..=opts.controls.time_of_day {
        let ang = |i: usize| {
            let day = time_ms[i].rem_euclid(86_400_000) as f64 / 86_400_000.0;
            2.0 * std::f64::consts::PI * h as f64 * day
        };
        cols.push(col(
            &format!("time_of_day:sin{h}"),
            Role::Control,
            (0..n).map(|i| ang(i).sin()).collect(),
        ));
        cols.push(col(
            &format!("time_of_day:cos{h}"),
            Role::Control,
            (0..n).map(|i| ang(i).cos()).collect(),
        ));
    }
    if opts.controls.session_effects && sessions.len() > 1 {
        for (k, (sid, rows)) in sessions.iter().enumerate() {
            if k == 0 && base {
                continue;
            }
            let mut x = vec![0.0; n];
            x[rows.clone()].iter_mut().for_each(|v| *v = 1.0);
            cols.push(col(&format!("session:{sid}"), Role::Session, x));
        }
    }
    cols
}

/// A factor column with carryover `hl_ms` of shape `kind` applied within each
/// session (`step` the bin width); unchanged when `hl_ms` is 0.
fn carryover(
    x: &[f64],
    hl_ms: Ms,
    kind: CarryoverKind,
    sessions: &[(String, Range<usize>)],
    step: Ms,
) -> Vec<f64> {
    if hl_ms == 0 {
        return x.to_vec();
    }
    let mut out = vec![0.0; x.len()];
    for (_, rows) in sessions {
        // A missing bin contributes nothing to the carryover of the bins
        // after it (and stays missing itself).
        let xs: Vec<f64> = x[rows.clone()]
            .iter()
            .map(|v| if v.is_finite() { *v } else { 0.0 })
            .collect();
        let xs = &xs[..];
        let a = match kind {
            // `auto` is resolved into its shapes before any column is built
            CarryoverKind::Adstock | CarryoverKind::Auto => {
                adstock(xs, hl_ms as f64 / step as f64, true)
            }
            CarryoverKind::Hold => {
                let w = ((hl_ms + step - 1) / step).max(1) as usize;
                let mut acc = 0.0;
                (0..xs.len())
                    .map(|t| {
                        acc += xs[t];
                        if t >= w {
                            acc -= xs[t - w];
                        }
                        acc
                    })
                    .collect()
            }
        };
        out[rows.clone()].copy_from_slice(&a);
    }
    for (o, v) in out.iter_mut().zip(x) {
        if !v.is_finite() {
            *o = f64::NAN;
        }
    }
    out
}

/// The factors that vary over the timeline (a fitted model's factors are all
/// kept); each constant one is left out with a warning.
fn varying_factors(
    tl: &Timeline,
    factors: &[FactorSpec],
    fixed: Option<&[ResolvedFactor]>,
    warnings: &mut Vec<String>,
) -> Result<Vec<FactorSpec>> {
    let mut kept = Vec::new();
    for f in factors {
        let raw = tl.values(&f.column)?;
        let mut finite = raw.iter().copied().filter(|v| v.is_finite());
        let first = finite.next();
        let constant = first.is_none_or(|a| finite.all(|v| v == a));
        if fixed.is_none() && constant {
            warnings.push(format!(
                "factor '{}' never varies (column '{}' is constant): left out",
                f.name, f.column
            ));
        } else {
            kept.push(f.clone());
        }
    }
    if kept.is_empty() {
        return Err(VapError::InvalidArgument(
            "every factor is constant over the timeline: nothing to attribute".into(),
        ));
    }
    Ok(kept)
}

/// The carryover lengths to build for factor `fi` and the saturation maximum
/// to use: the fitted model's one length and maximum, else every candidate
/// (sorted, deduplicated; none means `[0]`) and the column's own maximum.
fn carryover_lengths(
    f: &FactorSpec,
    fi: usize,
    fixed: Option<&[ResolvedFactor]>,
) -> (Vec<Ms>, Option<f64>) {
    match fixed {
        Some(rf) => (
            vec![rf[fi].half_life_ms],
            rf[fi].saturation.map(|(_, _, m)| m),
        ),
        None => {
            let mut h = f.carryover_ms.clone();
            if h.is_empty() {
                h.push(0);
            }
            h.sort_unstable();
            h.dedup();
            (h, None)
        }
    }
}

/// Appends each factor's candidate columns (one per carryover length,
/// carryover shape and saturation, with carryover and saturation applied) to
/// `cols`. A zero length is built once (no carryover has no shape).
#[allow(clippy::too_many_arguments)]
fn factor_columns(
    tl: &Timeline,
    form: Form,
    factors: &[FactorSpec],
    fixed: Option<&[ResolvedFactor]>,
    maxima: Option<&[f64]>,
    sessions: &[(String, Range<usize>)],
    cols: &mut Vec<Col>,
) -> Result<Vec<FactorCols>> {
    let step = tl.step_ms().max(1);
    let mut fcols = Vec::new();
    for (fi, f) in factors.iter().enumerate() {
        let raw = tl.values(&f.column)?;
        let (halves, sat_max) = carryover_lengths(f, fi, fixed);
        // Saturation is relative to the factor column's maximum before
        // carryover, one scale for every candidate (applying a fitted
        // model: the maximum it was fitted with).
        let m = sat_max.or(maxima.map(|m| m[fi])).unwrap_or_else(|| {
            raw.iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
        });
        let mut candidates = Vec::new();
        for kind in f.carryover_kind.candidates() {
            for &hl in &halves {
                if hl == 0 && kind != f.carryover_kind.candidates()[0] {
                    continue;
                }
                let x0 = carryover(raw, hl, kind, sessions, step);
                let mut sats = SaturationSpec::candidates(f.saturation);
                if form == Form::LogLink && f.saturation == Some(SaturationSpec::Auto) {
                    // Relative to the largest value the carried-over column
                    // can take: a hold sums its window's bins.
                    let bins = match kind {
                        CarryoverKind::Hold if hl > 0 => ((hl + step - 1) / step).max(1) as f64,
                        _ => 1.0,
                    };
                    sats.extend(
                        AUTO_LOG_SCALES
                            .iter()
                            .map(|k| Some(Saturation::log(k * bins))),
                    );
                }
                for sat in sats {
                    let (x, used) = match sat {
                        Some(s) if m > 0.0 => (s.apply(&x0, m), Some(m)),
                        Some(_) => (x0.clone(), Some(m)),
                        None => (x0.clone(), None),
                    };
                    candidates.push(cols.len());
                    cols.push(Col {
                        name: f.name.clone(),
                        role: Role::Factor,
                        factor: Some(fi),
                        half_life_ms: hl,
                        kind: if hl == 0 {
                            f.carryover_kind.candidates()[0]
                        } else {
                            kind
                        },
                        sat,
                        sat_max: used,
                        x,
                    });
                }
            }
        }
        fcols.push(FactorCols {
            spec: f.clone(),
            sign: f.sign.unwrap_or(Sign::Free),
            candidates,
        });
    }
    Ok(fcols)
}

/// The rows the fit can use: a finite target, a usable exposure (finite,
/// ≥ 0, > 0 for the log link) and every column finite. Dropped rows are
/// counted by cause in a warning; the log link refuses a negative target.
fn usable_rows(
    opts: &AttributeOptions,
    y: &[f64],
    e: &[f64],
    cols: &[Col],
    warnings: &mut Vec<String>,
) -> Result<Vec<bool>> {
    let n = y.len();
    let has_exposure = opts.exposure.is_some();
    let mut valid = vec![true; n];
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..n {
        let mut why: Option<&str> = None;
        if !y[i].is_finite() {
            why = Some(opts.target.as_str());
        } else if has_exposure
            && (!e[i].is_finite() || (opts.form == Form::LogLink && e[i] <= 0.0) || e[i] < 0.0)
        {
            why = opts.exposure.as_deref();
        } else if let Some(c) = cols.iter().find(|c| !c.x[i].is_finite()) {
            why = Some(c.name.as_str());
        }
        if let Some(w) = why {
            valid[i] = false;
            *dropped.entry(w.to_string()).or_default() += 1;
        }
    }
    if !dropped.is_empty() {
        warnings.push(format!(
            "{} of {n} bins left out of the fit (missing or unusable): {}",
            valid.iter().filter(|v| !**v).count(),
            dropped
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if opts.form == Form::LogLink && y.iter().zip(&valid).any(|(v, ok)| *ok && *v < 0.0) {
        return Err(VapError::InvalidArgument(format!(
            "the log-link (Poisson) form needs a non-negative target; '{}' has negative bins",
            opts.target
        )));
    }
    Ok(valid)
}
