//! The `retrace db plot` figure of a TAMS run database: four panels stacked on one page, in the
//! look of `retrace plan --svg`:
//!
//! 1. `level-panel`: the level Z_q per iteration, with the target score as a dashed line;
//! 2. `estimate-panel`: the running estimate `weight x reached / N` per iteration (log axis),
//!    its ideal-case one-standard-deviation band, and the weight (the estimate's upper bound);
//! 3. `traces-panel`: the score traces of the current ensemble against time, those that reached
//!    the target highlighted;
//! 4. `counts-panel`: the killed and branched counts per iteration.
//!
//! Thinning keeps large runs fast and small: every per-iteration series keeps, per pixel column,
//! its smallest and largest value (in their order), and every score trace keeps the same per
//! column of [`TRACE_BUCKET_PX`] pixels (at most [`MAX_TRACE_POINTS`] points per trace).

use crate::axes::{LinAxis, LogAxis, decade_ticks, escape, linear_ticks, tick_label};
use sampler::db::{IterationRow, RunReader, RunSummary, TrajectoryRow};
use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Width in pixels of the column over which a score trace keeps its minimum and maximum.
pub const TRACE_BUCKET_PX: f64 = 4.0;
/// The most points one score trace is drawn with.
pub const MAX_TRACE_POINTS: usize = 2 * ((W - LEFT - RIGHT) / TRACE_BUCKET_PX) as usize + 2;

const BLUE: &str = "#1f77b4";
const RED: &str = "#d62728";
const GREEN: &str = "#2ca02c";
const ORANGE: &str = "#ff7f0e";

/// What the figure shows of a run, as read from its database.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The run summary.
    pub summary: RunSummary,
    /// The iteration table, oldest first.
    pub iterations: Vec<IterationRow>,
    /// The current ensemble (alive trajectories) with their scores.
    pub ensemble: Vec<TrajectoryRow>,
    /// `[trajectory] targetscore` of the recorded description (None: not recorded).
    pub target: Option<f64>,
    /// `[trajectory] step_size` (None: not recorded; time is then the step index).
    pub step_size: Option<f64>,
}

/// Read what the figure needs from an opened run (read-only; only the current ensemble's
/// scores are read, not those of killed trajectories).
pub fn read(db: &RunReader) -> sampler::Result<RunData> {
    let description = db.description()?;
    let number = |key: &str| {
        let v = description.get("trajectory")?.get(key)?;
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
    };
    Ok(RunData {
        summary: db.summary()?,
        iterations: db.iterations()?,
        ensemble: db.ensemble()?,
        target: number("targetscore"),
        step_size: number("step_size").filter(|&d| d > 0.0),
    })
}

/// The ideal-case relative standard deviation of a TAMS estimate `p` with `n` trajectories:
/// `sqrt(p^(-1/N) - 1)` (score = committor, k = 1: the estimate is `(1 - 1/N)^M` with
/// `M ~ Poisson(-N ln p)`).
pub fn ideal_relative_std(p: f64, n: u64) -> f64 {
    (p.powf(-1.0 / n as f64) - 1.0).max(0.0).sqrt()
}

/// The SVG figure of `data`; `status` is a short description of the run's state for the title.
pub fn svg(data: &RunData, status: &str) -> String {
    let mut s = String::with_capacity(1 << 20);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{}" viewBox="0 0 {W} {}" font-family="sans-serif" font-size="12">"#,
        4.0 * H,
        4.0 * H
    );
    let _ = writeln!(
        s,
        r#"<rect width="{W}" height="{}" fill="white"/>"#,
        4.0 * H
    );
    let _ = writeln!(
        s,
        r#"<defs><clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{}" height="{}"/></clipPath></defs>"#,
        W - RIGHT - LEFT,
        H - BOTTOM - TOP
    );
    let sum = &data.summary;
    let q = data.iterations.last().map_or(0, |r| r.iteration);
    let x = LinAxis::new(0.0, q as f64, LEFT, W - RIGHT);
    panel(&mut s, "level-panel", 0, |s| {
        let title = format!(
            "Level per iteration: {}, N = {}, {}",
            sum.model, sum.ntrajectories, status
        );
        level_panel(s, data, &x, &title);
    });
    panel(&mut s, "estimate-panel", 1, |s| estimate_panel(s, data, &x));
    panel(&mut s, "traces-panel", 2, |s| traces_panel(s, data));
    panel(&mut s, "counts-panel", 3, |s| counts_panel(s, data, &x));
    s.push_str("</svg>\n");
    s
}

