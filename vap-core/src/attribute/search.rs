//! The column selection: one carryover candidate per factor, searched by the
//! cross-validated error of the linear model (over the product grid of every
//! factor's candidates, or coordinate-wise when that grid is larger than
//! `max_candidates`), and the penalty chosen around it.

use rayon::prelude::*;

use super::bootstrap::Ticker;
use super::cv::CvPoint;
use super::solve;
use super::units::{Ctx, Working};
use super::{Estimator, Form};
use crate::error::Result;

/// The columns chosen for the final fit.
pub(super) struct Selection {
    /// Per factor: the design column of its chosen candidate.
    pub(super) choice: Vec<usize>,
    /// Penalty (the log link's is chosen with the final fit).
    pub(super) penalty: f64,
    /// Cross-validation curve of the penalty.
    pub(super) cv: Vec<CvPoint>,
    /// Carryover candidates evaluated.
    pub(super) candidates: usize,
}

/// The design columns of a choice: the `nu` unpenalised columns, then one
/// candidate per factor.
pub(super) fn columns(nu: usize, choice: &[usize]) -> Vec<usize> {
    let mut s: Vec<usize> = (0..nu).collect();
    s.extend_from_slice(choice);
    s
}

/// Chooses the columns: from each factor's middle candidate, the penalty is
/// cross-validated (linear forms), the carryovers are searched at it (the
/// log link searches with the exposure-scaled linear model and a light
/// ridge), and the penalty is cross-validated again for the carryovers
/// chosen.
pub(super) fn select_columns(ctx: &Ctx) -> Result<Selection> {
    let (d, opts, nu) = (ctx.d, ctx.opts, ctx.d.nu);
    let mut choice: Vec<usize> = d
        .factors
        .iter()
        .map(|f| f.candidates[f.candidates.len() / 2])
        .collect();
    let penalised = opts.estimator != Estimator::Ols;
    let glm = opts.form == Form::LogLink;
    let searched: Vec<usize> = (0..d.factors.len())
        .filter(|&f| d.factors[f].candidates.len() > 1)
        .collect();
    let (mut penalty, mut cv) = if glm {
        (0.0, vec![])
    } else {
        ctx.choose_penalty(&columns(nu, &choice))?
    };
    let mut candidates_seen = 1usize;
    if !searched.is_empty() {
        let lin_pen = if glm { 0.0 } else { penalty };
        let lin_pen = if glm && penalised {
            // A light ridge for the proxy search.
            let sel = columns(nu, &choice);
            let st = ctx.all_stats.select(&sel);
            st.n * 1e-4
        } else {
            lin_pen
        };
        let total: f64 = searched
            .iter()
            .map(|&f| d.factors[f].candidates.len() as f64)
            .product();
        let search = |ctx: &Ctx, choice: Vec<usize>, pen: f64, stage: &'static str| {
            if total <= opts.max_candidates as f64 {
                exhaustive_search(ctx, &choice, &searched, pen, stage)
            } else {
                coordinate_search(ctx, choice, &searched, pen, stage)
            }
        };
        (choice, candidates_seen) = search(ctx, choice, lin_pen, stage(ctx))?;
        // The log link searches again on the Poisson fit's own terms: the
        // exposure-scaled proxy is additive, so it prefers a column linear
        // in conversion where the log link needs its logarithm.
        if glm {
            if let Some(w) = pilot_working(ctx, &choice)? {
                let wctx = ctx.working(&w);
                let pen = if penalised {
                    wctx.all_stats.select(&columns(nu, &choice)).n * 1e-4
                } else {
                    0.0
                };
                let seen;
                (choice, seen) = search(&wctx, choice, pen, "search (log link, Poisson)")?;
                candidates_seen += seen;
            }
        }
        if !glm {
            (penalty, cv) = ctx.choose_penalty(&columns(nu, &choice))?;
        }
    }
    Ok(Selection {
        choice,
        penalty,
        cv,
        candidates: candidates_seen,
    })
}

