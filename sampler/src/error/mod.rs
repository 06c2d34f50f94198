//! The sampler's error type: one enum per subsystem (configuration, model, store, database),
//! nested in [`Error`], the causes kept as sources, every file error naming its path.

mod db;
mod output;
mod store;

pub use db::{DbError, Missing, Row};
pub use output::OutputError;
pub use store::StoreError;

/// Everything that can go wrong while configuring or running a sampler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration (file, key or builder setting) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The model misbehaved.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The trajectory store failed (spill files, checkpoint placement).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run database failed or refused.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A Zarr output (transition paths, ensemble output) failed or was refused.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A counter overflowed 64 bits.
    #[error("counter overflow: {0}")]
    Overflow(&'static str),
    /// The worker pool could not be built.
    #[error("cannot start the worker pool: {0}")]
    Pool(#[source] rayon::ThreadPoolBuildError),
    /// The operating system gave no random seed ([`crate::seed_from_os`]).
    #[error("cannot draw a seed from the OS: {0}")]
    Entropy(#[source] rand::rngs::SysError),
    /// TAMS stalled: no trajectory is above the level of iteration `iteration` (every maximum
    /// is at or below it), so splitting cannot go on. `[tams] on_stall = "zero"`
    /// ([`crate::OnStall::Zero`]) reports this as an estimate of 0 instead.
    #[error(
        "splitting stalled at iteration {iteration}: no trajectory is above the level {level} \
         ({count} of {ntrajectories} trajectories have their maximum score at it); set \
         [tams] on_stall = \"zero\" to report an estimate of 0 instead"
    )]
    Stalled {
        /// The iteration that could not be performed (1-based).
        iteration: u64,
        /// Its level (the `l`-th smallest maximum score).
        level: f64,
        /// Trajectories whose maximum score equals the level.
        count: u64,
        /// N.
        ntrajectories: u64,
    },
    /// A resume point handed to the TAMS loop is inconsistent (e.g. a partial initial ensemble
    /// with an id out of range).
    #[error("cannot resume the run: {message}")]
    InvalidResume {
        /// What is wrong.
        message: String,
    },
    /// Another MPI rank failed (its error's message) or sent a malformed message.
    #[error("rank {rank}: {message}")]
    Rank {
        /// The rank.
        rank: i32,
        /// What went wrong there.
        message: String,
    },
    /// An MPI rank did not answer rank 0 in time ([`crate::Run::rank_timeout`]). The job cannot
    /// go on: the caller should end it (`MPI_Abort`, see [`Error::ends_job`]).
    #[error("rank {rank} did not answer within {seconds} s while {doing}")]
    RankTimeout {
        /// The rank that did not answer.
        rank: i32,
        /// The timeout, seconds.
        seconds: f64,
        /// What it was asked to compute (e.g. `computing iteration 3 (2 branch tasks)`).
        doing: String,
    },
    /// This worker rank failed while serving rank 0 (outside a computation, whose errors go to
    /// rank 0). Rank 0 waits for it: the caller should end the job (see [`Error::ends_job`]).
    #[error("rank {rank}: {source}; the job cannot go on")]
    Worker {
        /// This rank.
        rank: i32,
        /// What failed.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Whether this error leaves other MPI ranks waiting, so the job must be ended (with
    /// `MPI_Abort`) rather than finished: [`Error::RankTimeout`] and [`Error::Worker`].
    pub fn ends_job(&self) -> bool {
        matches!(self, Error::RankTimeout { .. } | Error::Worker { .. })
    }
}

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A key is missing, unknown or has an invalid value.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted key, e.g. `tams.ntrajectories`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The text is not valid TOML.
    #[error("invalid TOML: line {line}: {}", one_line(source.message()))]
    Toml {
        /// Line of the error (1-based; 0 if unknown).
        line: usize,
        /// The parser's error.
        #[source]
        source: toml::de::Error,
    },
    /// A configuration file cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is invalid (`source` says where and how).
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: std::path::PathBuf,
        /// The error in it.
        #[source]
        source: Box<Error>,
    },
    /// The run cannot fit in memory (refused before it starts).
    #[error(
        "the run needs at least {} of RAM (states {}, scores {}, worker buffers {}), more than the {} {limit}",
        size(*needed), size(*states), size(*scores), size(*workers), size(*available)
    )]
    TooLarge {
        /// Bytes needed in all.
        needed: u64,
        /// Of which states the store keeps in RAM.
        states: u64,
        /// Of which scores.
        scores: u64,
        /// Of which per-worker buffers.
        workers: u64,
        /// Bytes available.
        available: u64,
        /// What `available` is (e.g. `available (MemAvailable in /proc/meminfo)`).
        limit: &'static str,
    },
    /// A run description cannot be written as TOML (e.g. a seed or count beyond 2^63).
    #[error("cannot write the run description as TOML: {0}")]
    Describe(#[source] toml::ser::Error),
}

fn size(bytes: u64) -> String {
    revolve::units::format_size(bytes)
}

/// A model error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// `sample_noise` drew more random words than `noise_words` declares.
    #[error("model drew {used} noise words in one step but declares at most {declared}")]
    NoiseOverdraw {
        /// Declared words per step.
        declared: u64,
        /// Words actually drawn.
        used: u128,
    },
    /// A trajectory is longer than the noise streams can address.
    #[error("trajectory step {step} is beyond the addressable noise stream")]
    StreamExhausted {
        /// The step that could not be addressed.
        step: u64,
    },
    /// The model returned a NaN score.
    #[error("model returned a NaN score (trajectory {trajectory}, step {step})")]
    NanScore {
        /// Trajectory id.
        trajectory: u64,
        /// Step index.
        step: u64,
    },
    /// A model's parameters cannot be written as TOML ([`crate::ModelInfo::of`]).
    #[error("model {name}: cannot write its parameters as TOML: {source}")]
    Describe {
        /// The model's name.
        name: String,
        /// The serializer's error.
        #[source]
        source: toml::ser::Error,
    },
}

/// Result alias of the sampler.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A configuration error for `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config(ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        })
    }
}

fn one_line(text: &str) -> String {
    text.trim().replace('\n', " ")
}
