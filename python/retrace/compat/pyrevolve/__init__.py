"""pyrevolve 2.2.8's API on retrace: code written for pyrevolve runs with its import changed,
or unchanged with a one-line ``pyrevolve`` package re-exporting this one (see docs/compat.md).

    from retrace.compat import pyrevolve as pr     # was: import pyrevolve as pr
    rev = pr.Revolver(checkpoint, fwd_op, rev_op, n_checkpoints, n_timesteps)
    rev.apply_forward()
    rev.apply_reverse()

The calling conventions are pyrevolve's: ``fwd_op.apply(t_start=, t_end=)`` advances the live
data held by the user's objects; ``checkpoint.get_data(timestep)`` is the list of arrays to
save and ``checkpoint.get_data_location(timestep)`` (by default the same list) the arrays to
load into; after ``apply_forward`` the live data is at step ``n_timesteps``.

Single-level revolvers (``Revolver``, ``MemoryRevolver``, ``DiskRevolver``,
``SingleLevelRevolver``) follow Revolve's offline schedule exactly as pyrevolve does (the same
operator calls, arguments, saves and loads; ``n_checkpoints=None`` is Revolve's ``adjust``),
with checkpoints in retrace's RAM or disk store, or compressed (``compression_params``).
``MultiLevelRevolver`` runs retrace's multistage schedule on one or two storages (see
:mod:`.schedulers`). After an operator or a storage raises, a revolver refuses further calls.

Not offered: online checkpointing (``n_timesteps=None``), more than two storage levels,
H-Revolve's cost-driven schedule, the ``blosc``/``zfp`` codecs.
"""

from . import compression, crevolve, profiling, schedulers, storage
from .compression import init_compression as init
from .crevolve import Action, CRevolve, RevolveError, adjust, expense, maxrange, numforw
from .profiling import Profiler
from .schedulers import Architecture, HRevolve
from .storage import BytesStorage, DiskStorage, NumpyStorage

__version__ = "2.2.8"

__all__ = [
    "Action", "Architecture", "BaseRevolver", "BytesStorage", "CRevolve", "Checkpoint",
    "DiskRevolver", "DiskStorage", "HRevolve", "MemoryRevolver", "MultiLevelRevolver",
    "NumpyStorage", "Operator", "Profiler", "RevolveError", "Revolver", "SingleLevelRevolver",
    "adjust", "compression", "crevolve", "expense", "init", "maxrange", "numforw", "profiling",
    "schedulers", "storage",
]

_A = schedulers.Action


class Operator:
    """Base class of a user operator: ``apply(t_start=..., t_end=...)``."""

    def apply(self, **kwargs):
        """Advance (or reverse) the live data from ``t_start`` to ``t_end``."""


class Checkpoint:
    """Base class of the user's live data: ``dtype``, ``size`` (entries per checkpoint) and
    ``get_data(timestep)``, the list of arrays to save."""

    @property
    def dtype(self):
        """The dtype checkpoints are stored in."""
        return NotImplemented

    @property
    def size(self):
        """Entries of ``dtype`` one checkpoint holds at most."""
        return NotImplemented

    def get_data(self, timestep):
        """The arrays to save at ``timestep``."""
        return NotImplemented

    def get_data_location(self, timestep):
        """The arrays a checkpoint is loaded into (by default those ``get_data`` gives)."""
        return self.get_data(timestep)

    @property
    def nbytes(self):
        """Bytes of one checkpoint."""
        import numpy as np

        return self.size * np.dtype(self.dtype).itemsize


