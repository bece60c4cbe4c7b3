//! The decomposition of a fit: per bin, `baseline + traffic + Σ factor =
//! prediction` ([`Decomposition`]), session and group totals ([`Part`],
//! [`GroupTotals`]) and a moment's or window's excess split across the
//! components ([`MomentAttribution`]), with bootstrap intervals.

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bootstrap::spread;
use super::design::{Design, Role};
use super::Form;
use crate::detect::Moment;
use crate::error::{Result, VapError};
use crate::schema::*;

/// The fitted columns over every row, kept to decompose and to recompute
/// contributions under bootstrap replicates.
#[derive(Debug, Clone)]
pub(super) struct DesignView {
    form: Form,
    nu: usize,
    roles: Vec<Role>,
    names: Vec<String>,
    /// Raw values of the columns that are not session effects, row-major
    /// (n × those columns).
    x: Array2<f64>,
    /// The unpenalised columns' positions among those, with their `x`
    /// column.
    u_dense: Vec<(usize, usize)>,
    /// Per position of `sel` at or after `nu`, its `x` column.
    f_col: Vec<usize>,
    /// Per row, its session-effect column's position and raw value.
    sess: Vec<Option<(usize, f64)>>,
    e: Vec<f64>,
    e_ref: Vec<f64>,
    has_exposure: bool,
}

impl DesignView {
    /// The columns `sel` of `d` over every row.
    pub(super) fn new(d: &Design, sel: &[usize]) -> DesignView {
        let dense: Vec<usize> = (0..sel.len())
            .filter(|&q| d.cols[sel[q]].role != Role::Session)
            .collect();
        let mut x = Array2::zeros((d.n, dense.len()));
        for (b, &q) in dense.iter().enumerate() {
            let col = &d.cols[sel[q]].x;
            for i in 0..d.n {
                x[[i, b]] = col[i];
            }
        }
        let mut at = vec![usize::MAX; sel.len()];
        for (b, &q) in dense.iter().enumerate() {
            at[q] = b;
        }
        let by_session = d.session_columns();
        let mut pos = vec![None; d.cols.len()];
        for (q, &j) in sel.iter().enumerate() {
            pos[j] = Some(q);
        }
        let sess = (0..d.n)
            .map(|i| {
                let j = by_session[d.session[i]]?;
                let q = pos[j]?;
                let v = d.cols[j].x[i];
                (v != 0.0).then_some((q, v))
            })
            .collect();
        DesignView {
            form: d.form,
            nu: d.nu,
            roles: sel.iter().map(|&j| d.cols[j].role).collect(),
            names: sel.iter().map(|&j| d.cols[j].name.clone()).collect(),
            x,
            u_dense: dense
                .iter()
                .filter(|&&q| q < d.nu)
                .map(|&q| (q, at[q]))
                .collect(),
            f_col: (d.nu..sel.len()).map(|q| at[q]).collect(),
            sess,
            e: d.e.clone(),
            e_ref: d.e_ref.clone(),
            has_exposure: d.has_exposure,
        }
    }

    /// `Σ b_j x_j` over the unpenalised columns at row `i` (base, controls,
    /// the row's session effect), leaving out the traffic column when
    /// `traffic` is given, whose coefficient is returned in it.
    fn unpenalised(&self, i: usize, b: &[f64], mut traffic: Option<&mut f64>) -> f64 {
        let x = self.x.row(i);
        let mut u = 0.0;
        for &(j, c) in &self.u_dense {
            match traffic.as_deref_mut() {
                Some(t) if self.roles[j] == Role::Traffic => *t += b[j],
                _ => u += b[j] * x[c],
            }
        }
        if let Some((q, v)) = self.sess[i] {
            u += b[q] * v;
        }
        u
    }

    /// The prediction at row `i` under coefficients `b`.
    pub(super) fn predict(&self, i: usize, b: &Array1<f64>) -> f64 {
        let (base, traffic, f) = self.parts(i, b.as_slice().unwrap_or(&[]), None);
        base + traffic + f
    }

