"""pyTAMS 1.0's model base class interface (`pytams.fmodel`), written for retrace.

A model class subclasses `ForwardModelBaseClass` and implements `_init_model(m_id, params)`,
`_advance(step, time, dt, noise, need_end_state)`, `get_current_state()`,
`set_current_state(state)`, `score()` and `make_noise()`, as with pyTAMS.
"""

import logging
from abc import ABCMeta, abstractmethod
from pathlib import Path

__all__ = ["ForwardModelBaseClass"]

_logger = logging.getLogger(__name__)


class ForwardModelBaseClass(metaclass=ABCMeta):
    """The stochastic model's interface (pyTAMS 1.0's calling conventions).

    The constructor records the id, params and working directory (the current directory when
    none is given), sets `params["model"]["deterministic"]` from `[tams] deterministic`, calls
    `_init_model(a_id, params)`, then a first `make_noise()`.
    """

    def __init__(self, a_id, params, workdir=None):
        self._id = a_id
        self._noise = None
        self._step = 0
        self._time = 0.0
        self._workdir = Path.cwd() if workdir is None else Path(workdir)
        deterministic = params.get("tams", {}).get("deterministic", False)
        if params.get("model"):
            params["model"]["deterministic"] = deterministic
        else:
            params["model"] = {"deterministic": deterministic}
        self._init_model(a_id, params)
        self._noise = self.make_noise()

    def advance(self, dt, need_end_state):
        """One step of `dt` with the current noise; returns the step actually taken."""
        try:
            actual = self._advance(self._step, self._time, dt, self._noise, need_end_state)
        except Exception:
            _logger.exception("Advance function ran into an error !")
            raise
        self._step += 1
        self._time += actual
        return actual

    def get_noise(self):
        """The noise the next step uses."""
        return self._noise

    def set_noise(self, a_noise):
        """Set the noise the next step uses."""
        self._noise = a_noise

    def clear(self):
        """Release the model's internal data (`_clear_model`)."""
        self._clear_model()

    def set_workdir(self, workdir):
        """Set the working directory."""
        self._workdir = Path(workdir)

    @abstractmethod
    def _init_model(self, m_id, params):
        """Model-specific initialisation."""

    @abstractmethod
    def _advance(self, step, time, dt, noise, need_end_state):
        """Advance the state by `dt` with `noise`; return the step taken."""

    @abstractmethod
    def get_current_state(self):
        """The current state (any type)."""

    @abstractmethod
    def set_current_state(self, state):
        """Make `state` the current state."""

    @abstractmethod
    def score(self):
        """The score (a float) of the current state."""

    @abstractmethod
    def make_noise(self):
        """A noise increment (its type and shape are the model's)."""

    def post_trajectory_branching_hook(self, step, time):
        """Called after a branching (step counter and time of the branch point)."""
        self._step = step
        self._time = time
        self._trajectory_branching_hook()

    def _trajectory_branching_hook(self):
        """Model-specific hook after branching."""

    def post_trajectory_restore_hook(self, step, time):
        """Called after a restore (step counter and time of the restored state)."""
        self._step = step
        self._time = time
        self._trajectory_restore_hook()

    def _trajectory_restore_hook(self):
        """Model-specific hook after a restore."""

    def check_convergence(self, step, time, current_score, target_score):
        """Whether the transition happened: `current_score >= target_score`."""
        return current_score >= target_score

    def _clear_model(self):
        """Model-specific clean-up."""

    @classmethod
    def name(cls):
        """The model's name."""
        return "BaseClassForwardModel"
