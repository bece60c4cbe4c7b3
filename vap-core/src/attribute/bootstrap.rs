//! The moving-block bootstrap, stratified by session: replicate `r` draws
//! blocks of units within every session from a generator seeded by
//! `(seed, r)` and refits; and the percentile summaries of replicates.

use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::solve::{self, LsqProblem};
use super::units::{Ctx, UnitStats, UnitSum};
use crate::error::Result;

/// Units per bootstrap block (a unit is a quarter of `block_ms`).
const BLOCK_UNITS: usize = 4;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Sorts `vals` and returns their standard deviation and 2.5 % and 97.5 %
/// percentiles (NaN when empty).
pub(super) fn spread(vals: &mut [f64]) -> (f64, f64, f64) {
    vals.sort_by(|a, b| a.total_cmp(b));
    let n = vals.len() as f64;
    if vals.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let m = vals.iter().sum::<f64>() / n;
    let sd = (vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    (sd, percentile(vals, 0.025), percentile(vals, 0.975))
}

/// The units of replicate `r`: blocks of four units starting at any unit,
/// within a session; each session gets as many units as it has (a session
/// shorter than a block is drawn whole).
fn draw(ctx: &Ctx, r: usize) -> Vec<usize> {
    let block_units = BLOCK_UNITS;
    let mut rng = ChaCha8Rng::seed_from_u64(crate::seed::mix(ctx.opts.seed, 0xB007, r as u64));
    let mut out = Vec::with_capacity(ctx.units.len() + block_units * ctx.session_units.len());
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
}

/// The `bootstrap` replicates of the coefficients of the columns `sel`,
/// each warm-started from `coef` at the same penalty (the log link by IRLS
/// with `glm_problem`'s bounds and scales, the linear forms from summed unit
/// statistics). Replicates that cannot be fitted are left out; the notes
/// count them.
pub(super) fn replicates(
    ctx: &Ctx,
    sel: &[usize],
    coef: &Array1<f64>,
    penalty: f64,
    glm_problem: Option<&LsqProblem>,
) -> Result<(Vec<Array1<f64>>, Vec<String>)> {
    let opts = ctx.opts;
    let mut reps: Vec<Array1<f64>> = if opts.bootstrap == 0 {
        vec![]
    } else if let Some(prob) = glm_problem {
        glm_replicates(ctx, sel, prob, coef, penalty)?
    } else {
        linear_replicates(ctx, sel, coef, penalty)?
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
    Ok((reps, notes))
}

/// The log link's replicates: IRLS on each replicate's rows (NaN where it
/// fails).
fn glm_replicates(
    ctx: &Ctx,
    sel: &[usize],
    prob: &LsqProblem,
    coef: &Array1<f64>,
    penalty: f64,
) -> Result<Vec<Array1<f64>>> {
    let (d, opts, p) = (ctx.d, ctx.opts, sel.len());
    let tick = Ticker::current("bootstrap", opts.bootstrap)?;
    (0..opts.bootstrap)
        .into_par_iter()
        .map(|r| {
            let rows: Vec<usize> = ctx.rows(draw(ctx, r));
            let z = d.split_matrix(&rows, sel);
            let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
            let off: Array1<f64> = rows.iter().map(|&i| d.offset(i)).collect();
            let b = solve::poisson_irls(
                &z,
                y.view(),
                off.view(),
                prob,
                opts.pen(penalty, 0.0),
                Some(coef),
            )
            .map(|f| f.b)
            .unwrap_or_else(|_| Array1::from_elem(p, f64::NAN));
            tick.step()?;
            Ok(b)
        })
        .collect()
}

/// The linear forms' replicates: each solved from the sum of its units'
/// statistics (NaN where it fails).
fn linear_replicates(
    ctx: &Ctx,
    sel: &[usize],
    coef: &Array1<f64>,
    penalty: f64,
) -> Result<Vec<Array1<f64>>> {
    let (opts, p) = (ctx.opts, sel.len());
    // The units' statistics over the dense columns of `sel` only.
    let keep: Vec<usize> = (0..ctx.dense_cols.len())
        .filter(|&a| sel.contains(&ctx.dense_cols[a]))
        .collect();
    let dense: Vec<usize> = keep.iter().map(|&a| ctx.dense_cols[a]).collect();
    let sel_units: Vec<UnitStats> = ctx.unit_stats.par_iter().map(|s| s.select(&keep)).collect();
    let st = ctx.all_stats.select(sel);
    let prob = ctx.problem(&st, sel)?;
    let ncols = ctx.d.cols.len();
    let tick = Ticker::current("bootstrap", opts.bootstrap)?;
    (0..opts.bootstrap)
        .into_par_iter()
        .map(|r| {
            let mut sum = UnitSum::new(dense.len());
            for k in draw(ctx, r) {
                sum.add(&sel_units[k]);
            }
            let s = sum.stats(ncols, &dense, sel);
            let b = prob
                .solve(&s, opts.pen(penalty, s.n), Some(coef))
                .unwrap_or_else(|_| Array1::from_elem(p, f64::NAN));
            tick.step()?;
            Ok(b)
        })
        .collect()
}

/// Progress and stopping of a parallel loop: a step of the current
/// [`crate::job::Job`] after each item (the bootstrap's replicates, the
/// carryover search's candidates).
pub(super) struct Ticker {
    job: crate::job::Job,
    stage: &'static str,
    done: std::sync::atomic::AtomicUsize,
    total: usize,
}

impl Ticker {
    /// A ticker of `total` items of `stage`; an error when the job was
    /// stopped already.
    pub(super) fn current(stage: &'static str, total: usize) -> Result<Ticker> {
        let job = crate::job::Job::current();
        job.check()?;
        Ok(Ticker {
            job,
            stage,
            done: Default::default(),
            total,
        })
    }

    /// One item done: reported, and `Err(Cancelled)` once the job was
    /// asked to stop.
    pub(super) fn step(&self) -> Result<()> {
        let d = self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.job.step(self.stage, d, self.total)
    }
}
