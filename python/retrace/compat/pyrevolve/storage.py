"""pyrevolve's ``storage``: checkpoint storages addressed by key (slot) ``0 .. n_ckp - 1``.

:class:`NumpyStorage` and :class:`DiskStorage` keep checkpoints in retrace's RAM store and
its checksummed memory-mapped disk store. As in pyrevolve, a checkpoint is the list of arrays
``get_data`` gives, cast to the storage's ``dtype`` and packed one after the other into at most
``size_ckp`` entries; ``load`` copies them back in that order into the given arrays (cast to
theirs). An empty list stores nothing. :class:`BytesStorage` holds compressed checkpoints.
"""

import datetime
import os

import numpy as np

from ..._retrace import ArrayStore
from .compression import CompressedObject
from .profiling import Profiler

__all__ = ["BytesStorage", "DiskStorage", "NumpyStorage", "Storage"]


class Storage:
    """A storage of ``n_ckp`` checkpoints of ``size_ckp`` entries of ``dtype``, used by key
    (``save``/``load``) or as a stack (``push``/``peek``/``pop``); ``wd``/``rd`` are the write
    and read costs a multi-level schedule is told."""

    def __init__(self, size_ckp, n_ckp, dtype, profiler, wd=0, rd=0, name="storage"):
        self.size_ckp = int(size_ckp)
        self.n_ckp = int(n_ckp)
        self.dtype = dtype
        self.profiler = profiler if profiler is not None else Profiler()
        self.wd = wd
        self.rd = rd
        self.name = name
        self._stack_top = -1

    def save(self, key, data_pointers):
        """Keep the arrays as checkpoint ``key``."""
        raise NotImplementedError

    def load(self, key, locations):
        """Copy checkpoint ``key`` into the arrays."""
        raise NotImplementedError

    def _release(self, key):
        """Forget checkpoint ``key`` (a multi-level schedule's ``free``)."""

    def push(self, data_pointers):
        """Save on top of the stack."""
        if self.isFull():
            raise ValueError(f"{self.name}: push onto a full stack of {self.n_ckp} checkpoints")
        self._stack_top += 1
        self.save(self._stack_top, data_pointers)

    def peek(self, locations):
        """Load the top of the stack (nothing if it is empty)."""
        if not self.isEmpty():
            self.load(self._stack_top, locations)

    def pop(self, locations):
        """Load the top of the stack and drop it."""
        if self.isEmpty():
            raise ValueError(f"{self.name}: pop from an empty stack")
        self.load(self._stack_top, locations)
        self._release(self._stack_top)
        self._stack_top -= 1

    def isFull(self):
        """The stack holds ``n_ckp`` checkpoints."""
        return self._stack_top >= self.n_ckp - 1

    def isEmpty(self):
        """The stack holds nothing."""
        return self._stack_top == -1

    @property
    def maxsize(self):
        """Entries of ``dtype`` all checkpoints together may hold."""
        return self.size_ckp * self.n_ckp

    @property
    def maxsize_in_bytes(self):
        """Bytes all checkpoints together may hold."""
        return self.maxsize * np.dtype(self.dtype).itemsize

    @property
    def size(self):
        """Entries of ``dtype`` held now."""
        return 0

    @property
    def nckp(self):
        """Checkpoints the storage holds."""
        return self.n_ckp


