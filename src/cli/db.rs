//! `retrace db`: inspect a run database (works on a finished, a stopped, a killed and a running
//! run; read-only).

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
        /// Write CSV of `--table` to FILE (`-`: stdout).
        #[arg(long, value_name = "FILE", required_unless_present = "json")]
        csv: Option<PathBuf>,
        /// Write everything (summary, iterations, trajectories with scores) as JSON to FILE (`-`: stdout).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Which table `--csv` writes.
        #[arg(long, value_enum, default_value_t = Table::Trajectories)]
        table: Table,
    },
    /// Draw the run as an SVG figure: levels, running estimate, ensemble score traces, and
    /// killed/branched counts per iteration.
    Plot {
        /// The run directory.
        dir: PathBuf,
        /// Write the SVG to FILE (written atomically: a temporary file, then renamed).
        #[arg(long, value_name = "FILE")]
        svg: PathBuf,
    },
}

/// Tables of `retrace db export --csv`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Table {
    /// One row per trajectory, scores space-separated in the last column.
    Trajectories,
    /// One row per iteration.
    Iterations,
}

fn open(dir: &Path) -> Result<RunReader, CliError> {
    RunReader::open(dir).map_err(CliError::failed)
}

/// Run `retrace db`.
pub(crate) fn run(args: Args) -> CliResult {
    match args.command {
        Command::Show { dir, last } => {
            let db = open(&dir)?;
            let s = db.summary().map_err(CliError::failed)?;
            let its = db.iterations().map_err(CliError::failed)?;
            let mut out = super::stdout();
            show(&mut out, &dir, &s, &its, last)?;
            super::flush(out)
        }
        Command::Export {
            dir,
            csv,
            json,
            table,
        } => {
            let db = open(&dir)?;
            if let Some(path) = csv {
                let mut text = Vec::new();
                match table {
                    Table::Iterations => {
                        iterations_csv(&mut text, &db.iterations().map_err(CliError::failed)?)?
                    }
                    Table::Trajectories => {
                        trajectories_csv(&mut text, &db.trajectories().map_err(CliError::failed)?)?
                    }
                }
                write_to(&path, &text)?;
            }
            if let Some(path) = json {
                let value = serde_json::json!({
                    "summary": db.summary().map_err(CliError::failed)?,
                    "iterations": db.iterations().map_err(CliError::failed)?,
                    "trajectories": db.trajectories().map_err(CliError::failed)?,
                });
                let text = serde_json::to_string_pretty(&value).map_err(CliError::failed)? + "\n";
                write_to(&path, text.as_bytes())?;
            }
            Ok(())
        }
        Command::Plot { dir, svg } => plot(&dir, &svg),
    }
}

/// `retrace db plot`: read the run (read-only), then write the figure atomically.
fn plot(dir: &Path, file: &Path) -> CliResult {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(CliError::Usage(format!(
            "cannot write {}: directory {} does not exist",
            file.display(),
            parent.display()
        )));
    }
    if file.is_dir() {
        return Err(CliError::Usage(format!(
            "cannot write {}: it is a directory",
            file.display()
        )));
    }
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is not a run directory (no such directory)",
            dir.display()
        )));
    }
    let db = RunReader::open(dir).map_err(CliError::usage)?;
    let data = retrace::run_plot::read(&db).map_err(CliError::failed)?;
    let text = retrace::run_plot::svg(&data, &status(&data.summary));
    let cannot =
        |e: std::io::Error| CliError::Failed(format!("cannot write {}: {e}", file.display()));
    // The temporary file lives next to FILE, so the rename is atomic; on any error it is removed.
    let mut tmp = tempfile::Builder::new()
        .prefix(".retrace-plot-")
        .suffix(".svg.tmp")
        .tempfile_in(parent)
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", file.display())))?;
    #[cfg(unix)]
    {
        // tempfile creates 0600; a figure is as readable as any other written file.
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(perms).map_err(cannot)?;
    }
    tmp.write_all(text.as_bytes()).map_err(cannot)?;
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(file).map_err(|e| cannot(e.error))?;
    Ok(())
}

fn write_to(path: &Path, bytes: &[u8]) -> CliResult {
    if path.as_os_str() == "-" {
        let mut out = super::stdout();
        out.write_all(bytes)?;
        return super::flush(out);
    }
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
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
