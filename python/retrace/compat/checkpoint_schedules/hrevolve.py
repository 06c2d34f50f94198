"""``Revolve``, ``HRevolve``, ``DiskRevolve`` and ``PeriodicDiskRevolve`` with the signatures of
checkpoint_schedules 1.0.4's ``hrevolve`` module. ``Revolve`` is retrace's binomial schedule
(optimal forward count). The others are retrace's cost-aware schedule: the least modelled
makespan (forward step ``uf``, adjoint step ``ub``, disk write ``wd``, disk read ``rd``; RAM
free) that never holds more than the given RAM and disk checkpoints."""

from ... import _retrace
from ._translate import offline
from .multistage import single_step
from .schedule import CheckpointSchedule, StorageType

__all__ = ["HRevolve", "DiskRevolve", "PeriodicDiskRevolve", "Revolve"]


class RevolveCheckpointSchedule(CheckpointSchedule):
    """Base of the offline schedules below: one adjoint calculation."""

    def __init__(self, max_n, snapshots_in_ram, snapshots_on_disk):
        super().__init__(max_n)
        if snapshots_in_ram is None or snapshots_in_ram < 1:
            raise ValueError(f"snapshots_in_ram must be at least 1, not {snapshots_in_ram!r}")
        if snapshots_on_disk is not None and snapshots_on_disk < 0:
            raise ValueError(f"snapshots_on_disk must be >= 0, not {snapshots_on_disk!r}")
        self._snapshots_in_ram = snapshots_in_ram
        self._snapshots_on_disk = snapshots_on_disk
        self._exhausted = False

    def _tuples(self):
        raise NotImplementedError

    def _iterator(self):
        if self._max_n == 1:
            yield from single_step(self)
            return
        yield from offline(self, self._tuples())

    @property
    def is_exhausted(self):
        """Once the adjoint calculation has finished."""
        return self._exhausted

    def uses_storage_type(self, storage_type):
        """RAM always; disk when disk checkpoints are allowed."""
        if storage_type == StorageType.DISK:
            return bool(self._snapshots_on_disk)
        if storage_type == StorageType.RAM:
            return self._snapshots_in_ram > 0
        return False


class _CostAware(RevolveCheckpointSchedule):
    def __init__(self, max_n, ram, disk, uf, ub, wd, rd):
        super().__init__(max_n, ram, disk)
        self._costs = (float(uf), float(ub), float(wd), float(rd))
        if max_n > 1:
            # Built now: bad costs or sizes fail here, not in the middle of a run.
            self._plan = _retrace.tuples_cost_aware(
                max_n, ram, max_n - 1 if disk is None else disk, *self._costs)
        else:
            self._plan = None

    @property
    def makespan(self):
        """The modelled makespan of the schedule."""
        if self._plan is None:
            uf, ub, _, _ = self._costs
            return uf + ub
        return self._plan[1]

    def _tuples(self):
        tuples, self._plan = self._plan[0], (None, self._plan[1])
        if tuples is None:
            raise RuntimeError("the schedule was already used")
        return tuples


class HRevolve(_CostAware):
    """The least modelled makespan with ``snapshots_in_ram`` RAM and ``snapshots_on_disk`` disk
    checkpoints (the one of step 0 included), never more (checkpoint_schedules' H-Revolve may
    exceed the disk budget)."""

    def __init__(self, max_n, snapshots_in_ram, snapshots_on_disk, uf=1, ub=1, wd=2, rd=2):
        super().__init__(max_n, snapshots_in_ram, snapshots_on_disk, uf, ub, wd, rd)


class DiskRevolve(_CostAware):
    """The least modelled makespan with ``snapshots_in_ram`` RAM checkpoints and as many disk
    checkpoints as it needs."""

    def __init__(self, max_n, snapshots_in_ram, uf=1, ub=1, wd=2, rd=2):
        super().__init__(max_n, snapshots_in_ram, None, uf, ub, wd, rd)


class PeriodicDiskRevolve(_CostAware):
    """As :class:`DiskRevolve` (retrace plans the optimum, of which a periodic placement of the
    disk checkpoints is one candidate)."""

    def __init__(self, max_n, snapshots_in_ram, uf=1, ub=1, wd=2, rd=2):
        super().__init__(max_n, snapshots_in_ram, None, uf, ub, wd, rd)


class Revolve(RevolveCheckpointSchedule):
    """Binomial checkpointing with ``snapshots_in_ram`` RAM checkpoints (the one of step 0
    included): the optimal forward count, computed lazily (the first action of
    ``Revolve(10**6, 100)`` takes microseconds). The costs are accepted for compatibility; with
    RAM checkpoints only, the fewest forward steps is the least makespan."""

    def __init__(self, max_n, snapshots_in_ram, uf=1, ub=1, wd=2, rd=2):
        super().__init__(max_n, snapshots_in_ram, 0)

    def _tuples(self):
        return _retrace.tuples_binomial(self._max_n, self._snapshots_in_ram)
