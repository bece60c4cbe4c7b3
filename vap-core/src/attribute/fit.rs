//! Fitting the model ([`fit`], [`fit_room`]) and what it returns
//! ([`Attribution`], [`Coefficient`]): the pipeline's stages in order, from
//! the factors and the price line through the design, the units and folds,
//! the column and penalty selection, the final fit and the bootstrap to the
//! coefficients, the decomposition, the diagnostics and the model.

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::bootstrap::{self, spread};
use super::cv::{self, CvPoint};
use super::decompose::{Decomposition, DesignView};
use super::design::{self, Design, ResolvedFactor, Role};
use super::diagnostics::{diagnostics, Diagnostics};
use super::model::{ModelColumn, RoomModel};
use super::search::{self, Selection};
use super::solve::{self, LsqProblem, Pen, Stats};
use super::timeline::{store_room_timeline, PRICE_LEVEL};
use super::units::Ctx;
use super::{
    default_factors, AttributeOptions, CarryoverKind, Estimator, FactorSpec, FitRequest, Form,
    Saturation,
};
use crate::align::Timeline;
use crate::error::{Result, VapError};
use crate::options::Options;
use crate::schema::*;
use crate::store::Store;

/// A fitted coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// Column name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Carryover half-life of a factor (ms).
    pub half_life_ms: Ms,
    /// The carryover shape chosen for a factor (`None` for other columns).
    #[serde(default)]
    pub carryover_kind: Option<CarryoverKind>,
    /// The saturation chosen for a factor (`None`: linear, or not a factor).
    #[serde(default)]
    pub saturation: Option<Saturation>,
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
    /// Traffic split into paid and natural, where the timeline has ad spend
    /// (see [`PaidTraffic`](super::PaidTraffic)).
    pub paid: Option<super::PaidTraffic>,
}

/// Fits the attribution model on a timeline (see the module docs).
pub fn fit(tl: &Timeline, opts: &AttributeOptions) -> Result<Attribution> {
    crate::threads::install(|| {
        let mut a = fit_on_pool(tl, opts)?;
        a.paid = super::paid::paid_traffic(tl, &a.decomposition, opts);
        Ok(a)
    })
}

/// The pipeline of [`fit`], on the thread pool.
fn fit_on_pool(tl: &Timeline, opts: &AttributeOptions) -> Result<Attribution> {
    opts.check()?;
    let factors = factor_specs(tl, opts);
    let price = price_line(tl, opts)?;
    let step = tl.step_ms().max(1);
    let concrete = |form: Form| AttributeOptions {
        form,
        ..opts.clone()
    };
    let form = match opts.form {
        Form::Auto if opts.exposure.is_none() => Form::Linear,
        f => f,
    };
    if form != Form::Auto {
        let o = concrete(form);
        let d = design::build(tl, &o, &factors, None, price)?;
        let ctx = Ctx::new(&d, &o, step, enough_bins(&d)?);
        let s = search::select_columns(&ctx)?;
        return finish(tl, &ctx, s, None, factors, price, vec![]);
    }
    // auto: both forms searched, each scored on its own folds by the mean
    // squared error of the target per test bin at its chosen penalty
    let (oe, ol) = (concrete(Form::Exposure), concrete(Form::LogLink));
    let de = design::build(tl, &oe, &factors, None, price)?;
    let ce = Ctx::new(&de, &oe, step, enough_bins(&de)?);
    let se = search::select_columns(&ce)?;
    let sel = search::columns(de.nu, &se.choice);
    let exposure_cv = ce.cv_errors(&ce.fold_stats, &sel, &ce.all_stats, &[se.penalty])?[0];
    let mut scores = vec![(Form::Exposure.as_str().to_string(), exposure_cv)];
    // the log link where the data allow it (a target ≥ 0, an exposure > 0)
    if let Ok(dl) = design::build(tl, &ol, &factors, None, price) {
        if let Ok(n_valid) = enough_bins(&dl) {
            let cl = Ctx::new(&dl, &ol, step, n_valid);
            if let Some((sl, chosen, log_cv)) = log_link_scored(&cl)? {
                scores.push((Form::LogLink.as_str().to_string(), log_cv));
                if log_cv < exposure_cv {
                    return finish(tl, &cl, sl, Some(chosen), factors, price, scores);
                }
            }
        }
    }
    finish(tl, &ce, se, None, factors, price, scores)
}

