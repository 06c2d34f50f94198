//! The configuration file's schema: one struct per table, unknown keys rejected.

use crate::models::BuiltinModel;
use serde::{Deserialize, Serialize};

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[tams]`.
    pub tams: TamsConfig,
    /// `[trajectory]`.
    pub trajectory: TrajectoryConfig,
    /// `[runner]`.
    #[serde(default)]
    pub runner: RunnerConfig,
    /// `[sampler]`.
    #[serde(default)]
    pub sampler: SamplerConfig,
    /// `[model]`: `name` plus the model's parameters.
    pub model: BuiltinModel,
    /// `[database]`: where the run database lives (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseConfig>,
    /// `[output]`: the ensemble output of a Monte Carlo run (optional; feature `zarr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputConfig>,
}

/// `[output]` (and [`crate::Run::output`]): a Monte Carlo run writes its ensemble's states every
/// `stride` steps to the Zarr v3 group `path` (`time (M,)`, `data (d_X, N, M)`, PySDE's
/// layout), flushing every `chunk` snapshots. A group holding this run's output already (a
/// killed run) is continued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// The Zarr group (a directory).
    pub path: std::path::PathBuf,
    /// Steps between snapshots (default 1).
    #[serde(default = "one")]
    pub stride: u64,
    /// Snapshots per chunk, written together (default 64): memory holds one chunk,
    /// `d_X * N * chunk` values.
    #[serde(default = "sixty_four")]
    pub chunk: u64,
    /// Lossless compression of the arrays, by name (default `zstd`: byte shuffle + zstd level
    /// 1; `zstd:LEVEL`, `zstd:LEVEL:1` without the shuffle, or `none`).
    #[serde(default = "zstd", with = "codec_name")]
    pub compression: revolve::storage::disk::Codec,
}

fn zstd() -> revolve::storage::disk::Codec {
    revolve::storage::disk::Codec::zstd()
}

/// A [`Codec`](revolve::storage::disk::Codec) written as its name (`zstd:3`, `none`), read
/// losslessly (a lossy name is an error).
pub(crate) mod codec_name {
    use revolve::storage::disk::Codec;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(c: &Codec, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&c.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Codec, D::Error> {
        let name = String::deserialize(d)?;
        Codec::parse_lossless(&name).map_err(serde::de::Error::custom)
    }
}

fn sixty_four() -> u64 {
    64
}

impl OutputConfig {
    /// Output to `path` every step, 64 snapshots per chunk.
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        OutputConfig {
            path: path.into(),
            stride: 1,
            chunk: 64,
            compression: revolve::storage::disk::Codec::zstd(),
        }
    }

    /// Check the values, naming the offending key (`output.stride`, ...).
    pub fn check(&self) -> crate::Result<()> {
        if self.path.as_os_str().is_empty() {
            return Err(crate::Error::config("output.path", "must not be empty"));
        }
        for (key, v) in [("output.stride", self.stride), ("output.chunk", self.chunk)] {
            if v == 0 {
                return Err(crate::Error::config(key, "must be >= 1, got 0"));
            }
        }
        if !self.compression.is_lossless() {
            return Err(crate::Error::config(
                "output.compression",
                format!(
                    "{} is lossy: use `none` or `zstd[:LEVEL]`",
                    self.compression.name()
                ),
            ));
        }
        Ok(())
    }
}

/// `[database]`: a crash-safe run database (see `sampler::db`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The run directory.
    pub path: std::path::PathBuf,
    /// Continue the run in `path` instead of starting a new one.
    #[serde(default)]
    pub restart: bool,
    /// Persist the states trajectories hold as checkpoint files in `path/states/` so a restart
    /// rebuilds them without replay (`false`: replay every trajectory from step 0). Absent:
    /// save states of at least [`crate::db::AUTO_SAVE_STATE_BYTES`] bytes, where replay is
    /// costly; small states replay faster than one file write per iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_states: Option<bool>,
}