fn panel(s: &mut String, id: &str, i: usize, body: impl FnOnce(&mut String)) {
    let _ = writeln!(
        s,
        r#"<g id="{id}" transform="translate(0 {})">"#,
        i as f64 * H
    );
    body(s);
    s.push_str("</g>\n");
}

/// Title, frame, ticks and axis labels of a panel with a linear x axis.
fn frame(s: &mut String, title: &str, xlabel: &str, ylabel: &str) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<path d="M{x0} {y1} L{x0} {y0} L{x1} {y0}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (x0 + x1) / 2.0,
        H - 12.0,
        escape(xlabel)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0,
        escape(ylabel)
    );
}

fn x_ticks(s: &mut String, x: &LinAxis) {
    let y0 = H - BOTTOM;
    for v in linear_ticks(x.lo, x.hi, 6) {
        let px = x.at(v);
        let _ = writeln!(
            s,
            r#"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{}" stroke="black"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            y0 + 5.0,
            y0 + 18.0,
            tick_label(v)
        );
    }
}

fn y_grid(s: &mut String, ticks: &[f64], at: impl Fn(f64) -> f64) {
    for &v in ticks {
        let py = at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            tick_label(v)
        );
    }
}

/// One legend row (`i` from 0) in the right margin: a line sample and a label.
fn legend(s: &mut String, i: usize, colour: &str, dash: &str, label: &str) {
    let lx = W - RIGHT + 12.0;
    let y = TOP + 20.0 + 18.0 * i as f64;
    let _ = writeln!(
        s,
        r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}" font-size="11">{}</text>"#,
        lx + 20.0,
        lx + 24.0,
        y + 4.0,
        escape(label)
    );
}

fn empty_note(s: &mut String, what: &str) {
    let _ = writeln!(
        s,
        r##"<text class="empty" x="{}" y="{}" text-anchor="middle" fill="#555">{what}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        (TOP + H - BOTTOM) / 2.0
    );
}

/// Per-column min/max thinning of `(pixel x, value)` points in increasing x: for every column of
/// `bucket` pixels, the smallest and the largest value, in the order they occur. Non-finite
/// values break the line: the result is a list of runs.
fn thin(points: impl Iterator<Item = (f64, f64)>, bucket: f64) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    // The open column: its index, and its min and max points.
    type Column = (i64, (f64, f64), (f64, f64));
    let mut col: Option<Column> = None;
    let flush = |run: &mut Vec<(f64, f64)>, col: Option<Column>| {
        if let Some((_, lo, hi)) = col {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            run.push(a);
            if b != a {
                run.push(b);
            }
        }
    };
    for (px, v) in points {
        if !v.is_finite() {
            flush(&mut run, col.take());
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            continue;
        }
        let c = (px / bucket).floor() as i64;
        match &mut col {
            Some((k, lo, hi)) if *k == c => {
                if v < lo.1 {
                    *lo = (px, v);
                }
                if v > hi.1 {
                    *hi = (px, v);
                }
            }
            _ => {
                flush(&mut run, col.take());
                col = Some((c, (px, v), (px, v)));
            }
        }
    }
    flush(&mut run, col);
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// A `<path>` through the runs of pixel points (`d` only; one `M` per run).
fn path_d(runs: &[Vec<(f64, f64)>], y: impl Fn(f64) -> f64) -> String {
    let mut d = String::new();
    for run in runs {
        for (i, &(px, v)) in run.iter().enumerate() {
            let _ = write!(d, "{}{px:.1} {:.1}", if i == 0 { "M" } else { " L" }, y(v));
        }
    }
    d
}

