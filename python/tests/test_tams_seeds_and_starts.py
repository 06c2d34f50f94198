"""retrace.tams: random initial conditions (`initial_state(rng)`, a numpy Generator per
trajectory, reproduced by replay and restarts), seeds drawn from the OS when none is given
(reported, recorded, kept by a restart), and stalling raised as `retrace.StalledError`."""

import math

import numpy as np
import pytest

import retrace


class StationaryOu:
    """x <- a x + b xi started from the chain's stationary law N(0, b^2 / (1 - a^2))."""

    noise_size = 1

    def __init__(self, dt=0.05):
        self.dt = dt
        self.a = 1.0 - dt
        self.b = math.sqrt(dt)
        self.sd = self.b / math.sqrt(1.0 - self.a * self.a)
        self.starts = []

    def initial_state(self, rng):
        x = np.array([rng.normal(0.0, self.sd)])
        self.starts.append(float(x[0]))
        return x

    def step(self, x, t, dt, noise):
        x[0] = self.a * x[0] + self.b * noise[0]

    def score(self, x, t):
        return float(x[0])


class Fixed(StationaryOu):
    def initial_state(self):
        return np.array([0.0])


def config(**tams):
    return {
        "tams": {"ntrajectories": 50, "nsplititer": 2000, **tams},
        "trajectory": {"end_time": 1.0, "step_size": 0.05, "targetscore": 1.5},
    }


def strip(r):
    return {k: v for k, v in r.items() if k != "seconds"}


def test_initial_state_with_an_argument_draws_per_trajectory():
    m = StationaryOu()
    r = retrace.tams(m, config(seed=3), threads=2)
    starts = m.starts[1:]  # the first call gives the template
    assert len(set(starts)) == len(starts) >= 50
    # The same seed draws the same starts whatever the thread count; another seed others.
    m1 = StationaryOu()
    assert strip(retrace.tams(m1, config(seed=3), threads=1)) == strip(r)
    assert sorted(m1.starts[1:51]) == sorted(starts[:50])
    m2 = StationaryOu()
    retrace.tams(m2, config(seed=4), threads=1)
    assert sorted(m2.starts[1:51]) != sorted(starts[:50])


def ks_normal(xs, sd):
    """Largest distance between the empirical CDF of `xs` and the N(0, sd^2) CDF."""
    xs = np.sort(np.asarray(xs))
    n = len(xs)
    cdf = 0.5 * np.array([math.erfc(-x / (sd * math.sqrt(2.0))) for x in xs])
    return max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))


def test_start_values_have_the_stationary_law():
    m = StationaryOu()
    cfg = config(seed=11, ntrajectories=2000, nsplititer=0)
    retrace.tams(m, cfg, threads=2)
    xs = m.starts[1:]
    assert len(xs) == 2000
    bound = 1.95 / math.sqrt(len(xs))  # KS at level 0.001
    assert ks_normal(xs, m.sd) < bound
    # The test tells a constant start, or a law 30% too wide, apart.
    assert ks_normal(np.zeros(len(xs)), m.sd) > bound
    assert ks_normal(1.3 * np.array(xs), m.sd) > bound


def test_restart_and_budgets_replay_random_starts_exactly(tmp_path):
    whole = retrace.tams(StationaryOu(), config(seed=5), threads=2)
    assert whole["iterations"] > 20
    budget = dict(config(seed=5))
    budget["trajectory"] = dict(
        budget["trajectory"], policy="uniform", memory_budget=256, checkpoint_interval=5
    )
    b = retrace.tams(StationaryOu(), budget, threads=2)
    assert b["estimate"] == whole["estimate"]
    assert b["replay_steps"] > 0
    for save in (False, True):
        cfg = config(seed=5, nsplititer=whole["iterations"] // 2)
        cfg["database"] = {"path": str(tmp_path / f"run{save}"), "save_states": save}
        first = retrace.tams(StationaryOu(), cfg, threads=2)
        assert first["iterations"] == whole["iterations"] // 2
        again = retrace.tams(
            StationaryOu(), config(seed=5), restart=tmp_path / f"run{save}", threads=2
        )
        assert strip(again) == strip(whole)


def test_a_raising_initial_state_comes_back():
    class Bad(StationaryOu):
        def initial_state(self, rng):
            if self.starts:
                raise KeyError("no start for you")
            return super().initial_state(rng)

    with pytest.raises(KeyError, match="no start for you"):
        retrace.tams(Bad(), config(seed=1), threads=2)


def test_no_seed_draws_one_and_reports_it(tmp_path):
    a = retrace.tams(Fixed(), config(), threads=2)
    b = retrace.tams(Fixed(), config(), threads=2)
    assert a["seed"] != b["seed"]
    again = retrace.tams(Fixed(), config(), threads=1, seed=a["seed"])
    assert strip(again) == strip(a)
    # Recorded in a run database: a restart without a seed keeps it.
    cfg = config(nsplititer=5)
    first = retrace.tams(Fixed(), cfg, db=tmp_path / "run", threads=2)
    rest = retrace.tams(Fixed(), config(), restart=tmp_path / "run", threads=2)
    assert rest["seed"] == first["seed"]
    assert strip(rest) == strip(retrace.tams(Fixed(), config(seed=first["seed"]), threads=2))


def test_stalling_raises_naming_iteration_level_and_count():
    cfg = config(seed=1)
    cfg["trajectory"]["end_time"] = 0.0
    with pytest.raises(retrace.StalledError) as e:
        retrace.tams(Fixed(), cfg, threads=2)
    assert isinstance(e.value, RuntimeError)
    assert (e.value.iteration, e.value.level, e.value.count) == (1, 0.0, 50)
    assert "stalled" in str(e.value)
    cfg["tams"]["on_stall"] = "zero"
    r = retrace.tams(Fixed(), cfg, threads=2)
    assert r["estimate"] == 0.0
