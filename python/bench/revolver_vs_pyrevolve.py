"""retrace's Revolver from Python against pyrevolve 2.2.8, and against the same run driven from
Rust, on pyrevolve's benchmark shape: an 8 MB state (10^6 f64), n = 1000 steps, s = 20 RAM
checkpoints, forward `u += 1`, reverse `v += u` (numpy on both sides).

Columns: CPU seconds of apply_forward + apply_reverse (the thread's on-CPU time: on a shared
machine wall time also counts other processes' turns), best and median over the repeats (runs
interleaved), the best run's wall seconds, state copies, and the ratios of best CPU times.
Rows:
  pyrevolve              pyrevolve 2.2.8 (its MemoryRevolver; a reverse step is one forward
                         step then the reverse operator, by pyrevolve's convention)
  compat.pyrevolve       the same user code with `from retrace.compat import pyrevolve`
  retrace in-place       retrace.Revolver, forward(u, t0, t1) in place
  retrace out-of-place   retrace.Revolver with forward_from(u_in, u_out, t0, t1) too: no
                         checkpoint copied
  rust in-place / oop    examples/revolver_unit_ops.rs: the same Revolver and operators in Rust

Needs: pip install ./python pyrevolve==2.2.8; cargo (builds the Rust example in release mode).
Run:   python python/bench/revolver_vs_pyrevolve.py [--len 1000000] [--n 1000] [--s 20] [--repeats 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import retrace
from retrace.compat import pyrevolve as compat

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pyrevolve_style(pr, length, n, s):
    """pyrevolve user code (module `pr`: pyrevolve itself or retrace.compat.pyrevolve)."""
    u = np.zeros(length)
    v = np.zeros(length)

    class Cp(pr.Checkpoint):
        @property
        def dtype(self):
            return np.float64

        @property
        def size(self):
            return length

        def get_data(self, timestep):
            return [u]

        def get_data_location(self, timestep):
            return [u]

    class Fwd(pr.Operator):
        def apply(self, **kw):
            for _ in range(kw["t_start"], kw["t_end"]):
                u[...] += 1.0

    class Rev(pr.Operator):
        def apply(self, **kw):
            v[...] += u

    rv = pr.Revolver(Cp(), Fwd(), Rev(), s, n)
    t, c = time.perf_counter(), time.thread_time()
    rv.apply_forward()
    u_n = u[0]
    rv.apply_reverse()
    wall, cpu = time.perf_counter() - t, time.thread_time() - c
    # pyrevolve's reverse sees the fields after the step's forward: v = sum of u_{k+1}.
    assert u_n == n and v[0] == n * (n + 1) / 2, (u_n, v[0])
    return wall, cpu, ""



def retrace_run(length, n, s, out_of_place):
    u = np.zeros(length)
    v = np.zeros(length)
    def forward(u, t0, t1):
        for _ in range(t0, t1):
            u += 1.0

    def forward_from(u_in, u_out, t0, t1):
        np.add(u_in, 1.0, out=u_out)
        for _ in range(t0 + 1, t1):
            u_out += 1.0

    def reverse(u, v, k):
        v += u

    rv = retrace.Revolver(u, forward, reverse, n, snaps=s,
                          forward_from=forward_from if out_of_place else None)
    t, c = time.perf_counter(), time.thread_time()
    rv.apply_forward()
    rv.apply_reverse(v)
    wall, cpu = time.perf_counter() - t, time.thread_time() - c
    assert u[0] == n and v[0] == n * (n - 1) / 2, (u[0], v[0])
    return wall, cpu, rv.stats["copies"]


def retrace_insitu(length, n, s):
    """One more out-of-place run with the callbacks timed from inside: what is left is the
    driver's own CPU time (the Revolver, the Python calls, the signal checks)."""
    spent = [0.0]

    def timed(f):
        def wrapper(*args):
            t = time.thread_time()
            f(*args)
            spent[0] += time.thread_time() - t
        return wrapper

    @timed
    def forward(u, t0, t1):
        for _ in range(t0, t1):
            u += 1.0

    @timed
    def forward_from(u_in, u_out, t0, t1):
        np.add(u_in, 1.0, out=u_out)
        for _ in range(t0 + 1, t1):
            u_out += 1.0

    @timed
    def reverse(u, v, k):
        v += u

    u, v = np.zeros(length), np.zeros(length)
    rv = retrace.Revolver(u, forward, reverse, n, snaps=s, forward_from=forward_from)
    c = time.thread_time()
    rv.apply_forward()
    rv.apply_reverse(v)
    total = time.thread_time() - c
    return total, total - spent[0]


def rust_runs(length, n, s):
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "revolver_unit_ops"],
        cwd=ROOT, check=True,
    )
    exe = os.path.join(ROOT, "target", "release", "examples", "revolver_unit_ops")
    # numpy asks for transparent huge pages for large arrays; let glibc's malloc do the same for
    # the Rust run (glibc >= 2.35; ignored elsewhere), so both sides get the same memory.
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
    out = subprocess.run([exe, str(length), str(n), str(s), "1"], check=True,
                         capture_output=True, text=True, env=env).stdout
    rows = [line.split() for line in out.splitlines()]
    return {r[0]: (float(r[1]), float(r[2]), int(r[3])) for r in rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--len", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--s", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    import pyrevolve

    names = ["pyrevolve", "compat.pyrevolve", "retrace in-place", "retrace out-of-place",
             "rust in-place", "rust out-of-place"]
    runs = {k: [] for k in names}  # (wall, cpu, copies) per repeat
    for _ in range(a.repeats):
        runs["pyrevolve"].append(pyrevolve_style(pyrevolve, a.len, a.n, a.s))
        runs["compat.pyrevolve"].append(pyrevolve_style(compat, a.len, a.n, a.s))
        for oop in (False, True):
            name = "retrace out-of-place" if oop else "retrace in-place"
            runs[name].append(retrace_run(a.len, a.n, a.s, oop))
        for variant, r in rust_runs(a.len, a.n, a.s).items():
            runs[f"rust {variant}"].append(r)

    best = {k: min(v, key=lambda r: r[1]) for k, v in runs.items()}
    print(f"state {a.len} f64 ({a.len * 8 / 1e6:.0f} MB), n = {a.n}, s = {a.s}, "
          f"{a.repeats} interleaved repeats; pyrevolve {pyrevolve.__version__}, "
          f"python {sys.version.split()[0]}")
    print(f"{'driver':<22} {'cpu best':>9} {'cpu med':>8} {'wall':>7} {'copies':>7} "
          f"{'pyrevolve/this':>15} {'this/rust':>10}")
    for k in names:
        cpu = best[k][1]
        rust = best["rust out-of-place" if "out-of-place" in k else "rust in-place"][1]
        vs_rust = f"{cpu / rust:.3f}" if k.startswith("retrace") else ""
        print(f"{k:<22} {cpu:>9.3f} {statistics.median(r[1] for r in runs[k]):>8.3f} "
              f"{best[k][0]:>7.3f} {best[k][2]:>7} {best['pyrevolve'][1] / cpu:>15.2f} "
              f"{vs_rust:>10}")
    total, driver = retrace_insitu(a.len, a.n, a.s)
    print(f"retrace out-of-place, callbacks timed inside: {total:.3f} s CPU, of which "
          f"{driver:.3f} s outside the callbacks (driver, Python calls, signal checks)")


if __name__ == "__main__":
    main()
