//! Running a configuration: worker pool, independent repeats, summary.

use crate::config::{Config, PolicyName, StrategyName};
use crate::models::ModelVisitor;
use crate::store::{CompactStore, Placement};
use crate::strategy::{MonteCarlo, Progress, RunOutcome, RunParams, Strategy, Summary, Tams};
use crate::{Error, Model, NoiseKey, Result};
use serde::Serialize;
use std::time::Instant;

/// A rayon pool with `threads` workers (`None`: all cores).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    b.build().map_err(|e| Error::Pool(e.to_string()))
}

/// Run `repeats` independent runs (repeat `r` keyed by `(seed, r)`) on the current pool.
pub fn run_repeats<M: Model, S: Strategy<M>>(
    strategy: &S,
    model: &M,
    params: &RunParams,
    seed: u64,
    repeats: u64,
    progress: Progress<'_>,
) -> Result<Vec<RunOutcome>> {
    (0..repeats)
        .map(|r| {
            let each = |done: u64, total: u64| {
                progress(
                    r.saturating_mul(total).saturating_add(done),
                    repeats.saturating_mul(total),
                )
            };
            strategy.run(model, params, NoiseKey::new(seed, r), &each)
        })
        .collect()
}

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

/// The result of running a configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Strategy name.
    pub strategy: &'static str,
    /// Model name.
    pub model: &'static str,
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
}

/// Options of [`run_config`] that override or complement the file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replace `tams.seed`.
    pub seed: Option<u64>,
    /// Independent repeats (default 1).
    pub repeats: Option<u64>,
    /// Replace `runner.nworkers`.
    pub threads: Option<usize>,
}

struct Visit<'a> {
    config: &'a Config,
    seed: u64,
    repeats: u64,
    progress: Progress<'a>,
}

impl ModelVisitor for Visit<'_> {
    type Output = Result<Vec<RunOutcome>>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: crate::store::StateBytes + PartialEq,
    {
        let params = self.config.params();
        if self.config.sampler.strategy == StrategyName::Tams
            && let Some(store) = compact_store(self.config, model)
        {
            return run_repeats(
                &Tams::new(store),
                model,
                &params,
                self.seed,
                self.repeats,
                self.progress,
            );
        }
        match self.config.sampler.strategy {
            StrategyName::Tams => run_repeats(
                &Tams::new(crate::StoreAll),
                model,
                &params,
                self.seed,
                self.repeats,
                self.progress,
            ),
            StrategyName::Montecarlo => run_repeats(
                &MonteCarlo,
                model,
                &params,
                self.seed,
                self.repeats,
                self.progress,
            ),
        }
    }
}

/// The compact store a configuration asks for (`None` for `policy = "store_all"`): placement
/// from `checkpoint_interval` / `checkpoint_slots` or else from what `memory_budget` allows.
pub fn compact_store<M: Model>(config: &Config, model: &M) -> Option<CompactStore<M::State>>
where
    M::State: crate::store::StateBytes + PartialEq,
{
    use crate::store::StateBytes;
    let tr = &config.trajectory;
    let budget = tr.memory_budget?.0;
    let bytes = model.initial_state().byte_len() as u64;
    let n = config.tams.ntrajectories;
    let placement = match tr.policy {
        PolicyName::StoreAll => return None,
        PolicyName::Uniform => match tr.checkpoint_interval {
            Some(interval) => Placement::Uniform { interval },
            None => Placement::uniform_for(budget, bytes, n, config.horizon().nsteps),
        },
        PolicyName::Schedule => match tr.checkpoint_slots {
            Some(slots) => Placement::Schedule { slots },
            None => Placement::schedule_for(budget, bytes, n),
        },
    };
    let dir = tr.checkpoint_dir.clone().unwrap_or_else(std::env::temp_dir);
    Some(CompactStore::new(placement, budget, &dir))
}

/// Run a validated configuration: `repeats` independent runs on a pool of
/// `threads` / `runner.nworkers` workers.
pub fn run_config(config: &Config, opts: &RunOptions, progress: Progress<'_>) -> Result<Report> {
    let repeats = opts.repeats.unwrap_or(1);
    if repeats == 0 {
        return Err(Error::config("repeats", "must be >= 1, got 0"));
    }
    let threads = match opts.threads {
        Some(0) => return Err(Error::config("threads", "must be >= 1, got 0")),
        Some(t) => Some(t),
        None => config.runner.nworkers.map(|n| n as usize),
    };
    let seed = opts.seed.unwrap_or(config.tams.seed);
    let start = Instant::now();
    let details = pool(threads)?.install(|| {
        config.model.visit(Visit {
            config,
            seed,
            repeats,
            progress,
        })
    })?;
    let seconds = start.elapsed().as_secs_f64();
    build_report(config, seed, repeats, details, seconds)
}

/// The report of `details` (one outcome per repeat) run from `config` with `seed`.
pub(crate) fn build_report(
    config: &Config,
    seed: u64,
    repeats: u64,
    details: Vec<RunOutcome>,
    seconds: f64,
) -> Result<Report> {
    let runs: Vec<f64> = details.iter().map(|d| d.estimate).collect();
    let summary = Summary::of(&runs).ok_or(Error::config("repeats", "no runs"))?;
    let strategy = config.sampler.strategy;
    let (std_error, std_error_source) = if repeats > 1 {
        (Some(summary.std_error), ErrorSource::Repeats)
    } else if strategy == StrategyName::Tams {
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
        strategy: strategy.as_str(),
        model: config.model.name(),
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
    })
}

/// The configuration of the built-in demo: TAMS on the 2D double well (N = 50, T = 10, dt = 0.01).
pub const DEMO_CONFIG: &str = r#"
[tams]
ntrajectories = 50
nsplititer = 2000
l = 1
[trajectory]
end_time = 10.0
step_size = 0.01
targetscore = 0.95
[sampler]
strategy = "tams"
[model]
name = "doublewell2d"
epsilon = 0.05
"#;

/// A short TAMS run on the 2D double well (for `retrace demo`).
pub fn demo_doublewell2d(seed: u64, threads: Option<usize>) -> Result<Report> {
    let config = Config::from_toml(DEMO_CONFIG)?;
    let opts = RunOptions {
        seed: Some(seed),
        repeats: Some(1),
        threads,
    };
    run_config(&config, &opts, &|_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_runs_and_converges() {
        let r = demo_doublewell2d(3, Some(2)).unwrap();
        assert_eq!(r.details[0].stop, crate::StopReason::Converged);
        assert!(r.estimate > 0.0 && r.estimate < 1e-2, "{}", r.estimate);
        assert!(r.model_steps > 10_000);
    }
}