class BaseRevolver:
    """Runs the user's operators through ``scheduler``'s actions, checkpoints in
    ``storage_list`` (see the module docs)."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 storage_list=None, scheduler=None, timings=None, profiler=None):
        if n_timesteps is None:
            raise ValueError("online checkpointing is not offered: give n_timesteps")
        self.profiler = Profiler() if profiler is None else profiler
        self.storage_list = [] if storage_list is None else storage_list
        self.checkpoint = checkpoint
        self.n_checkpoints = n_checkpoints
        self.n_timesteps = n_timesteps
        self.timings = timings
        self.fwd_operator = fwd_operator
        self.rev_operator = rev_operator
        self.scheduler = scheduler
        self._failed = False

    # Storages.
    def addStorage(self, new_storage):
        """Append a storage (its index is its level)."""
        self.storage_list.append(new_storage)

    def removeStorage(self, st_idx):
        """Remove storage ``st_idx`` if there is one."""
        if st_idx < len(self.storage_list):
            del self.storage_list[st_idx]

    def resetStorageList(self):
        """Remove all storages."""
        self.storage_list.clear()

    def addDiskStorage(self, filedir="./", singlefile=False, wd=0, rd=0):
        """Append a :class:`DiskStorage` for ``n_checkpoints`` checkpoints; its index."""
        cp = self.checkpoint
        self.addStorage(DiskStorage(cp.size, self.n_checkpoints, cp.dtype,
                                    profiler=self.profiler, filedir=filedir,
                                    singlefile=singlefile, wd=wd, rd=rd))
        return len(self.storage_list) - 1

    def addNumpyStorage(self, compression_params=None):
        """Append a :class:`NumpyStorage` (or, with a compression scheme, a
        :class:`BytesStorage`) for ``n_checkpoints`` checkpoints; its index."""
        if compression_params is None or compression_params.get("scheme") is None:
            cp = self.checkpoint
            self.addStorage(NumpyStorage(cp.size, self.n_checkpoints, cp.dtype,
                                         profiler=self.profiler))
            return len(self.storage_list) - 1
        return self.addByteStorage(compression_params)

    def addByteStorage(self, compression_params):
        """Append a compressing :class:`BytesStorage`; its index."""
        cp = self.checkpoint
        self.addStorage(BytesStorage(cp.nbytes, self.n_checkpoints, cp.dtype,
                                     compression=init(compression_params), auto_pickle=True,
                                     profiler=self.profiler))
        return len(self.storage_list) - 1

    @property
    def makespan(self):
        """The schedule's cost (multi-level only; 0 here)."""
        return 0

    @property
    def ratio(self):
        """Forward steps per step (0 here)."""
        return 0

    # Running.
    def _guarded(self, run):
        if self._failed:
            raise RuntimeError("a previous call of this Revolver failed: its schedule cannot "
                               "resume (make a new Revolver)")
        try:
            run()
        except BaseException:
            self._failed = True
            raise

    def apply_forward(self):
        """The forward sweep, storing checkpoints; the live data ends at step n_timesteps."""
        self._guarded(self._forward)

    def apply_reverse(self):
        """The reverse sweep: the reverse operator runs once per step, from the last down to
        0, the forward operator recomputing what was not stored."""
        self._guarded(self._reverse)

    def _forward(self):
        sch, prof = self.scheduler, self.profiler
        while True:
            action = sch.next()
            kind = action.type
            if kind == _A.ADVANCE:
                with prof.get_timer("forward", "advance"):
                    self.fwd_operator.apply(t_start=sch.old_capo, t_end=sch.capo)
            elif kind == _A.TAKESHOT:
                with prof.get_timer("forward", "takeshot"):
                    self.save_checkpoint(action.storageIndex())
            elif kind == _A.CPDEL:
                with prof.get_timer("forward", "remove"):
                    self.remove_checkpoint(action.storageIndex())
            elif kind == _A.LASTFW:
                with prof.get_timer("forward", "lastfw"):
                    self.fwd_operator.apply(t_start=sch.old_capo, t_end=self.n_timesteps)
                return
            elif kind == _A.REVERSE:
                return  # a schedule without LASTFW: the forward sweep ends here
            else:
                raise ValueError(f"unexpected action {action!r} in the forward sweep")

    def _reverse(self):
        sch, prof = self.scheduler, self.profiler
        while True:
            action = sch.next()
            kind = action.type
            if kind == _A.REVERSE:
                with prof.get_timer("reverse", "reverse"):
                    self.fwd_operator.apply(t_start=sch.capo, t_end=sch.capo + 1)
                    self.rev_operator.apply(t_start=sch.capo, t_end=sch.capo + 1)
            elif kind == _A.REVSTART:
                with prof.get_timer("reverse", "reverse"):
                    self.rev_operator.apply(t_start=sch.capo, t_end=sch.capo + 1)
            elif kind == _A.TAKESHOT:
                with prof.get_timer("reverse", "takeshot"):
                    self.save_checkpoint(action.storageIndex())
            elif kind == _A.ADVANCE:
                with prof.get_timer("reverse", "advance"):
                    self.fwd_operator.apply(t_start=sch.old_capo, t_end=sch.capo)
            elif kind == _A.RESTORE:
                with prof.get_timer("reverse", "restore"):
                    self.load_checkpoint(action.storageIndex())
            elif kind == _A.CPDEL:
                with prof.get_timer("reverse", "remove"):
                    self.remove_checkpoint(action.storageIndex())
            elif kind == _A.TERMINATE:
                return
            else:
                raise ValueError(f"unexpected action {action!r} in the reverse sweep")

    def save_checkpoint(self, st_idx=0):
        """Save the live data of the current step into storage ``st_idx``."""
        data = self.checkpoint.get_data(self.scheduler.capo)
        self.storage_list[st_idx].save(self.scheduler.cp_pointer, data)

    def load_checkpoint(self, st_idx=0):
        """Load the current step's checkpoint from storage ``st_idx`` into the live data."""
        locations = self.checkpoint.get_data_location(self.scheduler.capo)
        self.storage_list[st_idx].load(self.scheduler.cp_pointer, locations)

    def remove_checkpoint(self, st_idx=0):
        """Release the current step's checkpoint in storage ``st_idx``."""
        release = getattr(self.storage_list[st_idx], "_release", None)
        if release is not None:
            release(self.scheduler.cp_pointer)

    def storage_ckps(self, k=0):
        """The steps stored at level ``k``."""
        return NotImplemented


