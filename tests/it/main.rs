//! The root package's integration tests (the CLI and cross-crate behaviour), one test binary:
//! a module per behaviour, helpers in `common`.

mod common;

mod cli_bounds;
mod cli_config_checks;
mod cli_db;
mod cli_db_copies;
#[cfg(feature = "parquet")]
mod cli_db_parquet;
#[cfg(feature = "zarr")]
mod cli_db_paths;
mod cli_db_plot;
mod cli_demo;
mod cli_limits;
mod cli_messages;
mod cli_mixed;
mod cli_output;
mod cli_output_paths;
mod cli_plan;
mod cli_schedule;
mod cli_schedule_more;
mod cli_seeds;
mod cli_signals;
mod cli_tams;
mod cli_warnings;
mod db_errors;
mod db_kill_restart;
mod db_messages;
mod db_read_only;
mod db_rows_checked;
mod docs_links;
