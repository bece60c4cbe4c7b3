//! Numerics of the attribution model: sufficient statistics, ridge paths from
//! one eigendecomposition, bounded coordinate descent (sign constraints, L1),
//! least squares by QR with standard errors, and a penalised Poisson IRLS with
//! an offset.

use linfa_linalg::cholesky::Cholesky;
use linfa_linalg::eigh::Eigh;
use linfa_linalg::qr::QR;
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Result, VapError};

fn numeric(what: &str, e: impl std::fmt::Display) -> VapError {
    VapError::InvalidArgument(format!(
        "{what} failed ({e}): the design is singular or badly scaled; drop collinear factors or add a penalty"
    ))
}

/// Sufficient statistics of a set of rows: `n`, `Z'Z`, `Z'y`, `y'y`.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    pub n: f64,
    pub g: Array2<f64>,
    pub zy: Array1<f64>,
    pub yy: f64,
}

impl Stats {
    pub fn zeros(p: usize) -> Stats {
        Stats {
            n: 0.0,
            g: Array2::zeros((p, p)),
            zy: Array1::zeros(p),
            yy: 0.0,
        }
    }

    /// Statistics of the rows of `z` (row-major) and `y`.
    pub fn of(z: ArrayView2<f64>, y: ArrayView1<f64>) -> Stats {
        Stats {
            n: z.nrows() as f64,
            g: z.t().dot(&z),
            zy: z.t().dot(&y),
            yy: y.dot(&y),
        }
    }

    pub fn add(&mut self, o: &Stats) {
        self.n += o.n;
        self.g += &o.g;
        self.zy += &o.zy;
        self.yy += o.yy;
    }

    pub fn sub(&mut self, o: &Stats) {
        self.n -= o.n;
        self.g -= &o.g;
        self.zy -= &o.zy;
        self.yy -= o.yy;
    }

    /// The statistics of a subset of the columns.
    pub fn select(&self, cols: &[usize]) -> Stats {
        let p = cols.len();
        let mut g = Array2::zeros((p, p));
        for (a, &i) in cols.iter().enumerate() {
            for (b, &j) in cols.iter().enumerate() {
                g[[a, b]] = self.g[[i, j]];
            }
        }
        Stats {
            n: self.n,
            g,
            zy: cols.iter().map(|&i| self.zy[i]).collect(),
            yy: self.yy,
        }
    }

    /// Whether every statistic is within `tol` of `o`'s (tests).
    #[cfg(test)]
    pub fn close_to(&self, o: &Stats, tol: f64) -> bool {
        self.n == o.n
            && (self.yy - o.yy).abs() < tol
            && (&self.zy - &o.zy).iter().all(|v| v.abs() < tol)
            && (&self.g - &o.g).iter().all(|v| v.abs() < tol)
    }

    /// Sum of squared residuals of coefficients `b`.
    pub fn sse(&self, b: &Array1<f64>) -> f64 {
        self.yy - 2.0 * b.dot(&self.zy) + b.dot(&self.g.dot(b))
    }
}

/// A design matrix whose sparse columns (the session effects) have at most
/// one non-zero per row: the dense columns as a matrix, the sparse ones as
/// one `(column, value)` per row. Products and Gram matrices cost
/// `O(n·k²)` for `k` dense columns however many sessions there are, and give
/// what the full matrix gives.
#[derive(Debug, Clone)]
pub(crate) struct SplitZ {
    /// Columns in all.
    pub p: usize,
    /// The dense columns' positions, in order.
    pub dense: Vec<usize>,
    /// Rows × dense columns.
    pub x: Array2<f64>,
    /// Per row, its sparse column's position and value (`None`: every
    /// sparse column is 0 on the row).
    pub one: Vec<Option<(usize, f64)>>,
}

