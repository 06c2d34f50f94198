//! `retrace demo`: a Burgers adjoint through the Revolver with binomial checkpointing, then a short
//! TAMS run on the 2D double well.

use super::{CliError, CliResult, flush, stdout};
use retrace_demo::burgers::{Burgers, checkpointed_gradient, objective_after};
use revolve::{Binomial, cost::optimal_forward};
use std::io::Write;
use std::time::Instant;

/// Arguments of `retrace demo`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Grid points of the Burgers model.
    #[arg(long, default_value_t = 10_000)]
    points: usize,
    /// Time steps to reverse.
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Checkpoint slots to try, comma separated (each counts the slot of the initial state).
    #[arg(long, value_delimiter = ',', default_value = "3,10,20,50")]
    snaps: Vec<u64>,
    /// Viscosity.
    #[arg(long, default_value_t = 2e-3)]
    nu: f64,
    /// Seed of the TAMS section.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Run `retrace demo`.
pub(crate) fn run(args: Args) -> CliResult {
    let mut out = stdout();
    adjoint_section(&args, &mut out)?;
    writeln!(out)?;
    tams_section(args.seed, &mut out)?;
    flush(out)
}

/// Relative tolerance of the finite-difference check.
const FD_TOLERANCE: f64 = 1e-6;

/// The adjoint part: `dJ/du_0` of `J = 1/2 ||u_n||^2` for each `snaps`, one table row each, then
/// the checks (gradients identical across `snaps`, directional derivative vs finite differences).
pub(crate) fn adjoint_section(args: &Args, out: &mut impl Write) -> CliResult {
    if args.steps == 0 {
        return Err(CliError::usage("--steps must be at least 1"));
    }
    if args.snaps.is_empty() || args.snaps.contains(&0) {
        return Err(CliError::usage("--snaps must list counts of at least 1"));
    }
    check_sizes(args)?;
    let slots = |s: u64| {
        usize::try_from(s)
            .map_err(|_| CliError::usage(format!("--snaps {s} does not fit in memory")))
    };
    // Every schedule is checked before the first one runs.
    for &s in &args.snaps {
        Binomial::new(args.steps, s.min(args.steps))
            .map_err(|e| CliError::usage(format!("--steps {} --snaps {s}: {e}", args.steps)))?;
    }
    let model = Burgers::with_stable_dt(args.points, args.nu, 2.0, 0.9)
        .map_err(|e| CliError::usage(format!("--points {} --nu {}: {e}", args.points, args.nu)))?;
    let u0 = model.initial_condition();
    let n = args.steps;
    writeln!(
        out,
        "Burgers adjoint: {} points, {n} steps, nu = {}, dt = {:.3e}; J = 1/2 |u_n|^2, gradient dJ/du0",
        args.points,
        args.nu,
        model.dt()
    )?;
    writeln!(
        out,
        "{:>7} {:>6} {:>9} {:>9} {:>8} {:>7} {:>9} {:>7} {:>10} {:>6} {:>8}",
        "steps",
        "snaps",
        "forward",
        "T(n,s)",
        "reverse",
        "stores",
        "restores",
        "copies",
        "hand-overs",
        "views",
        "seconds"
    )?;
    let mut first: Option<(f64, Vec<f64>)> = None;
    let mut identical = true;
    for &s in &args.snaps {
        let schedule = Binomial::new(n, s.min(n)).map_err(CliError::usage)?;
        let t = Instant::now();
        let g = checkpointed_gradient(&model, &u0, schedule, slots(s.min(n))?, None)
            .map_err(CliError::failed)?;
        let secs = t.elapsed().as_secs_f64();
        let st = g.stats;
        writeln!(
            out,
            "{:>7} {:>6} {:>9} {:>9} {:>8} {:>7} {:>9} {:>7} {:>10} {:>6} {:>8.3}",
            n,
            s,
            st.schedule.forward,
            optimal_forward(n, s.min(n)).map_err(CliError::failed)?,
            st.schedule.reverse,
            st.schedule.total_stores(),
            st.schedule.total_restores(),
            st.copies,
            st.handovers + st.handover_stores,
            st.views,
            secs
        )?;
        match &first {
            None => first = Some((g.objective, g.gradient)),
            Some((j, grad)) => {
                identical &= j.to_bits() == g.objective.to_bits()
                    && grad
                        .iter()
                        .zip(&g.gradient)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
            }
        }
    }
    writeln!(
        out,
        "(forward counts taped steps as T(n,s) does; copies: full state copies; hand-overs: buffer \
         swaps instead of copies; views: reverses reading a checkpoint in place)"
    )?;
    let Some((j, grad)) = first else {
        return Err(CliError::usage("--snaps is empty"));
    };
    writeln!(
        out,
        "J(u_n) = {j:.12e}; gradients bitwise identical across snaps: {}",
        if identical { "yes" } else { "NO" }
    )?;

    // Directional derivative along a fixed direction against central differences.
    let v: Vec<f64> = (0..u0.len()).map(|i| (0.37 * i as f64).sin()).collect();
    let eps = 1e-4;
    let at = |t: f64| -> Vec<f64> { u0.iter().zip(&v).map(|(a, b)| a + t * b).collect() };
    let j_at = |t: f64| objective_after(&model, &at(t), n).map_err(CliError::failed);
    let fd = (j_at(eps)? - j_at(-eps)?) / (2.0 * eps);
    let adj: f64 = grad.iter().zip(&v).map(|(a, b)| a * b).sum();
    let rel = ((adj - fd) / fd).abs();
    let ok = rel <= FD_TOLERANCE;
    writeln!(
        out,
        "gradient check dJ.v: adjoint {adj:.12e}, central differences {fd:.12e}, relative error {rel:.1e} ({})",
        if ok { "ok" } else { "FAILED" }
    )?;
    if !identical {
        return Err(CliError::failed(
            "checkpointed gradients differ between snaps",
        ));
    }
    if !ok {
        return Err(CliError::failed(format!(
            "gradient check failed: relative error {rel:.1e} exceeds {FD_TOLERANCE:.0e}"
        )));
    }
    Ok(())
}

