//! The messages between rank 0 and the other ranks (postcard-encoded; floats travel as their
//! exact bits). Noise never travels: a task names ids, a result carries scores. States travel
//! only to balance an iteration: a parent's held checkpoints, through rank 0, to the rank that
//! computes a child in its owner's place.

use crate::simulate::Member;
use crate::{Error, ModelError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Rank 0 to a worker rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// The settings to compute with: rank 0's, its first message.
    Setup(Spec),
    /// A new TAMS run with the noise streams of repeat `repeat`: drop every trajectory held.
    Begin {
        /// Repeat index (the noise key is `(seed, repeat)`).
        repeat: u64,
    },
    /// Compute trajectories `lo..hi` from the initial condition and keep them.
    Fresh {
        /// First id.
        lo: u64,
        /// One past the last id.
        hi: u64,
    },
    /// Branch a child from each parent (held here) at `level`, then drop `drop`.
    Branch {
        /// The iteration being computed (1-based).
        iteration: u64,
        /// The level Z_q.
        level: f64,
        /// `(parent id, child id)` in task order.
        tasks: Vec<(u64, u64)>,
        /// Parents held by other ranks, sent for this iteration's tasks only.
        imports: Vec<Import>,
        /// Trajectories killed by this iteration that this rank holds.
        drop: Vec<u64>,
    },
    /// Send the held states of these trajectories (held here), for another rank to branch from.
    Export {
        /// The iteration being computed (1-based).
        iteration: u64,
        /// Trajectory ids.
        ids: Vec<u64>,
    },
    /// Rebuild these recorded trajectories' states by replay (restart) and keep them.
    Adopt {
        /// The trajectories.
        trajectories: Vec<Adopted>,
    },
    /// Run Monte Carlo trajectories `lo..hi` of repeat `repeat`.
    MonteCarlo {
        /// Repeat index.
        repeat: u64,
        /// First id.
        lo: u64,
        /// One past the last id.
        hi: u64,
    },
    /// Start Monte Carlo members `lo..hi` of repeat `repeat` for an ensemble output (advanced
    /// in lockstep, a snapshot every `stride` steps): fresh, or continuing a killed run's.
    EnsembleStart {
        /// Repeat index.
        repeat: u64,
        /// First id.
        lo: u64,
        /// One past the last id.
        hi: u64,
        /// Steps between snapshots.
        stride: u64,
        /// Where a continued output stands (`None`: from the initial states).
        resume: Option<Resumed>,
    },
    /// Advance the started members through snapshots `from..to` and send them.
    EnsembleAdvance {
        /// First snapshot.
        from: u64,
        /// One past the last snapshot.
        to: u64,
    },
    /// The run is over: drop everything and return.
    Stop,
}

/// Where a continued ensemble output's members stand (its last complete chunk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Resumed {
    /// The first snapshot to compute (0: the members start from their initial states).
    pub first: u64,
    /// Where each member stands (id order).
    pub members: Vec<Member>,
    /// The running members' states at snapshot `first - 1`, the state's byte length each (id
    /// order; other members' cells unspecified); empty when `first` is 0.
    pub states: Bytes,
}

/// What a worker rank computes with: rank 0's settings (worker ranks have their own only for
/// their thread count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Spec {
    /// TAMS (else Monte Carlo).
    pub tams: bool,
    /// The run's seed.
    pub seed: u64,
    /// The spill files' codec (its text form, `Codec`'s `Display`).
    pub spill_codec: String,
    /// `tams.ntrajectories`.
    pub ntrajectories: u64,
    /// `tams.l`.
    pub l: u64,
    /// `tams.nsplititer`.
    pub nsplititer: u64,
    /// The horizon's end time, step count, step size and target.
    pub horizon: (f64, u64, f64, f64),
    /// Where states are kept.
    pub store: WireStore,
}

/// A store policy as it travels (`crate::StorePolicy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum WireStore {
    /// Every state.
    StoreAll,
    /// Uniform checkpoints.
    Uniform {
        /// RAM budget, bytes.
        budget: u64,
        /// Steps between checkpoints.
        interval: Option<u64>,
        /// Spill directory.
        spill_dir: Option<PathBuf>,
    },
    /// Checkpoints placed by a schedule.
    Schedule {
        /// RAM budget, bytes.
        budget: u64,
        /// Checkpoints per trajectory.
        slots: Option<u64>,
        /// Spill directory.
        spill_dir: Option<PathBuf>,
    },
}

/// A recorded trajectory a worker rebuilds on restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Adopted {
    /// Trajectory id.
    pub id: u64,
    /// Noise lineage `(start step, stream)`.
    pub lineage: Vec<(u64, u64)>,
    /// Recorded scores (checked bit for bit by the replay).
    pub scores: Vec<f64>,
}

/// A parent sent to the rank that branches from it in its owner's place: everything that
/// rank needs to rebuild the owner's record exactly (`TrajectoryStore::record_from_held`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Import {
    /// Trajectory id.
    pub id: u64,
    /// Noise lineage `(start step, stream)`.
    pub lineage: Vec<(u64, u64)>,
    /// Its scores.
    pub scores: Vec<f64>,
    /// Its held states after step 0.
    pub states: HeldStates,
}

