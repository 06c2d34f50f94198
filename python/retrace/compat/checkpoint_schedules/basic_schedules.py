"""Store-everything and no-adjoint schedules (online: the number of steps is given by
``finalize``), as checkpoint_schedules 1.0.4's ``basic_schedules``."""

import sys

from .schedule import (CheckpointSchedule, Copy, EndForward, EndReverse, Forward, Move,
                       Reverse, StorageType)

__all__ = [
    "SingleMemoryStorageSchedule",
    "SingleDiskStorageSchedule",
    "NoneCheckpointSchedule",
]


def _not_finalized(sched):
    if sched._max_n is not None:
        raise RuntimeError("Invalid checkpointing state: finalize() before the forward ran")


class SingleMemoryStorageSchedule(CheckpointSchedule):
    """Every step's adjoint dependency data kept in working memory; online, any number of
    adjoint calculations."""

    def __init__(self):
        super().__init__()

    def _iterator(self):
        _not_finalized(self)
        while self._max_n is None:
            n0 = self._n
            self._n = n0 + sys.maxsize
            yield Forward(n0, self._n, False, True, StorageType.WORK)
        yield EndForward()
        while True:
            self._r = self._max_n
            yield Reverse(self._max_n, 0, True)
            self._r = 0
            yield EndReverse()

    @property
    def is_exhausted(self):
        """Never: any number of adjoint calculations may follow."""
        return False

    def uses_storage_type(self, storage_type):
        """Only ``StorageType.WORK``."""
        return storage_type == StorageType.WORK


class SingleDiskStorageSchedule(CheckpointSchedule):
    """Every step's adjoint dependency data written to disk; online. With ``move_data=True``
    the data is moved (not copied) back, allowing one adjoint calculation; else any number."""

    def __init__(self, move_data=False):
        super().__init__()
        self._move_data = move_data

    def _iterator(self):
        _not_finalized(self)
        while self._max_n is None:
            n0 = self._n
            self._n = n0 + 1
            yield Forward(n0, n0 + 1, False, True, StorageType.DISK)
        yield EndForward()
        transfer = Move if self._move_data else Copy
        while True:
            for step in range(self._max_n - 1, -1, -1):
                self._n = step
                yield transfer(step, StorageType.DISK, StorageType.WORK)
                self._r += 1
                yield Reverse(step + 1, step, True)
            if self._move_data:
                yield EndReverse()
                return
            self._r = 0
            yield EndReverse()

    @property
    def is_exhausted(self):
        """With ``move_data``: once the adjoint calculation has finished."""
        return bool(self._move_data and self._max_n is not None and self._r == self._max_n)

    def uses_storage_type(self, storage_type):
        """``StorageType.DISK`` and ``StorageType.WORK``."""
        return storage_type in (StorageType.DISK, StorageType.WORK)


class NoneCheckpointSchedule(CheckpointSchedule):
    """No adjoint calculation: the forward stores nothing."""

    def __init__(self):
        super().__init__()
        self._exhausted = False

    def _iterator(self):
        _not_finalized(self)
        while self._max_n is None:
            n0 = self._n
            self._n = n0 + sys.maxsize
            yield Forward(n0, self._n, False, False, StorageType.NONE)
        self._exhausted = True
        yield EndForward()

    @property
    def is_exhausted(self):
        """Once the forward has finished."""
        return self._exhausted

    def uses_storage_type(self, storage_type):
        """None: nothing is stored."""
        return False
