//! [`Run::run_distributed`]: the same run over the ranks of a [`Transport`] (MPI ranks with
//! [`Run::run_mpi`], feature `mpi`; worker processes over [`crate::distributed::LocalTransport`]),
//! and [`serve`], a worker rank's loop. Rank 0 runs the ordinary loop (selection, weights,
//! database, progress, report); every rank computes trajectories on its own rayon pool (see
//! [`crate::distributed`]).

use super::{Report, Run, StorePolicy, StrategyKind, pool};
use crate::db::{RunDb, resume};
use crate::distributed::coordinator::{Coordinator, block};
use crate::distributed::link::Link;
use crate::distributed::messages::{FromWorker, Spec, ToWorker, WireStore, encode};
use crate::distributed::worker::Worker;
use crate::distributed::{Explain, Transport};
use crate::journal::NoJournal;
use crate::noise::NoiseKey;
use crate::outcome::RunOutcome;
use crate::simulate::Horizon;
use crate::store::{StateBytes, StoreAll, TrajectoryStore};
use crate::strategy::tams::run_loop;
use crate::strategy::{RunParams, montecarlo};
use crate::{Error, Model, Result};
use revolve::State as _;
use revolve::storage::disk::Codec;
use std::time::{Duration, Instant};

/// A callback of [`Run::on_traffic`].
pub(super) type OnTraffic<'a> = Box<dyn Fn(&crate::distributed::Traffic) + Sync + 'a>;

/// Default of [`Run::rank_timeout`]: ten minutes.
pub(super) const DEFAULT_RANK_TIMEOUT: Duration = Duration::from_secs(600);

/// The settings rank 0 sends its workers.
fn spec(s: &super::describe::Settings, s_codec: Codec) -> Spec {
    let h = s.params.horizon;
    let store = match &s.store {
        StorePolicy::StoreAll => WireStore::StoreAll,
        StorePolicy::Uniform {
            budget,
            interval,
            spill_dir,
        } => WireStore::Uniform {
            budget: *budget,
            interval: *interval,
            spill_dir: spill_dir.clone(),
        },
        StorePolicy::Schedule {
            budget,
            slots,
            spill_dir,
        } => WireStore::Schedule {
            budget: *budget,
            slots: *slots,
            spill_dir: spill_dir.clone(),
        },
    };
    Spec {
        tams: s.strategy == StrategyKind::Tams,
        seed: s.seed(),
        spill_codec: s_codec.to_string(),
        ntrajectories: s.params.ntrajectories,
        l: s.params.l,
        nsplititer: s.params.nsplititer,
        horizon: (h.end_time, h.nsteps, h.dt, h.target),
        store,
    }
}

/// A worker rank's loop, for a process that has the model but no [`Run`] (a worker process
/// over [`crate::distributed::LocalTransport`]): wait for rank 0's settings, then compute
/// what it asks on a pool of `threads` workers (`None`: all cores) until it says stop.
/// `explain` may replace an error's message by its own text (see [`Explain`]).
///
/// An error here is this rank's alone (rank 0 waits for its answer): [`Error::Worker`]; a
/// lost connection to rank 0 is one ([`Error::Rank`] inside).
pub fn serve<M: Model, T: Transport>(
    model: &M,
    transport: &mut T,
    threads: Option<usize>,
    explain: Option<&Explain<'_>>,
) -> Result<()>
where
    M::State: StateBytes + PartialEq,
{
    let rank = transport.rank();
    serve_inner(model, transport, threads, explain).map_err(|e| Error::Worker {
        rank,
        source: Box::new(e),
    })
}

