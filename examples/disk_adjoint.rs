//! Disk checkpoints against RAM: the same adjoint through `Multistage::best(n, R, D)` with a
//! `DiskStore` as the disk level (background writer + prefetch, background without prefetch,
//! synchronous) and through `Binomial(n, R + D)` with every slot in RAM (the same number of
//! forward steps).
//!
//! Rows: `RAM only (binomial)` every slot in RAM; `RAM as disk level` the multistage schedule
//! with a `RamStore` as its second level (what the disk runs would cost with free I/O);
//! `disk bg+prefetch` (background writer, two prefetch buffers), `disk bg, no prefetch`
//! (`prefetch_buffers(0)`: hints ignored), `disk synchronous` (`background(false)`).
//!
//! Columns: `wall` seconds of `apply_forward` + `apply_reverse` (stores built before the clock
//! starts); `cpu` the calling thread's on-CPU seconds (less than `wall` when other processes
//! or the I/O thread take the core); `other` the part of it outside the operators (driver, copies, disk I/O in the
//! calling thread, waits); `model` the `revolve::pricing` makespan of the schedule with `uf` /
//! `ub` the per-step seconds of the operators measured inside that run and `wd` / `rd` the
//! seconds to write / read one checkpoint measured in the same process right before the run (a
//! synchronous store in the same directory; the model counts disk I/O as serial and RAM copies
//! as free); `situ` the same model with `wd` / `rd` replaced by `fgW` / `fgR` below (what the
//! calling thread spent per disk write / read in that run); `/model` and `/RAM` the wall time over the model and over the RAM-only run of the
//! same repeat; disk writes, reads, prefetch hits, the times the caller waited on the I/O
//! thread, and the Revolver's full state copies; `fgW` / `fgR` the calling thread's
//! milliseconds per disk write / read inside the run (in `store`, and in `restore` / `take`:
//! with a background store the hand-over of a write and the collection of a prefetch). Every run's adjoint is checked bit for bit
//! against the first. The summary gives, per row, the median over the repeats of the wall time
//! over the RAM-only run's and of the calling thread's extra time outside the operators (over
//! the RAM-only run's, as a fraction of its wall time): the part of the overhead that does not
//! move with the operators' speed, which varies between runs on a shared machine.
//!
//! Models: `burgers` (default) is the 1-D Burgers model and its adjoint (`retrace_demo::burgers`,
//! about 2 ms a step at 10^6 points); `synthetic` is the memory-bound elementwise operator of
//! `retrace_demo::harness::overhead` (a step costs about one state copy, so its speed depends on
//! where the buffers lie in the cache hierarchy, which differs between the runs).
//!
//! Run: `cargo run --release --example disk_adjoint -- [--model burgers|synthetic] [--len 1000000]
//! [--n 1000] [--ram 4] [--disk 16] [--repeats 3] [--dir /tmp]`

use retrace_demo::burgers::{Burgers, BurgersAdjoint, BurgersForward};
use retrace_demo::harness::disk::{DiskMode, TimedStore};
use retrace_demo::harness::{overhead, timed};
use revolve::Costs;
use revolve::pricing::price;
use revolve::revolver::{ForwardOperator, ReverseOperator, RevolverStats};
use revolve::storage::disk::{DiskStats, DiskStore};
use revolve::{
    Action, Binomial, Capacity, CheckpointStore, Level, Multistage, NoDisk, RamStore, Revolver,
    Schedule, State,
};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

type BoxError = Box<dyn std::error::Error>;

/// An operator with the seconds and steps spent in it.
struct Timed<O> {
    op: O,
    steps: u64,
    secs: f64,
}

impl<O> Timed<O> {
    fn new(op: O) -> Self {
        Timed {
            op,
            steps: 0,
            secs: 0.0,
        }
    }
    fn per_step(&self) -> f64 {
        self.secs / self.steps.max(1) as f64
    }
}

impl<S: State, O: ForwardOperator<S>> ForwardOperator<S> for Timed<O> {
    type Error = O::Error;
    fn advance(&mut self, u: &mut S, from: u64, to: u64) -> Result<(), O::Error> {
        let t = Instant::now();
        let r = self.op.advance(u, from, to);
        self.secs += t.elapsed().as_secs_f64();
        self.steps += to - from;
        r
    }
    fn out_of_place(&self) -> bool {
        self.op.out_of_place()
    }
    fn advance_from(&mut self, src: &S, dst: &mut S, from: u64, to: u64) -> Result<(), O::Error> {
        let t = Instant::now();
        let r = self.op.advance_from(src, dst, from, to);
        self.secs += t.elapsed().as_secs_f64();
        self.steps += to - from;
        r
    }
}

