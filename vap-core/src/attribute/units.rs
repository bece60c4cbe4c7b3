//! The fit's working context ([`Ctx`]): the rows cut into units (a quarter
//! block each, within a session), every unit's sufficient statistics, the
//! sessions' unit ranges and the cross-validation folds. Folds, the holdout
//! and bootstrap replicates are sums of units, so each costs `O(p²)` per unit.

use std::ops::Range;

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::design::Design;
use super::solve::{LsqProblem, Stats};
use super::{cv, AttributeOptions, Form, Sign};
use crate::error::Result;
use crate::schema::Ms;

/// Rows of a Poisson fit: design, target, offset, and the problem's bounds.
pub(super) type GlmData = (Array2<f64>, Array1<f64>, Array1<f64>, LsqProblem);

/// What every stage of a fit reads: the design, the options, the units and
/// the statistics summed from them.
pub(super) struct Ctx<'a> {
    pub(super) d: &'a Design,
    pub(super) opts: &'a AttributeOptions,
    /// Per-unit statistics over every design column.
    pub(super) unit_stats: Vec<Stats>,
    /// Units: (session index, rows).
    pub(super) units: Vec<(usize, Range<usize>)>,
    /// Units per fold: (test units, excluded units).
    pub(super) folds: Vec<(Vec<usize>, Vec<usize>)>,
    /// Each session's units.
    pub(super) session_units: Vec<Range<usize>>,
    /// Statistics of every unit, over every design column.
    pub(super) all_stats: Stats,
    /// Training and test statistics of every fold, over every design column.
    pub(super) fold_stats: Vec<(Stats, Stats)>,
    /// Usable bins.
    pub(super) n_valid: usize,
}

impl<'a> Ctx<'a> {
    /// Cuts `d`'s rows into units of a quarter block (`step` the bin width),
    /// sums each unit's statistics, cuts the folds (`gap_ms` rounded up to
    /// whole units) and sums the folds' statistics.
    pub(super) fn new(
        d: &'a Design,
        opts: &'a AttributeOptions,
        step: Ms,
        n_valid: usize,
    ) -> Ctx<'a> {
        let u = ((opts.block_ms / 4) / step).max(1) as usize;
        let unit_list = units(d, u);
        let unit_stats = unit_statistics(d, &unit_list);
        let session_units = session_units(&unit_list);
        let gap = ((opts.gap_ms / step) as usize).div_ceil(u);
        let folds = cv::blocked_folds(&session_units, opts.folds, gap);
        let mut ctx = Ctx {
            d,
            opts,
            unit_stats,
            units: unit_list,
            folds,
            session_units,
            all_stats: Stats::zeros(0),
            fold_stats: Vec::new(),
            n_valid,
        };
        ctx.all_stats = ctx.total(0..ctx.units.len());
        ctx.fold_stats = ctx.fold_stats();
        ctx
    }

    /// The statistics of `units`, summed in order.
    pub(super) fn total(&self, units: impl Iterator<Item = usize>) -> Stats {
        let mut s = Stats::zeros(self.d.cols.len());
        for u in units {
            s.add(&self.unit_stats[u]);
        }
        s
    }

    /// The usable rows of `units`, in order.
    pub(super) fn rows(&self, units: impl IntoIterator<Item = usize>) -> Vec<usize> {
        units
            .into_iter()
            .flat_map(|k| self.units[k].1.clone())
            .filter(|&i| self.d.valid[i])
            .collect()
    }

    /// The penalised least-squares problem of the columns `sel` (the first
    /// `nu` unpenalised): the factors' scales from `st` (with `standardize`)
    /// and their sign constraints as bounds.
    pub(super) fn problem(&self, st: &Stats, sel: &[usize]) -> Result<LsqProblem> {
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

    /// A Poisson fit's data over `rows` and the columns `sel`: the design,
    /// target, offset, and the problem scaled from these rows.
    pub(super) fn glm_data(&self, sel: &[usize], rows: &[usize]) -> Result<GlmData> {
        let d = self.d;
        let z = d.matrix(rows, sel);
        let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
        let off: Array1<f64> = rows.iter().map(|&i| d.offset(i)).collect();
        let st = Stats::of(z.view(), y.view());
        let prob = self.problem(&st, sel)?;
        Ok((z, y, off, prob))
    }
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

/// Statistics per unit over all candidate columns (the log-link form uses
/// the exposure-scaled values for its carryover search).
fn unit_statistics(d: &Design, unit_list: &[(usize, Range<usize>)]) -> Vec<Stats> {
    unit_list
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
        .collect()
}

/// Sessions' unit ranges: folds, the holdout and bootstrap blocks are cut
/// within each session, so every training set and replicate keeps part of
/// every session (its fixed effect stays estimable).
fn session_units(unit_list: &[(usize, Range<usize>)]) -> Vec<Range<usize>> {
    let mut session_units: Vec<Range<usize>> = Vec::new();
    for (k, (s, _)) in unit_list.iter().enumerate() {
        match session_units.last_mut() {
            Some(r) if unit_list[r.start].0 == *s => r.end = k + 1,
            _ => session_units.push(k..k + 1),
        }
    }
    session_units
}