/// The working response of a Poisson fit of the columns `choice` (a light
/// ridge): weights `μ` (scaled to mean 1) and `η + (y − μ)/μ`, `η` the
/// columns' part of the linear predictor. Weighted least squares on it is
/// the fit's local quadratic approximation (one IRLS step), so the
/// candidates' cross-validated errors on it rank them by the Poisson
/// deviance near that fit. `None` where the pilot cannot be fitted.
fn pilot_working(ctx: &Ctx, choice: &[usize]) -> Result<Option<Working>> {
    let d = ctx.d;
    let rows = d.valid_rows();
    let sel = columns(d.nu, choice);
    let pilot = ctx.glm_data(&sel, &rows).and_then(|(z, y, off, prob)| {
        let f = solve::poisson_irls(
            &z,
            y.view(),
            off.view(),
            &prob,
            ctx.opts.pen(1e-4, 0.0),
            None,
        )?;
        Ok((z.dot(&f.b), y, off))
    });
    let (eta, y, off) = match pilot {
        Ok(v) => v,
        Err(e) if e.kind() == crate::ErrorKind::Cancelled => return Err(e),
        Err(_) => return Ok(None),
    };
    // μ bounded as the IRLS bounds it (a subnormal μ would make the working
    // response infinite).
    let mu: Vec<f64> = (0..rows.len())
        .map(|a| (off[a] + eta[a]).clamp(-700.0, 700.0).exp().max(1e-300))
        .collect();
    let mean = mu.iter().sum::<f64>() / mu.len().max(1) as f64;
    if !(mean.is_finite() && mean > 0.0) || mu.iter().any(|m| !m.is_finite()) {
        return Ok(None);
    }
    let mut w = Working {
        sqrt_w: vec![0.0; d.n],
        y: vec![0.0; d.n],
    };
    for (a, &i) in rows.iter().enumerate() {
        let s = (mu[a] / mean).sqrt();
        w.sqrt_w[i] = s;
        w.y[i] = s * (eta[a] + (y[a] - mu[a]) / mu[a]);
    }
    // Anything not finite: keep the first search's choice.
    let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
    Ok((finite(&w.sqrt_w) && finite(&w.y)).then_some(w))
}

/// The progress stage of the search: `search (<form>)` (a fit of form
/// `auto` searches both forms, each its own stage; the log link's second
/// search is `search (log link, Poisson)`).
fn stage(ctx: &Ctx) -> &'static str {
    match ctx.d.form {
        Form::Exposure => "search (exposure)",
        Form::LogLink => "search (log link)",
        Form::Linear | Form::Auto => "search (linear)",
    }
}

/// A choice's cross-validated error at the penalty `lin_pen` (infinite when
/// it cannot be computed).
fn score(ctx: &Ctx, ch: &[usize], lin_pen: f64) -> f64 {
    let sel = columns(ctx.d.nu, ch);
    ctx.cv_errors(&ctx.fold_stats, &sel, &ctx.all_stats, &[lin_pen])
        .map(|e| e[0])
        .unwrap_or(f64::INFINITY)
}

/// The first of the scores within a relative 1e-9 of the lowest (0 where
/// none is finite). Candidates that fit the same (a saturation that only
/// rescales a column that is mostly 0 or 1) score the same up to rounding,
/// and the rounding differs between a stacked fit and one summed from
/// per-session statistics: a tolerance makes both choose alike.
fn first_best(scores: &[f64]) -> usize {
    let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
    if !min.is_finite() {
        return 0;
    }
    let tol = 1e-9 * min.abs();
    scores.iter().position(|&s| s <= min + tol).unwrap_or(0)
}

/// Every combination of the searched factors' candidates, scored in
/// parallel; the best (first on ties) and the number scored. Each scored
/// combination is a step of the current job's stage [`stage`] (the job
/// can stop it).
fn exhaustive_search(
    ctx: &Ctx,
    choice: &[usize],
    searched: &[usize],
    lin_pen: f64,
    stage: &'static str,
) -> Result<(Vec<usize>, usize)> {
    let d = ctx.d;
    let combos: Vec<Vec<usize>> = {
        let mut out = vec![choice.to_vec()];
        for &f in searched {
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
    let tick = Ticker::current(stage, combos.len())?;
    let scores: Vec<f64> = combos
        .par_iter()
        .map(|c| {
            let s = score(ctx, c, lin_pen);
            tick.step().map(|()| s)
        })
        .collect::<Result<_>>()?;
    Ok((combos[first_best(&scores)].clone(), combos.len()))
}

/// Two coordinate-wise sweeps: each searched factor in turn takes its best
/// candidate (first on ties) with the others held; the choice and the
/// number of candidates scored (steps of the job, as
/// [`exhaustive_search`]).
fn coordinate_search(
    ctx: &Ctx,
    mut choice: Vec<usize>,
    searched: &[usize],
    lin_pen: f64,
    stage: &'static str,
) -> Result<(Vec<usize>, usize)> {
    let d = ctx.d;
    let mut candidates_seen = 0;
    let per_sweep: usize = searched
        .iter()
        .map(|&f| d.factors[f].candidates.len())
        .sum();
    let tick = Ticker::current(stage, 2 * per_sweep)?;
    for _sweep in 0..2 {
        for &f in searched {
            let cands = &d.factors[f].candidates;
            let scores: Vec<f64> = cands
                .par_iter()
                .map(|&c| {
                    let mut ch = choice.clone();
                    ch[f] = c;
                    let s = score(ctx, &ch, lin_pen);
                    tick.step().map(|()| s)
                })
                .collect::<Result<_>>()?;
            candidates_seen += cands.len();
            choice[f] = cands[first_best(&scores)];
        }
    }
    Ok((choice, candidates_seen))
}
