//! The action vocabulary shared by every schedule, the validator and the `Revolver`.
//!
//! Text format (one action per line, as printed by `retrace schedule`):
//! `advance A B`, `store K LEVEL`, `restore K LEVEL`, `free K LEVEL`, `record K LEVEL`,
//! `reverse K`, with `LEVEL` one of `ram` or `disk`.

use std::fmt;
use std::str::FromStr;

/// Where a checkpoint lives.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Main memory.
    Ram,
    /// Disk (memory-mapped files).
    Disk,
}

impl Level {
    /// Both levels, RAM first.
    pub const ALL: [Level; 2] = [Level::Ram, Level::Disk];

    /// Index into per-level arrays (`Ram` = 0, `Disk` = 1).
    pub const fn index(self) -> usize {
        match self {
            Level::Ram => 0,
            Level::Disk => 1,
        }
    }

    /// The word used in the text format.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Ram => "ram",
            Level::Disk => "disk",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ram" => Ok(Level::Ram),
            "disk" => Ok(Level::Disk),
            other => Err(ParseActionError::BadLevel {
                found: other.to_string(),
            }),
        }
    }
}

/// One instruction of a checkpointing schedule. Step indices are 64-bit.
///
/// ```
/// use revolve::{Action, Level};
/// let a: Action = "store 4 ram".parse().unwrap();
/// assert_eq!(a, Action::Store { step: 4, level: Level::Ram });
/// assert_eq!(a.to_string(), "store 4 ram");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Action {
    /// The current state goes from step `from` to step `to > from` without recording
    /// (`to - from` forward steps).
    Advance {
        /// Current step before the advance.
        from: u64,
        /// Step reached.
        to: u64,
    },
    /// Keep a checkpoint of the current state, which is at `step`.
    Store {
        /// Step of the current state.
        step: u64,
        /// Where the checkpoint goes.
        level: Level,
    },
    /// Load the checkpoint of `step` into the current state.
    Restore {
        /// Step of the checkpoint.
        step: u64,
        /// Where the checkpoint lives.
        level: Level,
    },
    /// Release the checkpoint of `step`.
    Free {
        /// Step of the checkpoint.
        step: u64,
        /// Where the checkpoint lives.
        level: Level,
    },
    /// The current state is at `step`: run step `step -> step + 1` keeping the data its adjoint
    /// needs (a *recorded* step) in a checkpoint unit at `level`; the current state moves to
    /// `step + 1`. The later `reverse step` runs the adjoint from that data, without a forward
    /// step, and releases the unit (the mixed schedule, [`crate::schedule::mixed`]).
    Record {
        /// Step recorded (the current state's step).
        step: u64,
        /// Where the step's adjoint data goes.
        level: Level,
    },
    /// Reverse step `step`, moving the adjoint from `step + 1` to `step`. If `step` was
    /// recorded, the adjoint runs from the recorded data and releases its unit; otherwise the
    /// current state is at `step`, step `step -> step + 1` runs recording it (one forward step),
    /// then its adjoint. The current state is consumed either way.
    Reverse {
        /// Step reversed.
        step: u64,
    },
}

impl Action {
    /// Forward steps this action evaluates (advances, records, and the taped step of a reverse;
    /// the reverse of a recorded step takes none, which only the validator's [`crate::Stats`]
    /// knows: this counts 1 for every reverse).
    pub const fn forward_steps(&self) -> u64 {
        match *self {
            Action::Advance { from, to } => to.saturating_sub(from),
            Action::Reverse { .. } | Action::Record { .. } => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Advance { from, to } => write!(f, "advance {from} {to}"),
            Action::Store { step, level } => write!(f, "store {step} {level}"),
            Action::Restore { step, level } => write!(f, "restore {step} {level}"),
            Action::Free { step, level } => write!(f, "free {step} {level}"),
            Action::Record { step, level } => write!(f, "record {step} {level}"),
            Action::Reverse { step } => write!(f, "reverse {step}"),
        }
    }
}

