//! `retrace tams`: run TAMS or plain Monte Carlo from a TOML config.
//!
//! The JSON written by `--json` is bit-identical for the same config and seed, whatever the thread
//! count, except for the key `seconds` (the only timing-dependent key; skip it when comparing).

use super::output::{Outputs, Target};
use super::{CliError, CliResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sampler::Config;
use sampler::runner::{DbOptions, ErrorSource, Report, RunOptions, run_config, run_with_database};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[cfg(feature = "mpi")]
#[path = "tams_mpi.rs"]
mod tams_mpi;

/// Arguments of `retrace tams`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// TOML configuration ([tams], [trajectory], [runner], [sampler], [model], [database]);
    /// optional with --restart (the run's recorded config is used).
    #[arg(long, value_name = "FILE", required_unless_present = "restart")]
    pub(crate) config: Option<PathBuf>,
    /// Seed (replaces `tams.seed`); repeat r uses streams keyed by (seed, r). With neither, a
    /// fresh seed from the OS, printed on stderr (`seed: N`) and in the report; a restart
    /// keeps the recorded one.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Number of independent repeats (mean, standard error and IQR over them).
    #[arg(long, value_name = "K", default_value_t = 1)]
    repeats: u64,
    /// Write the full report as JSON to FILE (`-`: stdout, the summary then goes to stderr);
    /// same seed: bit-identical except the key `seconds`. FILE is checked before the run and
    /// written atomically after the summary is printed.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Worker threads (replaces `runner.nworkers`; default: all cores).
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Record the run in a new crash-safe run database in DIR (replaces `[database] path`).
    #[arg(long, value_name = "DIR", conflicts_with = "restart")]
    db: Option<PathBuf>,
    /// Continue the run recorded in DIR (killed, stopped by walltime, or out of iterations).
    #[arg(long, value_name = "DIR")]
    pub(crate) restart: Option<PathBuf>,
    /// Under mpirun/srun: seconds rank 0 waits for another rank's answer to one request before
    /// it ends the job naming that rank (default 600).
    #[arg(long, value_name = "SECS")]
    pub(crate) rank_timeout: Option<f64>,
}

pub(crate) fn run_error(e: sampler::Error) -> CliError {
    match e {
        sampler::Error::Config(_)
        | sampler::Error::Database(
            sampler::DbError::Incompatible { .. } | sampler::DbError::Locked { .. },
        ) => CliError::usage(e),
        // Not a run directory (or a new run where one exists): usage, as for `db`.
        e => super::db::db_error(e),
    }
}

/// What the arguments ask for: the config (`None`: the recorded one of a restart), the
/// database and the run options.
pub(crate) struct Prepared {
    pub(crate) config: Option<Config>,
    pub(crate) database: Option<DbOptions>,
    pub(crate) opts: RunOptions,
    /// Where `--json` goes (checked before the run).
    pub(crate) json: Option<Target>,
}

/// The most repeats of one `tams` command (each keeps its estimate and details in memory).
pub(crate) const MAX_REPEATS: u64 = 1_000_000;

/// Read the config and check the arguments.
pub(crate) fn prepare(args: &Args) -> Result<Prepared, CliError> {
    prepare_checking(args, true)
}

/// [`prepare`]; `outputs`: check the output files (by creating them: under MPI only rank 0,
/// which writes them, may, or ranks race on the same path).
pub(crate) fn prepare_checking(args: &Args, outputs: bool) -> Result<Prepared, CliError> {
    let config = match &args.config {
        Some(path) => Some(Config::from_file(path).map_err(CliError::usage)?),
        None => None,
    };
    let mut database = match (&args.db, &args.restart) {
        (Some(dir), _) => Some(DbOptions::new(dir.clone(), false)),
        (None, Some(dir)) => Some(DbOptions::new(dir.clone(), true)),
        (None, None) => config
            .as_ref()
            .and_then(|c| c.database.as_ref())
            .map(|d| DbOptions::new(d.path.clone(), d.restart)),
    };
    if database.is_some() && args.repeats != 1 {
        return Err(CliError::Usage(
            "--repeats: a run database records one run (got --repeats > 1)".into(),
        ));
    }
    if args.repeats == 0 {
        return Err(CliError::Usage("--repeats: must be >= 1, got 0".into()));
    }
    if args.repeats > MAX_REPEATS {
        return Err(CliError::Usage(format!(
            "--repeats: must be at most {MAX_REPEATS}, got {}",
            args.repeats
        )));
    }
    if args.threads == Some(0) {
        return Err(CliError::Usage("--threads: must be >= 1, got 0".into()));
    }
    if let Some(t) = args.threads {
        sampler::pipeline::check_threads("--threads", t as u64).map_err(CliError::usage)?;
    }
    if let Some(db) = &database
        && !db.restart
        && outputs
    {
        let flag = if args.db.is_some() {
            "--db"
        } else {
            "database.path"
        };
        check_new_run_dir(flag, &db.dir)?;
    }
    let json = match &args.json {
        Some(path) if outputs => {
            Some(Outputs::new(database.as_ref().map(|d| d.dir.as_path())).check("--json", path)?)
        }
        _ => None,
    };
    if let Some(db) = &mut database {
        db.seed = args.seed;
        db.threads = args.threads;
    }
    let opts = RunOptions {
        seed: args.seed,
        repeats: Some(args.repeats),
        threads: args.threads,
    };
    Ok(Prepared {
        config,
        database,
        opts,
        json,
    })
}