class _StoreBacked(Storage):
    """Checkpoints packed into retrace's ``ArrayStore`` (RAM or disk)."""

    def __init__(self, size_ckp, n_ckp, dtype, profiler, wd, rd, name, disk_dir=None):
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd=wd, rd=rd, name=name)
        self._dt = np.dtype(dtype)
        if self.size_ckp < 0 or self.n_ckp < 0:
            raise ValueError(f"{name}: size_ckp and n_ckp must be >= 0")
        self._store = ArrayStore(self.size_ckp * self._dt.itemsize, self.n_ckp, disk_dir)
        self._scratch = None
        self._held = set()
        self.shapes = {}

    def _buffer(self):
        if self._scratch is None:
            self._scratch = np.zeros(self.size_ckp, dtype=self._dt)
        return self._scratch

    def _key(self, key):
        key = int(key)
        if not 0 <= key < self.n_ckp:
            raise IndexError(f"{self.name}: key {key} outside 0..{self.n_ckp - 1}")
        return key

    def _direct(self, arrays):
        """The arrays fill a checkpoint exactly in its dtype: no packing copy needed."""
        return all(isinstance(a, np.ndarray) and a.dtype == self._dt for a in arrays) and sum(
            a.size for a in arrays
        ) == self.size_ckp

    def save(self, key, data_pointers):
        """Keep the arrays (cast to ``dtype``, at most ``size_ckp`` entries) as checkpoint
        ``key``, replacing what it held."""
        key = self._key(key)
        arrays = [np.asarray(a) for a in data_pointers]
        with self.profiler.get_timer("storage", "copy_save"):
            if not arrays or self._direct(arrays):
                pieces = arrays
            else:
                buf = self._buffer()
                at = 0
                total = sum(a.size for a in arrays)
                if total > self.size_ckp:
                    raise ValueError(
                        f"{self.name}: the checkpoint data holds {total} entries, a checkpoint "
                        f"holds at most {self.size_ckp}"
                    )
                for a in arrays:
                    np.copyto(buf[at:at + a.size], a.reshape(-1), casting="same_kind")
                    at += a.size
                pieces = [buf]
            if key in self._held:
                self._store.free(key)
                self._held.discard(key)
            if pieces:
                self._store.save(key, pieces)
                self._held.add(key)
            self.shapes[key] = [a.shape for a in arrays]

    def load(self, key, locations):
        """Copy checkpoint ``key`` into the arrays, in order (each takes as many entries as it
        holds); it stays stored."""
        key = self._key(key)
        if key not in self.shapes:
            raise KeyError(f"{self.name}: no checkpoint was saved under key {key}")
        shapes = self.shapes[key]
        if not shapes:
            return
        locs = list(locations)[: len(shapes)]
        with self.profiler.get_timer("storage", "copy_load"):
            if len(locs) == len(shapes) and self._direct(locs):
                self._store.load(key, locs)
                return
            buf = self._buffer()
            self._store.load(key, [buf])
            at = 0
            for loc in locs:
                n = int(np.prod(loc.shape))
                if at + n > self.size_ckp:
                    raise ValueError(
                        f"{self.name}: the arrays to load into hold more than the "
                        f"{self.size_ckp} entries of a checkpoint"
                    )
                np.copyto(loc, buf[at:at + n].reshape(loc.shape), casting="same_kind")
                at += n

    def _release(self, key):
        if key in self._held:
            self._store.free(key)
            self._held.discard(key)
        self.shapes.pop(key, None)

    def __getitem__(self, key):
        """A copy of the ``size_ckp`` entries stored under ``key``."""
        key = self._key(key)
        out = np.zeros(self.size_ckp, dtype=self._dt)
        if key in self._held:
            self._store.load(key, [out])
        return out

    @property
    def size(self):
        return len(self._held) * self.size_ckp


class NumpyStorage(_StoreBacked):
    """Checkpoints in memory (retrace's RAM store, allocated up front)."""

    def __init__(self, size_ckp, n_ckp, dtype, profiler=None, wd=0, rd=0, name="MemoryStorage"):
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd, rd, name)


