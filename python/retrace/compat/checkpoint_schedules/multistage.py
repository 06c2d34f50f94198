"""``MultistageCheckpointSchedule`` (binomial checkpointing over RAM and disk) and the binomial
helpers of checkpoint_schedules 1.0.4's ``multistage`` module. The actions come from retrace's
``Multistage`` schedule: the optimal forward count T(n, R + D), with few disk accesses."""

from ... import _retrace
from ._binomial import beta, repetition, total_steps
from ._translate import offline
from .schedule import CheckpointSchedule, EndForward, EndReverse, Forward, Reverse, StorageType

__all__ = [
    "MultistageCheckpointSchedule",
    "optimal_steps_binomial",
]

_TRAJECTORIES = ("maximum", "revolve")


def _check_trajectory(trajectory):
    if trajectory not in _TRAJECTORIES:
        raise ValueError(f"Unexpected trajectory: {trajectory!r} (expected 'maximum' or "
                         f"'revolve')")


def single_step(sched):
    """The actions of a one-step schedule."""
    sched._n = 1
    yield Forward(0, 1, False, True, StorageType.WORK)
    yield EndForward()
    sched._r = 1
    yield Reverse(1, 0, True)
    sched._exhausted = True
    yield EndReverse()


class MultistageCheckpointSchedule(CheckpointSchedule):
    """Binomial checkpointing of ``max_n`` steps with at most ``snapshots_in_ram`` forward
    restart checkpoints in RAM and ``snapshots_on_disk`` on disk (the one of step 0 included):
    the optimal number of forward steps T(n, R + D). Offline, one adjoint calculation.

    ``trajectory`` ('maximum' or 'revolve') is accepted for compatibility: every optimal
    trajectory has the same forward count, and retrace picks the one with the fewest stores."""

    def __init__(self, max_n, snapshots_in_ram, snapshots_on_disk, *, trajectory="maximum"):
        super().__init__(max_n=max_n)
        _check_trajectory(trajectory)
        if snapshots_in_ram < 0 or snapshots_on_disk < 0:
            raise ValueError("Invalid number of snapshots")
        self._snapshots_in_ram = min(snapshots_in_ram, max_n - 1)
        self._snapshots_on_disk = min(snapshots_on_disk, max_n - 1)
        if max_n > 1 and self._snapshots_in_ram + self._snapshots_on_disk == 0:
            raise ValueError("Require at least one snapshot")
        self._trajectory = trajectory
        self._exhausted = False

    def _iterator(self):
        if self._max_n == 1:
            yield from single_step(self)
            return
        tuples = _retrace.tuples_multistage(self._max_n, self._snapshots_in_ram,
                                            self._snapshots_on_disk)
        yield from offline(self, tuples)

    @property
    def is_exhausted(self):
        """Once the adjoint calculation has finished."""
        return self._exhausted

    def uses_storage_type(self, storage_type):
        """RAM / disk: whether checkpoints may go there."""
        if storage_type == StorageType.DISK:
            return self._snapshots_on_disk > 0
        if storage_type == StorageType.RAM:
            return self._snapshots_in_ram > 0
        return False


def _check_snapshots(n, s):
    if n <= 0:
        raise ValueError("Invalid number of steps")
    if s < min(1, n - 1) or s > n - 1:
        raise ValueError("Invalid number of snapshots")


def optimal_extra_steps(n, s):
    """Forward steps beyond ``n`` of an optimal binomial reversal of ``n`` steps with ``s``
    checkpointing units (``min(1, n - 1) <= s <= n - 1``)."""
    _check_snapshots(n, s)
    return total_steps(n, s) - n


def optimal_steps_binomial(n, s):
    """Total forward steps of an optimal binomial reversal of ``n`` steps with ``s``
    checkpointing units (``min(1, n - 1) <= s <= n - 1``), in closed form."""
    _check_snapshots(n, s)
    return total_steps(n, s)


def n_advance(n, snapshots, *, trajectory="maximum"):
    """Steps to advance before storing the next checkpoint when ``n`` steps remain and
    ``snapshots`` units are free (the one about to be written included). 'maximum': the largest
    advance that keeps the forward count optimal; 'revolve': Griewank & Walther's choice
    (Algorithm 799, p. 34)."""
    if n < 1:
        raise ValueError("Require at least one block")
    if snapshots <= 0:
        raise ValueError("Require at least one snapshot")
    _check_trajectory(trajectory)
    s = max(min(snapshots, n - 1), 1)
    if s == 1:
        return n - 1
    if s == n - 1:
        return 1
    r = repetition(n, s)
    if trajectory == "maximum":
        return min(beta(s, r - 1), n - beta(s - 1, r - 1))
    if n <= beta(s, r - 1) + beta(s - 2, r - 1):
        return beta(s, r - 2)
    if n < beta(s, r - 1) + beta(s - 1, r - 1) + beta(s - 2, r - 1):
        return n - beta(s - 1, r - 1) - beta(s - 2, r - 1)
    return beta(s, r - 1)