fn level_panel(s: &mut String, data: &RunData, x: &LinAxis, title: &str) {
    frame(s, title, "iteration", "level Z_q (score)");
    let levels: Vec<(u64, f64)> = data
        .iterations
        .iter()
        .filter_map(|r| Some((r.iteration, r.level?)))
        .collect();
    let (mut lo, mut hi) = levels
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &(_, v)| {
            (l.min(v), h.max(v))
        });
    if let Some(t) = data.target {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    // No level yet: a range around the target alone, wide enough for distinct tick labels.
    let pad = if levels.is_empty() {
        0.5 * lo.abs().max(1.0)
    } else {
        ((hi - lo) * 0.05).max(1e-9)
    };
    let y = LinAxis::new(lo - pad, hi + pad, H - BOTTOM, TOP);
    x_ticks(s, x);
    y_grid(s, &linear_ticks(y.lo, y.hi, 6), |v| y.at(v));
    if levels.is_empty() {
        empty_note(s, "no level yet (no iteration after the initial ensemble)");
    } else {
        let runs = thin(levels.iter().map(|&(q, v)| (x.at(q as f64), v)), 1.0);
        let _ = writeln!(
            s,
            r#"<path id="levels" class="level" d="{}" fill="none" stroke="{BLUE}" stroke-width="1.5" clip-path="url(#plot)"/>"#,
            path_d(&runs, |v| y.at(v))
        );
    }
    legend(s, 0, BLUE, "", "level Z_q");
    if let Some(t) = data.target {
        target_line(s, &y, t, "target-level");
        legend(
            s,
            1,
            RED,
            r#" stroke-dasharray="6 3""#,
            &format!("target {}", tick_label(t)),
        );
    }
}

fn target_line(s: &mut String, y: &LinAxis, t: f64, id: &str) {
    let py = y.at(t);
    let _ = writeln!(
        s,
        r#"<line id="{id}" class="target" x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="{RED}" stroke-width="1.5" stroke-dasharray="6 3"/>"#,
        W - RIGHT
    );
}

