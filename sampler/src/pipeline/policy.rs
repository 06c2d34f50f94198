//! What a run is asked to do: its strategy and where it keeps states.

use crate::store::{CompactStore, Placement, StateBytes};
use crate::strategy::RunParams;
use revolve::storage::disk::Codec;
use std::path::PathBuf;

/// Which strategy a [`super::Run`] uses (serialized as its name in configs and reports:
/// `"tams"`, `"montecarlo"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum StrategyKind {
    /// [`crate::Tams`].
    #[default]
    #[serde(rename = "tams")]
    Tams,
    /// [`crate::MonteCarlo`] (`ntrajectories` independent trajectories; no run database).
    #[serde(rename = "montecarlo")]
    MonteCarlo,
}

impl StrategyKind {
    /// Name as written in configs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Tams => "tams",
            StrategyKind::MonteCarlo => "montecarlo",
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a TAMS run keeps trajectory states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorePolicy {
    /// Every state in RAM (small states and testing).
    #[default]
    StoreAll,
    /// Checkpoints every `interval` steps (default: what `budget` allows), at most `budget`
    /// bytes of RAM for the whole ensemble, spilled to checksummed files beyond it.
    Uniform {
        /// RAM for all checkpoints, bytes.
        budget: u64,
        /// Steps between checkpoints (`None`: derived from the budget).
        interval: Option<u64>,
        /// Where spill files go (a run-specific subdirectory; `None`: the system temp dir).
        spill_dir: Option<PathBuf>,
    },
    /// Checkpoints placed by the `revolve` online planner, `slots` per trajectory (default:
    /// what `budget` allows), under `budget` bytes of RAM, spilled beyond it.
    Schedule {
        /// RAM for all checkpoints, bytes.
        budget: u64,
        /// Checkpoints per trajectory (`None`: derived from the budget).
        slots: Option<u64>,
        /// Where spill files go (a run-specific subdirectory; `None`: the system temp dir).
        spill_dir: Option<PathBuf>,
    },
}

impl StorePolicy {
    /// The compact store of this policy (`None`: store every state), spilling through `codec`.
    pub(super) fn compact<S: StateBytes + PartialEq>(
        &self,
        state_bytes: u64,
        params: &RunParams,
        codec: Codec,
    ) -> Option<CompactStore<S>> {
        let n = params.ntrajectories;
        let (placement, budget, dir) = match self {
            StorePolicy::StoreAll => return None,
            StorePolicy::Uniform {
                budget,
                interval,
                spill_dir,
            } => (
                match interval {
                    Some(interval) => Placement::Uniform {
                        interval: *interval,
                    },
                    None => Placement::uniform_for(*budget, state_bytes, n, params.horizon.nsteps),
                },
                *budget,
                spill_dir,
            ),
            StorePolicy::Schedule {
                budget,
                slots,
                spill_dir,
            } => (
                match slots {
                    Some(slots) => Placement::Schedule { slots: *slots },
                    None => Placement::schedule_for(*budget, state_bytes, n),
                },
                *budget,
                spill_dir,
            ),
        };
        let dir = dir.clone().unwrap_or_else(std::env::temp_dir);
        Some(CompactStore::new(placement, budget, &dir).with_spill_codec(codec))
    }
}
