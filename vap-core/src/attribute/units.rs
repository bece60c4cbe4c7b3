//! The fit's working context ([`Ctx`]): the rows cut into units (a quarter
//! block each, within a session), every unit's sufficient statistics (the
//! linear forms; the log link keeps only their sums), the sessions' unit
//! ranges and the cross-validation folds. Folds, the holdout
//! and bootstrap replicates are sums of units, so each costs `O(p²)` per unit.

use std::ops::Range;

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::design::{Design, Role};
use super::solve::{LsqProblem, SplitZ, Stats};
use super::{cv, AttributeOptions, Form, Sign};
use crate::error::Result;
use crate::schema::Ms;

/// Rows of a Poisson fit: design, target, offset, and the problem's bounds.
pub(super) type GlmData = (SplitZ, Array1<f64>, Array1<f64>, LsqProblem);

/// What every stage of a fit reads: the design, the options, the units and
/// the statistics summed from them.
pub(super) struct Ctx<'a> {
    pub(super) d: &'a Design,
    pub(super) opts: &'a AttributeOptions,
    /// Per-unit statistics over every design column, compact (a unit's
    /// rows are non-zero on one session column at most). Empty in the log
    /// link's context and the working one ([`Ctx::working`]), which keep
    /// only the sums.
    pub(super) unit_stats: Vec<UnitStats>,
    /// The design columns that are not session effects (the units' dense
    /// columns), in order.
    pub(super) dense_cols: Vec<usize>,
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
    /// The target summed over the usable bins.
    pub(super) y_sum: f64,
    /// The bin width.
    pub(super) step: Ms,
}

