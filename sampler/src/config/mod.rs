//! Run configuration: TOML with pyTAMS-compatible names, unknown keys rejected, every error naming
//! its key on one line.
//!
//! ```toml
//! [tams]
//! ntrajectories = 100   # N >= 2
//! nsplititer = 2000     # iteration budget (required for strategy "tams")
//! l = 1                 # level = l-th smallest maximum, 1 <= l < N
//! # seed = 0          # default: a fresh seed from the OS (printed, and in the report)
//! # on_stall = "zero"  # a stalled run reports 0 instead of failing
//! # init_ensemble_only = true  # stop after the initial ensemble
//! # walltime = 3600.0   # seconds; stops splitting (timing-dependent results)
//! [trajectory]
//! end_time = 10.0
//! step_size = 0.01
//! targetscore = 0.95
//! # policy = "uniform"        # store_all (default) | uniform | schedule
//! # memory_budget = "2GiB"    # RAM for checkpoints of the whole ensemble; spill beyond
//! # checkpoint_dir = "/tmp"   # where spill files go (a run-specific subdirectory)
//! # spill_compression = "zstd" # none (default) | zstd | zstd:LEVEL (lossless; zfp is refused)
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

mod diagnostics;
mod schema;
mod validate;

pub use schema::{
    ByteSize, Config, DatabaseConfig, OutputConfig, PolicyName, RunnerConfig, SamplerConfig,
    StrategyName, TamsConfig, TrajectoryConfig,
};

use crate::pipeline::{StorePolicy, StrategyKind};
use crate::simulate::Horizon;
use crate::strategy::RunParams;
use crate::{ConfigError, Error, Result};
use diagnostics::describe;
use std::time::Duration;