impl SplitZ {
    /// Splits a full matrix `z`: the positions `sparse` are the sparse
    /// columns (each row non-zero on at most one of them; the first non-zero
    /// is kept).
    #[cfg(test)]
    pub fn from_full(z: ArrayView2<f64>, sparse: &[usize]) -> SplitZ {
        let dense: Vec<usize> = (0..z.ncols()).filter(|j| !sparse.contains(j)).collect();
        let x = z.select(Axis(1), &dense);
        let one = z
            .rows()
            .into_iter()
            .map(|r| sparse.iter().find(|&&q| r[q] != 0.0).map(|&q| (q, r[q])))
            .collect();
        SplitZ {
            p: z.ncols(),
            dense,
            x,
            one,
        }
    }

    pub fn nrows(&self) -> usize {
        self.x.nrows()
    }

    /// The product `Z b`.
    pub fn dot(&self, b: &Array1<f64>) -> Array1<f64> {
        let bd: Array1<f64> = self.dense.iter().map(|&j| b[j]).collect();
        let mut out = self.x.dot(&bd);
        for (o, s) in out.iter_mut().zip(&self.one) {
            if let Some((q, v)) = s {
                *o += v * b[*q];
            }
        }
        out
    }

    /// The product of row `i` with `b`.
    pub fn row_dot(&self, i: usize, b: &Array1<f64>) -> f64 {
        let mut v: f64 = self
            .dense
            .iter()
            .zip(self.x.row(i))
            .map(|(&j, x)| x * b[j])
            .sum();
        if let Some((q, s)) = self.one[i] {
            v += s * b[q];
        }
        v
    }

    /// Statistics of the rows scaled by `sw` (square roots of the weights;
    /// `None`: unweighted) against the target `t` (already scaled).
    pub fn stats(&self, sw: Option<&Array1<f64>>, t: ArrayView1<f64>) -> Stats {
        let n = self.x.nrows();
        let xw = match sw {
            Some(sw) => &self.x * &sw.view().insert_axis(Axis(1)),
            None => self.x.clone(),
        };
        let gd = xw.t().dot(&xw);
        let xy = xw.t().dot(&t);
        let mut st = Stats::zeros(self.p);
        st.n = n as f64;
        st.yy = t.dot(&t);
        for (a, &ja) in self.dense.iter().enumerate() {
            st.zy[ja] = xy[a];
            for (b, &jb) in self.dense.iter().enumerate() {
                st.g[[ja, jb]] = gd[[a, b]];
            }
        }
        let mut seen = vec![false; self.p];
        for i in 0..n {
            let Some((q, v)) = self.one[i] else { continue };
            let vw = v * sw.map_or(1.0, |s| s[i]);
            st.g[[q, q]] += vw * vw;
            st.zy[q] += vw * t[i];
            let mut row = st.g.row_mut(q);
            for (a, &ja) in self.dense.iter().enumerate() {
                row[ja] += vw * xw[[i, a]];
            }
            seen[q] = true;
        }
        for q in (0..self.p).filter(|&q| seen[q]) {
            for &ja in &self.dense {
                st.g[[ja, q]] = st.g[[q, ja]];
            }
        }
        st
    }
}

/// A penalised least-squares problem over columns `[U | X]`: the first `nu`
/// columns are unpenalised, the others penalised on the scale `scale`
/// (coefficient `β_j` is penalised as `(scale_j β_j)²`, `|scale_j β_j|`).
#[derive(Debug, Clone)]
pub(crate) struct LsqProblem {
    pub nu: usize,
    pub scale: Array1<f64>,
    pub lo: Array1<f64>,
    pub hi: Array1<f64>,
}

/// The penalty of a fit: `l2` and `l1` on the standardised scale, objective
/// `½‖y − Zb‖² + ½·l2·Σ(s_j β_j)² + l1·Σ|s_j β_j|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pen {
    pub l2: f64,
    pub l1: f64,
}

impl LsqProblem {
    pub fn p(&self) -> usize {
        self.nu + self.scale.len()
    }

    fn bounded(&self) -> bool {
        self.lo.iter().any(|v| v.is_finite()) || self.hi.iter().any(|v| v.is_finite())
    }