fn estimate_panel(s: &mut String, data: &RunData, x: &LinAxis) {
    let n = data.summary.ntrajectories.max(1);
    frame(
        s,
        "Running estimate weight x reached / N, ideal-case band",
        "iteration",
        "probability (log scale)",
    );
    let rows = &data.iterations;
    let est: Vec<f64> = rows
        .iter()
        .map(|r| r.weight * r.reached as f64 / n as f64)
        .collect();
    let sigma: Vec<f64> = est.iter().map(|&p| ideal_relative_std(p, n)).collect();
    let positive = |v: f64| v > 0.0 && v.is_finite();
    let lo = rows
        .iter()
        .map(|r| r.weight)
        .chain(est.iter().copied())
        .chain(est.iter().zip(&sigma).map(|(p, s)| p * (1.0 - s)))
        .filter(|&v| positive(v))
        .fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.weight)
        .chain(est.iter().zip(&sigma).map(|(p, s)| p * (1.0 + s)))
        .filter(|&v| positive(v))
        .fold(0.0f64, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (1e-3, 1.0)
    };
    let y = LogAxis::new(lo.min(hi / 10.0), hi, H - BOTTOM, TOP);
    x_ticks(s, x);
    y_grid(s, &decade_ticks(y.lo, y.hi), |v| y.at(v));
    if rows.is_empty() {
        empty_note(s, "no iteration committed yet");
    }
    let px = |r: &IterationRow| x.at(r.iteration as f64);
    // The band: per pixel column, the lowest lower and the highest upper bound.
    let nan_unless = |ok: bool, v: f64| if ok { v } else { f64::NAN };
    let upper = thin(
        rows.iter()
            .zip(est.iter().zip(&sigma))
            .map(|(r, (&p, &sd))| (px(r), nan_unless(positive(p), p * (1.0 + sd)))),
        1.0,
    );
    let lower = thin(
        rows.iter()
            .zip(est.iter().zip(&sigma))
            .map(|(r, (&p, &sd))| (px(r), nan_unless(positive(p), p * (1.0 - sd)))),
        1.0,
    );
    let mut band = String::new();
    for (up, down) in upper.iter().zip(&lower) {
        for (i, &(px, v)) in up.iter().enumerate() {
            let _ = write!(
                band,
                "{}{px:.1} {:.1}",
                if i == 0 { "M" } else { " L" },
                y.at(v)
            );
        }
        // Lower bounds <= 0 (relative std >= 1) sit on the axis' bottom edge.
        for &(px, v) in down.iter().rev() {
            let _ = write!(band, " L{px:.1} {:.1}", y.at(v.max(y.lo)));
        }
        band.push_str(" Z");
    }
    if !band.is_empty() {
        let _ = writeln!(
            s,
            r#"<path id="estimate-band" class="band" d="{band}" fill="{BLUE}" fill-opacity="0.2" stroke="none" clip-path="url(#plot)"/>"#
        );
    }
    let weight = thin(rows.iter().map(|r| (px(r), r.weight)), 1.0);
    let _ = writeln!(
        s,
        r##"<path id="weight" class="weight" d="{}" fill="none" stroke="#888" stroke-width="1.5" stroke-dasharray="4 3" clip-path="url(#plot)"/>"##,
        path_d(&weight, |v| y.unclamped(v))
    );
    let runs = thin(
        rows.iter()
            .zip(&est)
            .map(|(r, &p)| (px(r), nan_unless(positive(p), p))),
        1.0,
    );
    let _ = writeln!(
        s,
        r#"<path id="estimate" class="estimate" d="{}" fill="none" stroke="{BLUE}" stroke-width="2" clip-path="url(#plot)"/>"#,
        path_d(&runs, |v| y.unclamped(v))
    );
    if !rows.is_empty() && runs.is_empty() {
        empty_note(s, "estimate 0 so far (no trajectory at the target)");
    }
    legend(s, 0, BLUE, "", "estimate");
    let lx = W - RIGHT + 12.0;
    let _ = writeln!(
        s,
        r#"<rect x="{lx}" y="{}" width="20" height="10" fill="{BLUE}" fill-opacity="0.2"/><text x="{}" y="{}" font-size="11">ideal 1-sigma band</text>"#,
        TOP + 33.0,
        lx + 24.0,
        TOP + 42.0
    );
    legend(s, 2, "#888", r#" stroke-dasharray="4 3""#, "weight");
    for (i, line) in [
        "band: p (1 +- sigma/p),",
        "sigma/p =",
        "  sqrt(p^(-1/N) - 1)",
        "ideal: k = 1,",
        "score = committor",
    ]
    .into_iter()
    .enumerate()
    {
        let _ = writeln!(
            s,
            r##"<text x="{lx}" y="{}" font-size="10" fill="#555">{line}</text>"##,
            TOP + 92.0 + 14.0 * i as f64
        );
    }
}