/// A weighted least-squares stand-in for a Poisson fit: per row the square
/// root of its weight and its working response times that root (0 on the
/// rows the fit does not use). See [`Ctx::working`].
pub(super) struct Working {
    pub(super) sqrt_w: Vec<f64>,
    pub(super) y: Vec<f64>,
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
        let u = unit_rows(opts, step);
        let unit_list = units(d, u);
        let y_sum =
            d.y.iter()
                .zip(&d.valid)
                .filter(|(_, v)| **v)
                .map(|(y, _)| *y)
                .sum::<f64>();
        debug_assert_eq!(d.form, opts.form, "the design is of the options' form");
        if d.form == Form::LogLink {
            // After its search the log link reads rows (IRLS, its bootstrap
            // and holdout), never a unit's statistics: only the sums are kept.
            return Ctx::summed(d, opts, step, unit_list, n_valid, y_sum, None);
        }
        let dense_cols = dense_columns(d);
        let unit_stats = unit_statistics(d, &unit_list, &dense_cols);
        Ctx::from_units(d, opts, step, unit_list, unit_stats, n_valid, y_sum)
    }

    /// The context from units already summed: `unit_list` gives each unit's
    /// session (its rows are only read by the stages that need rows: the
    /// log link, OLS by QR, linfa's elastic net, the diagnostics), and
    /// `unit_stats` its statistics over the dense columns of `d`
    /// ([`dense_columns`]), in order.
    pub(super) fn from_units(
        d: &'a Design,
        opts: &'a AttributeOptions,
        step: Ms,
        unit_list: Vec<(usize, Range<usize>)>,
        unit_stats: Vec<UnitStats>,
        n_valid: usize,
        y_sum: f64,
    ) -> Ctx<'a> {
        let u = unit_rows(opts, step);
        let dense_cols = dense_columns(d);
        let session_units = session_units(&unit_list);
        let gap = ((opts.gap_ms / step) as usize).div_ceil(u);
        let folds = cv::blocked_folds(&session_units, opts.folds, gap);
        let mut ctx = Ctx {
            d,
            opts,
            unit_stats,
            dense_cols,
            units: unit_list,
            folds,
            session_units,
            all_stats: Stats::zeros(0),
            fold_stats: Vec::new(),
            n_valid,
            y_sum,
            step,
        };
        ctx.all_stats = ctx.total(0..ctx.units.len());
        ctx.fold_stats = ctx.fold_stats();
        ctx
    }

    /// The same units and folds with the statistics of a weighted
    /// least-squares problem (`w`: every row scaled by its root weight, the
    /// target replaced by the working response): the log link's carryover
    /// search scores its candidates on these (see `search`).
    pub(super) fn working(&self, w: &Working) -> Ctx<'a> {
        let y_sum = w.y.iter().sum();
        Ctx::summed(
            self.d,
            self.opts,
            self.step,
            self.units.clone(),
            self.n_valid,
            y_sum,
            Some(w),
        )
    }

    /// The context with only the sums the search and the diagnostics read
    /// (every unit's and each fold's, summed in the units' order, a chunk of
    /// units at a time), not the units' own statistics: `unit_stats` is
    /// empty, so neither the linear bootstrap nor the linear holdout can
    /// run on it. `work`: of a weighted problem ([`Ctx::working`]).
    fn summed(
        d: &'a Design,
        opts: &'a AttributeOptions,
        step: Ms,
        unit_list: Vec<(usize, Range<usize>)>,
        n_valid: usize,
        y_sum: f64,
        work: Option<&Working>,
    ) -> Ctx<'a> {
        const CHUNK: usize = 256;
        let by_session: Vec<Option<SessionColumn>> = d
            .session_columns()
            .into_iter()
            .map(|j| j.map(|j| (j, Some(j))))
            .collect();
        let u = unit_rows(opts, step);
        let dense_cols = dense_columns(d);
        let session_units = session_units(&unit_list);
        let gap = ((opts.gap_ms / step) as usize).div_ceil(u);
        let folds = cv::blocked_folds(&session_units, opts.folds, gap);
        let nf = folds.len();
        let mut member = vec![(Vec::new(), Vec::new()); unit_list.len()];
        for (f, (test, excl)) in folds.iter().enumerate() {
            test.iter().for_each(|&u| member[u].0.push(f));
            excl.iter().for_each(|&u| member[u].1.push(f));
        }
        let k = dense_cols.len();
        let mut all = UnitSum::new(k);
        let mut test: Vec<UnitSum> = (0..nf).map(|_| UnitSum::new(k)).collect();
        let mut excl: Vec<UnitSum> = (0..nf).map(|_| UnitSum::new(k)).collect();
        for start in (0..unit_list.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(unit_list.len());
            let stats =
                unit_statistics_with(d, &unit_list[start..end], &dense_cols, &by_session, work);
            for (u, st) in (start..end).zip(&stats) {
                all.add(st);
                member[u].0.iter().for_each(|&f| test[f].add(st));
                member[u].1.iter().for_each(|&f| excl[f].add(st));
            }
        }
        let ncols = d.cols.len();
        let cols: Vec<usize> = (0..ncols).collect();
        let all_stats = all.stats(ncols, &dense_cols, &cols);
        let fold_stats = (0..nf)
            .map(|f| {
                let mut tr = all_stats.clone();
                tr.sub(&excl[f].stats(ncols, &dense_cols, &cols));
                (tr, test[f].stats(ncols, &dense_cols, &cols))
            })
            .collect();
        Ctx {
            d,
            opts,
            unit_stats: Vec::new(),
            dense_cols,
            units: unit_list,
            folds,
            session_units,
            all_stats,
            fold_stats,
            n_valid,
            y_sum,
            step,
        }
    }

    /// The statistics of `units`, summed in order, over every design
    /// column.
    pub(super) fn total(&self, units: impl Iterator<Item = usize>) -> Stats {
        let mut s = UnitSum::new(self.dense_cols.len());
        for u in units {
            s.add(&self.unit_stats[u]);
        }
        let all: Vec<usize> = (0..self.d.cols.len()).collect();
        s.stats(self.d.cols.len(), &self.dense_cols, &all)
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
        let z = d.split_matrix(rows, sel);
        let y: Array1<f64> = rows.iter().map(|&i| d.y[i]).collect();
        let off: Array1<f64> = rows.iter().map(|&i| d.offset(i)).collect();
        let st = z.stats(None, y.view());
        let prob = self.problem(&st, sel)?;
        Ok((z, y, off, prob))
    }
}

/// Rows per unit: a quarter block (`step` the bin width), at least one.
pub(super) fn unit_rows(opts: &AttributeOptions, step: Ms) -> usize {
    ((opts.block_ms / 4) / step).max(1) as usize
}

/// The design columns that are not session effects, in order: the dense
/// part of every unit's statistics.
pub(super) fn dense_columns(d: &Design) -> Vec<usize> {
    (0..d.cols.len())
        .filter(|&j| d.cols[j].role != Role::Session)
        .collect()
}

