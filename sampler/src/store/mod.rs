//! Where trajectory states live, behind a small trait.
//!
//! A store may keep every state ([`StoreAll`]) or only some ([`InitialOnly`] keeps step 0): the
//! sampler asks for the latest kept state at or before a branch point and replays the missing steps
//! from the trajectory's noise streams, so a compact store ([`CompactStore`]: checkpoints placed
//! uniformly or by the revolve online schedule, under an ensemble-wide RAM budget, spilled to
//! checksummed files beyond it) drops in without touching the strategies.

mod all;
mod budget;
mod compact;
mod initial;
pub(crate) mod spill;

pub use all::StoreAll;
pub use budget::{Budget, BudgetStats};
pub use compact::{CompactRecord, CompactStore, Placement};
pub use initial::InitialOnly;
pub use spill::{StateBytes, remove_spill_dirs, remove_stale_spill_dirs};

/// Storage of the states of trajectories; one `Record` per trajectory.
pub trait TrajectoryStore<S>: Sync {
    /// Per-trajectory storage.
    type Record: Send + Sync;
    /// Start a record with the state at step 0.
    fn begin(&self, initial: &S) -> Self::Record;
    /// Offer the state reached at `step` (called for every step, in order).
    fn record(&self, record: &mut Self::Record, step: u64, state: &S);
    /// A new record holding what `parent` holds for steps `0..=last_step` (the branch prefix).
    fn prefix(&self, parent: &Self::Record, last_step: u64) -> Self::Record;
    /// The latest kept state at or before `step`, with its step.
    fn nearest<'a>(&self, record: &'a Self::Record, step: u64) -> Option<(u64, &'a S)>;
    /// Number of states held (for memory accounting).
    fn held(&self, record: &Self::Record) -> u64;

    /// [`TrajectoryStore::record`] for stores that can fail (spilling to disk). The sampler calls
    /// this one; the default forwards to `record`.
    fn try_record(&self, record: &mut Self::Record, step: u64, state: &S) -> crate::Result<()> {
        self.record(record, step, state);
        Ok(())
    }

    /// [`TrajectoryStore::prefix`] given also the state at `last_step` (the branch point, which a
    /// compact store may keep as the child's first own checkpoint). Defaults to `prefix`.
    fn prefix_at(&self, parent: &Self::Record, last_step: u64, _state: &S) -> Self::Record {
        self.prefix(parent, last_step)
    }

    /// Copy the latest kept state at or before `step` into `state` and return its step (a store
    /// whose states may live on disk reads them back here). Defaults to [`TrajectoryStore::nearest`].
    fn restore(&self, record: &Self::Record, step: u64, state: &mut S) -> crate::Result<u64>
    where
        S: Clone,
    {
        let (kept, stored) = self
            .nearest(record, step)
            .ok_or(crate::StoreError::MissingState { step })?;
        state.clone_from(stored);
        Ok(kept)
    }

    /// Steps of the states `record` holds, increasing (a run database persists them so a
    /// restart rebuilds the record with [`TrajectoryStore::record_from_held`] instead of replaying).
    /// `None` (the default): the store cannot be rebuilt that way.
    fn held_steps(&self, _record: &Self::Record) -> Option<Vec<u64>> {
        None
    }

    /// The record of a completed trajectory (last step `last_step`) holding `initial` at step 0
    /// and `states` (the other steps [`TrajectoryStore::held_steps`] named, increasing), as
    /// the record built step by step held it. `None` (the default): unsupported.
    fn record_from_held(
        &self,
        _initial: &S,
        _states: Vec<(u64, S)>,
        _last_step: u64,
    ) -> Option<crate::Result<Self::Record>> {
        None
    }
}
