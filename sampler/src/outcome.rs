//! What one run produced and why it stopped (shared by the strategies and the journals).

use serde::Serialize;

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The level reached the target (with k = 1: every trajectory reached the target).
    Converged,
    /// `nsplititer` iterations were performed.
    IterationBudget,
    /// The wall-time limit was hit.
    Walltime,
    /// No trajectory was above the level: the estimate is 0.
    Extinction,
    /// Monte Carlo: all trajectories were run.
    Complete,
    /// `init_ensemble_only`: stopped after the initial ensemble (a restart goes on).
    InitEnsembleOnly,
}

/// Result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    /// Estimated probability of reaching the target before the horizon.
    pub estimate: f64,
    /// Error estimate of this run alone (TAMS: ideal-case formula; MC: binomial); `None` if the
    /// estimate is 0.
    pub std_error: Option<f64>,
    /// Product of the `(1 - K/N)` factors of the iterations performed.
    pub weight: f64,
    /// Trajectories in the final ensemble that reached the target.
    pub reached: u64,
    /// N.
    pub ntrajectories: u64,
    /// Splitting iterations performed.
    pub iterations: u64,
    /// Trajectories killed and re-branched, over all iterations.
    pub branches: u64,
    /// Model steps taken (excluding replays).
    pub model_steps: u64,
    /// Model steps spent regenerating states by replay.
    pub replay_steps: u64,
    /// Most states held by the store at once (ensemble plus children being swapped in).
    pub peak_states_held: u64,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Trajectories killed at each performed iteration (K_q); `weight` is the product of
    /// `(N - K_q) / N` over exactly these.
    #[serde(skip)]
    pub kills: Vec<u64>,
}
