"""retrace.tams on models whose state is not a numeric array (held as its pickle): the same
report as the array model, through memory budgets, spills, worker processes, run databases and
restarts; a file-backed state (a path to a file the model writes); clear errors for a state
that cannot be pickled and for Zarr outputs.

The models are defined at module level: worker processes unpickle them by reference."""

import hashlib
import math
import os
import threading
from dataclasses import dataclass

import numpy as np
import pytest

import retrace


def advance(v, dt, epsilon, n):
    """The double well's step (the float operations of the built-in `doublewell1d`)."""
    return v + (v - v * v * v) * dt + math.sqrt(2.0 * epsilon * dt) * n


def closeness(v):
    return 1.0 - abs(v - 1.0) / 2.0


class ArrayWell:
    """The reference: the double well on a float64 array."""

    noise_size = 1

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def initial_state(self):
        return np.array([-1.0])

    def step(self, x, t, dt, noise):
        x[0] = advance(x[0], dt, self.epsilon, noise[0])

    def score(self, x, t):
        return closeness(x[0])


@dataclass(frozen=True)
class Position:
    x: float
    label: str = "well"


class DataclassWell(ArrayWell):
    """The state is a dataclass: held as its pickle without a declaration."""

    def initial_state(self):
        return Position(-1.0)

    def step(self, s, t, dt, noise):
        assert s.label == "well"
        return Position(advance(s.x, dt, self.epsilon, noise[0]))

    def score(self, s, t):
        return closeness(s.x)


class TupleWell(ArrayWell):
    """The state is a tuple of one float, declared an object (else it would be an array)."""

    state = "object"

    def initial_state(self):
        return (-1.0,)

    def step(self, s, t, dt, noise):
        assert isinstance(s, tuple)
        return (advance(s[0], dt, self.epsilon, noise[0]),)

    def score(self, s, t):
        return closeness(s[0])


class RandomStartWell(DataclassWell):
    """A random initial position (`initial_state(rng)`) in a dataclass."""

    def initial_state(self, rng):
        return Position(-1.0 + 0.1 * rng.standard_normal())


class RandomStartArrayWell(ArrayWell):
    def initial_state(self, rng):
        return np.array([-1.0 + 0.1 * rng.standard_normal()])


class FileWell(ArrayWell):
    """The state is the path of a file the model writes (as pyTAMS's DoubleWell2D_disk): each
    state a new file in `directory`, named by its content, written under a temporary name and
    renamed (so a reader never sees half a file), never changed once returned."""

    def __init__(self, directory, epsilon=0.1):
        super().__init__(epsilon)
        self.directory = str(directory)

    def _write(self, v):
        data = np.float64(v).tobytes()
        name = hashlib.blake2b(data, digest_size=16).hexdigest() + ".f64"
        path = os.path.join(self.directory, name)
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return name

    def _read(self, name):
        with open(os.path.join(self.directory, name), "rb") as f:
            return float(np.frombuffer(f.read(), dtype=np.float64)[0])

    def initial_state(self):
        return self._write(-1.0)

    def step(self, name, t, dt, noise):
        return self._write(advance(self._read(name), dt, self.epsilon, noise[0]))

    def score(self, name, t):
        return closeness(self._read(name))


def config(nsplititer=400, end_time=4.0, **trajectory):
    return {
        "tams": {"ntrajectories": 40, "nsplititer": nsplititer, "seed": 7},
        "trajectory": {"end_time": end_time, "step_size": 0.01, "targetscore": 0.8, **trajectory},
    }


def small(nsplititer=60, **trajectory):
    """A shorter run (a file-backed model writes a file per new state)."""
    return config(nsplititer=nsplititer, end_time=1.0, **trajectory)


def same(a, b):
    """Reports equal bit for bit, apart from the timing and the model's name."""
    strip = lambda r: {k: v for k, v in r.items() if k not in ("seconds", "model")}
    assert strip(a) == strip(b)


def test_object_states_give_the_array_models_report():
    ref = retrace.tams(ArrayWell(), config(), threads=2)
    assert ref["iterations"] > 10
    for model in (DataclassWell(), TupleWell()):
        got = retrace.tams(model, config(), threads=2)
        same(got, ref)
        assert got["model"] == f"python:test_object_state.{type(model).__qualname__}"
    same(retrace.tams(TupleWell(), config(), threads=1), ref)


def test_random_initial_object_states_match_the_array_model():
    ref = retrace.tams(RandomStartArrayWell(), config(), threads=2)
    same(retrace.tams(RandomStartWell(), config(), threads=2), ref)


class SpillWatch(DataclassWell):
    """Notes whether a spill file exists under `directory` (looked at every 50th step)."""

    def __init__(self, directory):
        super().__init__()
        self._directory = directory
        self._saw_spill = False

    def step(self, s, t, dt, noise):
        if not self._saw_spill and round(t / dt) % 50 == 0:
            self._saw_spill = any(p.is_file() for p in self._directory.rglob("*"))
        return super().step(s, t, dt, noise)


