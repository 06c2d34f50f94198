//! Run configuration: TOML with pyTAMS-compatible names, unknown keys rejected, every error naming
//! its key on one line.
//!
//! ```toml
//! [tams]
//! ntrajectories = 100   # N >= 2
//! nsplititer = 2000     # iteration budget (required for strategy "tams")
//! l = 1                 # level = l-th smallest maximum, 1 <= l < N
//! seed = 0
//! # walltime = 3600.0   # seconds; stops splitting (timing-dependent results)
//! [trajectory]
//! end_time = 10.0
//! step_size = 0.01
//! targetscore = 0.95
//! # policy = "uniform"        # store_all (default) | uniform | schedule
//! # memory_budget = "2GiB"    # RAM for checkpoints of the whole ensemble; spill beyond
//! # checkpoint_dir = "/tmp"   # where spill files go (a run-specific subdirectory)
//! [runner]
//! nworkers = 2          # default: all cores
//! [sampler]
//! strategy = "tams"     # or "montecarlo"
//! [model]
//! name = "doublewell2d"
//! epsilon = 0.05
//! # [database]          # optional crash-safe run database (TAMS only)
//! # path = "run1"       # run directory
//! # restart = false     # true: continue the run in `path`
//! ```

use crate::models::BuiltinModel;
use crate::pipeline::{StorePolicy, StrategyKind};
use crate::simulate::Horizon;
use crate::strategy::RunParams;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// Seed of all random streams.
    #[serde(default)]
    pub seed: u64,
    /// Wall-time limit in seconds, checked between splitting iterations (the estimate then uses the
    /// iterations performed; results become timing-dependent). Ignored by Monte Carlo.
    #[serde(default)]
    pub walltime: Option<f64>,
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

/// A byte count written as a number or a string with a unit (`B`, `KiB`, `MiB`, `GiB`, `TiB`,
/// `kB`, `MB`, `GB`, `TB`).
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
            toml::Value::Integer(i) => u64::try_from(i)
                .map(ByteSize)
                .map_err(|_| format!("must be >= 0, got {i}")),
            toml::Value::String(s) => s.parse(),
            other => Err(format!("expected a size like \"2GiB\", got {other}")),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
            .unwrap_or(t.len());
        let (num, unit) = (t[..split].trim(), t[split..].trim());
        let mult: u64 = match unit {
            "" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "TiB" => 1 << 40,
            "kB" | "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "TB" => 1_000_000_000_000,
            _ => {
                return Err(format!(
                    "unknown unit `{unit}` in {text:?} (use B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)"
                ));
            }
        };
        let x: f64 = num
            .parse()
            .map_err(|_| format!("not a size: {text:?} (e.g. \"2GiB\")"))?;
        let bytes = x * mult as f64;
        if !(1.0..1.8e19).contains(&bytes) {
            return Err(format!("must be between 1 byte and 16 EiB, got {text:?}"));
        }
        Ok(ByteSize(bytes as u64))
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

impl std::str::FromStr for Config {
    type Err = Error;
    fn from_str(text: &str) -> Result<Config> {
        Config::from_toml(text)
    }
}

