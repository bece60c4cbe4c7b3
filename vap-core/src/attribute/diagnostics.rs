//! Fit diagnostics ([`Diagnostics`]): in-sample and holdout fit, the
//! collinearity of the factors after the controls, and the residuals'
//! autocorrelation, with the warnings they raise.

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::decompose::Decomposition;
use super::design::Design;
use super::solve;
use super::units::Ctx;
use super::Form;
use crate::error::Result;

/// Fit diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Bins fitted.
    pub n_bins: usize,
    /// Bins left out (missing values).
    pub n_dropped: usize,
    /// Coefficients.
    pub n_coefficients: usize,
    /// In-sample R².
    pub r2: f64,
    /// In-sample RMSE / mean of the target.
    pub nrmse: f64,
    /// R² on the time-ordered holdout (the last `holdout` share, predicted by
    /// a fit on the rest).
    pub holdout_r2: f64,
    /// Holdout RMSE / holdout mean.
    pub holdout_nrmse: f64,
    /// Holdout mean absolute percentage error over 5-minute sums (windows
    /// with a positive actual).
    pub holdout_mape: f64,
    /// Variance inflation factor of each factor.
    pub vif: Vec<(String, f64)>,
    /// Condition index of the factors (after the controls): the square root
    /// of the largest over the smallest eigenvalue of their correlation
    /// matrix; above 30 a warning names the factors involved.
    pub condition_number: f64,
    /// Durbin–Watson statistic of the residuals (within sessions).
    pub durbin_watson: f64,
    /// Lag-1 autocorrelation of the residuals.
    pub residual_autocorrelation: f64,
    /// Carryover candidates evaluated (the log link searches twice: both
    /// counted).
    pub candidates: usize,
    /// Pairs of factors the data cannot tell apart: their columns as fitted
    /// correlate at [`CONFOUNDED_CORRELATION`] or more over the fitted bins,
    /// so how their joint effect splits between them is arbitrary (read
    /// their sum); each also raises a warning.
    #[serde(default)]
    pub confounded: Vec<Confounded>,
    /// The form fitted (`exposure`, `log_link` or `linear`): the one asked
    /// for, or the one [`Form::Auto`] chose.
    ///
    /// [`Form::Auto`]: super::Form::Auto
    #[serde(default)]
    pub form: String,
    /// With [`Form::Auto`], each form tried and its cross-validated mean
    /// squared error of the target per test bin (the lower was fitted);
    /// empty when the form was given.
    ///
    /// [`Form::Auto`]: super::Form::Auto
    #[serde(default)]
    pub form_cv: Vec<(String, f64)>,
    /// Warnings (collinearity naming the factors, residuals, dropped bins).
    pub warnings: Vec<String>,
}

/// Two factors the data cannot separate (see [`Diagnostics::confounded`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confounded {
    /// One factor.
    pub a: String,
    /// The other.
    pub b: String,
    /// Correlation of their columns as fitted, over the fitted bins.
    pub correlation: f64,
}

/// The correlation from which two factors count as not identifiable apart.
pub const CONFOUNDED_CORRELATION: f64 = 0.9;

/// The pairs of selected factor columns correlated at
/// [`CONFOUNDED_CORRELATION`] or more over the valid rows (the columns as
/// the fit sees them: times the exposure in the exposure form), each with a
/// warning.
fn confounded(d: &Design, sel: &[usize], warnings: &mut Vec<String>) -> Vec<Confounded> {
    let rows = d.valid_rows();
    let factors: Vec<usize> = sel[d.nu..].to_vec();
    let cols: Vec<(Vec<f64>, f64)> = factors
        .iter()
        .map(|&j| {
            let x: Vec<f64> = rows.iter().map(|&i| d.z(i, j)).collect();
            let m = x.iter().sum::<f64>() / x.len().max(1) as f64;
            let c: Vec<f64> = x.iter().map(|v| v - m).collect();
            let ss = c.iter().map(|v| v * v).sum::<f64>().sqrt();
            (c, ss)
        })
        .collect();
    let mut out = Vec::new();
    for a in 0..cols.len() {
        for b in a + 1..cols.len() {
            let (ca, sa) = &cols[a];
            let (cb, sb) = &cols[b];
            if *sa <= 0.0 || *sb <= 0.0 {
                continue;
            }
            let r = ca.iter().zip(cb).map(|(x, y)| x * y).sum::<f64>() / (sa * sb);
            if r.abs() >= CONFOUNDED_CORRELATION {
                let (na, nb) = (&d.cols[factors[a]].name, &d.cols[factors[b]].name);
                warnings.push(format!(
                    "{na} and {nb} move together (correlation {r:.2}): the data cannot tell their effects apart, so how their joint part splits between them is arbitrary; read their sum"
                ));
                out.push(Confounded {
                    a: na.clone(),
                    b: nb.clone(),
                    correlation: r,
                });
            }
        }
    }
    out
}