    /// Profiles the unpenalised columns out: returns `A = X'M X`, `r = X'M y`
    /// (standardised) and the map back `b_u = Guu⁻¹ (U'y − Gux β)`.
    fn profile(&self, st: &Stats) -> Result<Profiled> {
        let nu = self.nu;
        let p = self.p();
        let guu = st.g.slice(s![..nu, ..nu]).to_owned();
        let gux = st.g.slice(s![..nu, nu..]).to_owned();
        let gxx = st.g.slice(s![nu.., nu..]).to_owned();
        let uy = st.zy.slice(s![..nu]).to_owned();
        let xy = st.zy.slice(s![nu..]).to_owned();
        let (a, r, guu_inv) = if nu > 0 {
            let inv = sym_inverse(&guu)?;
            let t = inv.dot(&gux); // nu × px
            (gxx - gux.t().dot(&t), xy - t.t().dot(&uy), Some(inv))
        } else {
            (gxx, xy, None)
        };
        let s = &self.scale;
        let px = p - nu;
        let mut a_s = a;
        let mut r_s = r;
        for i in 0..px {
            r_s[i] /= s[i];
            for j in 0..px {
                a_s[[i, j]] /= s[i] * s[j];
            }
        }
        Ok(Profiled {
            a: a_s,
            r: r_s,
            guu_inv,
            gux,
            uy,
        })
    }

    /// Whether a sign constraint binds at `b` (a bounded coefficient on its
    /// bound).
    pub fn binds(&self, b: &Array1<f64>) -> bool {
        (0..self.scale.len()).any(|k| {
            let v = b[self.nu + k];
            (self.lo[k].is_finite() && v <= self.lo[k])
                || (self.hi[k].is_finite() && v >= self.hi[k])
        })
    }

    /// Scales that standardise the penalised columns: the root mean square of
    /// each column after the unpenalised columns are profiled out.
    pub fn standard_scale(st: &Stats, nu: usize) -> Result<Array1<f64>> {
        let p = st.g.nrows();
        let unit = LsqProblem {
            nu,
            scale: Array1::ones(p - nu),
            lo: Array1::from_elem(p - nu, f64::NEG_INFINITY),
            hi: Array1::from_elem(p - nu, f64::INFINITY),
        };
        let pr = unit.profile(st)?;
        let n = st.n.max(1.0);
        Ok(pr
            .a
            .diag()
            .mapv(|v| if v > 1e-300 { (v / n).sqrt() } else { 1.0 }))
    }

    /// `T = Guu⁻¹ Gux` and `t = Guu⁻¹ U'y`: `X − U·T` and `y − U·t` are the
    /// penalised columns and the target with the unpenalised columns profiled
    /// out (for a solver that works on rows, such as linfa's elastic net).
    pub fn residualizer(&self, st: &Stats) -> Result<(Array2<f64>, Array1<f64>)> {
        let nu = self.nu;
        if nu == 0 {
            return Ok((Array2::zeros((0, self.scale.len())), Array1::zeros(0)));
        }
        let inv = sym_inverse(&st.g.slice(s![..nu, ..nu]).to_owned())?;
        Ok((
            inv.dot(&st.g.slice(s![..nu, nu..])),
            inv.dot(&st.zy.slice(s![..nu])),
        ))
    }

    /// The largest `|r_j|` of the standardised, profiled problem (the
    /// smallest L1 penalty that keeps every coefficient at zero).
    pub fn max_abs_r(&self, st: &Stats) -> Result<f64> {
        let pr = self.profile(st)?;
        Ok(pr.r.iter().fold(0.0f64, |m, v| m.max(v.abs())))
    }

    /// Full coefficients from standardised penalised ones `gamma`.
    pub fn unstandardise(&self, st: &Stats, gamma: &Array1<f64>) -> Result<Array1<f64>> {
        let pr = self.profile(st)?;
        Ok(self.unprofile(&pr, gamma))
    }

