//! A configuration file's run over MPI ranks (what `mpirun retrace tams` runs), exported as
//! [`run_config_mpi`](crate::runner::run_config_mpi).

use crate::config::Config;
use crate::models::ModelVisitor;
use crate::runner::{DbOptions, Report, RunOptions, configured};
use crate::store::StateBytes;
use crate::strategy::Progress;
use crate::{Model, Result};
use mpi::topology::Communicator;
use std::time::Duration;

struct Visit<'a, C> {
    config: &'a Config,
    repeats: u64,
    threads: Option<usize>,
    db: Option<(&'a std::path::Path, bool)>,
    comm: &'a C,
    timeout: Duration,
    progress: Progress<'a>,
}

impl<C: Communicator> ModelVisitor for Visit<'_, C> {
    type Output = Result<Option<Report>>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: StateBytes + PartialEq + crate::ArrayState,
    {
        configured(
            model,
            self.config,
            self.repeats,
            self.threads,
            self.db,
            self.progress,
        )?
        .rank_timeout(self.timeout)
        .run_mpi(self.comm)
    }
}

/// Run `config` over the ranks of `comm` (every rank calls it with the same arguments; only
/// rank 0 opens the database `db`, if any): the report on rank 0, `None` on the others.
/// `opts` and `db` override the file as for [`crate::runner::run_config`] and
/// [`crate::runner::run_with_database`]; `rank_timeout` is [`crate::Run::rank_timeout`].
pub fn run_config<C: Communicator>(
    config: &Config,
    opts: &RunOptions,
    db: Option<&DbOptions>,
    comm: &C,
    rank_timeout: Duration,
    progress: Progress<'_>,
) -> Result<Option<Report>> {
    let mut config = config.clone();
    if let Some(seed) = db.and_then(|d| d.seed).or(opts.seed) {
        config.tams.seed = Some(seed);
    }
    let threads = db.and_then(|d| d.threads).or(opts.threads);
    let repeats = if db.is_some() {
        1
    } else {
        opts.repeats.unwrap_or(1)
    };
    config.model.visit(Visit {
        config: &config,
        repeats,
        threads,
        db: db.map(|d| (d.dir.as_path(), d.restart)),
        comm,
        timeout: rank_timeout,
        progress,
    })
}
