//! The `retrace plan --svg` figure.

use super::table::format_bytes;
use revolve::planner::{CurvePoint, Plan};
use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// A log-scaled axis mapping `[lo, hi]` onto `[a, b]` pixels.
struct LogAxis {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
}

impl LogAxis {
    fn new(lo: f64, hi: f64, a: f64, b: f64) -> Self {
        let (lo, hi) = (lo.max(f64::MIN_POSITIVE), hi.max(lo * 1.0001));
        LogAxis { lo, hi, a, b }
    }
    fn at(&self, v: f64) -> f64 {
        let t = (v.clamp(self.lo, self.hi).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        self.a + t * (self.b - self.a)
    }
    /// Like [`LogAxis::at`] but past the ends too (for clipped lines).
    fn unclamped(&self, v: f64) -> f64 {
        let t = (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        self.a + t * (self.b - self.a)
    }
    fn contains(&self, v: f64) -> bool {
        v >= self.lo * 0.9999 && v <= self.hi * 1.0001
    }
}

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
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<defs><clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{}" height="{}"/></clipPath></defs>"#,
        W - RIGHT - LEFT,
        H - BOTTOM - TOP
    );
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
    s.push_str("</svg>\n");
    s
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
