//! The `retrace plan` table: one aligned row per strategy, skipped rows with their reason.

use revolve::planner::{Outcome, Plan};
use std::fmt::{self, Write as _};

/// `bytes` with a binary unit (`1.50 GiB`).
pub(super) fn format_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", UNITS[u])
}

/// Bytes per second with a decimal unit (`1.00 GB/s`).
pub(super) fn format_rate(rate: f64) -> String {
    const UNITS: [&str; 6] = ["B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"];
    if !rate.is_finite() {
        return "unlimited".to_string();
    }
    let (mut v, mut u) = (rate, 0);
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.2} {}", UNITS[u])
}

/// Seconds in a readable unit (`12.5 s`, `3.20 h`).
pub(super) fn format_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.3} s")
    } else if s < 7200.0 {
        format!("{:.2} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.2} h", s / 3600.0)
    } else {
        format!("{:.2} d", s / 86400.0)
    }
}

/// The plan as an aligned text table (one row per strategy), after two header lines.
pub(super) fn table(plan: &Plan) -> String {
    let mut f = String::new();
    write_table(&mut f, plan).expect("writing to a String cannot fail");
    f
}

fn write_table(f: &mut String, plan: &Plan) -> fmt::Result {
    let p = &plan.problem;
    let k = &p.costs;
    writeln!(
        f,
        "# steps={} state={} ram={} ({} states) disk={} ({} states)",
        p.steps,
        format_bytes(p.state_bytes.into()),
        format_bytes(p.ram_bytes.into()),
        p.ram_slots(),
        format_bytes(p.disk_bytes.into()),
        p.disk_slots()
    )?;
    writeln!(
        f,
        "# model: forward {} s/step, reverse {} s/step, disk write {}, read {}, latency {} s",
        k.forward(),
        k.reverse(),
        format_rate(k.write_bandwidth()),
        format_rate(k.read_bandwidth()),
        k.latency()
    )?;
    let header = [
        "strategy",
        "config",
        "forward",
        "factor",
        "reverse",
        "disk_written",
        "disk_read",
        "peak_ram",
        "peak_disk",
        "time",
        "fits",
        "counts",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for row in &plan.rows {
        let mut line = vec![row.strategy.to_string(), row.config.to_string()];
        match &row.outcome {
            Outcome::Planned(x) => {
                let fits = match (x.fits_ram, x.fits_disk) {
                    (true, true) => "yes",
                    (false, true) => "NO (ram)",
                    (true, false) => "NO (disk)",
                    (false, false) => "NO (ram+disk)",
                };
                line.extend([
                    x.forward.to_string(),
                    format!("{:.3}", x.recompute_factor),
                    x.reverse.to_string(),
                    format_bytes(x.disk_bytes_written),
                    format_bytes(x.disk_bytes_read),
                    format_bytes(x.peak_ram_bytes),
                    format_bytes(x.peak_disk_bytes),
                    format_seconds(x.time),
                    fits.to_string(),
                    x.source.as_str().to_string(),
                ]);
            }
            Outcome::Skipped(reason) => line.push(format!("skipped: {reason}")),
        }
        cells.push(line);
    }
    // Skipped rows: strategy, config, reason (the reason runs on, unaligned).
    let full = |line: &Vec<String>| line.len() == header.len();
    let mut width = vec![0usize; header.len()];
    for line in &cells {
        let aligned = if full(line) { line.len() } else { 2 };
        for (w, c) in width.iter_mut().zip(&line[..aligned]) {
            *w = (*w).max(c.len());
        }
    }
    for line in &cells {
        let mut text = String::new();
        for (i, c) in line.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let w = if full(line) || i < 2 { width[i] } else { 0 };
            if (2..=9).contains(&i) && full(line) {
                text.push_str(&format!("{c:>w$}"));
            } else {
                text.push_str(&format!("{c:<w$}"));
            }
        }
        writeln!(f, "{}", text.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(3 << 29), "1.50 GiB");
        assert_eq!(format_seconds(7200.0), "2.00 h");
    }

    #[test]
    fn extreme_plans_render() {
        use revolve::planner::{Problem, plan};
        for (n, b, ram, disk) in [
            (u64::MAX, 1, u64::MAX, u64::MAX),
            (u64::MAX, u64::MAX, 0, 0),
            (1 << 62, 1 << 20, 1 << 40, 1 << 50),
            (1_000_000_000_000, 8, 1 << 33, 0),
        ] {
            let text = table(&plan(&Problem::new(n, b, ram, disk)).unwrap());
            // Two header lines, the column header and one line per strategy.
            assert_eq!(
                text.lines().count(),
                3 + revolve::planner::Strategy::ALL.len(),
                "{text}"
            );
        }
    }
}
