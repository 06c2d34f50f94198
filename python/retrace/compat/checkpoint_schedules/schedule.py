"""The actions of a checkpointing schedule and the schedule base class, with the names and
behaviour of checkpoint_schedules 1.0.4's ``checkpoint_schedules.schedule``.

A schedule is an iterator of actions. ``Forward(n0, n1, write_ics, write_adj_deps, storage)``
advances the forward from the start of step ``n0`` to the start of step ``n1``, storing the
restart data of step ``n0`` (``write_ics``) and/or the adjoint's dependency data of the steps
taken (``write_adj_deps``) in ``storage``. ``Reverse(n1, n0, clear_adj_deps)`` advances the
adjoint from the start of step ``n1`` back to the start of step ``n0``. ``Copy`` / ``Move``
bring the data of one step from one storage to another (``WORK``: the forward's or adjoint's
working state; ``Move`` to ``NONE`` deletes). ``EndForward`` / ``EndReverse`` close the sweeps.
"""

import abc
import enum
import sys

__all__ = [
    "CheckpointAction",
    "Forward",
    "Reverse",
    "Copy",
    "Move",
    "EndForward",
    "EndReverse",
    "CheckpointSchedule",
    "StorageType",
]


class StorageType(enum.Enum):
    """Where data lives: ``RAM``, ``DISK``, ``WORK`` (the working state of the forward or
    adjoint) or ``NONE`` (nowhere: a ``Move`` to ``NONE`` deletes)."""

    RAM = 0
    DISK = 1
    WORK = -1
    NONE = None

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"


class StepType(enum.IntEnum):
    """Kinds of step used by schedule generators (kept for code that imports it)."""

    NONE = 0
    FORWARD = 1
    FORWARD_REVERSE = 2
    WRITE_ADJ_DEPS = 3
    WRITE_ICS = 4
    READ_ADJ_DEPS = 5
    READ_ICS = 6


class CheckpointAction:
    """Base class of the actions: ``args`` holds the parameters; actions of the same class with
    equal ``args`` compare equal."""

    def __init__(self, *args):
        self.args = args

    def __repr__(self):
        parts = ("sys.maxsize" if a == sys.maxsize and not isinstance(a, bool) else repr(a)
                 for a in self.args)
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other):
        if not isinstance(other, CheckpointAction):
            return NotImplemented
        return type(self) is type(other) and self.args == other.args

    def __hash__(self):
        return hash((type(self).__name__, self.args))


class Forward(CheckpointAction):
    """Advance the forward from the start of step ``n0`` to the start of step ``n1``; store the
    restart data of step ``n0`` (``write_ics``) and/or the adjoint dependency data of the steps
    ``n0 .. n1 - 1`` (``write_adj_deps``) in ``storage``."""

    def __init__(self, n0, n1, write_ics, write_adj_deps, storage):
        super().__init__(n0, n1, write_ics, write_adj_deps, storage)

    @property
    def n0(self):
        """First step taken."""
        return self.args[0]

    @property
    def n1(self):
        """The step reached (one past the last step taken)."""
        return self.args[1]

    @property
    def write_ics(self):
        """Whether the restart data of step ``n0`` is stored."""
        return self.args[2]

    @property
    def write_adj_deps(self):
        """Whether the adjoint dependency data of the steps taken is stored."""
        return self.args[3]

    @property
    def storage(self):
        """Where the data goes."""
        return self.args[4]

    def __iter__(self):
        return iter(range(self.n0, self.n1))

    def __len__(self):
        return self.n1 - self.n0

    def __contains__(self, step):
        return self.n0 <= step < self.n1


