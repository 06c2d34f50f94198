"""pyTAMS 1.0's examples and tests on retrace.compat.pytams, with only the imports changed.

    python pytams_examples.py PYTAMS_CHECKOUT [--examples DoubleWell2D,...] [--repeats K]
        [--set tams.nsplititer=200 ...] [--pytams PYTHON] [--tests] [--reference]

PYTAMS_CHECKOUT is a pyTAMS 1.0 source tree (examples/, tests/). Each example directory is
copied to a temporary directory, `pytams` in its imports is rewritten to
`retrace.compat.pytams`, and its driver script runs there with this Python (nothing of pyTAMS
is committed here or imported from it). `--set TABLE.KEY=VALUE` changes the example's input
file (both runs get the same input); `--repeats K` rewrites the driver's `K = 10`.
`--pytams PYTHON` also runs the original scripts with PYTHON (a Python with pyTAMS 1.0
installed), for the comparison table. `--reference` adds an independent reference: the exact
probability of the discretised Ornstein-Uhlenbeck chain (grid propagation) and vectorised
plain Monte Carlo for the double well and the bi-channel models. `--tests` runs pyTAMS's
tests/test_tams.py against the compat layer (same rewrite) and prints pytest's summary.

Prints one markdown row per example: estimate (mean over the driver's runs) and relative
spread, wall time, for each side, and the reference.
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DRIVERS = {
    "DoubleWell2D": ("DoubleWell2D", "tams_dw2dim.py", "input.toml"),
    "DoubleWell2D_disk": ("DoubleWell2D", "tams_dw2dim_disk.py", "input_disk.toml"),
    "OrnsteinUhlenbeck": ("OrnsteinUhlenbeck", "tams_ou1dim.py", "input.toml"),
    "BiChannel2D": ("BiChannel2D", "tams_bichannel.py", "input.toml"),
    "OU_stationary": ("OrnsteinUhlenbeck", "stationary_distribution.py", "input_stationary.toml"),
}
IMPORT = re.compile(r"^(\s*)(from|import)\s+pytams(\.|\s|$)", re.M)


def rewrite_imports(text):
    """`pytams` -> `retrace.compat.pytams` in import statements (the only edit)."""
    return IMPORT.sub(lambda m: f"{m[1]}{m[2]} retrace.compat.pytams{m[3]}", text)


def set_keys(text, assignments):
    """Set `table.key = value` in a TOML text (the table and key must exist or are added)."""
    for item in assignments:
        name, value = item.split("=", 1)
        table, key = name.strip().split(".", 1)
        head = re.search(rf"^\[{re.escape(table)}\]\s*$", text, re.M)
        if head is None:
            text += f"\n[{table}]\n{key} = {value}\n"
            continue
        end = re.search(r"^\[", text[head.end():], re.M)
        stop = head.end() + (end.start() if end else len(text) - head.end())
        body = text[head.end():stop]
        line = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.M)
        body = line.sub(f"{key} = {value}", body) if line.search(body) else (
            f"\n{key} = {value}" + body
        )
        text = text[: head.end()] + body + text[stop:]
    return text


def prepare(src, dest, compat, assignments, repeats, input_name):
    shutil.copytree(src, dest)
    for py in dest.glob("*.py"):
        text = py.read_text()
        if compat:
            text = rewrite_imports(text)
        if repeats is not None:
            text = re.sub(r"^(\s*)K = 10$", rf"\1K = {repeats}", text, flags=re.M)
        py.write_text(text)
    toml = dest / input_name
    toml.write_text(set_keys(toml.read_text(), assignments))
    if input_name != "input.toml" and input_name != "input_stationary.toml":
        shutil.copy(toml, dest / "input.toml")  # the drivers read input.toml


def run_driver(python, workdir, script, timeout):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    p = subprocess.run(
        [python, script], cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.perf_counter() - t0
    out = p.stdout + p.stderr
    if p.returncode != 0:
        return None, None, seconds, out[-2000:]
    m = re.search(r"P_K: ([-+0-9.eE]+), RE: ([-+0-9.eEna]+)", out)
    if m is None:
        return None, None, seconds, out[-500:]
    return float(m[1]), float(m[2]), seconds, out


# ---- references (own code: the examples' SDEs written out, vectorised) ----

def _ou_grid(params, points):
    """The Euler OU chain on a grid of `points` values up to the target: (x, trapezoid weights,
    transition density kernel[i, j] from x_j to x_i, stationary sigma, number of steps)."""
    theta, eps = params["model"]["theta"], params["model"]["epsilon"]
    dt, a = params["trajectory"]["step_size"], params["trajectory"]["targetscore"]
    n = int(round(params["trajectory"]["end_time"] / dt))
    sigma = math.sqrt(eps / theta)
    x = np.linspace(-12 * sigma, a, points)
    h = x[1] - x[0]
    s = math.sqrt(2 * eps * dt)
    mean = (1 - theta * dt) * x
    kernel = np.exp(-0.5 * ((x[:, None] - mean[None, :]) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    weights = np.full(len(x), h)
    weights[0] = weights[-1] = h / 2
    return x, weights, kernel, sigma, n


def ou_exact(params):
    """P(max_{1<=n<=N} x_n >= a) for the Euler OU chain x_{n+1} = (1 - theta dt) x_n +
    sqrt(2 eps dt) xi from x_0 ~ N(0, eps/theta): grid propagation of the survival density."""
    x, weights, kernel, sigma, n = _ou_grid(params, 6001)
    k = kernel * weights[None, :]
    p = np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    for _ in range(n):
        p = k @ p
    return 1.0 - float(np.sum(p * weights))


def ou_start_shares(params, n_trajectories):
    """What the stationary start contributes: for c = 1..4, P(x0 > c sigma) and the share of p
    from those starts, and the relative error of the average of p(x0) over one run's
    `n_trajectories` starts (the part of a run's error that comes from its start values).
    p(x0) is computed backwards on the grid of `ou_exact` (coarser)."""
    x, w, k, sigma, n = _ou_grid(params, 3001)
    k = k * w[:, None]  # k[i, j]: from x_j to x_i, weighted by the destination's cell
    survive = np.ones(len(x))
    for _ in range(n):
        survive = survive @ k
    hit = 1.0 - survive
    phi = np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    p = float(np.sum(w * phi * hit))
    shares = [(c, float(np.sum(w * phi * (x > c * sigma))),
               float(np.sum(w * phi * hit * (x > c * sigma))) / p) for c in (1, 2, 3, 4)]
    var = float(np.sum(w * phi * hit**2)) - p * p
    return p, shares, math.sqrt(var / n_trajectories) / p


def mc_reference(name, params, samples, seed=1):
    """Plain Monte Carlo of the example's Euler scheme: (p, standard error)."""
    rng = np.random.default_rng(seed)
    dt, target = params["trajectory"]["step_size"], params["trajectory"]["targetscore"]
    n = int(round(params["trajectory"]["end_time"] / dt))
    hit = np.zeros(samples, dtype=bool)
    if name.startswith("DoubleWell2D"):
        eps = params["model"]["epsilon"]
        x = np.tile(np.array([[-1.0], [0.0]]), (1, samples))
        for _ in range(n):
            drift = np.array([x[0] - x[0] ** 3, -2 * x[1]])
            x = x + dt * drift + math.sqrt(dt * eps) * rng.standard_normal(x.shape)
            da = (x[0] + 1) ** 2 + x[1] ** 2
            db = (x[0] - 1) ** 2 + x[1] ** 2
            hit |= 0.5 - 0.5 * np.exp(-8 * da) + 0.5 * np.exp(-8 * db) >= target
    elif name == "BiChannel2D":
        inv_t = params["model"]["inv_temperature"]
        x = np.tile(np.array([[-0.9], [0.1]]), (1, samples))
        for _ in range(n):
            X, Y = x
            e1 = np.exp(-X**2 - (Y - 1 / 3) ** 2)
            e2 = np.exp(-X**2 - (Y - 5 / 3) ** 2)
            e3 = np.exp(-(X - 1) ** 2 - Y**2)
            e4 = np.exp(-(X + 1) ** 2 - Y**2)
            fx = -0.8 * X**3 + 6 * X * e1 - 6 * X * e2 - 10 * (X - 1) * e3 - 10 * (X + 1) * e4
            fy = (-0.8 * (Y - 1 / 3) ** 3 + 6 * (Y - 1 / 3) * e1 - 6 * (Y - 5 / 3) * e2
                  - 10 * Y * e3 - 10 * Y * e4)
            x = x + dt * np.array([fx, fy]) + math.sqrt(2 * dt / inv_t) * rng.standard_normal(x.shape)
            hit |= np.sqrt((x[0] + 1) ** 2 + x[1] ** 2) / 2.0 >= target
    p = hit.mean()
    return p, math.sqrt(max(p * (1 - p), 1e-300) / samples)


def load_params(text):
    import tomllib

    return tomllib.loads(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", type=Path)
    ap.add_argument("--examples", default="DoubleWell2D,OrnsteinUhlenbeck,BiChannel2D,DoubleWell2D_disk")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--set", action="append", default=[], dest="assignments")
    ap.add_argument("--pytams", default=None, help="a Python with pyTAMS 1.0 installed")
    ap.add_argument("--no-retrace", action="store_true", help="run only the pyTAMS side")
    ap.add_argument("--reference", action="store_true")
    ap.add_argument("--mc-samples", type=int, default=200_000)
    ap.add_argument("--tests", action="store_true")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pytams-examples-") as tmp:
        tmp = Path(tmp)
        for name in [e for e in args.examples.split(",") if e]:
            folder, script, input_name = DRIVERS[name]
            src = args.checkout / "examples" / folder
            sides = [] if args.no_retrace else [("retrace", sys.executable, True)]
            if args.pytams:
                sides.append(("pyTAMS", args.pytams, False))
            row = {"model": name}
            for side, python, compat in sides:
                work = tmp / f"{name}-{side}"
                prepare(src, work, compat, args.assignments, args.repeats, input_name)
                p, re_, seconds, out = run_driver(python, work, script, args.timeout)
                row[side] = (p, re_, seconds)
                if p is None and name != "OU_stationary":
                    print(f"## {name} on {side} failed:\n{out}", file=sys.stderr)
                shutil.rmtree(work, ignore_errors=True)
            if args.reference:
                params = load_params(set_keys((src / input_name).read_text(), args.assignments))
                if name == "OrnsteinUhlenbeck":
                    row["reference"] = (ou_exact(params), 0.0, "exact (discrete chain)")
                    p0, shares, re0 = ou_start_shares(params, params["tams"]["ntrajectories"])
                    for c, prob, share in shares:
                        print(f"starts above {c} sigma: P = {prob:.2e}, share of p = {share:.3f}")
                    print(f"relative error of one run's start-value average: {re0:.1f} (p = {p0:.4g})")
                elif name != "OU_stationary":
                    p, se = mc_reference(name, params, args.mc_samples)
                    row["reference"] = (p, se, f"MC {args.mc_samples}")
            rows.append(row)
            print_row(row)
        if args.tests:
            run_tests(args.checkout, tmp)


def fmt(cell):
    if cell is None:
        return "-"
    p, re_, seconds = cell
    if p is None:
        return f"failed ({seconds:.1f} s)"
    return f"{p:.4g} (RE {re_:.2g}) in {seconds:.1f} s"


def print_row(row):
    ref = row.get("reference")
    ref_s = "-" if ref is None else f"{ref[0]:.4g} ± {ref[1]:.2g} ({ref[2]})"
    print(f"| {row['model']} | {fmt(row.get('pyTAMS'))} | {fmt(row.get('retrace'))} | {ref_s} |",
          flush=True)


def run_tests(checkout, tmp):
    """pyTAMS's tests/test_tams.py on the compat layer, in order (as pyTAMS runs it), then
    each failure alone in a fresh directory (a failing test leaves its database behind for
    the next ones)."""
    def fresh(name):
        work = tmp / name
        shutil.copytree(checkout / "tests", work / "tests")
        for py in (work / "tests").glob("*.py"):
            py.write_text(rewrite_imports(py.read_text()))
        return work

    def pytest(work, *targets):
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
               "--tb=line", *targets]
        return subprocess.run(cmd, cwd=work, capture_output=True, text=True).stdout

    out = pytest(fresh("pytams-tests"), "tests/test_tams.py")
    print(out[-5000:])
    failed = re.findall(r"^FAILED (tests/test_tams.py::\w+)", out, re.M)
    for k, test in enumerate(failed):
        alone = pytest(fresh(f"alone-{k}"), test)
        print(f"alone: {test}: {alone.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
