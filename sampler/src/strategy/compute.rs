//! Where the TAMS loop computes trajectories: on this process's rayon pool ([`Local`]), or
//! spread over MPI ranks (`crate::mpi`, feature `mpi`). The loop itself (levels, selection,
//! weights, journal) is the same for both.

use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, Work, branch, fresh};
use crate::store::TrajectoryStore;
use crate::trajectory::Trajectory;
use crate::{Model, NoiseKey, Result};
use rayon::prelude::*;

/// A branch task: `(slot, parent slot, child id)`, the slot being the killed trajectory's.
pub(crate) type Task = (usize, usize, u64);

/// Computes the trajectories of a TAMS run and keeps their states.
pub(crate) trait Compute {
    /// What the ensemble holds of a trajectory's states.
    type Record: Send + Sync;
    /// Trajectories `0..n` from the initial condition, in id order (the error of the lowest
    /// failing id).
    fn fresh(&mut self, n: u64) -> Result<Vec<(Trajectory<Self::Record>, Work)>>;
    /// The child of every task, in task order (the error of the first failing task); the
    /// trajectories in the tasks' slots are dropped by the caller afterwards. `iteration` is
    /// the one being computed (1-based).
    fn branch(
        &mut self,
        iteration: u64,
        parents: &[Trajectory<Self::Record>],
        level: f64,
        tasks: &[Task],
    ) -> Result<Vec<(Trajectory<Self::Record>, Work)>>;
    /// States `record` holds (memory accounting).
    fn held(&self, record: &Self::Record) -> u64;
}

/// Every trajectory on the current rayon pool, states in `store`.
pub(crate) struct Local<'a, M, St> {
    pub model: &'a M,
    pub store: &'a St,
    pub horizon: &'a Horizon,
    pub key: NoiseKey,
}

impl<M: Model, St: TrajectoryStore<M::State>> Compute for Local<'_, M, St> {
    type Record = St::Record;

    fn fresh(&mut self, n: u64) -> Result<Vec<(Trajectory<St::Record>, Work)>> {
        let (model, store, h, key) = (self.model, self.store, self.horizon, self.key);
        collect_ordered(
            (0..n)
                .into_par_iter()
                .map(|id| fresh(model, store, h, key, id)),
        )
    }

    fn branch(
        &mut self,
        _iteration: u64,
        parents: &[Trajectory<St::Record>],
        level: f64,
        tasks: &[Task],
    ) -> Result<Vec<(Trajectory<St::Record>, Work)>> {
        let (model, store, h, key) = (self.model, self.store, self.horizon, self.key);
        let make = |&(_, p, id): &Task| branch(model, store, h, key, &parents[p], level, id);
        if tasks.len() == 1 {
            Ok(vec![make(&tasks[0])?])
        } else {
            collect_ordered(tasks.par_iter().map(make))
        }
    }

    fn held(&self, record: &St::Record) -> u64 {
        self.store.held(record)
    }
}