impl Config {
    /// Parse and validate a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Config> {
        if let Err(e) = text.parse::<toml::Table>() {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].lines().count().max(1)
            });
            let msg = e.message().trim().replace('\n', " ");
            return Err(Error::Toml(format!("line {line}: {msg}")));
        }
        let config: Config = toml::from_str(text).map_err(|e| describe(&e, text))?;
        config.validate()?;
        Ok(config)
    }

    /// Read, parse and validate a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(path.display().to_string(), format!("cannot read: {e}")))?;
        Config::from_toml(&text)
    }

    /// Check every value, naming the first offending key.
    pub fn validate(&self) -> Result<()> {
        if let Some(db) = &self.database {
            if db.path.as_os_str().is_empty() {
                return Err(Error::config("database.path", "must not be empty"));
            }
            if self.sampler.strategy != StrategyName::Tams {
                return Err(Error::config(
                    "database.path",
                    "a run database needs strategy \"tams\"",
                ));
            }
        }
        let t = &self.tams;
        if t.ntrajectories < 2 {
            return Err(Error::config(
                "tams.ntrajectories",
                format!("must be >= 2, got {}", t.ntrajectories),
            ));
        }
        if self.sampler.strategy == StrategyName::Tams && t.nsplititer.is_none() {
            return Err(Error::config(
                "tams.nsplititer",
                "missing (required for strategy \"tams\")",
            ));
        }
        if t.l < 1 || t.l >= t.ntrajectories {
            return Err(Error::config(
                "tams.l",
                format!(
                    "must be >= 1 and < tams.ntrajectories ({}), got {}",
                    t.ntrajectories, t.l
                ),
            ));
        }
        if let Some(w) = t.walltime
            && !(w.is_finite() && w > 0.0)
        {
            return Err(Error::config(
                "tams.walltime",
                format!("must be > 0, got {w}"),
            ));
        }
        let tr = &self.trajectory;
        if !(tr.step_size.is_finite() && tr.step_size > 0.0) {
            return Err(Error::config(
                "trajectory.step_size",
                format!("must be > 0, got {}", tr.step_size),
            ));
        }
        if !(tr.end_time.is_finite() && tr.end_time > 0.0) {
            return Err(Error::config(
                "trajectory.end_time",
                format!("must be > 0, got {}", tr.end_time),
            ));
        }
        if tr.end_time / tr.step_size > 1e15 {
            return Err(Error::config(
                "trajectory.end_time",
                format!(
                    "{} / step_size {} is more than 1e15 steps",
                    tr.end_time, tr.step_size
                ),
            ));
        }
        if !tr.targetscore.is_finite() {
            return Err(Error::config(
                "trajectory.targetscore",
                format!("must be finite, got {}", tr.targetscore),
            ));
        }
        if tr.policy != PolicyName::StoreAll && tr.memory_budget.is_none() {
            return Err(Error::config(
                "trajectory.memory_budget",
                format!("missing (required for policy \"{}\")", tr.policy.as_str()),
            ));
        }
        if tr.checkpoint_interval == Some(0) {
            return Err(Error::config(
                "trajectory.checkpoint_interval",
                "must be >= 1, got 0",
            ));
        }
        if tr.checkpoint_slots == Some(0) {
            return Err(Error::config(
                "trajectory.checkpoint_slots",
                "must be >= 1, got 0",
            ));
        }
        if self.runner.nworkers == Some(0) {
            return Err(Error::config("runner.nworkers", "must be >= 1, got 0"));
        }
        self.model.validate()
    }

    /// The horizon of every trajectory.
    pub fn horizon(&self) -> Horizon {
        let tr = &self.trajectory;
        Horizon::new(tr.end_time, tr.step_size, tr.targetscore)
    }

    /// Where states are kept (`[trajectory] policy`, `memory_budget`, `checkpoint_*`).
    pub fn store_policy(&self) -> StorePolicy {
        let tr = &self.trajectory;
        let Some(ByteSize(budget)) = tr.memory_budget else {
            return StorePolicy::StoreAll;
        };
        let spill_dir = tr.checkpoint_dir.clone();
        match tr.policy {
            PolicyName::StoreAll => StorePolicy::StoreAll,
            PolicyName::Uniform => StorePolicy::Uniform {
                budget,
                interval: tr.checkpoint_interval,
                spill_dir,
            },
            PolicyName::Schedule => StorePolicy::Schedule {
                budget,
                slots: tr.checkpoint_slots,
                spill_dir,
            },
        }
    }

    /// The strategy.
    pub fn strategy(&self) -> StrategyKind {
        match self.sampler.strategy {
            StrategyName::Tams => StrategyKind::Tams,
            StrategyName::Montecarlo => StrategyKind::MonteCarlo,
        }
    }

    /// Run parameters.
    pub fn params(&self) -> RunParams {
        RunParams {
            ntrajectories: self.tams.ntrajectories,
            nsplititer: self.tams.nsplititer.unwrap_or(0),
            k: self.tams.l,
            walltime: self.tams.walltime.map(Duration::from_secs_f64),
            horizon: self.horizon(),
        }
    }
}

