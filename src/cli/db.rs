//! `retrace db`: inspect a run database (works on a finished, a stopped, a killed and a running
//! run; read-only).

use super::output::{Outputs, Target};
use super::{CliError, CliResult};
use sampler::db::{IterationRow, RunReader, RunSummary, TrajectoryRow};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `retrace db`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the run summary and its iteration table.
    Show {
        /// The run directory.
        dir: PathBuf,
        /// Print only the last N iterations (default: all).
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
    /// Export the trajectories (scores per trajectory) or the iteration table.
    Export {
        /// The run directory.
        dir: PathBuf,
        /// Write CSV of `--table` to FILE (`-`: stdout; written atomically).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present_any = ["json", "parquet"]
        )]
        csv: Option<PathBuf>,
        /// Write `--table` as Parquet to FILE (`-`: stdout; written atomically): iterations,
        /// or the trajectories with their scores in long format (one row per trajectory and
        /// step). Needs the `parquet` feature (`cargo build --features parquet`).
        #[arg(long, value_name = "FILE")]
        parquet: Option<PathBuf>,
        /// Write everything (summary, iterations, trajectories with scores) as JSON to FILE
        /// (`-`: stdout; written atomically).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Which table `--csv` and `--parquet` write.
        #[arg(long, value_enum, default_value_t = Table::Trajectories)]
        table: Table,
    },
    /// Draw the run as an SVG figure: levels, running estimate, ensemble score traces, and
    /// killed/branched counts per iteration.
    Plot {
        /// The run directory.
        dir: PathBuf,
        /// Write the SVG to FILE (`-`: stdout; written atomically: a temporary file, then
        /// renamed).
        #[arg(long, value_name = "FILE")]
        svg: PathBuf,
    },
}

/// Tables of `retrace db export --csv` and `--parquet`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Table {
    /// One row per trajectory, scores space-separated in the last column (CSV); one row per
    /// trajectory and step (Parquet).
    Trajectories,
    /// One row per iteration.
    Iterations,
}

/// Check the `--parquet` output (a usage error in a build without the `parquet` feature).
fn check_parquet(outputs: &mut Outputs, path: &Path) -> Result<Target, CliError> {
    if cfg!(feature = "parquet") {
        outputs.check("--parquet", path)
    } else {
        Err(CliError::usage(
            "--parquet: this retrace was built without the `parquet` feature",
        ))
    }
}

#[cfg(feature = "parquet")]
fn parquet_bytes(
    table: Table,
    iterations: &[IterationRow],
    trajectories: &[TrajectoryRow],
) -> Result<Vec<u8>, CliError> {
    match table {
        Table::Iterations => super::parquet::iterations(iterations),
        Table::Trajectories => super::parquet::trajectories(trajectories),
    }
}

#[cfg(not(feature = "parquet"))]
fn parquet_bytes(_: Table, _: &[IterationRow], _: &[TrajectoryRow]) -> Result<Vec<u8>, CliError> {
    Err(CliError::usage(
        "--parquet: this retrace was built without the `parquet` feature",
    ))
}

/// Open the run in `dir`; a directory holding no run is a usage error (exit 2).
fn open(dir: &Path) -> Result<RunReader, CliError> {
    RunReader::open(dir).map_err(db_error)
}

/// A database error: usage (exit 2) when the directory holds no run (or, for a new run, holds
/// one already), else a failure (exit 1; a damaged or foreign `run.sqlite` included).
pub(crate) fn db_error(e: sampler::Error) -> CliError {
    match e {
        sampler::Error::Database(
            sampler::DbError::Missing { .. }
            | sampler::DbError::Exists { .. }
            | sampler::DbError::Leftovers { .. },
        ) => CliError::usage(e),
        e => CliError::failed(e),
    }
}

/// Run `retrace db`.
pub(crate) fn run(args: Args) -> CliResult {
    match args.command {
        Command::Show { dir, last } => {
            let db = open(&dir)?;
            // One snapshot: the summary and the table agree while a writer commits.
            let (s, its) = db
                .snapshot(|db| Ok((db.summary()?, db.iterations()?)))
                .map_err(db_error)?;
            let mut out = super::stdout();
            show(&mut out, &dir, &s, &its, last)?;
            super::flush(out)
        }
        Command::Export {
            dir,
            csv,
            parquet,
            json,
            table,
        } => {
            // Both outputs are checked before the run is read.
            let mut outputs = Outputs::default();
            let csv = match &csv {
                Some(p) => Some(outputs.check("--csv", p)?),
                None => None,
            };
            let json = match &json {
                Some(p) => Some(outputs.check("--json", p)?),
                None => None,
            };
            let parquet = match &parquet {
                Some(p) => Some(check_parquet(&mut outputs, p)?),
                None => None,
            };
            let db = open(&dir)?;
            // One snapshot for everything written.
            let (summary, iterations, trajectories) = db
                .snapshot(|db| Ok((db.summary()?, db.iterations()?, db.trajectories()?)))
                .map_err(db_error)?;
            if let Some(target) = csv {
                let mut text = Vec::new();
                match table {
                    Table::Iterations => iterations_csv(&mut text, &iterations)?,
                    Table::Trajectories => trajectories_csv(&mut text, &trajectories)?,
                }
                target.write(&text)?;
            }
            if let Some(target) = parquet {
                target.write(&parquet_bytes(table, &iterations, &trajectories)?)?;
            }
            if let Some(target) = json {
                let value = serde_json::json!({
                    "summary": summary,
                    "iterations": iterations,
                    "trajectories": trajectories,
                });
                let text = serde_json::to_string_pretty(&value).map_err(CliError::failed)? + "\n";
                target.write(text.as_bytes())?;
            }
            Ok(())
        }
        Command::Plot { dir, svg } => plot(&dir, &svg),
    }
}