class DiskStorage(_StoreBacked):
    """Checkpoints on disk: retrace's disk store (one checksummed memory-mapped file per slot)
    in a fresh directory inside ``filedir + "dat_D<time>_PID<pid>/"``, which is created if
    missing, as pyrevolve does. The slot files are removed when the storage goes away (also
    with ``keepfiles=True``, which only keeps the ``dat_`` directory); ``singlefile`` is
    accepted and has no effect."""

    def __init__(self, size_ckp, n_ckp, dtype, profiler=None, filedir="./", singlefile=True,
                 wd=0, rd=0, name="DiskStorage", keepfiles=False):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        pid = os.getpid()
        base = "./" if filedir is None else str(filedir)
        self.filedir = base + f"dat_D{stamp}_PID{pid}/"
        self.datFileName = self.filedir + f"CKP_D{stamp}_PID{pid}.dat"
        self.singlefile = singlefile
        self.keepfiles = keepfiles
        os.makedirs(self.filedir, exist_ok=True)
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd, rd, name, disk_dir=self.filedir)

    def checkFilesDir(self):
        """Create ``filedir`` again if it went missing."""
        os.makedirs(self.filedir, exist_ok=True)

    def removeDatdir(self):
        """Close the store (its files go) and remove the ``dat_`` directory if it is empty
        (other storages of this process may share it)."""
        self._store = None
        try:
            os.rmdir(self.filedir)
        except OSError:
            pass

    def __del__(self):
        if not getattr(self, "keepfiles", True) and hasattr(self, "_store"):
            self.removeDatdir()


class BytesStorage(Storage):
    """Compressed checkpoints: each array through ``compression = (compressor,
    decompressor)`` (see :mod:`.compression`); the compressed arrays of one checkpoint may
    take at most ``size_ckp * itemsize(dtype)`` bytes, as in pyrevolve. ``auto_pickle`` is
    accepted; the compressor must return :class:`~.compression.CompressedObject` s."""

    def __init__(self, size_ckp, n_ckp, dtype, compression, auto_pickle=False, profiler=None,
                 wd=0, rd=0, name="ByteStorage"):
        super().__init__(size_ckp, n_ckp, dtype, profiler, wd=wd, rd=rd, name=name)
        self.auto_pickle = auto_pickle
        self.compressor, self.decompressor = compression
        self.lengths = {}
        self.metadata = {}
        self._blobs = {}

    @property
    def capacity_bytes(self):
        """Bytes one checkpoint may take compressed."""
        return self.size_ckp * np.dtype(self.dtype).itemsize

    def _key(self, key):
        key = int(key)
        if not 0 <= key < self.n_ckp:
            raise IndexError(f"{self.name}: key {key} outside 0..{self.n_ckp - 1}")
        return key

    def save(self, key, data):
        """Compress each array and keep them as checkpoint ``key``."""
        key = self._key(key)
        objs = [self.compressor(a) for a in data]
        for o in objs:
            if not isinstance(o, CompressedObject):
                raise TypeError(f"{self.name}: the compressor returned {type(o).__name__}, "
                                "not a CompressedObject")
        blobs = [bytes(o.data) for o in objs]
        total = sum(len(b) for b in blobs)
        if total > self.capacity_bytes:
            raise ValueError(f"{self.name}: the compressed checkpoint takes {total} bytes, "
                             f"more than the {self.capacity_bytes} it may")
        self._blobs[key] = blobs
        self.lengths[key] = [len(b) for b in blobs]
        self.metadata[key] = [o.metadata for o in objs]

    def load(self, key, locations):
        """Decompress checkpoint ``key`` into the arrays."""
        key = self._key(key)
        if key not in self._blobs:
            raise KeyError(f"{self.name}: no checkpoint was saved under key {key}")
        blobs, metas = self._blobs[key], self.metadata[key]
        locations = list(locations)
        if len(locations) != len(blobs):
            raise ValueError(f"{self.name}: checkpoint {key} holds {len(blobs)} arrays, "
                             f"{len(locations)} given to load into")
        for blob, meta, loc in zip(blobs, metas, locations):
            loc[:] = self.decompressor(CompressedObject(blob, metadata=meta))

    def _release(self, key):
        for d in (self._blobs, self.lengths, self.metadata):
            d.pop(key, None)

    @property
    def size(self):
        return len(self._blobs) * self.size_ckp
