"""retrace.tams on Python models: bit-identical to the built-in Rust model doing the same float
operations, independent of the thread count, database + restart, refused restarts, the model's
own exceptions coming back."""

import math

import numpy as np
import pytest

import retrace


class DoubleWell1d:
    """The built-in `doublewell1d`, operation for operation (so results match bit for bit)."""

    noise_size = 1

    def __init__(self, epsilon=0.1, x0=-1.0):
        self.epsilon = epsilon
        self.x0 = x0

    def initial_state(self):
        return np.array([self.x0])

    def step(self, x, t, dt, noise):
        v = x[0]
        x[0] = v + (v - v * v * v) * dt + math.sqrt(2.0 * self.epsilon * dt) * noise[0]

    def score(self, x, t):
        return 1.0 - abs(x[0] - 1.0) / 2.0


class Brownian2d:
    """Two independent Brownian paths on a (1, 2) state; score: the first one."""

    noise_size = 2

    def initial_state(self):
        return np.zeros((1, 2))

    def step(self, x, t, dt, noise):
        x += math.sqrt(dt) * noise.reshape(1, 2)

    def score(self, x, t):
        return float(x[0, 0])


def config(**tams):
    return {
        "tams": {"ntrajectories": 40, "nsplititer": 400, "seed": 7, **tams},
        "trajectory": {"end_time": 4.0, "step_size": 0.01, "targetscore": 0.8},
    }


def same(a, b):
    """Reports equal bit for bit, apart from the timing and the model's name."""
    strip = lambda r: {k: v for k, v in r.items() if k not in ("seconds", "model")}
    assert strip(a) == strip(b)


def test_python_model_matches_builtin_bit_for_bit():
    py = retrace.tams(DoubleWell1d(epsilon=0.1), config(), threads=2)
    builtin = retrace.tams(
        None, dict(config(), model={"name": "doublewell1d", "epsilon": 0.1}), threads=2
    )
    assert 0.0 < py["estimate"] < 0.5
    assert py["iterations"] > 10
    assert py["estimate"] == builtin["estimate"]
    same(py, builtin)
    assert py["model"] == "python:test_tams.DoubleWell1d"
    assert builtin["model"] == "doublewell1d"


def test_thread_count_does_not_change_the_result():
    one = retrace.tams(DoubleWell1d(), config(), threads=1)
    two = retrace.tams(DoubleWell1d(), config(), threads=2)
    same(one, two)


def test_known_probability_of_a_brownian_path():
    # P(max of a 100-step Brownian path on [0, 1] >= 3) = 2.256626e-3 (sampler reference).
    cfg = {
        "tams": {"ntrajectories": 200, "nsplititer": 20000, "seed": 1},
        "trajectory": {"end_time": 1.0, "step_size": 0.01, "targetscore": 3.0},
    }
    r = retrace.tams(Brownian2d(), cfg, threads=2)
    assert r["details"][0]["stop"] == "converged"
    # Relative standard error of TAMS here is about sqrt(-ln p / N) = 0.17: 3 sigma.
    assert abs(r["estimate"] / 2.256626e-3 - 1.0) < 0.5, r["estimate"]


def test_config_from_a_toml_file_with_a_memory_budget(tmp_path):
    path = tmp_path / "input.toml"
    path.write_text(
        "[tams]\nntrajectories = 40\nnsplititer = 400\nseed = 7\n"
        "[trajectory]\nend_time = 4.0\nstep_size = 0.01\ntargetscore = 0.8\n"
        f'policy = "uniform"\nmemory_budget = "64KiB"\ncheckpoint_dir = "{tmp_path}"\n'
    )
    budget = retrace.tams(DoubleWell1d(), str(path), threads=2)
    everything = retrace.tams(DoubleWell1d(), config(), threads=2)
    assert budget["estimate"] == everything["estimate"]
    assert budget["replay_steps"] > 0


def test_database_and_restart_are_bit_identical(tmp_path):
    full = retrace.tams(DoubleWell1d(), config(), threads=2)
    assert full["iterations"] > 20
    run = tmp_path / "run"
    part = retrace.tams(DoubleWell1d(), config(nsplititer=10), db=run, threads=1)
    assert part["iterations"] == 10
    assert part["details"][0]["stop"] == "iteration_budget"
    rest = retrace.tams(DoubleWell1d(), config(), restart=run, threads=2)
    assert rest["estimate"] == full["estimate"]
    assert rest["details"][0]["stop"] == full["details"][0]["stop"]
    # The database holds the run: retrace.db reads it.
    assert retrace.db.open(str(run)).iterations["iteration"][-1] == full["iterations"]
    # A restart with the recorded config only: already done, same estimate.
    again = retrace.tams(DoubleWell1d(), restart=run)
    assert again["estimate"] == full["estimate"]


def test_restart_with_a_changed_parameter_is_refused(tmp_path):
    run = tmp_path / "run"
    retrace.tams(DoubleWell1d(epsilon=0.1), config(nsplititer=5), db=run)
    with pytest.raises(retrace.ConfigError, match="model.epsilon changed from 0.1 to 0.2") as e:
        retrace.tams(DoubleWell1d(epsilon=0.2), config(), restart=run)
    assert e.value.key == "model.epsilon"

    class Other(DoubleWell1d):
        pass

    with pytest.raises(retrace.ConfigError, match="model.name"):
        retrace.tams(Other(epsilon=0.1), config(), restart=run)


