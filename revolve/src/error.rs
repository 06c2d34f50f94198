//! The crate's error type: one enum with typed fields.

use crate::Level;
use std::path::PathBuf;

/// Everything that can go wrong in planning, storing or running a reversal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A schedule needs at least one step.
    #[error("steps must be at least 1")]
    ZeroSteps,
    /// A schedule needs at least one checkpoint slot (the one holding the initial state).
    #[error("snaps must be at least 1 (the slot holding the initial state counts)")]
    ZeroSnaps,
    /// A count does not fit in 64 bits.
    #[error("arithmetic overflow computing {what}: the count does not fit in 64 bits")]
    Overflow {
        /// The quantity that overflowed.
        what: &'static str,
    },
    /// A store was asked for at a level whose slots are all taken.
    #[error("no free {level} slot for step {step} (capacity {capacity})")]
    StoreFull {
        /// Level of the store.
        level: Level,
        /// Step to store.
        step: u64,
        /// Slots at that level.
        capacity: u64,
    },
    /// A checkpoint store has fewer slots than the schedule declares (found when the Revolver
    /// is built or restarted, before any step runs).
    #[error("the {level} store has {available} slots, the schedule needs {needed}")]
    StoreTooSmall {
        /// Level of the store.
        level: Level,
        /// Slots the schedule declares at that level (at most one per step).
        needed: u64,
        /// Slots the store has.
        available: u64,
    },
    /// A checkpoint was asked for that is not held.
    #[error("no {level} checkpoint of step {step}")]
    NoCheckpoint {
        /// Level asked.
        level: Level,
        /// Step asked.
        step: u64,
    },
    /// A checkpoint of this step is already held.
    #[error("a {level} checkpoint of step {step} already exists")]
    DuplicateCheckpoint {
        /// Level of the store.
        level: Level,
        /// Step stored twice.
        step: u64,
    },
    /// A state does not have the size the store was built for.
    #[error("state has {found} bytes, the checkpoint store holds states of {expected} bytes")]
    StateSize {
        /// Bytes per state the store was built for.
        expected: u64,
        /// Bytes of the state given.
        found: u64,
    },
    /// The schedule asked the driver for something its rules forbid.
    #[error("schedule broke a rule at action {index} (`{action}`): {rule}")]
    BadSchedule {
        /// Index of the action in the schedule.
        index: u64,
        /// The action.
        action: crate::Action,
        /// The validator's rule it broke.
        rule: crate::Rule,
    },
    /// The schedule ended while rules still required actions (steps not reversed, checkpoints
    /// left), or ended before its first reverse.
    #[error("schedule ended after {index} actions: {rule}")]
    ScheduleEnded {
        /// Number of actions the schedule gave.
        index: u64,
        /// The validator's end-of-schedule rule it broke.
        rule: crate::Rule,
    },
    /// A user operator (forward or reverse) failed.
    #[error("{operator} operator failed at step {step}: {source}")]
    Operator {
        /// `"forward"` or `"reverse"`.
        operator: &'static str,
        /// Step at which it failed.
        step: u64,
        /// The user's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// I/O on a checkpoint file failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint file is truncated, corrupted or not ours.
    #[error("corrupt checkpoint file {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// A checkpoint file was written with a codec this build cannot decode: the build lacks
    /// the cargo feature (a zfp checkpoint read without the `zfp` feature).
    #[error(
        "checkpoint file {path} was written with the {codec} codec, which this build cannot \
         decode: it lacks the `{feature}` cargo feature (rebuild with `--features {feature}`)"
    )]
    MissingFeature {
        /// The file.
        path: PathBuf,
        /// The codec it was written with.
        codec: &'static str,
        /// The cargo feature that decodes it.
        feature: &'static str,
    },
    /// A cost given to the cost model is negative, infinite or NaN.
    #[error("{name} must be a finite number >= 0 (got {value})")]
    BadCost {
        /// Which cost.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A bandwidth given to the cost model is not positive (infinite is allowed).
    #[error("{name} must be > 0 bytes/s (got {value})")]
    BadBandwidth {
        /// Which bandwidth.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A compression ratio given to the planner is below 1, infinite or NaN.
    #[error("the compression ratio must be a finite number >= 1 (got {value})")]
    BadRatio {
        /// The value given.
        value: f64,
    },
    /// A planner's tables would exceed its documented size limit.
    #[error("{what}: {found} exceeds the limit {limit}")]
    TooLarge {
        /// What is too large (e.g. "cost-aware table entries").
        what: &'static str,
        /// The size asked for.
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// `apply_reverse` was called before `apply_forward`, or twice.
    #[error("{0}")]
    Usage(&'static str),
}
