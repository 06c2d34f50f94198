"""pyrevolve 2.2's user-facing API on retrace's schedules and checkpoint stores.

Code written for pyrevolve runs after changing its import::

    from retrace.compat import pyrevolve as pr     # was: import pyrevolve as pr
    rev = pr.Revolver(checkpoint, fwd_op, rev_op, n_checkpoints, n_timesteps)
    rev.apply_forward()
    rev.apply_reverse()

The calling conventions are pyrevolve's: ``fwd_op.apply(t_start=, t_end=)`` advances the live
data held by the user's objects; ``checkpoint.get_data(timestep)`` is the list of arrays to
save and ``checkpoint.get_data_location(timestep)`` (by default the same list) the arrays to
load into; after ``apply_forward`` the live data is at step ``n_timesteps``; reversing step
``k`` is ``fwd_op.apply(t_start=k, t_end=k+1)`` then ``rev_op.apply(t_start=k, t_end=k+1)``,
except the first (``k = n - 1``), which finds the forward step already done.

Schedules are retrace's optimal binomial (single level) and multistage (RAM + disk) ones;
checkpoints live in retrace's RAM store or its checksummed memory-mapped disk store.

Not supported: compression (``compression_params`` other than None, ``BytesStorage``),
``n_checkpoints=None`` (pyrevolve's ``adjust``), profiler output, HRevolve's cost arguments
(``uf``/``ub``/``up`` and storage ``wd``/``rd`` are accepted and ignored: the multistage
schedule minimises recomputation first, then disk accesses), more than one storage per level,
``singlefile`` (retrace always keeps one file per disk slot) and ``keepfiles``.
"""

import numpy as np

from .._retrace import ArrayStore
from ..schedule import binomial, multistage

__all__ = [
    "Checkpoint",
    "DiskRevolver",
    "DiskStorage",
    "MemoryRevolver",
    "MultiLevelRevolver",
    "NumpyStorage",
    "Operator",
    "Revolver",
    "SingleLevelRevolver",
]


class Operator:
    """Base class of a user operator: ``apply(t_start=..., t_end=...)``."""

    def apply(self, **kwargs):
        raise NotImplementedError


class Checkpoint:
    """Base class of the user's live data: ``dtype``, ``size`` (entries per checkpoint) and
    ``get_data(timestep)``, the list of arrays to save."""

    @property
    def dtype(self):
        raise NotImplementedError

    @property
    def size(self):
        raise NotImplementedError

    def get_data(self, timestep):
        raise NotImplementedError

    def get_data_location(self, timestep):
        """The arrays a checkpoint is loaded into (by default those ``get_data`` gives)."""
        return self.get_data(timestep)

    @property
    def nbytes(self):
        return self.size * np.dtype(self.dtype).itemsize


class _Storage:
    level = "ram"

    def __init__(self, size_ckp, n_ckp, dtype, profiler=None, wd=0, rd=0, name="storage"):
        self.size_ckp = size_ckp
        self.n_ckp = n_ckp
        self.dtype = dtype
        self.profiler = profiler
        self.wd = wd
        self.rd = rd
        self.name = name
        self._store = None

    @property
    def nbytes(self):
        return self.size_ckp * np.dtype(self.dtype).itemsize

    def _open(self):
        raise NotImplementedError

    def store(self):
        """The retrace store behind this storage (made on first use)."""
        if self._store is None:
            self._store = self._open()
        return self._store

    def maxsize(self):
        return self.n_ckp


class NumpyStorage(_Storage):
    """Checkpoints in memory (retrace's RAM store)."""

    def __init__(self, size_ckp, n_ckp, dtype, profiler=None, wd=0, rd=0, name="MemoryStorage"):
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd, rd, name)

    def _open(self):
        return ArrayStore(self.nbytes, self.n_ckp)


class DiskStorage(_Storage):
    """Checkpoints on disk (retrace's disk store: one memory-mapped, checksummed file per slot in
    a fresh directory inside ``filedir``, removed when done). ``singlefile`` and ``keepfiles``
    are accepted and ignored."""

    level = "disk"

    def __init__(self, size_ckp, n_ckp, dtype, profiler=None, filedir="./", singlefile=True,
                 wd=0, rd=0, name="DiskStorage", keepfiles=False):
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd, rd, name)
        self.filedir = filedir
        self.singlefile = singlefile
        self.keepfiles = keepfiles

    def _open(self):
        return ArrayStore(self.nbytes, self.n_ckp, str(self.filedir))


def _parse(action):
    parts = action.split()
    return parts[0], [int(p) if p.isdigit() else p for p in parts[1:]]


