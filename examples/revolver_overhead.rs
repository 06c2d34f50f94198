//! Revolver overhead on pyrevolve's benchmark shape: a 10^6-f64 (8 MB) state, n = 1000 steps,
//! s = 20 RAM slots, a forward step costing about one state copy.
//!
//! ideal = T(n, s) x (one forward step) + n x (one adjoint step), both timed in the same run;
//! the Revolver's reverse operator runs the taped forward step and the adjoint step (so its
//! forward work is T(n, s) steps plus the one extra step to u_n). pyrevolve measures 2.0x here.
//!
//! Run: `cargo run --release --example revolver_overhead -- [len] [n] [s] [repeats]`

#[path = "../benches/common/overhead.rs"]
mod overhead;

use overhead::{kernel_times, run_revolver};
use revolve::cost::optimal_forward;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .map(|s| {
            s.parse()
                .unwrap_or_else(|_| panic!("argument {i} `{s}` is not a count"))
        })
        .unwrap_or(default)
}

fn main() {
    let len = arg(1, 1_000_000) as usize;
    let n = arg(2, 1000);
    let s = arg(3, 20);
    let repeats = arg(4, 3).max(1);
    let t = optimal_forward(n, s).expect("valid n, s");
    let mb = len as f64 * 8.0 / 1e6;

    println!("Revolver overhead: state {len} f64 ({mb:.0} MB), n = {n}, s = {s}, T(n,s) = {t}");
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>7} {:>8} {:>10} {:>6} {:>12} {:>9}",
        "forward operator",
        "wall s",
        "ideal s",
        "ratio",
        "copies",
        "stores",
        "hand-overs",
        "views",
        "out-of-place",
        "fwd ms"
    );
    for out_of_place in [true, false] {
        for _ in 0..repeats {
            // Kernel times measured right before each run, in the same process.
            let (fwd, adj, copy) = kernel_times(len);
            let ideal = t as f64 * fwd + n as f64 * adj;
            let (wall, st) = run_revolver(len, n, s, out_of_place);
            println!(
                "{:<22} {:>8.3} {:>8.3} {:>8.3} {:>7} {:>8} {:>10} {:>6} {:>12} {:>9.3}",
                if out_of_place {
                    "out-of-place capable"
                } else {
                    "in-place only"
                },
                wall,
                ideal,
                wall / ideal,
                st.copies,
                st.schedule.stores[0],
                st.handovers,
                st.views,
                st.out_of_place,
                fwd * 1e3
            );
            let _ = copy;
        }
    }
    let (fwd, adj, copy) = kernel_times(len);
    println!(
        "one forward step {:.3} ms, one adjoint step {:.3} ms, one state copy {:.3} ms",
        fwd * 1e3,
        adj * 1e3,
        copy * 1e3
    );
}
