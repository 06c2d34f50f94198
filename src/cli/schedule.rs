//! `retrace schedule KIND ...`: print a checkpointing schedule, one action per line in the text
//! format, then the summary line computed by the validator running alongside (streaming).

use super::{CliError, CliResult};
use revolve::schedule::online;
use revolve::{Action, Binomial, Capacity, Level, Machine, Mixed, Multistage, Rule};
use std::io::Write;

/// Arguments of `retrace schedule`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    kind: Kind,
}

/// The schedules `retrace schedule` prints.
#[derive(clap::Subcommand)]
enum Kind {
    /// The optimal offline binomial schedule (Revolve), with the fewest stores among optimal ones.
    Binomial(BinomialArgs),
    /// The online schedule: the number of steps is revealed only when the forward sweep ends.
    Online(OnlineArgs),
    /// RAM and disk checkpoints: the optimal forward count T(n, R + D), few disk accesses.
    Multistage(MultistageArgs),
    /// Units holding a state or one recorded step's adjoint data (`record K LEVEL`, whose
    /// reverse takes no forward step): fewest forward steps (Maddison 2024).
    Mixed(MixedArgs),
}

/// Arguments of `retrace schedule mixed`.
#[derive(clap::Args)]
struct MixedArgs {
    /// Steps to reverse (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Checkpoint units, each holding a state or a recorded step (at least 1; more than
    /// steps - 1 are never used). Builds a table of 8 * steps * (snaps - 1) bytes.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    snaps: u64,
    /// Keep the units on disk instead of in RAM.
    #[arg(long)]
    disk: bool,
    /// Print only the summary line.
    #[arg(long)]
    summary: bool,
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

/// Arguments of `retrace schedule online`.
#[derive(clap::Args)]
struct OnlineArgs {
    /// Steps the forward sweep turns out to take (at least 1); the planner learns it at the end.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// RAM checkpoint slots, counting the one holding the initial state (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    snaps: u64,
    /// Print only the summary line.
    #[arg(long)]
    summary: bool,
}

/// Arguments of `retrace schedule multistage`.
#[derive(clap::Args)]
struct MultistageArgs {
    /// Steps to reverse (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// RAM checkpoint slots (the slot holding the initial state counts; RAM + disk >= 1).
    #[arg(long)]
    ram: u64,
    /// Disk checkpoint slots.
    #[arg(long)]
    disk: u64,
    /// Place checkpoints by the exact dynamic programme (fewest disk writes, then reads; up to
    /// 10^4 steps) instead of the O(R + D)-memory rule.
    #[arg(long)]
    exact: bool,
    /// Print only the summary line.
    #[arg(long)]
    summary: bool,
}

/// Run `retrace schedule`.
pub(crate) fn run(args: Args) -> CliResult {
    match args.kind {
        Kind::Binomial(a) => {
            // More slots than steps change nothing (every step can be kept): cap them, so
            // counts like T(n, s) stay within 64 bits for any --snaps.
            let snaps = a.snaps.min(a.steps);
            let schedule =
                Binomial::new(a.steps, snaps).map_err(|e| flags_error(&a.steps_snaps(), e))?;
            print(a.steps, Capacity::ram(snaps), a.snaps, schedule, a.summary)
        }
        Kind::Online(a) => {
            let schedule = online::simulate(a.steps, a.snaps)
                .map_err(|e| flags_error(&format!("--steps {} --snaps {}", a.steps, a.snaps), e))?;
            print(
                a.steps,
                Capacity::ram(a.snaps),
                a.snaps,
                schedule,
                a.summary,
            )
        }
        Kind::Mixed(a) => {
            let level = if a.disk { Level::Disk } else { Level::Ram };
            let schedule = Mixed::new(a.steps, a.snaps)
                .map_err(|e| flags_error(&format!("--steps {} --snaps {}", a.steps, a.snaps), e))?
                .at_level(level);
            let capacity = revolve::Schedule::capacity(&schedule);
            print(a.steps, capacity, a.snaps, schedule, a.summary)
        }
        Kind::Multistage(a) => {
            // Slots beyond the step count change nothing: RAM first, then disk, capped at
            // `steps` in all (so R + D fits in 64 bits for any arguments).
            let ram = a.ram.min(a.steps);
            let disk = a.disk.min(a.steps - ram);
            let schedule = if a.exact {
                Multistage::exact(a.steps, ram, disk)
            } else {
                Multistage::new(a.steps, ram, disk)
            }
            .map_err(|e| {
                flags_error(
                    &format!("--steps {} --ram {} --disk {}", a.steps, a.ram, a.disk),
                    e,
                )
            })?;
            let capacity = Capacity { ram, disk };
            print(
                a.steps,
                capacity,
                a.ram.saturating_add(a.disk),
                schedule,
                a.summary,
            )
        }
    }
}

impl BinomialArgs {
    fn steps_snaps(&self) -> String {
        format!("--steps {} --snaps {}", self.steps, self.snaps)
    }
}

/// A schedule refused for its arguments: a usage error naming the flags and their values.
fn flags_error(flags: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{flags}: {e}"))
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
    let broke = |machine: &Machine, action: Action, rule: Rule| {
        // Actions executed so far = the index of the offending one.
        let index = machine.stats().actions;
        CliError::failed(format_args!(
            "internal: schedule broke a rule at action {index} (`{action}`): {rule}"
        ))
    };
    // Two loops, so the summary-only one stays tight (no enumerate, no output branch).
    if summary_only {
        for action in actions {
            if let Err(rule) = machine.execute(action) {
                return Err(broke(&machine, action, rule));
            }
        }
    } else {
        for action in actions {
            if let Err(rule) = machine.execute(action) {
                return Err(broke(&machine, action, rule));
            }
            writeln!(out, "{action}")?;
        }
    }
    let stats = machine
        .finish()
        .map_err(|rule| CliError::failed(format_args!("internal: schedule incomplete: {rule}")))?;
    writeln!(out, "{}", stats.summary_line(snaps))?;
    super::flush(out)
}
