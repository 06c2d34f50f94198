"""retrace.compat.pytams: double-well models written the pyTAMS 1.0 way (ForwardModelBaseClass,
pyTAMS's TOML input) run unchanged apart from the import. The models here are also used by
test_compat_pytams_db.py and test_compat_pytams_state.py."""

import math

import numpy as np
import pytest

import retrace
from retrace.compat import pytams
from retrace.compat.pytams import TAMS, ForwardModelBaseClass


class DoubleWellModel(ForwardModelBaseClass):
    """1D double well, pyTAMS style; the float operations of retrace's built-in doublewell1d."""

    def _init_model(self, m_id, params):
        self._epsilon = params["model"]["epsilon"]
        self._state = params["model"].get("x0", -1.0)

    def _advance(self, step, time, dt, noise, need_end_state):
        v = self._state
        self._state = v + (v - v * v * v) * dt + math.sqrt(2.0 * self._epsilon * dt) * noise
        return dt

    def get_current_state(self):
        return self._state

    def set_current_state(self, state):
        self._state = state

    def score(self):
        return 1.0 - abs(self._state - 1.0) / 2.0

    def make_noise(self):
        return np.random.normal(0.0, 1.0)

    @classmethod
    def name(cls):
        return "DoubleWellModel"


class DoubleWell2dModel(ForwardModelBaseClass):
    """2D double well x^4/4 - x^2/2 + y^2/2 on a numpy state, noise of shape (2,)."""

    def _init_model(self, m_id, params):
        self._epsilon = params["model"]["epsilon"]
        self._state = np.array([-1.0, 0.0])

    def _advance(self, step, time, dt, noise, need_end_state):
        x, y = self._state
        drift = np.array([x - x**3, -y])
        self._state = self._state + drift * dt + math.sqrt(2.0 * self._epsilon * dt) * noise
        return dt

    def get_current_state(self):
        return self._state

    def set_current_state(self, state):
        self._state = np.array(state)

    def score(self):
        return float(1.0 - abs(self._state[0] - 1.0) / 2.0)

    def make_noise(self):
        return np.random.normal(0.0, 1.0, 2)


INPUT = """
[tams]
ntrajectories = 40
nsplititer = {nsplititer}
loglevel = "WARNING"
seed = 7

[trajectory]
end_time = 4.0
step_size = 0.01
targetscore = 0.8
sparse_freq = 1

[runner]
type = "asynchronous"
nworker_init = 2
nworker_iter = 2

[model]
epsilon = {epsilon}
"""


def write_input(tmp_path, nsplititer=400, epsilon=0.1, extra="", name="input.toml"):
    path = tmp_path / name
    path.write_text(INPUT.format(nsplititer=nsplititer, epsilon=epsilon) + extra)
    return path


def builtin(epsilon=0.1):
    # pyTAMS kills nworker_iter = 2 trajectories per iteration and counts nsplititer in
    # branched trajectories: l = 2 and 400 / 2 iterations.
    cfg = {
        "tams": {"ntrajectories": 40, "nsplititer": 200, "l": 2, "seed": 7},
        "trajectory": {"end_time": 4.0, "step_size": 0.01, "targetscore": 0.8},
        "model": {"name": "doublewell1d", "epsilon": epsilon},
    }
    return retrace.tams(None, cfg, threads=2)


def test_pytams_model_matches_the_builtin_bit_for_bit(tmp_path):
    path = write_input(tmp_path)
    with pytest.warns(UserWarning, match="runner.type, trajectory.sparse_freq"):
        report = pytams.run(DoubleWellModel, str(path))
    ref = builtin()
    assert 0.0 < report["estimate"] < 0.5
    assert report["estimate"] == ref["estimate"]
    assert report["runs"] == ref["runs"]
    assert report["model_steps"] == ref["model_steps"]
    assert report["iterations"] == ref["iterations"]


def test_tams_driver_is_a_drop_in(tmp_path):
    path = write_input(tmp_path)
    with pytest.warns(UserWarning):
        tams = TAMS(fmodel_t=DoubleWellModel, a_args=["-i", str(path)])
        p = tams.compute_probability()
    assert p == builtin()["estimate"]
    assert tams.report["iterations"] > 10


