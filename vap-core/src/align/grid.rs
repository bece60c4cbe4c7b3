//! The regular time grid every column of a [`Timeline`](super::Timeline) lives on.

use serde::{Deserialize, Serialize};

use crate::error::{Result, VapError};
use crate::schema::{Ms, Session};

/// The largest number of bins a grid may have (about 4 years at 1 s).
pub const MAX_BINS: usize = 1 << 27;

/// A regular grid: `n` bins of `step_ms`, bin `i` being the closed-left interval
/// `[start + i·step, start + (i+1)·step)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grid {
    /// Start of bin 0 (ms since the Unix epoch, UTC).
    pub start_ms: Ms,
    /// Bin width in ms (> 0).
    pub step_ms: Ms,
    /// Number of bins.
    pub n: usize,
}

impl Grid {
    /// A grid of `n` bins of `step_ms` from `start_ms`.
    pub fn new(start_ms: Ms, step_ms: Ms, n: usize) -> Result<Grid> {
        if step_ms <= 0 {
            return Err(VapError::InvalidArgument(format!(
                "grid step must be positive, got {step_ms} ms"
            )));
        }
        if n > MAX_BINS {
            return Err(VapError::InvalidArgument(format!(
                "grid of {n} bins is larger than the limit of {MAX_BINS}; use a coarser step"
            )));
        }
        start_ms
            .checked_add(step_ms.saturating_mul(n as i64))
            .filter(|_| step_ms.checked_mul(n as i64).is_some())
            .ok_or_else(|| VapError::InvalidArgument("grid end overflows".into()))?;
        Ok(Grid {
            start_ms,
            step_ms,
            n,
        })
    }

    /// The grid covering `[start_ms, end_ms)` with bins of `step_ms`; the last
    /// bin may reach past `end_ms` when the span is not a multiple of the step.
    pub fn covering(start_ms: Ms, end_ms: Ms, step_ms: Ms) -> Result<Grid> {
        if end_ms < start_ms {
            return Err(VapError::InvalidArgument(format!(
                "grid end {end_ms} is before its start {start_ms}"
            )));
        }
        if step_ms <= 0 {
            return Err(VapError::InvalidArgument(format!(
                "grid step must be positive, got {step_ms} ms"
            )));
        }
        let span = (end_ms as i128 - start_ms as i128) as u128;
        let n = span.div_ceil(step_ms as u128);
        if n > MAX_BINS as u128 {
            return Err(VapError::InvalidArgument(format!(
                "grid of {n} bins is larger than the limit of {MAX_BINS}; use a coarser step"
            )));
        }
        Grid::new(start_ms, step_ms, n as usize)
    }

    /// The grid of a session, `[start, end)` in bins of `step_ms`.
    pub fn for_session(session: &Session, step_ms: Ms) -> Result<Grid> {
        Grid::covering(session.start_ms, session.end_ms, step_ms)
    }

    /// End of the last bin (exclusive).
    pub fn end_ms(&self) -> Ms {
        self.start_ms + self.step_ms * self.n as i64
    }

    /// Start of bin `i`.
    pub fn time(&self, i: usize) -> Ms {
        self.start_ms + self.step_ms * i as i64
    }

    /// Start times of every bin.
    pub fn times(&self) -> Vec<Ms> {
        (0..self.n).map(|i| self.time(i)).collect()
    }

    /// Bin holding instant `t` (closed-left), or `None` outside the grid.
    #[inline]
    pub fn bin(&self, t: Ms) -> Option<usize> {
        if t < self.start_ms {
            return None;
        }
        let i = ((t - self.start_ms) / self.step_ms) as u64;
        (i < self.n as u64).then_some(i as usize)
    }

    /// Adds `weight` spread uniformly over `[a, b)` (ms, `a <= b`) into `out`,
    /// each bin getting `weight × overlap / (b − a)`; the part outside the grid
    /// is dropped. A zero-length span puts the whole weight in the bin of `a`.
    pub fn spread(&self, a: f64, b: f64, weight: f64, out: &mut [f64]) {
        if b <= a {
            if let Some(i) = self.bin(a.floor() as Ms) {
                out[i] += weight;
            }
            return;
        }
        let density = weight / (b - a);
        self.cover(a, b, |i, len| out[i] += density * len);
    }

    /// Calls `f(bin, overlap_ms)` for every bin that `[a, b)` overlaps, clipped
    /// to the grid.
    pub fn cover(&self, a: f64, b: f64, mut f: impl FnMut(usize, f64)) {
        let s = self.start_ms as f64;
        let step = self.step_ms as f64;
        let a = a.max(s);
        let b = b.min(self.end_ms() as f64);
        if b <= a {
            return;
        }
        let first = ((a - s) / step).floor() as usize;
        let last = (((b - s) / step).ceil() as usize).min(self.n);
        for i in first..last {
            let lo = s + step * i as f64;
            let hi = lo + step;
            let len = b.min(hi) - a.max(lo);
            if len > 0.0 {
                f(i, len);
            }
        }
    }
}

pub use crate::options::parse_duration_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_closed_left() {
        let g = Grid::new(1000, 10, 3).unwrap();
        assert_eq!(g.bin(999), None);
        assert_eq!(g.bin(1000), Some(0));
        assert_eq!(g.bin(1009), Some(0));
        assert_eq!(g.bin(1010), Some(1));
        assert_eq!(g.bin(1029), Some(2));
        assert_eq!(g.bin(1030), None);
        assert_eq!(g.end_ms(), 1030);
    }

    #[test]
    fn covering_rounds_up_and_rejects_bad_input() {
        assert_eq!(Grid::covering(0, 25, 10).unwrap().n, 3);
        assert_eq!(Grid::covering(0, 30, 10).unwrap().n, 3);
        assert_eq!(Grid::covering(0, 0, 10).unwrap().n, 0);
        assert!(Grid::covering(10, 0, 10).is_err());
        assert!(Grid::covering(0, 10, 0).is_err());
        assert!(Grid::covering(0, i64::MAX, 1).is_err());
    }

    #[test]
    fn spread_conserves_inside_and_clips_outside() {
        let g = Grid::new(0, 10, 4).unwrap();
        let mut out = vec![0.0; 4];
        g.spread(5.0, 25.0, 4.0, &mut out);
        assert_eq!(out, vec![1.0, 2.0, 1.0, 0.0]);
        let mut out = vec![0.0; 4];
        g.spread(-10.0, 10.0, 2.0, &mut out);
        assert_eq!(out, vec![1.0, 0.0, 0.0, 0.0]);
        let mut out = vec![0.0; 4];
        g.spread(20.0, 20.0, 3.0, &mut out);
        assert_eq!(out, vec![0.0, 0.0, 3.0, 0.0]);
    }
}