/// The log link's columns, penalty (with its curve) and mean squared error
/// per test bin at it, for [`Form::Auto`]; `None` where it cannot be fitted.
/// A stopped job is not "cannot be fitted": its `Cancelled` is returned.
#[allow(clippy::type_complexity)]
fn log_link_scored(ctx: &Ctx) -> Result<Option<(Selection, (f64, Vec<CvPoint>), f64)>> {
    // Any other error means the log link does not suit these data.
    fn unless_stopped<T>(r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == crate::ErrorKind::Cancelled => Err(e),
            Err(_) => Ok(None),
        }
    }
    let Some(s) = unless_stopped(search::select_columns(ctx))? else {
        return Ok(None);
    };
    let sel = search::columns(ctx.d.nu, &s.choice);
    let rows = ctx.d.valid_rows();
    let opts = ctx.opts;
    let scored = match (opts.estimator, opts.penalty) {
        (Estimator::Ols, _) => {
            unless_stopped(cv::glm_cv(ctx, &sel, &rows, &[0.0]))?.map(|c| (0.0, vec![], c.1[0]))
        }
        (_, Some(p)) => {
            unless_stopped(cv::glm_cv(ctx, &sel, &rows, &[p]))?.map(|c| (p, vec![], c.1[0]))
        }
        _ => unless_stopped(cv::glm_penalty(ctx, &sel, &rows))?,
    };
    Ok(scored
        .filter(|(_, _, sq)| sq.is_finite())
        .map(|(penalty, cv, sq)| (s, (penalty, cv), sq)))
}

/// The rest of [`fit`] for one form: the final fit, the bootstrap, the
/// decomposition, the diagnostics and the model (its options with the form
/// fitted); `glm_chosen` is the log link's penalty and curve where
/// [`Form::Auto`] chose them already, `form_cv` the forms' scores.
fn finish(
    tl: &Timeline,
    ctx: &Ctx,
    selection: Selection,
    glm_chosen: Option<(f64, Vec<CvPoint>)>,
    factors: Vec<FactorSpec>,
    price: Option<(f64, f64)>,
    form_cv: Vec<(String, f64)>,
) -> Result<Attribution> {
    let (d, opts, step) = (ctx.d, ctx.opts, tl.step_ms().max(1));
    let Selection {
        choice,
        penalty,
        cv,
        candidates,
    } = selection;
    let sel = search::columns(d.nu, &choice);
    let est = final_fit(ctx, &sel, penalty, cv, glm_chosen)?;
    let (reps, notes) =
        bootstrap::replicates(ctx, &sel, &est.coef, est.penalty, est.glm_problem.as_ref())?;
    let coefficients = coefficients(d, &sel, &est, &reps);

    let view = DesignView::new(d, &sel);
    let decomposition = Decomposition::new(
        &opts.target,
        d,
        view,
        est.coef.clone(),
        reps.iter().map(|r| r.to_vec()).collect(),
    );
    let mut warnings = d.warnings.clone();
    warnings.extend(notes);
    let mut diag = diagnostics(
        ctx,
        &sel,
        &decomposition,
        est.penalty,
        &mut warnings,
        candidates,
    )?;
    diag.form = opts.form.as_str().to_string();
    diag.form_cv = form_cv;

    let spans = tl.spans();
    let factors_fitted = resolved_factors(d, &choice);
    let model = RoomModel {
        format: "vap-attribution".into(),
        version: RoomModel::version_of(&factors_fitted),
        room_id: spans.first().map(|s| s.room_id.clone()).unwrap_or_default(),
        sessions: spans.iter().map(|s| s.session_id.clone()).collect(),
        step_ms: step,
        options: AttributeOptions {
            factors: Some(factors),
            ..opts.clone()
        },
        price,
        factors: factors_fitted,
        penalty: est.penalty,
        columns: model_columns(d, &sel, &est.coef),
        replicates: reps.iter().map(|r| r.to_vec()).collect(),
    };
    Ok(Attribution {
        model,
        coefficients,
        cv: est.cv,
        diagnostics: diag,
        decomposition,
        paid: None,
    })
}

