//! Where trajectory states live, behind a small trait.
//!
//! A store may keep every state ([`StoreAll`]) or only some ([`InitialOnly`] keeps step 0): the
//! sampler asks for the latest kept state at or before a branch point and replays the missing steps
//! from the trajectory's noise streams, so a compact store (checkpoints placed by a revolve
//! schedule) drops in without touching the strategies.

mod all;
mod initial;

pub use all::StoreAll;
pub use initial::InitialOnly;

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
}
