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
