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

mod diagnostics;
mod schema;
mod validate;

pub use schema::{
    ByteSize, Config, DatabaseConfig, PolicyName, RunnerConfig, SamplerConfig, StrategyName,
    TamsConfig, TrajectoryConfig,
};

use crate::pipeline::{StorePolicy, StrategyKind};
use crate::simulate::Horizon;
use crate::strategy::RunParams;
use crate::{ConfigError, Error, Result};
use diagnostics::describe;
use std::time::Duration;

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
        const SECTIONS: [&str; 6] = [
            "tams",
            "trajectory",
            "runner",
            "sampler",
            "model",
            "database",
        ];
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

    /// Read, parse and validate a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
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
