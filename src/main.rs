//! The `retrace` command-line tool.

#![forbid(unsafe_code)]

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Adjoint checkpointing schedules and rare-event sampling for long time-stepping simulations.
#[derive(Parser)]
#[command(name = "retrace", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a checkpointing schedule, one action per line, then a summary line.
    Schedule(cli::schedule::Args),
    /// Run the built-in demo: a Burgers adjoint through Revolve, and a short TAMS run.
    Demo(cli::demo::Args),
    /// Run TAMS or Monte Carlo from a TOML config.
    Tams(cli::tams::Args),
    /// Inspect a TAMS run database: `db show DIR`, `db export DIR --csv FILE | --json FILE`.
    Db(cli::db::Args),
    /// Compare checkpointing strategies for a RAM/disk budget (table; --svg for the trade-off).
    Plan(cli::plan::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::clap_exit(e),
    };
    cli::signals::install();
    let result = match cli.command {
        Command::Schedule(args) => cli::schedule::run(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Tams(args) => cli::tams::run(args),
        Command::Db(args) => cli::db::run(args),
        Command::Plan(args) => cli::plan::run(args),
    };
    cli::finish(result)
}
