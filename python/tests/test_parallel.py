"""retrace.tams(..., workers=N): Python models computed by N processes (this one and N - 1
children), reports bit-identical for any N, worker errors with their traceback, the same every
time, and no worker left behind by Ctrl-C, a failed run or a killed parent.

The models are defined at module level: the workers unpickle them by reference (this module)."""

import math
import re
import os
import select
import signal
import subprocess
import sys

import numpy as np
import pytest

import retrace
import retrace._workers


class DoubleWell1d:
    """A pure-Python double well (the built-in `doublewell1d`'s float operations)."""

    noise_size = 1

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def initial_state(self):
        return np.array([-1.0])

    def step(self, x, t, dt, noise):
        v = x[0]
        x[0] = v + (v - v * v * v) * dt + math.sqrt(2.0 * self.epsilon * dt) * noise[0]

    def score(self, x, t):
        return 1.0 - abs(x[0] - 1.0) / 2.0


class FailsInWorkers(DoubleWell1d):
    """Raises from t = 0.5 on, in the worker processes only (unpickling marks them)."""

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._in_worker = True

    def step(self, x, t, dt, noise):
        if getattr(self, "_in_worker", False) and t >= 0.5:
            raise ValueError(f"boom in a worker at t = {t:.2f}")
        super().step(x, t, dt, noise)


class FailsEverywhere(DoubleWell1d):
    """Raises from t = 0.5 on, in every process."""

    def step(self, x, t, dt, noise):
        if t >= 0.5:
            raise ValueError("boom")
        super().step(x, t, dt, noise)


class CannotLoad(DoubleWell1d):
    """Pickles, but cannot be unpickled."""

    def __setstate__(self, state):
        raise RuntimeError("this model refuses to load")


class Interrupting(DoubleWell1d):
    """Sends its own process SIGINT (as Ctrl-C does) at its `at`-th step; `at` is a class
    attribute, so only the process that set it (the parent) does."""

    at = None
    calls = 0

    def step(self, x, t, dt, noise):
        Interrupting.calls += 1
        if Interrupting.calls == Interrupting.at:
            os.kill(os.getpid(), signal.SIGINT)
        super().step(x, t, dt, noise)


def config(**tams):
    return {
        "tams": {"ntrajectories": 30, "nsplititer": 300, "seed": 7, "l": 3, **tams},
        "trajectory": {"end_time": 4.0, "step_size": 0.01, "targetscore": 0.8},
    }


def long_config():
    """A run of hours: the target is never reached."""
    cfg = config(nsplititer=10**9, ntrajectories=200)
    cfg["trajectory"].update(end_time=2e3, targetscore=2.0)
    return cfg


def strip(r):
    return {k: v for k, v in r.items() if k != "seconds"}


@pytest.fixture
def started():
    """The workers' pids of each run, as the pool reports them once they are ready."""
    seen = []
    retrace._workers.on_started = seen.append
    yield seen
    retrace._workers.on_started = None


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_reports_are_bit_identical_for_any_worker_count(started):
    one = retrace.tams(DoubleWell1d(), config(), threads=1)
    assert one["iterations"] > 10 and 0.0 < one["estimate"] < 0.5
    for n in (1, 2, 3):
        assert strip(retrace.tams(DoubleWell1d(), config(), workers=n)) == strip(one), n
    # workers=1 starts no process; 2 and 3 start 1 and 2, ended when the run is.
    assert [len(p) for p in started] == [1, 2]
    assert all(gone(pid) for pids in started for pid in pids)


def test_memory_budget_and_monte_carlo_are_bit_identical(tmp_path):
    cfg = config()
    cfg["trajectory"].update(
        policy="uniform", memory_budget="16KiB", checkpoint_dir=str(tmp_path)
    )
    one = retrace.tams(DoubleWell1d(), cfg, threads=1)
    assert one["replay_steps"] > 0
    assert strip(retrace.tams(DoubleWell1d(), cfg, workers=3)) == strip(one)
    mc = config()
    mc["sampler"] = {"strategy": "montecarlo"}
    one = retrace.tams(DoubleWell1d(), mc, threads=1)
    assert strip(retrace.tams(DoubleWell1d(), mc, workers=2)) == strip(one)