/// The largest configuration file read (4 MiB; real ones are a few hundred bytes).
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Read `path` as UTF-8, failing once it passes [`MAX_CONFIG_BYTES`].
fn read_capped(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} (a configuration has at most that many bytes)",
                revolve::units::format_size(MAX_CONFIG_BYTES)
            ),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
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
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| diagnostics::syntax(e, text))?;
        // Sections without defaults, named as sections (serde would report `tams.trajectory`);
        // an unknown section (a misspelt one) is reported first, by serde.
        const SECTIONS: [&str; 7] = [
            "tams",
            "trajectory",
            "runner",
            "sampler",
            "model",
            "database",
            "output",
        ];
        // `[[tams]]` (an array of tables) where a section `[tams]` is meant.
        if let Some((name, _)) = table
            .iter()
            .find(|(_, v)| v.as_array().is_some_and(|a| a.iter().any(|x| x.is_table())))
        {
            return Err(Error::config(
                name.as_str(),
                format!("[[{name}]] is an array of tables; write the section once as [{name}]"),
            ));
        }
        let known = table.keys().all(|k| SECTIONS.contains(&k.as_str()));
        for section in ["tams", "trajectory", "model"] {
            if known && !table.contains_key(section) {
                return Err(Error::config(
                    section,
                    format!("missing section [{section}]"),
                ));
            }
        }
        let config: Config = toml::from_str(text).map_err(|e| describe(e, text))?;
        config.validate()?;
        Ok(config)
    }

    /// Read, parse and validate a TOML file of at most [`MAX_CONFIG_BYTES`] (read with that cap:
    /// `/dev/zero` or a FIFO is refused without reading more).
    pub fn from_file(path: &std::path::Path) -> Result<Config> {
        let text = read_capped(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| {
            ConfigError::InFile {
                path: path.to_path_buf(),
                source: Box::new(e),
            }
            .into()
        })
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

    /// The codec of spill files (`[trajectory] spill_compression`; default none); an error
    /// names the key. A lossy codec (`zfp:...`) is refused: TAMS replays spilled states, which
    /// must come back bit for bit.
    pub fn spill_codec(&self) -> Result<revolve::storage::disk::Codec> {
        match &self.trajectory.spill_compression {
            None => Ok(revolve::storage::disk::Codec::None),
            Some(name) => revolve::storage::disk::Codec::parse_lossless(name).map_err(|e| {
                Error::config("trajectory.spill_compression", format!("{name:?}: {e}"))
            }),
        }
    }

    /// The strategy.
    pub fn strategy(&self) -> StrategyKind {
        match self.sampler.strategy {
            StrategyName::Tams => StrategyKind::Tams,
            StrategyName::Montecarlo => StrategyKind::MonteCarlo,
        }
    }

    /// Run parameters; an error names the key of a bad value (the fields are public, so a
    /// `Config` built in Rust may hold values [`Config::validate`] would refuse).
    pub fn params(&self) -> Result<RunParams> {
        let t = &self.tams;
        let mut p = RunParams::new(
            t.ntrajectories,
            t.l,
            t.nsplititer.unwrap_or(0),
            self.horizon(),
        )?;
        p.walltime = match t.walltime {
            None => None,
            Some(w) => Some(
                Duration::try_from_secs_f64(w)
                    .ok()
                    .filter(|_| w > 0.0)
                    .ok_or_else(|| {
                        Error::config("tams.walltime", format!("must be > 0, got {w}"))
                    })?,
            ),
        };
        p.on_stall = t.on_stall;
        p.init_ensemble_only = t.init_ensemble_only;
        Ok(p)
    }
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
            crate::models::BuiltinModel::Brownian(crate::models::Brownian::default())
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
                BASE.replace("[tams]", "[[tams]]"),
                "tams: [[tams]] is an array of tables; write the section once as [tams]",
            ),
            (
                BASE.replace("step_size = 0.01", "step_size = 5.0"),
                "trajectory.step_size: 5.0 is larger than trajectory.end_time 1.0",
            ),
            (
                BASE.replace("end_time = 1.0", "end_time = 1e-320")
                    .replace("step_size = 0.01", "step_size = 1e300"),
                "trajectory.step_size: 1e300 is larger than trajectory.end_time",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\nspill_compression = \"lz4\"",
                ),
                "trajectory.spill_compression: \"lz4\": ",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\ncheckpoint_dir = \"\"",
                ),
                "trajectory.checkpoint_dir: must not be empty",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\ncheckpoint_dir = \"/nonexistent-retrace/a/b\"",
                ),
                "trajectory.checkpoint_dir: /nonexistent-retrace/a/b: no such directory",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\ncheckpoint_dir = \"/proc/self\"",
                ),
                "trajectory.checkpoint_dir: /proc/self: cannot create files in it",
            ),
            (
                BASE.replace(
                    "targetscore = 3.0",
                    "targetscore = 3.0\ncheckpoint_dir = \"/proc/self/status\"",
                ),
                "trajectory.checkpoint_dir: /proc/self/status: not a directory",
            ),
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
                "trajectory.memory_budget: bad unit `parsecs` in `2 parsecs`",
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
            "targetscore = 3.0\npolicy = \"schedule\"\nmemory_budget = 1048576\ncheckpoint_dir = \"/tmp\"",
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

    #[test]
    fn spill_compression_names_a_codec() {
        use revolve::storage::disk::Codec;
        let c = Config::from_toml(BASE).unwrap();
        assert_eq!(c.spill_codec().unwrap(), Codec::None);
        let text = BASE.replace(
            "targetscore = 3.0",
            "targetscore = 3.0\nspill_compression = \"zstd:3\"",
        );
        let c = Config::from_toml(&text).unwrap();
        assert_eq!(
            c.spill_codec().unwrap(),
            Codec::ShuffleZstd {
                typesize: 8,
                level: 3
            }
        );
        // Lossy zfp is refused (with or without revolve's `zfp` feature): spills are replayed.
        for lossy in ["zfp:1e-6", "zfp:1e-12"] {
            let text = BASE.replace(
                "targetscore = 3.0",
                &format!("targetscore = 3.0\nspill_compression = \"{lossy}\""),
            );
            let e = Config::from_toml(&text)
                .and_then(|c| c.spill_codec())
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("trajectory.spill_compression:"), "{e}");
            assert!(e.contains("lossy"), "{e}");
        }
    }
}
