//! Revolver overhead on pyrevolve's benchmark shape: a 10^6-f64 (8 MB) state, n = 1000 steps,
//! s = 20 RAM slots, a forward step costing about one state copy, a reverse step alike.
//!
//! `ideal = T(n, s) x (one forward step) + n x (one reverse step)`, both timed in the same run
//! (pyrevolve: 3.20 s against an ideal of 1.59 s, 2.0x). The Revolver runs the schedule's
//! `T(n, s) - n` advances plus one step to `u_n`, and `n` reverse steps.
//! Columns: `run` wall seconds of `apply_forward` + `apply_reverse` (`cpu` the thread's on-CPU
//! seconds: the difference is time lost to other processes); `ideal` from per-step times of
//! hot-cache kernel loops; `situ id` the same formula with the per-step times measured inside
//! the run (where checkpoints come from memory, not cache); `driver` the run's wall time outside
//! the operators (the Revolver's bookkeeping and copies).
//!
//! Run: `cargo run --release --example revolver_overhead -- [len] [n] [s] [repeats]`

use retrace_demo::harness::overhead::{kernel_times, run_revolver};
use revolve::cost::optimal_forward;

fn arg(i: usize, default: u64) -> Result<u64, String> {
    match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i} `{s}` is not a count")),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let len = usize::try_from(arg(1, 1_000_000)?)?;
    let n = arg(2, 1000)?;
    let s = arg(3, 20)?;
    let repeats = arg(4, 3)?.max(1);
    let t = optimal_forward(n, s)?;
    let mb = len as f64 * 8.0 / 1e6;

    println!("Revolver overhead: state {len} f64 ({mb:.0} MB), n = {n}, s = {s}, T(n,s) = {t}");
    println!(
        "{:<13} {:>6} {:>6} {:>7} {:>9} {:>9} {:>9} {:>8} {:>6} {:>9} {:>5} {:>5}",
        "forward op",
        "run s",
        "cpu s",
        "ideal s",
        "run/ideal",
        "situ id s",
        "run/situ",
        "driver s",
        "copies",
        "handovers",
        "views",
        "oop"
    );
    for out_of_place in [true, false] {
        let mut last = None;
        for _ in 0..repeats {
            // Kernel times measured right before each run, in the same process.
            let k = kernel_times(len);
            let (wall, cpu, st, situ) = run_revolver(len, n, s, out_of_place);
            let ideal = t as f64 * k.forward + n as f64 * k.reverse;
            // The same formula with the per-step times measured inside the run.
            let per = |(steps, secs): (u64, f64)| secs / steps.max(1) as f64;
            let situ_ideal = t as f64 * per(situ.forward) + n as f64 * per(situ.reverse);
            let driver = wall - situ.forward.1 - situ.reverse.1;
            println!(
                "{:<13} {:>6.3} {:>6.3} {:>7.3} {:>9.3} {:>9.3} {:>9.3} {:>8.3} {:>6} {:>9} {:>5} {:>5}",
                if out_of_place {
                    "out-of-place"
                } else {
                    "in-place"
                },
                wall,
                cpu,
                ideal,
                wall / ideal,
                situ_ideal,
                wall / situ_ideal,
                driver,
                st.copies,
                st.handovers + st.handover_stores,
                st.views,
                st.out_of_place
            );
            last = Some(situ);
            assert_eq!(situ.forward.0, st.forward_steps);
            assert_eq!(situ.reverse.0, n);
        }
        if let Some(situ) = last {
            let ms = |(steps, secs): (u64, f64)| 1e3 * secs / steps.max(1) as f64;
            let in_place = (
                situ.forward.0 - situ.out_of_place.0,
                situ.forward.1 - situ.out_of_place.1,
            );
            println!(
                "  inside the last run: in-place forward {:.3} ms x {}, out-of-place forward {:.3} ms x {}, reverse {:.3} ms x {}",
                ms(in_place),
                in_place.0,
                ms(situ.out_of_place),
                situ.out_of_place.0,
                ms(situ.reverse),
                situ.reverse.0
            );
        }
    }
    let k = kernel_times(len);
    println!(
        "per call, hot caches: forward step {:.3} ms, reverse step {:.3} ms, state copy {:.3} ms",
        k.forward * 1e3,
        k.reverse * 1e3,
        k.copy * 1e3
    );
    Ok(())
}