/// The most grid points `demo` takes (80 MB per state).
pub(crate) const MAX_POINTS: usize = 10_000_000;

/// The most bytes the checkpoints of one gradient may take (`--points` x slots x 8).
pub(crate) const MAX_CHECKPOINT_BYTES: u64 = 4 << 30;

/// Bound every size before anything is allocated: the grid, and the checkpoints of the largest
/// `--snaps` (slots beyond `--steps` are never used).
fn check_sizes(args: &Args) -> CliResult {
    if !(3..=MAX_POINTS).contains(&args.points) {
        return Err(CliError::Usage(format!(
            "--points: must be between 3 and {MAX_POINTS}, got {}",
            args.points
        )));
    }
    if !(args.nu.is_finite() && args.nu > 0.0) {
        return Err(CliError::Usage(format!(
            "--nu: must be a finite number > 0, got {}",
            args.nu
        )));
    }
    let slots = args
        .snaps
        .iter()
        .map(|&s| s.min(args.steps))
        .max()
        .unwrap_or(0);
    let bytes = u128::from(slots + 3) * args.points as u128 * 8;
    if bytes > u128::from(MAX_CHECKPOINT_BYTES) {
        return Err(CliError::Usage(format!(
            "--points {} --snaps {slots}: the checkpoints need {} bytes, more than the {} a demo may use",
            args.points,
            bytes,
            revolve::units::format_size(MAX_CHECKPOINT_BYTES)
        )));
    }
    Ok(())
}

/// The TAMS part: a short run on the 2D double well (`sampler::runner::demo_doublewell2d`).
pub(crate) fn tams_section(seed: u64, out: &mut impl Write) -> CliResult {
    let report = sampler::runner::demo_doublewell2d(seed, None).map_err(CliError::failed)?;
    let run = &report.details[0];
    writeln!(
        out,
        "TAMS on doublewell2d (N = {}, epsilon = 0.05, T = 10, dt = 0.01, target score 0.95, seed {seed}):",
        run.ntrajectories
    )?;
    let se = report
        .std_error
        .map_or_else(|| "n/a".to_string(), |e| format!("{e:.2e}"));
    writeln!(
        out,
        "  P(transition before T) = {:.4e} (std error {se}, {:?}); {} iterations, {} model steps, \
         {} reached the target, stop: {:?}, {:.3} s",
        report.estimate,
        report.std_error_source,
        report.iterations,
        report.model_steps,
        run.reached,
        run.stop,
        report.seconds
    )?;
    Ok(())
}
