"""retrace.compat.pytams: states that are not numeric arrays (any picklable object, a file the
model manages) run in the same stores, replay and restart exactly."""

from pathlib import Path

import numpy as np
import pytest

from retrace.compat import pytams
from test_compat_pytams import DoubleWellModel, write_input


class DictStateModel(DoubleWellModel):
    """The 1D double well with its state in a dict (plus a label): the same floats."""

    def get_current_state(self):
        return {"x": self._state, "label": "well"}

    def set_current_state(self, state):
        assert state["label"] == "well"
        self._state = state["x"]


class DiskModel(DoubleWellModel):
    """The 1D double well with its state in a file, as pyTAMS's DoubleWell2D_disk: the state is
    the file's path relative to the database directory (the workdir's grandparent); each step
    writes `state_<step>.npy` in the instance's workdir."""

    def _init_model(self, m_id, params):
        super()._init_model(m_id, params)
        self._db = self._workdir.parents[1]
        self._workdir.mkdir(exist_ok=True)
        self._path = self._save(0)

    def _save(self, step):
        path = self._workdir / f"state_{step:06}.npy"
        np.save(path, np.array([self._state]))
        return path.relative_to(self._db).as_posix()

    def _advance(self, step, time, dt, noise, need_end_state):
        super()._advance(step, time, dt, noise, need_end_state)
        self._path = self._save(step + 1)
        return dt

    def get_current_state(self):
        return self._path

    def set_current_state(self, state):
        self._path = state
        self._state = float(np.load(self._db / state)[0])


def run(model, tmp_path, extra="", threads=None, name="input.toml", nsplititer=400, short=False):
    path = write_input(tmp_path, nsplititer=nsplititer, extra=extra, name=name)
    if short:  # fewer steps: a file-backed model writes a file per step
        path.write_text(path.read_text().replace("end_time = 4.0", "end_time = 1.0"))
    with pytest.warns(UserWarning):
        return pytams.run(model, str(path), threads=threads)


def test_object_state_gives_the_float_models_result(tmp_path):
    ref = run(DoubleWellModel, tmp_path)
    got = run(DictStateModel, tmp_path, threads=1)
    assert got["runs"] == ref["runs"]
    assert got["model_steps"] == ref["model_steps"]


def test_file_state_gives_the_float_models_result_any_thread_count(tmp_path):
    ref = run(DoubleWellModel, tmp_path, nsplititer=40, short=True)
    for threads in (1, 2):
        run_dir = tmp_path / f"disk{threads}.tdb"
        db = f'[database]\npath = "{run_dir}"\n'
        got = run(DiskModel, tmp_path, db, threads, f"{threads}.toml", 40, True)
        assert got["runs"] == ref["runs"]
        states = list((run_dir / "trajectories" / "states").rglob("*.npy"))
        assert len(states) > 4000
        # Each file is named by its content's hash: no two trajectories shared a name.
        assert len({p.name for p in states}) == len(states)


def test_file_state_restart_is_exact(tmp_path):
    ref = run(DoubleWellModel, tmp_path, nsplititer=40, short=True)
    run_dir = tmp_path / "disk.tdb"
    db = f'[database]\npath = "{run_dir}"\n'
    part = run(DiskModel, tmp_path, db, name="short.toml", nsplititer=10, short=True)
    assert part["iterations"] == 5
    assert run(DiskModel, tmp_path, db, None, "rest.toml", 40, True)["runs"] == ref["runs"]


def test_state_larger_than_reserved_is_an_error(tmp_path):
    class Growing(DictStateModel):
        retrace_state_bytes = 200

        def get_current_state(self):
            return {"x": self._state, "label": "well", "pad": "p" * int(400 * abs(self._state))}

    with pytest.raises(ValueError, match="does not fit the 200 bytes"):
        run(Growing, tmp_path)


def test_workdir_is_under_the_database(tmp_path):
    seen = []

    class Where(DoubleWellModel):
        def _init_model(self, m_id, params):
            super()._init_model(m_id, params)
            seen.append(Path(self._workdir))

    run_dir = tmp_path / "w.tdb"
    run(Where, tmp_path, f'[database]\npath = "{run_dir}"\n')
    assert seen and all(p.parents[1] == run_dir for p in seen)
