//! `retrace db paths`: the transition paths of a run database as a Zarr v3 group, regenerated
//! by exact replay (`sampler::output::export_paths`) for the built-in models.

use super::db::db_error;
use super::{CliError, CliResult};
use sampler::Model;
use sampler::models::ModelVisitor;
use sampler::output::{PathsOptions, PathsSummary, Select, export_paths};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `retrace db paths`.
#[derive(clap::Args)]
pub(crate) struct PathsArgs {
    /// The run directory.
    dir: PathBuf,
    /// The Zarr v3 group to write (a new directory).
    #[arg(long, value_name = "OUT.zarr")]
    zarr: PathBuf,
    /// Keep every K-th state (steps 0, K, 2K, ...).
    #[arg(long, value_name = "K", default_value_t = 1)]
    stride: u64,
    /// Which trajectories: reached (the final ensemble's transition paths), alive (the final
    /// ensemble), all (every trajectory ever made) or ids (`3,17,42`).
    #[arg(long, value_name = "WHICH", default_value = "reached", value_parser = parse_select)]
    select: Select,
    /// Worker threads (default: all cores; the output does not depend on it).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Lossless compression of the arrays: zstd (byte shuffle + zstd level 1), zstd:LEVEL,
    /// zstd:LEVEL:1 (no shuffle) or none.
    #[arg(long, value_name = "CODEC", default_value = "zstd", value_parser = parse_codec)]
    compression: sampler::output::Codec,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn parse_select(s: &str) -> Result<Select, String> {
    s.parse()
}

fn parse_codec(s: &str) -> Result<sampler::output::Codec, String> {
    sampler::output::Codec::parse_lossless(s).map_err(|e| e.to_string())
}

struct Export<'a> {
    args: &'a PathsArgs,
    bar: &'a indicatif::ProgressBar,
}

impl ModelVisitor for Export<'_> {
    type Output = sampler::Result<PathsSummary>;
    fn visit<M: Model>(self, model: &M) -> Self::Output
    where
        M::State: sampler::store::StateBytes + PartialEq + sampler::ArrayState,
    {
        let a = self.args;
        let opts = PathsOptions {
            stride: a.stride,
            select: a.select.clone(),
            state_shape: None,
            threads: a.threads,
            compression: a.compression,
        };
        let bar = self.bar;
        export_paths(model, &a.dir, &a.zarr, &opts, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    }
}

/// Run `retrace db paths`.
pub(crate) fn run(args: PathsArgs) -> CliResult {
    if args.stride == 0 {
        return Err(CliError::Usage("--stride: must be >= 1, got 0".into()));
    }
    if args.threads == Some(0) {
        return Err(CliError::Usage("--threads: must be >= 1, got 0".into()));
    }
    check_out(&args.zarr)?;
    let config = sampler::runner::recorded_config(&args.dir).map_err(|e| match e {
        sampler::Error::Database(_) => db_error(e),
        e => CliError::Failed(format!(
            "{}: {e} (a run of a user's model is exported from Rust, \
             sampler::output::export_paths, or Python, retrace.db.open(dir).paths)",
            args.dir.display()
        )),
    })?;
    let bar = super::tams::progress_bar(None, args.quiet);
    bar.set_message("paths");
    let summary = config
        .model
        .visit(Export {
            args: &args,
            bar: &bar,
        })
        .map_err(|e| match e {
            sampler::Error::Output(sampler::OutputError::Exists { .. })
            | sampler::Error::Output(sampler::OutputError::NoTrajectory { .. }) => {
                CliError::usage(e)
            }
            e => db_error(e),
        })?;
    bar.finish_and_clear();
    let mut out = super::stdout();
    writeln!(
        out,
        "{}: {} paths x {} times ({} states, {} steps replayed)",
        args.zarr.display(),
        summary.paths,
        summary.times,
        summary.states,
        summary.replayed_steps
    )?;
    super::flush(out)
}

/// The output must be new (or an empty directory), in a directory that exists.
fn check_out(out: &Path) -> CliResult {
    let empty_dir = out.is_dir() && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none());
    if out.exists() && !empty_dir {
        return Err(CliError::Usage(format!(
            "--zarr: {} exists already (choose a new path or remove it)",
            out.display()
        )));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(CliError::Usage(format!(
            "--zarr: {} is not a directory",
            parent.display()
        )));
    }
    Ok(())
}
