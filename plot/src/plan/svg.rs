//! The `retrace plan --svg` figure: two panels over the same memory axis, the recompute
//! factor (top) and the modelled time (bottom) of each strategy, with the budgets marked.

use super::table::{format_bytes, format_seconds};
use crate::axes::{LogAxis, decade_ticks};
use revolve::planner::{CurvePoint, Plan, Strategy};
use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// The trade-off plot: the binomial curve, the budgets, and each strategy's point.
pub(super) fn svg(plan: &Plan, curve: &[CurvePoint]) -> String {
    let p = &plan.problem;
    let points: Vec<(&str, f64, f64, bool)> = plan
        .rows
        .iter()
        .filter_map(|r| {
            let f = r.figures()?;
            let bytes = (f.peak_ram_bytes + f.peak_disk_bytes) as f64;
            (bytes > 0.0).then_some((r.strategy.as_str(), bytes, f.recompute_factor, f.fits))
        })
        .collect();
    let xs = curve
        .iter()
        .map(|c| c.bytes as f64)
        .chain(points.iter().map(|q| q.1))
        .chain([p.ram_bytes as f64, (p.ram_bytes + p.disk_bytes) as f64])
        .filter(|&x| x > 0.0);
    let (xlo, xhi) = xs.fold((f64::INFINITY, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let (xlo, xhi) = if xlo.is_finite() {
        (xlo, xhi)
    } else {
        (1.0, 2.0)
    };
    // The factor axis shows the strategies with room to spare (at least up to 10); the curve's
    // steep small-memory end leaves the plot through its top edge (clipped).
    let curve_top = curve.iter().map(|c| c.factor).fold(2.0f64, f64::max);
    let yhi = points
        .iter()
        .map(|q| 3.0 * q.2)
        .fold(10.0f64, f64::max)
        .min(curve_top * 1.2)
        .max(2.0);
    let x = LogAxis::new(xlo / 1.2, xhi * 1.2, LEFT, W - RIGHT);
    let y = LogAxis::new(1.0, yhi, H - BOTTOM, TOP);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{}" viewBox="0 0 {W} {}" font-family="sans-serif" font-size="12">"#,
        2.0 * H,
        2.0 * H
    );
    let _ = writeln!(
        s,
        r#"<rect width="{W}" height="{}" fill="white"/>"#,
        2.0 * H
    );
    let _ = writeln!(
        s,
        r#"<defs><clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{}" height="{}"/></clipPath></defs>"#,
        W - RIGHT - LEFT,
        H - BOTTOM - TOP
    );
    s.push_str("<g id=\"factor-panel\">\n");
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Recompute factor against checkpoint memory, n = {}, state = {}</text>"#,
        W / 2.0,
        p.steps,
        format_bytes(p.state_bytes.into())
    );
    // Axes.
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        r#"<path d="M{x0} {y1} L{x0} {y0} L{x1} {y0}" fill="none" stroke="black"/>"#
    );
    for (v, label) in x_ticks(x.lo, x.hi) {
        let px = x.at(v);
        let _ = writeln!(
            s,
            r#"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{}" stroke="black"/><text x="{px:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            y0 + 5.0,
            y0 + 18.0
        );
    }
    for v in y_ticks(y.lo, y.hi) {
        let py = y.at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v}</text>"##,
            x0,
            x0 - 6.0,
            py + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">checkpoint memory (log scale)</text>"#,
        (x0 + x1) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">recompute factor (forward steps / n, log scale)</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );
    // Budgets.
    for (bytes, label) in [
        (p.ram_bytes as f64, "RAM"),
        ((p.ram_bytes + p.disk_bytes) as f64, "RAM+disk"),
    ] {
        if bytes > 0.0 && x.contains(bytes) && !(label == "RAM+disk" && p.disk_bytes == 0) {
            let px = x.at(bytes);
            let _ = writeln!(
                s,
                r##"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{y1}" stroke="#888" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" fill="#555">{label}</text>"##,
                px + 3.0,
                y1 + 12.0
            );
        }
    }
    // The binomial curve.
    let pts: Vec<String> = curve
        .iter()
        .map(|c| format!("{:.1},{:.1}", x.at(c.bytes as f64), y.unclamped(c.factor)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2" clip-path="url(#plot)"/>"##,
        pts.join(" ")
    );
    // Strategies: one marker per point, the names of coinciding points on one label.
    let mut marks: Vec<(f64, f64, bool, Vec<&str>)> = Vec::new();
    for &(name, bytes, factor, fits) in &points {
        let (px, py) = (x.at(bytes), y.at(factor));
        match marks
            .iter_mut()
            .find(|m| (m.0 - px).abs() < 3.0 && (m.1 - py).abs() < 3.0 && m.2 == fits)
        {
            Some(m) => m.3.push(name),
            None => marks.push((px, py, fits, vec![name])),
        }
    }
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (i, (px, py, fits, names)) in marks.iter().enumerate() {
        let fill = if *fits { "#d62728" } else { "white" };
        let label = format!(
            "{}{}",
            names.join(", "),
            if *fits { "" } else { " (does not fit)" }
        );
        // Labels near the right edge go to the left of their marker; neighbours alternate
        // above and below.
        let (lx, anchor) = if *px > W - RIGHT - 90.0 {
            (px - 8.0, "end")
        } else {
            (px + 8.0, "start")
        };
        let ly = if i % 2 == 0 { py - 8.0 } else { py + 16.0 };
        let _ = writeln!(
            s,
            r##"<circle cx="{px:.1}" cy="{py:.1}" r="5" fill="{fill}" stroke="#d62728" stroke-width="2"/><text x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{label}</text>"##
        );
    }
    // Legend.
    let lx = W - RIGHT + 12.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="#1f77b4" stroke-width="2"/><text x="{}" y="{}">binomial T(n,s)/n</text>"##,
        TOP + 30.0,
        lx + 20.0,
        TOP + 30.0,
        lx + 24.0,
        TOP + 34.0
    );
    let _ = writeln!(
        s,
        r##"<circle cx="{}" cy="{}" r="5" fill="#d62728"/><text x="{}" y="{}">fits budgets</text>"##,
        lx + 10.0,
        TOP + 50.0,
        lx + 24.0,
        TOP + 54.0
    );
    let _ = writeln!(
        s,
        r##"<circle cx="{}" cy="{}" r="5" fill="white" stroke="#d62728" stroke-width="2"/><text x="{}" y="{}">does not fit</text>"##,
        lx + 10.0,
        TOP + 70.0,
        lx + 24.0,
        TOP + 74.0
    );
    s.push_str("</g>\n");
    let _ = writeln!(s, r#"<g id="time-panel" transform="translate(0 {H})">"#);
    time_panel(&mut s, plan, curve, &x);
    s.push_str("</g>\n</svg>\n");
    s
}

/// A short label for a 1-2-5 tick in seconds (`500 ms`, `2 s`, `5000 s`).
fn tick_seconds(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0} s")
    } else {
        let ms = v * 1e3;
        if ms >= 1.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{ms} ms")
        }
    }
}