/// Turn a TOML/serde error into one line `table.key: problem`.
fn describe(e: &toml::de::Error, text: &str) -> Error {
    let msg = e.message().trim().replace('\n', " ");
    let table = e
        .span()
        .map(|s| table_at(text, s.start))
        .unwrap_or_default();
    let quoted = msg.split('`').nth(1).map(str::to_owned);
    let join = |k: &str| {
        if table.is_empty() {
            k.to_owned()
        } else {
            format!("{table}.{k}")
        }
    };
    if let Some(rest) = msg.strip_prefix("unknown field") {
        let key = quoted.unwrap_or_default();
        let expected = rest.split_once(", ").map(|x| x.1).unwrap_or("");
        let name = if key == table { key } else { join(&key) };
        return Error::config(name, format!("unknown key ({expected})"));
    }
    if msg.starts_with("missing field") {
        let key = quoted.unwrap_or_default();
        return Error::config(join(&key), "missing");
    }
    if msg.starts_with("unknown variant") && table == "model" {
        return Error::config(
            "model.name",
            format!(
                "unknown model {} (expected one of {})",
                quoted.map(|q| format!("`{q}`")).unwrap_or_default(),
                crate::models::NAMES.join(", ")
            ),
        );
    }
    let mut key = e.span().and_then(|s| key_at(text, s.start));
    if key.is_none() && table == "model" {
        key = model_culprit(text);
    }
    match key {
        Some(k) => Error::config(join(&k), msg),
        None if !table.is_empty() => Error::config(table, msg),
        None => Error::Toml(msg),
    }
}

