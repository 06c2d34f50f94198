//! Where the TAMS loop computes trajectories: on this process's rayon pool ([`Local`]), or
//! spread over MPI ranks (`crate::mpi`, feature `mpi`). The loop itself (levels, selection,
//! weights, journal) is the same for both.

use crate::parallel::collect_ordered;
use crate::simulate::{Horizon, Work, branch, fresh};
use crate::store::TrajectoryStore;
use crate::trajectory::Trajectory;
use crate::{Error, Model, NoiseKey, Result};
use rayon::prelude::*;
use std::sync::mpsc;

/// A branch task: `(slot, parent slot, child id)`, the slot being the killed trajectory's.
pub(crate) type Task = (usize, usize, u64);

/// Computes the trajectories of a TAMS run and keeps their states.
pub(crate) trait Compute {
    /// What the ensemble holds of a trajectory's states.
    type Record: Send + Sync;
    /// Trajectories `0..n` from the initial condition, in id order (the error of the lowest
    /// failing id).
    fn fresh(&mut self, n: u64) -> Result<Vec<(Trajectory<Self::Record>, Work)>>;
    /// Trajectories `ids` (increasing, below `n`) from the initial condition, handed to
    /// `done` in batches as they finish (any order); the error of the lowest failing id once
    /// every finished one was handed on, or the first error of `done`. The default computes
    /// all `n` with [`Compute::fresh`], then hands on those of `ids`.
    fn fresh_each(
        &mut self,
        n: u64,
        ids: &[u64],
        done: &mut dyn FnMut(Vec<(Trajectory<Self::Record>, Work)>) -> Result<()>,
    ) -> Result<()> {
        let all = self.fresh(n)?;
        done(
            all.into_iter()
                .filter(|(t, _)| ids.binary_search(&t.id).is_ok())
                .collect(),
        )
    }
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

    /// Computed on a pool of as many threads as the current one while this thread hands
    /// each finished trajectory on at once (it computes nothing, so a journal commits a
    /// trajectory as soon as it is done).
    fn fresh_each(
        &mut self,
        _n: u64,
        ids: &[u64],
        done: &mut dyn FnMut(Vec<(Trajectory<St::Record>, Work)>) -> Result<()>,
    ) -> Result<()> {
        let (model, store, h, key) = (self.model, self.store, self.horizon, self.key);
        let workers = rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .build()
            .map_err(Error::Pool)?;
        let (tx, rx) = mpsc::channel();
        let mut failed: Option<(u64, Error)> = None;
        let mut refused: Option<Error> = None;
        std::thread::scope(|s| {
            let computing = s.spawn(|| {
                workers.install(|| {
                    ids.par_iter().for_each_with(tx, |tx, &id| {
                        let _ = tx.send((id, fresh(model, store, h, key, id)));
                    })
                })
            });
            // Ends when every sender is gone: all computed (or a panic, raised below).
            while let Ok(first) = rx.recv() {
                let mut batch = Vec::new();
                for (id, r) in std::iter::once(first).chain(rx.try_iter()) {
                    match r {
                        Ok(t) => batch.push(t),
                        Err(e) if failed.as_ref().is_none_or(|(f, _)| id < *f) => {
                            failed = Some((id, e))
                        }
                        Err(_) => {}
                    }
                }
                if refused.is_none()
                    && !batch.is_empty()
                    && let Err(e) = done(batch)
                {
                    refused = Some(e);
                }
            }
            if let Err(p) = computing.join() {
                std::panic::resume_unwind(p);
            }
        });
        match (refused, failed) {
            (Some(e), _) | (None, Some((_, e))) => Err(e),
            (None, None) => Ok(()),
        }
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
