"""TAMS on a Python double-well model: cost per model step of retrace.tams, beside the Python
step's own cost (the model's callbacks alone, called from a Python loop), the same model through
retrace.compat.pytams, and the built-in Rust model for scale.

Model: pyTAMS's benchmark, the 2D double well V = x^4/4 - x^2/2 + y^2 with noise sqrt(eps dt) xi
(eps = 0.05, dt = 0.01, T = 10, from (-0.92, 0), target 0.95 on pyTAMS's score), the state a
numpy array of 2 floats, written with the float operations of retrace's built-in doublewell2d
(so all rows must give the same estimate bit for bit; the script checks it). Per step
retrace.tams calls step(state, t, dt, noise) and score(state, t).

Columns: us per model step (wall time / (model steps + replay steps)), best of the repeats;
"callbacks alone": the same number of step + score calls made from a Python loop, per step;
"vs pyTAMS": pyTAMS 1.0's 265 us per step on this model (the figure measured on this machine
when the issue was filed; the low end of 265-336 us) divided by the row's cost (the target is
>= 20).

Needs: pip install ./python. Run: python python/bench/tams_python_model.py [--n 100] [--repeats 3]
"""

import argparse
import math
import os
import tempfile
import time

import numpy as np

import retrace
from retrace.compat import pytams

PYTAMS_US_PER_STEP = 265.0


class DoubleWell2d:
    """The model, written for retrace.tams."""

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
        return _score(u[0], u[1])


def _score(x, y):
    da = (x + 1.0) * (x + 1.0) + y * y
    db = (x - 1.0) * (x - 1.0) + y * y
    return 0.5 - 0.5 * math.exp(-8.0 * da) + 0.5 * math.exp(-8.0 * db)


class DoubleWell2dPyTAMS(pytams.ForwardModelBaseClass):
    """The same model written the pyTAMS 1.0 way."""

    def _init_model(self, m_id, params):
        self._eps = params["model"]["epsilon"]
        self._state = np.array([-0.92, 0.0])

    def _advance(self, step, time, dt, noise, need_end_state):
        u = self._state
        x, y = u[0], u[1]
        a = math.sqrt(self._eps * dt)
        u[0] = x - (x * x * x - x) * dt + a * noise[0]
        u[1] = y - 2.0 * y * dt + a * noise[1]
        return dt

    def get_current_state(self):
        return self._state

    def set_current_state(self, state):
        self._state = state

    def score(self):
        return _score(self._state[0], self._state[1])

    def make_noise(self):
        return np.random.normal(0.0, 1.0, 2)


def config(n):
    return {
        "tams": {"ntrajectories": n, "nsplititer": 100 * n, "seed": 1},
        "trajectory": {"end_time": 10.0, "step_size": 0.01, "targetscore": 0.95},
    }


def per_step(report, seconds):
    steps = report["model_steps"] + report["replay_steps"]
    return 1e6 * seconds / steps, steps


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def callbacks_alone(steps):
    """step + score called `steps` times from a Python loop (noise drawn beforehand)."""
    m = DoubleWell2d()
    u = m.initial_state()
    noise = np.random.default_rng(0).standard_normal((min(steps, 100_000), 2))
    t = time.perf_counter()
    for i in range(steps):
        m.step(u, 0.0, 0.01, noise[i % len(noise)])
        m.score(u, 0.0)
        if u[0] > 0.5:
            u[0] = -0.92
    return 1e6 * (time.perf_counter() - t) / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="ntrajectories")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = {}

    def record(name, us, steps, estimate):
        best = rows.get(name)
        if best is None or us < best[0]:
            rows[name] = (us, steps, estimate)

    with tempfile.TemporaryDirectory() as tmp:
        toml = os.path.join(tmp, "input.toml")
        with open(toml, "w") as f:
            f.write(
                f"[tams]\nntrajectories = {args.n}\nnsplititer = {100 * args.n}\nseed = 1\n"
                "[trajectory]\nend_time = 10.0\nstep_size = 0.01\ntargetscore = 0.95\n"
                "[model]\nepsilon = 0.05\n"
            )
        builtin = dict(config(args.n), model={"name": "doublewell2d", "epsilon": 0.05})
        for _ in range(args.repeats):
            for threads in (1, 2):
                r, s = timed(lambda: retrace.tams(DoubleWell2d(), config(args.n), threads=threads))
                record(f"retrace.tams, Python model, {threads} thread(s)", *per_step(r, s),
                       r["estimate"])
            r, s = timed(lambda: pytams.run(DoubleWell2dPyTAMS, toml, threads=1))
            record("compat.pytams, pyTAMS-style class, 1 thread", *per_step(r, s), r["estimate"])
            r, s = timed(lambda: retrace.tams(None, builtin, threads=1))
            record("built-in doublewell2d (Rust), 1 thread", *per_step(r, s), r["estimate"])
        steps = rows["retrace.tams, Python model, 1 thread(s)"][1]
        alone = min(callbacks_alone(min(steps, 300_000)) for _ in range(args.repeats))

    estimates = {est for (_, _, est) in rows.values()}
    assert len(estimates) == 1, f"the rows' estimates differ: {rows}"
    print(f"TAMS, 2D double well, N = {args.n}, best of {args.repeats}; "
          f"callbacks alone (step + score from a Python loop): {alone:.2f} us per step")
    print(f"| {'run':<45} | {'us/step':>8} | {'steps':>9} | {'estimate':>10} | "
          f"{'x callbacks':>11} | {'vs pyTAMS':>9} |")
    print(f"|{'-' * 47}|{'-' * 10}|{'-' * 11}|{'-' * 12}|{'-' * 13}|{'-' * 11}|")
    for name, (us, steps, est) in rows.items():
        print(f"| {name:<45} | {us:8.2f} | {steps:9d} | {est:10.3e} | {us / alone:11.2f} | "
              f"{PYTAMS_US_PER_STEP / us:8.1f}x |")


if __name__ == "__main__":
    main()