/// The diagnostics of the fit over the columns `sel` (its decomposition
/// `dec`, at `penalty`); the warnings raised are appended to `warnings`,
/// which the result carries.
pub(super) fn diagnostics(
    ctx: &Ctx,
    sel: &[usize],
    dec: &Decomposition,
    penalty: f64,
    warnings: &mut Vec<String>,
    candidates: usize,
) -> Result<Diagnostics> {
    let d = ctx.d;
    let valid = d.valid_rows();
    let (r2, nrmse) = fit_stats(d, &valid, &|i| dec.prediction[i]);
    let (hr2, hnrmse, hmape) = holdout(ctx, sel, dec, penalty);
    let (names, vif, cond) = collinearity(ctx, sel, warnings)?;
    let (dw, ac) = residual_autocorrelation(d, dec, warnings);
    let confounded = confounded(d, sel, warnings);
    Ok(Diagnostics {
        n_bins: valid.len(),
        n_dropped: d.n - valid.len(),
        n_coefficients: sel.len(),
        r2,
        nrmse,
        holdout_r2: hr2,
        holdout_nrmse: hnrmse,
        holdout_mape: hmape,
        vif: names.into_iter().zip(vif.iter().copied()).collect(),
        condition_number: cond,
        durbin_watson: dw,
        residual_autocorrelation: ac,
        candidates,
        confounded,
        form: ctx.opts.form.as_str().to_string(),
        form_cv: vec![],
        warnings: warnings.clone(),
    })
}

/// R² and RMSE / mean of the target over `rows` under the predictions `pred`.
fn fit_stats(d: &Design, rows: &[usize], pred: &dyn Fn(usize) -> f64) -> (f64, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|&i| d.y[i]).sum::<f64>() / n;
    let sst: f64 = rows.iter().map(|&i| (d.y[i] - mean).powi(2)).sum();
    let sse: f64 = rows.iter().map(|&i| (d.y[i] - pred(i)).powi(2)).sum();
    let r2 = if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN };
    let nrmse = if mean != 0.0 {
        (sse / n).sqrt() / mean
    } else {
        f64::NAN
    };
    (r2, nrmse)
}

/// Holdout R², NRMSE and 5-minute MAPE: the last `holdout` share of each
/// session's units, predicted by a fit on the rest warm-started from the
/// fitted coefficients (NaN where there is no holdout or the fit fails).
fn holdout(ctx: &Ctx, sel: &[usize], dec: &Decomposition, penalty: f64) -> (f64, f64, f64) {
    let (d, opts) = (ctx.d, ctx.opts);
    let glm = opts.form == Form::LogLink;
    let (mut train_units, mut test_units) = (Vec::new(), Vec::new());
    for r in &ctx.session_units {
        let cut = r.start + ((1.0 - opts.holdout) * r.len() as f64).round() as usize;
        train_units.extend(r.start..cut);
        test_units.extend(cut..r.end);
    }
    let (mut hr2, mut hnrmse, mut hmape) = (f64::NAN, f64::NAN, f64::NAN);
    if opts.holdout > 0.0 && !train_units.is_empty() && !test_units.is_empty() {
        let (train_rows, test_rows) = (
            ctx.rows(train_units.iter().copied()),
            ctx.rows(test_units.iter().copied()),
        );
        let b = if glm {
            ctx.glm_data(sel, &train_rows)
                .and_then(|(z, y, off, prob)| {
                    solve::poisson_irls(
                        &z,
                        y.view(),
                        off.view(),
                        &prob,
                        opts.pen(penalty, 0.0),
                        Some(&dec.coef),
                    )
                })
                .map(|f| f.b)
                .ok()
        } else {
            let st = ctx.total(train_units.iter().copied()).select(sel);
            ctx.problem(&st, sel)
                .and_then(|prob| prob.solve(&st, opts.pen(penalty, st.n), Some(&dec.coef)))
                .ok()
        };
        if let (Some(b), false) = (b, test_rows.is_empty()) {
            let pred = |i: usize| dec.view.predict(i, &b);
            let (a, c) = fit_stats(d, &test_rows, &pred);
            hr2 = a;
            hnrmse = c;
            hmape = five_minute_mape(d, &test_rows, &pred);
        }
    }
    (hr2, hnrmse, hmape)
}

