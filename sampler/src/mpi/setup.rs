//! Setting up a process as one MPI rank: thread level `MPI_THREAD_FUNNELED`, and a panic that
//! ends the whole job. Used by `mpirun retrace tams`, the distributed Burgers demo and the MPI
//! tests and benches.

/// Why MPI could not be initialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// `MPI_Init` was called before in this process.
    #[error("cannot initialise MPI: MPI is already initialised")]
    AlreadyInitialized,
    /// The library cannot let threads other than the main one exist beside MPI.
    #[error("cannot initialise MPI: the MPI library provides only MPI_THREAD_SINGLE")]
    SingleThreaded,
}

/// Makes a panic on this rank end the whole job: after the usual message the process aborts
/// (SIGABRT), and `mpirun` / `srun` then stop the other ranks. Without it a panic unwinds
/// through `mpi::environment::Universe`'s drop, which calls `MPI_Finalize` while the other ranks
/// still wait for this rank: the job hangs. Call it first thing in `main`.
pub fn abort_on_panic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        std::process::abort();
    }));
}

/// Initialises MPI as [`crate::Run::run_mpi`] needs it; call it once, first, and keep the
/// universe until the end of `main` (its drop finalises MPI). For a process whose other threads (a disk store's I/O thread, a rayon pool)
/// never call MPI: thread level `MPI_THREAD_FUNNELED`, which plain `mpi::initialize`
/// (`MPI_THREAD_SINGLE`, one thread in the whole process) does not allow.
pub fn initialize() -> Result<mpi::environment::Universe, InitError> {
    let (universe, provided) = mpi::initialize_with_threading(mpi::Threading::Funneled)
        .ok_or(InitError::AlreadyInitialized)?;
    if provided < mpi::Threading::Funneled {
        return Err(InitError::SingleThreaded);
    }
    Ok(universe)
}
