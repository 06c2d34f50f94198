"""retrace.compat.pytams: a random start drawn in `_init_model` (pyTAMS's OrnsteinUhlenbeck
example) differs per trajectory, has the right distribution, is regenerated exactly on replay and
restart, and gives the exact probability."""

import math

import numpy as np
import pytest

import retrace
from retrace.compat import pytams
from retrace.compat.pytams import ForwardModelBaseClass

THETA, EPS = 1.0, 0.5
SIGMA = math.sqrt(EPS / THETA)


class OrnsteinUhlenbeck(ForwardModelBaseClass):
    """dX = -theta X dt + sqrt(2 eps) dW from the stationary law N(0, eps/theta), drawn as the
    pyTAMS example does (an unseeded `np.random.default_rng()` in `_init_model`)."""

    def _init_model(self, m_id, params):
        self._theta = params["model"]["theta"]
        self._eps = params["model"]["epsilon"]
        self._state = np.random.default_rng().normal(scale=math.sqrt(self._eps / self._theta))

    def _advance(self, step, time, dt, noise, need_end_state):
        self._state = (1.0 - self._theta * dt) * self._state + math.sqrt(2 * self._eps * dt) * noise
        return dt

    def get_current_state(self):
        return self._state

    def set_current_state(self, state):
        self._state = state

    def score(self):
        return self._state

    def make_noise(self):
        return np.random.standard_normal()


INPUT = """
[tams]
ntrajectories = {n}
nsplititer = 400
seed = {seed}

[trajectory]
end_time = 1.0
step_size = 0.01
targetscore = {target}
{policy}

[runner]
nworker_init = 2

[model]
theta = 1.0
epsilon = 0.5
"""


def write(tmp_path, n=50, seed=1, target=2.0 * SIGMA, policy="", name="ou.toml", db=None):
    text = INPUT.format(n=n, seed=seed, target=target, policy=policy)
    if db is not None:
        text += f'\n[database]\npath = "{db}"\n'
    path = tmp_path / name
    path.write_text(text)
    return path


def exact(target, steps=100, dt=0.01):
    """P(max_{1<=k<=steps} X_k >= target) for the Euler chain from N(0, sigma^2): the survival
    density propagated on a grid (trapezoid rule)."""
    x = np.linspace(-10 * SIGMA, target, 3001)
    h = x[1] - x[0]
    w = np.full(len(x), h)
    w[0] = w[-1] = h / 2
    s = math.sqrt(2 * EPS * dt)
    mean = (1 - THETA * dt) * x
    k = np.exp(-0.5 * ((x[:, None] - mean[None, :]) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    k *= w[None, :]
    p = np.exp(-0.5 * (x / SIGMA) ** 2) / (SIGMA * math.sqrt(2 * math.pi))
    for _ in range(steps):
        p = k @ p
    return 1.0 - float(p @ w)


def test_start_values_have_the_stationary_law(tmp_path):
    run = tmp_path / "ou.tdb"
    pytams.run(OrnsteinUhlenbeck, str(write(tmp_path, n=400, db=run)))
    db = retrace.db.open(run)
    cols = db.trajectories
    starts = np.array([db.scores(int(i))[0] for i, p in zip(cols["id"], cols["parent"]) if p < 0])
    assert len(starts) == 400
    assert len(np.unique(starts)) == 400
    # Mean 0 and standard deviation sigma, within 4 standard errors (a constant start fails).
    assert abs(starts.mean()) < 4 * SIGMA / math.sqrt(400)
    assert abs(starts.std() / SIGMA - 1) < 4 / math.sqrt(2 * 400)
    # Branched children start as their parents did (their prefix is the parent's).
    for i, p, b in zip(cols["id"], cols["parent"], cols["branch_step"]):
        if p >= 0:
            assert db.scores(int(i))[0] == db.scores(int(p))[0]


def test_replay_and_restart_regenerate_the_start(tmp_path):
    ref = pytams.run(OrnsteinUhlenbeck, str(write(tmp_path)))
    budget = 'policy = "uniform"\nmemory_budget = "4KiB"'
    replayed = pytams.run(OrnsteinUhlenbeck, str(write(tmp_path, policy=budget, name="b.toml")))
    assert replayed["replay_steps"] > 0
    assert replayed["runs"] == ref["runs"]
    run = tmp_path / "ou.tdb"
    part = write(tmp_path, db=run, name="p.toml")
    part.write_text(part.read_text().replace("nsplititer = 400", "nsplititer = 10"))
    pytams.run(OrnsteinUhlenbeck, str(part))
    assert pytams.run(OrnsteinUhlenbeck, str(write(tmp_path, db=run)))["runs"] == ref["runs"]


def test_stationary_start_gives_the_exact_probability(tmp_path):
    target = 2.0 * SIGMA
    p = exact(target)
    estimates = [
        pytams.run(OrnsteinUhlenbeck, str(write(tmp_path, seed=s, target=target)))["estimate"]
        for s in range(10)
    ]
    mean = np.mean(estimates)
    se = np.std(estimates, ddof=1) / math.sqrt(len(estimates))
    assert 0.05 < p < 0.5
    assert abs(mean - p) < 4 * se