class Reverse(CheckpointAction):
    """Advance the adjoint from the start of step ``n1`` to the start of step ``n0 < n1``
    (over the steps ``n1 - 1, ..., n0``); ``clear_adj_deps``: drop the dependency data used."""

    def __init__(self, n1, n0, clear_adj_deps):
        super().__init__(n1, n0, clear_adj_deps)

    @property
    def n0(self):
        """The step the adjoint reaches."""
        return self.args[1]

    @property
    def n1(self):
        """The step the adjoint starts from."""
        return self.args[0]

    @property
    def clear_adj_deps(self):
        """Whether the adjoint dependency data is dropped afterwards."""
        return self.args[2]

    def __iter__(self):
        return iter(range(self.n1 - 1, self.n0 - 1, -1))

    def __len__(self):
        return self.n1 - self.n0

    def __contains__(self, step):
        return self.n0 <= step < self.n1


class _Transfer(CheckpointAction):
    def __init__(self, n, from_storage, to_storage):
        super().__init__(n, from_storage, to_storage)

    @property
    def n(self):
        """The step whose data is transferred."""
        return self.args[0]

    @property
    def from_storage(self):
        """Where the data is."""
        return self.args[1]

    @property
    def to_storage(self):
        """Where it goes."""
        return self.args[2]


class Copy(_Transfer):
    """Copy the data of step ``n`` from ``from_storage`` to ``to_storage`` (it stays where it
    was)."""


class Move(_Transfer):
    """Move the data of step ``n`` from ``from_storage`` to ``to_storage`` (it is no longer
    where it was; ``to_storage=StorageType.NONE`` deletes it)."""


class EndForward(CheckpointAction):
    """The forward calculation has finished."""

    def __init__(self):
        super().__init__()


class EndReverse(CheckpointAction):
    """An adjoint calculation has finished."""

    def __init__(self):
        super().__init__()


class CheckpointSchedule(abc.ABC):
    """A checkpointing schedule: an iterator of actions.

    ``max_n`` is the number of forward steps, or ``None`` for an online schedule, which is told
    the number later by :meth:`finalize`. ``n`` is where the forward is, ``r`` how many adjoint
    steps have been taken. A subclass defines the generator method ``_iterator`` and the
    ``is_exhausted`` / ``uses_storage_type`` members; actions are then read by iterating::

        for cp_action in schedule:
            action(cp_action)          # e.g. a functools.singledispatch function
            if isinstance(cp_action, EndReverse):
                break
    """

    def __init__(self, max_n=None):
        if max_n is not None and max_n < 1:
            raise ValueError("max_n must be positive")
        self._n = 0
        self._r = 0
        self._max_n = max_n

    def __iter__(self):
        return self

    def __next__(self):
        gen = self.__dict__.get("_actions")
        if gen is None:
            gen = self._actions = self._iterator()
        action = next(gen)
        self._running = True
        return action

    @abc.abstractmethod
    def _iterator(self):
        """The generator of the schedule's actions (defined by subclasses)."""
        raise NotImplementedError

    @property
    def is_exhausted(self):
        """Whether the schedule has concluded (online schedules may never conclude)."""
        raise NotImplementedError

    @abc.abstractmethod
    def uses_storage_type(self, storage_type):
        """Whether the schedule may use ``storage_type``."""
        raise NotImplementedError

    @property
    def n(self):
        """The step the forward is at."""
        return self._n

    @property
    def r(self):
        """The number of adjoint steps taken."""
        return self._r

    @property
    def max_n(self):
        """The number of forward steps, or ``None`` until :meth:`finalize`."""
        return self._max_n

    @property
    def is_running(self):
        """Whether at least one action has been yielded."""
        return self.__dict__.get("_running", False)

    def finalize(self, n):
        """Give the number of forward steps ``n`` of the initial forward calculation (online
        schedules: once the forward has taken them; an advance that went further ends at
        ``n``)."""
        if n < 1:
            raise ValueError("n must be positive")
        if self._max_n is None:
            if self._n < n:
                raise RuntimeError(
                    f"Invalid checkpointing state: finalize({n}) with the forward at step "
                    f"{self._n}")
            self._n = n
            self._max_n = n
        elif self._n != n or self._max_n != n:
            raise RuntimeError(
                f"Invalid checkpointing state: finalize({n}) for a schedule of "
                f"{self._max_n} steps with the forward at step {self._n}")
