//! Validation of the `[database]` config section.

use crate::config::{Config, StrategyName};
use crate::{Error, Result};

impl Config {
    /// Check `[database]`, naming the offending key.
    pub(crate) fn validate_database(&self) -> Result<()> {
        let Some(db) = &self.database else {
            return Ok(());
        };
        if db.path.as_os_str().is_empty() {
            return Err(Error::config("database.path", "must not be empty"));
        }
        if self.sampler.strategy != StrategyName::Tams {
            return Err(Error::config(
                "database.path",
                "a run database needs strategy \"tams\"",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    const BASE: &str = "[tams]\nntrajectories = 10\nnsplititer = 100\n[trajectory]\nend_time = 1.0\nstep_size = 0.01\ntargetscore = 3.0\n[model]\nname = \"brownian\"\n";

    fn err(text: &str) -> String {
        Config::from_toml(text).unwrap_err().to_string()
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
