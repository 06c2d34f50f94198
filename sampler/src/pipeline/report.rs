//! The result of a run: estimate, error, per-repeat details, work counters.

use super::StrategyKind;
use crate::outcome::RunOutcome;
use crate::strategy::Summary;
use crate::{Error, Result};
use serde::Serialize;

/// Where the reported standard error comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSource {
    /// Spread of independent repeats.
    Repeats,
    /// Ideal-case TAMS formula of the single run.
    Ideal,
    /// Binomial error of a Monte Carlo run.
    Binomial,
}

/// The result of a [`crate::Run`] (serialized as the JSON report of `retrace tams --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The strategy (serialized as its name, `"tams"` or `"montecarlo"`).
    pub strategy: StrategyKind,
    /// Model name ([`crate::Model::describe`]).
    pub model: String,
    /// Seed of repeat 0 (repeat r uses streams keyed by (seed, r)).
    pub seed: u64,
    /// Number of independent repeats.
    pub repeats: u64,
    /// Mean estimate over repeats.
    pub estimate: f64,
    /// Standard error of `estimate` (None when it cannot be estimated, e.g. an estimate of 0).
    pub std_error: Option<f64>,
    /// Where `std_error` comes from.
    pub std_error_source: ErrorSource,
    /// Quartiles etc. of the per-run estimates.
    pub summary: Summary,
    /// Interquartile range of the per-run estimates (0 for one run).
    pub iqr: f64,
    /// Per-run estimates.
    pub runs: Vec<f64>,
    /// Per-run details.
    pub details: Vec<RunOutcome>,
    /// Splitting iterations, summed over repeats.
    pub iterations: u64,
    /// Model steps, summed over repeats (replays excluded).
    pub model_steps: u64,
    /// Replay steps, summed over repeats.
    pub replay_steps: u64,
    /// Wall time of all repeats, seconds (the only timing-dependent field).
    pub seconds: f64,
    /// What the run warned about (e.g. a restart that replayed trajectories whose state files
    /// were missing); also recorded in the run database's `sessions` row. Left out of the JSON
    /// when empty. The library prints nothing: the caller shows them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Report {
    /// The report of `details` (one outcome per repeat, at least one).
    pub(crate) fn new(
        strategy: StrategyKind,
        model: String,
        seed: u64,
        details: Vec<RunOutcome>,
        seconds: f64,
    ) -> Result<Report> {
        let repeats = details.len() as u64;
        let runs: Vec<f64> = details.iter().map(|d| d.estimate).collect();
        let summary = Summary::of(&runs).ok_or(Error::config("repeats", "no runs"))?;
        let (std_error, std_error_source) = if repeats > 1 {
            (Some(summary.std_error), ErrorSource::Repeats)
        } else if strategy == StrategyKind::Tams {
            (details[0].std_error, ErrorSource::Ideal)
        } else {
            (details[0].std_error, ErrorSource::Binomial)
        };
        let sum = |f: fn(&RunOutcome) -> u64| {
            details
                .iter()
                .try_fold(0u64, |a, d| a.checked_add(f(d)))
                .ok_or(Error::Overflow("step count"))
        };
        Ok(Report {
            strategy,
            model,
            seed,
            repeats,
            estimate: summary.mean,
            std_error,
            std_error_source,
            iterations: sum(|d| d.iterations)?,
            model_steps: sum(|d| d.model_steps)?,
            replay_steps: sum(|d| d.replay_steps)?,
            iqr: summary.iqr(),
            summary,
            runs,
            details,
            seconds,
            warnings: Vec::new(),
        })
    }
}