    /// Coefficients at one penalty (on the original scale, `[U | X]`).
    pub fn solve(&self, st: &Stats, pen: Pen, warm: Option<&Array1<f64>>) -> Result<Array1<f64>> {
        let pr = self.profile(st)?;
        let px = self.scale.len();
        let gamma = if px == 0 {
            Array1::zeros(0)
        } else if pen.l1 == 0.0 && !self.bounded() {
            let mut m = pr.a.clone();
            for i in 0..px {
                m[[i, i]] += pen.l2;
            }
            chol_solve(&m, &pr.r)?
        } else {
            let lo = &self.lo * &self.scale;
            let hi = &self.hi * &self.scale;
            let start = warm
                .map(|w| w.slice(s![self.nu..]).to_owned() * &self.scale)
                .unwrap_or_else(|| Array1::zeros(px));
            coordinate_descent(&pr.a, &pr.r, pen, &lo, &hi, start)
        };
        Ok(self.unprofile(&pr, &gamma))
    }

    fn unprofile(&self, pr: &Profiled, gamma: &Array1<f64>) -> Array1<f64> {
        let beta = gamma / &self.scale;
        let mut out = Array1::zeros(self.p());
        if let Some(inv) = &pr.guu_inv {
            let bu = inv.dot(&(&pr.uy - &pr.gux.dot(&beta)));
            out.slice_mut(s![..self.nu]).assign(&bu);
        }
        out.slice_mut(s![self.nu..]).assign(&beta);
        out
    }

    /// Ridge coefficients at every `l2` in `path` from one eigendecomposition
    /// (unbounded, no L1). Returns one coefficient vector per penalty.
    pub fn ridge_path(&self, st: &Stats, path: &[f64]) -> Result<Vec<Array1<f64>>> {
        let pr = self.profile(st)?;
        let px = self.scale.len();
        if px == 0 {
            let b = self.unprofile(&pr, &Array1::zeros(0));
            return Ok(path.iter().map(|_| b.clone()).collect());
        }
        let (vals, vecs) = pr.a.eigh().map_err(|e| numeric("eigendecomposition", e))?;
        let proj = vecs.t().dot(&pr.r);
        Ok(path
            .iter()
            .map(|&l2| {
                let w: Array1<f64> = proj
                    .iter()
                    .zip(vals.iter())
                    .map(|(p, v)| {
                        let d = v.max(0.0) + l2;
                        if d > 0.0 {
                            p / d
                        } else {
                            0.0
                        }
                    })
                    .collect();
                self.unprofile(&pr, &vecs.dot(&w))
            })
            .collect())
    }

    /// Eigenvalues of the standardised, profiled correlation-like matrix and
    /// the diagonal of its inverse (variance inflation factors), for the
    /// collinearity diagnostics. Also returns the eigenvector of the smallest
    /// eigenvalue.
    pub fn collinearity(&self, st: &Stats) -> Result<(Array1<f64>, Array1<f64>, Array1<f64>)> {
        let pr = self.profile(st)?;
        let px = self.scale.len();
        if px == 0 {
            return Ok((Array1::zeros(0), Array1::zeros(0), Array1::zeros(0)));
        }
        let d: Array1<f64> = pr.a.diag().mapv(|v| v.max(1e-300).sqrt());
        let mut c = pr.a.clone();
        for i in 0..px {
            for j in 0..px {
                c[[i, j]] /= d[i] * d[j];
            }
        }
        let (vals, vecs) = c.eigh().map_err(|e| numeric("eigendecomposition", e))?;
        let vif: Array1<f64> = (0..px)
            .map(|i| {
                (0..px)
                    .map(|k| vecs[[i, k]] * vecs[[i, k]] / vals[k].max(1e-300))
                    .sum()
            })
            .collect();
        let kmin = (0..px)
            .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
            .unwrap_or(0);
        Ok((vals, vif, vecs.column(kmin).to_owned()))
    }
}

struct Profiled {
    a: Array2<f64>,
    r: Array1<f64>,
    guu_inv: Option<Array2<f64>>,
    gux: Array2<f64>,
    uy: Array1<f64>,
}

