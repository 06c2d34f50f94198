//! The sampler's error type.

/// Everything that can go wrong while configuring or running a sampler.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A configuration key is missing, unknown or has an invalid value.
    #[error("{key}: {message}")]
    Config {
        /// Dotted key, e.g. `tams.ntrajectories`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration text is not valid TOML.
    #[error("invalid TOML: {0}")]
    Toml(String),
    /// A model's `sample_noise` drew more random words than its `noise_words` declares.
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
    /// The trajectory store cannot provide a state needed for branching.
    #[error("the trajectory store holds no state at or before step {step}")]
    MissingState {
        /// The requested step.
        step: u64,
    },
    /// A counter overflowed 64 bits.
    #[error("counter overflow: {0}")]
    Overflow(&'static str),
    /// A checkpoint could not be written, read or verified (the message names the file).
    #[error("checkpoint storage: {0}")]
    Checkpoint(String),
    /// The worker pool could not be built.
    #[error("cannot start the worker pool: {0}")]
    Pool(String),
    /// A run database could not be created, read or written.
    #[error("run database {path}: {message}")]
    Database {
        /// The run directory or file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Another process holds the run directory for writing.
    #[error(
        "run directory {dir} is in use by another process (lock file {dir}/lock is held); refusing to write to it"
    )]
    RunLocked {
        /// The run directory.
        dir: String,
    },
    /// The run database was written by an incompatible format version.
    #[error(
        "run database {path} has format version {found}; this retrace reads version {expected} only"
    )]
    RunFormat {
        /// The database file.
        path: String,
        /// Version found in the file.
        found: String,
        /// Version this build reads.
        expected: u32,
    },
    /// A restart with a configuration that would invalidate the run.
    #[error(
        "cannot restart {dir}: {key} changed from {stored} to {given}, which would invalidate the run (start a new run directory instead)"
    )]
    IncompatibleRun {
        /// The run directory.
        dir: String,
        /// Dotted config key.
        key: String,
        /// Value recorded in the run.
        stored: String,
        /// Value given now.
        given: String,
    },
    /// Recorded data fails a check (checksum, length, replay).
    #[error("run database {path} is damaged: {message}")]
    CorruptRun {
        /// The run directory or file.
        path: String,
        /// What check failed.
        message: String,
    },
}

/// Result alias of the sampler.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A configuration error for `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}