/// `retrace db plot`: check FILE, read the run (read-only), then write the figure atomically.
fn plot(dir: &Path, file: &Path) -> CliResult {
    let target = Target::check("--svg", file)?;
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is not a run directory (no such directory)",
            dir.display()
        )));
    }
    // Exit codes as `db show` and `db export`: no run here 2, damaged or unreadable 1.
    let db = open(dir)?;
    let data = db.snapshot(retrace_plot::run::read).map_err(db_error)?;
    let text = retrace_plot::run::svg(&data, &status(&data.summary));
    target.write(text.as_bytes())
}

fn status(s: &RunSummary) -> String {
    if s.active {
        return "running (a writer holds the run directory)".into();
    }
    match s.sessions.last().and_then(|x| x.stop.as_deref()) {
        Some("walltime") => "stopped by walltime (restartable)".into(),
        Some("iteration_budget") => {
            "stopped at nsplititer (restartable with a larger budget)".into()
        }
        Some("init_ensemble_only") => {
            "stopped after the initial ensemble (init_ensemble_only; restartable)".into()
        }
        Some(stop) => format!("finished ({stop})"),
        None => "interrupted (killed or crashed; restartable)".into(),
    }
}

fn show(
    out: &mut impl Write,
    dir: &Path,
    s: &RunSummary,
    its: &[IterationRow],
    last: Option<usize>,
) -> CliResult {
    writeln!(out, "run          {}", dir.display())?;
    writeln!(out, "status       {}", status(s))?;
    writeln!(
        out,
        "model        {} (N = {}, l = {}, seed {}, nsplititer {})",
        s.model, s.ntrajectories, s.l, s.seed, s.nsplititer
    )?;
    match s.iterations {
        Some(q) => writeln!(out, "iterations   {q} committed")?,
        None => writeln!(out, "iterations   none (initial ensemble not committed)")?,
    }
    writeln!(out, "weight       {:.6e}", s.weight)?;
    writeln!(out, "reached      {} of {}", s.reached, s.ntrajectories)?;
    writeln!(
        out,
        "estimate     {:.6e} (weight x reached / N)",
        s.estimate
    )?;
    writeln!(out, "trajectories {} created", s.trajectories)?;
    writeln!(out, "model steps  {}", s.model_steps)?;
    let sessions: Vec<String> = s
        .sessions
        .iter()
        .map(|x| {
            format!(
                "{} -> {}",
                x.kind,
                x.stop.as_deref().unwrap_or("interrupted")
            )
        })
        .collect();
    writeln!(out, "sessions     {}", sessions.join(", "))?;
    for (k, old, new) in &s.config_changes {
        writeln!(out, "changed      {k}: {old} -> {new}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>9} {:>14} {:>5} {:>14} {:>7}  killed -> children (parents)",
        "iteration", "level", "K", "weight", "reached"
    )?;
    let skip = last.map_or(0, |n| its.len().saturating_sub(n));
    for r in &its[skip..] {
        let level = r.level.map_or("-".to_string(), |l| format!("{l:.6e}"));
        let pairs: Vec<String> = r
            .killed
            .iter()
            .zip(&r.children)
            .zip(&r.parents)
            .map(|((k, c), p)| format!("{k}->{c}({p})"))
            .collect();
        writeln!(
            out,
            "{:>9} {:>14} {:>5} {:>14.6e} {:>7}  {}",
            r.iteration,
            level,
            r.k,
            r.weight,
            r.reached,
            pairs.join(" ")
        )?;
    }
    Ok(())
}

fn list(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
}

fn iterations_csv(out: &mut impl Write, rows: &[IterationRow]) -> CliResult {
    writeln!(
        out,
        "iteration,level,k,weight,reached,model_steps,killed,parents,children,committed_at"
    )?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            r.iteration,
            r.level.map(|l| l.to_string()).unwrap_or_default(),
            r.k,
            r.weight,
            r.reached,
            r.model_steps,
            list(&r.killed),
            list(&r.parents),
            list(&r.children),
            r.committed_at
        )?;
    }
    Ok(())
}

fn trajectories_csv(out: &mut impl Write, rows: &[TrajectoryRow]) -> CliResult {
    writeln!(
        out,
        "id,slot,parent,branch_step,born,died,alive,max_score,reached,nscores,scores"
    )?;
    let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    for t in rows {
        let scores: Vec<String> = t.scores.iter().map(f64::to_string).collect();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            t.id,
            t.slot,
            opt(t.parent),
            opt(t.branch_step),
            t.born,
            opt(t.died),
            u8::from(t.died.is_none()),
            t.max_score,
            u8::from(t.reached),
            t.scores.len(),
            scores.join(" ")
        )?;
    }
    Ok(())
}
