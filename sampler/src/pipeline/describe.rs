//! The description of a run a database records (and a restart compares): the settings that
//! determine its result, as TOML tables named like a `retrace tams` config file.

use super::policy::{StorePolicy, StrategyKind};
use crate::model::ModelInfo;
use crate::simulate::Horizon;
use crate::strategy::{OnStall, RunParams};
use crate::{ConfigError, DbError, Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// `[tams]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TamsPart {
    ntrajectories: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nsplititer: Option<u64>,
    #[serde(default = "one")]
    l: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walltime: Option<f64>,
    #[serde(default, skip_serializing_if = "is_default")]
    on_stall: OnStall,
    #[serde(default, skip_serializing_if = "is_default")]
    init_ensemble_only: bool,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn one() -> u64 {
    1
}

/// `[trajectory]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrajectoryPart {
    end_time: f64,
    step_size: f64,
    targetscore: f64,
    #[serde(default = "store_all")]
    policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    memory_budget: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint_dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint_interval: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint_slots: Option<u64>,
}

fn store_all() -> String {
    "store_all".into()
}

/// `[runner]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RunnerPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nworkers: Option<u64>,
}

/// `[sampler]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SamplerPart {
    strategy: String,
}

impl Default for SamplerPart {
    fn default() -> Self {
        SamplerPart {
            strategy: "tams".into(),
        }
    }
}

/// A whole description.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Description {
    tams: TamsPart,
    trajectory: TrajectoryPart,
    #[serde(default)]
    runner: RunnerPart,
    #[serde(default)]
    sampler: SamplerPart,
    model: toml::Table,
}

/// The settings a description holds (besides the model).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub params: RunParams,
    /// `None` until the run draws one ([`crate::seed_from_os`]) or takes the recorded one.
    pub seed: Option<u64>,
    pub strategy: StrategyKind,
    pub store: StorePolicy,
    pub threads: Option<usize>,
}

impl Settings {
    /// The seed once resolved ([`crate::Run::run`] resolves it first; 0 before).
    pub(crate) fn seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }
}

/// The description of a run with `settings` on `model`.
pub(crate) fn describe(settings: &Settings, model: &ModelInfo) -> Result<toml::Table> {
    let p = &settings.params;
    let tams = settings.strategy == StrategyKind::Tams;
    let (policy, budget, dir, interval, slots) = match &settings.store {
        StorePolicy::StoreAll => ("store_all", None, None, None, None),
        StorePolicy::Uniform {
            budget,
            interval,
            spill_dir,
        } => ("uniform", Some(*budget), spill_dir.clone(), *interval, None),
        StorePolicy::Schedule {
            budget,
            slots,
            spill_dir,
        } => ("schedule", Some(*budget), spill_dir.clone(), None, *slots),
    };
    let d = Description {
        tams: TamsPart {
            ntrajectories: p.ntrajectories,
            nsplititer: tams.then_some(p.nsplititer),
            l: p.l,
            seed: settings.seed,
            walltime: p.walltime.map(|w| w.as_secs_f64()),
            on_stall: p.on_stall,
            init_ensemble_only: p.init_ensemble_only,
        },
        trajectory: TrajectoryPart {
            end_time: p.horizon.end_time,
            step_size: p.horizon.dt,
            targetscore: p.horizon.target,
            policy: policy.into(),
            memory_budget: budget,
            checkpoint_dir: dir,
            checkpoint_interval: interval,
            checkpoint_slots: slots,
        },
        runner: RunnerPart {
            nworkers: settings.threads.map(|t| t as u64),
        },
        sampler: SamplerPart {
            strategy: settings.strategy.as_str().into(),
        },
        model: model.to_table(),
    };
    toml::Table::try_from(&d).map_err(|e| ConfigError::Describe(e).into())
}

/// The settings of a recorded description (`path`: the database, for errors).
pub(crate) fn settings(description: &toml::Table, path: &std::path::Path) -> Result<Settings> {
    let corrupt = |m: String| Error::from(DbError::corrupt(path, m));
    let d: Description = description
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| corrupt(format!("recorded description: {}", e.message())))?;
    let strategy = match d.sampler.strategy.as_str() {
        "tams" => StrategyKind::Tams,
        "montecarlo" => StrategyKind::MonteCarlo,
        other => return Err(corrupt(format!("unknown recorded strategy {other:?}"))),
    };
    let tr = &d.trajectory;
    let budget = || {
        tr.memory_budget
            .ok_or_else(|| corrupt("no memory_budget".into()))
    };
    let store = match tr.policy.as_str() {
        "store_all" => StorePolicy::StoreAll,
        "uniform" => StorePolicy::Uniform {
            budget: budget()?,
            interval: tr.checkpoint_interval,
            spill_dir: tr.checkpoint_dir.clone(),
        },
        "schedule" => StorePolicy::Schedule {
            budget: budget()?,
            slots: tr.checkpoint_slots,
            spill_dir: tr.checkpoint_dir.clone(),
        },
        other => return Err(corrupt(format!("unknown recorded policy {other:?}"))),
    };
    let walltime = match d.tams.walltime {
        Some(w) if w.is_finite() && w > 0.0 => Some(Duration::from_secs_f64(w)),
        Some(w) => return Err(corrupt(format!("recorded walltime {w}"))),
        None => None,
    };
    Ok(Settings {
        params: RunParams {
            ntrajectories: d.tams.ntrajectories,
            nsplititer: d.tams.nsplititer.unwrap_or(0),
            l: d.tams.l,
            walltime,
            horizon: Horizon::new(tr.end_time, tr.step_size, tr.targetscore),
            on_stall: d.tams.on_stall,
            init_ensemble_only: d.tams.init_ensemble_only,
        },
        // Descriptions always record the seed; none in an old one meant 0.
        seed: Some(d.tams.seed.unwrap_or(0)),
        strategy,
        store,
        threads: d.runner.nworkers.map(|n| n as usize),
    })
}