/// The factors to fit: the options' or [`default_factors`], each named after
/// its column when unnamed.
fn factor_specs(tl: &Timeline, opts: &AttributeOptions) -> Vec<FactorSpec> {
    named_factors(opts.factors.clone().unwrap_or_else(|| default_factors(tl)))
}

/// Each factor named after its column when unnamed.
pub(super) fn named_factors(factors: Vec<FactorSpec>) -> Vec<FactorSpec> {
    factors
        .into_iter()
        .map(|mut f| {
            if f.name.is_empty() {
                f.name = f.column.clone();
            }
            f
        })
        .collect()
}

/// The expected-order-value line that multiplies the exposure, if any: by
/// default where the target is in yuan and the data allow one; when asked
/// for, an error if they do not.
fn price_line(tl: &Timeline, opts: &AttributeOptions) -> Result<Option<(f64, f64)>> {
    let unit_yuan = tl
        .meta(&opts.target)
        .map(|m| m.unit == "yuan")
        .unwrap_or(false);
    price_rule(opts, unit_yuan, tl.position(PRICE_LEVEL).is_some(), || {
        calibrate_price(tl, &opts.target)
    })
}

/// Whether the model uses a price line, and which: by default where the
/// target is in yuan (`unit_yuan`) and the data have a price level
/// (`has_price_level`), the line `calibrate` gives where there is one; when
/// asked for, an error if there is none.
pub(super) fn price_rule(
    opts: &AttributeOptions,
    unit_yuan: bool,
    has_price_level: bool,
    calibrate: impl FnOnce() -> Option<(f64, f64)>,
) -> Result<Option<(f64, f64)>> {
    let use_price = opts.exposure.is_some()
        && opts.form != Form::Linear
        && opts.price_level.unwrap_or(unit_yuan && has_price_level);
    let price = if use_price && opts.price_level.is_none() {
        // The default: the price line where the data allow one.
        calibrate()
    } else if use_price {
        Some(calibrate().ok_or_else(|| {
            VapError::InvalidArgument(
                "price_level needs the timeline columns 'orders' and 'price_level' (attribute::enrich adds the latter) and some orders".into(),
            )
        })?)
    } else {
        None
    };
    Ok(price)
}

/// The expected order value line `(a, b)`: least squares of per-bin GMV on
/// `orders × (1, price_level)`.
fn calibrate_price(tl: &Timeline, target: &str) -> Option<(f64, f64)> {
    let sums = price_sums(tl, target)?;
    let pl = tl.values(PRICE_LEVEL).ok()?;
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
    price_of_sums(sums, lo, hi)
}

/// The sums the price line is solved from: `Σo², Σo·q, Σq², Σo·y, Σq·y`
/// with `q = o·price_level`, over the bins where the target, `orders` and
/// the price level are all finite; `None` without those columns.
pub(super) fn price_sums(tl: &Timeline, target: &str) -> Option<[f64; 5]> {
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
    Some([s11, s12, s22, t1, t2])
}