fn serve_inner<M: Model, T: Transport>(
    model: &M,
    transport: &mut T,
    threads: Option<usize>,
    explain: Option<&Explain<'_>>,
) -> Result<()>
where
    M::State: StateBytes + PartialEq,
{
    let rank = transport.rank();
    let spec = match crate::distributed::link::next_request(transport)? {
        ToWorker::Setup(spec) => spec,
        ToWorker::Stop => return Ok(()),
        _ => {
            return Err(Error::Rank {
                rank: 0,
                message: "sent a request before the run's settings".into(),
            });
        }
    };
    let (end_time, nsteps, dt, target) = spec.horizon;
    let horizon = Horizon {
        end_time,
        nsteps,
        dt,
        target,
    };
    let params = RunParams {
        ntrajectories: spec.ntrajectories,
        nsplititer: spec.nsplititer,
        l: spec.l,
        walltime: None,
        horizon,
        // Rank 0 alone decides when the run stops.
        on_stall: Default::default(),
        init_ensemble_only: false,
    };
    let policy = match spec.store {
        WireStore::StoreAll => StorePolicy::StoreAll,
        WireStore::Uniform {
            budget,
            interval,
            spill_dir,
        } => StorePolicy::Uniform {
            budget,
            interval,
            spill_dir,
        },
        WireStore::Schedule {
            budget,
            slots,
            spill_dir,
        } => StorePolicy::Schedule {
            budget,
            slots,
            spill_dir,
        },
    };
    let pool = pool(threads)?;
    let bytes = model.initial_state().byte_len() as u64;
    let codec: Codec = spec.spill_codec.parse().map_err(|_| Error::Rank {
        rank: 0,
        message: format!("sent an unknown spill codec {:?}", spec.spill_codec),
    })?;
    let compact = if spec.tams {
        policy.compact(bytes, &params, codec)
    } else {
        None
    };
    let seed = spec.seed;
    match compact {
        Some(store) => {
            let mut w = Worker::new(model, &store, horizon, seed, rank, &pool);
            w.explain = explain;
            w.serve(transport)
        }
        None => {
            let mut w = Worker::new(model, &StoreAll, horizon, seed, rank, &pool);
            w.explain = explain;
            w.serve(transport)
        }
    }
}

#[cfg(feature = "mpi")]
impl<M: Model> Run<'_, M>
where
    M::State: StateBytes + PartialEq,
{
    /// Run over the ranks of `comm` (every rank calls this with the same settings, from the
    /// main thread): the report on rank 0, `None` on the others. The report is bit-identical to
    /// [`Run::run`]'s for any number of ranks and threads (except `seconds`).
    ///
    /// MPI must be initialised with at least `MPI_THREAD_FUNNELED` (other threads exist but
    /// never call MPI): use [`crate::mpi::initialize`], which returns the universe.
    ///
    /// ```no_run
    /// # use sampler::models::Brownian;
    /// # use sampler::{Horizon, Run, RunParams};
    /// use mpi::traits::*;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let params = RunParams { ntrajectories: 50, nsplititer: 2_000, k: 1, walltime: None,
    /// #     horizon: Horizon::new(1.0, 0.01, 3.0) };
    /// let universe = sampler::mpi::initialize()?;
    /// let world = universe.world();
    /// let model = Brownian::default();
    /// match Run::new(&model, params).seed(3).run_mpi(&world) {
    ///     Ok(Some(report)) => println!("{}", report.estimate),
    ///     Ok(None) => {} // another rank
    ///     // Another rank waits for this one (or hangs): end the whole job.
    ///     Err(e) if e.ends_job() => {
    ///         eprintln!("{e}");
    ///         world.abort(1);
    ///     }
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// The rest is [`Run::run_distributed`]'s over [`crate::mpi::MpiTransport`].
    pub fn run_mpi<C: mpi::topology::Communicator>(self, comm: &C) -> Result<Option<Report>> {
        self.run_distributed(&mut crate::mpi::MpiTransport::new(comm))
    }
}