/// Colour of a strategy's marker in the time panel.
fn colour(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::StoreAll => "#8c564b",
        Strategy::Periodic => "#9467bd",
        Strategy::Binomial => "#2ca02c",
        Strategy::Multistage => "#ff7f0e",
        Strategy::CostAware => "#d62728",
        Strategy::Online => "#17becf",
        _ => "#7f7f7f",
    }
}

/// The second panel: modelled time against checkpoint memory, the binomial (RAM-only) curve,
/// one marker per strategy (hollow when it does not fit), the budgets, and a legend giving
/// each strategy's time (labels only in the legend, so no text overlaps).
fn time_panel(s: &mut String, plan: &Plan, curve: &[CurvePoint], x: &LogAxis) {
    let p = &plan.problem;
    let k = &p.costs;
    let n = p.steps as f64;
    let binomial_time = |factor: f64| factor * n * k.forward() + n * k.reverse();
    let points: Vec<(Strategy, f64, f64, bool)> = plan
        .rows
        .iter()
        .filter_map(|r| {
            let f = r.figures()?;
            let bytes = (f.peak_ram_bytes + f.peak_disk_bytes) as f64;
            (bytes > 0.0 && f.time > 0.0).then_some((r.strategy, bytes, f.time, f.fits))
        })
        .collect();
    let ys = points
        .iter()
        .map(|q| q.2)
        .chain(curve.iter().map(|c| binomial_time(c.factor)))
        .filter(|&t| t > 0.0 && t.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(l, h), t| (l.min(t), h.max(t)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (1.0, 2.0) };
    // The strategies decide the range (the curve's steep end is clipped at the top).
    let top = points.iter().map(|q| q.2).fold(lo, f64::max) * 3.0;
    let y = LogAxis::new(lo / 1.3, top.min(hi * 1.3).max(lo * 2.0), H - BOTTOM, TOP);
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Modelled time against checkpoint memory (forward {} s, reverse {} s per step)</text>"#,
        W / 2.0,
        k.forward(),
        k.reverse()
    );
    let _ = writeln!(
        s,
        r#"<path d="M{x0} {y1} L{x0} {y0} L{x1} {y0}" fill="none" stroke="black"/>"#
    );
    for (v, label) in x_ticks(x.lo, x.hi) {
        let px = x.at(v);
        let _ = writeln!(
            s,
            r#"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{}" stroke="black"/><text x="{px:.1}" y="{}" text-anchor="middle">{label}</text>"#,
            y0 + 5.0,
            y0 + 18.0
        );
    }
    for v in decade_ticks(y.lo, y.hi) {
        let py = y.at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 - 6.0,
            py + 4.0,
            tick_seconds(v)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">checkpoint memory (log scale)</text>"#,
        (x0 + x1) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">modelled time (log scale)</text>"#,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );
    // Budgets: one label row each, so they cannot overlap.
    for (i, (bytes, label)) in [
        (p.ram_bytes as f64, "RAM budget"),
        ((p.ram_bytes + p.disk_bytes) as f64, "RAM+disk budget"),
    ]
    .into_iter()
    .enumerate()
    {
        if bytes > 0.0 && x.contains(bytes) && !(i == 1 && p.disk_bytes == 0) {
            let px = x.at(bytes);
            let (lx, anchor) = if px > W - RIGHT - 100.0 {
                (px - 3.0, "end")
            } else {
                (px + 3.0, "start")
            };
            let _ = writeln!(
                s,
                r##"<line class="budget" x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{y1}" stroke="#888" stroke-dasharray="4 3"/><text x="{lx:.1}" y="{}" text-anchor="{anchor}" fill="#555">{label}</text>"##,
                y1 + 12.0 + 14.0 * i as f64
            );
        }
    }
    let pts: Vec<String> = curve
        .iter()
        .map(|c| {
            format!(
                "{:.1},{:.1}",
                x.at(c.bytes as f64),
                y.unclamped(binomial_time(c.factor))
            )
        })
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2" clip-path="url(#plot)"/>"##,
        pts.join(" ")
    );
    for &(strategy, bytes, time, fits) in &points {
        let c = colour(strategy);
        let fill = if fits { c } else { "white" };
        let _ = writeln!(
            s,
            r#"<circle data-strategy="{strategy}" cx="{:.1}" cy="{:.1}" r="5" fill="{fill}" stroke="{c}" stroke-width="2"/>"#,
            x.at(bytes),
            y.at(time)
        );
    }
    // Legend: the curve, then one row per strategy with its time.
    let lx = W - RIGHT + 12.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="#1f77b4" stroke-width="2"/><text x="{}" y="{}" font-size="11">binomial, any s</text>"##,
        TOP + 20.0,
        lx + 20.0,
        TOP + 20.0,
        lx + 24.0,
        TOP + 24.0
    );
    for (i, &(strategy, _, time, fits)) in points.iter().enumerate() {
        let cy = TOP + 40.0 + 18.0 * i as f64;
        let c = colour(strategy);
        let fill = if fits { c } else { "white" };
        let _ = writeln!(
            s,
            r#"<circle cx="{}" cy="{cy}" r="5" fill="{fill}" stroke="{c}" stroke-width="2"/><text x="{}" y="{}" font-size="11">{strategy} {}</text>"#,
            lx + 10.0,
            lx + 24.0,
            cy + 4.0,
            format_seconds(time)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{lx}" y="{}" font-size="11">hollow: does not fit</text>"#,
        TOP + 48.0 + 18.0 * points.len() as f64
    );
}

/// Ticks at powers of 1024 (or of 2 when the range is narrow), labelled with binary units.
fn x_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let powers = |step: u32| -> Vec<(f64, String)> {
        (0..=63u32)
            .step_by(step as usize)
            .map(|e| 2f64.powi(e as i32))
            .filter(|&v| v >= lo && v <= hi)
            .map(|v| (v, format_bytes(v as u128).replace(".00", "")))
            .collect()
    };
    let coarse = powers(10);
    if coarse.len() >= 3 {
        coarse
    } else {
        let fine = powers(1);
        let every = fine.len().div_ceil(8).max(1);
        fine.into_iter().step_by(every).collect()
    }
}

/// Ticks at 1, 2, 5, 10, 20, 50, ... within `[lo, hi]`.
fn y_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut v = Vec::new();
    let mut decade = 1.0;
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let t = m * decade;
            if t >= lo && t <= hi {
                v.push(t);
            }
        }
        decade *= 10.0;
    }
    v
}