/// Mean absolute percentage error over 5-minute sums of `rows` (windows with
/// a positive actual; NaN when there are none).
fn five_minute_mape(d: &Design, rows: &[usize], pred: &dyn Fn(usize) -> f64) -> f64 {
    let w = (300_000
        / d.time_ms
            .get(1)
            .map(|t| t - d.time_ms[0])
            .unwrap_or(1000)
            .max(1))
    .max(1) as usize;
    let (mut acc, mut k) = (0.0, 0);
    for ch in rows.chunks(w) {
        let a: f64 = ch.iter().map(|&i| d.y[i]).sum();
        let p: f64 = ch.iter().map(|&i| pred(i)).sum();
        if a > 0.0 {
            acc += ((a - p) / a).abs();
            k += 1;
        }
    }
    if k > 0 {
        acc / k as f64
    } else {
        f64::NAN
    }
}

/// Collinearity of the factors after the controls: their names, variance
/// inflation factors and condition index; warnings name the factors with a
/// VIF above 10 and, above a condition index of 30, those that move together.
pub(super) fn collinearity(
    ctx: &Ctx,
    sel: &[usize],
    warnings: &mut Vec<String>,
) -> Result<(Vec<String>, Array1<f64>, f64)> {
    let (d, nu) = (ctx.d, ctx.d.nu);
    let st = ctx.all_stats.select(sel);
    let prob = ctx.problem(&st, sel)?;
    let (vals, vif, vmin) = prob.collinearity(&st)?;
    let names: Vec<String> = sel[nu..].iter().map(|&c| d.cols[c].name.clone()).collect();
    let vmax = vals.iter().fold(0.0f64, |m, v| m.max(*v));
    let vlo = vals.iter().fold(f64::INFINITY, |m, v| m.min(*v));
    let cond = if vals.is_empty() {
        1.0
    } else {
        (vmax / vlo.max(1e-300)).sqrt()
    };
    let high: Vec<String> = names
        .iter()
        .zip(vif.iter())
        .filter(|(_, v)| **v > 10.0)
        .map(|(n, v)| format!("{n} (VIF {v:.1})"))
        .collect();
    if !high.is_empty() {
        warnings.push(format!("collinear factors: {}", high.join(", ")));
    }
    if cond > 30.0 {
        let inv: Vec<&str> = names
            .iter()
            .zip(vmin.iter())
            .filter(|(_, v)| v.abs() > 0.3)
            .map(|(n, _)| n.as_str())
            .collect();
        warnings.push(format!(
            "condition number {cond:.0}: the factors {} move together; their separate effects are poorly determined",
            inv.join(", ")
        ));
    }
    Ok((names, vif, cond))
}

/// Durbin–Watson statistic and lag-1 autocorrelation of the residuals,
/// within sessions (a missing bin breaks the chain); a warning below 1.5.
fn residual_autocorrelation(
    d: &Design,
    dec: &Decomposition,
    warnings: &mut Vec<String>,
) -> (f64, f64) {
    let (mut num, mut den, mut lag) = (0.0, 0.0, 0.0);
    for (_, rows) in &d.sessions {
        let mut prev: Option<f64> = None;
        for i in rows.clone() {
            if !d.valid[i] {
                prev = None;
                continue;
            }
            let r = d.y[i] - dec.prediction[i];
            den += r * r;
            if let Some(q) = prev {
                num += (r - q) * (r - q);
                lag += r * q;
            }
            prev = Some(r);
        }
    }
    let (dw, ac) = if den > 0.0 {
        (num / den, lag / den)
    } else {
        (f64::NAN, f64::NAN)
    };
    if dw < 1.5 {
        warnings.push(format!(
            "residuals are autocorrelated (Durbin–Watson {dw:.2}, lag-1 {ac:.2}): analytic standard errors are too narrow; use the block-bootstrap intervals"
        ));
    }
    (dw, ac)
}