/// The `[table]` header in force at byte `pos` (a span starting on a header line is that table).
fn table_at(text: &str, pos: usize) -> String {
    let pos = pos.min(text.len());
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    text[..line_end]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split(']').next())
                .map(|t| t.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The `[model]` parameter whose value fails to deserialize (serde's tagged enums lose spans).
fn model_culprit(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let model = doc.get("model")?.as_table()?;
    let name = model.get("name")?.clone();
    model.iter().find_map(|(k, v)| {
        if k == "name" {
            return None;
        }
        let mut one = toml::Table::new();
        one.insert("name".into(), name.clone());
        one.insert(k.clone(), v.clone());
        one.try_into::<BuiltinModel>().is_err().then(|| k.clone())
    })
}

/// The key of the `key = value` line containing byte `pos`.
fn key_at(text: &str, pos: usize) -> Option<String> {
    let pos = pos.min(text.len());
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (k, _) = line.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.starts_with('[')).then(|| k.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[tams]\nntrajectories = 10\nnsplititer = 100\n[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

    fn err(text: &str) -> String {
        Config::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn valid_config_parses_with_defaults() {
        let c = Config::from_toml(BASE).unwrap();
        assert_eq!(c.tams.l, 1);
        assert_eq!(c.sampler.strategy, StrategyName::Tams);
        assert_eq!(c.horizon().nsteps, 100);
        assert_eq!(
            c.model,
            BuiltinModel::Brownian(crate::models::Brownian::default())
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                BASE.replace("ntrajectories = 10", "ntrajectories = 1"),
                "tams.ntrajectories: must be >= 2, got 1",
            ),
            (
                BASE.replace("ntrajectories = 10", "ntrajectorie = 10"),
                "tams.ntrajectorie: unknown key",
            ),
            (
                BASE.replace("end_time = 1.0\n", ""),
                "trajectory.end_time: missing",
            ),
            (
                BASE.replace("step_size = 0.01", "step_size = \"a\""),
                "trajectory.step_size: invalid type",
            ),
            (
                BASE.replace("step_size = 0.01", "step_size = 0.0"),
                "trajectory.step_size: must be > 0",
            ),
            (
                BASE.replace("\"brownian\"", "\"foo\""),
                "model.name: unknown model `foo`",
            ),
            (
                BASE.replace("\"brownian\"", "\"brownian\"\nbogus = 1"),
                "model.bogus: unknown key",
            ),
            (
                BASE.replace("\"brownian\"", "\"brownian\"\ndrift = \"x\""),
                "model.drift: invalid type",
            ),
            (
                BASE.replace("name = \"brownian\"\n", "drift = 1.0\n"),
                "model.name: missing",
            ),
            (BASE.replace("[model]", "[modle]"), "modle: unknown key"),
            (
                BASE.replace("ntrajectories = 10", "ntrajectories = -3"),
                "tams.ntrajectories: invalid value",
            ),
            (
                BASE.replace("ntrajectories = 10", "ntrajectories = 10\nl = 10"),
                "tams.l: must be >= 1 and < tams.ntrajectories (10), got 10",
            ),
            (
                BASE.replace("nsplititer = 100\n", ""),
                "tams.nsplititer: missing",
            ),
            (
                format!("{BASE}[runner]\nnworkers = 0\n"),
                "runner.nworkers: must be >= 1",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\npolicy = \"uniform\"",
                ),
                "trajectory.memory_budget: missing",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\nmemory_budget = \"2 parsecs\"",
                ),
                "trajectory.memory_budget: unknown unit",
            ),
            (
                BASE.replace("targetscore = 3.0", "targetscore = 3.0\npolicy = \"lru\""),
                "trajectory.policy: unknown variant",
            ),
            (
                format!("{BASE}epsilon = -1.0\n").replace("brownian", "ou"),
                "model.epsilon: must be > 0",
            ),
        ];
        for (text, want) in cases {
            let got = err(&text);
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
            assert!(!got.contains('\n'));
        }
    }

    #[test]
    fn byte_sizes_parse() {
        for (text, want) in [
            ("2GiB", 2u64 << 30),
            ("512 MiB", 512 << 20),
            ("1e9", 1_000_000_000),
            ("1.5GB", 1_500_000_000),
            ("4096", 4096),
        ] {
            assert_eq!(text.parse::<ByteSize>().unwrap().0, want, "{text}");
        }
        assert!("-1GiB".parse::<ByteSize>().is_err());
        assert!("GiB".parse::<ByteSize>().is_err());
        let c = Config::from_toml(&BASE.replace(
            "targetscore = 3.0",
            "targetscore = 3.0\npolicy = \"schedule\"\nmemory_budget = 1048576\ncheckpoint_dir = \"/tmp/x\"",
        ))
        .unwrap();
        assert_eq!(c.trajectory.policy, PolicyName::Schedule);
        assert_eq!(c.trajectory.memory_budget, Some(ByteSize(1 << 20)));
    }

    #[test]
    fn montecarlo_needs_no_iteration_budget() {
        let text =
            BASE.replace("nsplititer = 100\n", "") + "[sampler]\nstrategy = \"montecarlo\"\n";
        assert_eq!(
            Config::from_toml(&text).unwrap().sampler.strategy,
            StrategyName::Montecarlo
        );
    }

    #[test]
    fn database_section() {
        let c = Config::from_toml(&format!("{BASE}[database]\npath = \"run\"\n")).unwrap();
        let db = c.database.unwrap();
        assert_eq!((db.path.to_str(), db.restart), (Some("run"), false));
        assert!(
            err(&format!("{BASE}[database]\npath = \"r\"\nrestrat = true\n"))
                .starts_with("database.restrat: unknown key")
        );
        assert!(err(&format!("{BASE}[database]\npath = \"\"\n")).starts_with("database.path:"));
        let mc = format!("{BASE}[sampler]\nstrategy = \"montecarlo\"\n[database]\npath = \"r\"\n");
        assert!(err(&mc).starts_with("database.path: a run database needs strategy"));
    }
}