/// `[tams]`: ensemble and splitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TamsConfig {
    /// Number of trajectories N (>= 2).
    pub ntrajectories: u64,
    /// Maximum number of splitting iterations (required for TAMS; ignored by Monte Carlo, which
    /// runs `ntrajectories` independent trajectories).
    #[serde(default)]
    pub nsplititer: Option<u64>,
    /// Level index k: the level is the k-th smallest maximum (1 <= l < N).
    #[serde(default = "one")]
    pub l: u64,
    /// Seed of all random streams (none: a fresh one from the OS, recorded in the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Wall-time limit in seconds, checked between splitting iterations (the estimate then uses the
    /// iterations performed; results become timing-dependent). Ignored by Monte Carlo.
    #[serde(default)]
    pub walltime: Option<f64>,
    /// What a stalled run does: `"error"` (default) or `"zero"` (extinction reported as an
    /// estimate of 0).
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_stall: crate::OnStall,
    /// Stop after the initial ensemble (a restart of the run database goes on).
    #[serde(default, skip_serializing_if = "is_default")]
    pub init_ensemble_only: bool,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn one() -> u64 {
    1
}

/// `[trajectory]`: horizon and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryConfig {
    /// Horizon T.
    pub end_time: f64,
    /// Time step dt.
    pub step_size: f64,
    /// Target set: score >= targetscore.
    pub targetscore: f64,
    /// Where states are kept (default `store_all`).
    #[serde(default)]
    pub policy: PolicyName,
    /// RAM for the checkpoints of the whole ensemble (`"2GiB"`, `"512MiB"`, `"1e9"` or a
    /// number of bytes); required by `uniform` and `schedule`.
    #[serde(default)]
    pub memory_budget: Option<ByteSize>,
    /// Directory receiving spill files beyond the budget (default: the system temp directory);
    /// a run-specific subdirectory is created and removed.
    #[serde(default)]
    pub checkpoint_dir: Option<std::path::PathBuf>,
    /// `uniform`: steps between checkpoints (default: what the budget allows).
    #[serde(default)]
    pub checkpoint_interval: Option<u64>,
    /// `schedule`: checkpoints per trajectory (default: what the budget allows).
    #[serde(default)]
    pub checkpoint_slots: Option<u64>,
    /// Codec of the spill files: `"none"` (default), `"zstd"` (byte shuffle + zstd, lossless),
    /// `"zstd:LEVEL"`. Lossy `"zfp:TOL"` is refused: spilled states are replayed bit for bit.
    #[serde(default)]
    pub spill_compression: Option<String>,
}

/// How trajectory states are kept (`[trajectory] policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// Every state (small states and testing only).
    #[default]
    StoreAll,
    /// Checkpoints every `checkpoint_interval` steps, under `memory_budget`.
    Uniform,
    /// Checkpoints placed by the `revolve` online planner, under `memory_budget`.
    Schedule,
}

/// A byte count written as a number or a string with a unit (`"2GiB"`, `"512 MiB"`, `"50GB"`,
/// `"1e9"`: the units of [`revolve::units`], shared with the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "toml::Value", into = "u64")]
pub struct ByteSize(pub u64);

impl From<ByteSize> for u64 {
    fn from(b: ByteSize) -> u64 {
        b.0
    }
}

impl TryFrom<toml::Value> for ByteSize {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<ByteSize, String> {
        match v {
            toml::Value::Integer(i) if i >= 1 => Ok(ByteSize(i as u64)),
            toml::Value::Integer(i) => Err(format!("must be at least 1 byte, got {i}")),
            toml::Value::String(s) => s.parse(),
            other => Err(format!("expected a size like \"2GiB\", got {other}")),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    /// The units of [`revolve::units::parse_size`]; at least 1 byte.
    fn from_str(text: &str) -> Result<ByteSize, String> {
        match revolve::units::parse_size(text) {
            Ok(0) => Err(format!("must be at least 1 byte, got {text:?}")),
            Ok(bytes) => Ok(ByteSize(bytes)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// `[runner]`: parallelism.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerConfig {
    /// Worker threads (default: all cores).
    #[serde(default)]
    pub nworkers: Option<u64>,
}

/// `[sampler]`: strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// Which strategy runs.
    #[serde(default)]
    pub strategy: StrategyName,
}

/// The strategies selectable in a config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyName {
    /// TAMS.
    #[default]
    Tams,
    /// Plain Monte Carlo.
    Montecarlo,
}

impl StrategyName {
    /// Name as written in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::Tams => "tams",
            StrategyName::Montecarlo => "montecarlo",
        }
    }
}

impl PolicyName {
    /// Name as written in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyName::StoreAll => "store_all",
            PolicyName::Uniform => "uniform",
            PolicyName::Schedule => "schedule",
        }
    }
}
