//! `retrace plan`: compare checkpointing strategies for a RAM/disk budget and print a table;
//! `--svg FILE` also draws the recompute-factor / memory trade-off.

use super::output::Target;
use super::{CliError, CliResult};
use retrace_plot::plan as plan_view;
use revolve::planner::{self, PlanError, Problem};
use revolve::units::{parse_rate as parse_bandwidth, parse_size};
use std::io::Write;

/// Arguments of `retrace plan`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Steps to reverse (at least 1; `1e9` allowed).
    #[arg(long, value_parser = parse_steps)]
    steps: u64,
    /// Bytes of one state (e.g. 8MiB, 1e6, 4096).
    #[arg(long, value_parser = parse_size)]
    state_bytes: u64,
    /// Bytes of the adjoint data of one recorded step, for the mixed row (a unit holds a state
    /// or a recorded step, whichever is larger); default: the state size.
    #[arg(long, value_parser = parse_size)]
    record_bytes: Option<u64>,
    /// RAM for checkpoints (e.g. 2GiB, 512MiB, 50GB, 1e9).
    #[arg(long, value_parser = parse_size)]
    ram: u64,
    /// Disk for checkpoints.
    #[arg(long, value_parser = parse_size, default_value = "0")]
    disk: u64,
    /// Seconds per forward step.
    #[arg(long, value_parser = parse_seconds, default_value = "1")]
    forward_cost: f64,
    /// Seconds per reverse (adjoint) step.
    #[arg(long, value_parser = parse_seconds, default_value = "2")]
    reverse_cost: f64,
    /// Disk bandwidth, read and write (e.g. 1GB/s, 500MiB/s).
    #[arg(long, value_parser = parse_bandwidth, default_value = "1GB/s")]
    disk_bandwidth: f64,
    /// Disk write bandwidth, if it differs from --disk-bandwidth.
    #[arg(long, value_parser = parse_bandwidth)]
    write_bandwidth: Option<f64>,
    /// Disk read bandwidth, if it differs from --disk-bandwidth.
    #[arg(long, value_parser = parse_bandwidth)]
    read_bandwidth: Option<f64>,
    /// Seconds added to every disk write and read.
    #[arg(long, value_parser = parse_seconds, default_value = "0")]
    disk_latency: f64,
    /// Compression ratio of the disk checkpoints (>= 1; e.g. 1.3 for `zstd` on smooth f64
    /// fields): a state takes state-bytes / R on disk, so more fit and transfers are shorter.
    #[arg(long, value_name = "R", default_value = "1")]
    compression_ratio: f64,
    /// Above this many steps, counts come from closed forms instead of running the schedules.
    #[arg(long, default_value_t = Problem::DEFAULT_RUN_LIMIT)]
    run_limit: u64,
    /// Also write the trade-off curve (recompute factor against memory) as an SVG file
    /// (checked before planning, written atomically after the table).
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
}

/// Run `retrace plan`.
pub(crate) fn run(a: Args) -> CliResult {
    let svg = match &a.svg {
        Some(path) => match Target::check("--svg", path)? {
            Target::Stdout => {
                return Err(CliError::usage(
                    "--svg -: stdout receives the table; give a file name",
                ));
            }
            file => Some(file),
        },
        None => None,
    };
    let mut problem = Problem::new(a.steps, a.state_bytes, a.ram, a.disk)
        .with_costs(
            a.forward_cost,
            a.reverse_cost,
            a.write_bandwidth.unwrap_or(a.disk_bandwidth),
            a.read_bandwidth.unwrap_or(a.disk_bandwidth),
            a.disk_latency,
        )
        .and_then(|p| p.with_compression_ratio(a.compression_ratio))
        .map_err(|e| match &e {
            revolve::Error::BadCost { name, .. } | revolve::Error::BadBandwidth { name, .. } => {
                CliError::Usage(format!("--{}: {e}", name.replace(' ', "-")))
            }
            revolve::Error::BadRatio { .. } => CliError::Usage(format!("--compression-ratio: {e}")),
            _ => CliError::usage(e),
        })?;
    problem.run_limit = a.run_limit;
    if let Some(bytes) = a.record_bytes {
        if bytes == 0 {
            return Err(CliError::usage("--record-bytes: must be at least 1 byte"));
        }
        problem = problem.with_record_bytes(bytes);
    }
    let plan = planner::plan(&problem).map_err(|e| match e {
        PlanError::InvalidSchedule { .. } => CliError::failed(e),
        PlanError::ZeroSteps => CliError::Usage(format!("--steps: {e}")),
        PlanError::ZeroStateBytes => CliError::Usage(format!("--state-bytes: {e}")),
        _ => CliError::Usage(format!(
            "--steps {} --state-bytes {} --ram {} --disk {}: {e}",
            a.steps, a.state_bytes, a.ram, a.disk
        )),
    })?;
    // The table first: it is printed even if the figure cannot be written.
    let mut out = super::stdout();
    write!(out, "{}", plan_view::table(&plan))?;
    super::flush(out)?;
    match svg {
        Some(target) => target.write(plan_view::svg(&plan).as_bytes()),
        None => Ok(()),
    }
}