/// Units: consecutive row ranges of at most `u` rows within each session.
pub(super) fn units(d: &Design, u: usize) -> Vec<(usize, Range<usize>)> {
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

/// One unit's statistics, compact: `n`, Gram, cross-products and `y'y`
/// over the dense columns (those that are not session effects), and the one
/// session column the unit's rows can be non-zero on.
#[derive(Debug, Clone)]
pub(super) struct UnitStats {
    pub(super) st: Stats,
    pub(super) sess: Option<SessionPart>,
}

/// A session column's part of a unit's statistics: its cross-products with
/// the dense columns, its sum of squares and its product with the target.
#[derive(Debug, Clone)]
pub(super) struct SessionPart {
    /// Design column.
    pub(super) col: usize,
    pub(super) zx: Array1<f64>,
    pub(super) vv: f64,
    pub(super) vy: f64,
}

impl UnitStats {
    /// The statistics of dense columns `x`, session values `v` (on the
    /// session column `col`) and target `y`.
    pub(super) fn of(
        x: ArrayView2<f64>,
        v: Option<(usize, ArrayView1<f64>)>,
        y: ArrayView1<f64>,
    ) -> UnitStats {
        UnitStats {
            st: Stats::of(x, y),
            sess: v.map(|(col, v)| SessionPart {
                col,
                zx: x.t().dot(&v),
                vv: v.dot(&v),
                vy: v.dot(&y),
            }),
        }
    }

    /// The statistics of the dense columns at positions `keep` only.
    pub(super) fn select(&self, keep: &[usize]) -> UnitStats {
        UnitStats {
            st: self.st.select(keep),
            sess: self.sess.as_ref().map(|s| SessionPart {
                col: s.col,
                zx: keep.iter().map(|&a| s.zx[a]).collect(),
                vv: s.vv,
                vy: s.vy,
            }),
        }
    }
}

/// A sum of [`UnitStats`] over the same dense columns: the dense part summed
/// in place, the session parts per session column.
pub(super) struct UnitSum {
    st: Stats,
    sess: std::collections::BTreeMap<usize, SessionPart>,
}

impl UnitSum {
    pub(super) fn new(k: usize) -> UnitSum {
        UnitSum {
            st: Stats::zeros(k),
            sess: Default::default(),
        }
    }

    pub(super) fn add(&mut self, u: &UnitStats) {
        self.st.add(&u.st);
        if let Some(s) = &u.sess {
            match self.sess.get_mut(&s.col) {
                Some(t) => {
                    t.zx += &s.zx;
                    t.vv += s.vv;
                    t.vy += s.vy;
                }
                None => {
                    self.sess.insert(s.col, s.clone());
                }
            }
        }
    }

    /// The full statistics over the design columns `cols`, where `dense`
    /// names the design columns of the dense part (in its order) and
    /// `ncols` is the number of design columns.
    pub(super) fn stats(&self, ncols: usize, dense: &[usize], cols: &[usize]) -> Stats {
        let mut at = vec![None; ncols];
        for (a, &j) in dense.iter().enumerate() {
            at[j] = Some(a);
        }
        let p = cols.len();
        let mut out = Stats::zeros(p);
        out.n = self.st.n;
        out.yy = self.st.yy;
        for (q, &j) in cols.iter().enumerate() {
            match at[j] {
                Some(a) => {
                    out.zy[q] = self.st.zy[a];
                    for (r, &k) in cols.iter().enumerate() {
                        out.g[[q, r]] = match (at[k], self.sess.get(&k)) {
                            (Some(b), _) => self.st.g[[a, b]],
                            (None, Some(s)) => s.zx[a],
                            (None, None) => 0.0,
                        };
                    }
                }
                None => {
                    let Some(s) = self.sess.get(&j) else { continue };
                    out.zy[q] = s.vy;
                    for (r, &k) in cols.iter().enumerate() {
                        out.g[[q, r]] = match at[k] {
                            Some(b) => s.zx[b],
                            None if k == j => s.vv,
                            None => 0.0,
                        };
                    }
                }
            }
        }
        out
    }
}

/// Statistics per unit over all candidate columns (the log-link form uses
/// the exposure-scaled values for its carryover search), compact: the dense
/// columns `dense` and the unit's session column.
fn unit_statistics(
    d: &Design,
    unit_list: &[(usize, Range<usize>)],
    dense: &[usize],
) -> Vec<UnitStats> {
    let by_session: Vec<Option<SessionColumn>> = d
        .session_columns()
        .into_iter()
        .map(|j| j.map(|j| (j, Some(j))))
        .collect();
    unit_statistics_as(d, unit_list, dense, &by_session)
}

/// Each session's effect column in the statistics: the column index the
/// statistics name, and the design column its values come from (`None`: a
/// dummy of ones the design does not hold, as in one session's design built
/// for a room).
pub(super) type SessionColumn = (usize, Option<usize>);

/// [`unit_statistics`] with each session's effect column given.
pub(super) fn unit_statistics_as(
    d: &Design,
    unit_list: &[(usize, Range<usize>)],
    dense: &[usize],
    by_session: &[Option<SessionColumn>],
) -> Vec<UnitStats> {
    unit_statistics_with(d, unit_list, dense, by_session, None)
}

/// [`unit_statistics_as`], of a weighted problem where `work` is given.
fn unit_statistics_with(
    d: &Design,
    unit_list: &[(usize, Range<usize>)],
    dense: &[usize],
    by_session: &[Option<SessionColumn>],
    work: Option<&Working>,
) -> Vec<UnitStats> {
    // A dummy of ones, as the design would hold it (the exposure form
    // multiplies every column by the exposure).
    let one = |i: usize| {
        if d.form == Form::Exposure {
            d.e[i]
        } else {
            1.0
        }
    };
    unit_list
        .par_iter()
        .map(|(k, r)| {
            let rows: Vec<usize> = r.clone().filter(|&i| d.valid[i]).collect();
            let mut z = d.matrix(&rows, dense);
            let y: Array1<f64> = match work {
                Some(w) => rows.iter().map(|&i| w.y[i]).collect(),
                None => rows.iter().map(|&i| d.y[i]).collect(),
            };
            let scol = by_session[*k].map(|(j, _)| j);
            let mut v: Option<Array1<f64>> = by_session[*k].map(|(_, from)| {
                rows.iter()
                    .map(|&i| match from {
                        Some(j) => d.z(i, j),
                        None => one(i),
                    })
                    .collect()
            });
            let scale = match work {
                Some(w) => Some(&w.sqrt_w),
                None if d.form == Form::LogLink && d.has_exposure => Some(&d.e),
                None => None,
            };
            if let Some(s) = scale {
                for (a, &i) in rows.iter().enumerate() {
                    z.row_mut(a).mapv_inplace(|x| x * s[i]);
                    if let Some(v) = v.as_mut() {
                        v[a] *= s[i];
                    }
                }
            }
            UnitStats::of(
                z.view(),
                scol.zip(v.as_ref()).map(|(j, v)| (j, v.view())),
                y.view(),
            )
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s};

    #[test]
    fn compact_unit_statistics_sum_to_the_full_ones() {
        // Columns 2 and 3 are two sessions' effects; rows 0–1 are the
        // reference session, 2–4 session 2, 5–6 session 3.
        let z = array![
            [1.0, 0.5, 0.0, 0.0, 2.0],
            [1.0, 1.5, 0.0, 0.0, -1.0],
            [1.0, -0.3, 1.0, 0.0, 0.2],
            [1.0, 2.2, 0.8, 0.0, 1.1],
            [1.0, 0.9, 1.2, 0.0, -0.7],
            [1.0, 0.1, 0.0, 1.0, 0.4],
            [1.0, 0.4, 0.0, 0.5, 0.3]
        ];
        let y = array![-0.05, 3.35, 0.5, 2.3, 2.5, 1.0, 0.7];
        let dense = [0usize, 1, 4];
        let units: [(Option<usize>, std::ops::Range<usize>); 4] = [
            (None, 0..2),
            (Some(2), 2..4),
            (Some(2), 4..5),
            (Some(3), 5..7),
        ];
        let stats: Vec<UnitStats> = units
            .iter()
            .map(|(c, r)| {
                let rows = z.slice(s![r.clone(), ..]);
                let x = rows.select(ndarray::Axis(1), &dense);
                let v = c.map(|c| rows.column(c).to_owned());
                UnitStats::of(
                    x.view(),
                    c.zip(v.as_ref()).map(|(c, v)| (c, v.view())),
                    y.slice(s![r.clone()]),
                )
            })
            .collect();
        let mut sum = UnitSum::new(dense.len());
        stats.iter().for_each(|u| sum.add(u));
        let full = Stats::of(z.view(), y.view());
        assert!(full.close_to(&sum.stats(5, &dense, &[0, 1, 2, 3, 4]), 1e-12));
        // A selection of columns, with the dense part selected per unit.
        let sel = [0usize, 2, 3, 4];
        let keep = [0usize, 2];
        let mut part = UnitSum::new(keep.len());
        stats.iter().for_each(|u| part.add(&u.select(&keep)));
        assert!(full
            .select(&sel)
            .close_to(&part.stats(5, &[0, 4], &sel), 1e-12));
    }
}