class SingleLevelRevolver(BaseRevolver):
    """Revolve's offline schedule (:class:`.schedulers.CRevolve`) with one storage: in memory
    (compressed with ``compression_params``), or on disk with ``diskstorage=True`` (files
    under ``filedir``). ``n_checkpoints=None`` takes Revolve's ``adjust(n_timesteps)``."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                 timings=None, profiler=None, compression_params=None, diskstorage=False,
                 filedir="./", singlefile=True):
        super().__init__(checkpoint, fwd_operator, rev_operator, n_checkpoints, n_timesteps,
                         timings=timings, profiler=profiler)
        self.filedir = filedir
        self.singlefile = singlefile
        if n_checkpoints is None:
            # adjust gives 0 for one step, where C++ Revolve would fail: one slot suffices.
            n_checkpoints = max(1, adjust(n_timesteps))
        self.n_checkpoints = n_checkpoints
        self.scheduler = schedulers.CRevolve(self.n_checkpoints, self.n_timesteps)
        self.resetStorageList()
        if diskstorage is True:
            self.addDiskStorage(filedir=self.filedir, singlefile=self.singlefile)
        else:
            self.compression_params = compression_params
            self.addNumpyStorage(compression_params)

    @property
    def ratio(self):
        return self.scheduler.ratio

    def storage_ckps(self, k=0):
        return self.scheduler.storage(0)


class MultiLevelRevolver(BaseRevolver):
    """Checkpoints in one or two storages (``storage_list``; the first is the fast level) with
    retrace's multistage schedule (:class:`.schedulers.HRevolve`)."""

    def __init__(self, checkpoint, fwd_operator, rev_operator, n_timesteps, storage_list,
                 timings=None, profiler=None, uf=1, ub=1, up=1):
        if storage_list is None:
            raise ValueError("Parameter 'storage_list' can not be None.")
        super().__init__(checkpoint, fwd_operator, rev_operator, n_timesteps, n_timesteps,
                         storage_list=storage_list, timings=timings, profiler=profiler)
        self.uf, self.ub, self.up = uf, ub, up
        self.arch = None
        for st in storage_list:
            st.profiler = self.profiler
        self.reload_scheduler()

    def reload_scheduler(self, uf=1, ub=1, up=1):
        """Rebuild the schedule for the current storage list (as pyrevolve, the costs are
        this call's arguments)."""
        if not self.storage_list:
            raise ValueError("Empty 'storage_list'. Storage list must contain at least one "
                             "storage method.")
        self.uf, self.ub, self.up = uf, ub, up
        self.arch = Architecture(self.storage_list)
        self.scheduler = HRevolve(self.n_checkpoints, self.n_timesteps, self.arch, uf, ub, up)

    @property
    def makespan(self):
        return self.scheduler.makespan

    @property
    def ratio(self):
        return self.scheduler.ratio

    def storage_ckps(self, k=0):
        return self.scheduler.storage(k)


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