def test_parameters_method_describes_the_model(tmp_path):
    class Explicit(DoubleWell1d):
        def parameters(self):
            return {"epsilon": self.epsilon, "grid": [1, 2, 3]}

    run = tmp_path / "run"
    retrace.tams(Explicit(), config(nsplititer=5), db=run)
    recorded = retrace.db.open(str(run)).summary["config"]["toml"]
    assert "grid = [1, 2, 3]" in recorded, recorded
    m = Explicit()
    m.epsilon = 0.3
    with pytest.raises(retrace.ConfigError, match="model.epsilon"):
        retrace.tams(m, config(), restart=run)


class Boom(Exception):
    pass


class Failing(DoubleWell1d):
    """Raises in `step` from t = 0.5 on, or in `score` when `in_score`."""

    def __init__(self, in_score=False):
        super().__init__()
        self.in_score = in_score

    def step(self, x, t, dt, noise):
        if not self.in_score and t >= 0.5:
            raise Boom(f"step at t={t:.2f}")
        super().step(x, t, dt, noise)

    def score(self, x, t):
        if self.in_score and t >= 0.5:
            raise Boom(f"score at t={t:.2f}")
        return super().score(x, t)


@pytest.mark.parametrize("in_score", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_callback_exceptions_come_back_unchanged(in_score, threads):
    with pytest.raises(Boom) as e:
        retrace.tams(Failing(in_score), config(), threads=threads)
    assert str(e.value) == ("score at t=0.50" if in_score else "step at t=0.50")


def test_a_nan_score_is_reported():
    class Nan(DoubleWell1d):
        def score(self, x, t):
            return float("nan")

    with pytest.raises(ValueError, match="NaN score"):
        retrace.tams(Nan(), config())


def test_config_errors_name_the_key(tmp_path):
    bad = config()
    bad["tams"]["ntrajectories"] = 1
    with pytest.raises(retrace.ConfigError, match="tams.ntrajectories: must be >= 2"):
        retrace.tams(DoubleWell1d(), bad)
    bad = config()
    bad["trajectory"]["stepsize"] = 0.1
    with pytest.raises(retrace.ConfigError, match="trajectory.stepsize: unknown key"):
        retrace.tams(DoubleWell1d(), bad)
    with pytest.raises(retrace.ConfigError, match=r"model: a Python model"):
        retrace.tams(DoubleWell1d(), dict(config(), model={"name": "x"}))
    path = tmp_path / "bad.toml"
    path.write_text("[tams]\nntrajectories = 10\nnsplititer = 5\n[trajectory]\nend_time = 1.0\n")
    with pytest.raises(retrace.ConfigError, match=r"bad.toml: trajectory.step_size: missing"):
        retrace.tams(DoubleWell1d(), str(path))
    with pytest.raises(retrace.ConfigError, match="db, restart"):
        retrace.tams(DoubleWell1d(), config(), db=tmp_path / "a", restart=tmp_path / "b")
    with pytest.raises(TypeError, match="noise_size"):
        retrace.tams(object(), config())


def test_ctrl_c_stops_the_run(ctrl_c):
    import os
    import signal

    class Interrupting(DoubleWell1d):
        """Sends itself SIGINT (as Ctrl-C does) at its 1000th step, then counts steps."""

        calls = 0

        def step(self, x, t, dt, noise):
            Interrupting.calls += 1
            if Interrupting.calls == 1000:
                os.kill(os.getpid(), signal.SIGINT)
            super().step(x, t, dt, noise)

    # The target is never reached: a run of hours, and a store-all footprint (640 MB) that
    # passes the memory check.
    cfg = config(nsplititer=10**9, ntrajectories=200)
    cfg["trajectory"].update(end_time=2e3, targetscore=2.0)
    with pytest.raises(KeyboardInterrupt):
        retrace.tams(Interrupting(), cfg, threads=2)
    # Stopped early: the ensemble alone would take 4e7 steps.
    assert Interrupting.calls < 10**7


def test_monte_carlo_strategy_on_a_python_model():
    cfg = config()
    cfg["sampler"] = {"strategy": "montecarlo"}
    one = retrace.tams(DoubleWell1d(), cfg, threads=1)
    two = retrace.tams(DoubleWell1d(), cfg, threads=2)
    builtin = retrace.tams(None, dict(cfg, model={"name": "doublewell1d", "epsilon": 0.1}))
    assert one["strategy"] == "montecarlo"
    assert one["estimate"] == two["estimate"] == builtin["estimate"]
    assert one["model_steps"] == builtin["model_steps"]


class Interrupts(DoubleWell1d):
    """Sends itself SIGINT at its `at`-th step and waits until the handler ran (`at`, `seen`:
    class attributes, not part of the model's identity)."""

    at = None
    calls = 0
    seen = None

    def step(self, x, t, dt, noise):
        import os
        import signal

        Interrupts.calls += 1
        if Interrupts.calls == Interrupts.at:
            os.kill(os.getpid(), signal.SIGINT)
            Interrupts.seen.wait()
        super().step(x, t, dt, noise)


def test_a_run_stopped_by_ctrl_c_restarts_bit_identical(tmp_path):
    import signal
    import threading

    full = retrace.tams(DoubleWell1d(), config(), threads=2)
    run = tmp_path / "run"
    Interrupts.at, Interrupts.calls, Interrupts.seen = 20_000, 0, threading.Event()

    def handler(signum, frame):
        Interrupts.seen.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            retrace.tams(Interrupts(), config(), db=run, threads=2)
    finally:
        signal.signal(signal.SIGINT, previous)
    done = retrace.db.open(str(run)).iterations["iteration"][-1]
    assert 0 < done < full["iterations"]
    Interrupts.at = None
    rest = retrace.tams(Interrupts(), restart=run, threads=1)
    assert rest["estimate"] == full["estimate"]
