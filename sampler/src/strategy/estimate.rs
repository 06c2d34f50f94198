//! Estimator error bars and summaries over repeats.

use serde::Serialize;

/// Ideal-case standard error of a TAMS estimate (score = committor, k = 1):
/// `p_hat = (1 - 1/N)^M`, `M ~ Poisson(-N ln p)`, relative variance `p^(-1/N) - 1`.
/// `None` when `p` is 0.
pub fn ideal_std_error(p: f64, n: u64) -> Option<f64> {
    (p > 0.0 && n > 0).then(|| p * (p.powf(-1.0 / n as f64) - 1.0).max(0.0).sqrt())
}

/// Binomial standard error of a Monte Carlo estimate `p` from `n` trajectories.
pub fn montecarlo_std_error(p: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| (p * (1.0 - p) / n as f64).max(0.0).sqrt())
}

/// Mean, standard error and quartiles of independent repeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of repeats.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub std_dev: f64,
    /// Standard error of the mean (`std_dev / sqrt(count)`).
    pub std_error: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
}

impl Summary {
    /// Summary of `values` (linear interpolation between order statistics for quantiles);
    /// `None` if empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |f: f64| {
            let x = f * (n - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo as f64)
        };
        Some(Summary {
            count: n,
            mean,
            std_dev: var.sqrt(),
            std_error: var.sqrt() / (n as f64).sqrt(),
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
        })
    }

    /// Interquartile range.
    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_quartiles() {
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mean), (2.0, 3.0, 4.0, 3.0));
        assert!((s.std_dev - 2.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.iqr(), 2.0);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn ideal_error_matches_reference() {
        // tams.md: relative std 0.324 at N = 100 for p = e^-10.
        let p = (-10.0f64).exp();
        let rel = ideal_std_error(p, 100).unwrap() / p;
        assert!((rel - 0.324).abs() < 1e-3, "{rel}");
        assert_eq!(ideal_std_error(0.0, 100), None);
    }
}
