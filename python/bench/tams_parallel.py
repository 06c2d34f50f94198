"""retrace.tams(..., workers=N) on Python models: wall time of 1 and N worker processes in the
same run, and the speed-up, for a pure-Python model and a numpy-heavy one. Every row of a model
must give the same report bit for bit (the script checks it).

Models:
- DoubleWell2d: pyTAMS's benchmark (V = x^4/4 - x^2/2 + y^2, dt = 0.01, T = 10) at eps = 0.1,
  pure Python on a 2-float numpy state (see tams_python_model.py);
- AllenCahn1d: a stochastic Allen-Cahn field of 1024 points, each step a few numpy array
  operations (a periodic Laplacian, the cubic, 8 noise modes), score the field's mean.

TAMS with N trajectories (several N for the pure-Python model) and l = N / 4 (so an iteration has tasks for every worker). Columns:
workers (processes: this one and workers - 1 children), wall seconds (best of the repeats),
speed-up over 1 worker, model steps, estimate. The machine's load (`os.getloadavg`) is printed
before and after: on a shared machine the speed-up is bounded by the cores left free.

Needs: pip install ./python. Run: python python/bench/tams_parallel.py [--workers 1,2]
[--repeats 3] [--n 128,512,1536] [--n-numpy 128]
"""

import argparse
import math
import os
import time

import numpy as np

import retrace


class DoubleWell2d:
    """pyTAMS's 2D double well, pure Python."""

    noise_size = 2

    def __init__(self, epsilon=0.05):
        self.epsilon = epsilon

    def initial_state(self):
        return np.array([-0.92, 0.0])

    def step(self, u, t, dt, noise):
        x, y = u[0], u[1]
        a = math.sqrt(self.epsilon * dt)
        u[0] = x - (x * x * x - x) * dt + a * noise[0]
        u[1] = y - 2.0 * y * dt + a * noise[1]

    def score(self, u, t):
        x, y = u[0], u[1]
        da = (x + 1.0) * (x + 1.0) + y * y
        db = (x - 1.0) * (x - 1.0) + y * y
        return 0.5 - 0.5 * math.exp(-8.0 * da) + 0.5 * math.exp(-8.0 * db)


class AllenCahn1d:
    """A stochastic Allen-Cahn field u_t = D u_xx + u - u^3 + sigma sum_k xi_k cos(k x)."""

    noise_size = 8

    def __init__(self, points=1024, diffusion=1e-3, sigma=0.4):
        self.points = points
        self.diffusion = diffusion
        self.sigma = sigma
        x = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
        self._modes = np.cos(np.outer(np.arange(1, self.noise_size + 1), x))
        self._h2 = (2.0 * np.pi / points) ** 2

    def initial_state(self):
        return -np.ones(self.points)

    def step(self, u, t, dt, noise):
        lap = (np.roll(u, 1) - 2.0 * u + np.roll(u, -1)) / self._h2
        drift = self.diffusion * lap + u - u * u * u
        u += drift * dt + self.sigma * math.sqrt(dt) * (noise @ self._modes)

    def score(self, u, t):
        return float(0.5 * (np.mean(u) + 1.0))


def config(n, end_time, target, nsplititer, **trajectory):
    return {
        "tams": {"ntrajectories": n, "nsplititer": nsplititer, "l": max(1, n // 4), "seed": 1},
        "trajectory": {
            "end_time": end_time, "step_size": 0.01, "targetscore": target, **trajectory
        },
    }


def strip(r):
    return {k: v for k, v in r.items() if k not in ("seconds",)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", default="128,512,1536", help="trajectories of the pure-Python model, comma-separated")
    ap.add_argument("--n-numpy", type=int, default=128, help="trajectories of the numpy model")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    # eps = 0.1: p about 1e-2 (eps = 0.05 with these N stalls: every trajectory at one level).
    # Longer runs amortise the children's start (spawn, imports) and the iterations' imbalance.
    cases = [
        (f"DoubleWell2d (pure Python), N = {n}", DoubleWell2d(0.1), config(n, 10.0, 0.95, 4000))
        for n in (int(x) for x in args.n.split(","))
    ]
    cases.append(
        (
            f"AllenCahn1d (numpy, 1024 points), N = {args.n_numpy}",
            AllenCahn1d(),
            # 8 KB states: checkpoints under a budget (per process), replay between them.
            config(args.n_numpy, 4.0, 0.45, 400, policy="uniform", memory_budget="16MiB"),
        )
    )
    print(f"load before: {os.getloadavg()}, cpus: {os.cpu_count()}")
    print(f"{'model':<44} {'workers':>7} {'wall s':>8} {'speed-up':>8} {'steps':>9} estimate")
    for name, model, cfg in cases:
        best, reports = {}, {}
        for _ in range(args.repeats):
            for w in counts:  # interleaved, so a change in load hits every row alike
                t0 = time.perf_counter()
                r = retrace.tams(model, cfg, threads=1, workers=w)
                dt = time.perf_counter() - t0
                best[w] = min(best.get(w, dt), dt)
                reports.setdefault(w, r)
                assert strip(r) == strip(reports[counts[0]]), f"{name}: {w} workers differ"
        for w in counts:
            r = reports[w]
            print(
                f"{name:<44} {w:>7} {best[w]:>8.2f} {best[counts[0]] / best[w]:>8.2f} "
                f"{r['model_steps'] + r['replay_steps']:>9} {r['estimate']:.4e}"
            )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
