//! Column transforms: lag / lead, carryover (geometric adstock, Weibull
//! kernels) and Hill saturation. They work bin-wise on one session's column;
//! [`Timeline::derive`](super::Timeline::derive) applies them session by
//! session so that nothing carries over from one session into the next.

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};

/// A transform of one column into a new one.
///
/// Serialised with a `kind` tag: `{"kind": "adstock", "half_life_bins": 5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// `y[t] = x[t − bins]`: the past moved later. The first `bins` bins are
    /// missing (NaN, masked).
    Lag {
        /// Bins to shift by (default 1).
        #[serde(default = "one_bin")]
        bins: usize,
    },
    /// `y[t] = x[t + bins]`: the future moved earlier. The last `bins` bins are
    /// missing.
    Lead {
        /// Bins to shift by (default 1).
        #[serde(default = "one_bin")]
        bins: usize,
    },
    /// Geometric adstock `y[t] = x[t] + λ·y[t−1]` with `λ = 0.5^(1/half_life)`:
    /// an effect halves every `half_life_bins`. With `normalize` the result is
    /// multiplied by `1 − λ`, so the weights sum to 1 and a step input settles
    /// at its own level.
    Adstock {
        /// Half-life in bins (> 0).
        half_life_bins: f64,
        /// Scale the weights to sum to 1.
        #[serde(default)]
        normalize: bool,
    },
    /// Delayed carryover: `y[t] = Σ_k w_k·x[t−k]` for `k = 0..=max_lag_bins`,
    /// `w_k = F(k+1) − F(k)` with `F` the Weibull CDF of `shape` and
    /// `scale_bins`, normalised to sum to 1. `shape > 1` puts the peak of the
    /// effect after the cause; `shape ≤ 1` decays from the start.
    Weibull {
        /// Weibull shape k (> 0).
        shape: f64,
        /// Weibull scale λ in bins (> 0).
        scale_bins: f64,
        /// Longest lag kept.
        max_lag_bins: usize,
    },
    /// Hill saturation `y = x^s / (x^s + (h·max x)^s)`, with the inflexion `h`
    /// relative to the column's maximum: `h = 0.5` puts the half-way point at
    /// half the largest value. Values must be ≥ 0; the result is in [0, 1).
    Hill {
        /// Slope `s` (> 0).
        slope: f64,
        /// Inflexion as a share of the column's maximum (> 0).
        inflexion: f64,
    },
}

fn one_bin() -> usize {
    1
}

impl Transform {
    /// Checks the parameters.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(VapError::InvalidArgument(format!(
                    "transform {}: {what} must be a positive number, got {v}",
                    self.name()
                )))
            }
        };
        match *self {
            Transform::Lag { .. } | Transform::Lead { .. } => Ok(()),
            Transform::Adstock { half_life_bins, .. } => bad("half_life_bins", half_life_bins),
            Transform::Weibull {
                shape, scale_bins, ..
            } => {
                bad("shape", shape)?;
                bad("scale_bins", scale_bins)
            }
            Transform::Hill { slope, inflexion } => {
                bad("slope", slope)?;
                bad("inflexion", inflexion)
            }
        }
    }

    /// Short name ("lag", "adstock", ...).
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Lag { .. } => "lag",
            Transform::Lead { .. } => "lead",
            Transform::Adstock { .. } => "adstock",
            Transform::Weibull { .. } => "weibull",
            Transform::Hill { .. } => "hill",
        }
    }

    /// A readable label such as `adstock(half_life=5)`.
    pub fn label(&self) -> String {
        match self {
            Transform::Lag { bins } => format!("lag({bins})"),
            Transform::Lead { bins } => format!("lead({bins})"),
            Transform::Adstock {
                half_life_bins,
                normalize,
            } => format!("adstock(half_life={half_life_bins}, normalize={normalize})"),
            Transform::Weibull {
                shape,
                scale_bins,
                max_lag_bins,
            } => format!("weibull(shape={shape}, scale={scale_bins}, max_lag={max_lag_bins})"),
            Transform::Hill { slope, inflexion } => {
                format!("hill(slope={slope}, inflexion={inflexion})")
            }
        }
    }

    /// Whether the transform needs a column without missing bins.
    pub fn needs_complete(&self) -> bool {
        matches!(self, Transform::Adstock { .. } | Transform::Weibull { .. })
    }

    /// Applies the transform to one session's column. Missing bins are NaN.
    pub fn apply(&self, x: &[f64]) -> Result<Vec<f64>> {
        self.check()?;
        let n = x.len();
        Ok(match *self {
            Transform::Lag { bins } => (0..n)
                .map(|t| if t >= bins { x[t - bins] } else { f64::NAN })
                .collect(),
            Transform::Lead { bins } => (0..n)
                .map(|t| x.get(t + bins).copied().unwrap_or(f64::NAN))
                .collect(),
            Transform::Adstock {
                half_life_bins,
                normalize,
            } => adstock(x, half_life_bins, normalize),
            Transform::Weibull {
                shape,
                scale_bins,
                max_lag_bins,
            } => convolve(x, &weibull_weights(shape, scale_bins, max_lag_bins)),
            Transform::Hill { slope, inflexion } => hill(x, slope, inflexion, max_finite(x)),
        })
    }
}

