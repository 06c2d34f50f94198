//! Disk checkpoint compression, measured (one table, `cargo bench -p retrace-demo --bench
//! compression`, or `--workspace`): for Burgers and Allen-Cahn states and each codec, the
//! compression ratio and the write and read speeds of a synchronous `DiskStore` (MB/s of state
//! bytes, codec and file copy included; the files sit in the page cache, so this is the codec's
//! cost, not the device's); then the wall time of a Burgers disk adjoint (multistage, background
//! I/O) per codec, as a ratio to the uncompressed run in the same process. The gradients of the
//! lossless codecs are checked bitwise equal. With `--features zfp`, rows for the lossy zfp
//! codec too: the restored states are checked within the tolerance, and the adjoint table gives
//! the gradient's max abs error against the uncompressed gradient, relative to its max |g|.

use retrace_demo::burgers::{Burgers, BurgersAdjoint, BurgersForward};
use revolve::storage::disk::{Codec, DiskStore};
use revolve::{CheckpointStore, Multistage, RamStore, Revolver};
use sampler::models::{AllenCahn, AllenCahnNoise};
use sampler::{Model, Noise, NoiseKey};
use std::time::Instant;

const CODECS: [(&str, Codec); 4] = [
    ("none", Codec::None),
    (
        "zstd:1 (shuffle 8)",
        Codec::ShuffleZstd {
            typesize: 8,
            level: 1,
        },
    ),
    (
        "zstd:3 (shuffle 8)",
        Codec::ShuffleZstd {
            typesize: 8,
            level: 3,
        },
    ),
    (
        "zstd:1 (no shuffle)",
        Codec::ShuffleZstd {
            typesize: 1,
            level: 1,
        },
    ),
];

/// Every codec measured: the lossless ones, then zfp (feature `zfp`).
fn codecs() -> Vec<(String, Codec)> {
    let all = CODECS.iter().map(|(n, c)| (n.to_string(), *c));
    #[cfg(feature = "zfp")]
    let all = all.chain([1e-6, 1e-10].map(|tol| {
        let c = Codec::zfp(tol).expect("valid zfp tolerance");
        (format!("zfp:{tol:e} (lossy)"), c)
    }));
    all.collect()
}

/// The largest |a - b| over two states.
fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Burgers states: the initial condition advanced `steps` steps, every `every` steps.
fn burgers_states(points: usize, count: usize, every: u64) -> Vec<Vec<f64>> {
    let m = Burgers::with_stable_dt(points, 0.02, 2.0, 0.9).expect("valid Burgers model");
    let mut u = m.initial_condition();
    let mut next = vec![0.0; points];
    let mut out = Vec::new();
    let mut k = 0;
    while out.len() < count {
        for _ in 0..every {
            m.step(&u, &mut next, k).expect("finite Burgers step");
            std::mem::swap(&mut u, &mut next);
            k += 1;
        }
        out.push(u.clone());
    }
    out
}

/// Allen-Cahn states (`points` grid points, the noise of seed 1) every `every` steps.
fn allen_cahn_states(points: u64, count: usize, every: u64) -> Vec<Vec<f64>> {
    let mut m = AllenCahn::default();
    m.n = points;
    let mut rng = NoiseKey::new(1, 0).stream(0, m.noise_words());
    let mut xi = AllenCahnNoise::new(m.noise_dim());
    let mut u = m.initial_state();
    let dt = 0.01;
    let mut out = Vec::new();
    let mut t = 0.0;
    while out.len() < count {
        for _ in 0..every {
            m.sample_noise(&mut rng, &mut xi);
            m.step(&mut u, t, dt, &xi);
            t += dt;
        }
        out.push(u.clone());
    }
    out
}