/// Inverse of a symmetric positive definite matrix (Cholesky): `W = L⁻¹`
/// by forward substitution, row by row, then `W'W`.
pub(crate) fn sym_inverse(m: &Array2<f64>) -> Result<Array2<f64>> {
    let n = m.nrows();
    let l = m
        .cholesky()
        .map_err(|e| numeric("Cholesky factorisation", e))?;
    let mut w = Array2::<f64>::zeros((n, n));
    let mut row = Array1::<f64>::zeros(n);
    for i in 0..n {
        row.fill(0.0);
        row[i] = 1.0;
        for k in 0..i {
            let a = l[[i, k]];
            if a != 0.0 {
                row.slice_mut(s![..=k])
                    .scaled_add(-a, &w.slice(s![k, ..=k]));
            }
        }
        row /= l[[i, i]];
        w.row_mut(i).assign(&row);
    }
    Ok(w.t().dot(&w))
}

fn chol_apply(l: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut y = b.clone();
    for i in 0..n {
        let mut v = y[i];
        for k in 0..i {
            v -= l[[i, k]] * y[k];
        }
        y[i] = v / l[[i, i]];
    }
    for i in (0..n).rev() {
        let mut v = y[i];
        for k in i + 1..n {
            v -= l[[k, i]] * y[k];
        }
        y[i] = v / l[[i, i]];
    }
    y
}

/// Solves `m x = b` for symmetric positive definite `m`.
pub(crate) fn chol_solve(m: &Array2<f64>, b: &Array1<f64>) -> Result<Array1<f64>> {
    let l = m
        .cholesky()
        .map_err(|e| numeric("Cholesky factorisation", e))?;
    Ok(chol_apply(&l, b))
}

/// Minimises `½γ'Aγ − r'γ + l1·|γ|₁ + ½·l2·|γ|²` subject to `lo ≤ γ ≤ hi` by
/// cyclic coordinate descent (each coordinate's exact minimiser, clipped: the
/// one-dimensional problems are convex, so clipping is the projection).
pub(crate) fn coordinate_descent(
    a: &Array2<f64>,
    r: &Array1<f64>,
    pen: Pen,
    lo: &Array1<f64>,
    hi: &Array1<f64>,
    start: Array1<f64>,
) -> Array1<f64> {
    let p = r.len();
    let mut g = start;
    for j in 0..p {
        g[j] = g[j].clamp(lo[j], hi[j]);
    }
    // grad = A γ maintained incrementally.
    let mut ag = a.dot(&g);
    let scale = a.diag().iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    for _ in 0..10_000 {
        let mut max_step = 0.0f64;
        for j in 0..p {
            let ajj = a[[j, j]];
            if ajj + pen.l2 <= 0.0 {
                continue;
            }
            let c = r[j] - (ag[j] - ajj * g[j]);
            let soft = if c > pen.l1 {
                c - pen.l1
            } else if c < -pen.l1 {
                c + pen.l1
            } else {
                0.0
            };
            let new = (soft / (ajj + pen.l2)).clamp(lo[j], hi[j]);
            let d = new - g[j];
            if d != 0.0 {
                ag.scaled_add(d, &a.column(j));
                g[j] = new;
                max_step = max_step.max(d.abs() * (ajj + pen.l2).sqrt());
            }
        }
        if max_step <= 1e-12 * scale.sqrt() {
            break;
        }
    }
    g
}

