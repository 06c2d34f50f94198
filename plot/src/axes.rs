//! Axes shared by the SVG figures (`retrace plan --svg`, `retrace db plot`): log and linear
//! scales, tick positions, and text escaping.

/// A log-scaled axis mapping `[lo, hi]` onto `[a, b]` pixels.
pub(crate) struct LogAxis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    a: f64,
    b: f64,
}

impl LogAxis {
    pub(crate) fn new(lo: f64, hi: f64, a: f64, b: f64) -> Self {
        let (lo, hi) = (lo.max(f64::MIN_POSITIVE), hi.max(lo * 1.0001));
        LogAxis { lo, hi, a, b }
    }
    pub(crate) fn at(&self, v: f64) -> f64 {
        let t = (v.clamp(self.lo, self.hi).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        self.a + t * (self.b - self.a)
    }
    /// Like [`LogAxis::at`] but past the ends too (for clipped lines).
    pub(crate) fn unclamped(&self, v: f64) -> f64 {
        let t = (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        self.a + t * (self.b - self.a)
    }
    pub(crate) fn contains(&self, v: f64) -> bool {
        v >= self.lo * 0.9999 && v <= self.hi * 1.0001
    }
}

/// A linear axis mapping `[lo, hi]` onto `[a, b]` pixels (values outside are clamped).
pub(crate) struct LinAxis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    a: f64,
    b: f64,
}

impl LinAxis {
    pub(crate) fn new(lo: f64, hi: f64, a: f64, b: f64) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        LinAxis { lo, hi, a, b }
    }
    pub(crate) fn at(&self, v: f64) -> f64 {
        let t = (v.clamp(self.lo, self.hi) - self.lo) / (self.hi - self.lo);
        self.a + t * (self.b - self.a)
    }
}

/// Ticks at 1, 2 and 5 times powers of ten within `[lo, hi]` (only powers of ten when the
/// range spans more than four decades).
pub(crate) fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut v = Vec::new();
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let step = ((e1 - e0) / 6).max(1) as usize;
    let mults: &[f64] = if e1 - e0 > 4 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    for e in (e0..=e1).step_by(step) {
        for &m in mults {
            let t = m * 10f64.powi(e);
            if t >= lo * 0.9999 && t <= hi * 1.0001 {
                v.push(t);
            }
        }
    }
    v
}

/// At most about `max` evenly spaced ticks at 1, 2 or 5 times a power of ten within `[lo, hi]`.
pub(crate) fn linear_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || max == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / max as f64;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A short tick label: integers as such, otherwise up to 3 significant digits.
pub(crate) fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e6).contains(&a) {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.into() }
    } else {
        format!("{v:.0e}")
    }
}

/// `text` with `&`, `<`, `>` and `"` escaped for SVG text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