/// A non-negative finite number, or an error naming `what`.
fn number(num: &str, whole: &str, what: &str) -> Result<f64, String> {
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("bad {what} `{whole}`: expected a number >= 0")),
    }
}

/// A step count >= 1: `1000`, `1e9`.
pub(crate) fn parse_steps(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let v = if t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>().ok()
    } else {
        t.parse::<f64>()
            .ok()
            .filter(|v| v.fract() == 0.0 && *v < 18_446_744_073_709_551_615.0)
            .map(|v| v as u64)
    };
    match v {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "bad step count `{t}`: expected a whole number >= 1"
        )),
    }
}

/// Seconds: `0.25`, `250ms`, `3us`, `2s`. Letters after a number that are not one of these
/// units are blamed as the unit (`1fortnight`), not as the number.
pub(crate) fn parse_seconds(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let num = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[num.len()..];
    let mult = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" => 1e-6,
        "ns" => 1e-9,
        _ if num.trim_end().parse::<f64>().is_ok() => {
            return Err(format!(
                "bad unit `{unit}` in `{t}`: use s, ms, us or ns (or a number of seconds)"
            ));
        }
        _ => return Err(format!("bad duration `{t}`: expected a number >= 0")),
    };
    Ok(number(num.trim_end(), t, "duration")? * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("50GB"), Ok(50_000_000_000));
        assert_eq!(parse_size("1e9"), Ok(1_000_000_000));
        assert_eq!(parse_size("1.5 KiB"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("8B"), Ok(8));
        assert!(parse_size("8Mb").unwrap_err().to_string().contains("bits"));
        assert!(
            parse_bandwidth("1Gb/s")
                .unwrap_err()
                .to_string()
                .contains("bits")
        );
        assert!(parse_bandwidth("1e-320").is_err());
        for bad in ["", "GiB", "-1GiB", "2XB", "1e30", "nan", "inf", "16EiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_bandwidth("1GB/s"), Ok(1e9));
        assert_eq!(parse_bandwidth("1MiB/s"), Ok(1048576.0));
        assert!(parse_bandwidth("0GB/s").is_err());
        assert_eq!(parse_seconds("250ms"), Ok(0.25));
        assert_eq!(parse_steps("1e9"), Ok(1_000_000_000));
        assert_eq!(parse_steps("18446744073709551615"), Ok(u64::MAX));
        for bad in ["0", "1.5", "-3", "1e30", "", "nan", "ten"] {
            assert!(parse_steps(bad).is_err(), "{bad}");
        }
        assert!(parse_seconds("-1").is_err());
        assert!(
            parse_seconds("1fortnight")
                .unwrap_err()
                .starts_with("bad unit `fortnight`")
        );
        assert!(
            parse_seconds("nan")
                .unwrap_err()
                .starts_with("bad duration")
        );
        assert_eq!(parse_seconds("3 us"), Ok(3e-6));
    }
}