class BaseRevolver:
    """Runs pyrevolve-style operators through a retrace schedule (see the module docs)."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 storage_list=None, scheduler=None, timings=None, profiler=None):
        if n_timesteps is None:
            raise ValueError("online checkpointing is not offered here: give n_timesteps")
        if n_timesteps < 1:
            raise ValueError("n_timesteps must be at least 1")
        self.checkpoint = checkpoint
        self.fwd_operator = fwd_operator
        self.rev_operator = rev_operator
        self.n_checkpoints = n_checkpoints
        self.n_timesteps = n_timesteps
        self.storage_list = list(storage_list or [])
        self.timings = timings
        self.profiler = profiler
        self._actions = None
        self._forwarded = False

    # Storage per level.
    def _level_storage(self, level):
        found = [s for s in self.storage_list if s.level == level]
        if len(found) > 1:
            raise ValueError(f"more than one {level} storage is not supported")
        return found[0] if found else None

    def _schedule(self):
        raise NotImplementedError

    def _run(self, action):
        kind, args = _parse(action)
        if kind == "advance":
            self.fwd_operator.apply(t_start=args[0], t_end=args[1])
        elif kind == "store":
            step, level = args
            self._level_storage(level).store().save(step, self.checkpoint.get_data(step))
        elif kind == "restore":
            step, level = args
            self._level_storage(level).store().load(step, self.checkpoint.get_data_location(step))
        elif kind == "free":
            step, level = args
            self._level_storage(level).store().free(step)
        elif kind == "reverse":
            k = args[0]
            self.fwd_operator.apply(t_start=k, t_end=k + 1)
            self.rev_operator.apply(t_start=k, t_end=k + 1)
        else:  # pragma: no cover - retrace schedules emit only the five kinds
            raise ValueError(f"unknown action {action!r}")

    def apply_forward(self):
        """The forward sweep, storing checkpoints; the live data ends at step n_timesteps."""
        if self._forwarded:
            raise RuntimeError("apply_forward was already called")
        self._actions = iter(self._schedule())
        n = self.n_timesteps
        for action in self._actions:
            if action.startswith("reverse"):
                # The first reverse is of step n - 1: take the last forward step now.
                self.fwd_operator.apply(t_start=n - 1, t_end=n)
                break
            self._run(action)
        self._forwarded = True

    def apply_reverse(self):
        """The reverse sweep: the reverse operator runs once per step, from n - 1 down to 0."""
        if not self._forwarded:
            raise RuntimeError("apply_reverse needs apply_forward first")
        n = self.n_timesteps
        self.rev_operator.apply(t_start=n - 1, t_end=n)
        for action in self._actions:
            self._run(action)
        self._actions = None
        self._forwarded = False

    def storage_ckps(self, k=0):
        return NotImplemented


class SingleLevelRevolver(BaseRevolver):
    """The binomial schedule (Revolve) with one storage: in memory, or on disk with
    ``diskstorage=True`` (files in ``filedir``)."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 timings=None, profiler=None, compression_params=None, diskstorage=False,
                 filedir="./", singlefile=True):
        if n_checkpoints is None:
            raise ValueError("n_checkpoints=None (pyrevolve's adjust) is not supported: give it")
        if compression_params not in (None, {"scheme": None}):
            raise ValueError("compression is not supported by retrace.compat.pyrevolve")
        super().__init__(checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                         timings=timings, profiler=profiler)
        self.filedir = filedir
        self.singlefile = singlefile
        if diskstorage:
            storage = DiskStorage(checkpoint.size, n_checkpoints, checkpoint.dtype,
                                  filedir=filedir, singlefile=singlefile)
        else:
            storage = NumpyStorage(checkpoint.size, n_checkpoints, checkpoint.dtype)
        self.storage_list = [storage]
        storage.store()  # allocate now, not during the run

    def _schedule(self):
        # A binomial schedule written for the one storage's level.
        level = self.storage_list[0].level
        acts = binomial(self.n_timesteps, self.n_checkpoints)
        if level == "ram":
            return acts
        return (a.replace(" ram", " disk") for a in acts)

    def _level_storage(self, level):
        return self.storage_list[0]


class MemoryRevolver(SingleLevelRevolver):
    """Single level, checkpoints in memory."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 timings=None, profiler=None, compression_params=None):
        super().__init__(checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                         timings=timings, profiler=profiler,
                         compression_params=compression_params, diskstorage=False)


class DiskRevolver(SingleLevelRevolver):
    """Single level, checkpoints on disk."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 timings=None, profiler=None, filedir="./", singlefile=True):
        super().__init__(checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                         timings=timings, profiler=profiler, diskstorage=True,
                         filedir=filedir, singlefile=singlefile)


Revolver = MemoryRevolver


class MultiLevelRevolver(BaseRevolver):
    """RAM and disk checkpoints (one ``NumpyStorage`` and/or one ``DiskStorage`` in
    ``storage_list``) with retrace's multistage schedule."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_timesteps, storage_list,
                 timings=None, profiler=None, uf=1, ub=1, up=1):
        if storage_list is None:
            raise ValueError("Parameter 'storage_list' can not be None.")
        super().__init__(checkpoint, fwd_operator, rev_operator, n_timesteps, n_timesteps,
                         storage_list=storage_list, timings=timings, profiler=profiler)
        self.uf, self.ub, self.up = uf, ub, up
        for s in self.storage_list:
            if not isinstance(s, (NumpyStorage, DiskStorage)):
                raise ValueError(f"unsupported storage {type(s).__name__}")
        ram = self._level_storage("ram")
        disk = self._level_storage("disk")
        self._slots = (ram.n_ckp if ram else 0, disk.n_ckp if disk else 0)
        if sum(self._slots) == 0:
            raise ValueError("the storages hold no checkpoint slot")
        for st in self.storage_list:
            st.store()  # allocate now, not during the run

    def _schedule(self):
        return multistage(self.n_timesteps, *self._slots)
