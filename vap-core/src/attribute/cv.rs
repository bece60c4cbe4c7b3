//! Cross-validation: blocked time-series folds cut within every session, the
//! default penalty grids, and the choice of the penalty (from per-unit
//! statistics for the linear forms, by IRLS warm-started down the path for
//! the log link).

use std::ops::Range;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::solve::{self, Stats};
use super::units::Ctx;
use super::{AttributeOptions, Estimator, Form};
use crate::error::{Result, VapError};

/// One penalty's cross-validated error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    /// Penalty.
    pub penalty: f64,
    /// Mean test error per bin (squared error; Poisson deviance for the log link).
    pub error: f64,
}

/// The folds, as (test units, excluded units): fold k tests the k-th of `kf`
/// contiguous slices of every session's units and excludes them and `gap`
/// units on each side (within the session) from its training set. Empty
/// folds are dropped.
pub(super) fn blocked_folds(
    session_units: &[Range<usize>],
    kf: usize,
    gap: usize,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    (0..kf)
        .map(|k| {
            let (mut test, mut excl) = (Vec::new(), Vec::new());
            for r in session_units {
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
        .collect()
}

impl Ctx<'_> {
    /// Training and test statistics of every fold, over all columns.
    pub(super) fn fold_stats(&self) -> Vec<(Stats, Stats)> {
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
    pub(super) fn cv_errors(
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

    /// The penalties to cross-validate for the columns `sel`: those given,
    /// else [`default_penalties`] scaled from the data.
    pub(super) fn penalty_grid(&self, sel: &[usize]) -> Result<Vec<f64>> {
        let (opts, nu) = (self.opts, self.d.nu);
        if let Some(p) = &opts.penalties {
            return Ok(p.clone());
        }
        let st = self.all_stats.select(sel);
        let prob = self.problem(&st, sel)?;
        let px = sel.len() - nu;
        let (mut dm, mut rmax) = (st.n, 0.0f64);
        if px > 0 {
            rmax = prob.max_abs_r(&st)?;
            if !opts.standardize {
                dm = (0..px).map(|k| st.g[[nu + k, nu + k]]).sum::<f64>() / px as f64;
            }
        }
        let ymean = self.y_sum / self.n_valid as f64;
        Ok(default_penalties(opts, dm, rmax, st.n, ymean))
    }

    /// Cross-validation of the penalty for the linear forms (the log link
    /// cross-validates with IRLS, [`glm_penalty`]): none for OLS, the fixed
    /// penalty if one is given, else the grid's best and the curve.
    pub(super) fn choose_penalty(&self, sel: &[usize]) -> Result<(f64, Vec<CvPoint>)> {
        let opts = self.opts;
        let penalised = opts.estimator != Estimator::Ols;
        if !penalised {
            return Ok((0.0, vec![]));
        }
        if let Some(p) = opts.penalty {
            return Ok((p, vec![]));
        }
        let grid = self.penalty_grid(sel)?;
        let err = self.cv_errors(&self.fold_stats, sel, &self.all_stats, &grid)?;
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
    }
}

/// The default penalty grid: log-spaced, scaled by the mean target (log
/// link), by the largest penalty that keeps a factor (elastic net), or by the
/// factors' mean diagonal of the Gram matrix (ridge).
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

/// The log link's penalty for the columns `sel`, cross-validated with IRLS
/// over the folds (`valid_rows` every usable row): the grid's best by mean
/// Poisson deviance per test bin, the curve, and the mean squared error of
/// the target per test bin at that penalty (how [`Form::Auto`] compares the
/// log link with the exposure form). Folds that cannot be fitted are
/// skipped.
///
/// [`Form::Auto`]: super::Form::Auto
pub(super) fn glm_penalty(
    ctx: &Ctx,
    sel: &[usize],
    valid_rows: &[usize],
) -> Result<(f64, Vec<CvPoint>, f64)> {
    let grid = ctx.penalty_grid(sel)?;
    let (dev, sse) = glm_cv(ctx, sel, valid_rows, &grid)?;
    let best = (0..grid.len())
        .min_by(|&a, &b| dev[a].total_cmp(&dev[b]).then(a.cmp(&b)))
        .unwrap_or(0);
    let cv = grid
        .iter()
        .zip(&dev)
        .map(|(p, e)| CvPoint {
            penalty: *p,
            error: *e,
        })
        .collect();
    Ok((grid[best], cv, sse[best]))
}

/// The log link's mean test deviance and mean squared error per test bin
/// at each penalty of `grid`, over the folds that can be fitted.
pub(super) fn glm_cv(
    ctx: &Ctx,
    sel: &[usize],
    valid_rows: &[usize],
    grid: &[f64],
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut dev = vec![0.0; grid.len()];
    let mut sse = vec![0.0; grid.len()];
    let mut ntest = 0.0;
    for (test, excl) in &ctx.folds {
        let Some((fd, fs, n)) = glm_fold(ctx, sel, valid_rows, grid, test, excl) else {
            continue;
        };
        dev.iter_mut().zip(fd).for_each(|(e, v)| *e += v);
        sse.iter_mut().zip(fs).for_each(|(e, v)| *e += v);
        ntest += n;
    }
    if ntest == 0.0 {
        return Err(VapError::InvalidArgument(
            "too few bins for cross-validation".into(),
        ));
    }
    let per_bin = |v: Vec<f64>| v.into_iter().map(|e| e / ntest).collect();
    Ok((per_bin(dev), per_bin(sse)))
}

/// One fold of the log link's cross-validation: the test deviance and
/// squared error at every penalty of `grid`, fitted on the training rows warm-started from the
/// largest penalty down, and the number of test bins; `None` when the fold
/// is too small or a fit fails.
fn glm_fold(
    ctx: &Ctx,
    sel: &[usize],
    valid_rows: &[usize],
    grid: &[f64],
    test: &[usize],
    excl: &[usize],
) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let d = ctx.d;
    let p = sel.len();
    let te = ctx.rows(test.iter().copied());
    let ex: std::collections::HashSet<usize> = ctx.rows(excl.iter().copied()).into_iter().collect();
    let tr: Vec<usize> = valid_rows
        .iter()
        .copied()
        .filter(|i| !ex.contains(i))
        .collect();
    if tr.len() <= p || te.is_empty() {
        return None;
    }
    let Ok((zt, yt, ot, pr)) = ctx.glm_data(sel, &tr) else {
        return None;
    };
    let zte = d.split_matrix(&te, sel);
    let yte: Vec<f64> = te.iter().map(|&i| d.y[i]).collect();
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
    let mut warm: Option<Array1<f64>> = None;
    let mut fold = vec![0.0; grid.len()];
    let mut sq = vec![0.0; grid.len()];
    let ok = order.into_iter().all(|k| {
        let Ok(f) = solve::poisson_irls(
            &zt,
            yt.view(),
            ot.view(),
            &pr,
            ctx.opts.pen(grid[k], 0.0),
            warm.as_ref(),
        ) else {
            return false;
        };
        let mu: Vec<f64> = te
            .iter()
            .enumerate()
            .map(|(a, &i)| {
                (zte.row_dot(a, &f.b) + d.offset(i))
                    .clamp(-700.0, 700.0)
                    .exp()
            })
            .collect();
        fold[k] = solve::poisson_deviance(&yte, &mu);
        sq[k] = yte.iter().zip(&mu).map(|(y, m)| (y - m) * (y - m)).sum();
        warm = Some(f.b);
        true
    });
    if !ok {
        return None;
    }
    Some((fold, sq, te.len() as f64))
}
