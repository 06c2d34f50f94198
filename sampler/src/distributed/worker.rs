//! A worker rank: answers rank 0's requests, keeping the trajectories it computed (id ->
//! trajectory with its store record) until rank 0 says they were killed.

use super::ensemble::{self, Block};
use super::link::{answer, next_request};
use super::messages::{Adopted, Child, Failure, FromWorker, ToWorker, WireError};
use super::moves::{export_states, import};
use super::transport::Transport;
use crate::simulate::{Horizon, Work, branch, fresh, initial_of, replay_with};
use crate::store::{StateBytes, TrajectoryStore};
use crate::strategy::montecarlo;
use crate::trajectory::{Segment, Trajectory};
use crate::{Error, Model, NoiseKey, Result};
use rayon::prelude::*;
use std::collections::HashMap;

/// What a worker rank runs with (the same settings as rank 0's).
pub(crate) struct Worker<'a, M: Model, St: TrajectoryStore<M::State>> {
    pub model: &'a M,
    pub store: &'a St,
    pub horizon: Horizon,
    pub seed: u64,
    pub rank: i32,
    pub pool: &'a rayon::ThreadPool,
    /// Text to send instead of an error's own message (see [`super::Explain`]).
    pub explain: Option<&'a super::Explain<'a>>,
    key: NoiseKey,
    held: HashMap<u64, Trajectory<St::Record>>,
    /// This rank's members of an ensemble output, once started.
    ensemble: Option<Block<M::State>>,
}

/// An error as it travels: the explanation `explain` gives for it, if any.
fn wire(e: &Error, explain: Option<&super::Explain<'_>>) -> WireError {
    match explain.and_then(|f| f(e)) {
        Some(text) => WireError::Other(text),
        None => WireError::of(e),
    }
}

/// The first error of `all` (request order) as a [`Failure`], else the values.
fn first_failure<T>(
    all: Vec<Result<T>>,
    explain: Option<&super::Explain<'_>>,
) -> Result<Vec<T>, Failure> {
    let mut out = Vec::with_capacity(all.len());
    for (i, r) in all.into_iter().enumerate() {
        match r {
            Ok(v) => out.push(v),
            Err(e) => {
                return Err(Failure {
                    index: i as u64,
                    error: wire(&e, explain),
                });
            }
        }
    }
    Ok(out)
}

fn child<R>(t: &Trajectory<R>, from: usize, w: Work, held: u64) -> Child {
    Child {
        tail: t.scores[from..].to_vec(),
        max_score: t.max_score,
        reached: t.reached,
        steps: w.steps,
        replayed: w.replayed,
        held,
    }
}

