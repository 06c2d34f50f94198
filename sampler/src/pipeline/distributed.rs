//! [`Run::run_mpi`]: the same run over MPI ranks (feature `mpi`). Rank 0 runs the ordinary
//! loop (selection, weights, database, progress, report); every rank computes trajectories on
//! its own rayon pool (see [`crate::mpi`]).

use super::{Report, Run, StrategyKind, pool};
use crate::db::{RunDb, resume};
use crate::journal::NoJournal;
use crate::mpi::coordinator::{Coordinator, block};
use crate::mpi::link::Link;
use crate::mpi::messages::{FromWorker, ToWorker, encode};
use crate::mpi::worker::Worker;
use crate::noise::NoiseKey;
use crate::outcome::RunOutcome;
use crate::store::{StateBytes, StoreAll, TrajectoryStore};
use crate::strategy::montecarlo;
use crate::strategy::tams::run_loop;
use crate::{Error, Model, Result};
use mpi::point_to_point::Destination;
use mpi::topology::Communicator;
use revolve::State as _;
use std::time::{Duration, Instant};

/// A callback of [`Run::on_traffic`].
pub(super) type OnTraffic<'a> = Box<dyn Fn(&crate::mpi::Traffic) + Sync + 'a>;

/// Default of [`Run::rank_timeout`]: ten minutes.
pub(super) const DEFAULT_RANK_TIMEOUT: Duration = Duration::from_secs(600);

impl<'a, M: Model> Run<'a, M>
where
    M::State: StateBytes + PartialEq,
{
    /// How long rank 0 waits for another rank's answer to one request (a batch of branch tasks,
    /// its block of fresh or Monte Carlo trajectories) before it ends the job with one line
    /// naming the rank and what it was computing ([`Error::RankTimeout`] from
    /// [`Run::run_mpi`]). Default ten minutes.
    pub fn rank_timeout(mut self, timeout: Duration) -> Self {
        self.rank_timeout = timeout;
        self
    }

    /// Call `f` on rank 0 with the coordination counters (messages, bytes, waiting, branch
    /// tasks per rank) when an MPI run ends.
    pub fn on_traffic(mut self, f: impl Fn(&crate::mpi::Traffic) + Sync + 'a) -> Self {
        self.on_traffic = Some(Box::new(f));
        self
    }

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
    /// Rank 0 alone opens the run database; the others keep the states of the trajectories
    /// they computed in their own store (own memory budget: the configured budget is per rank;
    /// own spill directory). States are not saved in the database (`save_states = true` is
    /// refused): a restart, on any number of ranks, rebuilds them by replay.
    ///
    /// Settings errors are returned on every rank alike. A rank that does not answer in time
    /// gives [`Error::RankTimeout`] on rank 0; an error only one worker rank meets outside a
    /// computation gives [`Error::Worker`] there. Both leave other ranks waiting
    /// ([`Error::ends_job`]): the caller ends the job (`MPI_Abort`); nothing is printed here.
    pub fn run_mpi<C: Communicator>(self, comm: &C) -> Result<Option<Report>> {
        self.validate()?;
        if self.output.is_some() {
            return Err(Error::config(
                "output",
                "ensemble output is not written over MPI (run on one process)",
            ));
        }
        let rank = comm.rank();
        let s = &self.settings;
        if rank != 0 {
            return match pool(s.threads).and_then(|p| self.serve(comm, &p)) {
                Ok(()) => Ok(None),
                Err(e) => Err(Error::Worker {
                    rank,
                    source: Box::new(e),
                }),
            };
        }
        let start = Instant::now();
        let details = pool(s.threads).and_then(|p| self.coordinate(comm, &p));
        let stop = encode(&ToWorker::Stop);
        for r in 1..comm.size() {
            comm.process_at_rank(r).send(&stop[..]);
        }
        let (details, warnings) = details?;
        let seconds = start.elapsed().as_secs_f64();
        let model = self.model.describe()?.name;
        let mut report = Report::new(s.strategy, model, s.seed, details, seconds)?;
        report.warnings = warnings;
        Ok(Some(report))
    }

    /// A worker rank: answer rank 0 until it says stop.
    fn serve<C: Communicator>(&self, comm: &C, pool: &rayon::ThreadPool) -> Result<()> {
        let s = &self.settings;
        let h = s.params.horizon;
        let bytes = self.model.initial_state().byte_len() as u64;
        let compact = match s.strategy {
            StrategyKind::MonteCarlo => None,
            StrategyKind::Tams => s.store.compact(bytes, &s.params),
        };
        let rank = comm.rank();
        match compact {
            Some(store) => Worker::new(self.model, &store, h, s.seed, rank, pool).serve(comm),
            None => Worker::new(self.model, &StoreAll, h, s.seed, rank, pool).serve(comm),
        }
    }

    /// Rank 0: every repeat (or the database's run), and the database's warnings.
    fn coordinate<C: Communicator>(
        &self,
        comm: &C,
        pool: &rayon::ThreadPool,
    ) -> Result<(Vec<RunOutcome>, Vec<String>)> {
        let s = &self.settings;
        if self.database.is_some() && self.save_states == Some(true) {
            return Err(Error::config(
                "database.save_states",
                "a run over MPI ranks cannot save states (they stay on the ranks that \
                 computed them); set it to false (a restart replays)",
            ));
        }
        let mut db = self.open_database()?;
        let mut link = Link {
            comm,
            timeout: self.rank_timeout.as_secs_f64(),
            traffic: Default::default(),
        };
        let bytes = self.model.initial_state().byte_len() as u64;
        let mut db = db.as_mut().map(|(db, _)| db);
        let out = match s.strategy {
            StrategyKind::MonteCarlo => self.montecarlo(&mut link, pool),
            StrategyKind::Tams => match s.store.compact(bytes, &s.params) {
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

    fn tams<C: Communicator, St: TrajectoryStore<M::State>>(
        &self,
        link: &mut Link<'_, C>,
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
            let key = NoiseKey::new(s.seed, r);
            for w in 1..link.size() {
                link.send(w, &ToWorker::Begin { repeat: r });
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

    fn montecarlo<C: Communicator>(
        &self,
        link: &mut Link<'_, C>,
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<RunOutcome>> {
        let s = &self.settings;
        let n = s.params.ntrajectories;
        let size = link.size();
        let mut out = Vec::new();
        for r in 0..self.repeats {
            let key = NoiseKey::new(s.seed, r);
            let since = mpi::time();
            for w in 1..size {
                let (lo, hi) = block(n, w, size);
                let msg = ToWorker::MonteCarlo { repeat: r, lo, hi };
                link.send(w, &msg);
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