/// The price line from [`price_sums`] and the price level's finite range
/// (`lo` its minimum, `hi` its maximum and 0): the line, unless it is not
/// positive over the range (then the mean order value alone).
pub(super) fn price_of_sums(sums: [f64; 5], lo: f64, hi: f64) -> Option<(f64, f64)> {
    let [s11, s12, s22, t1, t2] = sums;
    let det = s11 * s22 - s12 * s12;
    if s11 <= 0.0 {
        return None;
    }
    let (a, b) = if det > 1e-9 * s11 * s22 {
        ((t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det)
    } else {
        (t1 / s11, 0.0)
    };
    if a + b * lo > 0.0 && a + b * hi > 0.0 {
        Some((a, b))
    } else {
        Some((t1 / s11, 0.0))
    }
}

/// The number of usable bins, or an error when they are too few for the
/// design's coefficients.
fn enough_bins(d: &Design) -> Result<usize> {
    enough_usable(d.valid.iter().filter(|v| **v).count(), d.cols.len())
}

/// `n_valid`, or an error when that many usable bins are too few for
/// `columns` coefficients.
pub(super) fn enough_usable(n_valid: usize, columns: usize) -> Result<usize> {
    if n_valid < 10 + columns {
        return Err(VapError::InvalidArgument(format!(
            "{n_valid} usable bins for {columns} coefficients: too few (use a finer step or fewer factors)"
        )));
    }
    Ok(n_valid)
}

impl AttributeOptions {
    /// The solver's penalty at `value` for this estimator and form (`n` the
    /// rows fitted: the linear elastic net's objective is per row).
    pub(super) fn pen(&self, value: f64, n: f64) -> Pen {
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

/// The final fit over the chosen columns.
pub(super) struct Estimate {
    /// Coefficients, in the order of the columns.
    pub(super) coef: Array1<f64>,
    /// Analytic standard errors (OLS; unpenalised Poisson), where no sign
    /// constraint binds.
    pub(super) se: Option<Array1<f64>>,
    /// Residual degrees of freedom of OLS (infinite otherwise).
    pub(super) df: f64,
    /// Penalty.
    pub(super) penalty: f64,
    /// Cross-validation curve of the penalty.
    pub(super) cv: Vec<CvPoint>,
    /// The log link's problem (bounds, scales) over every row, kept for the
    /// bootstrap.
    pub(super) glm_problem: Option<LsqProblem>,
}

/// The final fit over the columns `sel` at the penalty chosen (the log link
/// chooses its penalty here, by IRLS, unless `glm_chosen` has it).
fn final_fit(
    ctx: &Ctx,
    sel: &[usize],
    penalty: f64,
    cv: Vec<CvPoint>,
    glm_chosen: Option<(f64, Vec<CvPoint>)>,
) -> Result<Estimate> {
    let valid_rows = ctx.d.valid_rows();
    if ctx.opts.form == Form::LogLink {
        glm_fit(ctx, sel, &valid_rows, penalty, cv, glm_chosen)
    } else {
        linear_fit(ctx, sel, &valid_rows, penalty, cv)
    }
}

/// The Poisson fit by IRLS over every usable row, its penalty fixed or
/// cross-validated; Wald standard errors when unpenalised and no sign
/// constraint binds.
fn glm_fit(
    ctx: &Ctx,
    sel: &[usize],
    valid_rows: &[usize],
    mut penalty: f64,
    mut cv: Vec<CvPoint>,
    glm_chosen: Option<(f64, Vec<CvPoint>)>,
) -> Result<Estimate> {
    let opts = ctx.opts;
    let penalised = opts.estimator != Estimator::Ols;
    let (z, y, off, prob) = ctx.glm_data(sel, valid_rows)?;
    if penalised {
        if let Some(pv) = opts.penalty {
            penalty = pv;
        } else if let Some(chosen) = glm_chosen {
            (penalty, cv) = chosen;
        } else {
            (penalty, cv, _) = cv::glm_penalty(ctx, sel, valid_rows)?;
        }
    }
    let f = solve::poisson_irls(
        &z,
        y.view(),
        off.view(),
        &prob,
        opts.pen(penalty, 0.0),
        None,
    )?;
    // Wald intervals only where no sign constraint binds at the solution.
    let se = if !penalised && !prob.binds(&f.b) {
        Some(f.se.clone())
    } else {
        None
    };
    Ok(Estimate {
        coef: f.b,
        se,
        df: f64::INFINITY,
        penalty,
        cv,
        glm_problem: Some(prob),
    })
}

/// The linear forms' fit: the penalised problem from the summed statistics
/// (linfa's elastic net when unconstrained), or OLS by QR with its standard
/// errors.
fn linear_fit(
    ctx: &Ctx,
    sel: &[usize],
    valid_rows: &[usize],
    penalty: f64,
    cv: Vec<CvPoint>,
) -> Result<Estimate> {
    let (d, opts) = (ctx.d, ctx.opts);
    let mut se: Option<Array1<f64>> = None;
    let mut df = f64::INFINITY;
    let st = ctx.all_stats.select(sel);
    let prob = ctx.problem(&st, sel)?;
    let bounded = prob.lo.iter().any(|v| v.is_finite()) || prob.hi.iter().any(|v| v.is_finite());
    let mut coef = match opts.estimator {
        Estimator::ElasticNet if !bounded => {
            elastic_net_linfa(d, valid_rows, sel, &st, &prob, penalty, opts.l1_ratio)?
        }
        Estimator::Ols if !bounded => Array1::zeros(0),
        _ => prob.solve(&st, opts.pen(penalty, st.n), None)?,
    };
    // OLS by QR, with its standard errors, unless a sign constraint binds
    // (where none binds, the constrained optimum is the unconstrained one).
    if opts.estimator == Estimator::Ols && (!bounded || !prob.binds(&coef)) {
        let z = d.matrix(valid_rows, sel);
        let y: Array1<f64> = valid_rows.iter().map(|&i| d.y[i]).collect();
        let (b, s, dfr) = solve::ols_qr(z.view(), y.view())?;
        se = Some(s);
        df = dfr;
        coef = b;
    }
    Ok(Estimate {
        coef,
        se,
        df,
        penalty,
        cv,
        glm_problem: None,
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

/// The coefficients with their intervals: analytic (t, respectively normal)
/// where there are standard errors, else the bootstrap percentiles.
pub(super) fn coefficients(
    d: &Design,
    sel: &[usize],
    est: &Estimate,
    reps: &[Array1<f64>],
) -> Vec<Coefficient> {
    let (coef, se) = (&est.coef, &est.se);
    let tq = if d.form == Form::LogLink {
        solve::normal_quantile(0.975)
    } else {
        solve::t_quantile(0.975, est.df)
    };
    sel.iter()
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
                carryover_kind: (d.cols[c].role == Role::Factor).then_some(d.cols[c].kind),
                saturation: d.cols[c].sat,
                value: coef[k],
                std_error: s,
                ci_low: lo,
                ci_high: hi,
                boot_se: bse,
                boot_low: blo,
                boot_high: bhi,
            }
        })
        .collect()
}

/// The factors as fitted: each one's chosen carryover and the saturation
/// maximum its column was built with.
pub(super) fn resolved_factors(d: &Design, choice: &[usize]) -> Vec<ResolvedFactor> {
    d.factors
        .iter()
        .zip(choice)
        .map(|(f, &c)| ResolvedFactor {
            name: f.spec.name.clone(),
            column: f.spec.column.clone(),
            half_life_ms: d.cols[c].half_life_ms,
            carryover_kind: d.cols[c].kind,
            saturation: d.cols[c]
                .sat
                .map(|s| (s.slope, s.inflexion, d.cols[c].sat_max.unwrap_or(0.0))),
            saturation_curve: d.cols[c].sat.map(|s| s.curve).unwrap_or_default(),
            sign: f.sign,
        })
        .collect()
}

/// The model's coefficients, in design order.
pub(super) fn model_columns(d: &Design, sel: &[usize], coef: &Array1<f64>) -> Vec<ModelColumn> {
    sel.iter()
        .enumerate()
        .map(|(k, &c)| ModelColumn {
            name: d.cols[c].name.clone(),
            role: d.cols[c].role,
            value: coef[k],
        })
        .collect()
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