def test_ensemble_output_is_the_same_file_for_file(tmp_path):
    """`[output]` over worker processes: the Zarr group is the one-process one byte for byte."""

    def files(root):
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    def mc(out):
        cfg = config()
        cfg["sampler"] = {"strategy": "montecarlo"}
        cfg["output"] = {"path": str(out), "stride": 3, "chunk": 16}
        return cfg

    one = retrace.tams(DoubleWell1d(), mc(tmp_path / "one.zarr"), threads=1)
    want = files(tmp_path / "one.zarr")
    assert "data/zarr.json" in want and len(want) > 5
    for n in (2, 3):
        out = tmp_path / f"w{n}.zarr"
        assert strip(retrace.tams(DoubleWell1d(), mc(out), workers=n)) == strip(one), n
        assert files(out) == want, n


def test_database_restart_on_another_worker_count(tmp_path):
    full = retrace.tams(DoubleWell1d(), config(), threads=1)
    run = tmp_path / "run"
    part = retrace.tams(DoubleWell1d(), config(nsplititer=5), db=run, workers=2)
    assert part["iterations"] == 5
    rest = retrace.tams(DoubleWell1d(), config(), restart=run, workers=3)
    assert rest["estimate"] == full["estimate"]
    assert rest["iterations"] == full["iterations"]


def test_a_worker_error_comes_back_with_its_traceback_the_same_every_time(started):
    with pytest.raises(retrace.WorkerError) as first:
        retrace.tams(FailsInWorkers(), config(), workers=3)
    text = str(first.value)
    # Trajectories 10..19 are worker 1's: the first failing task is its first.
    assert re.search(r"worker 1 \(trajectory 10, step \d+\)", text), text
    assert "Traceback (most recent call last)" in text
    assert "ValueError: boom in a worker at t = 0.50" in text
    assert "in step" in text
    with pytest.raises(retrace.WorkerError) as again:
        retrace.tams(FailsInWorkers(), config(), workers=3)
    assert str(again.value) == text
    assert all(gone(pid) for pids in started for pid in pids)


def test_a_model_error_on_rank_0_is_the_models_own_as_without_workers():
    for n in (1, 2):
        with pytest.raises(ValueError, match="^boom$"):
            retrace.tams(FailsEverywhere(), config(), workers=n)


def test_unpicklable_and_unloadable_models_are_refused(started):
    m = DoubleWell1d()
    m.f = lambda x: x
    with pytest.raises(TypeError, match="must be picklable .* DoubleWell1d is not"):
        retrace.tams(m, config(), workers=2)
    assert started == []
    with pytest.raises(retrace.WorkerError, match="(?s)could not load the model.*refuses to load"):
        retrace.tams(CannotLoad(), config(), workers=2)
    with pytest.raises(retrace.ConfigError, match="workers: must be >= 1"):
        retrace.tams(DoubleWell1d(), config(), workers=0)


def test_ctrl_c_ends_the_workers(ctrl_c, started):
    Interrupting.at, Interrupting.calls = 1000, 0
    try:
        with pytest.raises(KeyboardInterrupt):
            retrace.tams(Interrupting(), long_config(), workers=3)
    finally:
        Interrupting.at = None
    assert len(started) == 1 and len(started[0]) == 2
    # Killed and reaped before retrace.tams returned.
    assert all(gone(pid) for pid in started[0])


PARENT = """
import sys
sys.path.insert(0, {tests!r})
import retrace, retrace._workers
from test_parallel import DoubleWell1d, long_config

if __name__ == "__main__":
    retrace._workers.on_started = lambda pids: print(*pids, flush=True)
    retrace.tams(DoubleWell1d(), long_config(), workers=3)
"""


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs os.pidfd_open (Linux)")
def test_killing_the_parent_ends_the_workers(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(tests=os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2, pids
    fds = []
    for pid in pids:
        try:
            fds.append(os.pidfd_open(pid))
        except ProcessLookupError:
            pytest.fail(f"worker {pid} ended before its parent")
    parent.kill()
    parent.wait()
    try:
        for fd in fds:
            # A pidfd becomes readable when its process ends; the bound only keeps a broken
            # build from hanging the suite.
            readable, _, _ = select.select([fd], [], [], 300)
            assert readable, "a worker outlived its parent"
    finally:
        for fd in fds:
            os.close(fd)