impl<'a, M: Model> Run<'a, M>
where
    M::State: StateBytes + PartialEq,
{
    /// How long rank 0 waits for another rank's answer to one request (a batch of branch tasks,
    /// its block of fresh or Monte Carlo trajectories) before it ends the run with one line
    /// naming the rank and what it was computing ([`Error::RankTimeout`] from
    /// [`Run::run_distributed`] and [`Run::run_mpi`]). Default ten minutes; `Duration::MAX`:
    /// as long as it takes.
    pub fn rank_timeout(mut self, timeout: Duration) -> Self {
        self.rank_timeout = timeout;
        self
    }

    /// Call `f` on rank 0 with the coordination counters (messages, bytes, waiting, branch
    /// tasks per rank) when a distributed run ends.
    pub fn on_traffic(mut self, f: impl Fn(&crate::distributed::Traffic) + Sync + 'a) -> Self {
        self.on_traffic = Some(Box::new(f));
        self
    }

    /// Run over the ranks of `transport` (every rank calls this, or [`serve`], with the same
    /// model): the report on rank 0, `None` on the others. The report is bit-identical to
    /// [`Run::run`]'s for any number of ranks and threads (except `seconds`). Worker ranks
    /// compute with rank 0's settings (sent first), on a pool of their own `threads`.
    ///
    /// Rank 0 alone opens the run database; the others keep the states of the trajectories
    /// they computed in their own store (own memory budget: the configured budget is per rank;
    /// own spill directory). States are not saved in the database (`save_states = true` is
    /// refused): a restart, on any number of ranks, rebuilds them by replay.
    ///
    /// Settings errors are returned on every rank alike. A rank that does not answer in time
    /// gives [`Error::RankTimeout`] on rank 0; an error only one worker rank meets outside a
    /// computation gives [`Error::Worker`] there. Both leave other ranks waiting
    /// ([`Error::ends_job`]): the caller ends the job (`MPI_Abort`, or ending the worker
    /// processes); nothing is printed here.
    pub fn run_distributed<T: Transport>(mut self, transport: &mut T) -> Result<Option<Report>> {
        self.validate()?;
        let rank = transport.rank();
        if rank == 0 {
            // Rank 0 chooses the seed (set, recorded or drawn) and sends it with the settings.
            match self.resolved_seed() {
                Ok(seed) => self.settings.seed = Some(seed),
                Err(e) => {
                    let stop = encode(&ToWorker::Stop);
                    for r in 1..transport.size() {
                        // A rank that cannot be told has ended already.
                        let _ = transport.send(r, &stop);
                    }
                    return Err(e);
                }
            }
        }
        let s = &self.settings;
        if rank != 0 {
            return serve(self.model, transport, s.threads, None).map(|()| None);
        }
        let start = Instant::now();
        let setup = encode(&ToWorker::Setup(spec(s, self.spill_codec)));
        let mut sent = Ok(());
        for r in 1..transport.size() {
            sent = sent.and_then(|()| transport.send(r, &setup));
        }
        let details = sent
            .and_then(|()| pool(s.threads))
            .and_then(|p| self.coordinate(transport, &p));
        let stop = encode(&ToWorker::Stop);
        for r in 1..transport.size() {
            // A rank that cannot be told has ended already (its loss is in `details`).
            let _ = transport.send(r, &stop);
        }
        let (details, warnings) = details?;
        let seconds = start.elapsed().as_secs_f64();
        let model = self.model.describe()?.name;
        let mut report = Report::new(s.strategy, model, s.seed(), details, seconds)?;
        report.warnings = warnings;
        Ok(Some(report))
    }

    /// Rank 0: every repeat (or the database's run), and the database's warnings.
    fn coordinate<T: Transport>(
        &self,
        transport: &mut T,
        pool: &rayon::ThreadPool,
    ) -> Result<(Vec<RunOutcome>, Vec<String>)> {
        let s = &self.settings;
        if self.database.is_some() && self.save_states == Some(true) {
            return Err(Error::config(
                "database.save_states",
                "a run over several ranks cannot save states (they stay on the ranks that \
                 computed them); set it to false (a restart replays)",
            ));
        }
        let mut db = self.open_database()?;
        let mut link = Link {
            transport,
            timeout: Some(self.rank_timeout),
            traffic: Default::default(),
        };
        let bytes = self.model.initial_state().byte_len() as u64;
        let mut db = db.as_mut().map(|(db, _)| db);
        let out = match s.strategy {
            StrategyKind::MonteCarlo => match self.ensemble_output(&mut link, pool) {
                Some(out) => out.map(|o| vec![o]),
                None => self.montecarlo(&mut link, pool),
            },
            StrategyKind::Tams => match s.store.compact(bytes, &s.params, self.spill_codec) {
                Some(store) => self.tams(&mut link, pool, &store, db.as_deref_mut()),
                None => self.tams(&mut link, pool, &StoreAll, db.as_deref_mut()),
            },
        };
        if let Some(f) = &self.on_traffic {
            f(&link.traffic);
        }
        let warnings = db.map(|db| db.warnings()).unwrap_or_default();
        out.map(|o| (o, warnings))
    }

    /// The Monte Carlo run writing its ensemble output, if one is asked for (one repeat: see
    /// `check_output`).
    #[allow(unused_variables)]
    fn ensemble_output<T: Transport>(
        &self,
        link: &mut Link<'_, T>,
        pool: &rayon::ThreadPool,
    ) -> Option<Result<RunOutcome>> {
        #[cfg(feature = "zarr")]
        if let (Some(out), Some(f)) = (&self.output, self.ranks_output_fn) {
            let s = &self.settings;
            let key = NoiseKey::new(s.seed(), 0);
            let mut dyn_link: Link<'_, dyn Transport + '_> = Link {
                transport: &mut *link.transport,
                timeout: link.timeout,
                traffic: std::mem::take(&mut link.traffic),
            };
            let progress = self.progress_of(0);
            let r = f(
                self.model,
                &s.params,
                key,
                out,
                &mut dyn_link,
                pool,
                &progress,
            );
            link.traffic = dyn_link.traffic;
            return Some(r);
        }
        None
    }

    fn progress_of(&self, r: u64) -> impl Fn(u64, u64) + Sync + '_ {
        let repeats = self.repeats;
        move |done: u64, total: u64| {
            if let Some(p) = &self.progress {
                p(
                    r.saturating_mul(total).saturating_add(done),
                    repeats.saturating_mul(total),
                );
            }
        }
    }

    fn tams<T: Transport, St: TrajectoryStore<M::State>>(
        &self,
        link: &mut Link<'_, T>,
        pool: &rayon::ThreadPool,
        store: &St,
        db: Option<&mut RunDb>,
    ) -> Result<Vec<RunOutcome>> {
        let s = &self.settings;
        let params = &s.params;
        let n = params.ntrajectories;
        let repeats = if db.is_some() { 1 } else { self.repeats };
        let mut db = db;
        let mut out = Vec::new();
        for r in 0..repeats {
            let key = NoiseKey::new(s.seed(), r);
            for w in 1..link.size() {
                link.send(w, &ToWorker::Begin { repeat: r })?;
            }
            let mut c = Coordinator {
                model: self.model,
                store,
                horizon: &params.horizon,
                key,
                pool,
                link: &mut *link,
            };
            let progress = self.progress_of(r);
            let outcome = match db.as_deref_mut() {
                Some(db) => {
                    let rebuild = Instant::now();
                    let h = params.horizon;
                    // `&mut` so the connection moves to the pool's thread (it is not `Sync`).
                    let on_pool = &mut *db;
                    let from =
                        pool.install(move || resume(on_pool, self.model, store, &h, key, n))?;
                    // A partial initial ensemble is computed again whole (its rows are kept).
                    let from = from.filter(|f| !f.partial);
                    let from = from.map(|f| c.adopt(f)).transpose()?;
                    // The walltime counts the rebuild too.
                    let mut p = params.clone();
                    p.walltime = p.walltime.map(|w| {
                        w.saturating_sub(rebuild.elapsed())
                            .max(Duration::from_nanos(1))
                    });
                    run_loop(&mut c, &p, key, &progress, db, from)?.0
                }
                None => run_loop(&mut c, params, key, &progress, &mut NoJournal, None)?.0,
            };
            out.push(outcome);
        }
        Ok(out)
    }

    fn montecarlo<T: Transport>(
        &self,
        link: &mut Link<'_, T>,
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<RunOutcome>> {
        let s = &self.settings;
        let n = s.params.ntrajectories;
        let size = link.size();
        let mut out = Vec::new();
        for r in 0..self.repeats {
            let key = NoiseKey::new(s.seed(), r);
            let since = Instant::now();
            for w in 1..size {
                let (lo, hi) = block(n, w, size);
                let msg = ToWorker::MonteCarlo { repeat: r, lo, hi };
                link.send(w, &msg)?;
            }
            let progress = self.progress_of(r);
            let (lo, hi) = block(n, 0, size);
            let own = pool.install(|| {
                montecarlo::block(self.model, &s.params.horizon, key, lo..hi, &|done| {
                    progress(done - lo, n)
                })
            });
            let ranks: Vec<i32> = (1..size).collect();
            let answers = link.gather(&ranks, since, &|w| {
                let (lo, hi) = block(n, w, size);
                format!("computing Monte Carlo trajectories {lo}..{hi}")
            })?;
            // Blocks are in id order: the first failing rank holds the lowest failing id.
            let (mut reached, mut steps) = own?;
            for (&w, a) in ranks.iter().zip(answers) {
                let FromWorker::MonteCarlo(a) = a else {
                    return Err(Error::Rank {
                        rank: w,
                        message: "sent an unexpected answer (not Monte Carlo counts)".into(),
                    });
                };
                let (hit, st) = a.map_err(|f| f.error.into_error(w))?;
                reached += hit;
                steps += st;
            }
            progress(n, n);
            out.push(montecarlo::outcome(n, reached, steps));
        }
        Ok(out)
    }
}