/// (ratio, write MB/s, read MB/s) of a synchronous store of `codec` over `states`: the best of
/// `rounds` rounds of storing every state and restoring every state.
fn store_speeds(states: &[Vec<f64>], codec: Codec, rounds: usize) -> (f64, f64, f64) {
    let n = states.len() as u64;
    let bytes = (states.len() * states[0].len() * 8) as f64;
    let (mut w, mut r, mut ratio) = (f64::INFINITY, f64::INFINITY, 0.0);
    let mut y = states[0].clone();
    for _ in 0..rounds {
        let mut s = DiskStore::builder(n)
            .temp()
            .background(false)
            .codec(codec)
            .build(&states[0])
            .expect("disk store");
        let t = Instant::now();
        for (i, x) in states.iter().enumerate() {
            s.store(i as u64, x).expect("store");
        }
        w = w.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for i in 0..n {
            s.restore(i, &mut y).expect("restore");
        }
        r = r.min(t.elapsed().as_secs_f64());
        let last = &states[states.len() - 1];
        match codec.tolerance() {
            None => assert_eq!(
                y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                last.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            ),
            Some(tol) => assert!(max_abs_diff(&y, last) <= tol, "{codec}: outside {tol}"),
        }
        ratio = bytes / s.stats().bytes_written as f64;
        s.close().expect("close");
    }
    (ratio, bytes / w / 1e6, bytes / r / 1e6)
}

/// Wall seconds of one Burgers adjoint with `d` disk slots of `codec`, its gradient, and the
/// compression ratio of what it wrote.
fn adjoint(points: usize, n: u64, r: u64, d: u64, codec: Codec) -> (f64, Vec<f64>, f64) {
    let m = Burgers::with_stable_dt(points, 0.02, 2.0, 0.9).expect("valid Burgers model");
    let u0 = m.initial_condition();
    let t = Instant::now();
    let store = DiskStore::builder(d)
        .temp()
        .codec(codec)
        .build(&u0)
        .expect("disk store");
    let mut rv = Revolver::new(
        Multistage::best(n, r, d).expect("multistage schedule"),
        BurgersForward::<Vec<f64>>::new(m.clone()),
        BurgersAdjoint::<Vec<f64>>::new(m.clone()),
        RamStore::new(r as usize, &u0),
    )
    .expect("revolver")
    .with_disk(store);
    let mut u = u0;
    rv.apply_forward(&mut u).expect("forward sweep");
    rv.apply_reverse(&mut u).expect("reverse sweep");
    let wall = t.elapsed().as_secs_f64();
    let st = rv.disk().stats();
    let ratio = (st.stores * points as u64 * 8) as f64 / st.bytes_written.max(1) as f64;
    (wall, u, ratio)
}

fn main() {
    // `cargo bench` passes --bench; anything else (the test harness's filters) is ignored.
    let points = 1 << 20; // 8 MiB states
    println!("# disk store codecs: synchronous store/restore of 8 states of 8 MiB (page cache)");
    println!(
        "{:<12} {:<20} {:>7} {:>12} {:>12}",
        "state", "codec", "ratio", "write MB/s", "read MB/s"
    );
    let sets = [
        ("burgers", burgers_states(points, 8, 50)),
        ("allen-cahn", allen_cahn_states(points as u64, 8, 20)),
    ];
    for (name, states) in &sets {
        for (cname, codec) in codecs() {
            let (ratio, w, r) = store_speeds(states, codec, 3);
            println!("{name:<12} {cname:<20} {ratio:>7.3} {w:>12.0} {r:>12.0}");
        }
    }
    let (n, r, d) = (300, 2, 12);
    println!();
    println!(
        "# Burgers disk adjoint: {points} points, n={n}, R={r}, D={d} (multistage, background I/O)"
    );
    println!(
        "{:<20} {:>8} {:>10} {:>8} {:>12} {:>12}",
        "codec", "wall s", "vs none", "ratio", "grad err", "grad err/|g|"
    );
    let mut base: Option<(f64, Vec<f64>)> = None;
    for (cname, codec) in codecs() {
        // Best of 2 runs: the machine is shared.
        let (w1, g, ratio) = adjoint(points, n, r, d, codec);
        let (w2, _, _) = adjoint(points, n, r, d, codec);
        let wall = w1.min(w2);
        let (base_wall, base_g) = base.get_or_insert_with(|| (wall, g.clone()));
        let err = max_abs_diff(&g, base_g);
        let gmax = base_g.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if codec.is_lossless() {
            assert!(
                g.iter()
                    .zip(base_g.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{cname}: gradient differs from the uncompressed one"
            );
        }
        println!(
            "{cname:<20} {wall:>8.2} {:>10.2} {ratio:>8.3} {err:>12.3e} {:>12.3e}",
            wall / *base_wall,
            err / gmax
        );
    }
}
