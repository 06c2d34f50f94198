//! `retrace schedule KIND ...`: print a checkpointing schedule, one action per line in the text
//! format, then the summary line computed by the validator running alongside (streaming).

use super::{CliError, CliResult};
use revolve::{Action, Binomial, Capacity, Machine};
use std::io::Write;

/// Arguments of `retrace schedule`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
}

/// The schedules `retrace schedule` prints.
#[derive(clap::Subcommand)]
enum Kind {
    /// The optimal offline binomial schedule (Revolve), with the fewest stores among optimal ones.
    Binomial(BinomialArgs),
}

/// Arguments of `retrace schedule binomial`.
#[derive(clap::Args)]
struct BinomialArgs {
    /// Steps to reverse (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// RAM checkpoint slots, counting the one holding the initial state (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    snaps: u64,
    /// Print only the summary line.
    #[arg(long)]
    summary: bool,
}

/// Run `retrace schedule`.
pub fn run(args: Args) -> CliResult {
    match args.kind {
        Kind::Binomial(a) => {
            let schedule = Binomial::new(a.steps, a.snaps).map_err(CliError::usage)?;
            print(
                a.steps,
                Capacity::ram(a.snaps),
                a.snaps,
                schedule,
                a.summary,
            )
        }
    }
}

/// Stream `actions` to stdout (unless `summary_only`) while validating them, then the summary.
fn print(
    steps: u64,
    capacity: Capacity,
    snaps: u64,
    actions: impl Iterator<Item = Action>,
    summary_only: bool,
) -> CliResult {
    let mut machine = Machine::new(steps, capacity);
    let mut out = super::stdout();
    for (index, action) in actions.enumerate() {
        machine.execute(action).map_err(|rule| {
            CliError::failed(format_args!(
                "internal: schedule broke a rule at action {index} (`{action}`): {rule}"
            ))
        })?;
        if !summary_only {
            writeln!(out, "{action}")?;
        }
    }
    let stats = machine
        .finish()
        .map_err(|rule| CliError::failed(format_args!("internal: schedule incomplete: {rule}")))?;
    writeln!(out, "{}", stats.summary_line(snaps))?;
    super::flush(out)
}