impl<S, A: ?Sized, O: ReverseOperator<S, A>> ReverseOperator<S, A> for Timed<O> {
    type Error = O::Error;
    fn reverse(&mut self, u: &S, lam: &mut A, k: u64) -> Result<(), O::Error> {
        let t = Instant::now();
        let r = self.op.reverse(u, lam, k);
        self.secs += t.elapsed().as_secs_f64();
        self.steps += 1;
        r
    }
}

struct Options {
    model: String,
    len: usize,
    n: u64,
    ram: u64,
    disk: u64,
    repeats: u64,
    dir: PathBuf,
}

fn options() -> Result<Options, BoxError> {
    let mut o = Options {
        model: "burgers".into(),
        len: 1_000_000,
        n: 1000,
        ram: 4,
        disk: 16,
        repeats: 3,
        dir: std::env::temp_dir(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(key) = args.next() {
        let value = args.next().ok_or_else(|| format!("{key} needs a value"))?;
        let count = || -> Result<u64, BoxError> {
            value
                .parse()
                .map_err(|_| format!("{key} {value}: not a count").into())
        };
        match key.as_str() {
            "--model" if value == "synthetic" || value == "burgers" => o.model = value.clone(),
            "--len" => o.len = usize::try_from(count()?)?,
            "--n" => o.n = count()?,
            "--ram" => o.ram = count()?,
            "--disk" => o.disk = count()?,
            "--repeats" => o.repeats = count()?.max(1),
            "--dir" => o.dir = PathBuf::from(&value),
            _ => return Err(format!("unknown option {key} {value}").into()),
        }
    }
    if o.disk == 0 {
        return Err("--disk must be at least 1".into());
    }
    Ok(o)
}

/// What one run measured.
struct Run {
    wall: f64,
    /// On-CPU seconds of the calling thread.
    cpu: f64,
    /// Seconds inside the operators.
    ops: f64,
    uf: f64,
    ub: f64,
    stats: RevolverStats,
    disk: Option<DiskStats>,
    /// Seconds in the disk store's `store` and `restore` / `take` calls.
    io: (f64, f64),
    gradient: Vec<f64>,
}

/// One reversal of `n` steps from `u0` along `plan` (the stores are built before the clock);
/// the disk level comes back with the run.
fn run<F, R, P, D>(
    plan: P,
    ops: (F, R),
    ram: u64,
    disk: D,
    u0: &[f64],
) -> Result<(Run, D), BoxError>
where
    F: ForwardOperator<Vec<f64>>,
    R: ReverseOperator<Vec<f64>, Vec<f64>>,
    P: Schedule,
    D: CheckpointStore<Vec<f64>>,
{
    let u0 = u0.to_vec();
    let mut rv = Revolver::new(
        plan,
        Timed::new(ops.0),
        Timed::new(ops.1),
        RamStore::new(usize::try_from(ram)?, &u0),
    )?
    .with_disk(disk);
    let mut u = u0;
    let mut lam = vec![1.0; u.len()];
    let (r, wall, cpu) = timed(|| -> Result<(), revolve::Error> {
        rv.apply_forward(&mut u)?;
        rv.apply_reverse(&mut lam)
    });
    r?;
    black_box(&lam);
    let ops = rv.forward_operator().secs + rv.reverse_operator().secs;
    let run = Run {
        wall,
        cpu,
        ops,
        uf: rv.forward_operator().per_step(),
        ub: rv.reverse_operator().per_step(),
        stats: rv.stats(),
        io: (0.0, 0.0),
        disk: None,
        gradient: lam,
    };
    Ok((run, rv.into_stores().1))
}

/// Median seconds to write and to read one checkpoint of `u` (synchronous store in a temporary
/// directory inside `parent`; `flush` adds an `msync` to the write).
fn io_times(parent: &Path, u: &[f64], flush: bool) -> Result<(f64, f64), BoxError> {
    let u = u.to_vec();
    let mut s = DiskStore::builder(1)
        .temp_in(parent)
        .background(false)
        .flush(flush)
        .build(&u)?;
    let mut v = vec![0.0; u.len()];
    let (mut w, mut r) = (Vec::new(), Vec::new());
    for k in 0..5 {
        let t = Instant::now();
        s.store(k, &u)?;
        w.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        s.restore(k, &mut v)?;
        r.push(t.elapsed().as_secs_f64());
        s.free(k)?;
    }
    let median = |mut x: Vec<f64>| {
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    Ok((median(w), median(r)))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Disk restores of `plan` that the Revolver's lookahead sees from the previous disk restore (or
/// from the end of the forward sweep), and all disk restores.
fn hintable(plan: impl IntoIterator<Item = Action>) -> (u64, u64) {
    let actions: Vec<Action> = plan.into_iter().collect();
    let mut last = actions
        .iter()
        .position(|a| matches!(a, Action::Reverse { .. }));
    let (mut hinted, mut all) = (0, 0);
    for (i, a) in actions.iter().enumerate() {
        if let Action::Restore {
            level: Level::Disk, ..
        } = a
        {
            all += 1;
            if last.is_some_and(|q| i - q <= revolve::revolver::LOOKAHEAD) {
                hinted += 1;
            }
            last = Some(i);
        }
    }
    (hinted, all)
}

/// The runs compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Row {
    /// `Binomial(n, R + D)`, every slot in RAM.
    RamBinomial,
    /// The multistage schedule with a `RamStore` as its disk level.
    RamMultistage,
    /// The multistage schedule with a `DiskStore`.
    Disk(DiskMode),
}

impl Row {
    const ALL: [Row; 5] = [
        Row::RamBinomial,
        Row::RamMultistage,
        Row::Disk(DiskMode::Prefetch),
        Row::Disk(DiskMode::NoPrefetch),
        Row::Disk(DiskMode::Sync),
    ];

    fn name(self) -> &'static str {
        match self {
            Row::RamBinomial => "RAM only (binomial)",
            Row::RamMultistage => "RAM as disk level",
            Row::Disk(m) => m.name(),
        }
    }
}

/// The run of `row` with the operators `ops`.
fn run_row<F, R>(row: Row, ops: (F, R), o: &Options, u0: &[f64]) -> Result<Run, BoxError>
where
    F: ForwardOperator<Vec<f64>>,
    R: ReverseOperator<Vec<f64>, Vec<f64>>,
{
    let (n, r, d) = (o.n, o.ram, o.disk);
    let plan = || Multistage::best(n, r, d);
    match row {
        Row::RamBinomial => Ok(run(Binomial::new(n, r + d)?, ops, r + d, NoDisk, u0)?.0),
        Row::RamMultistage => {
            let level = RamStore::new(usize::try_from(d)?, &u0.to_vec());
            Ok(run(plan()?, ops, r, level, u0)?.0)
        }
        Row::Disk(m) => {
            let store = TimedStore::new(m.build(d, &o.dir, &u0.to_vec())?);
            let (mut result, store) = run(plan()?, ops, r, store, u0)?;
            result.io = store.io_secs();
            result.disk = Some(store.inner().stats());
            Ok(result)
        }
    }
}

fn main() -> Result<(), BoxError> {
    let o = options()?;
    let (n, r, d) = (o.n, o.ram, o.disk);
    let s = r + d;
    let burgers = Burgers::with_stable_dt(o.len, 0.02, 2.0, 0.9)?;
    let u0 = if o.model == "burgers" {
        burgers.initial_condition()
    } else {
        vec![0.5; o.len]
    };
    let plan = Multistage::best(n, r, d)?;
    let cap = Capacity { ram: r, disk: d };
    let counts = revolve::validate(n, cap, plan.clone())?;
    let mb = o.len as f64 * 8.0 / 1e6;
    let (hinted, disk_restores) = hintable(plan.clone());
    println!(
        "disk_adjoint: {} model, state {} f64 ({mb:.0} MB), n = {n}, R = {r}, D = {d}: \
         forward steps {} (Binomial({n}, {s}) in RAM: the same), disk writes {}, reads {}",
        o.model, o.len, counts.forward, counts.stores[1], counts.restores[1]
    );
    let bin = revolve::validate(n, Capacity::ram(s), Binomial::new(n, s)?)?;
    println!(
        "restores: Binomial({n}, {s}) {}, multistage {} RAM + {} disk; stores: {} and {} + {}",
        bin.restores[0],
        counts.restores[0],
        counts.restores[1],
        bin.stores[0],
        counts.stores[0],
        counts.stores[1]
    );
    println!(
        "disk restores the Revolver can hint (next disk restore within {} actions of the \
         previous one): {hinted} of {disk_restores}",
        revolve::revolver::LOOKAHEAD
    );
    println!("files in {}; load average {}", o.dir.display(), loadavg());
    let (wf, _) = io_times(&o.dir, &u0, true)?;
    println!(
        "one checkpoint written with msync (device): {:.2} ms ({:.2} GB/s)",
        wf * 1e3,
        mb / 1e3 / wf
    );
    println!(
        "{:<21} {:>7} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "run",
        "wall s",
        "cpu s",
        "other s",
        "model s",
        "situ s",
        "/model",
        "/RAM",
        "disk W",
        "disk R",
        "pf hit",
        "waits",
        "copy",
        "uf ms",
        "ub ms",
        "wd ms",
        "rd ms",
        "fgW ms",
        "fgR ms"
    );
    // Per row: the wall times over the RAM-only run's, and the extra seconds outside the
    // operators (over the RAM-only run's) as a fraction of the RAM-only wall time.
    let mut ratios: Vec<(Row, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut reference: Option<Vec<f64>> = None;
    for repeat in 0..o.repeats {
        // Alternate the order of the runs between repeats.
        let mut rows = Row::ALL.to_vec();
        if repeat % 2 == 1 {
            rows.reverse();
        }
        let mut results = Vec::new();
        for row in rows {
            let (wd, rd) = io_times(&o.dir, &u0, false)?;
            let result = if o.model == "burgers" {
                let ops = (
                    BurgersForward::new(burgers.clone()),
                    BurgersAdjoint::new(burgers.clone()),
                );
                run_row(row, ops, &o, &u0)?
            } else {
                let fwd = overhead::Fwd {
                    out_of_place: true,
                    steps: 0,
                    secs: 0.0,
                    oop_steps: 0,
                    oop_secs: 0.0,
                };
                run_row(row, (fwd, overhead::Rev::default()), &o, &u0)?
            };
            // Every run computes the same adjoint, bit for bit.
            let g = reference.get_or_insert_with(|| result.gradient.clone());
            if g.iter()
                .zip(&result.gradient)
                .any(|(a, b)| a.to_bits() != b.to_bits())
            {
                return Err(format!("{row:?}: the adjoint differs").into());
            }
            // A reverse step runs the taped forward step and the adjoint: `ub = uf + adjoint`.
            let adjoint = (result.ub - result.uf).max(0.0);
            let model = match row {
                Row::RamBinomial => {
                    let costs = Costs::new(result.uf, adjoint)
                        .and_then(|c| c.with_disk_seconds(0.0, 0.0))?;
                    price(Binomial::new(n, s)?, n, Capacity::ram(s), &costs)?.makespan
                }
                Row::RamMultistage => {
                    let costs = Costs::new(result.uf, adjoint)
                        .and_then(|c| c.with_disk_seconds(0.0, 0.0))?;
                    price(plan.clone(), n, cap, &costs)?.makespan
                }
                Row::Disk(_) => {
                    let costs =
                        Costs::new(result.uf, adjoint).and_then(|c| c.with_disk_seconds(wd, rd))?;
                    price(plan.clone(), n, cap, &costs)?.makespan
                }
            };
            // The same model with the calling thread's per-operation disk times of this run.
            let st = result.stats.schedule;
            let per = |secs: f64, ops: u64| secs / ops.max(1) as f64;
            let situ = Costs::new(result.uf, adjoint)?
                .with_disk_seconds(
                    per(result.io.0, st.stores[1]),
                    per(result.io.1, st.restores[1]),
                )?
                .makespan(&st);
            results.push((row, result, (model, situ), wd, rd));
        }
        let (ram, ram_other) = results
            .iter()
            .find(|x| x.0 == Row::RamBinomial)
            .map_or((f64::NAN, f64::NAN), |x| (x.1.wall, x.1.wall - x.1.ops));
        results.sort_by_key(|x| Row::ALL.iter().position(|&r| r == x.0));
        for (row, result, (model, situ), wd, rd) in results {
            let st = &result.stats.schedule;
            let dk = result.disk.unwrap_or_default();
            println!(
                "{:<21} {:>7.3} {:>6.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>6.3} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
                row.name(),
                result.wall,
                result.cpu,
                result.wall - result.ops,
                model,
                situ,
                result.wall / model,
                result.wall / ram,
                st.stores[Level::Disk.index()],
                st.restores[Level::Disk.index()],
                dk.prefetch_hits,
                dk.waits,
                result.stats.copies,
                result.uf * 1e3,
                result.ub * 1e3,
                wd * 1e3,
                rd * 1e3,
                1e3 * result.io.0 / st.stores[1].max(1) as f64,
                1e3 * result.io.1 / st.restores[1].max(1) as f64
            );
            let extra = (result.wall - result.ops - ram_other) / ram;
            match ratios.iter_mut().find(|(k, ..)| *k == row) {
                Some((_, w, x)) => {
                    w.push(result.wall / ram);
                    x.push(extra);
                }
                None => ratios.push((row, vec![result.wall / ram], vec![extra])),
            }
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("median over {} repeats:", o.repeats);
    for (row, w, x) in ratios.iter().skip(1) {
        println!(
            "  {:<21} wall/RAM {:.3}, time outside the operators beyond RAM's: {:+.1} % of RAM wall",
            row.name(),
            median(w),
            100.0 * median(x)
        );
    }
    println!("load average {}", loadavg());
    Ok(())
}