/// Check the directory of a new run database before the run: a directory (existing, or to be
/// created in an existing directory) where files can be created; a usage error naming `flag`
/// and the path otherwise.
pub(crate) fn check_new_run_dir(flag: &str, dir: &std::path::Path) -> Result<(), CliError> {
    let bad = |why: String| CliError::Usage(format!("{flag} {}: {why}", dir.display()));
    let place = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => dir.to_path_buf(),
        Ok(_) => {
            return Err(bad(
                "not a directory (a run database is a directory; give a new or empty one)".into(),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                return Err(bad(format!(
                    "directory {} does not exist",
                    parent.display()
                )));
            }
            parent
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    // The only reliable test of "may create files here" (permissions, read-only mounts).
    tempfile::Builder::new()
        .prefix(".retrace-")
        .tempfile_in(&place)
        .map_err(|e| bad(format!("cannot create files in {}: {e}", place.display())))?;
    Ok(())
}

/// A progress bar on stderr when it is a terminal (hidden otherwise or when `hidden`).
pub(crate) fn progress_bar(config: Option<&Config>, hidden: bool) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() && !hidden {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(config.map_or("tams", |c| c.sampler.strategy.as_str()));
    bar
}

/// Run `retrace tams` (over MPI ranks when built with `mpi` and started by an MPI launcher).
pub(crate) fn run(args: Args) -> CliResult {
    #[cfg(feature = "mpi")]
    if tams_mpi::launched() {
        return tams_mpi::run(&args);
    }
    if args.rank_timeout.is_some() {
        return Err(CliError::Usage(
            "--rank-timeout: only for runs started by mpirun or srun (with the `mpi` feature)"
                .into(),
        ));
    }
    let Prepared {
        config,
        mut database,
        mut opts,
        json,
    } = prepare(&args)?;
    let restart = database.as_ref().is_some_and(|d| d.restart);
    let given = args.seed.or(config.as_ref().and_then(|c| c.tams.seed));
    if given.is_none() && !restart {
        let seed = sampler::seed_from_os().map_err(CliError::failed)?;
        eprintln!("seed: {seed}");
        opts.seed = Some(seed);
        if let Some(db) = &mut database {
            db.seed = Some(seed);
        }
    }
    let bar = progress_bar(config.as_ref(), false);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let (report, config) = match database {
        Some(db) => run_with_database(config.as_ref(), &db, &progress).map_err(run_error)?,
        None => {
            let config = config.ok_or(CliError::Usage("--config: missing".into()))?;
            (
                run_config(&config, &opts, &progress).map_err(run_error)?,
                config,
            )
        }
    };
    bar.finish_and_clear();
    output(json.as_ref(), &config, &report)
}

/// Print the summary, then write the JSON report (if asked): a result is printed even if the
/// JSON file cannot be written.
pub(crate) fn output(json: Option<&Target>, config: &Config, report: &Report) -> CliResult {
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let Some(json) = json else {
        let mut out = super::stdout();
        summary(&mut out, config, report)?;
        return super::flush(out);
    };
    if json.is_stdout() {
        let mut err = std::io::stderr().lock();
        summary(&mut err, config, report)?;
    } else {
        let mut out = super::stdout();
        summary(&mut out, config, report)?;
        super::flush(out)?;
    }
    let mut value = serde_json::to_value(report).map_err(CliError::failed)?;
    if let Some(obj) = value.as_object_mut() {
        let mut echoed = config.clone();
        echoed.tams.seed = Some(report.seed);
        echoed.database = None;
        let cfg = serde_json::to_value(&echoed).map_err(CliError::failed)?;
        obj.insert("config".into(), cfg);
    }
    let text = serde_json::to_string_pretty(&value).map_err(CliError::failed)?;
    json.write((text + "\n").as_bytes())
}

fn summary(out: &mut impl Write, config: &Config, r: &Report) -> CliResult {
    let n = config.tams.ntrajectories;
    writeln!(
        out,
        "{} on {} (N = {n}, seed {}, {} repeat{})",
        r.strategy,
        r.model,
        r.seed,
        r.repeats,
        if r.repeats == 1 { "" } else { "s" }
    )?;
    writeln!(out, "estimate     {:.6e}", r.estimate)?;
    let source = match r.std_error_source {
        ErrorSource::Repeats => "over repeats",
        ErrorSource::Ideal => "ideal-case formula",
        ErrorSource::Binomial => "binomial",
    };
    match r.std_error {
        Some(se) => writeln!(out, "std error    {se:.3e} ({source})")?,
        None => writeln!(out, "std error    n/a ({source}; estimate is 0)")?,
    }
    if r.repeats > 1 {
        writeln!(
            out,
            "IQR          {:.3e} (q1 {:.6e}, median {:.6e}, q3 {:.6e})",
            r.iqr, r.summary.q1, r.summary.median, r.summary.q3
        )?;
    }
    writeln!(out, "iterations   {}", r.iterations)?;
    writeln!(out, "model steps  {}", r.model_steps)?;
    if r.replay_steps > 0 {
        writeln!(out, "replay steps {}", r.replay_steps)?;
    }
    let mut stops: Vec<(String, usize)> = Vec::new();
    for d in &r.details {
        let name = serde_json::to_value(d.stop)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match stops.iter_mut().find(|(s, _)| *s == name) {
            Some((_, c)) => *c += 1,
            None => stops.push((name, 1)),
        }
    }
    let stops: Vec<String> = stops.iter().map(|(s, c)| format!("{s} x{c}")).collect();
    writeln!(out, "stopped      {}", stops.join(", "))?;
    writeln!(out, "seconds      {:.3}", r.seconds)?;
    Ok(())
}