/// A trajectory's held states after step 0: `(step, little-endian state bytes)`, step order.
pub(crate) type HeldStates = Vec<(u64, Bytes)>;

/// Raw bytes encoded as one length-prefixed block (serde would otherwise visit a `Vec<u8>`
/// byte by byte: megabytes of states per balanced iteration).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

/// A worker rank's answer to [`ToWorker::Fresh`], [`ToWorker::Branch`], [`ToWorker::Adopt`] or
/// [`ToWorker::MonteCarlo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// New trajectories in request order, or the first failure.
    Computed(Result<Vec<Child>, Failure>),
    /// States held per adopted trajectory, or the first failure.
    Adopted(Result<Vec<u64>, Failure>),
    /// Monte Carlo `(reached, steps)`, or the failure of the lowest id.
    MonteCarlo(Result<(u64, u64), Failure>),
    /// Held states per exported trajectory (request order), or the first failure.
    Exported(Result<Vec<HeldStates>, Failure>),
    /// Where the started ensemble members stand (id order), or the lowest failing id's error.
    EnsembleStarted(Result<Vec<Member>, Failure>),
    /// Where the members stand after the last snapshot asked, and the snapshots' states
    /// (`(snapshot, member)` cells of the state's byte length; unspecified where a snapshot
    /// does not hold the member), or the failure at the earliest snapshot (`index`: that
    /// snapshot; the lowest failing id there).
    EnsembleAdvanced(Result<(Vec<Member>, Bytes), Failure>),
}

/// What rank 0 records of a trajectory computed elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Child {
    /// Scores after the branch step (a fresh trajectory: all of them).
    pub tail: Vec<f64>,
    /// Maximum score.
    pub max_score: f64,
    /// Whether it reached the target.
    pub reached: bool,
    /// Model steps taken.
    pub steps: u64,
    /// Steps replayed to reach the branch point.
    pub replayed: u64,
    /// States its record holds on the computing rank.
    pub held: u64,
}

/// The first failing item of a request (position in the request's order) and its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Failure {
    /// Position of the failing item in the request.
    pub index: u64,
    /// The error.
    pub error: WireError,
}

/// An error as it travels: model errors keep their fields, others their message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum WireError {
    /// [`ModelError::NanScore`].
    NanScore {
        /// Trajectory id.
        trajectory: u64,
        /// Step.
        step: u64,
    },
    /// [`ModelError::StreamExhausted`].
    StreamExhausted {
        /// Step.
        step: u64,
    },
    /// Any other error, by its message.
    Other(String),
}

impl WireError {
    /// The error as it travels.
    pub(crate) fn of(e: &Error) -> WireError {
        match e {
            Error::Model(ModelError::NanScore { trajectory, step }) => WireError::NanScore {
                trajectory: *trajectory,
                step: *step,
            },
            Error::Model(ModelError::StreamExhausted { step }) => {
                WireError::StreamExhausted { step: *step }
            }
            Error::Rank { message, .. } => WireError::Other(message.clone()),
            e => WireError::Other(e.to_string()),
        }
    }

    /// The error again (model errors as the single-process run reports them; others as
    /// [`Error::Rank`] naming `rank`).
    pub(crate) fn into_error(self, rank: i32) -> Error {
        match self {
            WireError::NanScore { trajectory, step } => {
                ModelError::NanScore { trajectory, step }.into()
            }
            WireError::StreamExhausted { step } => ModelError::StreamExhausted { step }.into(),
            WireError::Other(message) => Error::Rank { rank, message },
        }
    }
}

/// Encode a message.
pub(crate) fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Encoding into a Vec cannot fail for these plain types.
    postcard::to_allocvec(msg).unwrap_or_default()
}

/// Decode a message from `rank`.
pub(crate) fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], rank: i32) -> crate::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| Error::Rank {
        rank,
        message: format!("malformed message of {} bytes: {e}", bytes.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_exactly() {
        let msg = ToWorker::Branch {
            iteration: 7,
            level: -0.1f64.next_up(),
            tasks: vec![(3, 100), (u64::MAX, 0)],
            imports: vec![Import {
                id: 3,
                lineage: vec![(0, 3)],
                scores: vec![0.5, -0.0],
                states: vec![(1, Bytes(vec![1, 2, 3]))],
            }],
            drop: vec![5],
        };
        assert_eq!(decode::<ToWorker>(&encode(&msg), 0).unwrap(), msg);
        let back = FromWorker::Computed(Ok(vec![Child {
            tail: vec![f64::MIN_POSITIVE, -0.0, 1e300],
            max_score: 1e300,
            reached: true,
            steps: 3,
            replayed: 2,
            held: 9,
        }]));
        let FromWorker::Computed(Ok(c)) = decode::<FromWorker>(&encode(&back), 1).unwrap() else {
            panic!("wrong variant")
        };
        assert_eq!(c[0].tail[1].to_bits(), (-0.0f64).to_bits());
        let e = WireError::of(
            &ModelError::NanScore {
                trajectory: 4,
                step: 2,
            }
            .into(),
        );
        assert_eq!(
            e.into_error(3).to_string(),
            "model returned a NaN score (trajectory 4, step 2)"
        );
        assert!(decode::<ToWorker>(&[0xff, 0xff], 2).is_err());
    }
}
