//! Quality of the online schedule: total forward steps against the offline optimum `T(n, s)`
//! over `1 <= n <= 2000`, `2 <= s <= 40`, and against C++ Revolve's online mode (pyrevolve
//! 2.2.8) on its published grid. Every run is checked by the validator.
//!
//! `cargo run --release --example online_quality [NMAX] [SMAX]`

use revolve::cost::optimal_forward;
use revolve::schedule::online::{Online, simulate};
use revolve::{Action, Capacity, validate};

const CPP_CSV: &str = include_str!("../revolve/tests/data/online_revolve_cpp.csv");

/// Validated total forward steps for every `n` in `1..=nmax` (index `n`), for `snaps` slots.
/// The sweep for `n` steps is a prefix of the sweep for `nmax`: the planner is cloned and
/// finished at each `n`, and the whole stream for `n` is validated.
fn totals(nmax: u64, snaps: u64) -> Vec<u64> {
    let mut out = vec![0u64; nmax as usize + 1];
    let mut plan = Online::new(snaps).expect("snaps >= 1");
    let mut prefix: Vec<Action> = Vec::new();
    for n in 1..=nmax {
        let stream = prefix.iter().copied().chain(plan.clone().finish());
        let st = validate(n, Capacity::ram(snaps), stream)
            .unwrap_or_else(|v| panic!("invalid schedule n={n} s={snaps}: {v}"));
        out[n as usize] = st.forward;
        if n < nmax {
            prefix.extend(plan.advance().expect("no overflow"));
        }
    }
    out
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("usage: online_quality [NMAX] [SMAX]"))
        .collect();
    let nmax = args.first().copied().unwrap_or(2000).max(1);
    let smax = args.get(1).copied().unwrap_or(40).max(2);
    let ss: Vec<u64> = (2..=smax).collect();
    let start = std::time::Instant::now();
    let mut res: Vec<(u64, Vec<u64>)> = std::thread::scope(|scope| {
        let (a, b): (Vec<u64>, Vec<u64>) = ss.iter().partition(|&&s| s % 2 == 0);
        let ha = scope.spawn(move || a.iter().map(|&s| (s, totals(nmax, s))).collect::<Vec<_>>());
        let hb = scope.spawn(move || b.iter().map(|&s| (s, totals(nmax, s))).collect::<Vec<_>>());
        let mut v = ha.join().expect("thread");
        v.extend(hb.join().expect("thread"));
        v
    });
    res.sort_by_key(|(s, _)| *s);
    let secs = start.elapsed().as_secs_f64();

    println!("# online schedule vs offline optimum T(n, s), 1 <= n <= {nmax}, 2 <= s <= {smax}");
    println!(
        "# every run validated ({} runs, {secs:.1} s)",
        nmax * (smax - 1)
    );
    println!("   s  optimal_up_to  optimal_runs   mean_ratio   max_ratio  at_n");
    let (mut sum, mut count, mut opt_count) = (0f64, 0u64, 0u64);
    let (mut worst, mut worst_at) = (1f64, (0u64, 0u64));
    for (s, tot) in &res {
        let (mut ssum, mut smax_r, mut sat, mut sopt, mut up_to) = (0f64, 1f64, 0u64, 0u64, 0u64);
        let mut still = true;
        for n in 1..=nmax {
            let t = optimal_forward(n, *s).expect("fits");
            let f = tot[n as usize];
            let r = f as f64 / t as f64;
            ssum += r;
            if f == t {
                sopt += 1;
                if still {
                    up_to = n;
                }
            } else {
                still = false;
            }
            if r > smax_r {
                smax_r = r;
                sat = n;
            }
        }
        println!(
            "{s:>4}  {up_to:>13}  {sopt:>12}  {:>11.5}  {smax_r:>10.5}  {sat:>4}",
            ssum / nmax as f64
        );
        sum += ssum;
        count += nmax;
        opt_count += sopt;
        if smax_r > worst {
            worst = smax_r;
            worst_at = (sat, *s);
        }
    }
    println!(
        "# overall: mean ratio {:.5}, max ratio {worst:.5} at n={} s={}, equal to the optimum in {opt_count} of {count} runs",
        sum / count as f64,
        worst_at.0,
        worst_at.1
    );

    println!();
    println!("# against C++ Revolve online (pyrevolve 2.2.8), total forward steps, its grid");
    let (mut better, mut equal, mut worse) = (0u64, 0u64, Vec::new());
    let (mut ex_ours, mut ex_cpp, mut rows) = (0u64, 0u64, 0u64);
    for line in CPP_CSV.lines().skip(1) {
        let f: Vec<u64> = line
            .split(',')
            .map(|x| x.trim().parse().expect("csv"))
            .collect();
        let (n, s, cpp, opt) = (f[0], f[1], f[2], f[3]);
        let ours = if s <= smax && n <= nmax {
            res[(s - 2) as usize].1[n as usize]
        } else {
            validate(n, Capacity::ram(s), simulate(n, s).expect("args"))
                .expect("valid")
                .forward
        };
        rows += 1;
        ex_ours += ours - opt;
        ex_cpp += cpp - opt;
        match ours.cmp(&cpp) {
            std::cmp::Ordering::Less => better += 1,
            std::cmp::Ordering::Equal => equal += 1,
            std::cmp::Ordering::Greater => worse.push((n, s, ours, cpp, opt)),
        }
    }
    println!("rows  better  equal  worse  excess_over_optimum_ours  excess_cpp");
    println!(
        "{rows:>4}  {better:>6}  {equal:>5}  {:>5}  {ex_ours:>24}  {ex_cpp:>10}",
        worse.len()
    );
    for (n, s, o, c, t) in &worse {
        println!("worse: n={n} s={s} ours={o} cpp={c} optimum={t}");
    }

    println!();
    println!("# planner throughput (forward sweep only, one event per step)");
    for snaps in [10u64, 40] {
        let steps = 1_000_000u64;
        let t0 = std::time::Instant::now();
        let mut plan = Online::new(snaps).expect("snaps >= 1");
        let mut actions = 0u64;
        for _ in 1..steps {
            actions += plan.advance().expect("no overflow").len() as u64;
        }
        let sweep = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();
        let rev = plan.finish().count() as u64;
        let back = t1.elapsed().as_secs_f64();
        println!(
            "s={snaps:>3}: {:.2} M steps/s over {steps} steps ({actions} actions); reversal {:.2} M actions/s ({rev} actions)",
            steps as f64 / sweep / 1e6,
            rev as f64 / back / 1e6
        );
    }

    println!();
    println!("# reference points (C++ online total forward)");
    for (n, s, cpp) in [
        (10u64, 3u64, 25u64),
        (20, 3, 65),
        (101, 5, 431),
        (1000, 10, 4636),
    ] {
        let ours = validate(n, Capacity::ram(s), simulate(n, s).expect("args"))
            .expect("valid")
            .forward;
        let t = optimal_forward(n, s).expect("fits");
        println!("n={n:>5} s={s:>3}: ours {ours:>6}  cpp {cpp:>6}  optimum {t:>6}");
    }
}