/// Ordinary least squares by Householder QR: coefficients, their standard
/// errors `σ̂·sqrt(diag((R'R)⁻¹))` with `σ̂² = RSS/(n − p)`, and the residual
/// degrees of freedom.
pub(crate) fn ols_qr(
    z: ArrayView2<f64>,
    y: ArrayView1<f64>,
) -> Result<(Array1<f64>, Array1<f64>, f64)> {
    let (n, p) = z.dim();
    if n <= p {
        return Err(VapError::InvalidArgument(format!(
            "ordinary least squares needs more bins ({n}) than coefficients ({p})"
        )));
    }
    let qr = z.to_owned().qr().map_err(|e| numeric("QR", e))?;
    let (q, r) = qr.into_decomp();
    let r = r.slice(s![..p, ..p]).to_owned();
    if (0..p).any(|i| r[[i, i]].abs() <= 1e-12 * r[[0, 0]].abs().max(1e-300)) {
        return Err(numeric("QR", "rank deficient"));
    }
    let qty = q.t().dot(&y);
    let mut b = Array1::zeros(p);
    for i in (0..p).rev() {
        let mut v = qty[i];
        for k in i + 1..p {
            v -= r[[i, k]] * b[k];
        }
        b[i] = v / r[[i, i]];
    }
    let resid = &y - &z.dot(&b);
    let df = (n - p) as f64;
    let sigma2 = resid.dot(&resid) / df;
    // R⁻¹ by back substitution; (R'R)⁻¹ = R⁻¹ R⁻ᵀ, its diagonal the row norms.
    let mut rinv = Array2::<f64>::zeros((p, p));
    for c in 0..p {
        for i in (0..=c).rev() {
            let mut v = if i == c { 1.0 } else { 0.0 };
            for k in i + 1..=c {
                v -= r[[i, k]] * rinv[[k, c]];
            }
            rinv[[i, c]] = v / r[[i, i]];
        }
    }
    let se = rinv
        .axis_iter(Axis(0))
        .map(|row| (sigma2 * row.dot(&row)).sqrt())
        .collect();
    Ok((b, se, df))
}

/// Result of a Poisson fit.
pub(crate) struct PoissonFit {
    pub b: Array1<f64>,
    /// `sqrt(diag((Z'WZ + P)⁻¹))` at the solution.
    pub se: Array1<f64>,
}

