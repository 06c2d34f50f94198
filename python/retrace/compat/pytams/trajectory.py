"""pyTAMS 1.0's `Trajectory` (`pytams.trajectory`): one trajectory of a model.

Made by hand (`Trajectory(traj_id, weight, fmodel_t, parameters)`, then `advance()`), it steps
the model in Python as pyTAMS does, with the model's own `make_noise()`, keeping every
snapshot (time, score, noise, state). Read from a run (`Database.traj_list()`), it holds the
times and scores the run database recorded; its states are not recorded there.
"""

import logging
import time as _time
from pathlib import Path

import numpy as np

__all__ = ["Trajectory", "WallTimeLimitError", "form_trajectory_id", "get_index_from_id"]

_logger = logging.getLogger(__name__)


class WallTimeLimitError(Exception):
    """`advance` ran out of its wall time."""


def form_trajectory_id(n, nb=0):
    """pyTAMS's trajectory name: `traj` + 6-digit index + `_` + 4-digit branching count."""
    return f"traj{n:06}_{nb:04}"


def get_index_from_id(identity):
    """The (index, branching count) of a trajectory name."""
    return int(identity[4:10]), int(identity[11:])


class Snapshot:
    """Time, score, noise and state (None when not kept) after a step."""

    def __init__(self, time, score, noise, state=None):
        self.time = time
        self.score = score
        self.noise = noise
        self.state = state

    def has_state(self):
        """Whether the state was kept."""
        return self.state is not None


class Trajectory:
    """One trajectory (see the module documentation)."""

    def __init__(self, traj_id, weight, fmodel_t, parameters, workdir=None, frozen=False):
        traj = parameters.get("trajectory", {})
        if "end_time" not in traj or "step_size" not in traj:
            raise ValueError(
                "Trajectory 'end_time' and 'step_size' must be specified in the input file !"
            )
        self._tid = int(traj_id)
        self._weight = float(weight)
        self._workdir = Path.cwd() if workdir is None else Path(workdir)
        self._t_end = float(traj["end_time"])
        self._dt = float(traj["step_size"])
        self._target = float(traj.get("targetscore", 0.95))
        self._step = 0
        self._t_cur = 0.0
        self._score_max = -1.0e12
        self._has_ended = False
        self._has_converged = False
        self._computed_steps = 0
        self._snaps = []
        self._nbranching = 0
        self._recorded = None  # (times, scores) of a trajectory read from a run
        self._fmodel = None
        if not frozen and fmodel_t is not None:
            self._fmodel = fmodel_t(self._tid * 10000, parameters, self._workdir)

    @classmethod
    def _recorded_run(cls, traj_id, weight, parameters, scores, ended, converged, nbranching):
        """A trajectory read from a run database: its recorded scores, no model."""
        t = cls(traj_id, weight, None, parameters, frozen=True)
        times = np.arange(len(scores), dtype=np.float64) * t._dt
        t._recorded = (times, np.asarray(scores, dtype=np.float64))
        t._step = max(len(scores) - 1, 0)
        t._t_cur = float(times[-1]) if len(times) else 0.0
        t._score_max = float(np.max(scores[1:])) if len(scores) > 1 else -1.0e12
        t._has_ended = bool(ended)
        t._has_converged = bool(converged)
        t._nbranching = int(nbranching)
        return t

    def id(self):
        """The trajectory index."""
        return self._tid

    def idstr(self):
        """The trajectory name (`traj000012_0003`)."""
        return form_trajectory_id(self._tid, self._nbranching)

    def get_workdir(self):
        """The model's working directory."""
        return self._workdir

    def advance(self, t_end=1.0e12, walltime=1.0e12):
        """Step until `min(t_end, end_time)`, convergence, or out of `walltime` seconds."""
        if self._fmodel is None:
            raise RuntimeError(
                f"Trajectory {self.idstr()} is frozen, without forward model. "
                "Advance() deactivated."
            )
        start = _time.monotonic()
        end = min(t_end, self._t_end)
        remaining = walltime
        while self._t_cur < end and not self._has_converged and remaining >= 0.05 * walltime:
            self._one_step()
            remaining = walltime - (_time.monotonic() - start)
        if self._t_cur >= self._t_end or self._has_converged:
            self._has_ended = True
            self._fmodel.clear()
        if remaining < 0.05 * walltime:
            raise WallTimeLimitError(f"{self.idstr()} ran out of time in advance()")

    def _one_step(self):
        model = self._fmodel
        if self._step == 0:
            model.set_noise(model.make_noise())
            self._snaps.append(
                Snapshot(0.0, model.score(), model.get_noise(), model.get_current_state())
            )
        dt = model.advance(self._dt, True)
        self._step += 1
        self._t_cur += dt
        score = model.score()
        model.set_noise(model.make_noise())
        self._snaps.append(
            Snapshot(self._t_cur, score, model.get_noise(), model.get_current_state())
        )
        self._score_max = max(self._score_max, score)
        self._has_converged = model.check_convergence(
            self._step, self._t_cur, score, self._target
        )
        self._computed_steps += 1
        return score

    def set_weight(self, weight):
        """Set the trajectory's weight."""
        self._weight = float(weight)

    def current_time(self):
        """The time reached."""
        return self._t_cur

    def step_size(self):
        """The step size."""
        return self._dt

    def score_max(self):
        """The largest score after step 0."""
        return self._score_max

    def is_converged(self):
        """Whether it reached the target."""
        return self._has_converged

    def has_ended(self):
        """Whether it reached the target or the end time."""
        return self._has_ended

    def has_started(self):
        """Whether it took a step."""
        return self._step > 0

    def get_time_array(self):
        """Times of the snapshots."""
        if self._recorded is not None:
            return self._recorded[0].copy()
        return np.array([s.time for s in self._snaps])

    def get_score_array(self):
        """Scores of the snapshots."""
        if self._recorded is not None:
            return self._recorded[1].copy()
        return np.array([s.score for s in self._snaps])

    def get_noise_array(self):
        """Noises of the snapshots (not recorded for a run read from its database)."""
        self._need_snapshots("noises")
        return np.array([s.noise for s in self._snaps])

    def get_state_list(self):
        """`[(step, state)]` of the snapshots that kept their state."""
        self._need_snapshots("states")
        return [(k, s.state) for k, s in enumerate(self._snaps) if s.has_state()]

    def _need_snapshots(self, what):
        if self._recorded is not None:
            raise NotImplementedError(
                f"trajectory {self._tid} was read from a retrace run database, which records "
                f"scores, not {what}: regenerate states by replay (retrace.db, issue 19)"
            )

    def get_length(self):
        """Number of snapshots."""
        if self._recorded is not None:
            return len(self._recorded[1])
        return len(self._snaps)

    def get_nbranching(self):
        """How many times it was branched (0 or 1 for a run read from its database)."""
        return self._nbranching

    def get_computed_steps_count(self):
        """Steps this object computed."""
        return self._computed_steps

    def get_last_state(self):
        """The last kept state (None if none)."""
        self._need_snapshots("states")
        for s in reversed(self._snaps):
            if s.has_state():
                return s.state
        return None
