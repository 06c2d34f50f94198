"""``MixedCheckpointSchedule`` of checkpoint_schedules 1.0.4 (Maddison 2024): a checkpointing
unit holds either a forward restart checkpoint or the adjoint dependency data of one step.
The actions come from retrace's mixed schedule (``retrace.schedule.mixed``), optimal in
forward steps."""

from ... import _retrace
from ._translate import offline
from .multistage import single_step
from .schedule import CheckpointSchedule, StorageType

__all__ = ["MixedCheckpointSchedule"]


def _native(name):
    fn = getattr(_retrace, name, None)
    if fn is None:
        raise NotImplementedError(
            "MixedCheckpointSchedule needs retrace's mixed schedule, which this build lacks")
    return fn


def _check(n, s):
    if n <= 0:
        raise ValueError("Invalid number of steps")
    if s < min(1, n - 1) or s > n - 1:
        raise ValueError("Invalid number of snapshots")


class MixedCheckpointSchedule(CheckpointSchedule):
    """Checkpointing of ``max_n`` steps with ``snapshots`` units in ``storage`` (RAM or disk),
    each holding a forward restart checkpoint or one step's adjoint dependency data: the fewest
    forward steps (``optimal_steps_mixed``). Offline, one adjoint calculation."""

    def __init__(self, max_n, snapshots, *, storage=StorageType.DISK):
        if snapshots < min(1, max_n - 1):
            raise ValueError("Invalid number of snapshots")
        if storage not in (StorageType.RAM, StorageType.DISK):
            raise ValueError("Invalid storage")
        super().__init__(max_n)
        self._snapshots = min(snapshots, max_n - 1)
        self._storage = storage
        self._exhausted = False
        if max_n > 1:
            level = "ram" if storage == StorageType.RAM else "disk"
            self._plan = _native("mixed")(max_n, self._snapshots, level)

    def _iterator(self):
        if self._max_n == 1:
            yield from single_step(self)
            return
        yield from offline(self, _retrace.tuples_of(self._plan))

    @property
    def is_exhausted(self):
        """Once the adjoint calculation has finished."""
        return self._exhausted

    def uses_storage_type(self, storage_type):
        """The storage given."""
        return storage_type == self._storage


def optimal_steps_mixed(n, s):
    """The fewest forward steps of a mixed schedule of ``n`` steps with ``s`` units
    (``min(1, n - 1) <= s <= n - 1``)."""
    _check(n, s)
    if n == 1:
        return 1
    return _native("mixed_forward")(n, s)