/// Why a line of text is not an [`Action`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseActionError {
    /// The line is empty.
    #[error("empty action")]
    Empty,
    /// The first word names no action.
    #[error("unknown action `{found}` (expected advance, store, restore, free, record or reverse)")]
    UnknownVerb {
        /// The word found.
        found: String,
    },
    /// Wrong number of words after the verb.
    #[error("`{verb}` takes {expected} argument(s), found {found}")]
    WrongArity {
        /// The action.
        verb: &'static str,
        /// Arguments it takes.
        expected: usize,
        /// Arguments found.
        found: usize,
    },
    /// A step is not an unsigned 64-bit integer.
    #[error("bad step `{found}`: expected an unsigned 64-bit integer")]
    BadStep {
        /// The text found.
        found: String,
    },
    /// A level is neither `ram` nor `disk`.
    #[error("bad level `{found}`: expected `ram` or `disk`")]
    BadLevel {
        /// The text found.
        found: String,
    },
}

fn step(s: &str) -> Result<u64, ParseActionError> {
    s.parse().map_err(|_| ParseActionError::BadStep {
        found: s.to_string(),
    })
}

impl FromStr for Action {
    type Err = ParseActionError;
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let mut words = line.split_whitespace();
        let verb = words.next().ok_or(ParseActionError::Empty)?;
        let args: Vec<&str> = words.collect();
        let (name, arity): (&'static str, usize) = match verb {
            "advance" => ("advance", 2),
            "store" => ("store", 2),
            "restore" => ("restore", 2),
            "free" => ("free", 2),
            "record" => ("record", 2),
            "reverse" => ("reverse", 1),
            other => {
                return Err(ParseActionError::UnknownVerb {
                    found: other.to_string(),
                });
            }
        };
        if args.len() != arity {
            return Err(ParseActionError::WrongArity {
                verb: name,
                expected: arity,
                found: args.len(),
            });
        }
        Ok(match name {
            "advance" => Action::Advance {
                from: step(args[0])?,
                to: step(args[1])?,
            },
            "store" => Action::Store {
                step: step(args[0])?,
                level: args[1].parse()?,
            },
            "restore" => Action::Restore {
                step: step(args[0])?,
                level: args[1].parse()?,
            },
            "free" => Action::Free {
                step: step(args[0])?,
                level: args[1].parse()?,
            },
            "record" => Action::Record {
                step: step(args[0])?,
                level: args[1].parse()?,
            },
            _ => Action::Reverse {
                step: step(args[0])?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let all = [
            Action::Advance {
                from: 0,
                to: u64::MAX,
            },
            Action::Store {
                step: 3,
                level: Level::Disk,
            },
            Action::Restore {
                step: 3,
                level: Level::Ram,
            },
            Action::Free {
                step: 7,
                level: Level::Disk,
            },
            Action::Record {
                step: 8,
                level: Level::Disk,
            },
            Action::Reverse { step: 9 },
        ];
        for a in all {
            assert_eq!(a.to_string().parse::<Action>().unwrap(), a);
        }
    }

    #[test]
    fn parse_errors() {
        assert_eq!("".parse::<Action>(), Err(ParseActionError::Empty));
        assert!(matches!(
            "jump 1".parse::<Action>(),
            Err(ParseActionError::UnknownVerb { .. })
        ));
        assert!(matches!(
            "store 1".parse::<Action>(),
            Err(ParseActionError::WrongArity { .. })
        ));
        assert!(matches!(
            "store x ram".parse::<Action>(),
            Err(ParseActionError::BadStep { .. })
        ));
        assert!(matches!(
            "store 1 tape".parse::<Action>(),
            Err(ParseActionError::BadLevel { .. })
        ));
        assert!(matches!(
            "record 1".parse::<Action>(),
            Err(ParseActionError::WrongArity { verb: "record", .. })
        ));
        assert!(matches!(
            "reverse -1".parse::<Action>(),
            Err(ParseActionError::BadStep { .. })
        ));
    }
}