/// Poisson regression with log link and offset, `μ = exp(offset + Zb)`,
/// maximising `Σ(y log μ − μ)/n − ½·l2·Σ(s_j β_j)² − l1·Σ|s_j β_j|` (the
/// per-observation scaling of statsmodels' `fit_regularized`) by iteratively
/// reweighted least squares; each step solves the penalised weighted
/// least-squares problem (Cholesky, or bounded coordinate descent with L1 or
/// sign constraints).
pub(crate) fn poisson_irls(
    z: &SplitZ,
    y: ArrayView1<f64>,
    offset: ArrayView1<f64>,
    prob: &LsqProblem,
    pen: Pen,
    warm: Option<&Array1<f64>>,
) -> Result<PoissonFit> {
    let (n, p) = (z.nrows(), z.p);
    let nf = n as f64;
    let mut b = match warm {
        Some(w) => w.clone(),
        None => {
            // Start from the intercept-only rate where the first column is
            // constant, otherwise zero.
            let mut b = Array1::zeros(p);
            let ys: f64 = y.sum();
            let es: f64 = offset.iter().map(|o| o.exp()).sum();
            let first_dense =
                z.dense.first() == Some(&0) && z.one.iter().all(|s| !matches!(s, Some((0, _))));
            if p > 0 && prob.nu > 0 && ys > 0.0 && es > 0.0 && first_dense && n > 0 {
                let c0 = z.x[[0, 0]];
                if c0 != 0.0 && z.x.column(0).iter().all(|v| *v == c0) {
                    b[0] = (ys / es).ln() / c0;
                }
            }
            b
        }
    };
    let mut last_dev = f64::INFINITY;
    let mut it = 0;
    let mut w_final = Array1::zeros(n);
    while it < 100 {
        it += 1;
        let eta = z.dot(&b) + offset;
        // working response and weights
        let mut sw = Array1::zeros(n);
        let mut t = Array1::zeros(n);
        for i in 0..n {
            let m = eta[i].clamp(-700.0, 700.0).exp().max(1e-300);
            let w = m.sqrt();
            t[i] = w * (eta[i] - offset[i] + (y[i] - m) / m);
            sw[i] = w;
            w_final[i] = m;
        }
        let st = z.stats(Some(&sw), t.view());
        // The penalties are per observation in statsmodels: multiply by n.
        let scaled = Pen {
            l2: pen.l2 * nf,
            l1: pen.l1 * nf,
        };
        let nb = prob.solve(&st, scaled, Some(&b))?;
        let eta2 = z.dot(&nb) + offset;
        let dev: f64 = eta2
            .iter()
            .zip(y.iter())
            .map(|(e, &yy)| {
                let m = e.clamp(-700.0, 700.0).exp();
                let l = if yy > 0.0 { yy * (yy / m).ln() } else { 0.0 };
                2.0 * (l - (yy - m))
            })
            .sum();
        let change = (&nb - &b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        b = nb;
        if !dev.is_finite() {
            return Err(numeric("Poisson IRLS", "the deviance diverged"));
        }
        if (last_dev - dev).abs() <= 1e-12 * (dev.abs() + 1.0) && change < 1e-10 {
            break;
        }
        last_dev = dev;
    }
    // Covariance at the solution: (Z'WZ + n·l2·diag(0, s²))⁻¹.
    let sw = w_final.mapv(f64::sqrt);
    let mut h = z.stats(Some(&sw), Array1::zeros(n).view()).g;
    for j in 0..prob.scale.len() {
        h[[prob.nu + j, prob.nu + j]] += pen.l2 * nf * prob.scale[j] * prob.scale[j];
    }
    let se = sym_inverse(&h)
        .map(|inv| inv.diag().mapv(|v| v.max(0.0).sqrt()))
        .unwrap_or_else(|_| Array1::from_elem(p, f64::NAN));
    Ok(PoissonFit { b, se })
}

/// Poisson deviance of predictions `mu` against `y`.
pub(crate) fn poisson_deviance(y: &[f64], mu: &[f64]) -> f64 {
    y.iter()
        .zip(mu)
        .map(|(&yy, &m)| {
            let m = m.max(1e-300);
            let l = if yy > 0.0 { yy * (yy / m).ln() } else { 0.0 };
            2.0 * (l - (yy - m))
        })
        .sum()
}

/// Standard normal quantile (Acklam's rational approximation, refined by one
/// Newton step on the error function's complement).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    let a = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    let b = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    let c = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    let d = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let pl = 0.02425;
    if p <= pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    } else if p < 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// Student-t quantile by the Cornish–Fisher expansion (Abramowitz & Stegun