/// Geometric adstock with the decay given as a half-life in bins.
pub fn adstock(x: &[f64], half_life_bins: f64, normalize: bool) -> Vec<f64> {
    let lambda = 0.5f64.powf(1.0 / half_life_bins);
    let scale = if normalize { 1.0 - lambda } else { 1.0 };
    let mut acc = 0.0;
    x.iter()
        .map(|&v| {
            acc = v + lambda * acc;
            acc * scale
        })
        .collect()
}

/// Discrete Weibull carryover weights for lags `0..=max_lag`, summing to 1.
pub fn weibull_weights(shape: f64, scale: f64, max_lag: usize) -> Vec<f64> {
    let cdf = |k: f64| 1.0 - (-(k / scale).powf(shape)).exp();
    let mut w: Vec<f64> = (0..=max_lag)
        .map(|k| cdf(k as f64 + 1.0) - cdf(k as f64))
        .collect();
    let s: f64 = w.iter().sum();
    if s > 0.0 {
        w.iter_mut().for_each(|v| *v /= s);
    } else {
        w.iter_mut().for_each(|v| *v = 0.0);
        w[0] = 1.0;
    }
    w
}

/// Causal convolution `y[t] = Σ_k w[k]·x[t−k]`.
pub fn convolve(x: &[f64], w: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|t| {
            w.iter()
                .take(t + 1)
                .enumerate()
                .map(|(k, wk)| wk * x[t - k])
                .sum()
        })
        .collect()
}

/// Hill saturation with the inflexion relative to `max`.
pub fn hill(x: &[f64], slope: f64, inflexion: f64, max: f64) -> Vec<f64> {
    let h = (inflexion * max).powf(slope);
    saturate(x, |v| {
        let p = v.powf(slope);
        p / (p + h)
    })
}

/// Logarithmic saturation `ln(1 + x / (scale·max))`: concave and
/// unbounded.
pub fn log_saturation(x: &[f64], scale: f64, max: f64) -> Vec<f64> {
    let a = scale * max;
    saturate(x, |v| (v / a).ln_1p())
}

/// A saturation curve `f` over the positive values of `x`: 0 at and below
/// 0, missing values stay missing.
fn saturate(x: &[f64], f: impl Fn(f64) -> f64) -> Vec<f64> {
    x.iter()
        .map(|&v| {
            if v.is_nan() {
                f64::NAN
            } else if v <= 0.0 {
                0.0
            } else {
                f(v)
            }
        })
        .collect()
}

fn max_finite(x: &[f64]) -> f64 {
    x.iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_and_lead_shift_with_missing_edges() {
        let x = [1.0, 2.0, 3.0];
        let y = Transform::Lag { bins: 1 }.apply(&x).unwrap();
        assert!(y[0].is_nan() && y[1] == 1.0 && y[2] == 2.0);
        let y = Transform::Lead { bins: 2 }.apply(&x).unwrap();
        assert!(y[0] == 3.0 && y[1].is_nan() && y[2].is_nan());
    }

    #[test]
    fn adstock_halves_after_half_life() {
        let mut x = vec![0.0; 20];
        x[0] = 1.0;
        let y = adstock(&x, 4.0, false);
        assert!((y[4] - 0.5).abs() < 1e-12 && (y[8] - 0.25).abs() < 1e-12);
        let step = adstock(&[1.0; 400], 4.0, true);
        assert!((step[399] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn weibull_weights_sum_to_one_and_delay_the_peak() {
        let w = weibull_weights(3.0, 5.0, 20);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let peak = (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])).unwrap();
        assert!(peak >= 3, "{peak}");
        let w = weibull_weights(1.0, 3.0, 20);
        assert!(w.windows(2).all(|p| p[0] >= p[1]));
    }

    #[test]
    fn hill_is_half_at_the_inflexion() {
        let y = hill(&[0.0, 5.0, 10.0], 2.0, 0.5, 10.0);
        assert_eq!(y[0], 0.0);
        assert!((y[1] - 0.5).abs() < 1e-12);
        assert!(y[2] < 1.0 && y[2] > 0.5);
    }

    #[test]
    fn bad_parameters_are_refused() {
        for t in [
            Transform::Adstock {
                half_life_bins: 0.0,
                normalize: false,
            },
            Transform::Hill {
                slope: f64::NAN,
                inflexion: 0.5,
            },
            Transform::Weibull {
                shape: -1.0,
                scale_bins: 1.0,
                max_lag_bins: 3,
            },
        ] {
            assert!(t.apply(&[1.0]).is_err());
        }
    }
}