fn traces_panel(s: &mut String, data: &RunData) {
    let ens = &data.ensemble;
    let reached = ens.iter().filter(|t| t.reached).count();
    let q = data.summary.iterations;
    let title = match q {
        Some(q) => format!("Score traces of the ensemble after iteration {q}"),
        None => "Score traces of the ensemble".to_string(),
    };
    let dt = data.step_size.unwrap_or(1.0);
    let xlabel = if data.step_size.is_some() {
        "time"
    } else {
        "step"
    };
    frame(s, &title, xlabel, "score");
    let steps = ens.iter().map(|t| t.scores.len()).max().unwrap_or(0);
    let x = LinAxis::new(0.0, steps.saturating_sub(1) as f64 * dt, LEFT, W - RIGHT);
    let (mut lo, mut hi) = ens
        .iter()
        .flat_map(|t| t.scores.iter())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if let Some(t) = data.target {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let y = LinAxis::new(lo - pad, hi + pad, H - BOTTOM, TOP);
    x_ticks(s, &x);
    y_grid(s, &linear_ticks(y.lo, y.hi, 6), |v| y.at(v));
    if ens.is_empty() {
        empty_note(s, "no ensemble committed yet");
    }
    // Not-reached first, the reached ones on top.
    for reached_pass in [false, true] {
        for t in ens.iter().filter(|t| t.reached == reached_pass) {
            let runs = thin(
                t.scores
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (x.at(i as f64 * dt), v)),
                TRACE_BUCKET_PX,
            );
            let mut pts = String::with_capacity(12 * MAX_TRACE_POINTS);
            for run in &runs {
                for &(px, v) in run {
                    let _ = write!(pts, "{px:.1},{:.1} ", y.at(v));
                }
            }
            let (class, colour, opacity) = if reached_pass {
                ("trace reached", RED, "0.9")
            } else {
                ("trace", BLUE, "0.35")
            };
            let _ = writeln!(
                s,
                r#"<polyline class="{class}" data-id="{}" points="{}" fill="none" stroke="{colour}" stroke-opacity="{opacity}" stroke-width="1"/>"#,
                t.id,
                pts.trim_end()
            );
        }
    }
    if let Some(t) = data.target {
        target_line(s, &y, t, "target-score");
    }
    legend(s, 0, RED, "", &format!("reached ({reached})"));
    legend(
        s,
        1,
        BLUE,
        r#" stroke-opacity="0.35""#,
        &format!("not reached ({})", ens.len() - reached),
    );
    if data.target.is_some() {
        legend(s, 2, RED, r#" stroke-dasharray="6 3""#, "target");
    }
}

fn counts_panel(s: &mut String, data: &RunData, x: &LinAxis) {
    frame(
        s,
        "Killed and branched trajectories per iteration",
        "iteration",
        "trajectories",
    );
    let rows: Vec<&IterationRow> = data.iterations.iter().filter(|r| r.iteration > 0).collect();
    let top = rows
        .iter()
        .map(|r| r.killed.len().max(r.children.len()))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let y = LinAxis::new(0.0, top * 1.1, H - BOTTOM, TOP);
    x_ticks(s, x);
    let ticks: Vec<f64> = linear_ticks(0.0, top * 1.1, 5)
        .into_iter()
        .filter(|v| v.fract() == 0.0)
        .collect();
    y_grid(s, &ticks, |v| y.at(v));
    if rows.is_empty() {
        empty_note(s, "no iteration after the initial ensemble yet");
    }
    for (id, colour, dash, count) in [
        (
            "killed",
            ORANGE,
            "",
            (|r: &IterationRow| r.killed.len()) as fn(&IterationRow) -> usize,
        ),
        (
            "branched",
            GREEN,
            r#" stroke-dasharray="4 3""#,
            |r: &IterationRow| r.children.len(),
        ),
    ] {
        let runs = thin(
            rows.iter()
                .map(|r| (x.at(r.iteration as f64), count(r) as f64)),
            1.0,
        );
        let _ = writeln!(
            s,
            r#"<path id="{id}" class="{id}" d="{}" fill="none" stroke="{colour}" stroke-width="1.5"{dash} clip-path="url(#plot)"/>"#,
            path_d(&runs, |v| y.at(v))
        );
    }
    legend(s, 0, ORANGE, "", "killed K_q");
    legend(
        s,
        1,
        GREEN,
        r#" stroke-dasharray="4 3""#,
        "branched (children)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_min_and_max_per_column_in_order() {
        let pts = [
            (0.1, 3.0),
            (0.5, 1.0),
            (0.9, 2.0),
            (1.2, 5.0),
            (1.5, f64::NAN),
            (2.1, 4.0),
        ];
        let runs = thin(pts.into_iter(), 1.0);
        assert_eq!(
            runs,
            vec![vec![(0.1, 3.0), (0.5, 1.0), (1.2, 5.0)], vec![(2.1, 4.0)]]
        );
    }

    #[test]
    fn ideal_band_matches_the_reference_formula() {
        // p^(-1/N) - 1 ~ -ln p / N for small -ln p / N.
        let (p, n) = (1e-6, 1000u64);
        let rel_var = ideal_relative_std(p, n).powi(2);
        assert!((rel_var - (-p.ln() / n as f64)).abs() < 2e-4, "{rel_var}");
        assert_eq!(ideal_relative_std(1.0, 10), 0.0);
    }
}