def test_array_state_and_noise_shape_any_thread_count(tmp_path):
    path = write_input(tmp_path)
    with pytest.warns(UserWarning):
        one = pytams.run(DoubleWell2dModel, str(path), threads=1)
        two = pytams.run(DoubleWell2dModel, str(path), threads=2)
    assert 0.0 < one["estimate"] < 0.5
    assert one["estimate"] == two["estimate"]
    assert one["runs"] == two["runs"]


def test_advance_exception_comes_back(tmp_path):
    class Broken(DoubleWellModel):
        def _advance(self, step, time, dt, noise, need_end_state):
            if step == 30:
                raise FloatingPointError("solver diverged at step 30")
            return super()._advance(step, time, dt, noise, need_end_state)

    path = write_input(tmp_path)
    with pytest.warns(UserWarning), pytest.raises(FloatingPointError, match="step 30"):
        pytams.run(Broken, str(path))


def test_substepping_model_is_refused(tmp_path):
    class Substeps(DoubleWellModel):
        def _advance(self, step, time, dt, noise, need_end_state):
            super()._advance(step, time, dt, noise, need_end_state)
            return dt / 2

    path = write_input(tmp_path)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="fixed steps"):
        pytams.run(Substeps, str(path))


def test_unknown_keys_are_named(tmp_path):
    path = write_input(tmp_path, extra="")
    path.write_text(path.read_text().replace("ntrajectories", "ntrajectory"))
    with pytest.warns(UserWarning), pytest.raises(retrace.ConfigError, match="tams.ntrajectory"):
        pytams.run(DoubleWellModel, str(path))


def test_modules_mirror_pytams():
    from retrace.compat.pytams import database, fmodel, tams, trajectory, utils

    assert fmodel.ForwardModelBaseClass is ForwardModelBaseClass
    assert tams.TAMS is TAMS
    assert database.Database is pytams.Database
    assert trajectory.Trajectory is pytams.Trajectory
    assert utils.get_min_scored([0.3, 0.1, 0.2, 0.1], 1)[0] == [1, 3]


def test_driver_errors_as_pytams(tmp_path):
    with pytest.raises(ValueError, match="Could not find"):
        TAMS(fmodel_t=DoubleWellModel, a_args=["-i", str(tmp_path / "none.toml")])
    path = write_input(tmp_path)
    path.write_text(path.read_text().replace("nsplititer = 400", ""))
    with pytest.raises(ValueError, match="'ntrajectories' and 'nsplititer'"):
        TAMS(fmodel_t=DoubleWellModel, a_args=["-i", str(path)])


def test_stalling_is_a_runtime_error(tmp_path):
    class Flat(DoubleWellModel):
        def score(self):
            return 0.25

    path = write_input(tmp_path)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="Splitting is stalling"):
        TAMS(fmodel_t=Flat, a_args=["-i", str(path)]).compute_probability()


def test_all_converged_in_the_ensemble_gives_one(tmp_path):
    class Climber(DoubleWellModel):
        def score(self):
            return 1.0

    path = write_input(tmp_path)
    with pytest.warns(UserWarning):
        assert TAMS(fmodel_t=Climber, a_args=["-i", str(path)]).compute_probability() == 1.0


def test_seed_from_the_os_unless_given_or_deterministic(tmp_path):
    text = write_input(tmp_path).read_text()
    free = tmp_path / "free.toml"
    free.write_text(text.replace("seed = 7", ""))
    with pytest.warns(UserWarning):
        a = pytams.run(DoubleWellModel, str(free))
        b = pytams.run(DoubleWellModel, str(free))
    assert a["seed"] != b["seed"]
    assert a["runs"] != b["runs"]
    det = tmp_path / "det.toml"
    det.write_text(text.replace("seed = 7", "deterministic = true"))
    with pytest.warns(UserWarning):
        c = pytams.run(DoubleWellModel, str(det))
        d = pytams.run(DoubleWellModel, str(det))
    assert c["seed"] == d["seed"] == 0
    assert c["runs"] == d["runs"]