def test_memory_budget_and_spills(tmp_path):
    ref = retrace.tams(ArrayWell(), config(), threads=2)
    uniform = config(policy="uniform", memory_budget="1MiB", checkpoint_dir=str(tmp_path))
    got = retrace.tams(DataclassWell(), uniform, threads=2)
    assert got["estimate"] == ref["estimate"]
    assert got["replay_steps"] > 0
    spilled = config(
        policy="schedule", memory_budget="256KiB", checkpoint_slots=20,
        checkpoint_dir=str(tmp_path), spill_compression="zstd",
    )
    watch = SpillWatch(tmp_path)
    got = retrace.tams(watch, spilled, threads=2)
    assert got["estimate"] == ref["estimate"]
    assert got["replay_steps"] > 0
    assert watch._saw_spill  # the pickles went to spill files and came back
    assert not list(tmp_path.iterdir())  # spill directories removed


def test_workers_and_restart(tmp_path):
    ref = retrace.tams(ArrayWell(), config(), threads=2)
    same(retrace.tams(DataclassWell(), config(), workers=2), ref)
    run = tmp_path / "run"
    part = retrace.tams(TupleWell(), config(nsplititer=10), db=run, threads=1)
    assert part["iterations"] == 10
    rest = retrace.tams(TupleWell(), config(), restart=run, threads=2)
    assert rest["estimate"] == ref["estimate"]
    assert rest["details"][0]["stop"] == ref["details"][0]["stop"]
    # The array model is another model: its restart is refused.
    with pytest.raises(retrace.ConfigError):
        retrace.tams(ArrayWell(), config(), restart=run)


def test_file_backed_states_give_the_in_memory_estimate(tmp_path):
    ref = retrace.tams(ArrayWell(), small(), threads=2)
    assert ref["iterations"] > 10
    files = tmp_path / "states"
    files.mkdir()
    same(retrace.tams(FileWell(files), small(), threads=2), ref)
    assert len(list(files.iterdir())) > 1000
    assert not list(files.glob("*.tmp"))
    same(retrace.tams(FileWell(files), small(), workers=2), ref)


def test_file_backed_states_restart_exactly(tmp_path):
    ref = retrace.tams(ArrayWell(), small(), threads=2)
    files = tmp_path / "states"
    files.mkdir()
    run = tmp_path / "run"
    part = retrace.tams(FileWell(files), small(nsplititer=10), db=run, threads=2)
    assert part["iterations"] == 10
    # The restart reads the saved states (paths) back: their files are still there.
    rest = retrace.tams(FileWell(files), small(), restart=run, threads=1)
    assert rest["estimate"] == ref["estimate"]
    assert rest["iterations"] == ref["iterations"]
    run2 = tmp_path / "run2"
    retrace.tams(FileWell(files), small(nsplititer=10), db=run2, workers=2)
    rest = retrace.tams(FileWell(files), small(), restart=run2, workers=2)
    assert rest["estimate"] == ref["estimate"]


class LockWell(DataclassWell):
    def initial_state(self):
        return {"x": -1.0, "lock": threading.Lock()}


class LaterLockWell(DataclassWell):
    def step(self, s, t, dt, noise):
        if t >= 0.5:
            return {"x": s.x, "lock": threading.Lock()}
        return super().step(s, t, dt, noise)


def test_unpicklable_state_is_a_type_error_naming_the_model():
    with pytest.raises(TypeError, match="LockWell: its state, a dict, cannot be pickled"):
        retrace.tams(LockWell(), config())
    with pytest.raises(TypeError, match="LaterLockWell: its state, a dict, cannot be pickled"):
        retrace.tams(LaterLockWell(), config(), threads=2)


def test_step_returning_none_and_bad_declaration():
    class InPlace(DataclassWell):
        def step(self, s, t, dt, noise):
            pass

    with pytest.raises(TypeError, match="InPlace.step returned None"):
        retrace.tams(InPlace(), config())

    class Bad(ArrayWell):
        state = "bytes"

    with pytest.raises(TypeError, match="Bad.state = 'bytes'"):
        retrace.tams(Bad(), config())


def test_too_large_a_state_names_state_bytes():
    class Growing(DataclassWell):
        state_bytes = 200

        def step(self, s, t, dt, noise):
            return Position(s.x, "x" * 300)

    with pytest.raises(ValueError, match="Growing.state_bytes"):
        retrace.tams(Growing(), config())


def test_object_states_cannot_go_to_zarr(tmp_path):
    mc = dict(config(), sampler={"strategy": "montecarlo"}, output={"path": str(tmp_path / "o")})
    with pytest.raises(retrace.ConfigError, match="cannot be written to Zarr"):
        retrace.tams(DataclassWell(), mc)
    run = tmp_path / "run"
    retrace.tams(DataclassWell(), config(nsplititer=5), db=run)
    with pytest.raises(TypeError, match="Zarr"):
        retrace.db.open(str(run)).paths(DataclassWell(), tmp_path / "p.zarr")