    /// `(baseline, traffic, Σ factors)` at row `i`; with `out`, each factor's
    /// contribution is written there.
    fn parts(&self, i: usize, b: &[f64], mut out: Option<&mut [f64]>) -> (f64, f64, f64) {
        let x = self.x.row(i);
        let nu = self.nu;
        let (e, er) = (self.e[i], self.e_ref[i]);
        let f = |j: usize| b[j] * x[self.f_col[j - nu]];
        match self.form {
            Form::Linear => {
                let mut tb = 0.0;
                let base = self.unpenalised(i, b, Some(&mut tb)) + tb * er;
                let traffic = tb * (e - er);
                let mut s = 0.0;
                for j in nu..b.len() {
                    let c = f(j);
                    s += c;
                    if let Some(o) = out.as_deref_mut() {
                        o[j - nu] = c;
                    }
                }
                (base, traffic, s)
            }
            // a design is built with a concrete form: auto never reaches here
            Form::Exposure | Form::Auto => {
                let u = self.unpenalised(i, b, None);
                let mut s = 0.0;
                for j in nu..b.len() {
                    let c = e * f(j);
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
                let eu = self.unpenalised(i, b, None).clamp(-700.0, 700.0).exp();
                let sum: f64 = (nu..b.len()).map(f).sum();
                let total = e * eu * (sum.clamp(-700.0, 700.0).exp_m1());
                if let Some(o) = out {
                    for j in nu..b.len() {
                        let a = f(j);
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
    pub(super) view: DesignView,
    pub(super) coef: Array1<f64>,
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
    /// The decomposition of `d`'s rows under coefficients `coef` (over the
    /// columns of `view`), keeping the bootstrap replicates `reps`.
    pub(super) fn new(
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

    /// Number of bootstrap replicates of the coefficients kept.
    pub(super) fn replicate_count(&self) -> usize {
        self.reps.len()
    }

    /// The prediction at row `i` under bootstrap replicate `r` of the
    /// coefficients (NaN where the bin was not usable).
    pub(super) fn replicate_prediction(&self, r: usize, i: usize) -> f64 {
        if !self.valid[i] {
            return f64::NAN;
        }
        let (bs, tr, s) = self.view.parts(i, &self.reps[r], None);
        bs + tr + s
    }

    /// The predicted total over the usable bins at the fitted coefficients,
    /// and under each bootstrap replicate (in replicate order; NaN where a
    /// replicate is not finite), so that two decompositions of one model
    /// (a session and its counterfactual) can be differenced replicate by
    /// replicate.
    pub fn predicted_totals(&self) -> (f64, Vec<f64>) {
        let rows: Vec<usize> = (0..self.len()).filter(|&i| self.valid[i]).collect();
        let value: f64 = rows.iter().map(|&i| self.prediction[i]).sum();
        let reps = self
            .reps
            .par_iter()
            .map(|r| {
                if !r.iter().all(|v| v.is_finite()) {
                    return f64::NAN;
                }
                rows.iter()
                    .map(|&i| {
                        let (bs, tr, s) = self.view.parts(i, r, None);
                        bs + tr + s
                    })
                    .sum()
            })
            .collect();
        (value, reps)
    }

    /// Factor `name`'s total contribution over the usable bins at the fitted
    /// coefficients, and under each bootstrap replicate (replicate order; NaN
    /// where a replicate is not finite): for intervals at any level, and for
    /// differences between factors replicate by replicate.
    pub fn factor_totals(&self, name: &str) -> Option<(f64, Vec<f64>)> {
        let k = 2 + self.factors.iter().position(|f| f == name)?;
        let rows: Vec<usize> = (0..self.len()).filter(|&i| self.valid[i]).collect();
        let value = self.sums(&rows, self.coef.as_slice().unwrap_or(&[]))[k];
        let reps = self
            .reps
            .par_iter()
            .map(|r| {
                if r.iter().all(|v| v.is_finite()) {
                    self.sums(&rows, r)[k]
                } else {
                    f64::NAN
                }
            })
            .collect();
        Some((value, reps))
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

    /// The fitted bins whose start lies inside any of `spans`.
    fn rows_within(&self, spans: &[(Ms, Ms)]) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| {
                self.valid[i]
                    && spans
                        .iter()
                        .any(|(s, e)| self.time_ms[i] >= *s && self.time_ms[i] < *e)
            })
            .collect()
    }

    /// Totals inside groups of windows `(label, [(start, end), ...])`.
    pub fn totals_by(&self, groups: &[(String, Vec<(Ms, Ms)>)]) -> Vec<GroupTotals> {
        let b = self.coef.to_vec();
        groups
            .iter()
            .map(|(label, spans)| {
                let rows = self.rows_within(spans);
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

    /// The sum of the components `select` picks (by name: `"baseline"`,
    /// `"traffic"`, a factor) over the bins inside `spans`, as one [`Part`]
    /// named `label` with its bootstrap interval; `share` is of the actual
    /// total inside the spans. `None` when no component is picked or no
    /// fitted bin lies inside the spans.
    ///
    /// A product's contribution is `part_within("p1", &explains, |n| n.starts_with("explain"))`;
    /// an anchor's effect over a shift is the `host:<id>` factor within it.
    pub fn part_within(
        &self,
        label: &str,
        spans: &[(Ms, Ms)],
        select: impl Fn(&str) -> bool,
    ) -> Option<Part> {
        let picked: Vec<usize> = self
            .names()
            .iter()
            .enumerate()
            .filter(|(_, n)| select(n))
            .map(|(k, _)| k)
            .collect();
        let rows = self.rows_within(spans);
        if picked.is_empty() || rows.is_empty() {
            return None;
        }
        let actual: f64 = rows.iter().map(|&i| self.actual[i]).sum();
        let f = |b: &[f64]| -> Vec<f64> {
            let s = self.sums(&rows, b);
            vec![picked.iter().map(|&k| s[k]).sum()]
        };
        let value = f(self.coef.as_slice().unwrap_or(&[]))[0];
        let iv = self.intervals(&f);
        Some(Part {
            name: label.to_string(),
            value,
            low: iv.first().map(|v| v.0).unwrap_or(f64::NAN),
            high: iv.first().map(|v| v.1).unwrap_or(f64::NAN),
            share: if actual != 0.0 {
                value / actual
            } else {
                f64::NAN
            },
        })
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
