"""``TwoLevelCheckpointSchedule`` of checkpoint_schedules 1.0.4: forward restart checkpoints on
disk every ``period`` steps (online), and each period reversed by retrace's binomial schedule
with ``binomial_snapshots`` more checkpoints in ``binomial_storage``."""

from ... import _retrace
from ._translate import translate
from .multistage import _check_trajectory
from .schedule import CheckpointSchedule, Copy, EndForward, EndReverse, Forward, StorageType

__all__ = ["TwoLevelCheckpointSchedule"]


class TwoLevelCheckpointSchedule(CheckpointSchedule):
    """Periodic disk checkpoints every ``period`` steps, binomial checkpointing within a period
    with at most ``binomial_snapshots`` more checkpoints in ``binomial_storage`` (RAM or disk):
    T(period, binomial_snapshots + 1) forward steps per period, the optimum. Online, any number
    of adjoint calculations. ``binomial_trajectory`` is accepted for compatibility."""

    def __init__(self, period, binomial_snapshots, *, binomial_storage=StorageType.DISK,
                 binomial_trajectory="maximum"):
        super().__init__()
        if period < 1:
            raise ValueError("period must be positive")
        if binomial_snapshots < 0:
            raise ValueError("binomial_snapshots must be >= 0")
        if binomial_storage not in (StorageType.RAM, StorageType.DISK):
            raise ValueError("Invalid storage")
        _check_trajectory(binomial_trajectory)
        self._period = period
        self._binomial_snapshots = binomial_snapshots
        self._binomial_storage = binomial_storage
        self._trajectory = binomial_trajectory

    def _iterator(self):
        if self._max_n is not None:
            raise RuntimeError("Invalid checkpointing state: finalize() before the forward ran")
        while self._max_n is None:
            n0 = self._n
            self._n = n0 + self._period
            yield Forward(n0, self._n, True, False, StorageType.DISK)
        yield EndForward()
        levels = (self._binomial_storage, self._binomial_storage)
        while True:
            last = (self._max_n - 1) // self._period
            for j in range(last, -1, -1):
                start = j * self._period
                length = min(self._period, self._max_n - start)
                self._n = start
                yield Copy(start, StorageType.DISK, StorageType.WORK)
                tuples = _retrace.tuples_binomial(length, self._binomial_snapshots + 1)
                yield from translate(self, tuples, levels=levels, offset=start,
                                     base=(start, StorageType.DISK), end_forward=False)
            self._r = 0
            yield EndReverse()

    @property
    def is_exhausted(self):
        """Never: any number of adjoint calculations may follow."""
        return False

    def uses_storage_type(self, storage_type):
        """Disk (the periodic checkpoints) and ``binomial_storage``."""
        return storage_type in (StorageType.DISK, self._binomial_storage)