/// 26.7.5); accurate to about 1e-4 for 10 or more degrees of freedom.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_quantile(p);
    if !df.is_finite() {
        return z;
    }
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / df + g2 / (df * df) + g3 / df.powi(3) + g4 / df.powi(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// A small design: an intercept and two columns over five rows.
    fn five_rows() -> Array2<f64> {
        array![
            [1.0, 0.5, 2.0],
            [1.0, 1.5, -1.0],
            [1.0, -0.3, 0.2],
            [1.0, 2.2, 1.1],
            [1.0, 0.9, -0.7]
        ]
    }

    #[test]
    fn quantiles() {
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((t_quantile(0.975, 10.0) - 2.228_138_852).abs() < 2e-3);
        assert!((t_quantile(0.975, 100.0) - 1.983_971_519).abs() < 1e-6);
    }

    #[test]
    fn ridge_path_equals_direct_solve_and_cd() {
        let z = five_rows();
        let y = array![-0.05, 3.35, 0.5, 2.3, 2.5];
        let st = Stats::of(z.view(), y.view());
        let prob = LsqProblem {
            nu: 1,
            scale: array![1.0, 2.0],
            lo: Array1::from_elem(2, f64::NEG_INFINITY),
            hi: Array1::from_elem(2, f64::INFINITY),
        };
        let path = prob.ridge_path(&st, &[0.0, 0.7, 5.0]).unwrap();
        for (k, &l2) in [0.0, 0.7, 5.0].iter().enumerate() {
            let direct = prob.solve(&st, Pen { l2, l1: 0.0 }, None).unwrap();
            let mut bounded = prob.clone();
            bounded.lo[0] = -1e9;
            let cd = bounded.solve(&st, Pen { l2, l1: 0.0 }, None).unwrap();
            for j in 0..3 {
                assert!((path[k][j] - direct[j]).abs() < 1e-9, "{k} {j}");
                assert!((cd[j] - direct[j]).abs() < 1e-7, "{k} {j}");
            }
        }
        // A sign constraint binds: the constrained coefficient is 0.
        let mut pos = prob.clone();
        pos.lo[1] = 0.0;
        let free = prob.solve(&st, Pen { l2: 0.0, l1: 0.0 }, None).unwrap();
        assert!(free[2] < 0.0);
        let b = pos.solve(&st, Pen { l2: 0.0, l1: 0.0 }, None).unwrap();
        assert_eq!(b[2], 0.0);
    }

    #[test]
    fn split_matrix_gives_what_the_full_matrix_gives() {
        // Columns 2 and 3 are session indicators (values 1 and 0.5·e):
        // at most one non-zero per row, none on the reference rows.
        let z = array![
            [1.0, 0.5, 0.0, 0.0, 2.0],
            [1.0, 1.5, 1.0, 0.0, -1.0],
            [1.0, -0.3, 1.0, 0.0, 0.2],
            [1.0, 2.2, 0.0, 0.7, 1.1],
            [1.0, 0.9, 0.0, 1.3, -0.7],
            [1.0, 0.1, 0.0, 0.0, 0.4]
        ];
        let y = array![-0.05, 3.35, 0.5, 2.3, 2.5, 1.0];
        let sw = array![1.0, 0.5, 2.0, 1.5, 0.25, 3.0];
        let split = SplitZ::from_full(z.view(), &[2, 3]);
        assert_eq!(split.dense, vec![0, 1, 4]);
        assert_eq!(split.one[0], None);
        assert_eq!(split.one[3], Some((3, 0.7)));
        let b = array![0.3, -1.0, 2.0, 0.5, 0.25];
        let full = z.dot(&b);
        let part = split.dot(&b);
        for i in 0..6 {
            assert!((full[i] - part[i]).abs() < 1e-12);
            assert!((full[i] - split.row_dot(i, &b)).abs() < 1e-12);
        }
        let zw = &z * &sw.view().insert_axis(Axis(1));
        let t = &y * &sw;
        for (a, b) in [
            (Stats::of(z.view(), y.view()), split.stats(None, y.view())),
            (
                Stats::of(zw.view(), t.view()),
                split.stats(Some(&sw), t.view()),
            ),
        ] {
            assert!(a.close_to(&b, 1e-12), "{}\n{}", a.g, b.g);
        }
    }

    #[test]
    fn sym_inverse_inverts() {
        let z = five_rows();
        let g = z.t().dot(&z);
        let inv = sym_inverse(&g).unwrap();
        let eye = g.dot(&inv);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[[i, j]] - want).abs() < 1e-12, "{eye}");
            }
        }
        assert!(sym_inverse(&array![[1.0, 2.0], [2.0, 1.0]]).is_err());
    }

    #[test]
    fn ols_matches_normal_equations() {
        let z = array![[1.0, 0.5], [1.0, 1.5], [1.0, -0.3], [1.0, 2.2]];
        let y = array![1.0, 2.0, 0.5, 3.1];
        let (b, se, df) = ols_qr(z.view(), y.view()).unwrap();
        let st = Stats::of(z.view(), y.view());
        let bn = chol_solve(&st.g, &st.zy).unwrap();
        assert!((&b - &bn).iter().all(|v| v.abs() < 1e-12));
        assert_eq!(df, 2.0);
        let s2 = st.sse(&b) / df;
        let inv = sym_inverse(&st.g).unwrap();
        assert!((se[1] - (s2 * inv[[1, 1]]).sqrt()).abs() < 1e-12);
    }
}
