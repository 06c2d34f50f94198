//! `retrace tams` under an MPI launcher (`mpirun -n P`, `srun`): the same arguments and
//! config; rank 0 coordinates, opens the database and prints, every rank computes. Argument
//! and config errors are printed once, by rank 0, and every rank exits with rank 0's code.

use super::{
    Args, CliError, CliResult, Prepared, output, prepare_checking, progress_bar, run_error,
};
use mpi::collective::SystemOperation;
use mpi::traits::*;
use sampler::Config;
use sampler::mpi::{abort_on_panic, initialize};
use std::time::Duration;

/// Whether an MPI launcher started this process (OpenMPI, PMIx or PMI environments).
pub(crate) fn launched() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

fn exit_code(r: &CliResult) -> u8 {
    match r {
        Ok(()) | Err(CliError::BrokenPipe) => 0,
        Err(CliError::Usage(_)) => 2,
        Err(CliError::Failed(_)) => 1,
    }
}

/// Run `retrace tams` as one rank of the job: rank 0 prints its error, if any; every rank then
/// exits with rank 0's exit code.
pub(crate) fn run(args: &Args) -> CliResult {
    abort_on_panic();
    let universe = initialize().map_err(CliError::failed)?;
    let world = universe.world();
    let rank = world.rank();
    let result = distributed(args, &world);
    let mut code = exit_code(&result);
    if rank == 0 {
        // Printed before the others may exit (the launcher may then end this rank too).
        super::super::finish(result);
    }
    world.process_at_rank(0).broadcast_into(&mut code);
    drop(universe);
    std::process::exit(code.into())
}

/// The effective config: the file's (every rank parsed it), or for a restart without
/// `--config` the recorded one, read by rank 0 and sent to the others.
fn agreed_config<C: Communicator>(
    world: &C,
    given: Option<Config>,
    args: &Args,
) -> Result<Config, CliError> {
    if let Some(c) = given {
        return Ok(c);
    }
    let root = world.process_at_rank(0);
    let mut text = Vec::new();
    let mut mine = Err(CliError::Usage("--config: missing".into()));
    if world.rank() == 0 {
        mine = match &args.restart {
            Some(dir) => sampler::runner::recorded_config(dir).map_err(run_error),
            None => Err(CliError::Usage("--config: missing".into())),
        };
        text = match &mine {
            Ok(c) => serde_json::to_vec(c).unwrap_or_default(),
            Err(CliError::Usage(m) | CliError::Failed(m)) => m.clone().into_bytes(),
            Err(CliError::BrokenPipe) => Vec::new(),
        };
    }
    let mut ok = u8::from(mine.is_ok());
    let mut len = text.len() as u64;
    root.broadcast_into(&mut ok);
    root.broadcast_into(&mut len);
    text.resize(len as usize, 0);
    root.broadcast_into(&mut text[..]);
    if world.rank() == 0 {
        return mine;
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    if ok == 0 {
        return Err(CliError::Usage(text));
    }
    serde_json::from_str(&text).map_err(CliError::failed)
}

fn distributed<C: Communicator>(args: &Args, world: &C) -> CliResult {
    let rank = world.rank();
    // Every rank reads the config; if any rank cannot, no rank runs.
    // Only rank 0 writes (and so checks) the output files.
    let prepared = prepare_checking(args, rank == 0);
    let failed = u8::from(prepared.is_err());
    let mut any = 0u8;
    world.all_reduce_into(&failed, &mut any, SystemOperation::max());
    let Prepared {
        config,
        database,
        opts,
        json,
    } = match prepared {
        Err(e) => return Err(e),
        Ok(_) if any != 0 => {
            return Err(CliError::Usage(
                "another rank could not read the configuration".into(),
            ));
        }
        Ok(p) => p,
    };
    let config = agreed_config(world, config, args)?;
    let timeout = match args.rank_timeout {
        None => Duration::from_secs(600),
        Some(s) if s > 0.0 && Duration::try_from_secs_f64(s).is_ok() => Duration::from_secs_f64(s),
        Some(s) => {
            return Err(CliError::Usage(format!(
                "--rank-timeout: must be a positive number of seconds, got {s:?}"
            )));
        }
    };
    let bar = progress_bar(Some(&config), rank != 0);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = match sampler::runner::run_config_mpi(
        &config,
        &opts,
        database.as_ref(),
        world,
        timeout,
        &progress,
    ) {
        // Another rank waits for this one, or does not answer: end the whole job.
        Err(e) if e.ends_job() => {
            bar.finish_and_clear();
            eprintln!("error: {e}");
            world.abort(3)
        }
        r => r.map_err(run_error)?,
    };
    bar.finish_and_clear();
    match report {
        Some(report) => output(json.as_ref(), &config, &report),
        None => Ok(()),
    }
}