impl<'a, M: Model, St: TrajectoryStore<M::State>> Worker<'a, M, St>
where
    M::State: StateBytes,
{
    /// A worker with nothing held yet.
    pub(crate) fn new(
        model: &'a M,
        store: &'a St,
        horizon: Horizon,
        seed: u64,
        rank: i32,
        pool: &'a rayon::ThreadPool,
    ) -> Self {
        Worker {
            model,
            store,
            horizon,
            seed,
            rank,
            pool,
            explain: None,
            key: NoiseKey::new(seed, 0),
            held: HashMap::new(),
            ensemble: None,
        }
    }

    /// Answer requests until [`ToWorker::Stop`]. An error here is this rank's alone (rank 0
    /// would wait for its answer): the caller must abort the job.
    pub(crate) fn serve<T: Transport>(&mut self, transport: &mut T) -> Result<()> {
        loop {
            let request = next_request(transport)?;
            if request == ToWorker::Stop {
                self.held.clear();
                self.ensemble = None;
                return Ok(());
            }
            if let Some(a) = self.handle(request) {
                answer(transport, &a)?;
            }
        }
    }

    fn handle(&mut self, request: ToWorker) -> Option<FromWorker> {
        let (model, store, h, key) = (self.model, self.store, &self.horizon, self.key);
        let (rank, explain) = (self.rank, self.explain);
        Some(match request {
            ToWorker::Stop | ToWorker::Setup(_) => return None,
            ToWorker::Begin { repeat } => {
                self.key = NoiseKey::new(self.seed, repeat);
                self.held.clear();
                return None;
            }
            ToWorker::Fresh { lo, hi } => {
                let all: Vec<_> = self.pool.install(|| {
                    (lo..hi)
                        .into_par_iter()
                        .map(|id| fresh(model, store, h, key, id))
                        .collect()
                });
                FromWorker::Computed(first_failure(all, explain).map(|made| {
                    made.into_iter()
                        .map(|(t, w)| {
                            let c = child(&t, 0, w, store.held(&t.record));
                            self.held.insert(t.id, t);
                            c
                        })
                        .collect()
                }))
            }
            ToWorker::Branch {
                level,
                tasks,
                imports,
                drop: killed,
                ..
            } => {
                // Parents sent for balance: rebuilt for this iteration only.
                let imported: Result<HashMap<u64, Trajectory<St::Record>>> = imports
                    .into_iter()
                    .map(|i| import(model, store, h, key, i, rank).map(|t| (t.id, t)))
                    .collect();
                let imported = match imported {
                    Ok(m) => m,
                    Err(e) => {
                        return Some(FromWorker::Computed(Err(Failure {
                            index: 0,
                            error: wire(&e, explain),
                        })));
                    }
                };
                let held = &self.held;
                let make = |&(parent, id): &(u64, u64)| match held
                    .get(&parent)
                    .or_else(|| imported.get(&parent))
                {
                    Some(p) => branch(model, store, h, key, p, level, id),
                    None => Err(Error::Rank {
                        rank,
                        message: format!("holds no trajectory {parent} to branch from"),
                    }),
                };
                let all: Vec<_> = if tasks.len() == 1 {
                    vec![make(&tasks[0])]
                } else {
                    self.pool.install(|| tasks.par_iter().map(make).collect())
                };
                drop(imported);
                let answer = first_failure(all, explain).map(|made| {
                    made.into_iter()
                        .map(|(t, w)| {
                            let j = t.lineage.last().map_or(0, |s| s.start_step) as usize;
                            let c = child(&t, j + 1, w, store.held(&t.record));
                            self.held.insert(t.id, t);
                            c
                        })
                        .collect()
                });
                // The killed trajectories go once every child exists.
                for id in killed {
                    self.held.remove(&id);
                }
                FromWorker::Computed(answer)
            }
            ToWorker::Export { ids, .. } => {
                let template = model.initial_state();
                let all: Vec<_> = ids
                    .iter()
                    .map(|id| match self.held.get(id) {
                        Some(t) => export_states(store, &t.record, &template),
                        None => Err(Error::Rank {
                            rank,
                            message: format!("holds no trajectory {id} to send"),
                        }),
                    })
                    .collect();
                FromWorker::Exported(first_failure(all, explain))
            }
            ToWorker::Adopt { trajectories } => {
                let all: Vec<_> = self.pool.install(|| {
                    trajectories
                        .into_par_iter()
                        .map(|t| rebuild(model, store, h, key, t, rank))
                        .collect()
                });
                FromWorker::Adopted(first_failure(all, explain).map(|made| {
                    made.into_iter()
                        .map(|t| {
                            let n = store.held(&t.record);
                            self.held.insert(t.id, t);
                            n
                        })
                        .collect()
                }))
            }
            ToWorker::MonteCarlo { repeat, lo, hi } => {
                let key = NoiseKey::new(self.seed, repeat);
                let r = self
                    .pool
                    .install(|| montecarlo::block(model, h, key, lo..hi, &|_| {}));
                FromWorker::MonteCarlo(r.map_err(|e| Failure {
                    index: 0,
                    error: wire(&e, explain),
                }))
            }
            ToWorker::EnsembleStart {
                repeat,
                lo,
                hi,
                stride,
                resume,
            } => {
                let key = NoiseKey::new(self.seed, repeat);
                let pool = self.pool;
                let b = ensemble::start(model, h, key, (lo, hi), stride, resume, pool, rank);
                FromWorker::EnsembleStarted(match b {
                    Ok(b) => {
                        let members = b.members().to_vec();
                        self.ensemble = Some(b);
                        Ok(members)
                    }
                    Err(e) => {
                        self.ensemble = None;
                        Err(Failure {
                            index: 0,
                            error: wire(&e, explain),
                        })
                    }
                })
            }
            ToWorker::EnsembleAdvance { from, to } => {
                let Some(b) = self.ensemble.as_mut() else {
                    let e = Error::Rank {
                        rank: 0,
                        message: "asked for ensemble snapshots before starting one".into(),
                    };
                    return Some(FromWorker::EnsembleAdvanced(Err(Failure {
                        index: from,
                        error: wire(&e, explain),
                    })));
                };
                let r = ensemble::advance(model, h, b, (from, to), self.pool);
                FromWorker::EnsembleAdvanced(match r {
                    Ok(bytes) => Ok((b.members().to_vec(), bytes)),
                    Err(f) => Err(Failure {
                        index: f.0,
                        error: wire(&f.1, explain),
                    }),
                })
            }
        })
    }
}

/// Rebuild a recorded trajectory's states by replaying its lineage from the initial state,
/// checking every score against the recorded one bit for bit.
fn rebuild<M: Model, St: TrajectoryStore<M::State>>(
    model: &M,
    store: &St,
    h: &Horizon,
    key: NoiseKey,
    t: Adopted,
    rank: i32,
) -> Result<Trajectory<St::Record>> {
    let id = t.id;
    let scores = t.scores;
    let mismatch = |step: u64, got: f64| Error::Rank {
        rank,
        message: format!(
            "trajectory {id}: replayed score {got} at step {step} differs from the recorded {} \
             (model or build changed?)",
            scores.get(step as usize).copied().unwrap_or(f64::NAN)
        ),
    };
    let lineage: Vec<Segment> = t
        .lineage
        .iter()
        .map(|&(start_step, stream)| Segment { start_step, stream })
        .collect();
    if scores.is_empty() || lineage.is_empty() {
        return Err(mismatch(0, f64::NAN));
    }
    let mut state = initial_of(model, key, lineage[0].stream);
    let mut noise = model.noise_buffer();
    let s0 = model.score(&state, 0.0);
    if s0.to_bits() != scores[0].to_bits() {
        return Err(mismatch(0, s0));
    }
    let mut record = store.begin(&state);
    let last = scores.len() as u64 - 1;
    replay_with(
        model,
        h,
        key,
        &lineage,
        &mut state,
        &mut noise,
        0,
        last,
        |step, state| {
            let s = model.score(state, h.time(step));
            if s.to_bits() != scores[step as usize].to_bits() {
                return Err(mismatch(step, s));
            }
            store.try_record(&mut record, step, state)
        },
    )?;
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Trajectory {
        id,
        lineage,
        reached: max >= h.target,
        max_score: max,
        scores,
        record,
    })
}
